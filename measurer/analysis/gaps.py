"""Gaps and distances between two regions: per-row margin gaps, closest pair, point to line.

Distances between regions are measured between facing pixel *edges*, not centres: two blobs
ending at column 10 and starting at column 14 are 3 px apart, and two pixels that share an edge
or a corner are 0 apart. Anisotropic pixels are handled by scaling rows and columns before any
Euclidean distance (``row_scale`` = pixel height, ``col_scale`` = pixel width).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from measurer.analysis.blobs import blob_stats, label_blobs
from measurer.analysis.masks import MaskError, as_binary


@dataclass(frozen=True)
class Region:
    """Boundary pixels of one region and its extent in every row it occupies.

    Attributes
    ----------
    boundary : ndarray of int, shape (K, 2)
        ``(row, col)`` of the pixels with a 4-neighbour outside the region, in raster order.
    rows, first_cols, last_cols : ndarray of int, shape (R,)
        Each occupied row with the first and last column of the region in it.
    """

    boundary: np.ndarray
    rows: np.ndarray
    first_cols: np.ndarray
    last_cols: np.ndarray

    @classmethod
    def from_boundary(cls, boundary: np.ndarray) -> Region:
        """Build from boundary pixels sorted by row (row extremes are boundary pixels)."""
        rows, starts = np.unique(boundary[:, 0], return_index=True)
        cols = boundary[:, 1]
        first = np.minimum.reduceat(cols, starts) if len(cols) else cols
        last = np.maximum.reduceat(cols, starts) if len(cols) else cols
        return cls(boundary, rows, first, last)


def _boundary_flags(labels: np.ndarray) -> np.ndarray:
    """Pixels of a label image (0 = background) with a 4-neighbour of another label."""
    padded = np.pad(labels, 1)
    centre = padded[1:-1, 1:-1]
    edge = (
        (padded[:-2, 1:-1] != centre)
        | (padded[2:, 1:-1] != centre)
        | (padded[1:-1, :-2] != centre)
        | (padded[1:-1, 2:] != centre)
    )
    return edge & (centre != 0)


def region_from_mask(mask: np.ndarray) -> Region:
    """The :class:`Region` of a mask's foreground (all of it, one region).

    Raises :class:`~measurer.analysis.masks.MaskError` for a non-binary or non-2D image.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise MaskError(f"a mask must be a 2D image, got an array of shape {mask.shape}")
    if mask.dtype != bool:
        mask = as_binary(mask)
    return Region.from_boundary(np.argwhere(_boundary_flags(mask.view(np.uint8))))


def regions_from_labels(labels: np.ndarray, count: int) -> list[Region]:
    """One :class:`Region` per label ``1..count`` of a label image, in one pass."""
    flags = _boundary_flags(labels)
    coords = np.argwhere(flags)
    owner = labels[flags]
    order = np.argsort(owner, kind="stable")  # keeps raster order within each label
    splits = np.searchsorted(owner[order], np.arange(1, count + 2))
    coords = coords[order]
    return [Region.from_boundary(coords[splits[i] : splits[i + 1]]) for i in range(count)]


@dataclass(frozen=True)
class HorizontalGap:
    """Gap between the facing margins of two regions, row by row, in pixels.

    In each row occupied by both regions, the gap runs from the right edge of the left
    region's last pixel to the left edge of the right region's first pixel:
    ``first_col(right) - last_col(left) - 1`` (0 when they touch). Rows where the two regions'
    column ranges overlap have no gap (NaN).

    Attributes
    ----------
    a_is_left : bool
        Whether region ``a`` is the left one (by the mean centre of its spans in shared rows).
    rows, gaps, left_cols, right_cols : ndarray of shape (k,)
        Shared rows, the gap in each, and the facing pixel columns of the left and right region.
    minimum : float
        Smallest gap; NaN when no shared row is separated.
    min_rows : ndarray of int
        Rows where the minimum occurs.
    row : int or None
        The middle one of ``min_rows`` (index ``(k - 1) // 2``), the row reported in tables.
    """

    a_is_left: bool
    rows: np.ndarray
    gaps: np.ndarray
    left_cols: np.ndarray
    right_cols: np.ndarray
    minimum: float
    min_rows: np.ndarray
    row: int | None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "a_is_left": self.a_is_left,
            "minimum": self.minimum,
            "row": self.row,
            "min_rows": self.min_rows.tolist(),
            "rows": self.rows.tolist(),
            "gaps": self.gaps.tolist(),
            "left_cols": self.left_cols.tolist(),
            "right_cols": self.right_cols.tolist(),
        }


def horizontal_gap_between(a: Region, b: Region) -> HorizontalGap:
    """:class:`HorizontalGap` between two :class:`Region` objects."""
    rows, ia, ib = np.intersect1d(a.rows, b.rows, assume_unique=True, return_indices=True)
    centre_a = np.mean(a.first_cols[ia] + a.last_cols[ia]) if len(rows) else 0.0
    centre_b = np.mean(b.first_cols[ib] + b.last_cols[ib]) if len(rows) else 0.0
    a_is_left = bool(centre_a <= centre_b)
    left, right = (a, b) if a_is_left else (b, a)
    il, ir = (ia, ib) if a_is_left else (ib, ia)
    left_cols, right_cols = left.last_cols[il], right.first_cols[ir]
    gaps = (right_cols - left_cols - 1).astype(float)
    gaps[gaps < 0] = np.nan
    if np.all(np.isnan(gaps)):
        minimum, min_rows, row = float("nan"), np.zeros(0, int), None
    else:
        minimum = float(np.nanmin(gaps))
        min_rows = rows[gaps == minimum]
        row = int(min_rows[(len(min_rows) - 1) // 2])
    return HorizontalGap(a_is_left, rows, gaps, left_cols, right_cols, minimum, min_rows, row)


def horizontal_gap(mask_a: np.ndarray, mask_b: np.ndarray) -> HorizontalGap:
    """Row-by-row gap between the facing margins of two regions (see :class:`HorizontalGap`).

    Parameters
    ----------
    mask_a, mask_b : ndarray of bool, shape (M, N)
        The two regions (e.g. two blobs, or two masks of the same scan). Never modified.
    """
    a, b = _two_regions(mask_a, mask_b)
    return horizontal_gap_between(a, b)


@dataclass(frozen=True)
class ClosestPair:
    """Shortest Euclidean distance between two regions, between facing pixel edges.

    Attributes
    ----------
    distance : float
        In units of the scales (pixels when both are 1); 0 when the regions touch or overlap.
    point_a, point_b : (float, float)
        ``(row, col)`` of the closest points, on the edges or corners of the two pixels, so a
        line between them has length ``distance``.
    pixel_a, pixel_b : (int, int)
        The two pixels the points belong to.
    row_scale, col_scale : float
    """

    distance: float
    point_a: tuple[float, float]
    point_b: tuple[float, float]
    pixel_a: tuple[int, int]
    pixel_b: tuple[int, int]
    row_scale: float = 1.0
    col_scale: float = 1.0

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "distance": self.distance,
            "point_a": list(self.point_a),
            "point_b": list(self.point_b),
            "pixel_a": list(self.pixel_a),
            "pixel_b": list(self.pixel_b),
            "row_scale": self.row_scale,
            "col_scale": self.col_scale,
        }


def _edge_gap(pa: np.ndarray, pb: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Distance between the squares of pixels ``pa`` and ``pb`` (rows of (row, col))."""
    gap = np.maximum(np.abs(pa - pb) - 1, 0) * scale
    return np.hypot(gap[:, 0], gap[:, 1])


def closest_pair_between(
    a: Region, b: Region, *, row_scale: float = 1.0, col_scale: float = 1.0
) -> ClosestPair:
    """:class:`ClosestPair` of two :class:`Region` objects (disjoint; see :func:`closest_pair`)."""
    if not len(a.boundary) or not len(b.boundary):
        raise MaskError("both regions need at least one pixel to measure a distance")
    scale = np.array([row_scale, col_scale], float)
    if np.any(scale <= 0) or not np.all(np.isfinite(scale)):
        raise ValueError(f"scales must be positive and finite, got {row_scale}, {col_scale}")
    tree_b = cKDTree(b.boundary * scale)
    centre, _ = tree_b.query(a.boundary * scale)
    # Two pixel squares are at most one pixel diagonal closer than their centres.
    reach = centre.min() + np.hypot(*scale) + 1e-9 * (1.0 + centre.min())
    near = np.flatnonzero(centre <= reach)
    candidates = tree_b.query_ball_point(a.boundary[near] * scale, reach)
    ia = np.repeat(near, [len(c) for c in candidates])
    ib = np.fromiter((j for c in candidates for j in sorted(c)), dtype=np.intp, count=len(ia))
    dist = _edge_gap(a.boundary[ia], b.boundary[ib], scale)
    best = int(np.argmin(dist))
    pa, pb = a.boundary[ia[best]], b.boundary[ib[best]]
    step = np.sign(pb - pa) * (np.abs(pb - pa) >= 1) * 0.5
    return ClosestPair(
        distance=float(dist[best]),
        point_a=tuple(float(v) for v in pa + step),
        point_b=tuple(float(v) for v in pb - step),
        pixel_a=(int(pa[0]), int(pa[1])),
        pixel_b=(int(pb[0]), int(pb[1])),
        row_scale=float(row_scale),
        col_scale=float(col_scale),
    )


def closest_pair(
    mask_a: np.ndarray, mask_b: np.ndarray, *, row_scale: float = 1.0, col_scale: float = 1.0
) -> ClosestPair:
    """Shortest distance between two regions and where it is (see :class:`ClosestPair`).

    The minimum over all pixel pairs of the distance between their squares, found with a
    k-d tree on the boundary pixels' scaled centres (the distance is exact, not sampled).
    Regions that overlap are 0 apart at their first shared pixel.

    Parameters
    ----------
    mask_a, mask_b : ndarray of bool, shape (M, N)
        Never modified.
    row_scale, col_scale : float
        Pixel height and width; lengths come out in their unit.

    Raises
    ------
    MaskError
        When either region is empty or the shapes differ.
    """
    a, b = _two_regions(mask_a, mask_b)
    shared = np.argwhere(np.logical_and(mask_a, mask_b))
    if len(shared):
        pixel = (int(shared[0, 0]), int(shared[0, 1]))
        point = (float(pixel[0]), float(pixel[1]))
        return ClosestPair(0.0, point, point, pixel, pixel, float(row_scale), float(col_scale))
    return closest_pair_between(a, b, row_scale=row_scale, col_scale=col_scale)


def _two_regions(mask_a: np.ndarray, mask_b: np.ndarray) -> tuple[Region, Region]:
    if np.shape(mask_a) != np.shape(mask_b):
        raise MaskError(f"the two masks differ in size: {np.shape(mask_a)} and {np.shape(mask_b)}")
    a, b = region_from_mask(mask_a), region_from_mask(mask_b)
    for name, region in (("first", a), ("second", b)):
        if not len(region.boundary):
            raise MaskError(f"the {name} region is empty")
    return a, b


@dataclass(frozen=True)
class PointToLine:
    """Perpendicular distance from a point to the line through two points.

    Attributes
    ----------
    distance : float
        Signed, in units of the scales: positive when the point lies below the line on
        screen (towards larger rows; towards larger columns for a vertical line).
    foot : (float, float)
        ``(row, col)`` of the foot of the perpendicular.
    point, line_start, line_end : (float, float)
    """

    distance: float
    foot: tuple[float, float]
    point: tuple[float, float]
    line_start: tuple[float, float]
    line_end: tuple[float, float]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "distance": self.distance,
            "foot": list(self.foot),
            "point": list(self.point),
            "line_start": list(self.line_start),
            "line_end": list(self.line_end),
        }


def _line_frame(
    line_start: Sequence[float], line_end: Sequence[float], scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, unit direction and unit normal (pointing to larger rows) of a scaled line."""
    a, b = (np.asarray(v, float) * scale for v in (line_start, line_end))
    direction = b - a
    length = float(np.hypot(*direction))
    if length == 0:
        raise ValueError("the two points defining the line coincide")
    direction /= length
    normal = np.array([direction[1], -direction[0]])  # (row, col) rotated by 90 degrees
    if normal[0] < 0 or (normal[0] == 0 and normal[1] < 0):
        normal = -normal
    return a, direction, normal


def point_to_line(
    point: Sequence[float],
    line_start: Sequence[float],
    line_end: Sequence[float],
    *,
    row_scale: float = 1.0,
    col_scale: float = 1.0,
) -> PointToLine:
    """Signed perpendicular distance from ``point`` to the line through two points.

    Points are ``(row, col)``; the geometry is computed after scaling rows and columns, so
    the perpendicular is perpendicular in physical space.
    """
    scale = np.array([row_scale, col_scale], float)
    a, direction, normal = _line_frame(line_start, line_end, scale)
    p = np.asarray(point, float) * scale
    foot = (a + np.dot(p - a, direction) * direction) / scale
    return PointToLine(
        float(np.dot(p - a, normal)),
        (float(foot[0]), float(foot[1])),
        tuple(float(v) for v in point),
        tuple(float(v) for v in line_start),
        tuple(float(v) for v in line_end),
    )


@dataclass(frozen=True)
class RegionComparison:
    """Landmarks of region B measured against the margins of region A.

    Attributes
    ----------
    margin_left, margin_right : (int, int)
        ``(row, col)`` of A's margin pixels: with two or more blobs in A, the facing extreme
        pixels of its two largest blobs (the left blob's rightmost and the right blob's
        leftmost); with one blob, its leftmost and rightmost pixels (ties as in
        :class:`~measurer.analysis.blobs.BlobsResult`).
    deepest : (int, int)
        The pixel of B's largest blob farthest below the margin line, measured perpendicular
        to the line in physical space (ties: the middle one in raster order).
    to_line : PointToLine
        From the centre of ``deepest`` to the line through the margins' centres (signed, in
        units of the scales).
    """

    margin_left: tuple[int, int]
    margin_right: tuple[int, int]
    deepest: tuple[int, int]
    to_line: PointToLine

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "margin_left": list(self.margin_left),
            "margin_right": list(self.margin_right),
            "deepest": list(self.deepest),
            "to_line": self.to_line.to_dict(),
        }


def deepest_to_margin_line(
    mask_a: np.ndarray,
    mask_b: np.ndarray,
    *,
    connectivity: int = 8,
    row_scale: float = 1.0,
    col_scale: float = 1.0,
) -> RegionComparison:
    """Depth of region B below the line through the margins of region A.

    For example A = the retina split by a hole and B = the hole (or a cyst): how far the
    deepest point of B lies below the line joining the two hole margins. Two masks of one
    scan, or two classes of one mask (see :func:`~measurer.analysis.masks.as_binary`). See
    :class:`RegionComparison` for the landmarks.

    Raises
    ------
    MaskError
        When A or B is empty, or the shapes differ.
    """
    if np.shape(mask_a) != np.shape(mask_b):
        raise MaskError(f"the two masks differ in size: {np.shape(mask_a)} and {np.shape(mask_b)}")
    blobs_a = blob_stats(mask_a, connectivity=connectivity)
    if not len(blobs_a):
        raise MaskError("region A is empty")
    labels_b = label_blobs(mask_b, connectivity=connectivity)
    areas_b = np.bincount(labels_b.ravel())
    if len(areas_b) < 2:
        raise MaskError("region B is empty")
    if len(blobs_a) >= 2:
        two = np.argsort(-blobs_a.area, kind="stable")[:2]
        left, right = sorted(two, key=lambda i: blobs_a.centroid[i, 1])
        margins = blobs_a.rightmost[left], blobs_a.leftmost[right]
    else:
        margins = blobs_a.leftmost[0], blobs_a.rightmost[0]
    start, end = (tuple(int(v) for v in m) for m in margins)
    largest = int(np.argmax(areas_b[1:])) + 1
    pixels = region_from_mask(labels_b == largest).boundary
    scale = np.array([row_scale, col_scale], float)
    a, _, normal = _line_frame(start, end, scale)
    depth = (pixels * scale - a) @ normal
    tied = pixels[depth >= depth.max() - 1e-9 * max(1.0, abs(depth.max()))]
    deepest = tuple(int(v) for v in tied[(len(tied) - 1) // 2])
    line = point_to_line(deepest, start, end, row_scale=row_scale, col_scale=col_scale)
    return RegionComparison(start, end, deepest, line)
