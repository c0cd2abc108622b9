"""``measurer retina MASK [MASK_B]``: macular hole or foveal pit measurements of a B-scan mask.

The definitions are in :mod:`measurer.analysis.retina` and ``measurer/resources/help/retina.md``.
:func:`measure` gives the row of one image for ``measurer batch``: the JSON's keys, with each
landmark as columns ``name_x``, ``name_y`` and ``unit`` last. In a recipe, MASK_B may be a
pattern naming each image's second mask (``"mask_b": "{dir}/../hole/{name}"``, resolved by
:class:`~measurer.cli.batch_task.ImageTask`); a name without placeholders is one file merged
into every image, as on the command line.
"""

from __future__ import annotations

import argparse
import math

from measurer.cli.blobs import add_mask_options, load_mask, mask_from_image, parse_mask_options
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

#: Keys of the JSON object, in order ("landmarks" and "unit" come last).
KEYS = (
    "kind",
    "mld",
    "base_diameter",
    "height",
    "height_left",
    "height_right",
    "mhi",
    "thi",
    "hff",
    "dhi",
    "size_class",
    "pit_depth",
    "pit_diameter",
    "mld_euclidean",
    "arm_left",
    "arm_right",
    "max_slope_deg",
    "central_thickness",
    "tilt_deg",
)
_LENGTHS = {
    "mld",
    "base_diameter",
    "height",
    "height_left",
    "height_right",
    "pit_depth",
    "pit_diameter",
    "mld_euclidean",
    "arm_left",
    "arm_right",
    "central_thickness",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``retina`` subcommand."""
    parser = subparsers.add_parser(
        "retina",
        help="macular hole or foveal pit measurements of a retina mask (OCT B-scan)",
        description="Measure a full-thickness macular hole (the retina mask is in two parts) or "
        "a foveal pit (one part) in physical units, in a frame aligned to the base of the "
        "retina. With MASK_B, the retina is the union of both masks (e.g. two classes saved "
        "separately). --json prints an object with keys " + ", ".join(KEYS) + ", landmarks "
        "{name: [x, y]} (pixels, x = column) and unit; values that do not apply are null. "
        "Lengths are in the unit of the pixel size (given, or read from MASK), else in pixels.",
    )
    parser.add_argument("mask", metavar="MASK", help="retina mask (binary, label or colour)")
    parser.add_argument("mask_b", metavar="MASK_B", nargs="?", help="second mask, merged in")
    parser.add_argument(
        "--kind",
        choices=("auto", "hole", "pit"),
        default="auto",
        help="auto (default): a hole when the retina is in two parts, a pit when in one",
    )
    parser.add_argument(
        "--min-area",
        type=int,
        metavar="PX",
        help="ignore parts smaller than PX pixels (default: 1%% of the retina)",
    )
    add_mask_options(parser, roi=False)
    add_calibration_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _format(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def check_options(args: argparse.Namespace) -> None:
    """Refuse option values the parser accepts but the analysis does not (one-line CliError)."""
    if args.min_area is not None and args.min_area < 1:
        raise CliError("--min-area must be at least 1")
    parse_mask_options(args)


def _retina_values(image, args: argparse.Namespace, name: str | None = None) -> dict:
    """The JSON object of one mask image (merged with ``args.mask_b``)."""
    from measurer.analysis.masks import MaskError
    from measurer.analysis.retina import measure_retina
    from measurer.core.calibration import convert_length

    name = str(image.path) if name is None else name
    mask = mask_from_image(image, args, name)
    if args.mask_b is not None:
        second, _ = load_mask(args.mask_b, args)
        if second.shape != mask.shape:
            raise CliError(
                f"{args.mask_b!r} is {second.shape[1]} x {second.shape[0]} px but "
                f"{name!r} is {mask.shape[1]} x {mask.shape[0]} px"
            )
        mask = mask | second
    calibration = calibration_from_args(args, image)
    microns = convert_length(1.0, calibration.unit, "µm") if calibration.is_calibrated else None
    try:
        result = measure_retina(
            mask,
            kind=args.kind,
            pixel_width=calibration.pixel_width,
            pixel_height=calibration.pixel_height,
            microns_per_unit=microns,
            min_area=args.min_area,
        )
    except MaskError as exc:
        raise CliError(f"{name}: {exc}") from exc
    values = result.to_dict()
    out = {key: values[key] for key in KEYS}
    out["landmarks"] = {k: [v[1], v[0]] for k, v in values["landmarks"].items()}
    out["unit"] = calibration.unit
    return out


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """The table row of one image (NaN for values that do not apply)."""
    check_options(args)
    return [_row(_retina_values(image_file, args))]


def _row(out: dict) -> dict:
    """The table row of the JSON object ``out``."""
    row = {key: out[key] for key in KEYS}
    for name, (x, y) in out["landmarks"].items():
        row[f"{name}_x"], row[f"{name}_y"] = x, y
    row["unit"] = out["unit"]
    return row


def run(args: argparse.Namespace) -> int:
    """Measure the retina mask ``args.mask`` (merged with ``args.mask_b``)."""
    check_options(args)
    image = load_image(args.mask)
    out = _retina_values(image, args, args.mask)
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        annotations = analysis_annotations("retina", image, [_row(out)], args)
        write_outputs(args, image, annotations, calibration_from_args(args, image))
    if args.json:
        print_json(out)
        return 0
    for key in KEYS:
        unit = out["unit"] if key in _LENGTHS else ("°" if key.endswith("_deg") else "")
        print(f"{key:<18} {_format(out[key])} {unit}".rstrip())
    for name, (x, y) in out["landmarks"].items():
        print(f"{name:<18} x={x:.2f} y={y:.2f} px")
    return 0
