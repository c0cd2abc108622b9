"""``measurer info IMAGE``: size, pixel type and pixel size of an image file, as JSON."""

from __future__ import annotations

import argparse

from measurer.cli.common import print_json
from measurer.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    parser = subparsers.add_parser(
        "info",
        help="print an image's size, pixel type and pixel size as JSON",
        description="Print what an image file's header says, as JSON: width, height, pages, "
        "dtype, channels, mode, pixel_size {x, y, unit, source, detail} and notes. "
        "No pixel data is read.",
    )
    parser.add_argument(
        "image", metavar="IMAGE", help="image file (TIFF, PNG, JPEG, BMP, GIF, PGM/PPM)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the header facts of ``args.image``."""
    from measurer.io.images import ImageReadError, read_info

    try:
        # No size guard: the header alone is read, so even an image too large to open is described.
        info = read_info(args.image, max_bytes=None)
    except ImageReadError as exc:
        raise CliError(str(exc)) from exc
    print_json(info.to_dict())
    return 0
