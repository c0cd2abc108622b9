"""``measurer colors IMAGE``: count objects per colour class, freely or in a grid of cells.

:func:`measure` gives the rows of one image for ``measurer batch``: one per object (``class``,
``area``, ``centroid_x``, ``centroid_y``, ``bbox_x``, ``bbox_y``, ``bbox_w``, ``bbox_h``), or
with ``--grid`` one per cell (``row``, ``col``, ``class``). The counts per class are the rows
per class, so they are left out.
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
    """Add the ``colors`` subcommand."""
    parser = subparsers.add_parser(
        "colors",
        help="count coloured objects per class, or classify the cells of a grid",
        description="Count objects per colour class: the background is learned from the image "
        "border (or given with --background when stained tissue fills the field), objects are "
        "connected components of at least --min-area pixels. With --grid, "
        "each cell is empty or holds an object of a class, judged against the cell's own border. "
        "x = column, y = row; bbox is [x, y, width, height] of the first pixel and counts.",
    )
    parser.add_argument("image", metavar="IMAGE", help="colour (or grey) image")
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument(
        "--k", type=int, metavar="N", help="find N colour classes automatically (c0, c1, ...)"
    )
    classes.add_argument(
        "--class",
        dest="classes",
        action="append",
        metavar="NAME=R,G,B",
        help="a named class colour in the image's pixel values; repeat for each class",
    )
    parser.add_argument(
        "--background",
        action="append",
        metavar="R,G,B",
        help="a background colour in the image's pixel values, used instead of the image "
        "border (not with --grid); repeat for several",
    )
    parser.add_argument(
        "--min-area",
        type=int,
        default=20,
        metavar="PX",
        help="smallest object in pixels (default 20)",
    )
    parser.add_argument(
        "--grid",
        metavar="X,Y,W,H,ROWS,COLS",
        help="grid whose first cell starts at pixel X,Y (column, row), cells W×H pixels",
    )
    parser.add_argument(
        "--smoothing",
        type=float,
        metavar="PX",
        help="Gaussian smoothing before colours are compared (px; default 1.5 for objects, "
        "1 for grid cells)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace) -> dict:
    """The analysis's keyword options from the command line, checked."""
    if args.k is None and not args.classes:
        raise CliError("give --k N (automatic classes) or --class NAME=R,G,B (one per class)")
    if args.min_area < 1:
        raise CliError(f"--min-area must be at least 1, got {args.min_area}")
    options = {"k": args.k, "classes": _classes(args.classes), "min_area": args.min_area}
    if args.background:
        if args.grid is not None:
            raise CliError("--background is for objects, not --grid (cells have their own)")
        options["background"] = [_background(spec) for spec in args.background]
    if args.smoothing is not None:
        if not 0 <= args.smoothing <= 50:
            raise CliError(f"--smoothing must be from 0 to 50 px, got {args.smoothing:g}")
        options["smoothing"] = args.smoothing
    return options


def check_options(args: argparse.Namespace) -> None:
    """Refuse option values the parser accepts but the analysis does not (one-line CliError)."""
    _options(args)
    if args.grid is not None:
        _grid(args.grid)


def _colors_values(image_file, args: argparse.Namespace) -> dict:
    """The JSON object of one image."""
    from measurer.analysis.colors import classify_grid, find_color_objects

    options = _options(args)
    image = image_file.page(0)
    try:
        if args.grid is None:
            result = find_color_objects(image, **options)
        else:
            result = classify_grid(image, _grid(args.grid), **options)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.grid is None:
        return {
            "objects": [
                {
                    "class": o.label,
                    "area": o.area,
                    "centroid_x": round(o.centroid[1], 3),
                    "centroid_y": round(o.centroid[0], 3),
                    "bbox": [o.bbox[1], o.bbox[0], o.bbox[3], o.bbox[2]],
                }
                for o in result.objects
            ],
            "counts": result.counts,
        }
    return {
        "cells": [{"row": c.row, "col": c.col, "class": c.label} for c in result.cells],
        "counts": result.counts,
    }


def measure(image_file, args: argparse.Namespace) -> list[dict]:
    """Table rows of one image: one per object, or per cell with ``--grid``."""
    return _rows(_colors_values(image_file, args))


def _rows(data: dict) -> list[dict]:
    """The table rows of the JSON object ``data``."""
    if "cells" in data:
        return data["cells"]
    rows = []
    for item in data["objects"]:
        x, y, w, h = item["bbox"]
        rows.append({k: v for k, v in item.items() if k != "bbox"})
        rows[-1].update(bbox_x=x, bbox_y=y, bbox_w=w, bbox_h=h)
    return rows


def run(args: argparse.Namespace) -> int:
    """Classify colours in ``args.image`` and print the objects or cells with counts."""
    check_options(args)
    image = load_image(args.image)
    data = _colors_values(image, args)
    if wants_outputs(args):
        from measurer.cli.overlays import analysis_annotations

        annotations = analysis_annotations("colors", image, _rows(data), args)
        write_outputs(args, image, annotations, image.calibration)
    if args.json:
        print_json(data)
    else:
        _print_text(data)
    return 0


def _classes(specs: list[str] | None) -> dict[str, tuple[float, float, float]] | None:
    """``["red=200,30,30", ...]`` as ``{"red": (200.0, 30.0, 30.0), ...}``."""
    if not specs:
        return None
    classes: dict[str, tuple[float, float, float]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CliError(f"--class takes NAME=R,G,B, got {spec!r}")
        if name in classes:
            raise CliError(f"--class {name!r} is given twice")
        red, green, blue = parse_floats(values, f"--class {name}", count=3)
        classes[name] = (red, green, blue)
    return classes


def _background(spec: str) -> tuple[float, float, float]:
    """``"230,200,210"`` as ``(230.0, 200.0, 210.0)``; a grey image's value is given thrice."""
    red, green, blue = parse_floats(spec, "--background", count=3)
    if min(red, green, blue) < 0:
        raise CliError(f"--background takes non-negative R,G,B values, got {spec!r}")
    return red, green, blue


def _grid(spec: str):
    from measurer.analysis.colors import Grid

    x, y, width, height, rows, cols = parse_floats(spec, "--grid", count=6)
    if rows != int(rows) or cols != int(cols) or rows < 1 or cols < 1:
        raise CliError(f"--grid ROWS and COLS must be positive whole numbers, got {spec!r}")
    if width <= 0 or height <= 0:
        raise CliError(f"--grid cell width and height must be positive, got {spec!r}")
    return Grid((y, x), (height, width), (int(rows), int(cols)))


def _print_text(data: dict) -> None:
    counts = ", ".join(f"{name}: {n}" for name, n in data["counts"].items())
    if "objects" in data:
        print(f"{len(data['objects'])} objects ({counts})")
        if data["objects"]:
            print(f"{'class':>12} {'area':>7} {'x':>9} {'y':>9}  bbox")
        for o in data["objects"]:
            print(
                f"{o['class']:>12} {o['area']:7d} {o['centroid_x']:9.2f} {o['centroid_y']:9.2f}  "
                f"{o['bbox']}"
            )
    else:
        print(f"{len(data['cells'])} cells ({counts})")
        for c in data["cells"]:
            print(f"row {c['row']:3d} col {c['col']:3d}  {c['class'] or '-'}")
