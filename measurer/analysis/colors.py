"""Colour objects and tile grids: posterise, classify by colour, count per class.

Colours are compared in CIE L*a*b* with the lightness down-weighted, so shading (which mostly
changes lightness) matters less than hue and saturation. Free mode smooths the image (Gaussian or
mean-shift filtering), posterises it with k-means or assigns every pixel to the nearest given class
colour, separates the background and counts connected objects per class. Grid mode classifies
each cell against its own border, so every cell may have a different background; a cell can also
be matched against reference images.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
from scipy import ndimage as ndi

from measurer.analysis.templates import best_match

#: Colour distance (Lab units) below which an object does not stand out from its cell's border.
_MIN_CONTRAST = 10.0
_KMEANS_SAMPLES = 20_000


@dataclass(frozen=True)
class ColorObject:
    """One connected object of one colour class (pixel units; points as (row, col))."""

    label: str
    area: int
    centroid: tuple[float, float]
    bbox: tuple[int, int, int, int]  # first row, first col, rows, cols

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ColorObjectsResult:
    """Objects, best-first by area within each class; ``palette`` the RGB of each class."""

    objects: tuple[ColorObject, ...]
    counts: dict[str, int]
    palette: dict[str, tuple[float, float, float]]
    labels: np.ndarray = field(repr=False, compare=False)  # class per pixel, -1 background

    def to_dict(self) -> dict[str, Any]:
        return {
            "objects": [o.to_dict() for o in self.objects],
            "counts": dict(self.counts),
            "palette": {k: list(v) for k, v in self.palette.items()},
        }


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


def find_color_objects(
    image: np.ndarray,
    *,
    k: int | None = None,
    classes: Mapping[str, tuple[float, float, float]] | None = None,
    min_area: int = 20,
    smoothing: float = 1.5,
    method: str = "kmeans",
    lightness_weight: float = 0.5,
    seed: int = 0,
) -> ColorObjectsResult:
    """Objects of each colour class as connected components, and their counts.

    The background is learned from the image border (a ring 1 % of the image wide, which must
    show mostly background): four k-means colours of it, and the 95th percentile of the ring's
    distances to them. Pixels further from every background colour than three times that
    spread (and at least ``_MIN_CONTRAST`` Lab units) stand out as objects.

    Parameters
    ----------
    image : ndarray of shape (M, N, 3) or (M, N)
        RGB (a 4th channel is ignored) or grey, any numeric dtype. Never modified.
    k : int, optional
        Number of object colour classes to find automatically, named ``c0``, ``c1``, … in
        order of hue: k-means of the colours of the pixels that stand out from the background.
    classes : mapping of str to (R, G, B), optional
        Named class colours in the image's own pixel values; each pixel that stands out from
        the background takes the nearest.
    min_area : int
        Smallest object kept, in pixels.
    smoothing : float
        Gaussian sigma (pixels) before posterising; with ``method="meanshift"``, the spatial
        radius of mean-shift filtering is ``4 × smoothing``.
    method : {"kmeans", "meanshift"}
        Smoothing by Gaussian blur, or by mean-shift filtering (flattens texture, keeps edges).
    lightness_weight : float
        Weight of L* against a*, b* in colour distances (below 1 tolerates shading).
    seed : int
        Seed of the k-means initialisation (results are deterministic).

    Returns
    -------
    ColorObjectsResult
        Objects are 8-connected, with holes filled and one-pixel fringes opened away.
    """
    if (k is None) == (classes is None):
        raise ValueError("give either k (automatic classes) or classes (named colours)")
    if min_area < 1 or smoothing < 0 or not 0 < lightness_weight <= 1:
        raise ValueError("min_area must be >= 1, smoothing >= 0, 0 < lightness_weight <= 1")
    if method not in ("kmeans", "meanshift"):
        raise ValueError(f"method must be 'kmeans' or 'meanshift', got {method!r}")
    rgb, scale = _rgb(image)
    rgb = _smooth(rgb, smoothing, method)
    features = _features(rgb, lightness_weight)
    rng = np.random.default_rng(seed)
    ring = features[_border_ring(rgb.shape[:2])]
    background = _kmeans(ring, 4, rng)
    spread = np.percentile(_distance(ring, background), 95)
    flat = features.reshape(-1, 3)
    to_background = _distance(flat, background)
    foreground = to_background > max(_MIN_CONTRAST, 3 * spread)
    if classes is not None:
        names = list(classes)
        colors = _class_colors(classes, scale)
        labels = _assign(
            flat, foreground, to_background, _features(colors[None], lightness_weight)[0]
        )
    else:
        if int(k) < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        names = [f"c{i}" for i in range(int(k))]
        if foreground.sum() < int(k):
            raise ValueError(
                f"too few pixels stand out from the background (the colours along the image "
                f"border) for k = {k} classes"
            )
        # Cluster object interiors only: edge pixels mix object and background colours.
        core = ndi.binary_erosion(foreground.reshape(rgb.shape[:2]), np.ones((5, 5), bool))
        centres = _kmeans(flat[core.ravel() if core.sum() >= int(k) else foreground], int(k), rng)
        labels = _assign(flat, foreground, to_background, centres[_hue_order(centres)])
        pixels = rgb.reshape(-1, 3)
        colors = np.array(
            [
                pixels[labels == i].mean(axis=0) if (labels == i).any() else np.zeros(3)
                for i in range(int(k))
            ]
        )
    labels = labels.reshape(rgb.shape[:2])
    labels, objects = _components(labels, names, min_area)
    counts = {name: sum(o.label == name for o in objects) for name in names}
    palette = {n: tuple(float(v) for v in c * scale) for n, c in zip(names, colors, strict=True)}
    return ColorObjectsResult(tuple(objects), counts, palette, labels)


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
    ring's own 95th-percentile spread (and at least ``_MIN_CONTRAST`` Lab units) are object; the
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
    rgb, scale = _rgb(image)
    features = _features(_smooth(rgb, smoothing, "kmeans"), lightness_weight)
    found: list[tuple[int, int, int, np.ndarray | None]] = []
    for i, j, cell in _cells(features, grid):
        ring_width = max(2, round(0.1 * min(cell.shape[:2]))) if border is None else int(border)
        if 2 * ring_width >= min(cell.shape[:2]):
            raise ValueError(f"border {ring_width} px leaves nothing inside {cell.shape[:2]} cells")
        ring = _border_ring(cell.shape[:2], ring_width)
        reference = np.median(cell[ring], axis=0)
        spread = np.percentile(np.linalg.norm(cell[ring] - reference, axis=1), 95)
        distance = np.linalg.norm(cell - reference, axis=2)
        mask = (distance > max(_MIN_CONTRAST, 3 * spread)) & ~ring
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
        targets = _features(_class_colors(classes, scale)[None], lightness_weight)[0]
        assigned = _nearest(colors, targets) if colors.size else np.empty(0, int)
    else:
        names = [f"c{i}" for i in range(int(k))]
        if colors.shape[0] < int(k):
            raise ValueError(f"only {colors.shape[0]} occupied cells for k = {k} classes")
        centres = _kmeans(colors, int(k), np.random.default_rng(seed))
        order = np.argsort(_hue_order(centres))
        assigned = order[_nearest(colors, centres)]
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


def _assign(
    flat: np.ndarray, foreground: np.ndarray, to_background: np.ndarray, centres: np.ndarray
) -> np.ndarray:
    """Class of each foreground pixel nearer to a class colour than to the background; else -1.

    The second condition puts object edges half-way between object and background colours,
    whatever the contrast, so areas are not inflated by the blended edge pixels.
    """
    labels = np.full(flat.shape[0], -1)
    index, to_class = _nearest(flat[foreground], centres, distances=True)
    closer = to_class < to_background[foreground]
    labels[np.flatnonzero(foreground)[closer]] = index[closer]
    return labels


def _rgb(image: np.ndarray) -> tuple[np.ndarray, float]:
    """RGB float32 in [0, 1] and the factor from the image's own values to it."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4) or min(array.shape[:2]) < 3:
        raise ValueError(f"image must be (rows, cols) or (rows, cols, 3), got {np.shape(image)}")
    array = array[..., :3] if array.shape[2] >= 3 else np.repeat(array[..., :1], 3, axis=2)
    if np.issubdtype(array.dtype, np.integer):
        scale = float(np.iinfo(array.dtype).max)
    elif array.dtype == bool or np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError("image contains NaN or infinite values")
        scale = max(1.0, float(array.max()))
    else:
        raise ValueError(f"image must hold numbers, got {array.dtype}")
    return np.clip(array.astype(np.float32) / scale, 0, 1), scale


def _smooth(rgb: np.ndarray, smoothing: float, method: str) -> np.ndarray:
    if method == "meanshift":
        eight_bit = (rgb * 255).round().astype(np.uint8)
        radius = max(2.0, 4 * smoothing)
        return cv2.pyrMeanShiftFiltering(eight_bit, radius, 20).astype(np.float32) / 255
    return cv2.GaussianBlur(rgb, (0, 0), smoothing) if smoothing > 0 else rgb


def _features(rgb: np.ndarray, lightness_weight: float) -> np.ndarray:
    """L*a*b* with L* scaled by ``lightness_weight`` (float32, same leading shape)."""
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2Lab)
    lab[..., 0] *= lightness_weight
    return lab


def _class_colors(classes: Mapping[str, tuple[float, float, float]], scale: float) -> np.ndarray:
    if not classes:
        raise ValueError("give at least one class colour")
    colors = np.array([tuple(c) for c in classes.values()], dtype=np.float64)
    if colors.shape[1:] != (3,) or not np.isfinite(colors).all() or (colors < 0).any():
        raise ValueError("class colours must be three non-negative numbers (R, G, B)")
    return np.clip(colors / scale, 0, 1).astype(np.float32)


def _border_ring(shape: tuple[int, int], width: int | None = None) -> np.ndarray:
    width = max(2, round(0.01 * min(shape))) if width is None else width
    ring = np.ones(shape, dtype=bool)
    ring[width:-width, width:-width] = False
    return ring


def _kmeans(samples: np.ndarray, n: int, rng: np.random.Generator, tries: int = 5) -> np.ndarray:
    """k-means centres of a random subsample: best of ``tries`` k-means++ starts from ``rng``."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1, 3)
    if samples.shape[0] > _KMEANS_SAMPLES:
        samples = samples[rng.choice(samples.shape[0], _KMEANS_SAMPLES, replace=False)]
    if samples.shape[0] < n:
        raise ValueError(f"{samples.shape[0]} pixels cannot make {n} colour clusters")
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 100, 1e-3)
    best = (np.inf, None)
    for _ in range(tries):
        centres = [samples[rng.integers(samples.shape[0])]]
        for _ in range(1, n):
            d2 = _distance(samples, np.array(centres)) ** 2
            pick = rng.choice(samples.shape[0], p=d2 / d2.sum()) if d2.sum() > 0 else 0
            centres.append(samples[pick])
        start = _nearest(samples, np.array(centres)).astype(np.int32).reshape(-1, 1)
        flags = cv2.KMEANS_USE_INITIAL_LABELS
        compactness, _, result = cv2.kmeans(samples, n, start, criteria, 1, flags)
        best = min(best, (compactness, result), key=lambda pair: pair[0])
    return best[1]


def _distance(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Distance from each point to its nearest centre."""
    return _nearest(points, centres, distances=True)[1]


def _nearest(points: np.ndarray, centres: np.ndarray, distances: bool = False):
    """Index of the nearest centre for each point (and the distance to it), in chunks."""
    points = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    centres = np.asarray(centres, dtype=np.float32)
    index = np.empty(points.shape[0], dtype=np.intp)
    nearest = np.empty(points.shape[0], dtype=np.float32)
    for start in range(0, points.shape[0], 1 << 20):
        chunk = points[start : start + (1 << 20)]
        d2 = (chunk**2).sum(1)[:, None] - 2 * chunk @ centres.T + (centres**2).sum(1)[None, :]
        index[start : start + chunk.shape[0]] = d2.argmin(axis=1)
        nearest[start : start + chunk.shape[0]] = np.sqrt(np.clip(d2.min(axis=1), 0, None))
    return (index, nearest) if distances else index


def _hue_order(centres: np.ndarray) -> np.ndarray:
    """Order of colour centres by hue angle in the a*b* plane, from red through yellow."""
    return np.argsort(np.mod(np.arctan2(centres[:, 2], centres[:, 1]), 2 * np.pi), kind="stable")


def _components(labels: np.ndarray, names: list[str], min_area: int):
    """Objects per class (holes filled, opened by 3×3), and the cleaned label image."""
    cleaned = np.full(labels.shape, -1, dtype=np.int32)
    objects = []
    for index, name in enumerate(names):
        mask = ndi.binary_opening(labels == index, np.ones((3, 3), bool))
        mask = ndi.binary_fill_holes(mask).astype(np.uint8)
        n, components, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for c in np.argsort(-stats[1:, cv2.CC_STAT_AREA], kind="stable") + 1:
            left, top, width, height, area = stats[c]
            if area < min_area:
                break
            cleaned[components == c] = index
            objects.append(
                ColorObject(
                    name,
                    int(area),
                    (float(centroids[c][1]), float(centroids[c][0])),
                    (int(top), int(left), int(height), int(width)),
                )
            )
        del n
    return cleaned, objects


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
