"""Annotated exports: the image at full resolution with its annotations, value labels and a
burned-in scale bar, as PNG, TIFF or SVG (vector overlays). No Qt: the CLI and batch use it, and
so does the GUI.

Overlays look as on the canvas (colours by provenance, point classes, value labels above each
shape; see :mod:`measurer.core.style`). Coordinates are measurer's: a point at ``(r, c)`` is drawn
on pixel ``(r, c)``, lines run from centre to centre, rectangle corners lie on pixel edges, and a
10 µm scale bar at 0.1 µm/px is exactly 100 pixels long.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from measurer.core.annotations import AREA_KINDS, Annotation, Kind, Origin
from measurer.core.calibration import Calibration
from measurer.core.style import (
    COLOURS,
    LABEL_BACKGROUND,
    LABEL_OPACITY,
    LABEL_TEXT,
    POINT_OUTLINE,
    ScaleBar,
    point_colours,
)
from measurer.io.antialias import blend, disc_coverage, draw_text, fill_box, stroke_coverage
from measurer.io.atomic import atomic_write_bytes
from measurer.io.overlay_layout import (
    OverlaySizes,
    display_image,
    scale_bar_layout,
    value_labels,
)
from measurer.io.svg import annotated_svg
from measurer.io.tiff_writer import tiff_bytes

#: File types :func:`write_annotated` writes, by extension.
FORMATS = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".svg": "SVG"}
#: Provenances drawn first to last: detections under hand-made shapes.
_ORIGIN_ORDER = (Origin.AUTOMATIC, Origin.CORRECTED, Origin.MANUAL)


def outline_path(annotation: Annotation) -> np.ndarray:
    """The ``(row, col)`` path a shape's outline follows, closed (first vertex repeated) if closed.

    Rectangles and ellipses run along their bounding box given by two opposite corners; an
    ellipse is sampled densely enough that the polygon stays within 0.01 px of the curve.
    """
    v = annotation.vertices
    if annotation.kind in (Kind.RECTANGLE, Kind.ELLIPSE):
        (r0, c0), (r1, c1) = v
        if annotation.kind is Kind.RECTANGLE:
            return np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0], [r0, c0]])
        centre, radii = (v[0] + v[1]) / 2, np.abs(v[1] - v[0]) / 2
        count = int(np.clip(np.ceil(np.pi * np.sqrt(radii.max() / 0.02)), 16, 4096))
        t = np.linspace(0, 2 * np.pi, count + 1)
        return np.column_stack([centre[0] + radii[0] * np.sin(t), centre[1] + radii[1] * np.cos(t)])
    if annotation.kind in AREA_KINDS:
        return np.vstack([v, v[:1]])
    return v


def render_annotated(
    image: np.ndarray,
    annotations: Iterable[Annotation],
    *,
    calibration: Calibration,
    scale_bar: ScaleBar | None = ScaleBar(),  # noqa: B008 (frozen, so a shared default is safe)
    labels: bool = True,
    levels: tuple[float, float] | str | None = None,
    line_width: float | None = None,
) -> np.ndarray:
    """The image at full resolution with its annotations drawn on it.

    Parameters
    ----------
    image : ndarray of shape (rows, cols) or (rows, cols, 1|3|4)
        Any real dtype; never modified. Colour images keep their colours (alpha is dropped).
    annotations : iterable of Annotation
        Outlines in the colour of their provenance; point sets as discs in their class colours.
    calibration : Calibration
        Unit of the value labels and the scale bar.
    scale_bar : ScaleBar or None
        Drawn only when the image is calibrated (a bar in pixels says nothing); None: no bar.
    labels : bool
        Write each shape's value (length, area or angle) above it, as the canvas does.
    levels : (low, high), "auto" or None
        Display range of greyscale (and non-8-bit colour) images; see
        :func:`measurer.io.overlay_layout.display_image` (None: 8-bit as stored, other dtypes
        between the 0.35th and 99.65th percentiles).
    line_width : float, optional
        Stroke width in image pixels; by default 2 px, more on images whose shorter side is
        above 1250 px (1 px per 500).

    Returns
    -------
    ndarray of shape (rows, cols, 3), uint8
        RGB.

    Raises
    ------
    ValueError
        Unsupported image, bad levels, or a scale bar longer than the image is wide.
    """
    canvas = display_image(image, levels)
    shape = canvas.shape[:2]
    annotations = list(annotations)
    sizes = OverlaySizes.for_shape(shape, line_width)
    bar = scale_bar_layout(scale_bar, calibration, shape)
    for origin in _ORIGIN_ORDER:
        paths = [
            outline_path(a)
            for a in annotations
            if a.kind is not Kind.POINTS and a.provenance.origin is origin
        ]
        blend(canvas, *stroke_coverage(paths, sizes.line_width, shape), COLOURS[origin])
    _draw_points(canvas, [a for a in annotations if a.kind is Kind.POINTS], sizes.point_radius)
    if labels:
        for label in value_labels(annotations, calibration, shape, sizes.font_size):
            fill_box(canvas, label.box, LABEL_BACKGROUND, LABEL_OPACITY)
            draw_text(canvas, label, LABEL_TEXT)
    if bar is not None:
        fill_box(canvas, bar.bar, bar.colour)
        if bar.label is not None:
            draw_text(canvas, bar.label, bar.colour)
    return canvas


def _draw_points(canvas: np.ndarray, point_sets: Sequence[Annotation], radius: float) -> None:
    """Discs in their fill colours, each with a one-pixel black rim."""
    if not point_sets:
        return
    shape = canvas.shape[:2]
    centres = np.vstack([a.vertices for a in point_sets])
    colours = np.array([c for a in point_sets for c in point_colours(a)])
    blend(canvas, *disc_coverage(centres, radius + 1, shape), POINT_OUTLINE)
    for colour in np.unique(colours, axis=0):
        chosen = np.all(colours == colour, axis=1)
        blend(canvas, *disc_coverage(centres[chosen], radius, shape), tuple(colour))


def write_annotated(
    path: str | os.PathLike[str],
    image: np.ndarray,
    annotations: Iterable[Annotation],
    *,
    calibration: Calibration,
    scale_bar: ScaleBar | None = ScaleBar(),  # noqa: B008 (frozen, so a shared default is safe)
    labels: bool = True,
    levels: tuple[float, float] | str | None = None,
    line_width: float | None = None,
) -> Path:
    """Write the annotated image as PNG, TIFF or SVG, chosen by the extension of ``path``.

    PNG and TIFF hold :func:`render_annotated`'s RGB pixels; the TIFF is an ImageJ TIFF whose
    resolution and unit carry the calibration, so Fiji shows the same pixel size. SVG embeds the
    image (levels applied) as a PNG and draws the overlays as vector shapes and text, in image
    pixel units. The file is written atomically: on any failure no new or partial file is left.

    Parameters
    ----------
    path : str or PathLike
        Ends in ``.png``, ``.tif``, ``.tiff`` or ``.svg`` (any case).
    image, annotations, calibration, scale_bar, labels, levels, line_width
        See :func:`render_annotated`.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ValueError
        Unknown extension, or see :func:`render_annotated`.
    OSError
        The file cannot be written.
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"cannot write an annotated image as {path.suffix or 'a file without extension'!r}: "
            f"use {', '.join(FORMATS)}"
        )
    options = {"calibration": calibration, "scale_bar": scale_bar, "labels": labels}
    if kind == "SVG":
        display = display_image(image, levels)
        text = annotated_svg(
            png_bytes(display), display.shape, list(annotations), line_width=line_width, **options
        )
        return atomic_write_bytes(path, text.encode("utf-8"))
    rgb = render_annotated(image, annotations, levels=levels, line_width=line_width, **options)
    data = png_bytes(rgb) if kind == "PNG" else tiff_bytes(rgb[np.newaxis], calibration)
    return atomic_write_bytes(path, data)


def png_bytes(rgb: np.ndarray) -> bytes:
    """A (rows, cols, 3) uint8 RGB image encoded as PNG."""
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise OSError("OpenCV could not encode the PNG")
    return encoded.tobytes()
