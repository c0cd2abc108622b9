"""What each analysis found, as annotations: for ``--rois``, ``--annotated`` and batch images.

One function per analysis turns the rows of its ``measure(image_file, args)`` (see
:mod:`measurer.cli.batch_task`) into :class:`~measurer.core.annotations.Annotation`\\ s in
measurer's coordinates (``(row, col)``, pixel centres at integers); :func:`analysis_annotations`
picks the right one. The same list goes into the ImageJ ROI set and onto the annotated image:

* blobs: each blob's outline traced along pixel edges (``"blob N"``), so Fiji measures the
  area and centroid of the table (a blob with holes: a keyhole polygon that goes round them);
* gaps: the shortest distance of each pair as a line between its closest points;
* regions: A's margins and B's deepest point as points, the depth as a line from that point to
  the margin line, and the shortest gap between A and B as a line between its closest points;
* retina: each landmark as a point named after it;
* scalebar: the bar as a line between its outer edges (its length is ``length_px``);
* layers: each profile as a profile line of the band width, and the layers' ends on it as
  points;
* match: each match window as a rectangle on pixel edges, best first;
* turns: the turning points as one point set;
* colors: each object's box (named after its class) and the centroids as one point set; with
  ``--grid`` the box of every cell that holds an object.

No Qt here: the CLI imports it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.calibration import Calibration


def _shape(kind: Kind, vertices: Sequence, label: str, **extra) -> Annotation:
    """An annotation before it gets its id and provenance in :func:`analysis_annotations`."""
    return Annotation(0, kind, vertices, label=label, **extra)


def analysis_annotations(
    analysis: str, image_file, rows: list[dict], args: argparse.Namespace
) -> list[Annotation]:
    """The annotations of one analysis's rows, ids from 1, automatic provenance.

    Parameters
    ----------
    analysis : str
        The subcommand: blobs, gaps, regions, retina, scalebar, layers, match, turns or colors.
    image_file : ImageFile
        The image measured (blobs traces its outlines from it again).
    rows : list of dict
        What the subcommand's ``measure(image_file, args)`` gives.
    args : argparse.Namespace
        The subcommand's arguments.

    Returns
    -------
    list of Annotation
        Empty when the analysis found nothing with a place on the image.
    """
    shapes = _CONVERTERS[analysis](image_file, rows, args)
    provenance = Provenance(Origin.AUTOMATIC, analysis)
    return [replace(a, id=i, provenance=provenance) for i, a in enumerate(shapes, start=1)]


def write_annotated_image(
    path: str, image_file, annotations: list[Annotation], calibration: Calibration
) -> None:
    """Write the image with its annotations (PNG, TIFF or SVG by the extension of ``path``).

    0/1 masks are shown black and white. Value labels (lengths) are written when every shape is
    a line, profile or point set: the area of a box is not what the analyses report.

    Raises
    ------
    ValueError
        Unknown extension. OSError: the file cannot be written.
    """
    from measurer.io.annotated import write_annotated

    pixels = image_file.page(0)
    levels = (0, 1) if pixels.dtype == np.uint8 and pixels.max() <= 1 else None
    labels = all(a.kind in (Kind.LINE, Kind.PROFILE, Kind.POINTS) for a in annotations)
    write_annotated(
        path, pixels, annotations, calibration=calibration, labels=labels, levels=levels
    )


def _box(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    """Rectangle corners on the pixel edges around ``w`` x ``h`` pixels from pixel ``(x, y)``."""
    return [(y - 0.5, x - 0.5), (y + h - 0.5, x + w - 0.5)]


def blob_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """Each blob's outline along pixel edges, round its holes too (a keyhole polygon), so Fiji
    measures the blob's own area and centroid; labelled as the table labels it."""
    from scipy import ndimage as ndi

    from measurer.analysis.blobs import label_blobs
    from measurer.analysis.outlines import mask_outline_polygon
    from measurer.cli.blobs import mask_from_image

    if not rows:
        return []
    mask = mask_from_image(image_file, args)
    labels = label_blobs(mask, connectivity=args.connectivity, min_area=args.min_area)
    shapes: list[Annotation] = []
    for number, where in enumerate(ndi.find_objects(labels), start=1):
        # The blob's own box keeps tracing linear in the image size, however many blobs.
        outline = mask_outline_polygon(
            labels[where] == number, connectivity=args.connectivity, holes=True
        )
        offset = (where[0].start, where[1].start)
        shapes.append(_shape(Kind.POLYGON, outline + offset, f"blob {number}"))
    return shapes


def gap_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """The shortest distance of each pair, between its closest points."""
    return [
        _shape(
            Kind.LINE,
            [(r["closest_a_y"], r["closest_a_x"]), (r["closest_b_y"], r["closest_b_x"])],
            f"gap {r['a']}-{r['b']}",
        )
        for r in rows
    ]


def region_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """A's margins, B's deepest point, its depth to the margin line and the shortest gap.

    Calibrated rows draw the physical deepest point and closest pair (their ``_unit``
    columns), so the lines are as long as the table says in the image's unit.
    """
    from measurer.analysis.gaps import point_to_line
    from measurer.cli.common import calibration_from_args

    shapes: list[Annotation] = []
    for r in rows:
        scale, suffix = (1.0, 1.0), ""
        if r.get("unit") is not None:
            calibration = calibration_from_args(args, image_file)
            scale, suffix = (calibration.pixel_height, calibration.pixel_width), "_unit"
        left, right = _at(r, "margin_left"), _at(r, "margin_right")
        deepest = _at(r, f"deepest{suffix}", scale)
        foot = point_to_line(deepest, left, right, row_scale=scale[0], col_scale=scale[1]).foot
        gap = [_at(r, f"closest_a{suffix}", scale), _at(r, f"closest_b{suffix}", scale)]
        shapes += [
            _shape(Kind.POINTS, [left], "A margin left"),
            _shape(Kind.POINTS, [right], "A margin right"),
            _shape(Kind.POINTS, [deepest], "B deepest"),
            _shape(Kind.LINE, [deepest, foot], "B depth below A's margin line"),
            _shape(Kind.LINE, gap, "gap A-B"),
        ]
    return shapes


def _at(row: dict, name: str, scale: tuple[float, float] = (1.0, 1.0)) -> tuple[float, float]:
    """Point ``name`` of a row as ``(row, col)`` pixels (``scale``: its unit per pixel)."""
    return (row[f"{name}_y"] / scale[0], row[f"{name}_x"] / scale[1])


def retina_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """Each landmark as a point named after it."""
    shapes: list[Annotation] = []
    for r in rows:
        for name in [k[:-2] for k in r if k.endswith("_x") and f"{k[:-2]}_y" in r]:
            x, y = r[f"{name}_x"], r[f"{name}_y"]
            if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
                shapes.append(_shape(Kind.POINTS, [(y, x)], name))
    return shapes


def scalebar_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """The bar between its outer edges, if found."""
    return [
        _shape(Kind.LINE, [(r["y0"], r["x0"]), (r["y1"], r["x1"])], "scale bar")
        for r in rows
        if r["found"]
    ]


def layer_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """Each profile as a band of ``--width``, then the ends of its layers as points."""
    width = float(getattr(args, "width", 1))
    shapes: list[Annotation] = []
    for number in sorted({r["profile"] for r in rows}):
        profile = [r for r in rows if r["profile"] == number]
        p0 = np.array([profile[0]["line_y0"], profile[0]["line_x0"]])
        p1 = np.array([profile[0]["line_y1"], profile[0]["line_x1"]])
        shapes.append(_shape(Kind.PROFILE, [p0, p1], f"profile {number}", width=width))
        step = (p1 - p0) / max(math.hypot(*(p1 - p0)), 1e-12)
        ends = {r[k] for r in profile for k in ("start", "end") if r.get(k) is not None}
        if ends:
            points = [p0 + step * position for position in sorted(ends)]
            shapes.append(_shape(Kind.POINTS, points, f"profile {number} layer ends"))
    return shapes


def match_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """Each matched window, best first."""
    return [
        _shape(Kind.RECTANGLE, _box(r["x"], r["y"], r["width"], r["height"]), f"match {i}")
        for i, r in enumerate(rows, start=1)
    ]


def turn_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """The turning points as one point set."""
    return [_shape(Kind.POINTS, [(r["y"], r["x"]) for r in rows], "turns")] if rows else []


def color_shapes(image_file, rows: list[dict], args: argparse.Namespace) -> list[Annotation]:
    """Object boxes and centroids, or the boxes of the grid's occupied cells."""
    if getattr(args, "grid", None):
        x, y, w, h = (float(v) for v in args.grid.split(",")[:4])
        return [
            _shape(Kind.RECTANGLE, _box(x + c["col"] * w, y + c["row"] * h, w, h), str(c["class"]))
            for c in rows
            if c["class"] is not None
        ]
    shapes: list[Annotation] = [
        _shape(Kind.RECTANGLE, _box(r["bbox_x"], r["bbox_y"], r["bbox_w"], r["bbox_h"]), r["class"])
        for r in rows
    ]
    if rows:
        shapes.append(
            _shape(Kind.POINTS, [(r["centroid_y"], r["centroid_x"]) for r in rows], "centroids")
        )
    return shapes


_CONVERTERS: dict[str, Callable[..., list[Annotation]]] = {
    "blobs": blob_shapes,
    "gaps": gap_shapes,
    "regions": region_shapes,
    "retina": retina_shapes,
    "scalebar": scalebar_shapes,
    "layers": layer_shapes,
    "match": match_shapes,
    "turns": turn_shapes,
    "colors": color_shapes,
}
