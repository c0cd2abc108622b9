"""Derived rows of kymograph turning points: frame, position and directions of each turn.

A turns run puts the traced curve on the document as a polyline (role ``"turns:trace"``) and
each turning point as a single-point annotation (role ``"turns:turn:<k>"``). The rows are
recomputed from the current points, ordered in time: a turn's frame and position are where its
point is now, and the directions before and after it are the directions of motion from the
previous turn (or the start of the trace) to it, and from it to the next turn (or the end of
the trace). Dragging a turn therefore updates its row, and deleting one updates its neighbours'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import PIXEL_UNIT, Calibration
from measurer.core.derived import DerivedRow, register_derived

ANALYSIS = "turns"
TRACE_ROLE = "turns:trace"
TURN_PREFIX = "turns:turn:"
#: Screen directions of decreasing and increasing position, by the axis along which time runs.
DIRECTIONS = {"x": ("up", "down"), "y": ("left", "right")}


def is_turn(annotation: Annotation) -> bool:
    """True for the single-point annotations of a turns run."""
    return (
        annotation.kind is Kind.POINTS
        and len(annotation.vertices) == 1
        and annotation.role.startswith(TURN_PREFIX)
        and annotation.provenance.origin is not Origin.MANUAL
    )


def time_and_position(point: np.ndarray, axis: str) -> tuple[float, float]:
    """``(time, position)`` of a ``(row, col)`` point: time along ``axis``, position across."""
    row, col = float(point[0]), float(point[1])
    return (col, row) if axis == "x" else (row, col)


def direction(start: float, end: float, axis: str) -> str:
    """The screen direction of a motion from position ``start`` to ``end`` ("" when none)."""
    decreasing, increasing = DIRECTIONS[axis]
    if end > start:
        return increasing
    if end < start:
        return decreasing
    return ""


def turn_rows(
    annotations: Sequence[Annotation], calibration: Calibration, parameters: dict[str, Any]
) -> list[DerivedRow]:
    """One row per turning point, in time order.

    Parameters
    ----------
    annotations : sequence of Annotation
        The annotations of the turns step (others are ignored).
    calibration : Calibration
        The position is given in pixels and, when calibrated, in the unit of the axis it runs
        along (y with time along x, x with time along y).
    parameters : dict
        The step's parameters; ``"axis"`` (``"x"``, the default, or ``"y"``) is the axis along
        which time runs.

    Returns
    -------
    list of DerivedRow
        Columns ``Frame`` (the nearest frame index), ``Position (px)`` (and in the unit),
        ``Direction before`` and ``Direction after``.
    """
    axis = parameters.get("axis", "x")
    if axis not in DIRECTIONS:
        axis = "x"
    turns = sorted(
        (a for a in annotations if is_turn(a)),
        key=lambda a: time_and_position(a.vertices[0], axis),
    )
    trace = next((a for a in annotations if a.role == TRACE_ROLE and a.kind is Kind.POLYLINE), None)
    positions = [time_and_position(t.vertices[0], axis)[1] for t in turns]
    if trace is not None:
        ends = sorted(time_and_position(v, axis) for v in trace.vertices[[0, -1]])
        positions = [ends[0][1], *positions, ends[1][1]]
    else:
        positions = [np.nan, *positions, np.nan]
    unit_scale = calibration.scale()[0 if axis == "x" else 1]
    rows = []
    for k, turn in enumerate(turns):
        time, position = time_and_position(turn.vertices[0], axis)
        before, here, after = positions[k : k + 3]
        values: dict[str, Any] = {
            "ID": str(turn.id),
            "Kind": "turn",
            "Label": f"turn {k + 1}",
            "Origin": turn.provenance.origin.value,
            "Frame": round(time),
            f"Position ({PIXEL_UNIT})": position,
        }
        if calibration.is_calibrated:
            values[f"Position ({calibration.unit})"] = position * unit_scale
        values["Direction before"] = direction(before, here, axis)
        values["Direction after"] = direction(here, after, axis)
        rows.append(DerivedRow(values, (turn.id,)))
    return rows


register_derived(ANALYSIS, turn_rows)
