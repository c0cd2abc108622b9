"""Blob statistics of a binary mask: area, perimeter, centroid, box, extreme points, outline.

Everything is computed for all blobs at once from OpenCV's connected components and outer
contours with vectorised numpy (no Python loop per blob; the pixel sides of the contours come
from :func:`measurer.analysis.outlines.contour_edges`); with 8-connectivity the contours are
traced on a helper thread while OpenCV labels the mask (both release the GIL; unless OpenCV is
set to one thread, ``cv2.setNumThreads(1)``), so 10,000+ blobs on an 8192 x 8192 mask cost
about as much as OpenCV's own labelling with statistics (``bench/bench_blobs.py``).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import cv2
import numpy as np

from measurer.analysis.blob_outlines import trace_outlines
from measurer.analysis.masks import MaskError, as_binary, is_binary
from measurer.analysis.outlines import loop_order

_CUT = 2.0 - np.sqrt(2.0)  # length saved by cutting one pixel corner (ImageJ)
_CHUNK = 4_000_000  # pixels examined per batch when looking for extreme points


@dataclass(frozen=True)
class ScaledBlobs:
    """Blob measures in physical units: arrays of shape (n,), ``centroid`` (n, 2) as
    ``(row * row_scale, col * col_scale)``, ``bbox_size`` (n, 2) as box height and width."""

    row_scale: float
    col_scale: float
    area: np.ndarray
    perimeter: np.ndarray
    equivalent_diameter: np.ndarray
    centroid: np.ndarray
    bbox_size: np.ndarray

    def to_dict(self) -> dict:
        """JSON-ready form: one list per measure, blob by blob."""
        return _plain(self)


@dataclass(frozen=True)
class BlobsResult:
    """Connected components of a mask with their geometry, in pixel units.

    Blob ``i`` has label ``labels[i] == i + 1``; blobs are numbered in raster order of their
    first pixel (top row first, then left to right), as ImageJ's Analyze Particles numbers them.
    Points are ``(row, col)`` with pixel centres at integers.

    Attributes
    ----------
    image_shape : (int, int)
    connectivity : int
        4 or 8.
    labels : ndarray of int, shape (n,)
    area : ndarray of int, shape (n,)
        Number of foreground pixels; holes are not counted.
    perimeter : ndarray of float, shape (n,)
        ImageJ's traced perimeter: the outer boundary (holes ignored) traced along pixel edges,
        counting each edge as 1 and subtracting ``2 - sqrt(2)`` for every corner ImageJ counts
        (every corner ending a side longer than one pixel, and every other corner along runs of
        one-pixel sides, starting from the first pixel). A single pixel measures 2.83, a
        10 x 4 rectangle 25.66. Identical to ImageJ's ``Perim.`` for 8-connected blobs.
    centroid : ndarray of float, shape (n, 2)
        Mean ``(row, col)`` of the blob's pixels.
    bbox : ndarray of int, shape (n, 4)
        ``(row, col, rows, cols)``: first row and column, height and width.
    leftmost, rightmost, topmost, bottommost : ndarray of int, shape (n, 2)
        Extreme pixels ``(row, col)``: the blob's pixels in its first/last column or row (the
        bottommost is the deepest). Ties are broken by taking the middle one of the tied
        pixels in order along that column or row: with ``k`` tied pixels, the one at index
        ``(k - 1) // 2`` counted from the top (leftmost, rightmost) or from the left
        (topmost, bottommost).
    equivalent_diameter : ndarray of float, shape (n,)
        Diameter of the disc with the same area, ``sqrt(4 * area / pi)``.
    touches_edge : ndarray of bool, shape (n,)
        True when the blob has a pixel in the first or last row or column of the image (its
        size may be cut off).
    perimeter_steps : ndarray of int, shape (n, 3)
        Horizontal edges, vertical edges and cut corners of the traced perimeter, for
        calibrated perimeters with anisotropic pixels.
    outline_vertices : ndarray of float, shape (K, 2), or None
        With ``blob_stats(..., outlines=True)``: the corners of every blob's outer outline
        polygon (holes enclosed), ``(row, col)`` on pixel edges (half-integers), in ImageJ's
        wand order; blob ``i`` has rows ``outline_offsets[i]:outline_offsets[i + 1]``. For
        8-connectivity the outline of blob ``i`` is exactly
        :func:`~measurer.analysis.outlines.mask_outline_polygon` of ``labels == i + 1``; for
        4-connectivity the outline also crosses where the blob touches itself at a corner, so
        background reached only through such a corner is enclosed as well.
    outline_offsets : ndarray of int, shape (n + 1,), or None
    """

    image_shape: tuple[int, int]
    connectivity: int
    labels: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    centroid: np.ndarray
    bbox: np.ndarray
    leftmost: np.ndarray
    rightmost: np.ndarray
    topmost: np.ndarray
    bottommost: np.ndarray
    equivalent_diameter: np.ndarray
    touches_edge: np.ndarray
    perimeter_steps: np.ndarray
    outline_vertices: np.ndarray | None = None
    outline_offsets: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def outline(self, index: int) -> np.ndarray:
        """Outline polygon ``(K, 2)`` of blob ``index`` (0-based; label ``index + 1``)."""
        if self.outline_vertices is None or self.outline_offsets is None:
            raise ValueError("outlines were not computed: use blob_stats(..., outlines=True)")
        return self.outline_vertices[self.outline_offsets[index] : self.outline_offsets[index + 1]]

    def scaled(self, row_scale: float, col_scale: float) -> ScaledBlobs:
        """Measures in physical units for pixels of ``row_scale`` x ``col_scale``.

        Areas are pixel counts times ``row_scale * col_scale``; perimeters scale each
        horizontal edge by ``col_scale``, each vertical edge by ``row_scale`` and each cut
        corner by ``col_scale + row_scale - hypot(col_scale, row_scale)`` (as ImageJ does);
        equivalent diameters come from the calibrated area.
        """
        rs, cs = float(row_scale), float(col_scale)
        if not (np.isfinite(rs) and np.isfinite(cs) and rs > 0 and cs > 0):
            raise ValueError(f"scales must be positive and finite, got {row_scale}, {col_scale}")
        area = self.area * (rs * cs)
        steps = self.perimeter_steps
        perimeter = steps[:, 0] * cs + steps[:, 1] * rs - steps[:, 2] * (rs + cs - np.hypot(rs, cs))
        return ScaledBlobs(
            row_scale=rs,
            col_scale=cs,
            area=area,
            perimeter=perimeter,
            equivalent_diameter=np.sqrt(4.0 * area / np.pi),
            centroid=self.centroid * np.array([rs, cs]),
            bbox_size=self.bbox[:, 2:4] * np.array([rs, cs]),
        )

    def to_dict(self) -> dict:
        """JSON-ready form: one list per measure, blob by blob (outlines left out)."""
        return _plain(self, skip=("outline_vertices", "outline_offsets"))


def _plain(result, skip: tuple[str, ...] = ()) -> dict:
    """Fields of a result dataclass as JSON-ready values (arrays become lists)."""
    out = {}
    for field in fields(result):
        value = getattr(result, field.name)
        if field.name not in skip:
            out[field.name] = value.tolist() if isinstance(value, np.ndarray) else value
    return out


def _mask_u8(mask: np.ndarray) -> np.ndarray:
    """A uint8 view or copy of a binary mask (nonzero = foreground) for OpenCV."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise MaskError(f"a mask must be a 2D image, got an array of shape {mask.shape}")
    if mask.dtype == bool:
        return np.ascontiguousarray(mask).view(np.uint8)
    if mask.dtype == np.uint8 and is_binary(mask):
        return np.ascontiguousarray(mask)
    return as_binary(mask).view(np.uint8)  # raises MaskError for a non-binary image


def _check_options(connectivity: int, min_area: int) -> None:
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    if min_area < 1 or int(min_area) != min_area:
        raise ValueError(f"min_area must be a positive whole number of pixels, got {min_area!r}")


def _side_hits(
    labels: np.ndarray, ids: np.ndarray, stats: np.ndarray, sides: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """First and middle pixel of each blob along the sides of its bounding box.

    Side ``s`` (0 top, 1 bottom, 2 left, 3 right; the first ``sides`` of them) of blob ``i``
    is scanned left to right or top to bottom; returns ``(first, middle)`` arrays of shape
    (sides, n): the column (top, bottom) or row (left, right) of the first and of the middle
    pixel labelled ``ids[i]`` (index ``(k - 1) // 2`` of ``k``). Batched so that no batch
    holds more than ``_CHUNK`` pixels.
    """
    width = labels.shape[1]
    flat_labels = labels.reshape(-1)
    x, y, w, h = (stats[:, i].astype(np.intp) for i in range(4))
    starts = [y * width + x, (y + h - 1) * width + x, y * width + x, y * width + x + w - 1]
    lengths, strides = [w, w, h, h], [1, 1, width, width]
    first = np.empty((sides, len(ids)), dtype=np.intp)
    middle = np.empty((sides, len(ids)), dtype=np.intp)
    for side in range(sides):
        length = lengths[side]
        bounds = np.searchsorted(np.cumsum(length), np.arange(_CHUNK, length.sum(), _CHUNK))
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(ids)], strict=True):
            size = length[lo:hi]
            offsets = np.cumsum(size) - size
            step = np.arange(size.sum()) - np.repeat(offsets, size)
            flat = np.repeat(starts[side][lo:hi], size) + step * strides[side]
            hits = np.flatnonzero(flat_labels[flat] == np.repeat(ids[lo:hi], size))
            count = np.bincount(np.searchsorted(offsets, hits, side="right") - 1, minlength=hi - lo)
            start = np.cumsum(count) - count
            first[side, lo:hi] = step[hits[start]]
            middle[side, lo:hi] = step[hits[start + (count - 1) // 2]]
    base = np.stack([x, x, y, y])[:sides]
    return first + base, middle + base


def _label(mask8: np.ndarray, connectivity: int, min_area: int) -> tuple:
    """OpenCV labels, label count, and the labels, stats and centroids of the kept blobs.

    With 8-connectivity the mask is first labelled with 16-bit labels: OpenCV labels those on
    one thread, at less than half the CPU time of its 32-bit labelling split over threads and
    in less wall time too (``bench/bench_blobs.py``); a mask with more blobs than 16 bits can
    number makes OpenCV stop with an error, and is labelled again with 32-bit labels.
    """
    if connectivity == 8:
        with contextlib.suppress(cv2.error):
            return _kept(
                *cv2.connectedComponentsWithStats(mask8, connectivity=8, ltype=cv2.CV_16U), min_area
            )
    return _kept(
        *cv2.connectedComponentsWithStats(mask8, connectivity=connectivity, ltype=cv2.CV_32S),
        min_area,
    )


def _kept(
    count: int, labels: np.ndarray, stats: np.ndarray, centroids: np.ndarray, min_area: int
) -> tuple:
    """:func:`_label`'s result from OpenCV's, keeping the blobs of at least ``min_area``."""
    ids = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_area)
    ids = ids[ids != 0]
    return labels, count, ids, stats[ids], centroids[ids]


def blob_stats(
    mask: np.ndarray, *, connectivity: int = 8, min_area: int = 1, outlines: bool = False
) -> BlobsResult:
    """Connected components of a binary mask with their geometry.

    Parameters
    ----------
    mask : ndarray of shape (M, N)
        Boolean, or a binary image (zero and one other value). Never modified.
    connectivity : {8, 4}
        8: pixels touching at a corner are connected (ImageJ's Analyze Particles); 4: only
        pixels sharing an edge.
    min_area : int
        Smallest blob kept, in pixels. Kept blobs are numbered consecutively.
    outlines : bool
        Also return every blob's outline polygon (see :meth:`BlobsResult.outline`).

    Returns
    -------
    BlobsResult
        Pixel units; points as (row, col). An empty mask gives a result with no blobs.

    Raises
    ------
    MaskError
        For a non-binary image (e.g. a grey image passed as a mask) or a non-2D array.
    """
    _check_options(connectivity, min_area)
    mask8 = _mask_u8(mask)
    height, width = mask8.shape
    if connectivity == 8 and cv2.getNumThreads() > 1:
        # OpenCV releases the GIL: trace outlines while labelling (not when OpenCV may use
        # one thread only, as in the worker processes of a batch, which share the cores).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="measurer-outlines") as pool:
            tracing = pool.submit(trace_outlines, mask8, None, outlines)
            labels, count, ids, stats, centroids = _label(mask8, connectivity, min_area)
            traced = tracing.result()
    else:
        labels, count, ids, stats, centroids = _label(mask8, connectivity, min_area)
        source, by_label = (mask8, None) if connectivity == 8 else (labels, labels)
        traced = trace_outlines(source, by_label, outlines)
    first, chain_steps, vx, vy, vertex_chain = traced

    # Match outlines to blobs (by their first pixel) and number the blobs in raster order of
    # that pixel, as ImageJ does (OpenCV's block-based labelling numbers them otherwise).
    index_of = np.full(count, -1, np.intp)
    index_of[ids] = np.arange(len(ids))
    blob_of_chain = index_of[labels.reshape(-1)[first]]  # -1: a blob under min_area
    kept = np.flatnonzero(blob_of_chain >= 0)
    chain_of_blob = np.empty(len(ids), np.intp)
    chain_of_blob[blob_of_chain[kept]] = kept
    order = np.argsort(first[chain_of_blob], kind="stable")
    chains = chain_of_blob[order]
    n = len(chains)
    x, y, w, h, area = (stats[order, i].astype(np.intp) for i in range(5))
    top_mid, bottom_mid, left_mid, right_mid = _side_hits(labels, ids[order], stats[order])[1]
    steps = chain_steps[chains]
    vertices, outline_offsets = None, None
    if outlines:
        # Each outline's corners are contiguous: move the blocks into blob order.
        sizes = np.bincount(vertex_chain, minlength=len(first))
        moved = sizes[chains]
        starts = (np.cumsum(sizes) - sizes)[chains]
        index = np.repeat(starts - (np.cumsum(moved) - moved), moved) + np.arange(moved.sum())
        vy, vx = vy[index], vx[index]
        index = loop_order(vy, vx, moved, clockwise=True, top_left_at=-2)  # ImageJ's wand order
        # Lattice corner (x, y) is (row, col) = (y - 0.5, x - 0.5) with centres at integers.
        vertices = np.stack([vy[index], vx[index]], axis=1) - 0.5
        outline_offsets = np.r_[0, np.cumsum(moved)]

    result_arrays = {
        "labels": np.arange(1, n + 1),
        "area": area,
        "perimeter": steps[:, 0] + steps[:, 1] - steps[:, 2] * _CUT,
        "centroid": centroids[order, ::-1].copy(),
        "bbox": np.stack([y, x, h, w], axis=1),
        "leftmost": np.stack([left_mid, x], axis=1),
        "rightmost": np.stack([right_mid, x + w - 1], axis=1),
        "topmost": np.stack([y, top_mid], axis=1),
        "bottommost": np.stack([y + h - 1, bottom_mid], axis=1),
        "equivalent_diameter": np.sqrt(4.0 * area / np.pi),
        "touches_edge": (x == 0) | (y == 0) | (x + w == width) | (y + h == height),
        "perimeter_steps": steps,
        "outline_vertices": vertices,
        "outline_offsets": outline_offsets,
    }
    for array in result_arrays.values():
        if array is not None:
            array.flags.writeable = False
    return BlobsResult(image_shape=(height, width), connectivity=connectivity, **result_arrays)


def label_blobs(mask: np.ndarray, *, connectivity: int = 8, min_area: int = 1) -> np.ndarray:
    """Label image numbered as :func:`blob_stats` numbers the blobs.

    Parameters
    ----------
    mask : ndarray of shape (M, N)
        Boolean or binary. Never modified.
    connectivity : {8, 4}
    min_area : int
        Smaller blobs become background (0).

    Returns
    -------
    ndarray of int32, shape (M, N)
        0 for background, ``i + 1`` for blob ``i`` of :func:`blob_stats`.
    """
    _check_options(connectivity, min_area)
    mask8 = _mask_u8(mask)
    labels, count, ids, stats, _ = _label(mask8, connectivity, min_area)
    first = _side_hits(labels, ids, stats, sides=1)[0][0]
    order = np.argsort(stats[:, cv2.CC_STAT_TOP] * mask8.shape[1] + first, kind="stable")
    lut = np.zeros(count, np.int32)
    lut[ids[order]] = np.arange(1, len(ids) + 1, dtype=np.int32)
    return lut[labels]
