"""``measurer similar QUERY FOLDER``: the images of a folder that look like the query image."""

from __future__ import annotations

import argparse
import os
import sys

from measurer.cli.common import print_json
from measurer.cli.errors import CliError

_METHODS = ("auto", "hash", "hist", "ssim", "orb")  # measurer.io.similarity_search.METHODS
_DEFAULT_MIN = 70.0  # 100 * measurer.analysis.fingerprints.DEFAULT_THRESHOLD


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``similar`` subcommand."""
    parser = subparsers.add_parser(
        "similar",
        help="find the images of a folder that look like a query image",
        description="List the images below FOLDER that are similar to QUERY, best first, with "
        "their similarity in percent (100 = identical; measurer/resources/help/similarity.md). The "
        "folder's index is built or updated first (see `measurer index`); QUERY itself is left "
        "out if it lies in FOLDER.",
    )
    parser.add_argument("query", metavar="QUERY", help="query image file")
    parser.add_argument("folder", metavar="FOLDER", help="folder of images to search")
    parser.add_argument(
        "--min",
        type=float,
        default=_DEFAULT_MIN,
        metavar="PERCENT",
        help=f"smallest similarity listed (default {_DEFAULT_MIN:g})",
    )
    parser.add_argument("--top", type=int, metavar="K", help="list at most K images")
    parser.add_argument(
        "--method",
        choices=_METHODS,
        default="auto",
        help="auto (default): appearance, re-ranked by local features; hash, hist, ssim: one "
        "fingerprint part; orb: local features only",
    )
    parser.add_argument(
        "--json", action="store_true", help='print [{"path", "score"}, ...] as JSON'
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Update the index of ``args.folder`` and print the images similar to ``args.query``."""
    from measurer.cli.index import summary, update_index
    from measurer.io.images import ImageReadError, read_info
    from measurer.io.similarity_search import search

    try:
        read_info(args.query, max_bytes=None)  # before a possibly long indexing
    except ImageReadError as exc:
        raise CliError(str(exc)) from exc
    if args.top is not None and args.top < 1:
        raise CliError(f"--top takes a positive number, got {args.top}")
    if not 0 <= args.min <= 100:
        raise CliError(f"--min takes a percentage (0-100), got {args.min:g}")
    index, update = update_index(args.folder)
    with index:
        if update.added or update.changed:
            print(summary(args.folder, update), file=sys.stderr)
        try:
            results = search(
                index, args.query, method=args.method, top=args.top, min_score=args.min
            )
        except ValueError as exc:  # SimilarityError, ImageReadError
            raise CliError(str(exc)) from exc
        rows = [
            {
                "path": os.path.join(args.folder, *r.path.relative_to(index.root).parts),
                "score": round(r.score, 2),
            }
            for r in results
        ]
    if args.json:
        print_json(rows)
    elif not rows:
        print(f"no image in {args.folder} is at least {args.min:g} % similar")
    else:
        print(f"{'score':>7}  path")
        for row in rows:
            print(f"{row['score']:6.1f}%  {row['path']}")
    return 0
