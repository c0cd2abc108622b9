"""The length written beside a scale bar: tolerant parsing and optional OCR.

OCR uses Tesseract through ``pytesseract`` (an optional extra, imported only when needed).
The label is looked for to the right of the bar, below, above and to the left, in that
order. Each region is binarised by closeness to the bar's own brightness (labels are written
in the bar's colour), which removes most of the micrograph behind unboxed labels, enlarged
and read as one line or one block of text.

Tesseract misreads the micro sign: "10µm" comes out as "10um", "10pm", "10µ m" or "10 m".
:func:`parse_scale_label` accepts these; a reading that needed a guess, or whose number is
not a usual scale bar value (1, 2, 2.5 or 5 times a power of ten), is marked not certain, and
the front ends then ask the user to confirm the length and unit, pre-filled with the guess.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import cv2
import numpy as np

from measurer.analysis.profiles import grayscale

#: Metres per unit for the units a scale bar label can give (spelled as measurer spells them).
UNIT_METRES = {"nm": 1e-9, "µm": 1e-6, "mm": 1e-3, "cm": 1e-2, "m": 1.0}

_SURE_UNITS = [
    (r"nanomet(?:er|re)s?|nm", "nm"),
    (r"micromet(?:er|re)s?|microns?|[µμ]\s?m|um", "µm"),
    (r"millimet(?:er|re)s?|mm", "mm"),
    (r"centimet(?:er|re)s?|cm", "cm"),
]
_GUESSED_UNITS = [
    (r"nrn|n\s+m|rn", "nm"),  # "nm" read as "nrn", "n m"
    (r"[µμ]|u\s+m|[pjyw]\s?m|[`'´,.\"*]\s?m|u|m", "µm"),  # a lost or misread micro sign
]
_NUMBER = r"(?P<number>\d+(?:[.,]\d+)?)"


@dataclass(frozen=True)
class ScaleLabel:
    """A length read from a label.

    Attributes
    ----------
    value : float
        The number.
    unit : str
        One of :data:`UNIT_METRES`.
    text : str
        The text it was read from.
    certain : bool
        False when the unit was guessed from a misreading or the number is unusual.
    """

    value: float
    unit: str
    text: str
    certain: bool

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"value": self.value, "unit": self.unit, "text": self.text, "certain": self.certain}


def _usual(value: float) -> bool:
    """1, 2, 2.5 or 5 times a power of ten (and 3, common on some instruments)."""
    if value <= 0:
        return False
    mantissa = value / 10 ** math.floor(math.log10(value))
    return any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 3, 5))


def parse_scale_label(text: str) -> ScaleLabel | None:
    """The first "number unit" in ``text``, tolerant of OCR misreadings.

    Parameters
    ----------
    text : str
        E.g. ``"500 nm"``, ``"1 µm"``, ``"2 um"``, ``"10 μm"``, ``"10pm"``, ``"10µ m"``,
        ``"0,5 mm"``. Letters O and l next to digits are read as 0 and 1; a lone 1 read as
        a letter before a unit (``"Tum"``, ``"l nm"``) is read as 1, not certain.

    Returns
    -------
    ScaleLabel or None
        None when no number followed by a length unit is found.
    """
    cleaned = re.sub(r"(?<=\d)[oO]|[oO](?=\d)", "0", text)
    cleaned = re.sub(r"(?<=\d)[lI|]|[lI|](?=\d)", "1", cleaned)
    label = _first_length(cleaned, text)
    if label is None:
        guessed = _LONE_ONE.sub("1", cleaned)
        if guessed != cleaned and (label := _first_length(guessed, text)) is not None:
            label = ScaleLabel(label.value, label.unit, label.text, certain=False)
    return label


#: A lone "1" that Tesseract read as a letter, before a length unit ("Tum" for "1 um").
_LONE_ONE = re.compile(r"(?<![\w.,])[TIl|\]!](?=\s?(?:[µμu]m|nm|mm|cm)(?![a-zA-Z]))")


def _first_length(cleaned: str, text: str) -> ScaleLabel | None:
    """The first number with a length unit in ``cleaned`` (read from ``text``)."""
    for table, certain in ((_SURE_UNITS, True), (_GUESSED_UNITS, False)):
        for pattern, unit in table:
            unit_re = r"\s*(?:" + pattern + r")(?![a-zA-Z])"
            match = re.search(_NUMBER + unit_re, cleaned, flags=re.IGNORECASE)
            if match:
                value = float(match.group("number").replace(",", "."))
                if value <= 0:
                    continue
                return ScaleLabel(value, unit, text.strip(), certain and _usual(value))
    return None


def tesseract_available() -> bool:
    """True when ``pytesseract`` imports and finds the ``tesseract`` program."""
    try:
        import pytesseract

        pytesseract.get_tesseract_version()
    except Exception:  # ImportError, TesseractNotFoundError, OSError...
        return False
    return True


class OcrUnavailableError(RuntimeError):
    """Tesseract OCR (or ``pytesseract``) is not installed."""


def _regions(shape, top: int, bottom: int, x0: float, x1: float) -> list[tuple]:
    """(name, rows slice, cols slice) of the places a label can be, in order of likelihood."""
    rows, cols = shape
    height = max(bottom - top + 1, 6)
    length = x1 - x0
    reach = int(2 * height + 24)
    c0, c1 = math.floor(x0), math.ceil(x1) + 1
    width = int(max(length, 12 * height, 120))
    spread = int(max(length / 2, 8 * height, 60))  # labels can be wider than the bar
    beside = slice(top - reach, bottom + reach + 1)
    across = slice(c0 - spread, c1 + spread)
    out = [
        ("right", beside, slice(c1 + 1, c1 + 1 + width)),
        ("below", slice(bottom + 2, bottom + 2 + 2 * reach), across),
        ("above", slice(top - 1 - 2 * reach, top - 1), across),
        ("left", beside, slice(c0 - 1 - width, c0 - 1)),
    ]
    clipped = []
    for name, r, c in out:
        r = slice(max(0, r.start), min(rows, r.stop))
        c = slice(max(0, c.start), min(cols, c.stop))
        if r.stop - r.start >= 6 and c.stop - c.start >= 6:
            clipped.append((name, r, c))
    return clipped


def _page(
    crop: np.ndarray,
    level: float,
    contrast: float,
    side: str,
    bar_rows: tuple[int, int],
    bar_cols: tuple[int, int],
) -> np.ndarray | None:
    """The crop as dark text on white for Tesseract, enlarged so that glyphs are ~40 px tall.

    Only pixels near the bar's colour count as ink (labels are written in it), without the
    pieces that run out of the region away from the bar (image content, not a label) and
    specks much smaller than the tallest glyph; beside the bar, only glyphs level with it
    (``bar_rows``: its first and last row in the crop), above or below it only glyphs over
    it or under it (``bar_cols``: its first and last column), so that dark image content
    beside a label does not pass for one. None when no ink is left.
    """
    closeness = np.clip(1.0 - np.abs(crop - level) / max(0.5 * contrast, 1e-6), 0.0, 1.0)
    ink = (closeness > 0.5).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, w, h, area = (stats[:, i] for i in range(5))
    rows, cols = crop.shape
    out_top, out_bottom = y == 0, y + h == rows
    out_left, out_right = x == 0, x + w == cols
    escapes = {
        "right": out_top | out_bottom,
        "left": out_top | out_bottom,
        "above": out_top | out_left | out_right,
        "below": out_bottom | out_left | out_right,
    }[side]
    keep = ~escapes & (area >= 3)
    if side in ("left", "right"):
        keep &= (y <= bar_rows[1]) & (y + h - 1 >= bar_rows[0])
    else:
        keep &= (x <= bar_cols[1]) & (x + w - 1 >= bar_cols[0])
    keep[0] = False
    if not keep.any():
        return None
    tallest = int(h[keep].max())
    keep &= h >= 0.5 * tallest
    if area[keep].sum() < 20:
        return None
    mask = cv2.dilate(keep[labels].astype(np.uint8), np.ones((3, 3), np.uint8))
    page = (255 * (1.0 - closeness * mask)).astype(np.float32)
    factor = float(np.clip(40.0 / tallest, 1.0, 6.0))
    page = cv2.resize(page, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    page = np.clip(page, 0, 255).astype(np.uint8)
    return cv2.copyMakeBorder(page, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)


def read_scale_label(
    image: np.ndarray, top: int, bottom: int, x0: float, x1: float, *, timeout: float = 10.0
) -> ScaleLabel | None:
    """Read the label of the scale bar at rows ``top..bottom`` from ``x0`` to ``x1`` by OCR.

    Parameters
    ----------
    image : ndarray of shape (M, N) or (M, N, C)
        Never modified.
    top, bottom : int
        First and last row of the bar.
    x0, x1 : float
        Its outer edges (see :class:`~measurer.analysis.scalebar.ScaleBar`).
    timeout : float
        Seconds allowed for each Tesseract run.

    Returns
    -------
    ScaleLabel or None
        The first certain reading, else the first uncertain one, else None.

    Raises
    ------
    OcrUnavailableError
        When ``pytesseract`` or the ``tesseract`` program is missing.
    """
    try:
        import pytesseract
    except ImportError as exc:
        raise OcrUnavailableError("pytesseract is not installed (pip install pytesseract)") from exc
    grey = grayscale(image).astype(np.float32)
    span = slice(max(0, math.ceil(x0)), math.floor(x1) + 1)
    bar = grey[top : bottom + 1, span]
    if bar.size == 0:
        raise ValueError("the bar is outside the image")
    level = float(np.median(bar))
    around = np.concatenate(
        [grey[max(0, top - 3) : top, span].ravel(), grey[bottom + 1 : bottom + 4, span].ravel()]
    )
    contrast = abs(level - float(np.median(around))) if around.size else 0.0
    guess = None
    for name, rows, cols in _regions(grey.shape, top, bottom, x0, x1):
        bar_rows = (top - rows.start, bottom - rows.start)
        bar_cols = (span.start - cols.start, span.stop - 1 - cols.start)
        page = _page(grey[rows, cols], level, contrast, name, bar_rows, bar_cols)
        if page is None:
            continue
        try:
            text = pytesseract.image_to_string(page, config="--psm 11", timeout=timeout)
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrUnavailableError(
                "Tesseract OCR is not installed (e.g. apt-get install tesseract-ocr)"
            ) from exc
        except RuntimeError:  # timeout
            continue
        label = parse_scale_label(text)
        if label is not None and label.certain:
            return label
        guess = guess or label
    return guess


@dataclass(frozen=True)
class PixelSizeCheck:
    """A pixel size from file metadata compared with the one a scale bar gives.

    Attributes
    ----------
    metadata, scale_bar : float
        Pixel sizes in ``unit`` per pixel.
    unit : str
        The metadata's unit.
    difference : float
        ``scale_bar / metadata - 1``.
    agree : bool
        True when ``|difference|`` is at most the tolerance.
    """

    metadata: float
    scale_bar: float
    unit: str
    difference: float
    agree: bool

    def message(self) -> str:
        """One plain sentence saying whether the two agree."""
        sizes = f"scale bar {self.scale_bar:.6g} {self.unit}/px, metadata {self.metadata:.6g}"
        if self.agree:
            return f"the scale bar agrees with the metadata ({sizes} {self.unit}/px)"
        return (
            f"the scale bar and the metadata disagree by {abs(self.difference) * 100:.1f} % "
            f"({sizes} {self.unit}/px): choose one"
        )

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {
            "metadata": self.metadata,
            "scale_bar": self.scale_bar,
            "unit": self.unit,
            "difference": self.difference,
            "agree": self.agree,
        }


def compare_pixel_size(
    metadata_size: float,
    metadata_unit: str,
    bar_length_px: float,
    bar_length: float,
    bar_unit: str,
    *,
    tolerance: float = 0.02,
) -> PixelSizeCheck:
    """Compare a metadata pixel size with the one implied by a scale bar.

    Parameters
    ----------
    metadata_size : float
        Pixel width from the file, in ``metadata_unit`` (nm, µm, mm, cm or m; "um" accepted).
    bar_length_px : float
        Bar length in pixels between its outer edges.
    bar_length : float
        Its physical length in ``bar_unit``.
    tolerance : float
        Largest relative difference still counted as agreement (2 %).

    Raises
    ------
    ValueError
        On non-positive sizes or an unknown unit.
    """
    units = {"um": "µm", "μm": "µm", "micron": "µm", "microns": "µm"}
    a = units.get(metadata_unit.strip().lower(), metadata_unit.strip())
    b = units.get(bar_unit.strip().lower(), bar_unit.strip())
    if a not in UNIT_METRES or b not in UNIT_METRES:
        raise ValueError(
            f"units must be one of {', '.join(UNIT_METRES)}: {metadata_unit!r}, {bar_unit!r}"
        )
    if not (metadata_size > 0 and bar_length_px > 0 and bar_length > 0):
        raise ValueError("pixel size, bar length and bar length in pixels must be positive")
    from_bar = bar_length * UNIT_METRES[b] / UNIT_METRES[a] / bar_length_px
    difference = from_bar / metadata_size - 1.0
    return PixelSizeCheck(metadata_size, from_bar, a, difference, abs(difference) <= tolerance)
