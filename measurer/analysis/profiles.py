"""Intensity profiles along straight lines, averaged across a band.

Sampling follows ImageJ's Plot Profile (checked against it; see ``resources/help/layers.md``):
a line from ``start`` to ``end`` of length ``L`` has ``round(L) + 1`` samples spaced evenly from
one end point to the other, so the step is ``L / round(L)`` (1 px for horizontal and vertical
lines, slightly more or less for oblique ones). A band of width ``w`` averages ``w`` parallel
lines at perpendicular offsets ``k - (w - 1) / 2``, ``k = 0 .. w - 1``. Points are (row, col)
with pixel centres at integer coordinates, as in scikit-image: ImageJ's profile line from
``(x0, y0)`` to ``(x1, y1)`` is this module's line from ``(y0, x0)`` to ``(y1, x1)``.

Differences from :func:`skimage.measure.profile_line`: scikit-image takes
``ceil(L) + 1`` samples (the same as here when ``L`` is a whole number) and reflects the image
at its border; here a sample farther than half a pixel outside the image is not a number, and
a band sample averages only the band's lines that fall inside the image.

Also here: generic tools for 1-D profiles used by the layer analysis (its period, its noise,
its significant alternating extremes).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi


def grayscale(image: np.ndarray) -> np.ndarray:
    """A 2-D view of ``image``: itself when 2-D, else the mean of its channels (float32).

    Raises
    ------
    ValueError
        If the image is not of shape (M, N) or (M, N, C), or is empty.
    """
    image = np.asarray(image)
    if image.ndim == 3:
        if image.shape[2] == 4:  # alpha is not brightness
            image = image[..., :3]
        image = image.mean(axis=2, dtype=np.float32)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(
            f"expected a non-empty 2-D image or (M, N, C) colour image, got {image.shape}"
        )
    if image.dtype == bool:
        return image.astype(np.uint8)
    return image


def _line_ends(start, end) -> tuple[np.ndarray, np.ndarray, float]:
    p0 = np.asarray(start, dtype=float).reshape(-1)
    p1 = np.asarray(end, dtype=float).reshape(-1)
    if p0.shape != (2,) or p1.shape != (2,):
        raise ValueError("start and end are (row, col) points")
    if not (np.all(np.isfinite(p0)) and np.all(np.isfinite(p1))):
        raise ValueError("start and end must be finite")
    length = float(math.hypot(*(p1 - p0)))
    if length == 0:
        raise ValueError("the profile line has zero length")
    return p0, p1, length


def sample_count(start, end) -> int:
    """Number of samples of the profile from ``start`` to ``end``: ``round(length) + 1``, ≥ 2."""
    _, _, length = _line_ends(start, end)
    return max(2, round(length) + 1)


def profile_positions(start, end) -> np.ndarray:
    """Distance of every profile sample from ``start``, in pixels (first 0, last the length)."""
    _, _, length = _line_ends(start, end)
    return np.linspace(0.0, length, sample_count(start, end))


def profile_points(start, end, *, width: int = 1) -> np.ndarray:
    """Where the profile samples the image.

    Parameters
    ----------
    start, end : (row, col)
        End points of the centre line.
    width : int
        Band width: number of parallel lines, one pixel apart.

    Returns
    -------
    ndarray of shape (width, n, 2)
        (row, col) of every sample of every line of the band, from one side of the band
        to the other; ``[(width - 1) / 2]`` is the centre line when ``width`` is odd.
    """
    if int(width) != width or width < 1:
        raise ValueError(f"width must be a positive whole number, got {width!r}")
    p0, p1, length = _line_ends(start, end)
    t = np.linspace(0.0, 1.0, sample_count(start, end))
    centre = p0 + t[:, None] * (p1 - p0)
    normal = np.array([p1[1] - p0[1], p0[0] - p1[0]]) / length
    offsets = np.arange(int(width)) - (int(width) - 1) / 2.0
    return centre[None, :, :] + offsets[:, None, None] * normal


def line_profile(image: np.ndarray, start, end, *, width: int = 1, order: int = 1) -> np.ndarray:
    """Intensity along a straight line, averaged across a band.

    Parameters
    ----------
    image : ndarray of shape (M, N) or (M, N, C)
        Never modified.
    start, end : (row, col)
        End points of the profile, pixel centres at integer coordinates; both ends are sampled.
    width : int
        Band width in pixels: the mean of ``width`` parallel lines one pixel apart, centred on
        the line (ImageJ's line width).
    order : int
        Interpolation: 0 nearest pixel, 1 bilinear (ImageJ's default), up to 5 (splines).

    Returns
    -------
    ndarray of float64, shape (n,) or (n, C)
        ``n = round(length) + 1`` samples (see :func:`profile_positions`). A sample whose band
        lies entirely more than half a pixel outside the image is NaN.

    Raises
    ------
    ValueError
        On a zero-length line, a width below 1, an order outside 0..5 or an image that is not
        2-D or 3-D.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"expected a non-empty (M, N) or (M, N, C) image, got {image.shape}")
    if order not in range(6):
        raise ValueError(f"order must be 0..5, got {order!r}")
    points = profile_points(start, end, width=width)
    rows, cols = points[..., 0].ravel(), points[..., 1].ravel()
    height, wide = image.shape[:2]
    inside = (rows >= -0.5) & (rows <= height - 0.5) & (cols >= -0.5) & (cols <= wide - 0.5)
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    out = []
    for plane in planes:
        if plane.dtype == bool:
            plane = plane.astype(np.uint8)
        values = ndi.map_coordinates(
            plane, [rows, cols], order=order, mode="nearest", output=np.float64
        )
        out.append(_band_mean(values, inside, points.shape[:2]))
    return out[0] if image.ndim == 2 else np.stack(out, axis=1)


def _band_mean(values: np.ndarray, inside: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Mean over the band's lines of the samples inside the image; NaN where none is."""
    values = np.where(inside, values, 0.0).reshape(shape)
    counts = inside.reshape(shape).sum(axis=0)
    total = values.sum(axis=0)
    result = np.full(shape[1], np.nan)
    np.divide(total, counts, out=result, where=counts > 0)
    return result


def profile_period(
    profile: np.ndarray, *, step: float = 1.0, baseline: np.ndarray | None = None
) -> float:
    """Dominant repeat distance of a profile, from its autocorrelation.

    Parameters
    ----------
    profile : ndarray of shape (n,)
        Finite samples, evenly spaced. Never modified.
    step : float
        Distance between samples in pixels.
    baseline : ndarray of shape (n,), optional
        Slow background to remove first (e.g. the local mid-level between dark and light
        layers); a straight-line fit by default.

    Returns
    -------
    float
        In pixels; NaN when the profile holds fewer than two repeats or none stands out. The
        first autocorrelation peak after the first negative lobe that reaches half the highest
        later peak is the fundamental; the peaks at its multiples refine it (least squares
        through the origin), each to a fraction of a sample by a parabola.
    """
    values = np.asarray(profile, dtype=float)
    n = values.size
    x = np.arange(n, dtype=float)
    if baseline is None:
        baseline = np.polyval(np.polyfit(x, values, 1), x) if n >= 2 else values
    detrended = values - baseline
    detrended = detrended - detrended.mean()
    size = 1 << math.ceil(math.log2(max(2 * n, 2)))
    spectrum = np.fft.rfft(detrended, size)
    ac = np.fft.irfft(spectrum * np.conj(spectrum), size)[: n // 2]
    ac = ac / (n - np.arange(ac.size))  # unbiased: every lag weighs the same
    if ac.size < 4 or not ac[0] > 0:
        return math.nan
    ac = ac / ac[0]
    negative = np.flatnonzero(ac < 0)
    if negative.size == 0:
        return math.nan
    start = int(negative[0])
    top = float(ac[start:].max())
    if top < 0.2:
        return math.nan
    inner = ac[1:-1]
    peaks_at = np.flatnonzero((inner >= ac[:-2]) & (inner > ac[2:]) & (inner >= top / 2)) + 1
    peaks_at = peaks_at[peaks_at > start]
    if peaks_at.size == 0:
        return math.nan
    first = _parabola_peak(ac, int(peaks_at[0]))
    peaks, orders = [first], [1.0]
    m = 2
    while m * first + first / 4 < ac.size - 1:
        lo, hi = int(m * first - first / 4), int(m * first + first / 4) + 1
        j = lo + int(np.argmax(ac[lo:hi]))
        if 0 < j < ac.size - 1 and ac[j] > 0.2:
            peaks.append(_parabola_peak(ac, j))
            orders.append(float(m))
        m += 1
    return float(np.dot(orders, peaks) / np.dot(orders, orders)) * step


def _parabola_peak(values: np.ndarray, k: int) -> float:
    """Sub-sample position of the local maximum at ``k`` (parabola through three samples)."""
    a, b, c = values[k - 1], values[k], values[k + 1]
    denominator = a - 2 * b + c
    return k + (0.5 * (a - c) / denominator if denominator < 0 else 0.0)


def finite_span(profile: np.ndarray) -> tuple[np.ndarray, int]:
    """The profile between its first and last finite samples (inner gaps interpolated), and the
    index of its first finite sample.

    Raises
    ------
    ValueError
        If no sample is finite.
    """
    finite = np.isfinite(profile)
    if not finite.any():
        raise ValueError("the profile has no finite sample (is the line outside the image?)")
    first, last = np.flatnonzero(finite)[[0, -1]]
    run = profile[first : last + 1].copy()
    gaps = ~np.isfinite(run)
    if gaps.any():
        good = np.flatnonzero(~gaps)
        run[gaps] = np.interp(np.flatnonzero(gaps), good, run[good])
    return run, int(first)


def noise_sigma(values: np.ndarray) -> float:
    """Sigma of white noise in ``values``, robustly from the median absolute deviation of
    neighbouring differences (edges and slow trends barely change it)."""
    if values.size < 3:
        return 0.0
    diff = np.diff(values)
    return float(1.4826 * np.median(np.abs(diff - np.median(diff))) / math.sqrt(2.0))


def local_extremes(smooth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every local maximum (+1) and minimum (-1) of the profile, in order."""
    d = np.diff(smooth)
    maxima = np.flatnonzero((d[:-1] > 0) & (d[1:] <= 0)) + 1
    minima = np.flatnonzero((d[:-1] < 0) & (d[1:] >= 0)) + 1
    idx = np.concatenate([maxima, minima])
    kinds = np.concatenate([np.ones(maxima.size, int), -np.ones(minima.size, int)])
    order = np.argsort(idx, kind="stable")
    return idx[order], kinds[order]


def alternating_extremes(
    smooth: np.ndarray, min_contrast: float, flat: int, candidates: tuple[np.ndarray, np.ndarray]
) -> tuple[list[int], list[int]]:
    """Alternating maxima and minima, each at least ``min_contrast`` from the previous one.

    A zig-zag filter: a maximum is kept once the profile has dropped ``min_contrast`` below it
    (and a minimum once it has risen as much), so small wiggles are skipped.

    ``candidates`` are (indices, types) in order: +1 maximum, -1 minimum. A profile end is a
    candidate too when the profile starts or ends on a plateau (flat over ``flat`` samples).
    """
    idx, kinds = candidates
    n = smooth.size
    ends_i, ends_t = [], []
    for end, part, inner in ((0, smooth[:flat], flat), (n - 1, smooth[-flat:], n - 1 - flat)):
        if np.ptp(part) < min_contrast / 2:
            ends_i.append(end)
            ends_t.append(1 if smooth[end] >= smooth[min(max(inner, 0), n - 1)] else -1)
    items = list(zip(idx.tolist(), kinds.tolist(), strict=True))
    if ends_i and ends_i[0] == 0:
        items.insert(0, (0, ends_t[0]))
    if ends_i and ends_i[-1] == n - 1:
        items.append((n - 1, ends_t[-1]))
    kept_i: list[int] = []
    kept_t: list[int] = []
    high = low = None  # running extremes until the first significant swing
    for i, t in items:
        v = smooth[i]
        if not kept_i:
            if t == 1 and (high is None or v > smooth[high]):
                high = i
            if t == -1 and (low is None or v < smooth[low]):
                low = i
            if high is not None and low is not None and smooth[high] - smooth[low] >= min_contrast:
                kept_i, kept_t = ([high, low], [1, -1]) if high < low else ([low, high], [-1, 1])
        elif t == kept_t[-1]:
            if (v - smooth[kept_i[-1]]) * t > 0:
                kept_i[-1] = i
        elif abs(v - smooth[kept_i[-1]]) >= min_contrast:
            kept_i.append(i)
            kept_t.append(t)
    return kept_i, kept_t
