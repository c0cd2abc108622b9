"""Layer widths and counts, recomputed from the layer analysis's editable annotations.

For each profile ``i`` the layer analysis (``analysis="layers"``) puts on the document a
PROFILE annotation with role ``layers:line:<i>`` and one single-point POINTS annotation per
boundary with role ``layers:boundary:<i>:<k>:<rising|falling>`` (``k`` tells boundaries apart;
rising: brighter after the boundary, dark to light along the line). Whenever the table is
rebuilt, :func:`layer_rows` projects the boundaries onto their current line and rebuilds the
layers between them, so a drag, a deletion or an added boundary changes widths and counts.

- Kind: after a rising boundary a layer is light, before one it is dark (the opposite for
  falling ones). A layer whose two boundaries disagree (one of a pair was deleted) is
  ``"mixed"`` and counted in neither kind. The polarity lives in the role, so it survives
  every edit; a boundary added by hand takes it from the image where it is added.
- Layers cut by an end of the line have ``Complete = False`` and are not counted. Layers
  narrower than ``resolved_factor`` blur sigmas of the analysed profile (``sqrt(blur² +
  smoothing²)``) have ``Resolved = False``: their widths are biased (docs/measurements/layers.md).
- Taper: the same layer has the same ``Layer`` number on every profile (profiles are chained
  in order along the layers; a layer continues the one of the neighbouring profile whose
  extent across the layers holds its centre). ``Position`` is the profile's distance along
  the layers from the first profile: ``Width`` against ``Position`` is the layer's taper.

Step parameters used: ``lines`` (``[[r0, c0, r1, c1], ...]``, as analysed), ``blur`` and
``period`` (per line, pixels, None when unknown), ``smoothing`` and ``resolved_factor``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import PIXEL_UNIT, Calibration
from measurer.core.derived import DerivedRow, register_derived

ANALYSIS = "layers"
LINE_PREFIX = "layers:line"
BOUNDARY_PREFIX = "layers:boundary"
_LINE = re.compile(r"layers:line:(\d+)")
_BOUNDARY = re.compile(r"layers:boundary:(\d+):(\d+):(rising|falling)")


def line_role(index: int) -> str:
    """Role of the line of profile ``index``."""
    return f"{LINE_PREFIX}:{index}"


def boundary_role(index: int, key: int, rising: bool) -> str:
    """Role of boundary ``key`` of profile ``index``."""
    return f"{BOUNDARY_PREFIX}:{index}:{key}:{'rising' if rising else 'falling'}"


def parse_line_role(role: str) -> int | None:
    """The profile index of a line role, else None."""
    match = _LINE.fullmatch(role)
    return int(match[1]) if match else None


def parse_boundary_role(role: str) -> tuple[int, int, bool] | None:
    """``(profile index, key, rising)`` of a boundary role, else None."""
    match = _BOUNDARY.fullmatch(role)
    return (int(match[1]), int(match[2]), match[3] == "rising") if match else None


def polarity_label(rising: bool) -> str:
    """The label a boundary shows in the table."""
    return "dark→light" if rising else "light→dark"


def analysed_line(annotation: Annotation) -> np.ndarray | None:
    """The ``(2, 2)`` line ``(start, end)`` the analysis placed for a boundary's profile.

    Read from the provenance parameters (``lines``), so that a boundary knows the line it
    was found on without the document; None when they do not say.
    """
    parsed = parse_boundary_role(annotation.role)
    lines = annotation.provenance.parameters.get("lines") or []
    if parsed is None or parsed[0] >= len(lines):
        return None
    line = np.asarray(lines[parsed[0]], dtype=float).reshape(2, 2)
    return line if np.hypot(*(line[1] - line[0])) > 0 else None


def project(start, end, point) -> float:
    """Distance from ``start`` along the line to ``end`` of a point's projection (pixels)."""
    p0, p1 = np.asarray(start, float), np.asarray(end, float)
    length = float(np.hypot(*(p1 - p0)))
    return float((np.asarray(point, float) - p0) @ (p1 - p0)) / length


def line_unit_length(start, end, calibration: Calibration) -> float:
    """Physical length of one pixel of distance along the line (1 when uncalibrated)."""
    delta = np.asarray(end, float) - np.asarray(start, float)
    physical = delta * np.array(calibration.scale())
    return float(np.hypot(*physical) / np.hypot(*delta))


@dataclass(frozen=True)
class Boundary:
    """A boundary on its profile: annotation id, distance from the line's start, polarity."""

    id: int
    position: float
    rising: bool
    corrected: bool


@dataclass(frozen=True)
class LayerSpan:
    """One layer along one profile (positions in pixels along the line).

    ``number`` is the same for the same physical layer on every profile (1-based);
    ``sources`` are the ids of the line and of the boundaries around the layer.
    """

    index: int
    number: int
    kind: str
    start: float
    end: float
    complete: bool
    resolved: bool
    corrected: bool
    sources: tuple[int, ...]

    @property
    def width(self) -> float:
        """``end - start`` in pixels."""
        return self.end - self.start


@dataclass(frozen=True)
class ProfileLayers:
    """The layers of one profile as its annotations are now.

    ``unit_per_px`` converts distances along the line to the calibrated unit; ``position`` is
    the profile's distance along the layers from the first profile, ``(px, unit)``.
    """

    index: int
    line: Annotation
    length: float
    unit_per_px: float
    position: tuple[float, float]
    boundaries: tuple[Boundary, ...]
    layers: tuple[LayerSpan, ...]
    period: float | None

    def count(self, kind: str) -> int:
        """Complete layers of a kind (``"dark"``, ``"light"`` or ``"mixed"``)."""
        return sum(1 for layer in self.layers if layer.complete and layer.kind == kind)

    @property
    def pair_width(self) -> float | None:
        """Mean complete dark width plus mean complete light width (pixels), if both exist."""
        widths = {
            kind: [la.width for la in self.layers if la.complete and la.kind == kind]
            for kind in ("dark", "light")
        }
        if not (widths["dark"] and widths["light"]):
            return None
        return float(np.mean(widths["dark"]) + np.mean(widths["light"]))


def _kind(left: Boundary | None, right: Boundary | None) -> str:
    votes = set()
    if left is not None:
        votes.add("light" if left.rising else "dark")
    if right is not None:
        votes.add("dark" if right.rising else "light")
    if not votes:
        return "unknown"
    return votes.pop() if len(votes) == 1 else "mixed"


def _spans(index, line, boundaries, parameters) -> list[LayerSpan]:
    """Layers between consecutive boundaries (numbers assigned later)."""
    start, end = line.vertices
    length = float(np.hypot(*(end - start)))
    blurs = parameters.get("blur") or []
    blur = blurs[index] if index < len(blurs) else None
    smoothing = float(parameters.get("smoothing", 1.0))
    limit = float(parameters.get("resolved_factor", 4.0)) * math.hypot(blur or 0.0, smoothing)
    limits = [0.0, *(b.position for b in boundaries), length]
    edges: list[Boundary | None] = [None, *boundaries, None]
    spans = []
    for j in range(len(limits) - 1):
        left, right = edges[j], edges[j + 1]
        width = limits[j + 1] - limits[j]
        around = [b for b in (left, right) if b is not None]
        spans.append(
            LayerSpan(
                index=j,
                number=0,
                kind=_kind(left, right),
                start=limits[j],
                end=limits[j + 1],
                complete=left is not None and right is not None,
                resolved=blur is None or not width < limit,
                corrected=line.provenance.origin is Origin.CORRECTED
                or any(b.corrected for b in around),
                sources=(line.id, *(b.id for b in around)),
            )
        )
    return spans


def _positions(lines: list[Annotation], calibration: Calibration) -> list[tuple[float, float]]:
    """Distance of each line's middle from the first one's, along the layers (px, unit)."""
    first = lines[0].vertices
    middle0 = first.mean(axis=0)
    out = []
    for scale in ((1.0, 1.0), calibration.scale()):
        along = (first[1] - first[0]) * np.array(scale)
        across = np.array([along[1], -along[0]]) / np.hypot(*along)
        offsets = [float(((a.vertices.mean(axis=0) - middle0) * np.array(scale)) @ across)
                   for a in lines]  # fmt: skip
        sign = -1.0 if offsets[-1] < 0 else 1.0
        out.append([sign * o for o in offsets])
    return list(zip(out[0], out[1], strict=True))


def _number_layers(profiles: list[tuple], order: list[int]) -> dict[tuple[int, int], int]:
    """Number the layers so that the same layer has the same number on every profile.

    ``profiles[q] = (centres, lows, highs)`` across the layers (pixels along the first line);
    ``order`` lists the profiles by position along the layers.
    """
    reference = max(order, key=lambda q: len(profiles[q][0]))
    next_id = len(profiles[reference][0])
    ids: dict[tuple[int, int], int] = {(reference, j): j for j in range(next_id)}
    where = order.index(reference)
    for path in (order[where + 1 :], order[:where][::-1]):
        previous = reference
        for q in path:
            centres, (lows, highs) = profiles[q][0], profiles[previous][1:]
            by_low = np.argsort(lows)
            within = np.searchsorted(lows[by_low], centres, side="right") - 1
            taken = set()
            for j, (centre, k) in enumerate(zip(centres, within, strict=True)):
                m = int(by_low[k]) if k >= 0 else -1
                match = ids.get((previous, m)) if m >= 0 and centre <= highs[m] else None
                if match is None or match in taken:
                    match, next_id = next_id, next_id + 1
                taken.add(match)
                ids[(q, j)] = match
            previous = q
    centres_of: dict[int, list[float]] = {}
    for (q, j), number in ids.items():
        centres_of.setdefault(number, []).append(profiles[q][0][j])
    ranked = sorted(centres_of, key=lambda n: float(np.mean(centres_of[n])))
    renumber = {old: new + 1 for new, old in enumerate(ranked)}
    return {key: renumber[number] for key, number in ids.items()}


def profile_layers(
    annotations: Sequence[Annotation], calibration: Calibration, parameters: dict[str, Any]
) -> list[ProfileLayers]:
    """The layers of every profile of a layer analysis, from its current annotations.

    Parameters
    ----------
    annotations : sequence of Annotation
        The analysis's annotations (others are ignored).
    calibration : Calibration
    parameters : dict
        The step's parameters (see the module's docstring).

    Returns
    -------
    list of ProfileLayers
        In profile-index order; a profile whose line was deleted is left out.
    """
    lines: dict[int, Annotation] = {}
    found: dict[int, list[tuple[Annotation, bool]]] = {}
    for a in annotations:
        index = parse_line_role(a.role)
        if index is not None and a.kind in (Kind.LINE, Kind.PROFILE):
            lines[index] = a
        parsed = parse_boundary_role(a.role)
        if parsed is not None and a.kind is Kind.POINTS and len(a.vertices) == 1:
            found.setdefault(parsed[0], []).append((a, parsed[2]))
    indices = sorted(i for i in lines if np.hypot(*np.diff(lines[i].vertices, axis=0)[0]) > 0)
    if not indices:
        return []
    positions = _positions([lines[i] for i in indices], calibration)
    first = lines[indices[0]].vertices
    axis, middle0 = (first[1] - first[0]) / np.hypot(*(first[1] - first[0])), first.mean(axis=0)
    spans, bounds, across = [], [], []
    for index in indices:
        start, end = lines[index].vertices
        length = float(np.hypot(*(end - start)))
        on_line = [
            Boundary(a.id, t, rising, a.provenance.origin is Origin.CORRECTED)
            for a, rising in found.get(index, [])
            if 0.0 < (t := project(start, end, a.vertices[0])) < length
        ]
        bounds.append(tuple(sorted(on_line, key=lambda b: b.position)))
        spans.append(_spans(index, lines[index], bounds[-1], parameters))
        # each layer's extent across the layers, measured along the first line
        offset, slope = float((start - middle0) @ axis), float((end - start) @ axis / length)
        ends = np.array([[offset + la.start * slope, offset + la.end * slope] for la in spans[-1]])
        lows, highs = ends.min(axis=1), ends.max(axis=1)
        across.append(((lows + highs) / 2, lows, highs))
    order = sorted(range(len(indices)), key=lambda q: positions[q][0])
    numbers = _number_layers(across, order)
    periods = parameters.get("period") or []
    return [
        ProfileLayers(
            index=index,
            line=lines[index],
            length=float(np.hypot(*np.diff(lines[index].vertices, axis=0)[0])),
            unit_per_px=line_unit_length(*lines[index].vertices, calibration),
            position=positions[q],
            boundaries=bounds[q],
            layers=tuple(replace(la, number=numbers[(q, la.index)]) for la in spans[q]),
            period=periods[index] if index < len(periods) else None,
        )
        for q, index in enumerate(indices)
    ]


def layer_annotations(
    lines: Sequence, boundaries: Sequence, rising: Sequence, *, band_width: float = 1.0
) -> list[Annotation]:
    """The annotations of a layer analysis result (ids 0: ``ApplyDetection`` assigns them).

    Parameters
    ----------
    lines : sequence of ((row, col), (row, col))
        The profile lines.
    boundaries : sequence of (K_i, 2) arrays
        The boundary points on each line, ``(row, col)``.
    rising : sequence of (K_i,) bool arrays
        For each boundary, True when brighter after it along the line.
    band_width : float
        The band width averaged across each line (pixels).
    """
    shapes = []
    for i, (line, points, up) in enumerate(zip(lines, boundaries, rising, strict=True)):
        label = f"layers profile {i + 1}"
        shapes.append(Annotation(0, Kind.PROFILE, line, label, width=band_width, role=line_role(i)))
        for k, (point, r) in enumerate(zip(np.reshape(points, (-1, 2)), up, strict=True)):
            shapes.append(
                Annotation(0, Kind.POINTS, [point], polarity_label(bool(r)),
                           role=boundary_role(i, k, bool(r)))
            )  # fmt: skip
    return shapes


def layer_rows(
    annotations: Sequence[Annotation], calibration: Calibration, parameters: dict[str, Any]
) -> list[DerivedRow]:
    """Table rows of a layer analysis: per profile, its counts, then one row per layer.

    Registered as the derived-row builder of ``"layers"``. Columns: ``Profile``, ``Layer``
    (the same number for the same layer on every profile), ``Start``/``End``/``Width``
    along the line and the profile's ``Position`` along the layers, in px and the unit;
    ``Resolved`` and ``Complete``; count rows have ``Dark layers``, ``Light layers``
    (``Mixed layers`` when there are some), ``Pair width`` and ``Period``.
    """

    def lengths(values: dict, scale: float, quantities: dict[str, float | None]) -> dict:
        for name, px in quantities.items():
            if px is not None:
                values[f"{name} ({PIXEL_UNIT})"] = float(px)
                if calibration.is_calibrated:
                    values[f"{name} ({calibration.unit})"] = float(px * scale)
        return values

    rows = []
    for profile in profile_layers(annotations, calibration, parameters):
        number, scale, line = profile.index + 1, profile.unit_per_px, profile.line
        where = {f"Position ({PIXEL_UNIT})": profile.position[0]}
        if calibration.is_calibrated:
            where[f"Position ({calibration.unit})"] = profile.position[1]
        corrected = line.provenance.origin is Origin.CORRECTED or any(
            b.corrected for b in profile.boundaries
        )
        summary = {
            "ID": f"P{number}",
            "Kind": "layer count",
            "Label": line.label,
            "Origin": (Origin.CORRECTED if corrected else Origin.AUTOMATIC).value,
            "Profile": number,
            "Dark layers": profile.count("dark"),
            "Light layers": profile.count("light"),
        }
        if profile.count("mixed"):
            summary["Mixed layers"] = profile.count("mixed")
        lengths(summary, scale, {"Pair width": profile.pair_width, "Period": profile.period})
        summary.update(where)
        rows.append(DerivedRow(summary, (line.id, *(b.id for b in profile.boundaries))))
        for layer in profile.layers:
            values = {
                "ID": f"P{number}:L{layer.number}",
                "Kind": "layer",
                "Label": layer.kind,
                "Origin": (Origin.CORRECTED if layer.corrected else Origin.AUTOMATIC).value,
                "Profile": number,
                "Layer": layer.number,
            }
            lengths(values, scale, {"Start": layer.start, "End": layer.end, "Width": layer.width})
            values.update(where, Resolved=layer.resolved, Complete=layer.complete)
            rows.append(DerivedRow(values, layer.sources))
    return rows


register_derived(ANALYSIS, layer_rows)
