"""Outer outlines of the blobs of a mask, traced by OpenCV, with ImageJ's traced perimeters.

Used by :func:`measurer.analysis.blobs.blob_stats`: every contour's pixel sides come from
:func:`measurer.analysis.outlines.contour_edges`, vectorised over all contours at once, and
the corners ImageJ counts along them give its perimeter (see
:class:`~measurer.analysis.blobs.BlobsResult`).
"""

from __future__ import annotations

import cv2
import numpy as np

from measurer.analysis.outlines import contour_edges, cyclic_shift


def trace_outlines(source: np.ndarray, labels: np.ndarray | None, outlines: bool) -> tuple:
    """Outer outlines of every blob with their ImageJ perimeter steps.

    ``source`` is the uint8 mask (8-connectivity, ``labels`` None) or the label image
    (4-connectivity: OpenCV then traces each label separately, so blobs that touch diagonally
    get their own outlines; ``labels`` is the same image). Returns, per outline, its first
    pixel in raster order (as ``row * width + col``) and its (horizontal, vertical, corner)
    steps; with ``outlines`` also the corners of all outlines and the outline each belongs
    to. Needs no label image for 8-connectivity, so it runs while the mask is labelled.
    """
    contours, hierarchy = cv2.findContours(source, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    keep = range(len(contours)) if labels is not None or not contours else None
    if keep is None:
        keep = np.flatnonzero(hierarchy[0][:, 3] == -1)  # not a hole's border
    chains = [contours[i][:, 0] for i in keep]
    if not chains:
        empty = np.zeros(0, np.intp)
        return empty, np.zeros((0, 3), np.intp), empty, empty, empty
    lengths = np.array([len(c) for c in chains])
    points = np.concatenate(chains)
    if labels is not None:
        starts = np.cumsum(lengths) - lengths
        nxt = np.arange(len(points)) + 1
        nxt[starts + lengths - 1] = starts
        x, y = points[:, 0].astype(np.int64), points[:, 1].astype(np.int64)
        area2 = np.add.reduceat(x * y[nxt] - x[nxt] * y, starts)
        owner = labels[points[starts, 1], points[starts, 0]]
        outer = (owner != 0) & (area2 <= 0)  # outer borders have a negative shoelace sum
        points, lengths = points[np.repeat(outer, lengths)], lengths[outer]
    starts = np.cumsum(lengths) - lengths
    x, y = np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])
    horizontal, vertical, corners, vx, vy, chain = traced_perimeters(x, y, lengths, outlines)
    steps = np.stack([horizontal, vertical, corners], axis=1)
    first = np.minimum.reduceat(y.astype(np.int64) * source.shape[1] + x, starts)
    return first, steps, vx, vy, chain


def traced_perimeters(
    x: np.ndarray, y: np.ndarray, lengths: np.ndarray, outlines: bool
) -> tuple[np.ndarray, ...]:
    """ImageJ's traced perimeter of each outer contour (see
    :class:`~measurer.analysis.blobs.BlobsResult`).

    ``x``, ``y`` are the contours' pixels in OpenCV order, concatenated. Returns horizontal
    edges, vertical edges and counted corners per contour, and (with ``outlines``) the outline
    corners ``(x, y)`` on the pixel-corner lattice with the contour each belongs to.
    """
    n = len(lengths)
    starts = np.cumsum(lengths) - lengths
    edges = contour_edges(x, y, lengths)

    # ImageJ starts at the bottom end of the right side of the first run of the top row.
    top = np.minimum.reduceat(y, starts)
    big = np.iinfo(x.dtype).max
    key = np.where((edges.right >= 0) & (y == np.repeat(top, lengths)), x, big)
    start_pixel = np.flatnonzero(key == np.repeat(np.minimum.reduceat(key, starts), lengths))
    start_vertex = edges.first_side[start_pixel] + edges.right[start_pixel]

    # A corner is a vertex where the direction changes (vertex i = start of side i).
    corner, n_corners = edges.corners, edges.corner_count
    first_corner = np.cumsum(n_corners) - n_corners
    last_corner = first_corner + n_corners - 1
    chain = np.repeat(np.arange(n), n_corners)
    out_side = cyclic_shift(corner, first_corner, last_corner + 1, False) - corner
    out_side[last_corner] += edges.total  # the wrap from the last corner back to the first
    # ImageJ walks the other way round, so a corner's outgoing side here is its incoming side
    # there; its first corner (always counted) is the last one at or before the start vertex.
    v0 = np.searchsorted(corner, start_vertex, side="right") - 1
    v0 = np.where(v0 < first_corner, last_corner, v0)
    unit = out_side == 1
    unit[v0] = False
    counted = n_corners - np.add.reduceat(unit, first_corner)

    # Along a run of corners with one-pixel sides ImageJ counts every other corner. Runs are
    # cut at contour boundaries here; a run that wraps from a contour's last corner to its
    # first is one run, worth one more corner when both of its pieces have odd length.
    before = np.r_[False, unit[:-1]]
    before[first_corner] = False
    after = np.r_[unit[1:], False]
    after[last_corner] = False
    run_start = np.flatnonzero(unit & ~before)
    run_end = np.flatnonzero(unit & ~after) + 1
    run_chain, run_length = chain[run_start], run_end - run_start
    counted += np.bincount(run_chain, run_length // 2, minlength=n).astype(np.int64)
    odd = run_length % 2 == 1
    head = np.zeros(n, bool)
    head[run_chain[odd & (run_start == first_corner[run_chain])]] = True
    tail = np.zeros(n, bool)
    tail[run_chain[odd & (run_end == last_corner[run_chain] + 1)]] = True
    counted += head & tail

    horizontal = edges.horizontal
    if not outlines:
        return horizontal, edges.total - horizontal, counted, None, None, None
    vx, vy = edges.corner_points(x, y)
    return horizontal, edges.total - horizontal, counted, vx, vy, chain
