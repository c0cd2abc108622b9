"""Derived rows of the masks analysis: landmark distances and retina measurements.

A masks run puts blob outlines (polygons, role ``"masks:blob:<label>"``; their ordinary rows are
the blobs' area, centroid and box) and landmarks (single points, role ``"masks:<name>"`` or
``"masks:<name>:<label>"``) on the document. Everything computed *between* landmarks is
recomputed here from their CURRENT positions each time the table is rebuilt, so dragging a
landmark updates every value that uses it (and marks the row automatic-then-corrected), deleting
one removes the rows that need it, and undo brings them back.

What is measured is named by the step's parameters and by the landmarks present:

``"distances"``: ``[[role_a, role_b, name], ...]``
    The distance between two landmarks (Kind ``"distance"``).
``"lines"``: ``[[role_point, role_a, role_b, name], ...]``
    The perpendicular distance from a landmark to the line through two others (Kind
    ``"distance to line"``), e.g. from the deepest point of region B to the line through the
    margins of region A.
Macular hole landmarks (``"masks:retina:<name>"``, names in :data:`HOLE_LANDMARKS`)
    MLD = ``|mld_left mld_right|``; MLD, shortest = ``|closest_left closest_right|``; base
    diameter = ``|base_left base_right|``; height left/right = perpendicular distance from
    ``top_left``/``top_right`` to the base line through ``base_left`` and ``base_right``;
    height = the larger; arm left/right = ``|base_left top_left|``, ``|base_right top_right|``;
    MHI = height / base diameter, THI = height / MLD, HFF = (arm left + arm right) / base
    diameter, DHI = MLD / base diameter; the size class (by MLD in µm: small <= 250,
    medium <= 400, large) in the MLD row when calibrated. On an untouched run every value is
    ``measure_retina``'s.
Foveal pit landmarks (names in :data:`PIT_LANDMARKS`)
    Pit depth = perpendicular distance from ``pit_bottom`` to the line through the rims; pit
    diameter = ``|rim_left rim_right|``; central thickness = ``|pit_bottom pit_base|``; and the
    maximum slope of the top surface between the rims, which needs the mask: the run writes it
    into the pit bottom's label (:func:`pit_bottom_label`) and the row is given while both rims
    are where the run put them.

Lengths are given in pixels (on the unscaled image) and, when calibrated, in the unit, with x and
y scaled separately before any distance; indices are ratios of the calibrated lengths (of the
pixel lengths when uncalibrated).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import PIXEL_UNIT, Calibration, convert_length
from measurer.core.derived import DerivedRow, register_derived
from measurer.core.style import short_number

ANALYSIS = "masks"
ROLE_PREFIX = "masks:"
BLOB_PREFIX = "masks:blob:"
RETINA_PREFIX = "masks:retina:"
#: Extreme points a blob can have as landmarks (``"deepest"`` is the bottommost pixel).
EXTREMES = ("leftmost", "rightmost", "topmost", "deepest")
HOLE_LANDMARKS = (
    "base_left",
    "base_right",
    "mld_left",
    "mld_right",
    "top_left",
    "top_right",
    "closest_left",
    "closest_right",
)
PIT_LANDMARKS = ("pit_bottom", "rim_left", "rim_right", "pit_base")
HOLE, PIT = "macular hole", "foveal pit"
_SLOPE = re.compile(r"max slope (?P<deg>-?\d+(?:\.\d+)?)°")


def pit_bottom_label(max_slope_deg: float) -> str:
    """The label of the pit bottom landmark, carrying the run's maximum slope."""
    return f"pit bottom (max slope {max_slope_deg:.2f}°)"


def landmark_label(role: str) -> str:
    """A readable name for a landmark role: ``"masks:deepest:3"`` -> ``"deepest 3"``."""
    name = role.removeprefix(RETINA_PREFIX).removeprefix(ROLE_PREFIX)
    if role.startswith(RETINA_PREFIX):
        return name.replace("mld_", "MLD_").replace("_", " ")
    return name.replace(":", " ").replace("_", " ")


def is_landmark(annotation: Annotation) -> bool:
    """True for a landmark of a masks run: a single point with a ``masks:`` role, not manual."""
    return (
        annotation.kind is Kind.POINTS
        and len(annotation.vertices) == 1
        and annotation.role.startswith(ROLE_PREFIX)
        and annotation.provenance.origin is not Origin.MANUAL
    )


def landmarks_by_role(annotations: Sequence[Annotation]) -> dict[str, Annotation]:
    """The landmarks among ``annotations``, by role."""
    return {a.role: a for a in annotations if is_landmark(a)}


@dataclass(frozen=True)
class Measure:
    """One derived value, the landmarks it comes from, and what the canvas draws for it.

    ``length_px`` is measured on the unscaled image; ``length`` in the calibrated unit (None
    when uncalibrated). ``segment`` is the measured line, ``guide`` the line it is measured
    from (the base line, the rim line), both ``(2, 2)`` arrays of ``(row, col)``.
    """

    label: str
    kind: str
    sources: tuple[Annotation, ...]
    length_px: float | None = None
    length: float | None = None
    index: float | None = None
    angle: float | None = None
    size_class: str | None = None
    segment: np.ndarray | None = None
    guide: np.ndarray | None = None

    @property
    def physical(self) -> float | None:
        """The length in the calibrated unit, or in pixels when uncalibrated."""
        return self.length if self.length is not None else self.length_px

    @property
    def origin(self) -> Origin:
        """Corrected when any of its landmarks was corrected (or added) by hand."""
        if any(s.provenance.origin is Origin.CORRECTED for s in self.sources):
            return Origin.CORRECTED
        return Origin.AUTOMATIC

    def values(self, calibration: Calibration) -> dict[str, Any]:
        """The table row (column headers with units)."""
        values: dict[str, Any] = {
            "ID": "-".join(str(i) for i in sorted(s.id for s in self.sources)),
            "Kind": self.kind,
            "Label": self.label,
            "Origin": self.origin.value,
        }
        if self.length_px is not None:
            values[f"Length ({PIXEL_UNIT})"] = self.length_px
            if self.length is not None:
                values[f"Length ({calibration.unit})"] = self.length
        if self.angle is not None:
            values["Angle (°)"] = self.angle
        if self.index is not None:
            values["Index"] = self.index
        if self.size_class is not None:
            values["Size class"] = self.size_class
        return values

    def text(self, calibration: Calibration) -> str:
        """The short text shown beside the measure on the canvas, e.g. ``"MLD 421.2 µm"``."""
        if self.length_px is not None:
            unit = calibration.unit if self.length is not None else PIXEL_UNIT
            return f"{self.label}: {short_number(self.physical)} {unit}"
        if self.angle is not None:
            return f"{self.label}: {self.angle:.1f}°"
        return f"{self.label}: {self.index:.3g}"


def _scales(calibration: Calibration) -> list[np.ndarray]:
    """The pixel scale, then the physical one when calibrated (``(row, col)`` factors)."""
    scales = [np.ones(2)]
    if calibration.is_calibrated:
        scales.append(np.array(calibration.scale(), float))
    return scales


def _point(annotation: Annotation) -> np.ndarray:
    return np.asarray(annotation.vertices[0], float)


def distance(label: str, kind: str, a: Annotation, b: Annotation, cal: Calibration) -> Measure:
    """The distance between two landmarks."""
    delta = _point(b) - _point(a)
    lengths = [float(np.hypot(*(delta * s))) for s in _scales(cal)]
    return Measure(
        label,
        kind,
        (a, b),
        length_px=lengths[0],
        length=lengths[1] if len(lengths) > 1 else None,
        segment=np.array([_point(a), _point(b)]),
    )


def to_line(
    label: str, kind: str, point: Annotation, a: Annotation, b: Annotation, cal: Calibration
) -> Measure | None:
    """The perpendicular distance from ``point`` to the line through ``a`` and ``b``.

    Perpendicular in physical space when calibrated (the segment drawn ends at that foot);
    None when ``a`` and ``b`` coincide.
    """
    p, start, end = _point(point), _point(a), _point(b)
    lengths, foot = [], p
    for scale in _scales(cal):
        direction = (end - start) * scale
        norm = float(np.hypot(*direction))
        if norm == 0:
            return None
        direction /= norm
        offset = (p - start) * scale
        lengths.append(abs(float(offset[0] * direction[1] - offset[1] * direction[0])))
        foot = start + direction * float(offset @ direction) / scale
    return Measure(
        label,
        kind,
        (point, a, b),
        length_px=lengths[0],
        length=lengths[1] if len(lengths) > 1 else None,
        segment=np.array([p, foot]),
        guide=np.array([start, end]),
    )


def _unique(annotations: Iterable[Annotation]) -> tuple[Annotation, ...]:
    """Annotations without repeats, in order (annotations are not hashable)."""
    return tuple({a.id: a for a in annotations}.values())


def _ratio(label: str, kind: str, top: Measure, bottom: Measure) -> Measure | None:
    if not bottom.physical:
        return None
    sources = _unique(top.sources + bottom.sources)
    return Measure(label, kind, sources, index=top.physical / bottom.physical)


def _sum(label: str, parts: Sequence[Measure]) -> Measure:
    """A length that is the sum of others (for the hole form factor's numerator)."""
    px = sum(p.length_px for p in parts)
    unit = None if parts[0].length is None else sum(p.length for p in parts)
    sources = _unique(s for p in parts for s in p.sources)
    return Measure(label, HOLE, sources, length_px=px, length=unit)


def hole_measures(marks: dict[str, Annotation], cal: Calibration) -> list[Measure]:
    """Macular hole rows from the landmarks present (see the module docstring)."""
    from measurer.analysis.retina import size_class

    def mark(name):
        return marks.get(RETINA_PREFIX + name)

    def pair(label, a, b):
        return distance(label, HOLE, mark(a), mark(b), cal) if mark(a) and mark(b) else None

    mld = pair("MLD", "mld_left", "mld_right")
    if mld is not None and cal.is_calibrated:
        mld = replace(mld, size_class=size_class(convert_length(mld.length, cal.unit, "µm")))
    base = pair("base diameter", "base_left", "base_right")
    heights, arms = [], []
    for side in ("left", "right"):
        top = mark(f"top_{side}")
        if base is not None and top is not None:
            height = to_line(
                f"height {side}", HOLE, top, mark("base_left"), mark("base_right"), cal
            )
            heights.append(height)
        arms.append(pair(f"arm {side}", f"base_{side}", f"top_{side}"))
    heights = [h for h in heights if h is not None]
    height = None
    if heights:
        highest = max(heights, key=lambda h: h.physical)
        sources = _unique(s for h in heights for s in h.sources)
        height = replace(highest, label="height", sources=sources)
    ratios = []
    if height is not None and base is not None:
        ratios.append(_ratio("MHI", HOLE, height, base))
    if height is not None and mld is not None:
        ratios.append(_ratio("THI", HOLE, height, mld))
    if base is not None and all(arms):
        ratios.append(_ratio("HFF", HOLE, _sum("arms", arms), base))
    if mld is not None and base is not None:
        ratios.append(_ratio("DHI", HOLE, mld, base))
    shortest = pair("MLD (shortest)", "closest_left", "closest_right")
    measures = [mld, shortest, base, *heights, height, *arms, *ratios]
    return [m for m in measures if m is not None]


def pit_measures(marks: dict[str, Annotation], cal: Calibration) -> list[Measure]:
    """Foveal pit rows from the landmarks present (see the module docstring)."""
    bottom, base = marks.get(RETINA_PREFIX + "pit_bottom"), marks.get(RETINA_PREFIX + "pit_base")
    left, right = marks.get(RETINA_PREFIX + "rim_left"), marks.get(RETINA_PREFIX + "rim_right")
    measures: list[Measure | None] = []
    if bottom is not None and left is not None and right is not None:
        measures.append(to_line("pit depth", PIT, bottom, left, right, cal))
    if left is not None and right is not None:
        measures.append(distance("pit diameter", PIT, left, right, cal))
    if bottom is not None and base is not None:
        measures.append(distance("central thickness", PIT, bottom, base, cal))
    if bottom is not None and left is not None and right is not None:
        found = _SLOPE.search(bottom.label)
        untouched = all(m.provenance.origin is Origin.AUTOMATIC for m in (left, right))
        if found is not None and untouched:
            slope = float(found["deg"])
            measures.append(Measure("maximum slope", PIT, (bottom, left, right), angle=slope))
    return [m for m in measures if m is not None]


def mask_measures(
    annotations: Sequence[Annotation], calibration: Calibration, parameters: dict[str, Any]
) -> list[Measure]:
    """Every derived value of a masks step, from its current landmarks.

    Parameters
    ----------
    annotations : sequence of Annotation
        The annotations of the masks step (others and manual ones are ignored).
    calibration : Calibration
    parameters : dict
        The step's parameters: ``"distances"`` and ``"lines"`` (see the module docstring).

    Returns
    -------
    list of Measure
        Distances, then distances to lines, then retina values; a value whose landmarks are
        not all present is left out.
    """
    marks = landmarks_by_role(annotations)
    measures: list[Measure] = []
    for role_a, role_b, name in parameters.get("distances", []):
        if role_a in marks and role_b in marks:
            measures.append(distance(name, "distance", marks[role_a], marks[role_b], calibration))
    for role_p, role_a, role_b, name in parameters.get("lines", []):
        if role_p in marks and role_a in marks and role_b in marks:
            line = to_line(
                name, "distance to line", marks[role_p], marks[role_a], marks[role_b], calibration
            )
            if line is not None:
                measures.append(line)
    if any(RETINA_PREFIX + name in marks for name in HOLE_LANDMARKS):
        measures.extend(hole_measures(marks, calibration))
    if any(RETINA_PREFIX + name in marks for name in PIT_LANDMARKS):
        measures.extend(pit_measures(marks, calibration))
    return measures


def mask_rows(
    annotations: Sequence[Annotation], calibration: Calibration, parameters: dict[str, Any]
) -> list[DerivedRow]:
    """The derived rows of a masks step: one per value of :func:`mask_measures`.

    Columns: ``Length (px)`` and ``Length (<unit>)`` for lengths, ``Index`` for the retina
    indices, ``Angle (°)`` for the pit's maximum slope, ``Size class`` in the MLD row.
    """
    return [
        DerivedRow(measure.values(calibration), tuple(s.id for s in measure.sources))
        for measure in mask_measures(annotations, calibration, parameters)
    ]


register_derived(ANALYSIS, mask_rows)
