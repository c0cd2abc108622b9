"""Canvas overlays of the masks panel: a second mask in colour, distance lines with their values,
and the names of the landmarks.

They only draw (no clicks): the outlines and landmarks themselves are annotations that the
annotation layer draws, batches and edits. Lines and names are a few items however many blobs
there are: one curve for every measured line, one for the reference lines, a text per value, and
names only while there are at most :data:`MAX_NAMES` landmarks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from measurer.core.annotations import Annotation
from measurer.core.calibration import Calibration
from measurer.core.derived_masks import Measure
from measurer.core.style import LABEL_BACKGROUND, LABEL_TEXT
from measurer.gui.canvas.coords import image_rect

#: Landmark names are drawn while there are at most this many landmarks.
MAX_NAMES = 300
#: Colour (RGBA) of the second mask.
SECOND_MASK_COLOUR = (255, 0, 200, 110)
_LINE_COLOUR = (255, 230, 90)
_BACKGROUND = pg.mkBrush(*LABEL_BACKGROUND, 140)
_NAME_BACKGROUND = pg.mkBrush(*LABEL_BACKGROUND, 90)
_NAME_ANCHOR = (-0.1, 1.0)


def _quiet(item: QtWidgets.QGraphicsItem, parent: QtWidgets.QGraphicsItem) -> None:
    item.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
    item.setParentItem(parent)


def _remove(item: QtWidgets.QGraphicsItem) -> None:
    item.setParentItem(None)
    if item.scene() is not None:
        item.scene().removeItem(item)


class SecondMaskOverlay:
    """A second mask shown in colour over the image, under the annotations."""

    def __init__(self, parent_item: QtWidgets.QGraphicsItem) -> None:
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setZValue(-5)
        self.item.setOpacity(1.0)
        _quiet(self.item, parent_item)
        self.item.hide()

    def show_mask(self, mask: np.ndarray | None) -> None:
        """Colour the foreground of ``mask`` (boolean, image size); None removes it."""
        if mask is None:
            self.item.hide()
            self.item.clear()
            return
        rgba = np.zeros((*mask.shape, 4), np.uint8)
        rgba[mask] = SECOND_MASK_COLOUR
        self.item.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.item.setRect(QtCore.QRectF(*image_rect(mask.shape)))
        self.item.show()

    @property
    def visible(self) -> bool:
        """True while a second mask is shown."""
        return self.item.isVisible()


def _screen_box(item: pg.TextItem, viewbox: pg.ViewBox) -> QtCore.QRectF:
    """Where a text item is on the screen (scene coordinates), whatever the zoom."""
    size = item.textItem.boundingRect()
    corner = viewbox.mapViewToScene(item.pos())
    anchor = item.anchor
    return QtCore.QRectF(
        corner.x() - anchor.x() * size.width(),
        corner.y() - anchor.y() * size.height(),
        size.width(),
        size.height(),
    )


def _extended(line: np.ndarray, factor: float = 0.3) -> np.ndarray:
    """A segment lengthened by ``factor`` of its length at each end."""
    a, b = line
    return np.array([a - (b - a) * factor, b + (b - a) * factor])


def value_labels(
    measures: Sequence[Measure], calibration: Calibration
) -> list[tuple[np.ndarray, tuple[float, float], str]]:
    """Where the values of measured lines are written: ``(position (row, col), anchor, text)``.

    A mostly vertical line has its value beside it, on the side away from the middle of all
    the lines (a hole edge's height to the left of the left edge); a mostly horizontal one
    above it in the upper half, below it in the lower half. Values on the same side whose
    lines have their middles close together (within a sixth of the extent of all the lines)
    share one label, so labels do not pile up.
    """
    if not measures:
        return []
    middles = np.array([m.segment.mean(axis=0) for m in measures])
    ends = np.vstack([m.segment for m in measures])
    radius = max(2.0, float(np.ptp(ends, axis=0).max()) / 6)
    centre = middles.mean(axis=0)
    groups: dict[tuple[float, float], list[list[int]]] = {}
    for i, measure in enumerate(measures):
        rows, cols = np.abs(np.diff(measure.segment, axis=0)[0])
        if rows > cols:
            anchor = (1.05, 0.5) if middles[i][1] < centre[1] else (-0.05, 0.5)
        else:
            anchor = (0.5, 1.1) if middles[i][0] <= centre[0] else (0.5, -0.1)
        side = groups.setdefault(anchor, [])
        near = next(
            (g for g in side if np.hypot(*(middles[g].mean(axis=0) - middles[i])) < radius), None
        )
        if near is None:
            side.append([i])
        else:
            near.append(i)
    labels = []
    for anchor, side in groups.items():
        for group in side:
            texts = dict.fromkeys(measures[i].text(calibration) for i in group)
            labels.append((middles[group].mean(axis=0), anchor, "\n".join(texts)))
    return labels


class MeasureOverlay:
    """Every measured line (dashed) with its value, the lines they are measured from (dotted),
    and the landmarks' names."""

    def __init__(self, parent_item: QtWidgets.QGraphicsItem) -> None:
        self._parent = parent_item
        dash = QtCore.Qt.PenStyle.DashLine
        self.lines = pg.PlotCurveItem(
            connect="finite", pen=pg.mkPen(_LINE_COLOUR, width=1.5, style=dash, cosmetic=True)
        )
        self.guides = pg.PlotCurveItem(
            connect="finite",
            pen=pg.mkPen(200, 200, 200, width=1, style=QtCore.Qt.PenStyle.DotLine, cosmetic=True),
        )
        for item in (self.lines, self.guides):
            _quiet(item, parent_item)
            item.setZValue(-1)
        self.values: list[pg.TextItem] = []
        self._places: list[QtCore.QPointF] = []  # where each value belongs, before moving
        self.names: dict[int, pg.TextItem] = {}

    def show_measures(self, measures: Sequence[Measure], calibration: Calibration) -> None:
        """Draw the lines of ``measures`` and their values (see :func:`value_labels`)."""
        drawn = [m for m in measures if m.segment is not None]
        self.lines.setData(*self._path([m.segment for m in drawn]))
        guides = {np.round(m.guide, 6).tobytes(): m.guide for m in drawn if m.guide is not None}
        self.guides.setData(*self._path([_extended(g) for g in guides.values()]))
        labels = value_labels(drawn, calibration)
        while len(self.values) > len(labels):
            _remove(self.values.pop())
        while len(self.values) < len(labels):
            item = pg.TextItem("", color=LABEL_TEXT, fill=_BACKGROUND)
            _quiet(item, self._parent)
            self.values.append(item)
        self._places = []
        for item, (position, anchor, text) in zip(self.values, labels, strict=True):
            item.setText(text)
            item.setAnchor(anchor)
            item.setPos(float(position[1]), float(position[0]))
            self._places.append(item.pos())

    def show_names(self, landmarks: Sequence[Annotation]) -> bool:
        """Write each landmark's label beside it; False (and nothing drawn) beyond
        :data:`MAX_NAMES` landmarks."""
        shown = {a.id: a for a in landmarks} if len(landmarks) <= MAX_NAMES else {}
        for annotation_id in [i for i in self.names if i not in shown]:
            _remove(self.names.pop(annotation_id))
        for annotation_id, annotation in shown.items():
            item = self.names.get(annotation_id)
            if item is None:
                item = pg.TextItem("", color=LABEL_TEXT, fill=_NAME_BACKGROUND, anchor=_NAME_ANCHOR)
                _quiet(item, self._parent)
                self.names[annotation_id] = item
            item.setText(annotation.label)
            row, col = annotation.vertices[0]
            item.setPos(float(col), float(row))
        return len(landmarks) <= MAX_NAMES

    def declutter(self, viewbox: pg.ViewBox) -> None:
        """At the current zoom, move each value down below the values before it that it would
        overlap, and show only the names that overlap neither a value nor a name shown before
        them."""
        taken: list[QtCore.QRectF] = []
        rows_per_pixel = viewbox.viewPixelSize()[1]
        for item, place in zip(self.values, self._places, strict=True):
            item.setPos(place)
            box = _screen_box(item, viewbox)
            for other in taken:  # in order: each move clears the boxes placed before
                if box.intersects(other):
                    shift = other.bottom() - box.top() + 2
                    item.setPos(item.pos().x(), item.pos().y() + shift * rows_per_pixel)
                    box = _screen_box(item, viewbox)
            taken.append(box)
        for item in self.names.values():
            box = _screen_box(item, viewbox)
            free = not any(box.intersects(other) for other in taken)
            item.setVisible(free)
            if free:
                taken.append(box)

    def clear(self) -> None:
        """Draw nothing."""
        self.show_measures([], Calibration.uncalibrated())
        self.show_names([])

    @staticmethod
    def _path(segments: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of the segments joined by NaN gaps."""
        if not segments:
            return np.zeros(0), np.zeros(0)
        gap = np.full((1, 2), np.nan)
        points = np.vstack([p for s in segments for p in (np.asarray(s, float), gap)])
        return points[:, 1], points[:, 0]
