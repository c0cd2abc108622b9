"""Derived rows of template matching: each match's score, scale and angle, and the count.

A match is a rectangle with the role ``"match:<i>"`` (the matched window, corners on pixel
edges) whose label says its score, scale and angle (see :func:`match_label`). The rows are
recomputed from the current rectangles: a box the user moved or added by hand has no known
score, so its Score, Scale and Angle are left empty and its row says it was corrected; deleting
a box lowers the count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import PIXEL_UNIT, Calibration
from measurer.core.derived import DerivedRow, register_derived

ANALYSIS = "match"
ROLE_PREFIX = "match:"

_LABEL = re.compile(
    r"^score (?P<score>-?\d+(?:\.\d+)?), scale (?P<scale>\d+(?:\.\d+)?(?:e-?\d+)?), "
    r"angle (?P<angle>-?\d+(?:\.\d+)?(?:e-?\d+)?)°$"
)


def match_label(score: float, scale: float, angle: float) -> str:
    """The label of a detected match, e.g. ``"score 0.9342, scale 1, angle 90°"``."""
    return f"score {score:.4f}, scale {scale:g}, angle {angle:g}°"


def parse_match_label(label: str) -> tuple[float, float, float] | None:
    """``(score, scale, angle)`` from a label made by :func:`match_label`; None otherwise."""
    found = _LABEL.match(label)
    if found is None:
        return None
    return float(found["score"]), float(found["scale"]), float(found["angle"])


def is_match(annotation: Annotation) -> bool:
    """True for the rectangles of a matching run (detected, corrected or added by hand)."""
    return (
        annotation.kind is Kind.RECTANGLE
        and annotation.role.startswith(ROLE_PREFIX)
        and annotation.provenance.analysis == ANALYSIS
        and annotation.provenance.origin is not Origin.MANUAL
    )


def match_index(annotation: Annotation) -> int:
    """The ``<i>`` of a match's role ``"match:<i>"`` (-1 when it is not a number)."""
    tail = annotation.role[len(ROLE_PREFIX) :]
    return int(tail) if tail.isdigit() else -1


def match_rows(
    annotations: Sequence[Annotation], calibration: Calibration, parameters: dict[str, Any]
) -> list[DerivedRow]:
    """One row per match (centre, Score, Scale, Angle) and a count row.

    Parameters
    ----------
    annotations : sequence of Annotation
        The annotations of the matching step (others are ignored).
    calibration : Calibration
        Centres are given in pixels and, when calibrated, in the unit (x and y scaled apart).
    parameters : dict
        The step's parameters (not used: everything comes from the rectangles).

    Returns
    -------
    list of DerivedRow
        The count row gives the ``Number`` of matches (``Count`` is a region's pixel count
        elsewhere in the table); it is left out when no match is left (a row needs a source
        annotation).
    """
    matches = sorted((a for a in annotations if is_match(a)), key=match_index)
    rows = []
    row_scale, col_scale = calibration.scale()
    for match in matches:
        centre = match.vertices.mean(axis=0)
        origin = match.provenance.origin
        values: dict[str, Any] = {
            "ID": str(match.id),
            "Kind": "match",
            "Label": f"match {match_index(match)}",
            "Origin": origin.value,
            f"X ({PIXEL_UNIT})": float(centre[1]),
            f"Y ({PIXEL_UNIT})": float(centre[0]),
        }
        if calibration.is_calibrated:
            values[f"X ({calibration.unit})"] = float(centre[1] * col_scale)
            values[f"Y ({calibration.unit})"] = float(centre[0] * row_scale)
        found = parse_match_label(match.label)
        if origin is Origin.AUTOMATIC and found is not None:
            score, scale, angle = found
            values.update({"Score": score, "Scale": scale, "Angle (°)": angle})
        rows.append(DerivedRow(values, (match.id,)))
    if matches:
        corrected = any(m.provenance.origin is Origin.CORRECTED for m in matches)
        count = {
            "ID": "",
            "Kind": "match count",
            "Label": "matches",
            "Origin": (Origin.CORRECTED if corrected else Origin.AUTOMATIC).value,
            "Number": len(matches),
        }
        rows.append(DerivedRow(count, tuple(m.id for m in matches)))
    return rows


register_derived(ANALYSIS, match_rows)
