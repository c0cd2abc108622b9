"""Spatial calibration: physical pixel size in x and y, its unit and where it came from."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

#: Metres per unit for every physical unit measurer understands.
UNIT_METRES: dict[str, float] = {
    "nm": 1e-9,
    "µm": 1e-6,
    "mm": 1e-3,
    "cm": 1e-2,
    "m": 1.0,
    "in": 0.0254,
}

PIXEL_UNIT = "px"

#: Where a calibration came from.
SOURCES = ("none", "metadata", "manual", "scalebar")

_ALIASES = {
    "nm": "nm",
    "nanometer": "nm",
    "nanometre": "nm",
    "nanometers": "nm",
    "nanometres": "nm",
    "um": "µm",
    "µm": "µm",
    "μm": "µm",  # Greek mu (U+03BC), as opposed to the micro sign (U+00B5)
    "micron": "µm",
    "microns": "µm",
    "micrometer": "µm",
    "micrometre": "µm",
    "micrometers": "µm",
    "micrometres": "µm",
    "\\u00b5m": "µm",
    "mm": "mm",
    "millimeter": "mm",
    "millimetre": "mm",
    "millimeters": "mm",
    "millimetres": "mm",
    "cm": "cm",
    "centimeter": "cm",
    "centimetre": "cm",
    "centimeters": "cm",
    "centimetres": "cm",
    "m": "m",
    "meter": "m",
    "metre": "m",
    "meters": "m",
    "metres": "m",
    "in": "in",
    "inch": "in",
    "inches": "in",
    "px": PIXEL_UNIT,
    "pixel": PIXEL_UNIT,
    "pixels": PIXEL_UNIT,
}


def normalize_unit(unit: str) -> str:
    """Return the canonical spelling of a length unit.

    Parameters
    ----------
    unit : str
        Any common spelling: ``"um"``, ``"micron"``, ``"μm"`` (Greek mu), ``"µm"`` (micro sign),
        ``"nanometers"``, ``"px"``...

    Returns
    -------
    str
        One of the keys of :data:`UNIT_METRES`, or ``"px"``.

    Raises
    ------
    ValueError
        If the unit is not a length unit measurer knows.
    """
    key = unit.strip().lower()
    key = key.replace("μ", "µ")
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unknown length unit {unit!r} (known: {', '.join(UNIT_METRES)}, px)")


def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a length between physical units (both must be physical, not px)."""
    a, b = normalize_unit(from_unit), normalize_unit(to_unit)
    if PIXEL_UNIT in (a, b):
        if a == b:
            return value
        raise ValueError("cannot convert between pixels and a physical unit without a calibration")
    return value * UNIT_METRES[a] / UNIT_METRES[b]


@dataclass(frozen=True)
class Calibration:
    """Physical size of one pixel, separately in x (columns) and y (rows).

    Attributes
    ----------
    pixel_width, pixel_height : float
        Size of one pixel along x and y in ``unit``. Both 1.0 for an uncalibrated image.
    unit : str
        Canonical unit (see :func:`normalize_unit`); ``"px"`` when uncalibrated.
    source : str
        One of :data:`SOURCES`.
    detail : str
        Human-readable origin, e.g. ``"ImageJ TIFF"`` or ``"line of 120.5 px = 10 µm"``.
    """

    pixel_width: float = 1.0
    pixel_height: float = 1.0
    unit: str = PIXEL_UNIT
    source: str = "none"
    detail: str = ""

    def __post_init__(self) -> None:
        unit = normalize_unit(self.unit)
        object.__setattr__(self, "unit", unit)
        for name in ("pixel_width", "pixel_height"):
            value = float(getattr(self, name))
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
            object.__setattr__(self, name, value)
        if self.source not in SOURCES:
            raise ValueError(f"unknown calibration source {self.source!r}")
        if unit == PIXEL_UNIT and (self.pixel_width != 1.0 or self.pixel_height != 1.0):
            raise ValueError("an uncalibrated image has a pixel size of 1 px")

    @classmethod
    def uncalibrated(cls) -> Calibration:
        """The identity calibration: 1 px per pixel, source ``"none"``."""
        return cls()

    @classmethod
    def from_known_distance(
        cls,
        length_px: float,
        known_length: float,
        unit: str,
        *,
        aspect_ratio: float = 1.0,
        source: str = "manual",
    ) -> Calibration:
        """Isotropic (or fixed-aspect) calibration from a line of known physical length.

        Parameters
        ----------
        length_px : float
            Length of the reference line in pixels (in x, for anisotropic pixels).
        known_length : float
            Its physical length in ``unit``.
        aspect_ratio : float
            ``pixel_height / pixel_width``; 1 for square pixels.
        """
        if length_px <= 0 or known_length <= 0:
            raise ValueError("the reference line and its known length must both be positive")
        width = known_length / length_px
        detail = f"{length_px:g} px = {known_length:g} {normalize_unit(unit)}"
        return cls(width, width * aspect_ratio, unit, source, detail)

    @property
    def is_calibrated(self) -> bool:
        """True when the pixel size is in a physical unit."""
        return self.unit != PIXEL_UNIT

    @property
    def is_isotropic(self) -> bool:
        """True when pixels are square (to 1 part in 10^9)."""
        return math.isclose(self.pixel_width, self.pixel_height, rel_tol=1e-9)

    @property
    def area_unit(self) -> str:
        """Unit of areas, e.g. ``"µm²"`` or ``"px²"``."""
        return f"{self.unit}²"

    def to_unit(self, unit: str) -> Calibration:
        """The same calibration expressed in another physical unit."""
        target = normalize_unit(unit)
        if not self.is_calibrated:
            if target == PIXEL_UNIT:
                return self
            raise ValueError("an uncalibrated image cannot be expressed in a physical unit")
        factor = convert_length(1.0, self.unit, target)
        return replace(
            self,
            pixel_width=self.pixel_width * factor,
            pixel_height=self.pixel_height * factor,
            unit=target,
        )

    def scale(self) -> tuple[float, float]:
        """``(row_scale, col_scale)``: multiply ``(row, col)`` offsets by these to get units."""
        return (self.pixel_height, self.pixel_width)

    def describe(self) -> str:
        """One line for a status bar, e.g. ``"0.1 × 0.1 µm/px (metadata: ImageJ TIFF)"``."""
        if not self.is_calibrated:
            return "uncalibrated (px)"
        if self.is_isotropic:
            size = f"{self.pixel_width:.6g} {self.unit}/px"
        else:
            size = f"{self.pixel_width:.6g} × {self.pixel_height:.6g} {self.unit}/px (x × y)"
        origin = self.source + (f": {self.detail}" if self.detail else "")
        return f"{size} ({origin})"

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "pixel_width": self.pixel_width,
            "pixel_height": self.pixel_height,
            "unit": self.unit,
            "source": self.source,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on malformed input."""
        try:
            return cls(
                float(data["pixel_width"]),
                float(data["pixel_height"]),
                str(data["unit"]),
                str(data.get("source", "manual")),
                str(data.get("detail", "")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed calibration: {exc}") from exc
