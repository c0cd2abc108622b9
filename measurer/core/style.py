"""How annotations look, without Qt: colours, value labels and the scale bar's options.

The canvas and the exports (PNG, TIFF, SVG) take their colours and label texts from here, so a
figure shows what the screen shows. Colours are ``(r, g, b)`` tuples of 0-255 ints. Scale bar
sizes are in image pixels; an automatic size (0) follows the image's size, so the bar reads the
same at "fit to window" and in an exported figure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import Calibration

RGB = tuple[int, int, int]

#: Outline colours by provenance, and the colour of the selection.
COLOURS: dict[Origin, RGB] = {
    Origin.MANUAL: (255, 210, 0),
    Origin.AUTOMATIC: (0, 220, 255),
    Origin.CORRECTED: (120, 255, 120),
}
SELECTED_COLOUR: RGB = (255, 60, 200)
#: Point classes 1-9 (keys 1-9), colour-blind friendly (Okabe-Ito plus two).
CLASS_COLOURS: list[RGB] = [
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
    (255, 255, 255),
    (150, 150, 150),
]
#: Outline of point markers.
POINT_OUTLINE: RGB = (0, 0, 0)
#: Value labels: white text on black at 55 % opacity.
LABEL_TEXT: RGB = (255, 255, 255)
LABEL_BACKGROUND: RGB = (0, 0, 0)
LABEL_OPACITY = 140 / 255


def point_colours(annotation: Annotation) -> list[RGB]:
    """Fill colour of each point of a point set.

    By class, except untouched detections, which the canvas draws in the automatic colour.
    """
    if annotation.provenance.origin is Origin.AUTOMATIC:
        return [COLOURS[Origin.AUTOMATIC]] * len(annotation.vertices)
    return [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in annotation.classes]


#: The value shown beside each kind of annotation.
LABEL_QUANTITY: dict[Kind, str] = {
    Kind.LINE: "Length",
    Kind.PROFILE: "Length",
    Kind.POLYLINE: "Length",
    Kind.ANGLE: "Angle",
    Kind.RECTANGLE: "Area",
    Kind.ELLIPSE: "Area",
    Kind.POLYGON: "Area",
    Kind.FREEHAND: "Area",
}


def value_text(row: dict, kind: Kind) -> str:
    """The short value shown beside an annotation, in the calibrated unit when there is one.

    ``row`` is a table row of :func:`measurer.core.measurements.measure_annotation`; the text is
    e.g. ``"12.35 µm"``, ``"743812 nm²"`` or ``"37.5°"``, and empty for kinds without a value.
    """
    quantity = LABEL_QUANTITY.get(kind)
    if quantity is None:
        return ""
    candidates = [(k, v) for k, v in row.items() if k.split(" (")[0] == quantity]
    if not candidates:
        return ""
    header, value = candidates[-1]  # the physical unit comes after pixels
    unit = header[header.find("(") + 1 : -1]
    return f"{short_number(value)} {unit}" if unit != "°" else f"{value:.1f}°"


def short_number(value: float) -> str:
    """A value with 4 significant digits (every integer digit of large ones), no exponent from
    0.001 to 10^7, no trailing zeros.

    ``12.345`` reads ``"12.35"``, ``743812.4`` reads ``"743812"``, ``0.012345`` reads
    ``"0.01235"``; values outside that range use ``"1.235e+08"``.
    """
    magnitude = abs(value)
    if magnitude == 0 or not math.isfinite(value):
        return f"{value:g}"
    if not 1e-3 <= magnitude < 1e7:
        return f"{value:.4g}"
    decimals = max(0, 3 - math.floor(math.log10(magnitude)))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


#: Corners the scale bar can sit in.
POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left")
#: Colour names the scale bar accepts besides ``"#rrggbb"`` and ``"#rgb"``.
NAMED_COLOURS: dict[str, RGB] = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "cyan": (0, 255, 255),
    "magenta": (255, 0, 255),
}


def parse_colour(colour: str) -> RGB:
    """``"white"``, ``"#ffcc00"`` or ``"#fc0"`` as an ``(r, g, b)`` tuple; ValueError otherwise."""
    text = colour.strip().lower()
    if text in NAMED_COLOURS:
        return NAMED_COLOURS[text]
    digits = text[1:]
    if text.startswith("#") and len(digits) in (3, 6):
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        try:
            return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
        except ValueError:
            pass
    raise ValueError(
        f"unknown colour {colour!r} (use #rrggbb or one of {', '.join(NAMED_COLOURS)})"
    )


@dataclass(frozen=True)
class ScaleBar:
    """How the scale bar looks; sizes in image pixels, 0 meaning automatic.

    Attributes
    ----------
    visible : bool
    length : float or None
        In the calibration's unit; None picks a round length near 1/5 of the image width.
    position : str
        One of :data:`POSITIONS`.
    color : str
        ``"white"``, ``"black"``, another of :data:`NAMED_COLOURS`, or ``"#rrggbb"``.
    thickness, font_size : int
        Bar thickness and label size (em) in image pixels; 0 follows the image's size.
    label : bool
        Write the length (e.g. ``"10 µm"``) under the bar.
    """

    visible: bool = True
    length: float | None = None
    position: str = "bottom-right"
    color: str = "white"
    thickness: int = 0
    label: bool = True
    font_size: int = 0

    def __post_init__(self) -> None:
        if self.length is not None and not (math.isfinite(self.length) and self.length > 0):
            raise ValueError(f"the scale bar length must be positive, got {self.length!r}")
        if self.position not in POSITIONS:
            raise ValueError(
                f"unknown scale bar position {self.position!r} (one of {', '.join(POSITIONS)})"
            )
        parse_colour(self.color)
        if self.thickness < 0 or self.font_size < 0:
            raise ValueError("thickness and font size must be 0 (automatic) or positive")

    @property
    def rgb(self) -> RGB:
        """The colour as ``(r, g, b)``."""
        return parse_colour(self.color)

    def to_dict(self) -> dict:
        """JSON-ready form (kept in the session's view state)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ScaleBar:
        """Inverse of :meth:`to_dict`; missing keys take defaults, unknown ones are ignored."""
        known = {f.name for f in fields(cls)}
        try:
            values = {k: v for k, v in data.items() if k in known}
            if values.get("length") is not None:
                values["length"] = float(values["length"])
            for key in ("thickness", "font_size"):
                if key in values:
                    values[key] = int(values[key])
            for key in ("visible", "label"):
                if key in values:
                    values[key] = bool(values[key])
            return cls(**values)
        except (AttributeError, TypeError) as exc:
            raise ValueError(f"malformed scale bar options: {exc}") from exc

    def resolved_length(self, calibration: Calibration, shape: tuple[int, ...]) -> float | None:
        """The physical length drawn on an image of ``shape`` (rows, cols, ...).

        None when no bar is drawn: hidden, or the image is uncalibrated (a bar in pixels
        would say nothing).
        """
        if not self.visible or not calibration.is_calibrated:
            return None
        if self.length is not None:
            return self.length
        return nice_length(shape[1] * calibration.pixel_width / 5)

    def sizes(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        """Thickness, font size and margin in image pixels for an image of ``shape``."""
        side = min(int(shape[0]), int(shape[1]))
        thickness = self.thickness or max(2, round(side / 100))
        font_size = self.font_size or max(8, round(side / 25))
        return thickness, font_size, max(4, round(side / 30))


def nice_length(target: float) -> float:
    """The round length (1, 2 or 5 × 10^k) nearest to ``target`` on a log scale."""
    if not (math.isfinite(target) and target > 0):
        raise ValueError("the target length must be positive")
    exponent = math.floor(math.log10(target))
    candidates = [m * 10.0**e for e in (exponent, exponent + 1) for m in (1, 2, 5)]
    best = min(candidates, key=lambda c: abs(math.log(c / target)))
    return float(f"{best:.12g}")  # 2 × 10^-1 is 0.2, not 0.20000000000000004


def format_length(value: float, unit: str) -> str:
    """``"10 µm"``, ``"0.5 mm"``."""
    return f"{float(f'{value:.10g}'):g} {unit}"
