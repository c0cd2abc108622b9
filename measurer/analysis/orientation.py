"""Dominant layer direction in a region (structure tensor) and profile lines across it.

The structure tensor sums the outer products of the image gradient over the region; its main
eigenvector is the direction across the layers, the one the profile must follow. Gradients
are Scharr derivatives (3 x 3, nearly rotation invariant) evaluated on a regular grid of at
most ``max_samples`` points: the direction of a region needs far fewer gradients than it has
pixels, and sampling keeps a 4096 x 4096 region fast. Noise adds the same energy in every
direction, so it lowers the coherence without turning the estimate.

Angles are in degrees, counter-clockwise from +x with y up (as ImageJ reports them); vectors
and points are (row, col). Regions are ``(row, col, rows, cols)``: first row and column and
counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from measurer.analysis.profiles import grayscale


@dataclass(frozen=True)
class Orientation:
    """Direction of the layers in a region.

    Attributes
    ----------
    angle_deg : float
        Direction along the layers in (-90, 90], counter-clockwise from +x with y up, in
        physical space when the pixels are not square.
    direction : (row, col)
        Unit vector along the layers, in pixel coordinates.
    normal : (row, col)
        Unit vector in pixel coordinates along which a profile crosses the layers at a right
        angle (in physical space); it points to increasing columns (or rows when vertical).
    coherence : float
        0 (no preferred direction) to 1 (perfectly straight parallel layers).
    """

    angle_deg: float
    direction: tuple[float, float]
    normal: tuple[float, float]
    coherence: float

    def to_dict(self) -> dict:
        """JSON-ready; vectors as (row, col)."""
        return {
            "angle_deg": self.angle_deg,
            "direction": list(self.direction),
            "normal": list(self.normal),
            "coherence": self.coherence,
        }


def _check_roi(roi, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    if roi is None:
        return 0, 0, shape[0], shape[1]
    r0, c0, rows, cols = (int(v) for v in roi)
    if rows < 1 or cols < 1:
        raise ValueError(f"the region must have positive size, got {rows} x {cols}")
    if r0 < 0 or c0 < 0 or r0 + rows > shape[0] or c0 + cols > shape[1]:
        raise ValueError(
            f"the region (row {r0}, col {c0}, {rows} x {cols}) is not inside the image "
            f"({shape[0]} x {shape[1]})"
        )
    return r0, c0, rows, cols


def _unit(row: float, col: float) -> np.ndarray:
    vector = np.array([row, col], dtype=float)
    return vector / np.hypot(*vector)


def layer_orientation(
    image: np.ndarray,
    *,
    roi=None,
    spacing: tuple[float, float] = (1.0, 1.0),
    max_samples: int = 250_000,
) -> Orientation:
    """Dominant direction of the layers in ``image`` (or in ``roi`` of it).

    Parameters
    ----------
    image : ndarray of shape (M, N) or (M, N, C)
        Never modified; colour images use the mean of their channels.
    roi : (row, col, rows, cols), optional
        Region to analyse; the whole image by default. At least 3 x 3 pixels.
    spacing : (float, float)
        Physical size of a pixel along rows (y) and columns (x), so that the normal is at a
        right angle to the layers in physical space.
    max_samples : int
        Gradients are evaluated on a regular grid of at most this many points.

    Returns
    -------
    Orientation

    Raises
    ------
    ValueError
        If the region is outside the image or smaller than 3 x 3, the spacing is not positive
        or the region is flat.
    """
    grey = grayscale(image)
    r0, c0, rows, cols = _check_roi(roi, grey.shape)
    if rows < 3 or cols < 3:
        raise ValueError("the region must be at least 3 x 3 pixels")
    dy, dx = (float(v) for v in spacing)
    if not (dy > 0 and dx > 0):
        raise ValueError(f"spacing must be positive, got {spacing!r}")
    region = grey[r0 : r0 + rows, c0 : c0 + cols]
    stride = max(1, math.floor(math.sqrt((rows - 2) * (cols - 2) / max(1, max_samples))))

    def at(dr: int, dc: int) -> np.ndarray:
        return region[1 + dr : rows - 1 + dr : stride, 1 + dc : cols - 1 + dc : stride].astype(
            np.float32
        )

    nw, n, ne, w, e, sw, s, se = (
        at(-1, -1), at(-1, 0), at(-1, 1), at(0, -1), at(0, 1), at(1, -1), at(1, 0), at(1, 1)
    )  # fmt: skip
    gx = (3 * (ne - nw + se - sw) + 10 * (e - w)) / (32 * dx)
    gy = (3 * (sw - nw + se - ne) + 10 * (s - n)) / (32 * dy)
    jxx = float(np.dot(gx.ravel(), gx.ravel()))
    jyy = float(np.dot(gy.ravel(), gy.ravel()))
    jxy = float(np.dot(gx.ravel(), gy.ravel()))
    energy = jxx + jyy
    if not energy > 0 or not math.isfinite(energy):
        raise ValueError("the region is flat: no layer direction to find")
    coherence = math.hypot(jxx - jyy, 2 * jxy) / energy
    phi = 0.5 * math.atan2(2 * jxy, jxx - jyy)  # gradient direction, physical (x, y down)
    across_x, across_y = math.cos(phi), math.sin(phi)
    along_x, along_y = -across_y, across_x
    angle = math.degrees(math.atan2(-along_y, along_x))
    angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
    direction = _unit(along_y / dy, along_x / dx)
    normal = _unit(across_y / dy, across_x / dx)
    if normal[1] < -1e-12 or (abs(normal[1]) <= 1e-12 and normal[0] < 0):
        normal = -normal
    return Orientation(
        float(angle),
        (float(direction[0]), float(direction[1])),
        (float(normal[0]), float(normal[1])),
        float(coherence),
    )


def clip_line(start, end, bounds) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of the segment inside a rectangle, or None (Liang-Barsky).

    Parameters
    ----------
    start, end : (row, col)
    bounds : (row_min, col_min, row_max, col_max)
        Inclusive limits, e.g. ``(0, 0, rows - 1, cols - 1)`` for the pixel centres of an image.
    """
    p0, p1 = np.asarray(start, float), np.asarray(end, float)
    delta = p1 - p0
    low, high = 0.0, 1.0
    lo_b = np.asarray(bounds[:2], float)
    hi_b = np.asarray(bounds[2:], float)
    for axis in range(2):
        for p, q in ((-delta[axis], p0[axis] - lo_b[axis]), (delta[axis], hi_b[axis] - p0[axis])):
            if p == 0:
                if q < 0:
                    return None
                continue
            t = q / p
            if p < 0:
                low = max(low, t)
            else:
                high = min(high, t)
    if low >= high:
        return None
    ends = p0 + low * delta, p0 + high * delta
    # A clipped end lies on the edge it was clipped at: exactly, not 1e-13 beside it.
    return tuple(_onto_bounds(e, lo_b, hi_b) for e in ends)


def _onto_bounds(point: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``point`` with each coordinate within 1e-9 of a bound set to that bound."""
    point = np.where(np.abs(point - low) < 1e-9, low, point)
    return np.where(np.abs(point - high) < 1e-9, high, point)


def parallel_lines(start, end, *, count: int, spacing: float) -> np.ndarray:
    """``count`` copies of a line shifted sideways by ``spacing`` pixels, centred on it.

    Returns
    -------
    ndarray of shape (count, 2, 2)
        ``[k] = (start_k, end_k)`` as (row, col); the shift is along the line's left normal
        (the same side as :func:`~.profiles.profile_points` starts its band).
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    p0, p1 = np.asarray(start, float), np.asarray(end, float)
    length = float(np.hypot(*(p1 - p0)))
    if length == 0:
        raise ValueError("the line has zero length")
    side = np.array([p1[1] - p0[1], p0[0] - p1[0]]) / length
    offsets = (np.arange(count) - (count - 1) / 2) * spacing
    base = np.stack([p0, p1])
    return base[None] + offsets[:, None, None] * side


def profile_lines(roi, orientation: Orientation, *, count: int = 1) -> np.ndarray:
    """Lines across the layers of a region, spread evenly along them.

    Parameters
    ----------
    roi : (row, col, rows, cols)
        The region; lines run between the centres of its border pixels.
    orientation : Orientation
        Usually from :func:`layer_orientation` on the same region.
    count : int
        Number of parallel lines: one through the centre, or ``count`` lines at the centres
        of ``count`` equal slices of the region's extent along the layers.

    Returns
    -------
    ndarray of shape (K, 2, 2)
        (start, end) pairs as (row, col), each running along ``orientation.normal``; lines
        shorter than 2 px (near the corners of a tilted region) are left out, so K <= count.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    r0, c0, rows, cols = (float(v) for v in roi)
    bounds = (r0, c0, r0 + rows - 1, c0 + cols - 1)
    centre = np.array([r0 + (rows - 1) / 2, c0 + (cols - 1) / 2])
    along, across = np.asarray(orientation.direction), np.asarray(orientation.normal)
    reach = math.hypot(rows, cols)
    if count == 1:
        offsets = np.zeros(1)
    else:
        span = clip_line(centre - reach * along, centre + reach * along, bounds)
        if span is None:
            raise ValueError("the region is empty")
        t0 = float((span[0] - centre) @ along)
        t1 = float((span[1] - centre) @ along)
        offsets = t0 + (np.arange(count) + 0.5) * (t1 - t0) / count
    lines = []
    for offset in offsets:
        middle = centre + offset * along
        clipped = clip_line(middle - reach * across, middle + reach * across, bounds)
        if clipped is not None and np.hypot(*(clipped[1] - clipped[0])) >= 2:
            lines.append(np.stack(clipped))
    return np.asarray(lines).reshape(-1, 2, 2)
