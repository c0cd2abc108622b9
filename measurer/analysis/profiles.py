"""Intensity profiles along straight lines, averaged across a band.

Sampling follows ImageJ's Plot Profile (checked against it, see ``docs/measurements/layers.md``):
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
