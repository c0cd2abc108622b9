"""``measurer layers IMAGE``: dark and light layers along a profile, counted and measured.

:func:`measure` gives the rows of one image for ``measurer batch``: one per layer of every
profile (``profile`` 0 is the main one, 1... the parallel ones), each with its profile's
columns ``line_x0``, ``line_y0``, ``line_x1``, ``line_y1``, ``dark_count``, ``light_count``,
``period_px``, ``orientation_deg`` and ``unit``, and the layer's ``layer`` (its index),
``kind``, ``start``, ``end``, ``width_px``, ``width``, ``resolved``, ``complete``. A profile
without layers has one row with its own columns only; boundaries are the layers' ends.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from measurer.cli.common import (
    add_calibration_options,
    add_output_options,
    load_image,
    parse_floats,
    print_json,
    wants_outputs,
    write_outputs,
)
from measurer.cli.errors import CliError
from measurer.core.calibration import Calibration

#: Columns of a profile and of a layer in the rows of :func:`measure`.
_PROFILE_KEYS = ("dark_count", "light_count", "period_px", "orientation_deg")
_LAYER_KEYS = ("kind", "start", "end", "width_px", "width", "resolved", "complete")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``layers`` subcommand."""
    parser = subparsers.add_parser(
        "layers",
        help="count dark and light layers along a profile and measure their widths",
        description="Find the boundaries between dark and light layers along a profile "
        "(the mid-level between neighbouring extremes, see measurer/resources/help/layers.md), "
        "their widths, the edge blur and the period. Give the profile as --line, or an ROI "
        "with --auto to place it across the layers automatically. Coordinates are x = column, "
        "y = row, pixel centres at whole numbers; positions are pixels along the profile from "
        "its start. Only layers with both boundaries on the profile are counted.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--line", metavar="X0,Y0,X1,Y1", help="the profile line")
    where.add_argument("--roi", metavar="X,Y,W,H", help="region for --auto (first x, y; size)")
    parser.add_argument(
        "--auto", action="store_true", help="place the profile across the layers of --roi"
    )
    parser.add_argument(
        "--width", type=int, default=5, metavar="W", help="band width averaged (px, default 5)"
    )
    parser.add_argument(
        "--profiles",
        type=int,
        default=1,
        metavar="N",
        help="N parallel profiles: spread along the layers across --roi, or one band width "
        "apart around --line (default 1)",
    )
    parser.add_argument(
        "--smoothing",
        type=float,
        default=1.0,
        metavar="PX",
        help="Gaussian sigma used to find extremes and boundaries (px, default 1)",
    )
    add_calibration_options(parser)
    parser.add_argument(
        "--scalebar", action="store_true", help="calibrate from the image's scale bar and label"
    )
    parser.add_argument("image", metavar="IMAGE", help="image file")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _calibration(args: argparse.Namespace, image, grey: np.ndarray) -> Calibration:
    from measurer.cli.common import calibration_from_args

    if not args.scalebar:
        return calibration_from_args(args, image)
    from measurer.analysis.scalebar import detect_scale_bar
    from measurer.analysis.scalebar_label import OcrUnavailableError, read_scale_label

    bar = detect_scale_bar(grey).bar
    if bar is None:
        raise CliError("no scale bar found in the image: give --pixel-size and --unit")
    try:
        label = read_scale_label(grey, bar.top, bar.bottom, bar.x0, bar.x1)
    except OcrUnavailableError as exc:
        raise CliError(
            f"cannot read the scale bar label ({exc}): give --pixel-size and --unit"
        ) from exc
    if label is None:
        raise CliError("the scale bar label could not be read: give --pixel-size and --unit")
    if not label.certain:
        print(
            f"measurer layers: the scale bar label {label.text!r} was read as "
            f"{label.value:g} {label.unit}: check it",
            file=sys.stderr,
        )
    return Calibration.from_known_distance(bar.length, label.value, label.unit, source="scalebar")


def _where(args: argparse.Namespace) -> tuple[list[float] | None, tuple | None]:
    """``--line`` as ``[x0, y0, x1, y1]`` or ``--roi`` as ``(row, col, rows, cols)``, checked."""
    if args.line is not None:
        if args.auto:
            raise CliError("--auto goes with --roi, not --line")
        return parse_floats(args.line, "--line", 4), None
    if not args.auto:
        raise CliError("--roi needs --auto")
    x, y, w, h = parse_floats(args.roi, "--roi", 4)
    roi = (int(y), int(x), int(h), int(w))
    if (x, y, w, h) != (roi[1], roi[0], roi[3], roi[2]):
        raise CliError(f"--roi takes whole pixels, got {args.roi}")
    return None, roi


def _lines(args: argparse.Namespace, grey: np.ndarray, cal: Calibration):
    """(main line, parallel lines, orientation) as (row, col) pairs."""
    from measurer.analysis.orientation import (
        clip_line,
        layer_orientation,
        parallel_lines,
        profile_lines,
    )

    rows, cols = grey.shape
    spacing = (cal.pixel_height, cal.pixel_width)
    line, roi = _where(args)
    if line is not None:
        x0, y0, x1, y1 = line
        clipped = clip_line((y0, x0), (y1, x1), (0, 0, rows - 1, cols - 1))
        if clipped is None or math.hypot(*(clipped[1] - clipped[0])) < 2:
            raise CliError(f"--line {args.line} does not cross the image ({cols} x {rows})")
        start, end = clipped
        band = [clip_line(s, e, (0, 0, rows - 1, cols - 1)) for s, e in
                parallel_lines(start, end, count=args.profiles, spacing=args.width)]  # fmt: skip
        parallel = [b for b in band if b is not None and math.hypot(*(b[1] - b[0])) >= 2]
        corners = np.concatenate([np.asarray(p) for p in parallel])
        lo = np.clip(np.floor(corners.min(axis=0) - args.width / 2), 0, None).astype(int)
        hi = np.minimum(
            np.ceil(corners.max(axis=0) + args.width / 2).astype(int), (rows - 1, cols - 1)
        )
        orientation = None
        if (hi - lo >= 2).all():
            try:
                roi = (lo[0], lo[1], hi[0] - lo[0] + 1, hi[1] - lo[1] + 1)
                orientation = layer_orientation(grey, roi=roi, spacing=spacing)
            except ValueError:
                orientation = None  # a flat region has no direction
        return (start, end), parallel, orientation
    try:
        orientation = layer_orientation(grey, roi=roi, spacing=spacing)
        main = profile_lines(roi, orientation, count=1)
        parallel = list(profile_lines(roi, orientation, count=args.profiles))
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if main.shape[0] == 0:
        raise CliError("the region is too small for a profile")
    return tuple(main[0]), parallel, orientation


def check_options(args: argparse.Namespace) -> None:
    """Refuse option values the parser accepts but the analysis does not (one-line CliError)."""
    if args.width < 1:
        raise CliError(f"--width must be at least 1, got {args.width}")
    if args.profiles < 1:
        raise CliError(f"--profiles must be at least 1, got {args.profiles}")
    if not 0 <= args.smoothing <= 50:
        raise CliError(f"--smoothing must be from 0 to 50 px, got {args.smoothing:g}")
    if args.scalebar and (args.pixel_size is not None or args.unit is not None):
        raise CliError("--scalebar and --pixel-size/--unit exclude each other")
    _where(args)


def _layers_values(image, args: argparse.Namespace) -> tuple[dict, float, Calibration]:
    """The JSON object of one image, the edge blur of its main profile and the calibration."""
    from measurer.analysis.layers import analyze_line
    from measurer.analysis.profiles import grayscale

    grey = grayscale(image.page(0))
    cal = _calibration(args, image, grey)
    main, parallel, orientation = _lines(args, grey, cal)
    lines = [main, *parallel]
    results = [
        analyze_line(grey, s, e, width=args.width, smoothing=args.smoothing) for s, e in lines
    ]
    angle = orientation.angle_deg if orientation is not None else None
    out = _line_dict(results[0], cal, angle)
    out["profiles"] = [_line_dict(r, cal, angle) for r in results[1:]]
    return out, results[0].profile.blur, cal


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """Table rows of one image: one per layer of every profile (see the module docstring)."""
    check_options(args)
    return _rows(_layers_values(image_file, args)[0])


def _rows(out: dict) -> list[dict]:
    """The table rows of the JSON object ``out``."""
    rows = []
    for number, line in enumerate([out, *out["profiles"]]):
        x0, y0, x1, y1 = line["line"]
        profile = {"profile": number, "line_x0": x0, "line_y0": y0, "line_x1": x1, "line_y1": y1}
        profile.update({key: line[key] for key in _PROFILE_KEYS})
        layers = [
            {"layer": la["index"], **{k: la[k] for k in _LAYER_KEYS}} for la in line["layers"]
        ]
        rows += [{**profile, **layer, "unit": line["unit"]} for layer in layers or [{}]]
    return rows


def run(args: argparse.Namespace) -> int:
    """Measure the layers of ``args.image`` along the profile(s) asked for."""
    check_options(args)
    image = load_image(args.image)
    out, blur, calibration = _layers_values(image, args)
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        annotations = analysis_annotations("layers", image, _rows(out), args)
        write_outputs(args, image, annotations, calibration)
    if args.json:
        print_json(out)
    else:
        _print_text(out, blur, args.image)
    return 0


def _line_dict(line, cal: Calibration, angle: float | None) -> dict:
    """The JSON fields of one profile, x = column and y = row."""
    (r0, c0), (r1, c1) = line.start, line.end
    per_px = math.hypot((r1 - r0) * cal.pixel_height, (c1 - c0) * cal.pixel_width) / math.hypot(
        r1 - r0, c1 - c0
    )
    profile = line.profile
    boundaries = [
        {"position": float(p), "x": float(pt[1]), "y": float(pt[0])}
        for p, pt in zip(profile.boundaries, line.boundary_points, strict=True)
    ]
    layers = []
    for layer in profile.layers:
        item = layer.to_dict()
        layers.append(
            {
                "index": item["index"],
                "kind": item["kind"],
                "start": item["start"],
                "end": item["end"],
                "width_px": item["width_px"],
                "width": item["width_px"] * per_px,
                "resolved": item["resolved"],
                "complete": item["complete"],
            }
        )
    return {
        "line": [c0, r0, c1, r1],
        "boundaries": boundaries,
        "layers": layers,
        "dark_count": profile.dark_count,
        "light_count": profile.light_count,
        "period_px": profile.period,
        "orientation_deg": angle,
        "unit": cal.unit,
    }


def _print_text(out: dict, blur: float, path: str) -> None:
    x0, y0, x1, y1 = out["line"]
    print(f"{path}: profile ({x0:.1f}, {y0:.1f}) -> ({x1:.1f}, {y1:.1f})")
    period = "none" if out["period_px"] is None or not math.isfinite(out["period_px"]) else (
        f"{out['period_px']:.2f} px"
    )  # fmt: skip
    angle = "" if out["orientation_deg"] is None else f", layers at {out['orientation_deg']:.1f}°"
    print(
        f"{out['dark_count']} dark and {out['light_count']} light complete layers; "
        f"period {period}; edge blur sigma {blur:.2f} px{angle}"
    )
    unit = out["unit"]
    print(f"{'#':>3} {'kind':<5} {'start':>8} {'end':>8} {'width px':>9} {'width ' + unit:>12}")
    for layer in out["layers"]:
        flags = ("" if layer["complete"] else " cut by the profile end") + (
            "" if layer["resolved"] else " limited by blur"
        )
        print(
            f"{layer['index']:>3} {layer['kind']:<5} {layer['start']:>8.2f} {layer['end']:>8.2f} "
            f"{layer['width_px']:>9.2f} {layer['width']:>12.4g}{flags}"
        )
    if out["profiles"]:
        print(f"{len(out['profiles'])} parallel profiles (use --json for their layers)")
