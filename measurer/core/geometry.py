"""Calibrated geometry of vertex lists: lengths, angles, areas, centroids.

All functions take vertices as ``(row, col)`` in pixels and a ``(row_scale, col_scale)`` pair, and
scale to physical coordinates *before* any Euclidean computation (anisotropic pixels).
"""

from __future__ import annotations

import math

import numpy as np

Scale = tuple[float, float]


def physical(vertices: np.ndarray, scale: Scale) -> np.ndarray:
    """Vertices in physical units, still ``(row, col)`` order."""
    return np.asarray(vertices, dtype=float) * np.asarray(scale, dtype=float)


def path_length(vertices: np.ndarray, scale: Scale, *, closed: bool = False) -> float:
    """Length of an open (or closed) polyline."""
    p = physical(vertices, scale)
    if closed:
        p = np.vstack([p, p[:1]])
    return float(np.hypot(*np.diff(p, axis=0).T).sum())


def outline_length(vertices: np.ndarray, scale: Scale) -> float:
    """Perimeter of a closed outline, leaving out zero-width bridges.

    A keyhole outline (a blob with holes, traced as one polygon) walks each bridge from the
    outer boundary to a hole and back; those sides are not part of the shape's boundary, so a
    side whose exact reverse is also a side is not counted. Hole boundaries are counted.
    """
    p = np.asarray(vertices, dtype=float)
    ends = np.vstack([p[1:], p[:1]])
    sides = {(tuple(a), tuple(b)) for a, b in zip(p.tolist(), ends.tolist(), strict=True)}
    keep = np.array(
        [(tuple(b), tuple(a)) not in sides for a, b in zip(p.tolist(), ends.tolist(), strict=True)]
    )
    d = (ends - p)[keep] * np.asarray(scale, dtype=float)
    return float(np.hypot(d[:, 0], d[:, 1]).sum())


def line_angle(start: np.ndarray, end: np.ndarray, scale: Scale) -> float:
    """Angle of the line from ``start`` to ``end`` in degrees, as ImageJ reports it.

    Counter-clockwise from the +x axis with y pointing up the screen, in (-180, 180].
    """
    d = physical(np.asarray(end) - np.asarray(start), scale)
    return math.degrees(math.atan2(-d[0], d[1]))


def vertex_angle(a: np.ndarray, vertex: np.ndarray, b: np.ndarray, scale: Scale) -> float:
    """Angle at ``vertex`` between the arms to ``a`` and ``b``, in degrees in [0, 180]."""
    u = physical(np.asarray(a) - np.asarray(vertex), scale)
    v = physical(np.asarray(b) - np.asarray(vertex), scale)
    nu, nv = np.hypot(*u), np.hypot(*v)
    if nu == 0 or nv == 0:
        return float("nan")
    cos = float(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))
    return math.degrees(math.acos(cos))


def polygon_area_centroid(vertices: np.ndarray, scale: Scale) -> tuple[float, np.ndarray]:
    """Area (shoelace) and centroid of a simple polygon.

    Returns
    -------
    area : float
        In physical units squared (always non-negative).
    centroid : ndarray of shape (2,)
        ``(row, col)`` in *pixels*; the mean of the vertices for a degenerate polygon.
    """
    v = np.asarray(vertices, dtype=float)
    r, c = v[:, 0], v[:, 1]
    r1, c1 = np.roll(r, -1), np.roll(c, -1)
    cross = c * r1 - c1 * r
    signed = 0.5 * cross.sum()
    if abs(signed) < 1e-12:
        return 0.0, v.mean(axis=0)
    cr = ((r + r1) * cross).sum() / (6 * signed)
    cc = ((c + c1) * cross).sum() / (6 * signed)
    return abs(signed) * scale[0] * scale[1], np.array([cr, cc])


def ellipse_perimeter(semi_a: float, semi_b: float) -> float:
    """Perimeter of an ellipse, exact: ``4 a E(1 - b²/a²)`` with ``a >= b``.

    (Ramanujan's approximation is off by up to 4e-4 for thin ellipses.)
    """
    from scipy.special import ellipe  # imported here: scipy.special is slow to import

    a, b = max(semi_a, semi_b), min(semi_a, semi_b)
    if a == 0:
        return 0.0
    return float(4 * a * ellipe(1 - (b / a) ** 2))
