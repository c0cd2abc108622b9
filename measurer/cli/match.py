"""``measurer match IMAGE TEMPLATE``: every place where a small image occurs in a larger one.

:func:`measure` gives the rows of one image for ``measurer batch``: one per match, with the
JSON's keys.
"""

from __future__ import annotations

import argparse

from measurer.cli.common import (
    add_output_options,
    load_image,
    parse_floats,
    print_json,
    wants_outputs,
    write_outputs,
)
from measurer.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``match`` subcommand."""
    parser = subparsers.add_parser(
        "match",
        help="find every occurrence of a template image (normalised cross-correlation)",
        description="Find every occurrence of TEMPLATE in IMAGE by normalised cross-correlation, "
        "each once (non-maximum suppression), best first. x, y is the sub-pixel position of the "
        "matched window's top-left pixel (x = column, y = row, pixel centres at integers); "
        "width, height its size. A template alpha channel masks out its transparent pixels.",
    )
    parser.add_argument("image", metavar="IMAGE", help="image to search")
    parser.add_argument("template", metavar="TEMPLATE", help="small image to look for")
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.8,
        metavar="T",
        help="minimum normalised correlation of a match, -1 to 1 (default 0.8)",
    )
    parser.add_argument(
        "--scales", metavar="S1,S2,..", help="template scales to try, e.g. 0.8,0.9,1,1.1,1.25"
    )
    parser.add_argument(
        "--angles",
        metavar="A1,A2,..",
        help="template rotations to try, degrees counter-clockwise, e.g. 0,90,180,270",
    )
    parser.add_argument("--json", action="store_true", help="print the matches as JSON")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _search_options(args: argparse.Namespace) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(scales, angles)`` from ``--scales`` and ``--angles``."""
    scales = (1.0,) if args.scales is None else tuple(parse_floats(args.scales, "--scales"))
    angles = (0.0,) if args.angles is None else tuple(parse_floats(args.angles, "--angles"))
    return scales, angles


def check_options(args: argparse.Namespace) -> None:
    """Refuse option values the parser accepts but the analysis does not (one-line CliError)."""
    _search_options(args)


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """Table rows of one image: one per match of ``args.template``, best first."""
    from measurer.analysis.templates import match_template

    scales, angles = _search_options(args)
    template = load_image(args.template).page(0)
    try:
        result = match_template(
            image_file.page(0), template, threshold=args.threshold, scales=scales, angles=angles
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    return [
        {
            "x": round(m.col, 3),
            "y": round(m.row, 3),
            "width": m.width,
            "height": m.height,
            "score": round(m.score, 4),
            "scale": m.scale,
            "angle": m.angle,
        }
        for m in result.matches
    ]


def run(args: argparse.Namespace) -> int:
    """Match ``args.template`` in ``args.image`` and print the matches."""
    check_options(args)
    image = load_image(args.image)
    rows = measure(image, args)
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        annotations = analysis_annotations("match", image, rows, args)
        write_outputs(args, image, annotations, image.calibration)
    if args.json:
        print_json(rows)
        return 0
    print(f"{len(rows)} match{'es' if len(rows) != 1 else ''} (threshold {args.threshold})")
    if rows:
        print(
            f"{'x':>10} {'y':>10} {'width':>6} {'height':>6} {'score':>7} {'scale':>6} {'angle':>7}"
        )
    for r in rows:
        print(
            f"{r['x']:10.3f} {r['y']:10.3f} {r['width']:6d} {r['height']:6d} "
            f"{r['score']:7.4f} {r['scale']:6.3g} {r['angle']:7.4g}"
        )
    return 0
