"""Rendering the image with its overlays at full resolution (File → Export → PNG)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from measurer.gui.canvas.coords import image_rect
from measurer.gui.canvas.view import CanvasWidget

#: Refuse exports larger than this many pixels (a 20000×20000 RGBA image is 1.6 GB).
MAX_EXPORT_PIXELS = 16384 * 16384


def display_rgba(canvas: CanvasWidget) -> np.ndarray:
    """The full-resolution image as shown (levels and LUT applied): (rows, cols, 4) uint8, BGRA."""
    data = canvas.display.data
    item = canvas.display.item
    if data is None:
        raise ValueError("there is no image to export")
    levels = item.levels
    lut = item.lut if data.ndim == 2 else None
    argb, _ = pg.functions.makeARGB(np.asarray(data), lut=lut, levels=levels)
    # makeARGB gives BGRA byte order (Qt's ARGB32 on little-endian machines).
    return argb


def render_full_resolution(canvas: CanvasWidget, path: str) -> QtGui.QImage:
    """Draw the image at one output pixel per image pixel, then the visible overlays on top.

    Parameters
    ----------
    canvas : CanvasWidget
    path : str
        PNG file to write (written by Qt, then moved into place atomically).
    """
    data = canvas.display.data
    if data is None:
        raise ValueError("there is no image to export")
    rows, cols = data.shape[:2]
    if rows * cols > MAX_EXPORT_PIXELS:
        raise ValueError(f"the image ({cols}×{rows}) is too large to export with overlays")
    bgra = np.ascontiguousarray(display_rgba(canvas))
    image = QtGui.QImage(bgra.data, cols, rows, cols * 4, QtGui.QImage.Format.Format_ARGB32).copy()
    painter = QtGui.QPainter(image)
    try:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        if canvas.overlay_group.isVisible():
            _render_overlays(canvas, painter, cols, rows)
    finally:
        painter.end()
    from measurer.io.atomic import atomic_write_bytes

    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("Qt could not encode the PNG")
    atomic_write_bytes(path, bytes(buffer.data()))
    return image


def _render_overlays(canvas: CanvasWidget, painter: QtGui.QPainter, cols: int, rows: int) -> None:
    """Render only the overlay items, mapping the image rectangle onto the output."""
    viewbox = canvas.viewbox
    # The image is already painted at full resolution; editing handles don't belong in a figure.
    handles = [
        i for i in _descendants(canvas.overlay_group) if isinstance(i, pg.graphicsItems.ROI.Handle)
    ]
    hidden = [i for i in (canvas.display.item, canvas.display._detail, *handles) if i.isVisible()]
    for item in hidden:
        item.hide()
    background = canvas.backgroundBrush()
    canvas.setBackground(None)
    view_range = viewbox.viewRange()
    target = QtCore.QRectF(*image_rect((rows, cols)))
    try:
        # The view box clips its children: show the whole image while rendering.
        viewbox.setRange(target, padding=0)
        viewbox.updateMatrix()
        source = viewbox.mapViewToScene(target).boundingRect()
        canvas.scene().render(painter, QtCore.QRectF(0, 0, cols, rows), source)
    finally:
        for item in hidden:
            item.show()
        canvas.setBackgroundBrush(background)
        viewbox.setRange(xRange=view_range[0], yRange=view_range[1], padding=0)


def _descendants(item) -> list:
    """Every graphics item below ``item``."""
    found = []
    for child in item.childItems():
        found.append(child)
        found.extend(_descendants(child))
    return found
