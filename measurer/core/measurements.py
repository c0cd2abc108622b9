"""The measurement table: annotations plus calibration in, one row per measurement out.

Column names follow ImageJ's Results table where the quantity is the same (Area, X, Y, BX, BY,
Width, Height, Perim., Length, Angle, Mean, StdDev, Min, Max) with the unit in the header, e.g.
``"Length (µm)"``. Coordinates follow measurer's convention: X = column, Y = row, pixel centres at
integers (ImageJ's are at +0.5). BX/BY are the left/top *edges* of the bounding box, so a shape
that covers pixels 3..7 has BX = 3 and Width = 5, as in ImageJ.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from measurer.core.annotations import Annotation, Kind
from measurer.core.calibration import PIXEL_UNIT, Calibration
from measurer.core.geometry import (
    ellipse_perimeter,
    line_angle,
    outline_length,
    path_length,
    polygon_area_centroid,
    vertex_angle,
)

#: Quantities that are lengths (unit), areas (unit²), angles (degrees) or plain values.
LENGTHS = ("Length", "Perim.", "X", "Y", "BX", "BY", "Width", "Height")
#: Profile band width: always in pixels (its physical size depends on the line's direction).
PIXEL_ONLY = ("Band",)
AREAS = ("Area",)
ANGLES = ("Angle",)
VALUES = ("Mean", "StdDev", "Min", "Max", "Count")
#: Column order of the quantities.
QUANTITIES = (
    "Area",
    "Perim.",
    "Length",
    "Angle",
    "X",
    "Y",
    "BX",
    "BY",
    "Width",
    "Height",
    "Band",
    "Mean",
    "StdDev",
    "Min",
    "Max",
    "Count",
)
#: The identity calibration, built once (tables ask for it for every row).
_PIXELS = Calibration.uncalibrated()
#: Descriptive columns every row has.
INFO_COLUMNS = ("ID", "Image", "Kind", "Label", "Class", "Origin")


@dataclass(frozen=True)
class Column:
    """A table column: its header (with unit), the quantity and the unit."""

    header: str
    quantity: str
    unit: str = ""


@dataclass(frozen=True)
class MeasurementTable:
    """Rows of measurements, each a mapping from column header to value.

    ``rows[i]["ID"]`` is the annotation id as text (``"4"``, or ``"4.2"`` for the second point of
    point set 4); ``annotation_ids[i]`` is the annotation id as an int, for selection.
    """

    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    annotation_ids: tuple[int, ...]

    @property
    def headers(self) -> list[str]:
        """Column headers in order."""
        return [c.header for c in self.columns]

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, header: str) -> list[Any]:
        """All values of one column (None where a row has no value)."""
        return [row.get(header) for row in self.rows]

    def rows_for(self, annotation_id: int) -> list[int]:
        """Indices of the rows that belong to an annotation."""
        return [i for i, a in enumerate(self.annotation_ids) if a == annotation_id]


def _unit_of(quantity: str, calibration: Calibration) -> str:
    if quantity in PIXEL_ONLY:
        return PIXEL_UNIT
    if quantity in LENGTHS:
        return calibration.unit
    if quantity in AREAS:
        return calibration.area_unit
    if quantity in ANGLES:
        return "°"
    return ""


def header(quantity: str, unit: str) -> str:
    """``"Length (µm)"``; quantities without a unit keep their bare name."""
    return f"{quantity} ({unit})" if unit else quantity


def _bounds(vertices: np.ndarray, scale: tuple[float, float]) -> dict[str, float]:
    rmin, cmin = vertices.min(axis=0)
    rmax, cmax = vertices.max(axis=0)
    return {
        "BX": (cmin + 0.5) * scale[1],
        "BY": (rmin + 0.5) * scale[0],
        "Width": (cmax - cmin) * scale[1],
        "Height": (rmax - rmin) * scale[0],
    }


def _shape_values(
    annotation: Annotation, scale: tuple[float, float], image: np.ndarray | None
) -> list[dict[str, float]]:
    """Values in physical units (or px) for one annotation: one dict per table row."""
    v = annotation.vertices
    kind = annotation.kind
    if kind is Kind.POINTS:
        return [{"X": p[1] * scale[1], "Y": p[0] * scale[0]} for p in v]
    if kind in (Kind.LINE, Kind.PROFILE):
        mid = v.mean(axis=0)
        values = {
            "Length": path_length(v, scale),
            "Angle": line_angle(v[0], v[1], scale),
            "X": mid[1] * scale[1],
            "Y": mid[0] * scale[0],
        }
        if kind is Kind.PROFILE:
            values["Band"] = annotation.width
            if image is not None:
                values.update(profile_statistics(image, annotation))
        return [values]
    if kind is Kind.POLYLINE:
        mid = v.mean(axis=0)
        return [{"Length": path_length(v, scale), "X": mid[1] * scale[1], "Y": mid[0] * scale[0]}]
    if kind is Kind.ANGLE:
        return [
            {
                "Angle": vertex_angle(v[0], v[1], v[2], scale),
                "X": v[1][1] * scale[1],
                "Y": v[1][0] * scale[0],
            }
        ]
    if kind is Kind.RECTANGLE:
        (r0, c0), (r1, c1) = v
        h, w = abs(r1 - r0) * scale[0], abs(c1 - c0) * scale[1]
        values = {"Area": h * w, "Perim.": 2 * (h + w)}
        centre = v.mean(axis=0)
    elif kind is Kind.ELLIPSE:
        (r0, c0), (r1, c1) = v
        a, b = abs(c1 - c0) * scale[1] / 2, abs(r1 - r0) * scale[0] / 2
        values = {"Area": math.pi * a * b, "Perim.": ellipse_perimeter(a, b)}
        centre = v.mean(axis=0)
    else:  # polygon, freehand
        area, centre = polygon_area_centroid(v, scale)
        values = {"Area": area, "Perim.": outline_length(v, scale)}
    values.update({"X": centre[1] * scale[1], "Y": centre[0] * scale[0]})
    values.update(_bounds(v, scale))
    if image is not None:
        values.update(region_statistics(image, annotation))
    return [values]


def profile_statistics(image: np.ndarray, annotation: Annotation) -> dict[str, float]:
    """Mean, StdDev, Min, Max of the pixel values along a profile line (band-averaged).

    Samples outside the image (NaN) are left out; a zero-length line has no samples.
    """
    from measurer.analysis.profiles import line_profile

    if np.array_equal(annotation.vertices[0], annotation.vertices[1]):
        return _stats(np.empty(0))
    values = line_profile(
        _grey(image),
        annotation.vertices[0],
        annotation.vertices[1],
        width=max(1, round(annotation.width)),
    )
    return _stats(values[np.isfinite(values)])


def region_statistics(image: np.ndarray, annotation: Annotation) -> dict[str, float]:
    """Mean, StdDev, Min, Max and Count of the pixels whose centres lie inside a closed shape."""
    from skimage.draw import ellipse as draw_ellipse
    from skimage.draw import polygon as draw_polygon

    grey = _grey(image)
    v = annotation.vertices
    if annotation.kind is Kind.ELLIPSE:
        centre = v.mean(axis=0)
        radii = np.abs(v[1] - v[0]) / 2
        rr, cc = draw_ellipse(centre[0], centre[1], radii[0], radii[1], shape=grey.shape)
    else:
        outline = v if annotation.kind is not Kind.RECTANGLE else _rectangle_outline(v)
        rr, cc = draw_polygon(outline[:, 0], outline[:, 1], shape=grey.shape)
    return _stats(grey[rr, cc])


def _rectangle_outline(v: np.ndarray) -> np.ndarray:
    (r0, c0), (r1, c1) = v
    return np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]])


def _grey(image: np.ndarray) -> np.ndarray:
    """Single-channel view of an image for intensity statistics (mean of colour channels)."""
    if image.ndim == 3:
        return image[..., :3].astype(float).mean(axis=2)
    return image


def _stats(values: np.ndarray) -> dict[str, float]:
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return {"Count": 0}
    return {
        "Mean": float(values.mean()),
        "StdDev": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "Min": float(values.min()),
        "Max": float(values.max()),
        "Count": int(values.size),
    }


def measure_annotation(
    annotation: Annotation,
    calibration: Calibration,
    *,
    image: np.ndarray | None = None,
    image_name: str = "",
    class_names: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Table rows of one annotation, in pixels and, when calibrated, in the calibrated unit.

    Parameters
    ----------
    annotation : Annotation
    calibration : Calibration
    image : ndarray, optional
        The image (current page) for intensity statistics; omitted when None.
    image_name : str
        Written in the ``Image`` column.
    class_names : mapping, optional
        Names of point classes; class ``k`` is ``"k+1"`` when unnamed.

    Returns
    -------
    list of dict
        One row for a shape, one per point for a point set. Keys are column headers.
    """
    pixel_rows = _shape_values(annotation, (1.0, 1.0), image)
    unit_rows = (
        _shape_values(annotation, calibration.scale(), None)
        if calibration.is_calibrated
        else [{}] * len(pixel_rows)
    )
    px = _PIXELS
    rows = []
    for index, (pixel_values, unit_values) in enumerate(zip(pixel_rows, unit_rows, strict=True)):
        is_point = annotation.kind is Kind.POINTS
        row: dict[str, Any] = {
            "ID": f"{annotation.id}.{index + 1}" if is_point else str(annotation.id),
            "Image": image_name,
            "Kind": annotation.kind.value,
            "Label": annotation.label,
            "Class": _class_name(annotation.classes[index], class_names) if is_point else "",
            "Origin": annotation.provenance.origin.value,
        }
        for quantity, value in pixel_values.items():
            # Angles are measured in physical space: with anisotropic pixels they differ.
            if quantity in ANGLES and unit_values:
                value = unit_values[quantity]
            row[header(quantity, _unit_of(quantity, px))] = _plain(value)
        for quantity, value in unit_values.items():
            if quantity in LENGTHS or quantity in AREAS:
                row[header(quantity, _unit_of(quantity, calibration))] = _plain(value)
        rows.append(row)
    return rows


def _plain(value: Any) -> float | int:
    """numpy scalars as plain Python numbers (tables and JSON want those)."""
    return int(value) if isinstance(value, int | np.integer) else float(value)


def _class_name(index: int, names: Mapping[int, str] | None) -> str:
    if names and index in names:
        return names[index]
    return str(index + 1)


def table_columns(
    rows: Iterable[Mapping[str, Any]], calibration: Calibration
) -> tuple[Column, ...]:
    """The columns present in ``rows``, in the canonical order (pixels first, then units)."""
    present = set()
    for row in rows:
        present.update(row)
    columns = [Column(name, name) for name in INFO_COLUMNS]
    calibrations = [_PIXELS]
    if calibration.is_calibrated:
        calibrations.append(calibration)
    for quantity in QUANTITIES:
        for cal in calibrations:
            unit = _unit_of(quantity, cal)
            name = header(quantity, unit)
            if name in present and all(c.header != name for c in columns):
                columns.append(Column(name, quantity, unit))
    known = {c.header for c in columns}
    for row in rows:  # quantities of derived rows that the canonical list does not know
        for name in row:
            if name not in known:
                known.add(name)
                quantity, _, unit = name.partition(" (")
                columns.append(Column(name, quantity, unit.rstrip(")")))
    return tuple(columns)


def compute_measurements(
    annotations: Iterable[Annotation],
    calibration: Calibration,
    *,
    image: np.ndarray | None = None,
    image_name: str = "",
    class_names: Mapping[int, str] | None = None,
) -> MeasurementTable:
    """The measurement table of a set of annotations.

    Parameters
    ----------
    annotations : iterable of Annotation
        In table order.
    calibration : Calibration
        Lengths and areas are given in pixels and, when calibrated, also in its unit.
    image, image_name, class_names
        See :func:`measure_annotation`.

    Returns
    -------
    MeasurementTable
    """
    rows: list[dict[str, Any]] = []
    ids: list[int] = []
    for annotation in annotations:
        new = measure_annotation(
            annotation, calibration, image=image, image_name=image_name, class_names=class_names
        )
        rows.extend(new)
        ids.extend([annotation.id] * len(new))
    return MeasurementTable(table_columns(rows, calibration), tuple(rows), tuple(ids))
