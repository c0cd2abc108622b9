"""Colour features shared by colour objects and tile grids.

RGB normalisation, smoothing, CIE L*a*b* features with the lightness down-weighted, k-means
clustering, nearest class colour and hue order; used by :mod:`measurer.analysis.colors` and
:mod:`measurer.analysis.color_grid`.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

#: Colour distance (Lab units) below which an object does not stand out from its cell's border.
MIN_CONTRAST = 10.0
_KMEANS_SAMPLES = 20_000


def unit_rgb(image: np.ndarray) -> tuple[np.ndarray, float]:
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


def smooth(rgb: np.ndarray, smoothing: float, method: str) -> np.ndarray:
    if method == "meanshift":
        eight_bit = (rgb * 255).round().astype(np.uint8)
        radius = max(2.0, 4 * smoothing)
        return cv2.pyrMeanShiftFiltering(eight_bit, radius, 20).astype(np.float32) / 255
    return cv2.GaussianBlur(rgb, (0, 0), smoothing) if smoothing > 0 else rgb


def lab_features(rgb: np.ndarray, lightness_weight: float) -> np.ndarray:
    """L*a*b* with L* scaled by ``lightness_weight`` (float32, same leading shape)."""
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2Lab)
    lab[..., 0] *= lightness_weight
    return lab


def class_colors(classes: Mapping[str, tuple[float, float, float]], scale: float) -> np.ndarray:
    if not classes:
        raise ValueError("give at least one class colour")
    colors = np.array([tuple(c) for c in classes.values()], dtype=np.float64)
    if colors.shape[1:] != (3,) or not np.isfinite(colors).all() or (colors < 0).any():
        raise ValueError("class colours must be three non-negative numbers (R, G, B)")
    return np.clip(colors / scale, 0, 1).astype(np.float32)


def border_ring(shape: tuple[int, int], width: int | None = None) -> np.ndarray:
    width = max(2, round(0.01 * min(shape))) if width is None else width
    ring = np.ones(shape, dtype=bool)
    ring[width:-width, width:-width] = False
    return ring


def kmeans(samples: np.ndarray, n: int, rng: np.random.Generator, tries: int = 5) -> np.ndarray:
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
            d2 = nearest_distance(samples, np.array(centres)) ** 2
            pick = rng.choice(samples.shape[0], p=d2 / d2.sum()) if d2.sum() > 0 else 0
            centres.append(samples[pick])
        start = nearest_centre(samples, np.array(centres)).astype(np.int32).reshape(-1, 1)
        flags = cv2.KMEANS_USE_INITIAL_LABELS
        compactness, _, result = cv2.kmeans(samples, n, start, criteria, 1, flags)
        best = min(best, (compactness, result), key=lambda pair: pair[0])
    return best[1]


def nearest_distance(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Distance from each point to its nearest centre."""
    return nearest_centre(points, centres, distances=True)[1]


def nearest_centre(points: np.ndarray, centres: np.ndarray, distances: bool = False):
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


def hue_order(centres: np.ndarray) -> np.ndarray:
    """Order of colour centres by hue angle in the a*b* plane, from red through yellow."""
    return np.argsort(np.mod(np.arctan2(centres[:, 2], centres[:, 1]), 2 * np.pi), kind="stable")
