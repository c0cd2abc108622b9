"""``measurer regions MASK [MASK_B]``: region B measured against region A, as the Masks panel's
two-region run measures it.

Regions A and B are two classes of one label or colour mask (``--classes A,B``), or two mask
files of the same size (MASK is A, MASK_B is B). The row holds the gaps between A and B as
wholes (those of ``measurer gaps``: horizontal margin gap with its row, shortest distance with
its closest pair) and the depth of B's deepest point below the line through A's margins
(:func:`~measurer.analysis.gaps.deepest_to_margin_line`). Points are ``[x, y]``, x = column,
pixel centres at integers. :func:`measure` gives the row of one image for ``measurer batch``,
points as ``name_x``, ``name_y``; a recipe takes its regions from ``--classes`` or names each
image's second mask with a pattern (``"mask_b": "{dir}/../hole/{name}"``, resolved by
:class:`~measurer.cli.batch_task.ImageTask`), never one file for every image.
"""

from __future__ import annotations

import argparse

from measurer.cli.blobs import (
    add_mask_options,
    flat_row,
    mask_from_image,
    parse_mask_options,
    write_csv,
)
from measurer.cli.common import (
    add_calibration_options,
    add_output_options,
    calibration_from_args,
    load_image,
    parse_floats,
    print_json,
    wants_outputs,
    write_outputs,
)
from measurer.cli.errors import CliError

KEYS = (
    "horizontal_gap",
    "horizontal_gap_row",
    "min_distance",
    "closest_a",
    "closest_b",
    "margin_left",
    "margin_right",
    "deepest",
    "depth",
)
UNIT_KEYS = (
    "horizontal_gap_unit",
    "min_distance_unit",
    "closest_a_unit",
    "closest_b_unit",
    "deepest_unit",
    "depth_unit",
    "unit",
)
_POINTS = (
    "closest_a",
    "closest_b",
    "margin_left",
    "margin_right",
    "deepest",
    "closest_a_unit",
    "closest_b_unit",
    "deepest_unit",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``regions`` subcommand."""
    parser = subparsers.add_parser(
        "regions",
        help="two regions A and B: gaps between them, depth of B below A's margin line",
        description="Region B measured against region A: two classes of MASK (--classes A,B) "
        "or two masks of the same size (MASK = A, MASK_B = B; --threshold and --class read "
        "both files). One row, CSV by default; --json prints one object with keys "
        + ", ".join(KEYS)
        + ". horizontal_gap, horizontal_gap_row, min_distance, closest_a and closest_b are "
        "those of `measurer gaps` between A and B as wholes (between facing pixel edges; "
        "horizontal_gap is null where no row has A and B side by side). margin_left and "
        "margin_right are A's margins: the facing extreme pixels of its two largest blobs "
        "(the left one's rightmost and the right one's leftmost), or the leftmost and "
        "rightmost pixels of A in one blob; deepest is the pixel of B's largest blob farthest "
        "below the line through them, and depth its signed perpendicular distance to that "
        "line, positive below it (towards larger rows). Points are [x, y], x = column, "
        "pixel centres at integers. With a pixel size also "
        + ", ".join(UNIT_KEYS)
        + " (rows and columns scaled before any distance: the shortest physical distance "
        "and the physically deepest point, with their points in units).",
    )
    parser.add_argument("image", metavar="MASK", help="mask image (binary, grey, label or colour)")
    parser.add_argument(
        "mask_b",
        nargs="?",
        metavar="MASK_B",
        help="region B as a second mask of the same size (then MASK is region A)",
    )
    parser.add_argument(
        "--classes",
        metavar="A,B",
        help="regions A and B are two classes of MASK: label values A,B, or two colours "
        "R,G,B,R,G,B",
    )
    parser.add_argument(
        "--connectivity",
        type=int,
        choices=(4, 8),
        default=8,
        help="8 (default, as ImageJ): pixels touching at a corner belong to one blob (A's "
        "blobs give its margins, B's largest blob its deepest point)",
    )
    add_mask_options(parser)
    add_calibration_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of CSV")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _class_text(value: list[float]) -> str:
    return ",".join(f"{v:g}" for v in value)


def parse_classes(text: str) -> tuple[list[float], list[float]]:
    """``--classes`` as the class values of regions A and B (one value or R,G,B each)."""
    values = parse_floats(text, "--classes")
    if len(values) not in (2, 6):
        raise CliError(
            f"--classes takes two label values A,B or two colours R,G,B,R,G,B, got {text!r}"
        )
    half = len(values) // 2
    a, b = values[:half], values[half:]
    if a == b:
        raise CliError(f"--classes names class {_class_text(a)} twice: A and B must differ")
    return a, b


def _check(args: argparse.Namespace) -> None:
    """Exactly one way to give region B, and options that fit it (one-line CliError)."""
    if args.classes is None and args.mask_b is None:
        raise CliError("give region B: MASK_B (a second mask) or --classes A,B (classes of MASK)")
    if args.classes is not None and args.mask_b is not None:
        raise CliError("give region B either as MASK_B or as --classes A,B, not both")
    if args.classes is not None:
        for option, value in (("--class", args.mask_class), ("--threshold", args.threshold)):
            if value is not None:
                raise CliError(f"{option} reads MASK and MASK_B; with --classes A,B leave it out")
        parse_classes(args.classes)
    parse_mask_options(args)


def check_options(args: argparse.Namespace) -> None:
    """The options of a recipe: regions from ``--classes`` or a MASK_B pattern (one-line
    CliError otherwise)."""
    from measurer.io.recipes import is_mask_pattern

    if args.mask_b is not None and not is_mask_pattern(args.mask_b):
        raise CliError(
            "a recipe cannot name MASK_B as one file, the same for every image: name each "
            "image's second mask with {dir}, {stem}, {name} or {ext} (e.g. "
            "'{dir}/../hole/{name}' or '{dir}/{stem}_hole.png'), or give the regions as two "
            "classes of each mask with --classes A,B"
        )
    _check(args)


def _class_regions(image, args: argparse.Namespace, name: str) -> list:
    """Masks of classes A and B of ``image``, in ``--roi``."""
    from measurer.analysis.masks import MaskError, as_binary, mask_classes, restrict_to_roi

    pixels = image.page(0)
    _, rect = parse_mask_options(args)
    masks = []
    for region, value in zip("AB", parse_classes(args.classes), strict=True):
        try:
            mask = as_binary(pixels, value=value)
        except MaskError as exc:
            raise CliError(f"{name}: class {region}: {exc}") from exc
        if not mask.any():
            present = mask_classes(pixels)
            shown = "; ".join(
                _class_text(list(c) if isinstance(c, tuple) else [c]) for c in present[:8]
            )
            raise CliError(
                f"{name}: class {_class_text(value)} (region {region}) is not in the image "
                f"(its classes: {shown or 'none'}{'; ...' if len(present) > 8 else ''})"
            )
        masks.append(mask if rect is None else restrict_to_roi(mask, rect=rect))
    return masks


def _regions(image, args: argparse.Namespace, name: str | None = None) -> list:
    """Boolean masks of regions A and B, checked: same size, neither empty."""
    name = str(image.path) if name is None else name
    if args.mask_b is None:
        masks = _class_regions(image, args, name)
        where = [f"class {_class_text(v)}" for v in parse_classes(args.classes)]
    else:
        second = load_image(args.mask_b)
        (h, w), (hb, wb) = image.page(0).shape[:2], second.page(0).shape[:2]
        if (h, w) != (hb, wb):
            raise CliError(
                f"{args.mask_b} is {wb} × {hb} px but {name} is {w} × {h} px: the two masks "
                "must be the same size"
            )
        masks = [mask_from_image(image, args, name), mask_from_image(second, args, args.mask_b)]
        where = [name, args.mask_b]
    for region, mask, source in zip("AB", masks, where, strict=True):
        if not mask.any():
            inside = " inside --roi" if args.roi else ""
            raise CliError(f"region {region} ({source}) has no pixel{inside}: nothing to measure")
    return masks


def _xy(point) -> list:
    return [point[1], point[0]]


def _row(mask_a, mask_b, args: argparse.Namespace, calibration) -> dict:
    """The JSON object: gaps between A and B and B's depth below A's margin line."""
    from measurer.analysis.gaps import closest_pair, deepest_to_margin_line, horizontal_gap
    from measurer.analysis.masks import MaskError

    def compare(scale: tuple[float, float]):
        try:
            return deepest_to_margin_line(
                mask_a, mask_b, connectivity=args.connectivity, row_scale=scale[0],
                col_scale=scale[1],
            )  # fmt: skip
        except MaskError as exc:
            raise CliError(str(exc)) from exc
        except ValueError as exc:  # the margins are one pixel: no line through them
            raise CliError(f"region A's two margins are the same pixel, so no line: {exc}") from exc

    gap = horizontal_gap(mask_a, mask_b)
    pair = closest_pair(mask_a, mask_b)
    depth = compare((1.0, 1.0))
    row = {
        "horizontal_gap": None if gap.row is None else gap.minimum,
        "horizontal_gap_row": gap.row,
        "min_distance": pair.distance,
        "closest_a": _xy(pair.point_a),
        "closest_b": _xy(pair.point_b),
        "margin_left": _xy(depth.margin_left),
        "margin_right": _xy(depth.margin_right),
        "deepest": _xy(depth.deepest),
        "depth": depth.to_line.distance,
    }
    if calibration.is_calibrated:
        rs, cs = calibration.pixel_height, calibration.pixel_width
        physical = closest_pair(mask_a, mask_b, row_scale=rs, col_scale=cs)
        deep = compare((rs, cs))
        row.update(
            horizontal_gap_unit=None if gap.row is None else gap.minimum * cs,
            min_distance_unit=physical.distance,
            closest_a_unit=[physical.point_a[1] * cs, physical.point_a[0] * rs],
            closest_b_unit=[physical.point_b[1] * cs, physical.point_b[0] * rs],
            deepest_unit=[deep.deepest[1] * cs, deep.deepest[0] * rs],
            depth_unit=deep.to_line.distance,
            unit=calibration.unit,
        )
    return row


def _measure(image, args: argparse.Namespace, name: str | None = None):
    """``(row, calibration)`` of one image, the row as the JSON output has it."""
    mask_a, mask_b = _regions(image, args, name)
    calibration = calibration_from_args(args, image)
    return _row(mask_a, mask_b, args, calibration), calibration


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """The row of one image (points as ``name_x``, ``name_y``): regions from ``--classes``,
    or the image as A and ``args.mask_b`` (a batch resolves a recipe's pattern first) as B."""
    _check(args)
    row, _ = _measure(image_file, args)
    return [flat_row(row)]


def run(args: argparse.Namespace) -> int:
    """Measure region B against region A of ``args.image`` (and ``args.mask_b``)."""
    _check(args)
    image = load_image(args.image)
    row, calibration = _measure(image, args, args.image)
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        annotations = analysis_annotations("regions", image, [flat_row(row)], args)
        write_outputs(args, image, annotations, calibration)
    if args.json:
        print_json(row)
    else:
        write_csv([row], KEYS + (UNIT_KEYS if calibration.is_calibrated else ()), _POINTS)
    return 0
