"""Derived rows of colour objects and tile grids: the count of each class, from the current shapes.

A colours run puts one outline (polygon, role ``"colors:<class>:<i>"``) on the document per
object, or in grid mode one rectangle (role ``"colors:cell:<row>:<col>"``) per occupied cell. The
label of each shape is its class, so giving a shape another label moves it to another class and
deleting it removes it from the counts: the counts are recomputed from the shapes every time.

Grid cells can also be matched against reference images: each marked cell is labelled with its
best reference, and the step's parameters keep the score it matched with, per cell role
(:data:`SCORES`). Labels stay class names only; a cell row shows its score while the cell is
untouched, and none once the user moved it or gave it another class.
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
#: Step parameter of a reference run: ``{cell role: [reference, score]}`` for each marked cell.
SCORES = "scores"


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


def cell_position(annotation: Annotation) -> tuple[int, int]:
    """``(row, col)`` from a cell's role ``"colors:cell:<row>:<col>"``; (-1, -1) if unreadable."""
    parts = annotation.role[len(CELL_PREFIX) :].split(":")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return -1, -1


def cell_score(annotation: Annotation, parameters: dict[str, Any]) -> float | None:
    """The score of a cell of a reference run while it is untouched; None otherwise.

    Untouched: still automatic (never moved, nor re-classed with *Set class…*) and still
    labelled with the reference it matched (relabelling keeps a shape automatic).
    """
    matched = (parameters.get(SCORES) or {}).get(annotation.role)
    if matched is None or annotation.provenance.origin is not Origin.AUTOMATIC:
        return None
    reference, score = matched
    return float(score) if annotation.label == reference else None


def is_corrected(annotation: Annotation, parameters: dict[str, Any]) -> bool:
    """True for a shape edited by hand: moved, re-classed, or relabelled away from its match."""
    if annotation.provenance.origin is Origin.CORRECTED:
        return True
    matched = (parameters.get(SCORES) or {}).get(annotation.role)
    return matched is not None and annotation.label != matched[0]


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
        The step's parameters: ``"names"``, the classes of the run, ``"grid"`` in grid mode,
        and :data:`SCORES` after matching cells against reference images.

    Returns
    -------
    list of DerivedRow
        After a reference run, first one ``cell`` row per marked cell (``Cell row``,
        ``Cell column``, and ``Score`` while the cell is untouched, see :func:`cell_score`).
        Then the ``Number`` of shapes per class (not ``Count``, which is a region's pixel count
        elsewhere in the table); for objects also their total ``Area``. A row's sources are the
        shapes of its class (all the run's shapes for a class that has none); nothing when the
        run left no shape at all (a row needs a source annotation).
    """
    shapes = [a for a in annotations if is_color_shape(a)]
    if not shapes:
        return []
    counts = class_counts(shapes, parameters)
    every = tuple(s.id for s in shapes)
    rows = _cell_rows(shapes, parameters) if SCORES in parameters else []
    for name, count in counts.items():
        members = [s for s in shapes if s.label == name]
        corrected = any(is_corrected(s, parameters) for s in members)
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


def _cell_rows(shapes: Sequence[Annotation], parameters: dict[str, Any]) -> list[DerivedRow]:
    """One row per cell mark, row by row: its class, position in the grid and score."""
    rows = []
    for cell in sorted((s for s in shapes if is_cell(s)), key=cell_position):
        row, col = cell_position(cell)
        corrected = is_corrected(cell, parameters)
        values: dict[str, Any] = {
            "ID": str(cell.id),
            "Kind": "cell",
            "Label": cell.label,
            "Origin": (Origin.CORRECTED if corrected else Origin.AUTOMATIC).value,
            "Cell row": row,
            "Cell column": col,
        }
        score = cell_score(cell, parameters)
        if score is not None:
            values["Score"] = score
        rows.append(DerivedRow(values, (cell.id,)))
    return rows


register_derived(ANALYSIS, color_rows)
