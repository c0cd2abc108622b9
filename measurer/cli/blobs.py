"""``measurer blobs IMAGE``: one row per blob of a mask (CSV, or JSON with ``--json``).

Also holds the mask options shared with ``measurer gaps`` and ``measurer retina``.
Coordinates: ``x`` = column, ``y`` = row, pixel centres at integers; boxes are first
column/row and counts. :func:`measure` gives the rows of one image for ``measurer batch``: one
per blob, with the CSV's columns.
"""

from __future__ import annotations

import argparse
import csv
import sys

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

#: Columns of the table, in order (extreme points are [x, y] pairs).
KEYS = (
    "label",
    "area",
    "perimeter",
    "centroid_x",
    "centroid_y",
    "bbox_x",
    "bbox_y",
    "bbox_w",
    "bbox_h",
    "leftmost",
    "rightmost",
    "topmost",
    "bottommost",
    "equivalent_diameter",
    "touches_edge",
)
UNIT_KEYS = (
    "area_unit",
    "perimeter_unit",
    "centroid_x_unit",
    "centroid_y_unit",
    "bbox_w_unit",
    "bbox_h_unit",
    "equivalent_diameter_unit",
    "unit",
)
_POINTS = ("leftmost", "rightmost", "topmost", "bottommost")


def add_mask_options(parser: argparse.ArgumentParser, *, roi: bool = True) -> None:
    """``--threshold``, ``--class`` (and ``--roi``): how an image becomes a mask."""
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="T",
        help="foreground = pixels brighter than T (for grey images; default: the image must "
        "be binary, any nonzero pixel is foreground)",
    )
    parser.add_argument(
        "--class",
        dest="mask_class",
        metavar="V",
        help="foreground = pixels equal to V (a label value) or R,G,B (a colour class)",
    )
    if roi:
        parser.add_argument(
            "--roi",
            metavar="X,Y,W,H",
            help="only look inside this rectangle (first column, first row, width, height)",
        )


def add_blob_options(parser: argparse.ArgumentParser) -> None:
    """``--connectivity`` and ``--min-area``."""
    parser.add_argument(
        "--connectivity",
        type=int,
        choices=(4, 8),
        default=8,
        help="8 (default, as ImageJ): pixels touching at a corner belong to one blob",
    )
    parser.add_argument(
        "--min-area", type=int, default=1, metavar="PX", help="drop blobs smaller than PX pixels"
    )


def parse_mask_options(args: argparse.Namespace) -> tuple[list[float] | None, tuple | None]:
    """``--class`` as a value list and ``--roi`` as ``(row, col, rows, cols)``, checked."""
    value = None
    if args.mask_class is not None:
        value = parse_floats(args.mask_class, "--class")
        if len(value) not in (1, 3):
            raise CliError("--class takes one value or R,G,B")
    rect = None
    if getattr(args, "roi", None):
        x, y, w, h = parse_floats(args.roi, "--roi", 4)
        if any(v != int(v) for v in (x, y, w, h)):
            raise CliError(f"--roi takes whole pixels, got {args.roi!r}")
        rect = (int(y), int(x), int(h), int(w))
    return value, rect


def mask_from_image(image, args: argparse.Namespace, name: str | None = None):
    """The boolean mask of an :class:`~measurer.io.images.ImageFile` (``name`` in messages)."""
    from measurer.analysis.masks import MaskError, as_binary, restrict_to_roi

    name = str(image.path) if name is None else name
    value, rect = parse_mask_options(args)
    try:
        mask = as_binary(image.page(0), threshold=args.threshold, value=value)
        if rect is not None:
            mask = restrict_to_roi(mask, rect=rect)
    except MaskError as exc:
        raise CliError(f"{name}: {exc}") from exc
    return mask


def load_mask(path: str, args: argparse.Namespace):
    """Read ``path`` and turn it into a boolean mask; returns ``(mask, image_file)``."""
    image = load_image(path)
    return mask_from_image(image, args, path), image


def _point(row_col) -> list[int]:
    return [int(row_col[1]), int(row_col[0])]


def blob_rows(result, calibration) -> list[dict]:
    """The table rows of a :class:`~measurer.analysis.blobs.BlobsResult`."""
    rows = []
    scaled = None
    if calibration.is_calibrated:
        scaled = result.scaled(calibration.pixel_height, calibration.pixel_width)
    for i in range(len(result)):
        y, x, h, w = (int(v) for v in result.bbox[i])
        row = {
            "label": int(result.labels[i]),
            "area": int(result.area[i]),
            "perimeter": float(result.perimeter[i]),
            "centroid_x": float(result.centroid[i, 1]),
            "centroid_y": float(result.centroid[i, 0]),
            "bbox_x": x,
            "bbox_y": y,
            "bbox_w": w,
            "bbox_h": h,
        }
        row.update({name: _point(getattr(result, name)[i]) for name in _POINTS})
        row["equivalent_diameter"] = float(result.equivalent_diameter[i])
        row["touches_edge"] = bool(result.touches_edge[i])
        if scaled is not None:
            row.update(
                area_unit=float(scaled.area[i]),
                perimeter_unit=float(scaled.perimeter[i]),
                centroid_x_unit=float(scaled.centroid[i, 1]),
                centroid_y_unit=float(scaled.centroid[i, 0]),
                bbox_w_unit=float(scaled.bbox_size[i, 1]),
                bbox_h_unit=float(scaled.bbox_size[i, 0]),
                equivalent_diameter_unit=float(scaled.equivalent_diameter[i]),
                unit=calibration.unit,
            )
        rows.append(row)
    return rows


def write_csv(rows: list[dict], keys: tuple[str, ...], point_keys: tuple[str, ...]) -> None:
    """CSV on stdout; a point ``[x, y]`` under ``name`` becomes columns ``name_x``, ``name_y``."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([c for k in keys for c in ((f"{k}_x", f"{k}_y") if k in point_keys else (k,))])
    for row in rows:
        cells: list = []
        for key in keys:
            value = row.get(key)
            if key in point_keys:
                cells.extend(value if value is not None else ("", ""))
            elif isinstance(value, bool):
                cells.append(str(value).lower())
            else:
                cells.append("" if value is None else value)
        writer.writerow(cells)


def flat_row(row: dict) -> dict:
    """A row with every ``[x, y]`` point split into ``name_x`` and ``name_y`` scalar columns."""
    flat: dict = {}
    for key, value in row.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            flat[f"{key}_x"], flat[f"{key}_y"] = value
        else:
            flat[key] = value
    return flat


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``blobs`` subcommand."""
    parser = subparsers.add_parser(
        "blobs",
        help="measure every blob of a mask: area, perimeter, centroid, box, extreme points",
        description="Connected components of a mask, one row per blob, numbered like ImageJ's "
        "Analyze Particles (raster order of each blob's first pixel). CSV by default; --json "
        "prints a list of objects with keys " + ", ".join(KEYS) + " (extreme points as [x, y], "
        "x = column, y = row, pixel centres at integers), and with a pixel size also "
        + ", ".join(UNIT_KEYS)
        + ". Perimeter: ImageJ's traced perimeter (outer boundary). Ties between extreme "
        "pixels: the middle one.",
    )
    parser.add_argument("image", metavar="IMAGE", help="mask image (binary, label or colour)")
    add_blob_options(parser)
    add_mask_options(parser)
    add_calibration_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of CSV")
    add_output_options(parser)
    parser.set_defaults(func=run)


def check_options(args: argparse.Namespace) -> None:
    """Refuse option values the parser accepts but the analysis does not (one-line CliError)."""
    if args.min_area < 1:
        raise CliError("--min-area must be at least 1")
    parse_mask_options(args)


def _blobs(image, args: argparse.Namespace, name: str | None = None):
    """``(BlobsResult, calibration)`` of one image."""
    from measurer.analysis.blobs import blob_stats

    mask = mask_from_image(image, args, name)
    calibration = calibration_from_args(args, image)
    result = blob_stats(mask, connectivity=args.connectivity, min_area=args.min_area)
    return result, calibration


def _flat_columns(result, calibration) -> dict[str, list]:
    """The columns of :func:`measure`, whole arrays at a time: the values ``blob_rows`` and
    ``flat_row`` give blob by blob (Python ints, floats and bools), in the same order."""
    import numpy as np

    def ints(values) -> list:
        return np.asarray(values).astype(np.int64).tolist()

    def floats(values) -> list:
        return np.asarray(values, dtype=np.float64).tolist()

    columns = {
        "label": ints(result.labels),
        "area": ints(result.area),
        "perimeter": floats(result.perimeter),
        "centroid_x": floats(result.centroid[:, 1]),
        "centroid_y": floats(result.centroid[:, 0]),
        "bbox_x": ints(result.bbox[:, 1]),
        "bbox_y": ints(result.bbox[:, 0]),
        "bbox_w": ints(result.bbox[:, 3]),
        "bbox_h": ints(result.bbox[:, 2]),
    }
    for name in _POINTS:
        points = getattr(result, name)
        columns[f"{name}_x"], columns[f"{name}_y"] = ints(points[:, 1]), ints(points[:, 0])
    columns["equivalent_diameter"] = floats(result.equivalent_diameter)
    columns["touches_edge"] = np.asarray(result.touches_edge, dtype=bool).tolist()
    if calibration.is_calibrated:
        scaled = result.scaled(calibration.pixel_height, calibration.pixel_width)
        columns.update(
            area_unit=floats(scaled.area),
            perimeter_unit=floats(scaled.perimeter),
            centroid_x_unit=floats(scaled.centroid[:, 1]),
            centroid_y_unit=floats(scaled.centroid[:, 0]),
            bbox_w_unit=floats(scaled.bbox_size[:, 1]),
            bbox_h_unit=floats(scaled.bbox_size[:, 0]),
            equivalent_diameter_unit=floats(scaled.equivalent_diameter),
            unit=[calibration.unit] * len(result),
        )
    return columns


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """Table rows of one image: the CSV's columns (extreme points as ``name_x``, ``name_y``)."""
    check_options(args)
    columns = _flat_columns(*_blobs(image_file, args))
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def run(args: argparse.Namespace) -> int:
    """Measure the blobs of ``args.image``."""
    check_options(args)
    image = load_image(args.image)
    result, calibration = _blobs(image, args, args.image)
    rows = blob_rows(result, calibration)
    keys = KEYS + (UNIT_KEYS if calibration.is_calibrated else ())
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        flat = [flat_row(row) for row in rows]
        annotations = analysis_annotations("blobs", image, flat, args)
        write_outputs(args, image, annotations, calibration)
    if args.json:
        print_json(rows)
    else:
        write_csv(rows, keys, _POINTS)
    return 0
