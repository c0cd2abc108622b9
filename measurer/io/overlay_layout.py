"""What an annotated export shows and where: the 8-bit display image, fonts, label and scale bar
boxes, and the automatic sizes of strokes and markers.

Shared by the raster export (:mod:`measurer.io.annotated`) and the vector one
(:mod:`measurer.io.svg`), so both place everything identically. Layout boxes are in *edge
coordinates* ``(x, y)``: pixel ``(row, col)`` covers ``[col, col + 1] × [row, row + 1]``, which is
SVG's frame and is measurer's ``(row, col)`` shifted by +0.5.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import ImageFont

from measurer.core.annotations import Annotation
from measurer.core.calibration import Calibration
from measurer.core.measurements import measure_annotation
from measurer.core.style import LABEL_QUANTITY, ScaleBar, format_length, value_text

#: Refuse exports larger than this many pixels (as the GUI's PNG export does).
MAX_EXPORT_PIXELS = 16384 * 16384
#: Percentiles of the automatic levels (ImageJ's "Auto" saturates 0.35 % at each end).
AUTO_PERCENTILES = (0.35, 99.65)
#: Text fonts tried in turn (found by FreeType in the system's font folders).
FONT_FILES = {False: ("DejaVuSans.ttf",), True: ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")}
#: ASCII stand-ins for characters a font may lack.
FALLBACKS = {"µ": "u", "²": "^2", "°": " deg"}
_ABSENT = "\U000f0000"  # a private-use character no text font draws


def display_image(image: np.ndarray, levels: tuple[float, float] | str | None = None) -> np.ndarray:
    """The image as shown in an export: ``(rows, cols, 3)`` uint8 RGB, a new array.

    Parameters
    ----------
    image : ndarray of shape (rows, cols), (rows, cols, 1), (rows, cols, 3) or (rows, cols, 4)
        Any real or boolean dtype (booleans count as 0 and 255); alpha is dropped. Never
        modified.
    levels : (low, high), "auto" or None
        Values mapped to black and white (linearly, clipped). ``"auto"``: the 0.35th and 99.65th
        percentiles of the finite values. None: 8-bit and boolean images as stored (0-255, 0-1),
        every other dtype ``"auto"``.

    Raises
    ------
    ValueError
        Unsupported shape or dtype, too large an image, or ``low >= high``.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        channels = image[..., :1] if image.shape[2] == 1 else image[..., :3]
    elif image.ndim == 2:
        channels = image[..., None]
    else:
        raise ValueError(f"an image must be (rows, cols) or (rows, cols, 1|3|4), got {image.shape}")
    if image.shape[0] * image.shape[1] == 0:
        raise ValueError("the image is empty")
    if image.shape[0] * image.shape[1] > MAX_EXPORT_PIXELS:
        raise ValueError(f"the image ({image.shape[1]}×{image.shape[0]}) is too large to export")
    if channels.dtype == bool:
        channels = channels.astype(np.uint8) * np.uint8(255)
    elif not (np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)):
        raise ValueError(f"cannot display an image of dtype {image.dtype}")
    if levels is None and channels.dtype == np.uint8:
        out = channels
    else:
        low, high = _levels(channels, levels)
        scaled = (channels.astype(np.float32) - np.float32(low)) * np.float32(255 / (high - low))
        out = np.nan_to_num(np.clip(scaled, 0, 255), nan=0.0)
        out = np.rint(out).astype(np.uint8)
    return np.array(np.broadcast_to(out, (*image.shape[:2], 3)), order="C")  # always a copy


def _levels(channels: np.ndarray, levels: tuple[float, float] | str | None) -> tuple[float, float]:
    if levels is None or (isinstance(levels, str) and levels == "auto"):
        step = max(1, math.ceil(math.sqrt(channels.shape[0] * channels.shape[1] / 1e6)))
        sample = channels[::step, ::step].astype(float)
        sample = sample[np.isfinite(sample)]
        if sample.size == 0:
            return 0.0, 1.0
        low, high = (float(v) for v in np.percentile(sample, AUTO_PERCENTILES))
        if high <= low:  # a nearly constant image: use its full range
            low, high = float(sample.min()), float(sample.max())
        return (low, high) if high > low else (low - 0.5, low + 0.5)
    if isinstance(levels, str):
        raise ValueError(f"levels must be (low, high), 'auto' or None, got {levels!r}")
    low, high = (float(v) for v in levels)
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise ValueError(f"levels need finite low < high, got {levels!r}")
    return low, high


@functools.lru_cache(maxsize=32)
def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (bold) at ``size`` pixels per em, or Pillow's built-in font if it is missing."""
    for name in FONT_FILES[bold]:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)  # Aileron, scalable since Pillow 10.1


@functools.lru_cache(maxsize=256)
def _has_glyph(font: ImageFont.FreeTypeFont, char: str) -> bool:
    drawn, absent = font.getmask(char), font.getmask(_ABSENT)
    return drawn.size != absent.size or bytes(drawn) != bytes(absent)


def displayable(text: str, font: ImageFont.FreeTypeFont) -> str:
    """``text`` with characters the font lacks replaced (``"µm"`` becomes ``"um"``)."""
    return "".join(FALLBACKS[c] if c in FALLBACKS and not _has_glyph(font, c) else c for c in text)


@dataclass(frozen=True)
class TextBox:
    """A line of text: its baseline origin ``(x, y)`` in edge coordinates and font.

    ``text`` is what the raster draws (with fallbacks for missing glyphs); ``unicode`` is the
    original text, for SVG. ``box`` is the background ``(x0, y0, x1, y1)`` (labels) or the ink
    (scale bar), in edge coordinates.
    """

    text: str
    unicode: str
    x: float
    y: float
    size: int
    bold: bool
    box: tuple[float, float, float, float]

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        """The Pillow font to draw with."""
        return load_font(self.size, self.bold)


@dataclass(frozen=True)
class OverlaySizes:
    """Stroke width, point marker radius and label font size, in image pixels."""

    line_width: float
    point_radius: float
    font_size: int

    @classmethod
    def for_shape(cls, shape: Sequence[int], line_width: float | None = None) -> OverlaySizes:
        """Sizes that grow with the image's shorter side: strokes of 1 px per 500 (at least 2),
        markers of radius 1 px per 160 (at least 4), labels of 1 px per 48 (at least 12)."""
        side = min(int(shape[0]), int(shape[1]))
        if line_width is not None and not (math.isfinite(line_width) and line_width > 0):
            raise ValueError(f"the line width must be positive, got {line_width!r}")
        return cls(
            line_width=line_width or max(2, round(side / 500)),
            point_radius=max(4, round(side / 160)),
            font_size=max(12, round(side / 48)),
        )


def value_labels(
    annotations: Iterable[Annotation],
    calibration: Calibration,
    shape: Sequence[int],
    font_size: int,
) -> list[TextBox]:
    """One label per annotation that has a value, above its topmost vertex (as on the canvas).

    The box's bottom-left corner is 2 px above the topmost vertex (rounded to a pixel edge); a
    shape too close to the top has its label 2 px below its lowest vertex instead. Boxes are
    moved inside the image if they would stick out.
    """
    rows, cols = int(shape[0]), int(shape[1])
    font = load_font(font_size)
    ascent, descent = font.getmetrics()
    pad = max(1, round(font_size * 0.2))
    labels = []
    for annotation in annotations:
        if annotation.kind not in LABEL_QUANTITY:
            continue
        text = value_text(measure_annotation(annotation, calibration)[0], annotation.kind)
        if not text:
            continue
        shown = displayable(text, font)
        width = math.ceil(font.getlength(shown)) + 2 * pad
        height = ascent + descent + 2 * pad
        r, c = annotation.vertices[np.argmin(annotation.vertices[:, 0])]
        # On whole pixels, so the box's edges are sharp.
        x0 = min(max(round(c + 0.5), 0), max(cols - width, 0))
        y0 = round(r + 0.5 - 2 - height)
        if y0 < 0:  # no room above: below the shape instead of over it
            y0 = round(annotation.vertices[:, 0].max() + 0.5 + 2)
        y0 = min(max(y0, 0), max(rows - height, 0))
        box = (x0, y0, x0 + width, y0 + height)
        labels.append(TextBox(shown, text, x0 + pad, y0 + pad + ascent, font_size, False, box))
    return labels


@dataclass(frozen=True)
class ScaleBarLayout:
    """Where the scale bar goes: the bar ``(x0, y0, x1, y1)`` in edge coordinates, its colour,
    label (None without) and physical length.

    The bar's left end and its top and bottom lie on pixel edges, so a bar of a whole number of
    pixels covers exactly that many columns.
    """

    bar: tuple[float, float, float, float]
    colour: tuple[int, int, int]
    label: TextBox | None
    length: float


def scale_bar_layout(
    options: ScaleBar | None, calibration: Calibration, shape: Sequence[int]
) -> ScaleBarLayout | None:
    """Place the scale bar and its label in a corner (as the canvas does), or None when not drawn.

    Raises
    ------
    ValueError
        When the bar is longer than the image is wide.
    """
    if options is None:
        return None
    length = options.resolved_length(calibration, tuple(shape))
    if length is None:
        return None
    rows, cols = int(shape[0]), int(shape[1])
    thickness, font_size, margin = options.sizes(shape)
    bar_width = length / calibration.pixel_width
    if bar_width > cols:
        raise ValueError(
            f"a scale bar of {format_length(length, calibration.unit)} is {bar_width:.0f} px "
            f"long, longer than the image is wide ({cols} px)"
        )
    label, ink_w, ink_h, gap = None, 0, 0, 0
    text = format_length(length, calibration.unit)
    if options.label:
        font = load_font(font_size, bold=True)
        shown = displayable(text, font)
        left, top, right, bottom = font.getbbox(shown, anchor="ls")
        ink_w, ink_h, gap = right - left, bottom - top, round(0.3 * font_size)
    block_w, block_h = max(bar_width, ink_w), thickness + gap + ink_h
    vertical, horizontal = options.position.split("-")
    x = margin if horizontal == "left" else cols - margin - block_w
    y = margin if vertical == "top" else rows - margin - block_h
    x0 = min(max(round(x + (block_w - bar_width) / 2), 0), math.floor(cols - bar_width))
    y0 = max(round(y), 0)
    bar = (float(x0), float(y0), x0 + bar_width, float(y0 + thickness))
    if options.label:
        centre = x0 + bar_width / 2
        ink = (centre - ink_w / 2, y0 + thickness + gap, centre + ink_w / 2, y0 + block_h)
        label = TextBox(shown, text, ink[0] - left, ink[1] - top, font_size, True, ink)
    return ScaleBarLayout(bar, options.rgb, label, length)
