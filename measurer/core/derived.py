"""Derived measurements: table rows an analysis computes from its own (editable) annotations.

A detection puts annotations with roles on the document (landmark points, margin lines...).
When the user drags one, the rows that depend on it must follow: each analysis registers a
function that recomputes its rows from the current annotations of its step, and the document
calls it whenever it rebuilds the table. Rows use the same column conventions as
:mod:`measurer.core.measurements`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import PIXEL_UNIT, Calibration


@dataclass(frozen=True)
class DerivedRow:
    """One derived row and the annotations it was computed from (for selection)."""

    values: dict[str, Any]
    sources: tuple[int, ...]


DerivedFunction = Callable[[Sequence[Annotation], Calibration, dict[str, Any]], list[DerivedRow]]

_REGISTRY: dict[str, DerivedFunction] = {}

#: Modules that register the builders of measurer's own analyses (imported on first use, so
#: that a session reopened before any panel was shown still gets its rows).
BUILTIN_MODULES = (
    "measurer.core.derived_masks",
    "measurer.core.derived_layers",
    "measurer.core.derived_match",
    "measurer.core.derived_turns",
    "measurer.core.derived_colors",
)
_builtin_loaded = False


def _load_builtin() -> None:
    global _builtin_loaded
    if not _builtin_loaded:
        _builtin_loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)


def register_derived(analysis: str, function: DerivedFunction) -> None:
    """Make ``function(annotations, calibration, parameters)`` the row builder of ``analysis``."""
    _REGISTRY[analysis] = function


def derived_function(analysis: str) -> DerivedFunction | None:
    """The row builder of an analysis, if it has one."""
    _load_builtin()
    return _REGISTRY.get(analysis)


def landmark_distances(
    annotations: Sequence[Annotation], calibration: Calibration, parameters: dict[str, Any]
) -> list[DerivedRow]:
    """Distances between landmark points, as the step's parameters name them.

    ``parameters["distances"]`` lists ``[role_a, role_b, name]``: the distance from the
    single-point annotation with role ``role_a`` to the one with role ``role_b``, in pixels and
    in the calibrated unit (x and y scaled first). A pair whose landmark was deleted gives no row.
    """
    landmarks = {
        a.role: a for a in annotations if a.kind is Kind.POINTS and len(a.vertices) == 1 and a.role
    }
    rows = []
    for role_a, role_b, name in parameters.get("distances", []):
        a, b = landmarks.get(role_a), landmarks.get(role_b)
        if a is None or b is None:
            continue
        delta = b.vertices[0] - a.vertices[0]
        corrected = Origin.CORRECTED in (a.provenance.origin, b.provenance.origin)
        values: dict[str, Any] = {
            "ID": f"{a.id}-{b.id}",
            "Kind": "distance",
            "Label": name,
            "Origin": (Origin.CORRECTED if corrected else a.provenance.origin).value,
            f"Length ({PIXEL_UNIT})": float(np.hypot(*delta)),
        }
        if calibration.is_calibrated:
            physical = delta * np.array(calibration.scale())
            values[f"Length ({calibration.unit})"] = float(np.hypot(*physical))
        rows.append(DerivedRow(values, (a.id, b.id)))
    return rows


def derived_rows(
    annotations: Sequence[Annotation],
    calibration: Calibration,
    analysis: str,
    parameters: dict[str, Any],
) -> list[DerivedRow]:
    """Rows of one analysis step from its current annotations.

    Uses the analysis's registered builder, else :func:`landmark_distances`.
    """
    _load_builtin()
    function = _REGISTRY.get(analysis, landmark_distances)
    own = [a for a in annotations if a.provenance.analysis == analysis]
    return function(own, calibration, parameters)
