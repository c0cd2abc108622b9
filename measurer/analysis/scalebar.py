"""Scale bar detection: a solid horizontal bar, dark on light or light on dark.

Method (see ``measurer/resources/help/layers.md``):

1. Columns are averaged in groups of ``f`` (a bar is long, so this keeps its contrast and
   quiets texture; rows stay at full resolution, since bars can be 2 px high).
2. A bar has a long, strong horizontal edge along its top and another of the opposite sign
   along its bottom, at most ``max_height`` rows lower: runs of at least ``min_length`` px of
   vertical differences stronger than 15 % of the image's range are paired.
3. Each pair is measured at full resolution: a column belongs to the bar while the mean of
   the bar's inner rows is within 20 % of the contrast of the bar level and none of its rows
   is off by more than 40 %. Each end is then located to a fraction of a pixel by the area
   of the transition over three columns (``edge = a - 0.5 + sum of the normalised values``
   from column ``a`` inside the bar: exact for a bar whose end pixel is partly covered, and
   unbiased under symmetric blur). The ends are outer pixel edges: a bar covering pixels 603
   to 709 runs from x = 602.5 to 709.5, 107 px long.
4. The confidence is the product of scores for the bar's contrast with the image range, its
   uniformity, how completely the rows just above and below differ from it (end ticks are
   allowed for), whether its colour goes on above or below it (the margin of a label box),
   the sharpness of its ends, its length-to-height ratio and its length (bars under 5 % of
   the image width are rare). Candidates are ranked by confidence; below
   ``min_confidence`` nothing is reported as found.

The label and the metadata cross-check are in :mod:`measurer.analysis.scalebar_label`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from measurer.analysis.profiles import grayscale


@dataclass(frozen=True)
class ScaleBar:
    """One scale bar candidate (pixel units, pixel centres at integer coordinates).

    Attributes
    ----------
    x0, x1 : float
        Left and right outer edges of the bar (column coordinates).
    row : float
        Vertical centre of the bar.
    top, bottom : int
        First and last row of the bar.
    polarity : str
        ``"dark"`` (dark bar on a lighter background) or ``"light"``.
    confidence : float
        0 to 1.
    """

    x0: float
    x1: float
    row: float
    top: int
    bottom: int
    polarity: str
    confidence: float

    @property
    def length(self) -> float:
        """``x1 - x0`` in pixels."""
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        """Rows covered by the bar."""
        return self.bottom - self.top + 1

    def to_dict(self) -> dict:
        """JSON-ready, pixel units."""
        return {
            "x0": self.x0,
            "x1": self.x1,
            "row": self.row,
            "top": self.top,
            "bottom": self.bottom,
            "length": self.length,
            "polarity": self.polarity,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class ScaleBarResult:
    """Outcome of :func:`detect_scale_bar`.

    Attributes
    ----------
    bar : ScaleBar or None
        The best candidate when its confidence reaches ``min_confidence``, else None.
    candidates : tuple of ScaleBar
        Every measured candidate, best first (including ``bar``).
    """

    bar: ScaleBar | None
    candidates: tuple[ScaleBar, ...]

    @property
    def found(self) -> bool:
        """True when a scale bar was found."""
        return self.bar is not None

    def to_dict(self) -> dict:
        """JSON-ready, pixel units."""
        return {
            "found": self.found,
            "bar": self.bar.to_dict() if self.bar else None,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of a 0/1 mask: rows, first and last columns."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), np.int8)
    padded[:, 1:-1] = mask
    change = np.diff(padded, axis=1)
    rows_s, starts = np.nonzero(change == 1)
    _, stops = np.nonzero(change == -1)
    return rows_s, starts, stops - 1


def _edge_runs(coarse: np.ndarray, threshold: float, length: int) -> dict[int, tuple]:
    """Runs of strong vertical differences at least ``length`` coarse columns long.

    Returns ``{+1: runs, -1: runs}`` for brightening and darkening downwards; a run at row
    ``r`` is between rows ``r`` and ``r + 1``.
    """
    diff = coarse[1:] - coarse[:-1]
    kernel = np.ones((1, length), np.uint8)
    out = {}
    for sign in (1, -1):
        mask = ((diff * sign) > threshold).astype(np.uint8)
        core = cv2.erode(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        rows, starts, stops = _runs(core)
        half = (length - 1) // 2
        out[sign] = (rows, starts - half, stops + (length - 1 - half))
    return out


def _pairs(tops: tuple, bottoms: tuple, max_height: int, limit: int = 1500) -> list[tuple]:
    """(top row, bottom row, first col, last col) of runs paired into bars (coarse cols)."""
    (tr, ta, tb), (br, ba, bb) = tops, bottoms
    if tr.size == 0 or br.size == 0:
        return []
    if tr.size > limit:
        keep = np.argsort(ta - tb)[:limit]
        tr, ta, tb = tr[keep], ta[keep], tb[keep]
    if br.size > limit:
        keep = np.argsort(ba - bb)[:limit]
        br, ba, bb = br[keep], ba[keep], bb[keep]
    gap = br[None, :] - tr[:, None]
    overlap = np.minimum(tb[:, None], bb[None, :]) - np.maximum(ta[:, None], ba[None, :]) + 1
    shorter = np.minimum((tb - ta + 1)[:, None], (bb - ba + 1)[None, :])
    valid = (gap >= 1) & (gap <= max_height) & (overlap >= 0.5 * shorter)
    gap = np.where(valid, gap, np.iinfo(gap.dtype).max)
    best = np.argmin(gap, axis=1)
    pairs = set()
    for i in np.flatnonzero(valid[np.arange(tr.size), best]):
        j = best[i]
        pairs.add((int(tr[i]), int(br[j]), int(min(ta[i], ba[j])), int(max(tb[i], bb[j]))))
    return sorted(pairs, key=lambda p: p[2] - p[3])


def _end(profile: np.ndarray, inside: int, step: int, level_in: float, level_out: float) -> float:
    """Sub-pixel outer edge of the bar near index ``inside`` (its last column when walking in
    direction ``step``), by the area of the normalised transition over three columns."""
    lo, hi = inside - 1, inside + 1
    share = np.clip((profile[lo : hi + 1] - level_out) / (level_in - level_out), 0.0, 1.0)
    if step > 0:  # bar on the left of the edge
        return lo - 0.5 + float(share.sum())
    return hi + 0.5 - float(share.sum())


def _measure(
    grey: np.ndarray, top: int, bottom: int, c0: int, c1: int, polarity: int, value_range: float
) -> ScaleBar | None:
    """Measure a bar candidate at full resolution; None when it cannot be a bar."""
    rows, cols = grey.shape
    if top < 4 or bottom > rows - 5:
        return None
    inner = slice(top + 1, bottom) if bottom - top >= 2 else slice(top, bottom + 1)
    lo, hi = max(0, c0), min(cols - 1, c1)
    if hi - lo < 6:
        return None
    profile = grey[inner].mean(axis=0, dtype=np.float64)
    quarter = max(1, (hi - lo) // 4)
    level_bar = float(np.median(profile[lo + quarter : hi - quarter + 1]))
    above = grey[top - 2].astype(np.float64)
    below = grey[bottom + 2].astype(np.float64)
    level_side = float(np.median(np.concatenate([above[lo : hi + 1], below[lo : hi + 1]])))
    contrast = (level_bar - level_side) * polarity
    if not contrast > 0:
        return None
    # a column is part of the bar when its inner rows are close to the bar level on average
    # and none is far from it (JPEG blocks leave single pixels off)
    shortfall = (level_bar - grey[top : bottom + 1].astype(np.float64)) * polarity
    inner_mean = shortfall[1:-1].mean(axis=0) if bottom - top >= 2 else shortfall.mean(axis=0)
    inside = (inner_mean < 0.2 * contrast) & (shortfall.max(axis=0) < 0.4 * contrast)
    centre = (lo + hi) // 2
    if not inside[centre]:
        return None
    outside = np.flatnonzero(~inside)
    left_out = outside[outside < centre]
    right_out = outside[outside > centre]
    if left_out.size == 0 or right_out.size == 0:
        return None  # the bar reaches the image border: its end cannot be measured
    first, last = int(left_out[-1]) + 1, int(right_out[0]) - 1
    if first < 8 or last > cols - 9 or last - first < 2:
        return None
    out_left = float(np.median(profile[first - 7 : first - 1]))
    out_right = float(np.median(profile[last + 2 : last + 8]))
    ends = min((level_bar - out_left) * polarity, (level_bar - out_right) * polarity) / contrast
    if ends < 0.15:
        return None  # the bar fades into its surroundings: no measurable end
    # the background right beside each end predicts best what the end pixel is mixed with
    near_left = float(np.mean(profile[first - 3 : first - 1]))
    near_right = float(np.mean(profile[last + 2 : last + 4]))
    if (
        min((level_bar - near_left) * polarity, (level_bar - near_right) * polarity)
        > 0.15 * contrast
    ):
        out_left, out_right = near_left, near_right
    x0 = _end(profile, first, -1, level_bar, out_left)
    x1 = _end(profile, last, 1, level_bar, out_right)
    length = x1 - x0
    height = bottom - top + 1
    # scores in [0, 1]
    body = grey[inner, first + 1 : last].astype(np.float64)
    uniform = 1.0 - float(np.clip(body.std() / contrast / 0.3, 0.0, 1.0)) if body.size else 0.0
    margin = min(4, int(0.1 * length)) + 1  # leaves out end ticks
    span = slice(first + margin, max(first + margin + 1, last - margin + 1))
    near = [(level_bar - side[span]) * polarity for side in (above, below)]
    cover = min(float(np.mean(n > 0.5 * contrast)) for n in near)
    # the bar's level going on 2 and 4 rows above or below it: part of a larger region
    far = [(level_bar - grey[r, span].astype(np.float64)) * polarity for r in (top - 4, bottom + 4)]
    same = float(
        np.mean(
            ((np.abs(near[0]) < 0.15 * contrast) & (np.abs(far[0]) < 0.15 * contrast))
            | ((np.abs(near[1]) < 0.15 * contrast) & (np.abs(far[1]) < 0.15 * contrast))
        )
    )
    scores = (
        float(np.clip(contrast / (0.4 * value_range), 0.0, 1.0)),
        uniform,
        float(np.clip((cover - 0.3) / 0.4, 0.0, 1.0)),
        float(np.clip(1.0 - same / 0.15, 0.0, 1.0)),
        float(np.clip(ends / 0.4, 0.0, 1.0)),
        float(np.clip((length / height - 1.5) / 1.5, 0.0, 1.0)),
        float(np.clip(length / (0.05 * cols), 0.2, 1.0)),  # scale bars are seldom shorter
    )
    confidence = float(np.prod(scores))
    kind = "light" if polarity > 0 else "dark"
    return ScaleBar(x0, x1, (top + bottom) / 2, top, bottom, kind, confidence)


def detect_scale_bar(
    image: np.ndarray,
    *,
    min_length: int | None = None,
    max_height: int | None = None,
    min_confidence: float = 0.5,
    max_candidates: int = 5,
) -> ScaleBarResult:
    """Find a solid horizontal scale bar and measure its length between its outer edges.

    Parameters
    ----------
    image : ndarray of shape (M, N) or (M, N, C)
        Never modified; colour images use the mean of their channels.
    min_length : int, optional
        Shortest bar in pixels; by default ``max(12, N // 64)``.
    max_height : int, optional
        Tallest bar in pixels; by default ``max(24, M // 40)``.
    min_confidence : float
        A best candidate below this confidence is not reported as found.
    max_candidates : int
        How many ranked candidates to return.

    Returns
    -------
    ScaleBarResult
        ``found`` is False when the image has no bar-like candidate good enough.

    Raises
    ------
    ValueError
        If the image is not 2-D (or colour), or smaller than 8 x 8 pixels.
    """
    grey = grayscale(image)
    rows, cols = grey.shape
    if rows < 8 or cols < 8:
        raise ValueError(f"the image is too small for a scale bar ({rows} x {cols})")
    if grey.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        grey = grey.astype(np.float32)
    min_length = max(12, cols // 64) if min_length is None else int(min_length)
    max_height = max(24, rows // 40) if max_height is None else int(max_height)
    factor = int(np.clip(min_length // 6, 1, 8))
    coarse = cv2.resize(grey, (max(1, cols // factor), rows), interpolation=cv2.INTER_AREA)
    coarse = coarse.astype(np.float32)
    scale = cols / coarse.shape[1]
    sample = coarse[:: max(1, rows // 512), :: max(1, coarse.shape[1] // 512)]
    low, high = np.percentile(sample, [0.5, 99.5])
    value_range = float(max(high - low, np.ptp(sample), 1e-12))
    runs = _edge_runs(coarse, 0.15 * value_range, max(2, int(min_length / scale) - 1))
    found: list[ScaleBar] = []
    for polarity in (1, -1):
        for r_top, r_bottom, a, b in _pairs(runs[polarity], runs[-polarity], max_height)[:40]:
            c0 = math.floor(a * scale) - 1
            c1 = math.ceil((b + 1) * scale)
            bar = _measure(grey, r_top + 1, r_bottom, c0, c1, polarity, value_range)
            if bar is not None and bar.length >= min_length:
                found.append(bar)
    ranked: list[ScaleBar] = []
    for bar in sorted(found, key=lambda b: -b.confidence):
        duplicate = any(
            abs(bar.row - o.row) <= max(bar.height, o.height) and abs(bar.x0 - o.x0) < 3
            for o in ranked
        )
        if not duplicate:
            ranked.append(bar)
    ranked = ranked[:max_candidates]
    best = ranked[0] if ranked and ranked[0].confidence >= min_confidence else None
    return ScaleBarResult(best, tuple(ranked))
