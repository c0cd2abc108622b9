"""One image of ``measurer batch``: read it, calibrate it as the recipe says, measure it and, if
asked, write it annotated.

:class:`ImageTask` is the ``measure`` that :func:`measurer.io.batch.run_batch` runs on each
image; it is picklable, so worker processes and Dask workers can run it. Annotated PNGs show
the geometry of the rows: blob boxes and centroids, the closest points of each gap, the retina
landmarks, the scale bar, the layer profiles with the layers' ends, match windows, turning
points, and the boxes of colour objects or the grid's classified cells. Lines carry their
length as a label; boxes do not (their area is not what was measured).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
from dataclasses import dataclass

import numpy as np

from measurer.cli.errors import CliError
from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.calibration import Calibration
from measurer.io.recipes import RecipeCalibration


def scalebar_calibration(pixels: np.ndarray, setup: RecipeCalibration) -> Calibration:
    """The calibration an image's scale bar gives: its label, or ``setup.bar_length``.

    Raises
    ------
    ValueError
        No bar found, or its label missing, unreadable or uncertain.
    """
    from measurer.analysis.scalebar import detect_scale_bar
    from measurer.analysis.scalebar_label import OcrUnavailableError, read_scale_label

    bar = detect_scale_bar(pixels).bar
    if bar is None:
        raise ValueError("no scale bar found in the image")
    if setup.bar_length is not None and setup.unit is not None:
        length, unit = setup.bar_length, setup.unit
    else:
        fix = 'give "bar_length" and "unit" in the recipe\'s calibration'
        try:
            label = read_scale_label(pixels, bar.top, bar.bottom, bar.x0, bar.x1)
        except OcrUnavailableError as exc:
            raise ValueError(f"cannot read the scale bar label ({exc}): {fix}") from exc
        if label is None:
            raise ValueError(f"the scale bar label could not be read: {fix}")
        if not label.certain:
            raise ValueError(
                f"the scale bar label {label.text!r} was read as {label.value:g} {label.unit}, "
                f"which is uncertain: {fix}"
            )
        length, unit = label.value, label.unit
    detail = f"scale bar of {bar.length:.2f} px = {length:g} {unit}"
    calibration = Calibration.from_known_distance(bar.length, length, unit, source="scalebar")
    return dataclasses.replace(calibration, detail=detail)


def calibrated(image, setup: RecipeCalibration):
    """The :class:`~measurer.io.images.ImageFile` with the calibration the recipe gives it."""
    if setup.mode == "metadata":
        return image
    if setup.mode == "fixed":
        calibration = setup.fixed()
    else:
        calibration = scalebar_calibration(image.page(0), setup)
    return dataclasses.replace(image, info=dataclasses.replace(image.info, calibration=calibration))


def _box(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    """Rectangle corners on the pixel edges around ``w`` x ``h`` pixels from pixel ``(x, y)``."""
    return [(y - 0.5, x - 0.5), (y + h - 0.5, x + w - 0.5)]


def _shapes(analysis: str, rows: list[dict], args: argparse.Namespace) -> list[tuple]:
    """``(kind, vertices)`` of what to draw for an analysis's rows, ``(row, col)`` vertices."""
    shapes: list[tuple] = []
    points: list[tuple[float, float]] = []
    if analysis in ("blobs", "colors") and not getattr(args, "grid", None):
        for r in rows:
            shapes.append(
                (Kind.RECTANGLE, _box(r["bbox_x"], r["bbox_y"], r["bbox_w"], r["bbox_h"]))
            )
            points.append((r["centroid_y"], r["centroid_x"]))
    elif analysis == "colors":
        x, y, w, h = (float(v) for v in args.grid.split(",")[:4])
        cells = [r for r in rows if r["class"] is not None]
        shapes += [(Kind.RECTANGLE, _box(x + c["col"] * w, y + c["row"] * h, w, h)) for c in cells]
    elif analysis == "gaps":
        for r in rows:
            ends = [(r["closest_a_y"], r["closest_a_x"]), (r["closest_b_y"], r["closest_b_x"])]
            shapes.append((Kind.LINE, ends))
    elif analysis == "retina":
        for r in rows:
            names = [k[:-2] for k in r if k.endswith("_x") and f"{k[:-2]}_y" in r]
            points += [(r[f"{n}_y"], r[f"{n}_x"]) for n in names]
    elif analysis == "scalebar":
        shapes += [
            (Kind.LINE, [(r["y0"], r["x0"]), (r["y1"], r["x1"])]) for r in rows if r["found"]
        ]
    elif analysis == "layers":
        for number in sorted({r["profile"] for r in rows}):
            profile = [r for r in rows if r["profile"] == number]
            p0 = np.array([profile[0]["line_y0"], profile[0]["line_x0"]])
            p1 = np.array([profile[0]["line_y1"], profile[0]["line_x1"]])
            shapes.append((Kind.LINE, [p0, p1]))
            step = (p1 - p0) / max(math.hypot(*(p1 - p0)), 1e-12)
            ends = {r[k] for r in profile for k in ("start", "end") if r.get(k) is not None}
            points += [tuple(p0 + step * position) for position in sorted(ends)]
    elif analysis == "match":
        shapes += [(Kind.RECTANGLE, _box(r["x"], r["y"], r["width"], r["height"])) for r in rows]
    elif analysis == "turns":
        points += [(r["y"], r["x"]) for r in rows]
    if points:
        shapes.append((Kind.POINTS, points))
    return shapes


def write_overlay(path: str, image, analysis: str, rows: list[dict], args) -> None:
    """Write ``image`` (an ImageFile) with the geometry of its rows drawn on it, as PNG."""
    from measurer.io.annotated import write_annotated

    provenance = Provenance(Origin.AUTOMATIC, analysis)
    annotations = [
        Annotation(i, kind, vertices, provenance=provenance)
        for i, (kind, vertices) in enumerate(_shapes(analysis, rows, args), start=1)
    ]
    pixels = image.page(0)
    levels = (0, 1) if pixels.dtype == np.uint8 and pixels.max() <= 1 else None
    labels = all(a.kind in (Kind.LINE, Kind.POINTS) for a in annotations)
    write_annotated(
        path, pixels, annotations, calibration=image.calibration, labels=labels, levels=levels
    )


@dataclass(frozen=True)
class ImageTask:
    """Measure one image as a recipe says: ``task(path, annotated_path=None) -> rows``.

    Attributes
    ----------
    analysis : str
        The subcommand whose ``measure(image_file, args)`` gives the rows.
    args : argparse.Namespace
        Its arguments (see :func:`measurer.cli.recipe.recipe_args`).
    calibration : RecipeCalibration
    """

    analysis: str
    args: argparse.Namespace
    calibration: RecipeCalibration

    def __call__(self, path: str, annotated: str | None = None) -> list[dict]:
        from measurer.cli.common import load_image

        module = importlib.import_module(f"measurer.cli.{self.analysis}")
        try:
            image = calibrated(load_image(path), self.calibration)
            rows = module.measure(image, self.args)
        except CliError as exc:
            raise ValueError(str(exc)) from None
        if annotated is not None:
            write_overlay(annotated, image, self.analysis, rows, self.args)
        return rows
