"""``measurer gaps IMAGE``: gaps between the blobs of a mask, every pair or one pair.

Gaps are measured between facing pixel edges: the horizontal margin gap (per row, its minimum
and the row where it occurs) and the shortest Euclidean distance with its closest pair of
points. Labels are those of ``measurer blobs`` with the same options. :func:`measure` gives
the rows of one image for ``measurer batch``: one per pair, with the CSV's columns.
"""

from __future__ import annotations

import argparse
import itertools

from measurer.cli.blobs import (
    add_blob_options,
    add_mask_options,
    flat_row,
    mask_from_image,
    write_csv,
)
from measurer.cli.common import (
    add_calibration_options,
    add_output_options,
    calibration_from_args,
    load_image,
    print_json,
    wants_outputs,
    write_outputs,
)
from measurer.cli.errors import CliError

KEYS = (
    "a",
    "b",
    "horizontal_gap",
    "horizontal_gap_row",
    "min_distance",
    "closest_a",
    "closest_b",
)
UNIT_KEYS = ("horizontal_gap_unit", "min_distance_unit", "closest_a_unit", "closest_b_unit", "unit")
#: Without --pair, refuse masks whose pairs would take long to list.
MAX_BLOBS = 200


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``gaps`` subcommand."""
    parser = subparsers.add_parser(
        "gaps",
        help="gaps between blobs: horizontal margin gap and shortest distance, per pair",
        description="Gaps between every pair of blobs of a mask (or one pair with --pair), "
        "between facing pixel edges, in pixels. CSV by default; --json prints a list of objects "
        "with keys " + ", ".join(KEYS) + ": horizontal_gap is the smallest gap between the "
        "blobs' facing margins over the rows they share (null if they share none) and "
        "horizontal_gap_row the row where it occurs (the middle one if several); min_distance "
        "is the shortest distance between them and closest_a/closest_b its end points as "
        "[x, y] on the pixels' edges. With a pixel size also " + ", ".join(UNIT_KEYS) + " (the "
        "shortest physical distance, whose end points are given in units).",
    )
    parser.add_argument("image", metavar="IMAGE", help="mask image (binary, label or colour)")
    add_blob_options(parser)
    add_mask_options(parser)
    parser.add_argument("--pair", metavar="A,B", help="only the blobs labelled A and B")
    add_calibration_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of CSV")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _pairs(text: str | None, count: int) -> list[tuple[int, int]]:
    if count < 2:
        raise CliError(f"gaps need at least two blobs; this mask has {count}")
    if text is None:
        if count > MAX_BLOBS:
            raise CliError(
                f"{count} blobs make {count * (count - 1) // 2} pairs; choose one with --pair A,B "
                "or drop small blobs with --min-area"
            )
        return list(itertools.combinations(range(1, count + 1), 2))
    try:
        a, b = (int(v) for v in text.split(","))
    except ValueError as exc:
        raise CliError(f"--pair takes two blob labels A,B, got {text!r}") from exc
    for label in (a, b):
        if not 1 <= label <= count:
            raise CliError(f"there is no blob {label}: labels run from 1 to {count}")
    if a == b:
        raise CliError("--pair needs two different blobs")
    return [(a, b)]


def _xy(point) -> list[float]:
    return [float(point[1]), float(point[0])]


def check_options(args: argparse.Namespace) -> None:
    """Refuse option values the parser accepts but the analysis does not (one-line CliError)."""
    from measurer.cli.blobs import check_options as check_mask_options

    check_mask_options(args)
    if args.pair is not None:  # how many labels there are is known per image only
        _pairs(args.pair, 2**31)


def _gap_table(image, args: argparse.Namespace, name: str | None = None):
    """``(rows, calibration)`` of one image, rows as the JSON output has them."""
    from measurer.analysis.blobs import label_blobs
    from measurer.analysis.gaps import (
        closest_pair_between,
        horizontal_gap_between,
        regions_from_labels,
    )

    mask = mask_from_image(image, args, name)
    calibration = calibration_from_args(args, image)
    labels = label_blobs(mask, connectivity=args.connectivity, min_area=args.min_area)
    count = int(labels.max()) if labels.size else 0
    pairs = _pairs(args.pair, count)
    regions = regions_from_labels(labels, count)
    rs, cs = calibration.pixel_height, calibration.pixel_width
    rows = []
    for a, b in pairs:
        gap = horizontal_gap_between(regions[a - 1], regions[b - 1])
        pair = closest_pair_between(regions[a - 1], regions[b - 1])
        row = {
            "a": a,
            "b": b,
            "horizontal_gap": None if gap.row is None else gap.minimum,
            "horizontal_gap_row": gap.row,
            "min_distance": pair.distance,
            "closest_a": _xy(pair.point_a),
            "closest_b": _xy(pair.point_b),
        }
        if calibration.is_calibrated:
            physical = pair
            if not calibration.is_isotropic:
                physical = closest_pair_between(
                    regions[a - 1], regions[b - 1], row_scale=rs, col_scale=cs
                )
            row.update(
                horizontal_gap_unit=None if gap.row is None else gap.minimum * cs,
                min_distance_unit=physical.distance * (cs if physical is pair else 1.0),
                closest_a_unit=[physical.point_a[1] * cs, physical.point_a[0] * rs],
                closest_b_unit=[physical.point_b[1] * cs, physical.point_b[0] * rs],
                unit=calibration.unit,
            )
        rows.append(row)
    return rows, calibration


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """Table rows of one image: the CSV's columns (points as ``name_x``, ``name_y``)."""
    check_options(args)
    rows, _ = _gap_table(image_file, args)
    return [flat_row(row) for row in rows]


def run(args: argparse.Namespace) -> int:
    """Measure the gaps between blobs of ``args.image``."""
    check_options(args)
    image = load_image(args.image)
    rows, calibration = _gap_table(image, args, args.image)
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        annotations = analysis_annotations("gaps", image, [flat_row(r) for r in rows], args)
        write_outputs(args, image, annotations, calibration)
    if args.json:
        print_json(rows)
    else:
        keys = KEYS + (UNIT_KEYS if calibration.is_calibrated else ())
        write_csv(rows, keys, ("closest_a", "closest_b", "closest_a_unit", "closest_b_unit"))
    return 0
