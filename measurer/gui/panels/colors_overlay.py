"""Canvas overlays of the colours panel: the grid being laid out, and a band per colour class.

Both are single graphics items (one curve for the grid, one path per class), so thousands of
objects cost a few items. They only draw: they take no clicks, and the objects and cells
themselves stay annotations drawn and edited by the annotation layer. The class bands lie under
the layer's outlines, so an outline's provenance and selection colours stay visible in the
middle of its class colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.core.annotations import Annotation, Kind

#: Width (screen pixels) of the class-coloured band along each outline.
_BAND_WIDTH = 6


def grid_lines(spec: Sequence[float]) -> np.ndarray:
    """``(row, col)`` points of the grid's cell edges, NaN between lines.

    ``spec`` is ``(top, left, cell height, cell width, rows, cols)``; cell ``(i, j)`` covers
    rows ``round(top + i·height)`` up to ``round(top + (i+1)·height)`` (as the analysis has it),
    so its edges lie half a pixel outside those pixel centres.
    """
    top, left, height, width, rows, cols = spec
    row_edges = np.array([round(top + i * height) for i in range(int(rows) + 1)]) - 0.5
    col_edges = np.array([round(left + j * width) for j in range(int(cols) + 1)]) - 0.5
    pieces = []
    for r in row_edges:
        pieces.append([[r, col_edges[0]], [r, col_edges[-1]], [np.nan, np.nan]])
    for c in col_edges:
        pieces.append([[row_edges[0], c], [row_edges[-1], c], [np.nan, np.nan]])
    return np.concatenate(pieces).astype(float)


class GridOverlay:
    """The grid of the colours panel, drawn as one dashed curve."""

    def __init__(self, parent_item: QtWidgets.QGraphicsItem) -> None:
        pen = pg.mkPen((255, 255, 255), width=1.5, style=QtCore.Qt.PenStyle.DashLine, cosmetic=True)
        self.item = pg.PlotCurveItem(connect="finite", pen=pen)
        self.item.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.item.setParentItem(parent_item)

    def show_grid(self, spec: Sequence[float] | None) -> None:
        """Draw the grid ``(top, left, cell height, cell width, rows, cols)``; None hides it."""
        points = np.zeros((0, 2)) if spec is None else grid_lines(spec)
        self.item.setData(points[:, 1], points[:, 0])
        self.item.setVisible(spec is not None)


def _outline(annotation: Annotation) -> np.ndarray:
    """Polygon outlines as they are; cells inset by 1.5 px, so neighbours' bands stay apart."""
    if annotation.kind is Kind.RECTANGLE:
        (r0, c0), (r1, c1) = np.sort(annotation.vertices, axis=0) + np.array([[1.5], [-1.5]])
        return np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]])
    return annotation.vertices


class ClassBands:
    """A band in the class colour along the outline of each object or cell, a path per class."""

    def __init__(self, parent_item: QtWidgets.QGraphicsItem) -> None:
        self._parent = parent_item
        self.items: dict[str, QtWidgets.QGraphicsPathItem] = {}

    def show_classes(
        self,
        shapes: Mapping[str, Sequence[Annotation]],
        colours: Mapping[str, tuple[int, int, int]],
    ) -> None:
        """Outline each class's shapes in its colour (classes without shapes draw nothing)."""
        self.clear()
        for name, members in shapes.items():
            if not members:
                continue
            path = QtGui.QPainterPath()
            for annotation in members:
                outline = _outline(annotation)
                path.addPolygon(QtGui.QPolygonF([QtCore.QPointF(c, r) for r, c in outline]))
                path.closeSubpath()
            item = QtWidgets.QGraphicsPathItem(path)
            item.setPen(pg.mkPen(colours[name], width=_BAND_WIDTH, cosmetic=True))
            item.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
            item.setZValue(-1)
            item.setParentItem(self._parent)
            self.items[name] = item

    def clear(self) -> None:
        """Remove every band."""
        for item in self.items.values():
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.items = {}
