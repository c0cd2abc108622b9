"""Detections drawn in bulk: every automatic annotation of one analysis in a few items.

Ten thousand blob outlines as ten thousand graphics items would make the canvas crawl, so an
analysis's untouched results are drawn as one NaN-separated curve and one scatter plot, and a
k-d tree over their vertices finds the annotation under a click. The annotation the user selects
leaves the batch and becomes an ordinary editable item (see :class:`AnnotationLayer`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from measurer.core.annotations import AREA_KINDS, Annotation, Kind, Origin
from measurer.core.style import COLOURS


def _outline(annotation: Annotation) -> np.ndarray:
    """Vertices to draw for a shape, closed where the shape is closed, ``(row, col)``."""
    v = annotation.vertices
    if annotation.kind in (Kind.RECTANGLE, Kind.ELLIPSE):
        (r0, c0), (r1, c1) = v
        if annotation.kind is Kind.RECTANGLE:
            return np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0], [r0, c0]])
        t = np.linspace(0, 2 * np.pi, 49)
        centre, radii = (v[0] + v[1]) / 2, np.abs(v[1] - v[0]) / 2
        return np.column_stack([centre[0] + radii[0] * np.sin(t), centre[1] + radii[1] * np.cos(t)])
    if annotation.kind in AREA_KINDS:
        return np.vstack([v, v[:1]])
    return v


class DetectionBatch:
    """The automatic annotations of one analysis, drawn as one curve and one scatter plot."""

    def __init__(self, parent_item: pg.GraphicsObject) -> None:
        colour = COLOURS[Origin.AUTOMATIC]
        # A 1 px cosmetic pen is a hairline (Qt's fast line rasteriser); a wider antialiased pen
        # is stroked as polygons and 10,000 outlines then take seconds per frame
        # (bench/bench_landmarks.py).
        self.curve = pg.PlotCurveItem(
            connect="finite", pen=pg.mkPen(colour, width=1, cosmetic=True)
        )
        self.points = pg.ScatterPlotItem(
            pxMode=True, size=9, brush=pg.mkBrush(*colour, 200), pen=pg.mkPen(0, 0, 0)
        )
        for item in (self.curve, self.points):
            item.setParentItem(parent_item)
        self._tree = None
        self._owners = np.zeros(0, dtype=np.int64)
        self._areas: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []

    def set_annotations(self, annotations: Sequence[Annotation]) -> None:
        """Draw exactly these annotations and index their vertices."""
        pieces, owners, dots, dot_owners, self._areas = [], [], [], [], []
        gap = np.full((1, 2), np.nan)
        for a in annotations:
            if a.kind is Kind.POINTS:
                dots.append(a.vertices)
                dot_owners.append(np.full(len(a.vertices), a.id))
                continue
            outline = _outline(a)
            pieces.extend([outline, gap])
            owners.append(np.full(len(outline), a.id))
            if a.kind in AREA_KINDS:
                self._areas.append((a.id, outline.min(axis=0), outline.max(axis=0), outline))
        path = np.vstack(pieces) if pieces else np.zeros((0, 2))
        self.curve.setData(path[:, 1], path[:, 0])
        spots = np.vstack(dots) if dots else np.zeros((0, 2))
        self.points.setData(spots[:, 1], spots[:, 0])
        vertices = (
            np.vstack([p for p in pieces if not np.isnan(p).all()] + [spots])
            if (pieces or dots)
            else np.zeros((0, 2))
        )
        self._owners = (
            np.concatenate(owners + dot_owners) if owners or dot_owners else np.zeros(0, int)
        )
        if len(vertices):
            from scipy.spatial import cKDTree  # imported on first use: keeps start-up quick

            self._tree = cKDTree(vertices)
        else:
            self._tree = None

    def pick(self, row: float, col: float, tolerance: float) -> int | None:
        """The annotation under a point: the nearest vertex within ``tolerance`` pixels, else
        the smallest closed outline that contains the point."""
        if self._tree is not None:
            distance, index = self._tree.query([row, col], distance_upper_bound=tolerance)
            if np.isfinite(distance):
                return int(self._owners[index])
        inside = []
        for annotation_id, low, high, outline in self._areas:
            if low[0] <= row <= high[0] and low[1] <= col <= high[1]:
                from skimage.measure import points_in_poly

                if points_in_poly([[row, col]], outline)[0]:
                    inside.append(((high - low).prod(), annotation_id))
        return min(inside)[1] if inside else None

    def remove(self) -> None:
        """Take the batch off the canvas."""
        for item in (self.curve, self.points):
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
