"""``measurer index FOLDER``: build or update the similar-image index of a folder."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``index`` subcommand."""
    parser = subparsers.add_parser(
        "index",
        help="build or update the similar-image index of a folder",
        description="Fingerprint every image below FOLDER (recursively) for `measurer similar`. "
        "Only new and changed files are read; unreadable files are listed and skipped. The "
        "index lives in the user's cache directory ($MEASURER_CACHE_DIR overrides it).",
    )
    parser.add_argument("folder", metavar="FOLDER", help="folder of images")
    parser.set_defaults(func=run)


class ProgressBar:
    """``progress(done, total, path)`` callback drawing a bar, count and rate on a terminal.

    Draws nothing when ``stream`` is not a terminal (a log file or a pipe).
    """

    def __init__(self, stream: TextIO, label: str = "indexing") -> None:
        self.stream, self.label = stream, label
        self.active = stream.isatty()
        self.start = self.shown = time.perf_counter()
        self.drawn = False

    def __call__(self, done: int, total: int, path: str) -> None:
        now = time.perf_counter()
        if not self.active or (now - self.shown < 0.1 and done < total):
            return
        self.shown, self.drawn = now, True
        rate = done / max(now - self.start, 1e-9)
        filled = round(30 * done / max(total, 1))
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {rate:.1f} images/s ")
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line, if one was drawn."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def update_index(folder: str):
    """Open the index of ``folder`` and bring it up to date, with a progress bar on stderr.

    Returns
    -------
    (SimilarityIndex, IndexUpdate)
    """
    from measurer.cli.errors import CliError
    from measurer.io.similarity_index import SimilarityError, SimilarityIndex

    try:
        index = SimilarityIndex(folder)
    except SimilarityError as exc:
        raise CliError(str(exc)) from exc
    bar = ProgressBar(sys.stderr)
    try:
        update = index.update(progress=bar)
    except BaseException:
        bar.finish()
        index.close()
        raise
    bar.finish()
    return index, update


def summary(folder: str, update) -> str:
    """One line: images, what changed, unreadable files, time and rate."""
    read = update.added + update.changed
    return (
        f"{folder}: {update.images} images ({update.added} new, {update.changed} changed, "
        f"{update.removed} removed, {len(update.errors)} unreadable) in {update.seconds:.1f} s, "
        f"{read / max(update.seconds, 1e-9):.1f} images/s read"
    )


def run(args: argparse.Namespace) -> int:
    """Index ``args.folder``; print the summary and the unreadable files on stdout."""
    index, update = update_index(args.folder)
    index.close()
    print(summary(args.folder, update))
    for path, reason in update.errors:
        print(f"  unreadable: {path}: {reason}")
    return 0
