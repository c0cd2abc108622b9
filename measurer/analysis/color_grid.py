"""Tile grids: classify each cell by colour against its own border, or match it to references.

Every cell may have a different background: each is compared with its own border ring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from measurer.analysis.color_features import (
    MIN_CONTRAST,
    border_ring,
    class_colors,
    hue_order,
    kmeans,
    lab_features,
    nearest_centre,
    smooth,
    unit_rgb,
)
from measurer.analysis.templates import best_match


@dataclass(frozen=True)
class Grid:
    """A regular grid: cell (i, j) covers rows ``round(top + i·h)`` to ``round(top + (i+1)·h)``.

    ``origin`` is the first pixel (row, col) of cell (0, 0); ``cell_size`` (rows, cols) may be
    fractional; ``shape`` is (rows, cols) of cells.
    """

    origin: tuple[float, float]
    cell_size: tuple[float, float]
    shape: tuple[int, int]

    def cell_bounds(self, i: int, j: int) -> tuple[int, int, int, int]:
        """(first row, first col, stop row, stop col) of cell (i, j)."""
        top, left = self.origin
        height, width = self.cell_size
        return (
            round(top + i * height),
            round(left + j * width),
            round(top + (i + 1) * height),
            round(left + (j + 1) * width),
        )


@dataclass(frozen=True)
class GridCell:
    """A cell's verdict: class (None when empty), object area, and score for references."""

    row: int
    col: int
    label: str | None
    area: int = 0
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GridResult:
    """Every cell row by row, and the number of cells per class."""

    cells: tuple[GridCell, ...]
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"cells": [c.to_dict() for c in self.cells], "counts": dict(self.counts)}


def classify_grid(
    image: np.ndarray,
    grid: Grid,
    *,
    k: int | None = None,
    classes: Mapping[str, tuple[float, float, float]] | None = None,
    min_area: int = 20,
    border: int | None = None,
    smoothing: float = 1.0,
    lightness_weight: float = 0.5,
    seed: int = 0,
) -> GridResult:
    """Classify each grid cell as empty or holding an object of a colour class.

    Each cell's border ring (``border`` pixels wide, default a tenth of the cell) is its own
    background: interior pixels further from the ring's median colour than three times the
    ring's own 95th-percentile spread (and at least ``MIN_CONTRAST`` Lab units) are object; the
    largest such component, if at least ``min_area`` pixels, is the cell's object. Its median
    colour goes to the nearest of ``classes``, or with ``k`` is clustered with the other cells'
    objects into k classes ``c0``, ``c1``, … (in order of hue). Objects must not touch the
    cell's border ring.

    Returns
    -------
    GridResult
        Cells row by row; ``label`` None for empty cells; ``area`` in pixels.
    """
    if (k is None) == (classes is None):
        raise ValueError("give either k (automatic classes) or classes (named colours)")
    rgb, scale = unit_rgb(image)
    features = lab_features(smooth(rgb, smoothing, "kmeans"), lightness_weight)
    found: list[tuple[int, int, int, np.ndarray | None]] = []
    for i, j, cell in _cells(features, grid):
        ring_width = max(2, round(0.1 * min(cell.shape[:2]))) if border is None else int(border)
        if 2 * ring_width >= min(cell.shape[:2]):
            raise ValueError(f"border {ring_width} px leaves nothing inside {cell.shape[:2]} cells")
        ring = border_ring(cell.shape[:2], ring_width)
        reference = np.median(cell[ring], axis=0)
        spread = np.percentile(np.linalg.norm(cell[ring] - reference, axis=1), 95)
        distance = np.linalg.norm(cell - reference, axis=2)
        mask = (distance > max(MIN_CONTRAST, 3 * spread)) & ~ring
        mask = ndi.binary_opening(mask, np.ones((3, 3), bool))
        components, n = ndi.label(mask, np.ones((3, 3), bool))
        areas = np.bincount(components.ravel(), minlength=n + 1)[1:]
        if n and areas.max() >= min_area:
            biggest = components == areas.argmax() + 1
            found.append((i, j, int(areas.max()), np.median(cell[biggest], axis=0)))
        else:
            found.append((i, j, 0, None))
    colors = np.array([f[3] for f in found if f[3] is not None]).reshape(-1, 3)
    if classes is not None:
        names = list(classes)
        targets = lab_features(class_colors(classes, scale)[None], lightness_weight)[0]
        assigned = nearest_centre(colors, targets) if colors.size else np.empty(0, int)
    else:
        names = [f"c{i}" for i in range(int(k))]
        if colors.shape[0] < int(k):
            raise ValueError(f"only {colors.shape[0]} occupied cells for k = {k} classes")
        centres = kmeans(colors, int(k), np.random.default_rng(seed))
        order = np.argsort(hue_order(centres))
        assigned = order[nearest_centre(colors, centres)]
    labels = iter(assigned)
    cells = tuple(
        GridCell(i, j, None if c is None else names[next(labels)], a) for i, j, a, c in found
    )
    return GridResult(cells, {n: sum(c.label == n for c in cells) for n in names})


def match_grid(
    image: np.ndarray,
    grid: Grid,
    references: Mapping[str, np.ndarray],
    *,
    min_score: float = 0.5,
) -> GridResult:
    """Match every cell against reference images; the best reference and its score per cell.

    Each reference (no larger than a cell) is searched within the cell by normalised
    cross-correlation; the cell takes the name of the best-scoring reference, or None when no
    score reaches ``min_score`` (the score is reported either way).
    """
    if not references:
        raise ValueError("give at least one reference image")
    array = np.asarray(image)
    cells = []
    for i, j, _ in _cells(array, grid):
        r0, c0, r1, c1 = grid.cell_bounds(i, j)
        crop = array[r0:r1, c0:c1]
        scores = {}
        for name, reference in references.items():
            if np.shape(reference)[0] > crop.shape[0] or np.shape(reference)[1] > crop.shape[1]:
                raise ValueError(
                    f"reference {name!r} {np.shape(reference)[:2]} is larger than "
                    f"the {crop.shape[:2]} cells"
                )
            scores[name] = best_match(crop, reference).score
        name = max(scores, key=scores.__getitem__)
        label = name if scores[name] >= min_score else None
        cells.append(GridCell(i, j, label, 0, float(scores[name])))
    counts = {n: sum(c.label == n for c in cells) for n in references}
    return GridResult(tuple(cells), counts)


def _cells(array: np.ndarray, grid: Grid):
    """Yield (i, j, cell pixels); every cell must lie inside the image."""
    rows, cols = grid.shape
    if rows < 1 or cols < 1 or min(grid.cell_size) < 3:
        raise ValueError("a grid needs at least one row and column of cells 3 px or larger")
    last = grid.cell_bounds(rows - 1, cols - 1)
    if min(grid.origin) < 0 or last[2] > array.shape[0] or last[3] > array.shape[1]:
        raise ValueError(
            f"the grid (to row {last[2]}, col {last[3]}) does not fit in the "
            f"{array.shape[0]}×{array.shape[1]} image"
        )
    for i in range(rows):
        for j in range(cols):
            r0, c0, r1, c1 = grid.cell_bounds(i, j)
            yield i, j, array[r0:r1, c0:c1]
