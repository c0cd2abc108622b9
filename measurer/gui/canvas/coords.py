"""The one place that converts between image points ``(row, col)`` and scene points ``(x, y)``.

The canvas shows the image with ``imageAxisOrder="row-major"``, y pointing down, and pixel
centres at integer scene coordinates (the image item's top-left corner is at (-0.5, -0.5)).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QPointF


def to_scene(vertices: np.ndarray) -> list[tuple[float, float]]:
    """``(row, col)`` vertices as ``(x, y)`` scene tuples."""
    return [(float(c), float(r)) for r, c in np.asarray(vertices, dtype=float).reshape(-1, 2)]


def from_scene(points: Iterable) -> np.ndarray:
    """Scene points (``QPointF`` or ``(x, y)`` pairs) as an ``(N, 2)`` array of ``(row, col)``."""
    out = []
    for p in points:
        if isinstance(p, QPointF) or (hasattr(p, "x") and callable(p.x)):
            out.append((p.y(), p.x()))
        else:
            x, y = p
            out.append((y, x))
    return np.array(out, dtype=float).reshape(-1, 2)


def image_rect(shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    """``(x, y, width, height)`` of the image item for an image of ``shape`` (rows, cols, ...)."""
    return (-0.5, -0.5, float(shape[1]), float(shape[0]))
