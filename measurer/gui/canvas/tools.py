"""Drawing tools: turn mouse gestures on the empty canvas into new shapes.

A tool never touches the document: it emits ``shape_drawn(kind, vertices)`` or
``point_clicked(vertex)`` and the controller turns them into commands. Gestures:

- point: click; line, profile, rectangle, ellipse: drag (Shift snaps a line to 0/45/90°);
- polyline, polygon: click each vertex, double-click or Enter to finish;
- angle: three clicks (arm, vertex, arm); freehand: drag along the outline.
Esc cancels an unfinished shape.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from measurer.core.annotations import Kind
from measurer.gui.canvas.coords import from_scene


class Tool(StrEnum):
    """The canvas tools; ``NAVIGATE`` pans, zooms and edits existing items."""

    NAVIGATE = "navigate"
    POINT = "points"
    LINE = "line"
    POLYLINE = "polyline"
    ANGLE = "angle"
    RECTANGLE = "rectangle"
    ELLIPSE = "ellipse"
    POLYGON = "polygon"
    FREEHAND = "freehand"
    PROFILE = "profile"


DRAG_TOOLS = {Tool.LINE, Tool.PROFILE, Tool.RECTANGLE, Tool.ELLIPSE, Tool.FREEHAND}
CLICK_TOOLS = {Tool.POLYLINE, Tool.POLYGON, Tool.ANGLE}


def snap_line(start: np.ndarray, end: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """Move ``end`` so the line from ``start`` is at 0, 45 or 90 degrees on screen, where each
    pixel is shown ``aspect`` times as wide as it is tall (View → Physical pixel aspect)."""
    d = (end - start) * np.array([1.0, aspect])  # (row, col) in screen proportions
    length = math.hypot(*d)
    angle = round(math.atan2(d[0], d[1]) / (math.pi / 4)) * (math.pi / 4)
    if abs(math.sin(angle)) > 0.1 and abs(math.cos(angle)) > 0.1:
        # Diagonal: keep the projection length so the end stays under the cursor's diagonal.
        length = (abs(d[0]) + abs(d[1])) / 2 * math.sqrt(2)
    return start + length * np.array([math.sin(angle), math.cos(angle) / aspect])


def ellipse_outline(corner_a: np.ndarray, corner_b: np.ndarray, n: int = 64) -> np.ndarray:
    """Points on the ellipse inscribed in the box of two corners, ``(row, col)``."""
    centre = (corner_a + corner_b) / 2
    radii = np.abs(corner_b - corner_a) / 2
    t = np.linspace(0, 2 * math.pi, n)
    return np.column_stack([centre[0] + radii[0] * np.sin(t), centre[1] + radii[1] * np.cos(t)])


class DrawingTools(QtCore.QObject):
    """Gesture handling for the current tool, with a dashed preview of the shape in progress."""

    shape_drawn = QtCore.Signal(object, object)  # Kind, (N, 2) vertices
    point_clicked = QtCore.Signal(object)  # (row, col)
    drawing_previewed = QtCore.Signal(object, object)  # Kind, vertices of the unfinished shape

    def __init__(self, viewbox: pg.ViewBox) -> None:
        super().__init__()
        self._viewbox = viewbox
        self.tool = Tool.NAVIGATE
        self._vertices: list[np.ndarray] = []
        self._preview = pg.PlotCurveItem(
            pen=pg.mkPen((255, 255, 255), width=1.5, style=QtCore.Qt.PenStyle.DashLine)
        )
        self._preview.setZValue(1000)
        viewbox.addItem(self._preview, ignoreBounds=True)

    @property
    def busy(self) -> bool:
        """True while a shape is being drawn."""
        return bool(self._vertices)

    def set_tool(self, tool: Tool) -> None:
        """Switch tools, cancelling any unfinished shape."""
        self.cancel()
        self.tool = Tool(tool)

    def cancel(self) -> None:
        """Drop the unfinished shape (Esc)."""
        self._vertices = []
        self._preview.setData([], [])

    def finish(self) -> None:
        """Complete a polyline or polygon drawn by clicks (Enter or double-click)."""
        if self.tool in (Tool.POLYLINE, Tool.POLYGON) and self._vertices:
            vertices = _dedupe(np.array(self._vertices))
            need = 2 if self.tool is Tool.POLYLINE else 3
            self.cancel()
            if len(vertices) >= need:
                self.shape_drawn.emit(Kind(self.tool.value), vertices)

    # --- events forwarded by the view box ------------------------------------------------

    def click(self, ev) -> bool:
        """Handle a click; return True when the tool used it."""
        if self.tool is Tool.NAVIGATE or ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return False
        vertex = self._to_image(ev.scenePos())
        if self.tool is Tool.POINT:
            self.point_clicked.emit(vertex)
            return True
        if self.tool not in CLICK_TOOLS:
            return False
        if ev.double():
            self.finish()
            return True
        self._vertices.append(vertex)
        if self.tool is Tool.ANGLE and len(self._vertices) == 3:
            vertices = np.array(self._vertices)
            self.cancel()
            self.shape_drawn.emit(Kind.ANGLE, vertices)
            return True
        self._show(np.array(self._vertices))
        return True

    def hover(self, scene_pos: QtCore.QPointF) -> None:
        """Rubber band from the last clicked vertex to the cursor."""
        if self.tool in CLICK_TOOLS and self._vertices:
            self._show(np.array([*self._vertices, self._to_image(scene_pos)]))

    def drag(self, ev) -> bool:
        """Handle a left-button drag; return True when the tool used it."""
        if self.tool not in DRAG_TOOLS or ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return False
        ev.accept()
        here = self._to_image(ev.scenePos())
        if ev.isStart():
            self._vertices = [self._to_image(ev.buttonDownScenePos())]
        if not self._vertices:
            return True
        start = self._vertices[0]
        if self.tool is Tool.FREEHAND:
            self._vertices.append(here)
            vertices = np.array(self._vertices)
        else:
            if (
                self.tool in (Tool.LINE, Tool.PROFILE)
                and ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier
            ):
                here = snap_line(start, here, float(self._viewbox.state["aspectLocked"] or 1))
            vertices = np.array([start, here])
        if ev.isFinish():
            self.cancel()
            self._emit_dragged(vertices)
        else:
            self._show(vertices)
        return True

    # --- helpers -------------------------------------------------------------------------

    def _emit_dragged(self, vertices: np.ndarray) -> None:
        if self.tool is Tool.FREEHAND:
            vertices = _dedupe(vertices)
            if len(vertices) >= 3:
                self.shape_drawn.emit(Kind.FREEHAND, vertices)
            return
        if np.allclose(vertices[0], vertices[1]):
            return  # a click, not a shape
        if self.tool in (Tool.RECTANGLE, Tool.ELLIPSE):
            vertices = np.array([vertices.min(axis=0), vertices.max(axis=0)])
        self.shape_drawn.emit(Kind(self.tool.value), vertices)

    def _show(self, vertices: np.ndarray) -> None:
        outline = vertices
        if self.tool is Tool.RECTANGLE:
            (r0, c0), (r1, c1) = vertices
            outline = np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0], [r0, c0]])
        elif self.tool is Tool.ELLIPSE:
            outline = ellipse_outline(vertices[0], vertices[1])
        elif self.tool in (Tool.POLYGON, Tool.FREEHAND):
            outline = np.vstack([vertices, vertices[:1]])
        self._preview.setData(outline[:, 1], outline[:, 0])
        self.drawing_previewed.emit(Kind(self.tool.value), vertices)

    def _to_image(self, scene_pos: QtCore.QPointF) -> np.ndarray:
        return from_scene([self._viewbox.mapSceneToView(scene_pos)])[0]


def _dedupe(vertices: np.ndarray) -> np.ndarray:
    """Drop consecutive repeated vertices (a double-click adds its point twice)."""
    keep = np.ones(len(vertices), dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(vertices, axis=0)) > 1e-9, axis=1)
    return vertices[keep]
