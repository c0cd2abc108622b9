"""``measurer turns IMAGE``: trace the bright curve of a kymograph and list its turning points.

:func:`measure` gives the rows of one image for ``measurer batch``: one per turn, with the keys
of the JSON's ``turns`` (the trace is left out).
"""

from __future__ import annotations

import argparse

from measurer.cli.common import (
    add_output_options,
    load_image,
    print_json,
    wants_outputs,
    write_outputs,
)
from measurer.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``turns`` subcommand."""
    parser = subparsers.add_parser(
        "turns",
        help="trace a kymograph's curve and find where it reverses",
        description="Trace the bright curve of a kymograph (background removed by medians over "
        "time and per frame; weighted centroid per frame; smoothed) and report its turning "
        "points: extrema whose excursion on both sides is at least --min-prominence pixels. "
        "Points are x = column, y = row, pixel centres at integers.",
    )
    parser.add_argument("image", metavar="IMAGE", help="kymograph image")
    parser.add_argument(
        "--axis",
        choices=("x", "y"),
        default="x",
        help="axis along which time runs: x = one column per frame (default), y = one row",
    )
    parser.add_argument(
        "--min-prominence",
        type=float,
        default=5.0,
        metavar="P",
        help="smallest excursion (pixels) on both sides of a turn (default 5)",
    )
    parser.add_argument("--json", action="store_true", help="print the trace and turns as JSON")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _trace(image_file, args: argparse.Namespace):
    """``(result, turns)``: the analysis result and the JSON's turns."""
    from measurer.analysis.kymograph import find_turns

    try:
        result = find_turns(image_file.page(0), axis=args.axis, min_prominence=args.min_prominence)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    turns = [
        {
            "x": round(t.col, 3),
            "y": round(t.row, 3),
            "frame": t.frame,
            "direction_before": t.direction_before,
            "direction_after": t.direction_after,
        }
        for t in result.turns
    ]
    return result, turns


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """Table rows of one image: one per turning point."""
    return _trace(image_file, args)[1]


def run(args: argparse.Namespace) -> int:
    """Trace ``args.image`` and print its turning points."""
    image = load_image(args.image)
    result, turns = _trace(image, args)
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        annotations = analysis_annotations("turns", image, turns, args)
        write_outputs(args, image, annotations, image.calibration)
    if args.json:
        trace = [[round(col, 3), round(row, 3)] for row, col in result.trace.tolist()]
        print_json({"trace": trace, "turns": turns})
        return 0
    if not result.frames.size:
        print("no curve found")
        return 0
    print(
        f"curve traced over frames {result.frames[0]}-{result.frames[-1]}; "
        f"{len(turns)} turn{'s' if len(turns) != 1 else ''}"
    )
    if turns:
        print(f"{'frame':>6} {'x':>9} {'y':>9}  before -> after")
    for t in turns:
        print(
            f"{t['frame']:6d} {t['x']:9.3f} {t['y']:9.3f}  "
            f"{t['direction_before']} -> {t['direction_after']}"
        )
    return 0
