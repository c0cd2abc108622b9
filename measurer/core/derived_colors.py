"""Derived rows of colour objects and tile grids: the count of each class, from the current shapes.

A colours run puts one outline (polygon, role ``"colors:<class>:<i>"``) on the document per
object, or in grid mode one rectangle (role ``"colors:cell:<row>:<col>"``) per occupied cell. The
label of each shape is its class, so giving a shape another label moves it to another class and
deleting it removes it from the counts: the counts are recomputed from the shapes every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from measurer.core.annotations import Annotation, Origin
from measurer.core.calibration import PIXEL_UNIT, Calibration
from measurer.core.derived import DerivedRow, register_derived
from measurer.core.geometry import polygon_area_centroid

ANALYSIS = "colors"
ROLE_PREFIX = "colors:"
CELL_PREFIX = "colors:cell:"
#: The label of empty cells in the counts (never a shape: empty cells have none).
EMPTY = "empty"


def is_color_shape(annotation: Annotation) -> bool:
    """True for the objects and cells of a colours run (detected or corrected)."""
    return (
        annotation.role.startswith(ROLE_PREFIX)
        and annotation.provenance.analysis == ANALYSIS
        and annotation.provenance.origin is not Origin.MANUAL
    )


def is_cell(annotation: Annotation) -> bool:
    """True for the cell marks of grid mode."""
    return is_color_shape(annotation) and annotation.role.startswith(CELL_PREFIX)


def class_names(annotations: Sequence[Annotation], parameters: dict[str, Any]) -> list[str]:
    """The run's classes (``parameters["names"]``), then any other label given by hand."""
    names = [str(n) for n in parameters.get("names", [])]
    for annotation in annotations:
        if is_color_shape(annotation) and annotation.label not in names:
            names.append(annotation.label)
    return names


def class_counts(annotations: Sequence[Annotation], parameters: dict[str, Any]) -> dict[str, int]:
    """Shapes per class (zero for a class with none), and empty cells in grid mode.

    In grid mode (``parameters["grid"]`` = ``[top, left, height, width, rows, cols]``) the
    cells without a mark, or whose mark is labelled :data:`EMPTY`, are counted under it.
    """
    grid = parameters.get("grid")
    shapes = [a for a in annotations if is_color_shape(a)]
    if grid:  # a cell the user labelled "empty" is empty
        shapes = [s for s in shapes if not (is_cell(s) and s.label == EMPTY)]
    counts = {name: 0 for name in class_names(shapes, parameters) if not grid or name != EMPTY}
    for shape in shapes:
        counts[shape.label] += 1
    if grid:
        counts[EMPTY] = int(grid[4]) * int(grid[5]) - sum(is_cell(s) for s in shapes)
    return counts


def color_rows(
    annotations: Sequence[Annotation], calibration: Calibration, parameters: dict[str, Any]
) -> list[DerivedRow]:
    """One count row per class (and for empty cells in grid mode).

    Parameters
    ----------
    annotations : sequence of Annotation
        The annotations of the colours step (others are ignored).
    calibration : Calibration
        Object areas are given in pixels and, when calibrated, in the unit squared.
    parameters : dict
        The step's parameters: ``"names"``, the classes of the run, and ``"grid"`` in grid mode.

    Returns
    -------
    list of DerivedRow
        ``Number`` of shapes per class (not ``Count``, which is a region's pixel count
        elsewhere in the table); for objects also their total ``Area``. A row's sources are the
        shapes of its class (all the run's shapes for a class that has none); nothing when the
        run left no shape at all (a row needs a source annotation).
    """
    shapes = [a for a in annotations if is_color_shape(a)]
    if not shapes:
        return []
    counts = class_counts(shapes, parameters)
    every = tuple(s.id for s in shapes)
    rows = []
    for name, count in counts.items():
        members = [s for s in shapes if s.label == name]
        corrected = any(s.provenance.origin is Origin.CORRECTED for s in members)
        values: dict[str, Any] = {
            "ID": "",
            "Kind": "cell count" if parameters.get("grid") else "class count",
            "Label": name,
            "Origin": (Origin.CORRECTED if corrected else Origin.AUTOMATIC).value,
            "Number": count,
        }
        if not parameters.get("grid"):
            values[f"Area ({PIXEL_UNIT}²)"] = sum(
                polygon_area_centroid(s.vertices, (1.0, 1.0))[0] for s in members
            )
            if calibration.is_calibrated:
                values[f"Area ({calibration.area_unit})"] = sum(
                    polygon_area_centroid(s.vertices, calibration.scale())[0] for s in members
                )
        rows.append(DerivedRow(values, tuple(s.id for s in members) or every))
    return rows


register_derived(ANALYSIS, color_rows)
