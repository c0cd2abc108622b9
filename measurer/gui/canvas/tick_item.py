"""A layer boundary drawn as a short tick across its profile line, dragged only along it.

The boundary is a single-point annotation; the line it lies on comes from its provenance
(:func:`measurer.core.derived_layers.analysed_line`), so the item needs nothing but the
annotation. The tick keeps the same length on screen at every zoom. Like every canvas item it
only reports gestures: ``edit_previewed``/``edit_finished`` with the new ``(1, 2)`` vertices
(the mouse projected onto the line, kept between its ends) and ``clicked``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from measurer.core.annotations import Annotation
from measurer.core.derived_layers import analysed_line
from measurer.gui.canvas.items import annotation_pen

#: Half the tick's length and half its picking width, in screen pixels.
HALF_LENGTH = 11.0
HALF_PICK = 5.0


class TickItem(pg.GraphicsObject):
    """A boundary point shown as a tick perpendicular to its line; drags along the line."""

    edit_previewed = QtCore.Signal(object)
    edit_finished = QtCore.Signal(object)
    clicked = QtCore.Signal()

    def __init__(self, annotation: Annotation) -> None:
        super().__init__()
        self._point = np.zeros(2)
        self._line: np.ndarray | None = None
        self._pen = annotation_pen(annotation, False)
        self._editable = True
        self._dragging = False
        self.setZValue(20)  # above the lines (ROIs are at 10, their handles at 11)
        self.show_annotation(annotation)

    # --- the annotation ----------------------------------------------------------------------

    def show_annotation(self, annotation: Annotation, selected: bool = False) -> None:
        """Follow ``annotation`` without emitting any gesture signal."""
        self.prepareGeometryChange()
        self._point = np.asarray(annotation.vertices[0], dtype=float).copy()
        self._line = analysed_line(annotation)
        self._pen = annotation_pen(annotation, selected)
        self.update()

    def vertices(self) -> np.ndarray:
        """Current ``(1, 2)`` vertex ``(row, col)``."""
        return self._point.reshape(1, 2).copy()

    def set_editable(self, editable: bool) -> None:
        """With a drawing tool active, clicks and drags go through to the canvas."""
        self._editable = editable

    def along(self, row: float, col: float) -> np.ndarray:
        """The point of the line nearest to ``(row, col)``, kept between the line's ends."""
        if self._line is None:
            return np.array([row, col], dtype=float)
        start, end = self._line
        delta = end - start
        t = float(np.clip((np.array([row, col]) - start) @ delta / (delta @ delta), 0.0, 1.0))
        return start + t * delta

    # --- drawing -----------------------------------------------------------------------------

    def _across(self) -> np.ndarray:
        """Unit vector across the line in scene ``(x, y)`` (vertical when there is no line)."""
        if self._line is None:
            return np.array([0.0, 1.0])
        d_row, d_col = self._line[1] - self._line[0]
        return np.array([-d_row, d_col]) / np.hypot(d_row, d_col)

    def _screen(self, vector: np.ndarray) -> float:
        """Length in item units of one screen pixel along ``vector`` (1 without a view)."""
        length = self.pixelLength(QtCore.QPointF(*vector))
        return float(length) if length else 1.0

    def _segment(self, half: float) -> tuple[QtCore.QPointF, QtCore.QPointF]:
        across = self._across()
        reach = half * self._screen(across) * across
        x, y = self._point[1], self._point[0]
        return QtCore.QPointF(x - reach[0], y - reach[1]), QtCore.QPointF(
            x + reach[0], y + reach[1]
        )

    def viewTransformChanged(self) -> None:
        """Zooming changes the tick's size in image units."""
        self.prepareGeometryChange()

    def shape(self) -> QtGui.QPainterPath:
        """Pick within a few screen pixels of the tick."""
        a, b = self._segment(HALF_LENGTH)
        path = QtGui.QPainterPath(a)
        path.lineTo(b)
        stroker = QtGui.QPainterPathStroker()
        stroker.setWidth(2 * HALF_PICK * self._screen(np.array([1.0, 0.0])))
        stroker.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        return stroker.createStroke(path)

    def boundingRect(self) -> QtCore.QRectF:
        """The picking shape's bounds."""
        return self.shape().boundingRect()

    def paint(self, painter: QtGui.QPainter, *args) -> None:
        """The tick, in the provenance colour (selection colour when selected)."""
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pen)
        painter.drawLine(*self._segment(HALF_LENGTH))

    # --- gestures ----------------------------------------------------------------------------

    def mouseClickEvent(self, ev) -> None:
        """A click selects the boundary (while navigating)."""
        if self._editable and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit()
        else:
            ev.ignore()

    def mouseDragEvent(self, ev) -> None:
        """Drag along the line; commit on release."""
        if not self._editable or ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._dragging = True
        if not self._dragging:
            ev.ignore()
            return
        ev.accept()
        here = self.mapFromScene(ev.scenePos())
        self.prepareGeometryChange()
        self._point = self.along(here.y(), here.x())
        self.update()
        if ev.isFinish():
            self._dragging = False
            self.edit_finished.emit(self.vertices())
        else:
            self.edit_previewed.emit(self.vertices())
