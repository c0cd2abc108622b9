"""Turning points of a bright curve wandering over time in a kymograph-like image.

Each frame (a column with ``axis="x"``, a row with ``axis="y"``) holds one position of the curve.
The static background is removed with the median over time at each position, the drift with the
median of each frame, and the curve is followed either by a weighted centroid around each frame's
maximum or, for curves that cross others or fade, along the smoothest strong path through a ridge
filter's response. The turning points are the extrema of the smoothed trace with a minimum
prominence (a physical minimum excursion) and separation, so a trace that is flat for a moment
at a reversal gives one turn, not two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi
from scipy.signal import find_peaks, savgol_filter
from skimage.filters import sato

#: A frame holds the curve when its peak exceeds the residue's noise by this factor.
_SIGNAL_SNR = 4.0
#: Ridge path: reward per frame, in units of the detection level, saturates here (so a brighter
#: curve crossing ours does not lure the path away), and the cost of a speed change s is
#: _ACCELERATION_COST × s² (s in pixels per frame).
_GAIN_CAP = 3.0
_ACCELERATION_COST = 0.5
#: Ridge path: positions × frames × speeds above this would need too much memory.
_MAX_STATES = 60_000_000
_DIRECTIONS = {"x": ("up", "down"), "y": ("left", "right")}


@dataclass(frozen=True)
class TurningPoint:
    """A reversal of the curve: its frame, its point (row, col), and the directions around it.

    Directions are on screen: ``"up"``/``"down"`` when time runs along x, ``"left"``/``"right"``
    when time runs along y.
    """

    frame: int
    row: float
    col: float
    direction_before: str
    direction_after: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "row": self.row,
            "col": self.col,
            "direction_before": self.direction_before,
            "direction_after": self.direction_after,
        }


@dataclass(frozen=True)
class KymographResult:
    """The traced curve and its turning points, in pixels.

    ``frames`` are the frames the trace covers (from the first to the last frame where the curve
    is seen); ``positions`` the smoothed position there, ``raw_positions`` the measured one (NaN
    where the curve was not seen and the smoothed trace interpolates).
    """

    axis: str
    frames: np.ndarray
    positions: np.ndarray
    raw_positions: np.ndarray
    turns: tuple[TurningPoint, ...]

    @property
    def trace(self) -> np.ndarray:
        """The smoothed trace as (N, 2) points (row, col)."""
        pair = (self.positions, self.frames) if self.axis == "x" else (self.frames, self.positions)
        return np.column_stack(pair).astype(np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            "trace": self.trace.tolist(),
            "turns": [t.to_dict() for t in self.turns],
        }


def find_turns(
    image: np.ndarray,
    *,
    axis: str = "x",
    method: str = "centroid",
    min_prominence: float = 5.0,
    min_separation: int = 5,
    smoothing: float = 2.0,
    half_width: int = 4,
    curve_width: float = 1.5,
) -> KymographResult:
    """Trace the bright curve of a kymograph and find where it reverses.

    Parameters
    ----------
    image : ndarray of shape (M, N) or (M, N, C)
        Any numeric dtype (colour is averaged to grey). Never modified.
    axis : {"x", "y"}
        The axis along which time runs: ``"x"``, one column per frame; ``"y"``, one row.
    method : {"centroid", "ridge"}
        ``"centroid"``: weighted centroid around each frame's maximum. ``"ridge"``: the best
        smooth path through a ridge filter's response (dynamic programming that penalises
        changes of speed), which keeps to its curve where another crosses it and bridges
        frames where it fades; slower, memory grows as positions × frames × speeds.
    min_prominence : float
        Minimum excursion in pixels on both sides of a turn (peak prominence).
    min_separation : int
        Minimum number of frames between two turns of the same kind.
    smoothing : float
        Gaussian sigma (frames) of the smoothing under which extrema are located; the reported
        trace is smoothed by a cubic Savitzky-Golay filter 2.5 sigma wide on each side, which
        does not flatten sharp turns. 0 for no smoothing.
    half_width : int
        Half-width (pixels) of the window in which the centroid is taken.
    curve_width : float
        Approximate Gaussian sigma (pixels) of the curve's profile (ridge filter scale).

    Returns
    -------
    KymographResult

    Raises
    ------
    ValueError
        Bad options, an image smaller than 3×3 or with non-finite values.
    """
    if axis not in _DIRECTIONS:
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    if method not in ("centroid", "ridge"):
        raise ValueError(f"method must be 'centroid' or 'ridge', got {method!r}")
    if not min_prominence > 0 or int(min_separation) < 1 or smoothing < 0:
        raise ValueError("min_prominence must be > 0, min_separation >= 1 and smoothing >= 0")
    if int(half_width) < 1 or not curve_width > 0:
        raise ValueError("half_width must be >= 1 and curve_width > 0")
    residue = remove_background(_grey(image).T if axis == "y" else _grey(image))
    if method == "centroid":
        raw = _centroid_trace(residue, int(half_width))
    else:
        raw = _ridge_trace(residue, int(half_width), float(curve_width))
    seen = np.flatnonzero(np.isfinite(raw))
    if seen.size == 0:
        empty = np.empty(0)
        return KymographResult(axis, empty.astype(np.intp), empty, empty, ())
    frames = np.arange(seen[0], seen[-1] + 1)
    raw = raw[frames]
    filled = np.interp(frames, seen, raw[seen - frames[0]])
    # The Gaussian locates extrema steadily; the cubic filter keeps turns at their full excursion.
    blurred = ndi.gaussian_filter1d(filled, smoothing, mode="nearest") if smoothing else filled
    smooth = _smooth(filled, round(2.5 * smoothing))
    turns = _turning_points(
        blurred, smooth, frames, axis, float(min_prominence), int(min_separation)
    )
    return KymographResult(axis, frames, smooth, raw, turns)


def remove_background(frames_by_column: np.ndarray) -> np.ndarray:
    """Subtract the median over time at each position, then the median of each frame.

    Parameters
    ----------
    frames_by_column : ndarray of shape (positions, frames)

    Returns
    -------
    ndarray
        The residue (float64, may be negative), same shape.
    """
    residue = frames_by_column - np.median(frames_by_column, axis=1, keepdims=True)
    return residue - np.median(residue, axis=0, keepdims=True)


def _grey(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 3:
        array = array[..., :3].mean(axis=2) if array.shape[2] in (3, 4) else array.mean(axis=2)
    if array.ndim != 2 or min(array.shape) < 3:
        raise ValueError(f"image must be 2D (or colour) and at least 3×3, got {np.shape(image)}")
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise ValueError(f"image must hold numbers, got {array.dtype}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError("image contains NaN or infinite values")
    return array


def _smooth(trace: np.ndarray, half_width: int) -> np.ndarray:
    """Cubic Savitzky-Golay smoothing, its window shortened to fit short traces."""
    length = min(2 * half_width + 1, trace.size - (trace.size % 2 == 0))
    return savgol_filter(trace, length, 3) if length >= 5 else trace


def _noise(values: np.ndarray) -> float:
    """Robust standard deviation (scaled median absolute deviation)."""
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _centroid_trace(residue: np.ndarray, half_width: int) -> np.ndarray:
    """Per frame: centroid of the positive residue around the (smoothed) maximum, or NaN."""
    located = ndi.gaussian_filter(residue, 1.0)
    peaks = np.argmax(located, axis=0)
    columns = np.arange(residue.shape[1])
    seen = located[peaks, columns] > _SIGNAL_SNR * max(_noise(located), 1e-12)
    weights = np.clip(residue - _noise(residue), 0, None)
    trace = np.full(residue.shape[1], np.nan)
    for frame in np.flatnonzero(seen):
        trace[frame] = _centroid(weights[:, frame], peaks[frame], half_width)
    return trace


def _centroid(column: np.ndarray, centre: int, half_width: int) -> float:
    lo, hi = max(0, centre - half_width), min(column.size, centre + half_width + 1)
    weights = column[lo:hi]
    total = weights.sum()
    return float(centre if total <= 0 else (weights * np.arange(lo, hi)).sum() / total)


def _ridge_trace(residue: np.ndarray, half_width: int, curve_width: float) -> np.ndarray:
    """The best path through a ridge filter's response, penalising changes of speed.

    Dynamic programming over (position, speed) per frame: the path collects the ridge response
    (in units of its detection level, capped at ``_GAIN_CAP``) and pays ``_ACCELERATION_COST``
    × (speed change)² per frame, while drifting by up to one pixel per frame from its speed is
    free (speeds are whole pixels per frame, curves' are not). Where two curves cross, the path
    goes straight on; where the curve fades, it keeps its speed. Speeds go up to
    ``2 * half_width`` pixels per frame. The integer path is refined with the centroid of the
    residue, as in the centroid method (the ridge filter blurs along time and shifts
    fast-moving curves); frames where the response on the path is below the detection level
    are NaN (the curve is not seen).
    """
    response = sato(np.clip(residue, 0, None), sigmas=[curve_width], black_ridges=False)
    level = _SIGNAL_SNR * max(_noise(response), 1e-12)
    n_pos, n_frames = response.shape
    trace = np.full(n_frames, np.nan)
    if not (response > level).any():
        return trace
    gain = np.minimum(response / level, _GAIN_CAP)
    speeds = np.arange(-2 * half_width, 2 * half_width + 1)
    if n_pos * n_frames * speeds.size > _MAX_STATES:
        raise ValueError(
            f"the ridge method would track {n_pos * n_frames * speeds.size:.3g} states "
            f"(more than {_MAX_STATES:.0e}): crop the image or use the centroid method"
        )
    change = _ACCELERATION_COST * (speeds[:, None] - speeds[None, :]) ** 2
    columns = np.arange(speeds.size)[None, :]
    sources = []  # for each drift: position one frame earlier, and whether it is inside
    for drift in (-1, 0, 1):
        source = np.arange(n_pos)[:, None] - speeds[None, :] - drift
        sources.append((np.clip(source, 0, n_pos - 1), (source >= 0) & (source < n_pos)))
    score = np.repeat(gain[:, :1], speeds.size, axis=1)
    previous_speed = np.zeros((n_frames, n_pos, speeds.size), dtype=np.int16)
    drifts = np.zeros((n_frames, n_pos, speeds.size), dtype=np.int8)
    for frame in range(1, n_frames):
        options = score[:, None, :] - change[None, :, :]  # (position, speed, previous speed)
        best = options.argmax(axis=2)
        carried = np.take_along_axis(options, best[..., None], axis=2)[..., 0]
        moves = np.stack([np.where(ok, carried[src, columns], -np.inf) for src, ok in sources])
        drift = moves.argmax(axis=0)
        drifts[frame] = drift - 1
        source = np.choose(drift, [src for src, _ in sources])
        previous_speed[frame] = best[source, columns]
        score = np.take_along_axis(moves, drift[None], axis=0)[0] + gain[:, frame : frame + 1]
    position, speed = np.unravel_index(int(np.argmax(score)), score.shape)
    path = np.empty(n_frames, dtype=np.intp)
    for frame in range(n_frames - 1, -1, -1):
        path[frame] = position
        step = speeds[speed] + drifts[frame, position, speed]
        position, speed = position - step, previous_speed[frame, position, speed]
    weights = np.clip(residue - _noise(residue), 0, None)
    for frame, position in enumerate(path):
        if response[position, frame] > level:
            trace[frame] = _centroid(weights[:, frame], position, half_width)
    return trace


def _turning_points(
    blurred: np.ndarray,
    smooth: np.ndarray,
    frames: np.ndarray,
    axis: str,
    prominence: float,
    separation: int,
) -> tuple[TurningPoint, ...]:
    """Prominent extrema of ``blurred``, alternating maxima and minima, placed on ``smooth``."""
    highs, _ = find_peaks(blurred, prominence=prominence, distance=separation)
    lows, _ = find_peaks(-blurred, prominence=prominence, distance=separation)
    extrema = sorted([(i, 1) for i in highs] + [(i, -1) for i in lows])
    kept: list[tuple[int, int]] = []
    for index, kind in extrema:
        if kept and kept[-1][1] == kind:  # two maxima (or minima) in a row: keep the extreme one
            if kind * blurred[index] > kind * blurred[kept[-1][0]]:
                kept[-1] = (index, kind)
            continue
        kept.append((index, kind))
    decreasing, increasing = _DIRECTIONS[axis]
    turns = []
    for index, kind in kept:
        before, after = (increasing, decreasing) if kind > 0 else (decreasing, increasing)
        frame, position = int(frames[index]), float(smooth[index])
        row, col = (position, float(frame)) if axis == "x" else (float(frame), position)
        turns.append(TurningPoint(frame, row, col, before, after))
    return tuple(turns)
