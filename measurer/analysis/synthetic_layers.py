"""Ground-truth generators for layer analysis and scale bar detection.

Layered images are rendered analytically: each boundary is a straight line (tapering stacks
fan out, so their boundaries are not parallel) and the blurred image is the sum of Gaussian
edge profiles across those lines, so the true boundary positions are known exactly. Scale bar
images draw a bar with sub-pixel ends (area coverage) on a micrograph-like texture, with a
label, optionally inside a box, with end ticks and JPEG compression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.special import ndtr

#: A TrueType font with the micro sign, where the system has one (for rendered labels).
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@dataclass(frozen=True)
class LayeredTruth:
    """Where the boundaries of a rendered layer stack are.

    Attributes
    ----------
    origin : (row, col)
        Point of the stack where the across-layer coordinate ``u`` and the along-layer
        coordinate ``v`` are 0.
    normal, direction : (row, col)
        Unit vectors across and along the layers.
    edges : ndarray
        Boundary positions ``u`` at ``v = 0``, increasing.
    kinds : tuple of str
        ``"dark"`` or ``"light"`` for each layer between consecutive edges.
    taper : float
        Relative width change per pixel along ``direction``: at ``v`` every edge sits at
        ``edges * (1 + taper * v)``.
    blur : float
        Gaussian blur sigma in pixels.
    angle_deg : float
        Layer direction, degrees counter-clockwise from +x with y up.
    period : float
        Repeat distance (dark + light width) at ``v = 0`` of a periodic stack, else NaN.
    """

    origin: tuple[float, float]
    normal: tuple[float, float]
    direction: tuple[float, float]
    edges: np.ndarray
    kinds: tuple[str, ...]
    taper: float
    blur: float
    angle_deg: float
    period: float = math.nan

    def crossings(self, start, end) -> np.ndarray:
        """Distances from ``start`` along the segment to ``end`` where it crosses boundaries."""
        p0, p1 = np.asarray(start, float), np.asarray(end, float)
        length = float(np.hypot(*(p1 - p0)))
        step = (p1 - p0) / length
        n, d, o = np.asarray(self.normal), np.asarray(self.direction), np.asarray(self.origin)
        u0, u1 = (p0 - o) @ n, step @ n
        v0, v1 = (p0 - o) @ d, step @ d
        e = self.edges
        t = (e * (1 + self.taper * v0) - u0) / (u1 - e * self.taper * v1)
        return np.sort(t[(t >= 0) & (t <= length)])


def _unit(angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Along-layer and across-layer unit vectors (row, col) for a layer angle (y up)."""
    a = math.radians(angle_deg)
    direction = np.array([-math.sin(a), math.cos(a)])
    normal = np.array([direction[1], -direction[0]])
    if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
        normal = -normal
    return direction, normal


def layered_image(
    shape: tuple[int, int],
    widths,
    *,
    angle_deg: float = 0.0,
    taper: float = 0.0,
    blur: float = 1.5,
    noise: float = 0.0,
    gradient: float = 0.0,
    bands: int = 0,
    levels: tuple[float, float] = (0.3, 0.7),
    level_jitter: float = 0.0,
    seed: int | None = None,
) -> tuple[np.ndarray, LayeredTruth]:
    """A stack of alternating dark and light layers between two wide outer regions.

    The outer region before the stack is light (the first layer is dark), the one after it
    of the opposite kind to the last layer, so every layer has two boundaries.

    Parameters
    ----------
    shape : (rows, cols)
    widths : sequence of float
        Layer widths in pixels across the stack, the first one dark; the stack is centred
        on the image centre.
    angle_deg : float
        Direction of the layers, counter-clockwise from +x with y up.
    taper : float
        Relative width change per pixel along the layers (0.001: 10 % wider 100 px further).
    blur : float
        Gaussian blur sigma in pixels (> 0).
    noise : float
        Standard deviation of additive Gaussian noise.
    gradient : float
        Background ramp: brightness change across the whole image diagonal.
    bands : int
        Number of soft-edged horizontal bands of different brightness added to the image.
    levels : (dark, light)
        Mean brightness of dark and light layers.
    level_jitter : float
        Each layer's brightness varies by up to this much.
    seed : int, optional
        For the noise, the bands and the jitter.

    Returns
    -------
    image : ndarray of float32, shape ``shape``
    truth : LayeredTruth
    """
    rng = np.random.default_rng(seed)
    widths = np.asarray(widths, dtype=float)
    if widths.ndim != 1 or widths.size == 0 or np.any(widths <= 0) or blur <= 0:
        raise ValueError("widths must be positive and blur > 0")
    direction, normal = _unit(angle_deg)
    origin = np.array([(shape[0] - 1) / 2, (shape[1] - 1) / 2])
    edges = np.concatenate([[0.0], np.cumsum(widths)]) - widths.sum() / 2
    kinds = tuple("dark" if i % 2 == 0 else "light" for i in range(widths.size))
    dark, light = levels
    values = [light + rng.uniform(-level_jitter, level_jitter)]  # outer, layers..., outer
    for kind in [*kinds, "dark" if kinds[-1] == "light" else "light"]:
        base = dark if kind == "dark" else light
        values.append(base + rng.uniform(-level_jitter, level_jitter))
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    rel_r, rel_c = rows - origin[0], cols - origin[1]
    u = rel_r * normal[0] + rel_c * normal[1]
    v = rel_r * direction[0] + rel_c * direction[1]
    steps = np.diff(values)
    if taper == 0:  # parallel layers: the image is a function of u alone, tabulated finely
        grid = np.arange(u.min() - 1, u.max() + 1.01, 0.01)
        table = values[0] + sum(
            d * ndtr((grid - e) / blur) for d, e in zip(steps, edges, strict=True)
        )
        image = np.interp(u, grid, table)
    else:
        image = np.full(shape, values[0])
        for step, e in zip(steps, edges, strict=True):
            image += step * ndtr((u - e * (1 + taper * v)) / math.hypot(1.0, e * taper) / blur)
    diagonal = math.hypot(*shape)
    ramp_angle = rng.uniform(0, 2 * math.pi)
    image += gradient * (rel_r * math.sin(ramp_angle) + rel_c * math.cos(ramp_angle)) / diagonal
    for _ in range(bands):
        top, height = rng.uniform(0, shape[0]), rng.uniform(0.1, 0.3) * shape[0]
        amplitude = rng.uniform(-0.1, 0.1)
        image += amplitude * (ndtr((rows - top) / 8.0) - ndtr((rows - top - height) / 8.0))
    if noise > 0:
        image += rng.normal(0.0, noise, shape)
    period = math.nan
    if (
        widths.size >= 4
        and np.allclose(widths[0::2], widths[0])
        and np.allclose(widths[1::2], widths[1])
    ):
        period = float(widths[0] + widths[1])
    truth = LayeredTruth(
        (float(origin[0]), float(origin[1])),
        (float(normal[0]), float(normal[1])),
        (float(direction[0]), float(direction[1])),
        edges,
        kinds,
        float(taper),
        float(blur),
        float(angle_deg),
        period,
    )
    return image.astype(np.float32), truth


def random_layered_image(
    seed: int, shape: tuple[int, int] = (320, 320)
) -> tuple[np.ndarray, LayeredTruth]:
    """A layered image with every nuisance drawn at random (tests and benchmarks).

    Random widths (5-16 px, never below 4 blur sigmas), tilt -60..60°, taper up to 1 % per
    10 px, blur sigma 1-2 px, noise, a background gradient and bands of different brightness.
    """
    rng = np.random.default_rng(seed)
    blur = rng.uniform(1.0, 2.0)
    count = int(rng.integers(5, 10))
    widths = rng.uniform(max(5.0, 4 * blur), 16.0, count)
    image, truth = layered_image(
        shape,
        widths,
        angle_deg=rng.uniform(-60, 60),
        taper=rng.uniform(-0.001, 0.001),
        blur=blur,
        noise=rng.uniform(0.01, 0.05),
        gradient=rng.uniform(0.0, 0.3),
        bands=int(rng.integers(0, 3)),
        level_jitter=0.05,
        seed=int(rng.integers(2**31)),
    )
    return image, truth


def micrograph_texture(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Blobby grey texture in [0, 1] that looks roughly like an electron micrograph."""
    small = rng.random((max(2, shape[0] // 6), max(2, shape[1] // 6))).astype(np.float32)
    texture = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    texture = cv2.GaussianBlur(texture, (0, 0), 2.0)
    texture += rng.normal(0.0, 0.06, shape).astype(np.float32)
    low, high = np.percentile(texture, [1, 99])
    return np.clip((texture - low) / (high - low) * 0.7 + 0.15, 0.0, 1.0)


@dataclass(frozen=True)
class ScaleBarTruth:
    """The bar drawn by :func:`scalebar_image` (``present`` False when none was drawn).

    ``x0`` and ``x1`` are the bar's outer edges in pixel-centre coordinates (the bar covers
    ``x0 <= x <= x1``), ``row`` its vertical centre, ``label`` the text written beside it.
    """

    present: bool
    x0: float = math.nan
    x1: float = math.nan
    row: float = math.nan
    height: int = 0
    polarity: str = ""
    label: str = ""

    @property
    def length(self) -> float:
        """Bar length in pixels between its outer edges."""
        return self.x1 - self.x0


def _coverage(count: int, start: float, stop: float) -> np.ndarray:
    """Share of each of ``count`` pixels (centres 0, 1, ...) covered by the interval."""
    centres = np.arange(count, dtype=float)
    return np.clip(np.minimum(centres + 0.5, stop) - np.maximum(centres - 0.5, start), 0.0, 1.0)


def _text_alpha(text: str, size: int) -> np.ndarray:
    """Coverage (0..1) of ``text`` rendered ``size`` px high, cropped to its ink plus 1 px."""
    if DEJAVU_SANS.exists():
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.truetype(str(DEJAVU_SANS), size)
        box = font.getbbox(text)
        mask = Image.new("L", (box[2] + 2, box[3] + 2), 0)
        ImageDraw.Draw(mask).text((1, 1), text, font=font, fill=255)
        alpha = np.asarray(mask, dtype=np.float32) / 255.0
    else:
        text = text.replace("µ", "u").replace("μ", "u")
        scale = size / 30.0
        (width, height), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        alpha = np.zeros((height + base + 4, width + 4), np.float32)
        org = (2, height + 2)
        cv2.putText(alpha, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 1.0, 2, cv2.LINE_AA)
    ink_rows = np.flatnonzero(alpha.max(axis=1) > 0)
    ink_cols = np.flatnonzero(alpha.max(axis=0) > 0)
    return np.pad(alpha[ink_rows[0] : ink_rows[-1] + 1, ink_cols[0] : ink_cols[-1] + 1], 1)


def _paint(canvas: np.ndarray, alpha: np.ndarray, top: int, left: int, value: float) -> None:
    region = canvas[top : top + alpha.shape[0], left : left + alpha.shape[1]]
    alpha = alpha[: region.shape[0], : region.shape[1]]
    region[:] = region * (1 - alpha) + value * alpha


def scalebar_image(
    seed: int,
    shape: tuple[int, int] = (360, 480),
    *,
    bar: bool = True,
    label: str | None = None,
    boxed: bool | None = None,
    ticks: bool | None = None,
    polarity: str | None = None,
    jpeg_quality: int | None = None,
) -> tuple[np.ndarray, ScaleBarTruth]:
    """A synthetic micrograph with (or without) a scale bar; unset options are drawn at random.

    The bar is 25 px to 40 % of the image width long, 2-10 px high, with sub-pixel ends
    (area coverage), in a random corner or, one time in four, anywhere; ticks, when drawn, are
    flush with its outer edges. Its label ("10 µm"...) is written above, below or to its
    right. ``jpeg_quality`` 0 means no compression; None draws 60-95, or none 40 % of the time.
    Without a bar, the label is still written somewhere.

    Returns
    -------
    image : ndarray of uint8, shape ``shape``
    truth : ScaleBarTruth
    """
    rng = np.random.default_rng(seed)
    rows, cols = shape
    canvas = micrograph_texture(shape, rng)
    boxed = bool(rng.random() < 0.5) if boxed is None else boxed
    ticks = bool(rng.random() < 0.3) if ticks is None else ticks
    polarity = str(rng.choice(["dark", "light"])) if polarity is None else polarity
    if jpeg_quality is None:
        jpeg_quality = int(rng.integers(60, 96)) if rng.random() < 0.6 else 0
    value, background = (0.02, 0.97) if polarity == "dark" else (0.98, 0.03)
    height = int(rng.integers(2, 11)) if bar else 0
    length = float(rng.uniform(25.0, 0.4 * cols)) if bar else 0.0
    text = label or f"{int(rng.choice([1, 2, 5, 10, 20, 50, 100, 200, 500]))} µm"
    alpha = _text_alpha(text, int(np.clip(2 * height + 10, 12, 26)))
    place = str(rng.choice(["above", "below", "right"]))
    pad, tick = 6, (int(rng.integers(1, 4)) if ticks and bar else 0)
    bar_w = math.ceil(length) + 2 if bar else 0
    bar_h = height + 4 * tick
    if place == "right":
        box_w = bar_w + alpha.shape[1] + 3 * pad
        box_h = max(bar_h, alpha.shape[0]) + 2 * pad
    else:
        box_w = max(bar_w, alpha.shape[1]) + 2 * pad
        box_h = bar_h + alpha.shape[0] + 3 * pad
    if rng.random() < 0.75:
        corner = int(rng.integers(0, 4))
        top = 6 if corner < 2 else rows - box_h - 6
        left = 6 if corner % 2 == 0 else cols - box_w - 6
    else:
        top = int(rng.integers(6, rows - box_h - 6))
        left = int(rng.integers(6, cols - box_w - 6))
    if boxed:
        canvas[top : top + box_h, left : left + box_w] = background
    bar_top = top + pad + 2 * tick + (alpha.shape[0] + pad if place == "above" else 0)
    x0 = left + pad + 1 + float(rng.uniform(0.0, 1.0))
    x1 = x0 + length
    if place == "right":
        text_top, text_left = top + pad, left + 2 * pad + bar_w
    else:
        text_top = top + pad if place == "above" else bar_top + height + 2 * tick + pad
        text_left = left + pad + max(0, (bar_w - alpha.shape[1]) // 2)
    _paint(canvas, alpha, text_top, text_left, value)
    truth = ScaleBarTruth(False, label=text)
    if bar:
        cover = _coverage(cols, x0, x1)
        band = canvas[bar_top : bar_top + height]
        band[:] = band * (1 - cover) + value * cover
        if ticks:
            width = float(rng.uniform(1.5, 3.0))
            cover = _coverage(cols, x0, x0 + width) + _coverage(cols, x1 - width, x1)
            below = bar_top + height
            for part in (canvas[bar_top - 2 * tick : bar_top], canvas[below : below + 2 * tick]):
                part[:] = part * (1 - cover) + value * cover
        truth = ScaleBarTruth(True, x0, x1, bar_top + (height - 1) / 2, height, polarity, text)
    image = np.clip(np.round(canvas * 255.0), 0, 255).astype(np.uint8)
    if jpeg_quality:
        _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return image, truth
