"""Colour objects and tile grids: posterise, classify by colour, count per class.

Colours are compared in CIE L*a*b* with the lightness down-weighted, so shading (which mostly
changes lightness) matters less than hue and saturation. Free mode smooths the image (Gaussian or
mean-shift filtering), posterises it with k-means or assigns every pixel to the nearest given class
colour, separates the background and counts connected objects per class. Grid mode classifies
each cell against its own border, so every cell may have a different background; a cell can also
be matched against reference images (grid mode lives in :mod:`measurer.analysis.color_grid`
and is re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
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
    nearest_distance,
    smooth,
    unit_rgb,
)
from measurer.analysis.color_grid import Grid, GridCell, GridResult, classify_grid, match_grid

__all__ = [
    "ColorObject",
    "ColorObjectsResult",
    "Grid",
    "GridCell",
    "GridResult",
    "classify_grid",
    "find_color_objects",
    "match_grid",
]

#: With an explicit background, automatic classes are clustered from the pixels at least this
#: far (Lab units) from every background colour: twice the contrast an object pixel needs.
#: Tissue texture around the picked colour and the blended rims of objects (half-way between
#: object and background) stay below it, so the clusters describe object interiors only.
CLUSTER_CONTRAST = 2 * MIN_CONTRAST


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


def find_color_objects(
    image: np.ndarray,
    *,
    k: int | None = None,
    classes: Mapping[str, tuple[float, float, float]] | None = None,
    background: Sequence[tuple[float, float, float]] | None = None,
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
    spread (and at least ``MIN_CONTRAST`` Lab units) stand out as objects. When the field is
    filled to its edges (stained tissue, say), give the ``background`` colours instead.

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
    background : sequence of (R, G, B), optional
        Background colours in the image's own pixel values, used instead of the image border.
        A pixel is an object pixel when it is at least ``MIN_CONTRAST`` from every background
        colour and nearer to a class colour than to any of them. Automatic classes are
        clustered from the pixels at least ``CLUSTER_CONTRAST`` from every background colour.
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
    rgb, scale = unit_rgb(image)
    rgb = smooth(rgb, smoothing, method)
    features = lab_features(rgb, lightness_weight)
    rng = np.random.default_rng(seed)
    flat = features.reshape(-1, 3)
    if background is None:
        ring = features[border_ring(rgb.shape[:2])]
        centres = kmeans(ring, 4, rng)
        spread = np.percentile(nearest_distance(ring, centres), 95)
        to_background = nearest_distance(flat, centres)
        foreground = to_background > max(MIN_CONTRAST, 3 * spread)
        clustered, source = foreground, "the colours along the image border"
    else:
        colours = _background_colours(background, scale)
        to_background = nearest_distance(flat, lab_features(colours[None], lightness_weight)[0])
        foreground = to_background >= MIN_CONTRAST
        clustered, source = to_background >= CLUSTER_CONTRAST, "the background colours"
    if classes is not None:
        names = list(classes)
        colors = class_colors(classes, scale)
        labels = _assign(
            flat, foreground, to_background, lab_features(colors[None], lightness_weight)[0]
        )
    else:
        if int(k) < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        names = [f"c{i}" for i in range(int(k))]
        if clustered.sum() < int(k):
            raise ValueError(
                f"too few pixels stand out from the background ({source}) for k = {k} classes"
            )
        # Cluster object interiors only: edge pixels mix object and background colours.
        core = ndi.binary_erosion(clustered.reshape(rgb.shape[:2]), np.ones((5, 5), bool))
        centres = kmeans(flat[core.ravel() if core.sum() >= int(k) else clustered], int(k), rng)
        labels = _assign(flat, foreground, to_background, centres[hue_order(centres)])
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


def _background_colours(background: Sequence, scale: float) -> np.ndarray:
    """The background colours as RGB 0-1 (float32), checked."""
    try:
        colours = np.array([tuple(c) for c in background], dtype=np.float64)
    except (TypeError, ValueError):
        colours = np.empty(0)
    if colours.ndim != 2 or colours.shape[0] == 0 or colours.shape[1] != 3:
        raise ValueError("background must be one or more colours (R, G, B)")
    if not np.isfinite(colours).all() or (colours < 0).any():
        raise ValueError("background colours must be three non-negative numbers (R, G, B)")
    return np.clip(colours / scale, 0, 1).astype(np.float32)


def _assign(
    flat: np.ndarray, foreground: np.ndarray, to_background: np.ndarray, centres: np.ndarray
) -> np.ndarray:
    """Class of each foreground pixel nearer to a class colour than to the background; else -1.

    The second condition puts object edges half-way between object and background colours,
    whatever the contrast, so areas are not inflated by the blended edge pixels.
    """
    labels = np.full(flat.shape[0], -1)
    index, to_class = nearest_centre(flat[foreground], centres, distances=True)
    closer = to_class < to_background[foreground]
    labels[np.flatnonzero(foreground)[closer]] = index[closer]
    return labels


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
