"""``measurer scalebar IMAGE``: find the scale bar, read its label, give the pixel size.

:func:`measure` gives the row of one image for ``measurer batch``: the JSON's keys (the notes
printed on stderr are left out).
"""

from __future__ import annotations

import argparse
import sys

from measurer.cli.common import (
    add_output_options,
    load_image,
    print_json,
    wants_outputs,
    write_outputs,
)
from measurer.cli.errors import CliError
from measurer.core.calibration import Calibration, normalize_unit


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``scalebar`` subcommand."""
    parser = subparsers.add_parser(
        "scalebar",
        help="find the scale bar of an image and the pixel size it gives",
        description="Find a solid horizontal scale bar (dark or light, boxed or not, with or "
        "without end ticks), measure it between its outer edges and, when Tesseract OCR is "
        "installed, read its label. x0/x1 are the bar's outer edges in pixel-centre "
        "coordinates (x = column, y = row), so length_px = x1 - x0. The pixel size is the "
        "bar's length (from --length/--unit, else the label) over length_px. When the file's "
        "metadata has a pixel size that differs by more than 2 %%, a warning says so.",
    )
    parser.add_argument("image", metavar="IMAGE", help="image file")
    parser.add_argument("--length", type=float, metavar="L", help="the bar's physical length")
    parser.add_argument("--unit", metavar="U", help="unit of --length: nm, um, mm, cm or m")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _known_length(args: argparse.Namespace) -> tuple[float, str] | None:
    if args.length is None and args.unit is None:
        return None
    if args.length is None or args.unit is None:
        raise CliError("--length and --unit go together")
    if not args.length > 0:
        raise CliError(f"--length must be positive, got {args.length:g}")
    try:
        unit = normalize_unit(args.unit)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if unit == "px":
        raise CliError("--unit must be a physical unit (nm, um, mm, cm, m)")
    return args.length, unit


def check_options(args: argparse.Namespace) -> None:
    """Refuse option values the parser accepts but the analysis does not (one-line CliError)."""
    _known_length(args)


def _scalebar_values(image, args: argparse.Namespace) -> tuple[dict, list[str]]:
    """The JSON object of one image and the notes for the user."""
    from measurer.analysis.scalebar import detect_scale_bar
    from measurer.analysis.scalebar_label import (
        OcrUnavailableError,
        compare_pixel_size,
        read_scale_label,
    )

    known = _known_length(args)
    result = detect_scale_bar(image.page(0))
    out = dict.fromkeys(
        ("x0", "y0", "x1", "y1", "length_px", "confidence", "label", "length", "unit", "pixel_size")
    )
    out = {"found": result.found, **out}
    notes: list[str] = []
    bar = result.bar
    if bar is not None:
        out.update(
            x0=bar.x0,
            y0=bar.row,
            x1=bar.x1,
            y1=bar.row,
            length_px=bar.length,
            confidence=bar.confidence,
        )
        try:
            label = read_scale_label(image.page(0), bar.top, bar.bottom, bar.x0, bar.x1)
        except OcrUnavailableError as exc:
            label = None
            notes.append(f"label not read: {exc}")
        if label is not None:
            out["label"] = label.text
            if not label.certain and known is None:
                notes.append(
                    f"the label {label.text!r} was read as {label.value:g} {label.unit}: "
                    "check it, or give --length and --unit"
                )
        length = known or ((label.value, label.unit) if label is not None else None)
        if length is not None:
            out.update(length=length[0], unit=length[1], pixel_size=length[0] / bar.length)
            metadata = image.calibration
            if metadata.is_calibrated:
                check = compare_pixel_size(
                    metadata.pixel_width, metadata.unit, bar.length, length[0], length[1]
                )
                if not check.agree:
                    notes.append(check.message())
    return out, notes


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """The table row of one image."""
    out, _ = _scalebar_values(image_file, args)
    return [out]


def run(args: argparse.Namespace) -> int:
    """Detect the bar in ``args.image`` and print what it says."""
    check_options(args)
    image = load_image(args.image)
    out, notes = _scalebar_values(image, args)
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        annotations = analysis_annotations("scalebar", image, [out], args)
        write_outputs(args, image, annotations, _bar_calibration(out, image.calibration))
    if args.json:
        print_json(out)
    else:
        _print_text(out, args.image)
    for note in notes:
        print(f"measurer scalebar: {note}", file=sys.stderr)
    return 0


def _bar_calibration(out: dict, metadata: Calibration) -> Calibration:
    """The calibration the bar gives when its length is known, else the file's."""
    if out["pixel_size"] is None:
        return metadata
    return Calibration.from_known_distance(
        out["length_px"], out["length"], out["unit"], source="scalebar"
    )


def _print_text(out: dict, path: str) -> None:
    if not out["found"]:
        print(f"{path}: no scale bar found")
        return
    print(
        f"{path}: scale bar from x = {out['x0']:.2f} to {out['x1']:.2f} at y = {out['y0']:.1f}: "
        f"{out['length_px']:.2f} px (confidence {out['confidence']:.2f})"
    )
    if out["label"] is not None:
        print(f"label: {out['label']!r}")
    if out["pixel_size"] is not None:
        print(
            f"{out['length']:g} {out['unit']} = {out['length_px']:.2f} px: "
            f"pixel size {out['pixel_size']:.6g} {out['unit']}/px"
        )
    else:
        print("length unknown: give --length and --unit for the pixel size")
