"""Peaks of a correlation map: local maxima, sub-pixel refinement, non-maximum suppression.

Helpers of :mod:`measurer.analysis.templates`, kept apart because they work on any score map
and any scored boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np

#: More local maxima above the threshold than this means the threshold is far too low.
_MAX_CANDIDATES = 50_000


class _Box(Protocol):
    """A scored box: top-left pixel, size and score (e.g. a ``TemplateMatch``)."""

    @property
    def row(self) -> float: ...
    @property
    def col(self) -> float: ...
    @property
    def height(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def score(self) -> float: ...


_BoxT = TypeVar("_BoxT", bound=_Box)


def local_maxima(scores: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Finite local maxima (3×3) at or above the threshold; NaN and infinity never pass."""
    flat = np.flatnonzero(scores >= threshold)
    flat = flat[np.isfinite(scores.flat[flat])]
    rows, cols = np.unravel_index(flat, scores.shape)
    centre = scores[rows, cols]
    is_max = np.ones(rows.size, dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            nr, nc = rows + dr, cols + dc
            inside = (nr >= 0) & (nr < scores.shape[0]) & (nc >= 0) & (nc < scores.shape[1])
            neighbour = scores[
                np.clip(nr, 0, scores.shape[0] - 1), np.clip(nc, 0, scores.shape[1] - 1)
            ]
            higher = inside & np.isfinite(neighbour) & (neighbour > centre)
            # On a plateau keep only the first pixel in raster order.
            tie = inside & (neighbour == centre) & ((dr < 0) | ((dr == 0) & (dc < 0)))
            is_max &= ~(higher | tie)
    if is_max.sum() > _MAX_CANDIDATES:
        raise ValueError(
            f"more than {_MAX_CANDIDATES} candidate matches: the threshold {threshold} is too low"
        )
    return rows[is_max], cols[is_max]


def subpixel_offsets(scores: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Peak offsets (drow, dcol) from a quadratic fit to the 3×3 neighbourhood.

    A 2D fit where the neighbourhood is complete and the fit has a maximum within half a pixel,
    otherwise a parabola along each axis that has both neighbours; 0 along an axis at the border.
    """
    n_rows, n_cols = scores.shape

    def at(dr: int, dc: int) -> np.ndarray:
        r, c = np.clip(rows + dr, 0, n_rows - 1), np.clip(cols + dc, 0, n_cols - 1)
        return scores[r, c].astype(np.float64)

    f = {(dr, dc): at(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
    ok_r = (rows > 0) & (rows < n_rows - 1) & np.isfinite(f[-1, 0]) & np.isfinite(f[1, 0])
    ok_c = (cols > 0) & (cols < n_cols - 1) & np.isfinite(f[0, -1]) & np.isfinite(f[0, 1])
    gr, gc = (f[1, 0] - f[-1, 0]) / 2, (f[0, 1] - f[0, -1]) / 2
    hrr, hcc = f[1, 0] - 2 * f[0, 0] + f[-1, 0], f[0, 1] - 2 * f[0, 0] + f[0, -1]
    hrc = (f[1, 1] - f[1, -1] - f[-1, 1] + f[-1, -1]) / 4
    with np.errstate(divide="ignore", invalid="ignore"):
        off_r = np.where(ok_r & (hrr < 0), -gr / hrr, 0.0)
        off_c = np.where(ok_c & (hcc < 0), -gc / hcc, 0.0)
        det = hrr * hcc - hrc**2
        fit_r = (-hcc * gr + hrc * gc) / det
        fit_c = (hrc * gr - hrr * gc) / det
    corners = np.isfinite(f[1, 1] + f[1, -1] + f[-1, 1] + f[-1, -1])
    use_2d = ok_r & ok_c & corners & (hrr < 0) & (det > 0)
    use_2d &= (np.abs(fit_r) <= 0.5) & (np.abs(fit_c) <= 0.5)
    off_r = np.clip(np.where(use_2d, fit_r, off_r), -0.5, 0.5)
    off_c = np.clip(np.where(use_2d, fit_c, off_c), -0.5, 0.5)
    return np.column_stack([np.nan_to_num(off_r), np.nan_to_num(off_c)])


def suppress_overlaps(found: Sequence[_BoxT], max_overlap: float) -> list[_BoxT]:
    """Greedy non-maximum suppression by intersection over union, best score first."""
    found = sorted(found, key=lambda m: -m.score)
    boxes = np.array([(m.row, m.col, m.height, m.width) for m in found]).reshape(-1, 4)
    kept: list[int] = []
    for i, (row, col, height, width) in enumerate(boxes):
        if kept:
            other = boxes[kept]
            dr = np.minimum(row + height, other[:, 0] + other[:, 2]) - np.maximum(row, other[:, 0])
            dc = np.minimum(col + width, other[:, 1] + other[:, 3]) - np.maximum(col, other[:, 1])
            inter = np.clip(dr, 0, None) * np.clip(dc, 0, None)
            union = height * width + other[:, 2] * other[:, 3] - inter
            if (inter / union > max_overlap).any():
                continue
        kept.append(i)
    return [found[i] for i in kept]
