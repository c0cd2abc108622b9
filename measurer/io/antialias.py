"""Anti-aliased drawing on an RGB uint8 canvas: strokes of exact width, discs, boxes and text.

Coverage is computed from the distance between each pixel's centre and the shape, so a stroke of
width ``w`` centred on a pixel row or a pixel edge covers exactly ``w`` pixels across, placed
symmetrically (OpenCV's ``LINE_AA`` thick lines are about one pixel wider than asked and shifted
by a fraction of a pixel, which would misplace rectangle outlines on pixel edges). Strokes and
discs take measurer's coordinates: ``(row, col)`` with pixel centres at integers. Boxes and text
take edge coordinates ``(x, y)`` (pixel ``(r, c)`` covers ``[c, c + 1] × [r, r + 1]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from measurer.io.overlay_layout import TextBox

#: Segments are cut into pieces no longer than this, so each piece has a small search window.
PIECE = 16.0
#: Candidate pixels examined per vectorised step (bounds memory to a few tens of MB).
CHUNK_PIXELS = 500_000


def _dedupe_max(
    index: np.ndarray, alpha: np.ndarray, shape: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Unique pixel indices, each with the largest coverage it was given.

    Through an image-sized buffer: ``np.maximum.at`` is several times faster than sorting, and
    the untouched pages of the zeroed buffer cost nothing.
    """
    buffer = np.zeros(int(shape[0]) * int(shape[1]), np.float32)
    np.maximum.at(buffer, index, alpha)
    unique = np.flatnonzero(buffer)
    return unique, buffer[unique]


def _window(origin: np.ndarray, side: int, shape: Sequence[int]) -> tuple[np.ndarray, ...]:
    """Rows, columns (K, side²) of the windows whose top-left pixels are ``origin`` (K, 2)."""
    offsets = np.arange(side)
    rows = (origin[:, :1] + np.repeat(offsets, side)[None, :]).astype(np.int64)
    cols = (origin[:, 1:] + np.tile(offsets, side)[None, :]).astype(np.int64)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    return rows, cols, inside


def _clip_segments(
    a: np.ndarray, b: np.ndarray, shape: Sequence[int], margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """The parts of segments ``a``-``b`` (K, 2) within ``margin`` of the image (Liang-Barsky).

    Keeps the work proportional to what is visible when a shape reaches far outside the image.
    """
    d = b - a
    t0, t1 = np.zeros(len(a)), np.ones(len(a))
    keep = np.ones(len(a), dtype=bool)
    for axis in (0, 1):
        lo, hi = -margin, shape[axis] - 1 + margin
        still = d[:, axis] == 0
        keep &= ~still | ((a[:, axis] >= lo) & (a[:, axis] <= hi))
        with np.errstate(divide="ignore", invalid="ignore"):
            ta, tb = (lo - a[:, axis]) / d[:, axis], (hi - a[:, axis]) / d[:, axis]
        t0 = np.where(still, t0, np.maximum(t0, np.minimum(ta, tb)))
        t1 = np.where(still, t1, np.minimum(t1, np.maximum(ta, tb)))
    keep &= t0 <= t1
    a, d, t0, t1 = a[keep], d[keep], t0[keep, None], t1[keep, None]
    return a + t0 * d, a + t1 * d


def stroke_coverage(
    paths: Sequence[np.ndarray], width: float, shape: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels covered by strokes of ``width`` along ``paths``, with round joins and caps.

    Parameters
    ----------
    paths : sequence of ndarray of shape (N, 2)
        ``(row, col)`` vertices; repeat the first vertex at the end to close a path. A path of
        one vertex (or of coincident ones) is a dot.
    width : float
        Stroke width in pixels.
    shape : (rows, cols)

    Returns
    -------
    index, alpha : ndarray
        Flat pixel indices (row * cols + col), unique, and their coverage in (0, 1].
    """
    starts, ends = [], []
    for path in paths:
        path = np.asarray(path, dtype=float).reshape(-1, 2)
        if len(path) == 1:
            path = np.vstack([path, path])
        starts.append(path[:-1])
        ends.append(path[1:])
    empty = np.zeros(0, np.int64), np.zeros(0, np.float32)
    if not starts:
        return empty
    reach = width / 2 + 0.5  # coverage falls to zero this far from the centre line
    a, b = _clip_segments(np.vstack(starts), np.vstack(ends), shape, reach + 1)
    if len(a) == 0:
        return empty
    count = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / PIECE)).astype(np.int64)
    owner = np.repeat(np.arange(len(a)), count)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    t0, t1 = (step / count[owner])[:, None], ((step + 1) / count[owner])[:, None]
    direction = b[owner] - a[owner]
    p0, p1 = a[owner] + t0 * direction, a[owner] + t1 * direction
    # Search windows sized to each piece: short pieces (outlines of small blobs) need few pixels.
    extent = np.ceil(np.abs(p1 - p0).max(axis=1)).astype(np.int64)
    indices, alphas = [np.zeros(0, np.int64)], [np.zeros(0, np.float32)]
    for size in np.unique(extent):
        chosen = extent == size
        side = int(size) + math.ceil(2 * reach) + 2
        _piece_coverage(p0[chosen], p1[chosen], reach, side, shape, indices, alphas)
    return _dedupe_max(np.concatenate(indices), np.concatenate(alphas), shape)


def _piece_coverage(
    p0: np.ndarray,
    p1: np.ndarray,
    reach: float,
    side: int,
    shape: Sequence[int],
    indices: list[np.ndarray],
    alphas: list[np.ndarray],
) -> None:
    """Append the pixels within ``reach`` of segments ``p0``-``p1`` and their coverage."""
    chunk = max(1, CHUNK_PIXELS // side**2)
    for lo in range(0, len(p0), chunk):
        q0, q1 = p0[lo : lo + chunk], p1[lo : lo + chunk]
        origin = np.floor(np.minimum(q0, q1) - reach)
        rows, cols, inside = _window(origin, side, shape)
        d = q1 - q0
        length2 = np.maximum((d**2).sum(axis=1), 1e-12)[:, None]
        t = ((rows - q0[:, :1]) * d[:, :1] + (cols - q0[:, 1:]) * d[:, 1:]) / length2
        t = np.clip(t, 0.0, 1.0)
        distance = np.hypot(rows - (q0[:, :1] + t * d[:, :1]), cols - (q0[:, 1:] + t * d[:, 1:]))
        alpha = np.clip(reach - distance, 0.0, 1.0)
        keep = (alpha > 0) & inside
        indices.append(rows[keep] * shape[1] + cols[keep])
        alphas.append(alpha[keep].astype(np.float32))


def disc_coverage(
    centres: np.ndarray, radius: float, shape: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels covered by filled discs of ``radius`` around ``(row, col)`` centres (N, 2)."""
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    side = 2 * math.ceil(radius + 1) + 1
    indices, alphas = [np.zeros(0, np.int64)], [np.zeros(0, np.float32)]
    chunk = max(1, CHUNK_PIXELS // side**2)
    for lo in range(0, len(centres), chunk):
        c = centres[lo : lo + chunk]
        origin = np.floor(c - radius - 1)
        rows, cols, inside = _window(origin, side, shape)
        distance = np.hypot(rows - c[:, :1], cols - c[:, 1:])
        alpha = np.clip(radius + 0.5 - distance, 0.0, 1.0)
        keep = (alpha > 0) & inside
        indices.append(rows[keep] * shape[1] + cols[keep])
        alphas.append(alpha[keep].astype(np.float32))
    return _dedupe_max(np.concatenate(indices), np.concatenate(alphas), shape)


def blend(canvas: np.ndarray, index: np.ndarray, alpha: np.ndarray, colour: Sequence[int]) -> None:
    """Paint ``colour`` over the pixels ``index`` of a C-contiguous (rows, cols, 3) canvas."""
    if index.size == 0:
        return
    flat = canvas.reshape(-1, 3)
    pixels = flat[index].astype(np.float32)
    pixels += (np.asarray(colour, np.float32) - pixels) * alpha[:, None]
    flat[index] = np.rint(pixels).astype(np.uint8)


def _blend_region(
    canvas: np.ndarray, top: int, left: int, alpha: np.ndarray, colour: Sequence[int]
) -> None:
    """Paint ``colour`` with the (h, w) coverage ``alpha`` whose top-left pixel is (top, left)."""
    rows, cols = canvas.shape[:2]
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + alpha.shape[0], rows), min(left + alpha.shape[1], cols)
    if r0 >= r1 or c0 >= c1:
        return
    a = alpha[r0 - top : r1 - top, c0 - left : c1 - left, None].astype(np.float32)
    region = canvas[r0:r1, c0:c1].astype(np.float32)
    region += (np.asarray(colour, np.float32) - region) * a
    canvas[r0:r1, c0:c1] = np.rint(region).astype(np.uint8)


def _axis_coverage(lo: float, hi: float) -> tuple[int, np.ndarray]:
    """First pixel and the fraction of each pixel from ``floor(lo)`` covered by ``[lo, hi]``."""
    first = math.floor(lo)
    edges = np.arange(first, math.ceil(hi) + 1, dtype=float)
    return first, np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, 1.0)


def fill_box(
    canvas: np.ndarray,
    box: tuple[float, float, float, float],
    colour: Sequence[int],
    opacity: float = 1.0,
) -> None:
    """Fill the rectangle ``(x0, y0, x1, y1)`` (edge coordinates) with exact edge coverage."""
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return
    left, across = _axis_coverage(x0, x1)
    top, down = _axis_coverage(y0, y1)
    _blend_region(canvas, top, left, np.outer(down, across) * opacity, colour)


def draw_text(canvas: np.ndarray, text: TextBox, colour: Sequence[int]) -> None:
    """Draw a line of text (anti-aliased by FreeType) with its baseline origin at ``text.x, y``."""
    font = text.font
    left, top, right, bottom = font.getbbox(text.text, anchor="ls")
    x0, y0 = math.floor(text.x + left) - 1, math.floor(text.y + top) - 1
    width, height = math.ceil(text.x + right) + 1 - x0, math.ceil(text.y + bottom) + 1 - y0
    if width <= 0 or height <= 0:
        return
    mask = Image.new("L", (width, height))
    ImageDraw.Draw(mask).text(
        (text.x - x0, text.y - y0), text.text, fill=255, font=font, anchor="ls"
    )
    _blend_region(canvas, y0, x0, np.asarray(mask, dtype=np.float32) / 255, colour)
