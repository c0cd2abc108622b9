"""Canvas items, one class per annotation kind.

An item only shows an annotation and reports gestures: ``edit_previewed(vertices)`` while the
user drags, ``edit_finished(vertices)`` on release, ``clicked()``. It never changes the
annotation itself; the annotation layer turns gestures into document commands.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from measurer.core.annotations import Annotation, Kind
from measurer.core.style import CLASS_COLOURS, COLOURS, SELECTED_COLOUR
from measurer.gui.canvas.coords import from_scene, to_scene


def annotation_pen(annotation: Annotation, selected: bool) -> QtGui.QPen:
    """The pen of an annotation: colour by provenance, thicker when selected."""
    colour = SELECTED_COLOUR if selected else COLOURS[annotation.provenance.origin]
    return pg.mkPen(colour, width=3 if selected else 2, cosmetic=True)


class _RoiItem:
    """Behaviour shared by the ROI-based items (mixed into pyqtgraph ROI classes)."""

    edit_previewed: QtCore.SignalInstance
    edit_finished: QtCore.SignalInstance
    clicked: QtCore.SignalInstance

    def _connect_gestures(self) -> None:
        self.sigRegionChanged.connect(lambda *_: self.edit_previewed.emit(self.vertices()))
        self.sigRegionChangeFinished.connect(lambda *_: self.edit_finished.emit(self.vertices()))
        self.sigClicked.connect(lambda *_: self.clicked.emit())
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.LeftButton)

    def set_editable(self, editable: bool) -> None:
        """With a drawing tool active, the body lets clicks and drags through (handles do not)."""
        self.translatable = editable

    def mouseClickEvent(self, ev) -> None:
        """Clicks select the item only while navigating/editing."""
        if self.translatable:
            super().mouseClickEvent(ev)
        else:
            ev.ignore()

    def show_annotation(self, annotation: Annotation, selected: bool = False) -> None:
        """Follow ``annotation`` without emitting any gesture signal."""
        self.blockSignals(True)
        try:
            self._set_vertices(annotation.vertices)
            pen = annotation_pen(annotation, selected)
            self.setPen(pen)
            self.currentPen = pen
            self.update()
        finally:
            self.blockSignals(False)

    def _handle_points(self) -> np.ndarray:
        return from_scene([self.mapToParent(h.pos()) for h in self.getHandles()])


class LineItem(_RoiItem, pg.LineSegmentROI):
    """A straight line (also the profile line) with two draggable ends."""

    edit_previewed = QtCore.Signal(object)
    edit_finished = QtCore.Signal(object)
    clicked = QtCore.Signal()

    def __init__(self, annotation: Annotation) -> None:
        super().__init__(positions=to_scene(annotation.vertices), movable=True)
        self._connect_gestures()

    def vertices(self) -> np.ndarray:
        """Current ``(row, col)`` vertices."""
        return self._handle_points()

    def _set_vertices(self, vertices: np.ndarray) -> None:
        self.setPos(0, 0, update=False, finish=False)
        for handle, point in zip(self.getHandles(), to_scene(vertices), strict=True):
            self.movePoint(handle, QtCore.QPointF(*point), finish=False)


class PolyItem(_RoiItem, pg.PolyLineROI):
    """Polyline, angle, polygon or freehand outline with draggable vertices."""

    edit_previewed = QtCore.Signal(object)
    edit_finished = QtCore.Signal(object)
    clicked = QtCore.Signal()

    def __init__(self, annotation: Annotation) -> None:
        closed = annotation.kind in (Kind.POLYGON, Kind.FREEHAND)
        self._fixed_count = annotation.kind is Kind.ANGLE
        super().__init__(to_scene(annotation.vertices), closed=closed, movable=True)
        self._connect_gestures()

    def segmentClicked(self, segment, ev=None, pos=None):
        """A click on a segment inserts a vertex, except for angles (always three points)."""
        if self._fixed_count:
            self.clicked.emit()
            return
        super().segmentClicked(segment, ev, pos)

    def checkRemoveHandle(self, handle) -> bool:
        """Vertices can be removed down to the kind's minimum; an angle keeps its three."""
        minimum = 3 if self.closed else 2
        return not self._fixed_count and len(self.handles) > minimum

    def vertices(self) -> np.ndarray:
        """Current ``(row, col)`` vertices."""
        return self._handle_points()

    def _set_vertices(self, vertices: np.ndarray) -> None:
        self.setPos(0, 0, update=False, finish=False)
        points = to_scene(vertices)
        if len(points) == len(self.handles):
            for handle, point in zip(self.getHandles(), points, strict=True):
                self.movePoint(handle, QtCore.QPointF(*point), finish=False)
        else:
            self.setPoints(points)
            for segment in self.segments:
                segment.setPen(self.pen)


class BoxItem(_RoiItem, pg.ROI):
    """A rectangle given by two opposite corners, resized by its corner handles."""

    edit_previewed = QtCore.Signal(object)
    edit_finished = QtCore.Signal(object)
    clicked = QtCore.Signal()

    def __init__(self, annotation: Annotation) -> None:
        super().__init__((0, 0), (1, 1), movable=True, rotatable=False)
        for corner, centre in (
            ((1, 1), (0, 0)),
            ((0, 0), (1, 1)),
            ((1, 0), (0, 1)),
            ((0, 1), (1, 0)),
        ):
            self.addScaleHandle(corner, centre)
        self._set_vertices(annotation.vertices)
        self._connect_gestures()

    def vertices(self) -> np.ndarray:
        """The two corners ``[(top, left), (bottom, right)]``."""
        x, y = self.pos()
        w, h = self.size()
        return np.array([[min(y, y + h), min(x, x + w)], [max(y, y + h), max(x, x + w)]])

    def _set_vertices(self, vertices: np.ndarray) -> None:
        (r0, c0), (r1, c1) = np.asarray(vertices)
        self.setPos((min(c0, c1), min(r0, r1)), update=False, finish=False)
        self.setSize((abs(c1 - c0), abs(r1 - r0)), update=True, finish=False)


class EllipseItem(BoxItem):
    """An axis-aligned ellipse inside its bounding box."""

    def paint(self, painter, *args) -> None:
        """Draw the ellipse instead of the box."""
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(self.currentPen)
        painter.drawEllipse(self.boundingRect())

    def shape(self) -> QtGui.QPainterPath:
        """Pick on the ellipse, not its box."""
        path = QtGui.QPainterPath()
        path.addEllipse(self.boundingRect())
        return path


class PointSetItem(pg.ScatterPlotItem):
    """A set of counted points, coloured by class; each point drags on its own, and Alt+click
    (as in ImageJ's multi-point tool) or Ctrl+click (where the window manager takes Alt+click)
    asks to remove one (``point_removed(index)``)."""

    edit_previewed = QtCore.Signal(object)
    edit_finished = QtCore.Signal(object)
    clicked = QtCore.Signal()
    point_removed = QtCore.Signal(int)

    def __init__(self, annotation: Annotation) -> None:
        super().__init__(pxMode=True, size=11, hoverable=False)
        self._vertices = annotation.vertices.copy()
        self._classes = annotation.classes
        self._dragged: int | None = None
        self.show_annotation(annotation)

    def vertices(self) -> np.ndarray:
        """Current ``(row, col)`` vertices."""
        return self._vertices.copy()

    def show_annotation(self, annotation: Annotation, selected: bool = False) -> None:
        """Follow ``annotation`` without emitting any gesture signal."""
        self._vertices = annotation.vertices.copy()
        self._classes = annotation.classes
        self._redraw(selected)
        self._selected = selected

    def _redraw(self, selected: bool) -> None:
        outline = pg.mkPen(SELECTED_COLOUR if selected else (0, 0, 0), width=2 if selected else 1)
        brushes = [pg.mkBrush(CLASS_COLOURS[c % len(CLASS_COLOURS)]) for c in self._classes]
        self.setData(
            x=self._vertices[:, 1], y=self._vertices[:, 0], brush=brushes, pen=outline, symbol="o"
        )

    def set_editable(self, editable: bool) -> None:
        """Points stay draggable with every tool; clicks select only while navigating."""
        self._editable = editable

    def point_at(self, scene_pos: QtCore.QPointF) -> int | None:
        """Index of the point under a scene position, if any."""
        hits = self.pointsAt(self.mapFromScene(scene_pos))
        return int(hits[0].index()) if len(hits) else None

    def mouseClickEvent(self, ev) -> None:
        """A click on a point selects the set; Alt+click or Ctrl+click removes the point, with
        any tool."""
        keys = QtCore.Qt.KeyboardModifier
        remove = ev.modifiers() & (keys.AltModifier | keys.ControlModifier)
        index = self.point_at(ev.scenePos())
        if remove and ev.button() == QtCore.Qt.MouseButton.LeftButton and index is not None:
            ev.accept()
            self.point_removed.emit(index)
        elif (
            getattr(self, "_editable", True)
            and ev.button() == QtCore.Qt.MouseButton.LeftButton
            and self.point_at(ev.scenePos()) is not None
        ):
            ev.accept()
            self.clicked.emit()
        else:
            ev.ignore()

    def mouseDragEvent(self, ev) -> None:
        """Drag one point; commit on release."""
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._dragged = self.point_at(ev.buttonDownScenePos())
            if self._dragged is None:
                ev.ignore()
                return
        if self._dragged is None:
            ev.ignore()
            return
        ev.accept()
        pos = self.mapFromScene(ev.scenePos())
        self._vertices[self._dragged] = (pos.y(), pos.x())
        self._redraw(self._selected)
        if ev.isFinish():
            self._dragged = None
            self.edit_finished.emit(self.vertices())
        else:
            self.edit_previewed.emit(self.vertices())


#: The item class that shows each annotation kind.
ITEM_CLASSES: dict[Kind, type] = {
    Kind.POINTS: PointSetItem,
    Kind.LINE: LineItem,
    Kind.PROFILE: LineItem,
    Kind.POLYLINE: PolyItem,
    Kind.ANGLE: PolyItem,
    Kind.POLYGON: PolyItem,
    Kind.FREEHAND: PolyItem,
    Kind.RECTANGLE: BoxItem,
    Kind.ELLIPSE: EllipseItem,
}


#: Item classes for annotations of a given role prefix (e.g. layer boundaries drawn as ticks);
#: analyses register theirs with :func:`register_role_item`. Such annotations are never batched.
ROLE_ITEM_CLASSES: dict[str, type] = {}


def register_role_item(role_prefix: str, item_class: type) -> None:
    """Draw annotations whose role starts with ``role_prefix`` with ``item_class``.

    The class takes the annotation in its constructor and offers the same interface as the
    classes above: ``show_annotation``, ``vertices``, ``set_editable`` and the signals
    ``edit_previewed``, ``edit_finished`` and ``clicked``.
    """
    ROLE_ITEM_CLASSES[role_prefix] = item_class


def role_item_class(annotation: Annotation) -> type | None:
    """The registered item class for an annotation's role, if any."""
    if not annotation.role:
        return None
    for prefix, item_class in ROLE_ITEM_CLASSES.items():
        if annotation.role.startswith(prefix):
            return item_class
    return None


def make_item(annotation: Annotation, selected: bool = False):
    """A new canvas item showing ``annotation``."""
    item_class = role_item_class(annotation) or ITEM_CLASSES[annotation.kind]
    item = item_class(annotation)
    item.show_annotation(annotation, selected)
    return item
