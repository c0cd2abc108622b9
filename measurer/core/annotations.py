"""Annotations: the shapes a user draws or an analysis detects, with their provenance.

Every geometry is stored as vertices in image coordinates ``(row, col)``, pixel centres at
integers (see ARCHITECTURE.md). Annotations are immutable: an edit makes a new one with the
same id, through a command applied by the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np


class Kind(StrEnum):
    """What an annotation is; decides how it is measured and drawn."""

    POINTS = "points"
    LINE = "line"
    POLYLINE = "polyline"
    ANGLE = "angle"
    RECTANGLE = "rectangle"
    ELLIPSE = "ellipse"
    POLYGON = "polygon"
    FREEHAND = "freehand"
    PROFILE = "profile"


#: Number of vertices each kind needs: exact count, or a minimum (negative = "at least").
VERTEX_COUNT: dict[Kind, int] = {
    Kind.POINTS: -1,
    Kind.LINE: 2,
    Kind.POLYLINE: -2,
    Kind.ANGLE: 3,
    Kind.RECTANGLE: 2,  # two opposite corners, on pixel edges
    Kind.ELLIPSE: 2,  # two opposite corners of the bounding box
    Kind.POLYGON: -3,
    Kind.FREEHAND: -3,
    Kind.PROFILE: 2,
}

#: Kinds whose outline is closed (they have an area).
AREA_KINDS = frozenset({Kind.RECTANGLE, Kind.ELLIPSE, Kind.POLYGON, Kind.FREEHAND})


class Origin(StrEnum):
    """Who made an annotation."""

    MANUAL = "manual"
    AUTOMATIC = "automatic"
    CORRECTED = "automatic-then-corrected"


@dataclass(frozen=True)
class Provenance:
    """Where an annotation came from: by hand, or an analysis with its parameters."""

    origin: Origin = Origin.MANUAL
    analysis: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def corrected(self) -> Provenance:
        """The provenance after a hand edit: automatic results become 'automatic-then-corrected'."""
        if self.origin is Origin.AUTOMATIC:
            return replace(self, origin=Origin.CORRECTED)
        return self

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "origin": self.origin.value,
            "analysis": self.analysis,
            "parameters": dict(self.parameters),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Provenance:
        """Inverse of :meth:`to_dict`."""
        return cls(Origin(data["origin"]), data.get("analysis"), dict(data.get("parameters") or {}))


def _as_vertices(vertices: Any) -> np.ndarray:
    array = np.array(vertices, dtype=float).reshape(-1, 2)
    if not np.all(np.isfinite(array)):
        raise ValueError("vertices must be finite numbers")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Annotation:
    """One shape on the image.

    Attributes
    ----------
    id : int
        Unique within a document; kept through edits, undo and sessions.
    kind : Kind
    vertices : ndarray of shape (N, 2)
        ``(row, col)`` floats, read-only.
    label : str
        Free text shown in the table.
    classes : tuple of int
        For ``POINTS`` only: the counter class of each point (0-8, keys 1-9 in the GUI).
    width : float
        For ``PROFILE``: band width in pixels, averaged across the line.
    provenance : Provenance
    role : str
        For detections: what the shape is to its analysis (e.g. ``"deepest"``,
        ``"margin_left"``), so the analysis's derived measurements can find it after edits.
    """

    id: int
    kind: Kind
    vertices: np.ndarray
    label: str = ""
    classes: tuple[int, ...] = ()
    width: float = 1.0
    provenance: Provenance = field(default_factory=Provenance)
    role: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "vertices", _as_vertices(self.vertices))
        n = len(self.vertices)
        need = VERTEX_COUNT[self.kind]
        if (need > 0 and n != need) or (need < 0 and n < -need):
            rule = f"exactly {need}" if need > 0 else f"at least {-need}"
            raise ValueError(f"a {self.kind.value} needs {rule} vertices, got {n}")
        if self.kind is Kind.POINTS:
            classes = tuple(int(c) for c in self.classes) or (0,) * n
            if len(classes) != n:
                raise ValueError("a point set needs one class per point")
            object.__setattr__(self, "classes", classes)
        elif self.classes:
            raise ValueError("only point sets have classes")
        if not (self.width > 0 and np.isfinite(self.width)):
            raise ValueError("the band width must be positive")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Annotation):
            return NotImplemented
        return (
            self.id == other.id
            and self.kind == other.kind
            and np.array_equal(self.vertices, other.vertices)
            and self.label == other.label
            and self.classes == other.classes
            and self.width == other.width
            and self.provenance == other.provenance
            and self.role == other.role
        )

    __hash__ = None  # type: ignore[assignment]

    def with_vertices(self, vertices: Any, classes: tuple[int, ...] | None = None) -> Annotation:
        """A copy with new vertices (and classes, for point sets), marked as corrected."""
        if classes is None and self.kind is Kind.POINTS:
            classes = self.classes
        return replace(
            self,
            vertices=vertices,
            classes=classes or (),
            provenance=self.provenance.corrected(),
        )

    def to_dict(self) -> dict:
        """JSON-ready form (vertices as ``[[row, col], ...]``)."""
        data = {
            "id": self.id,
            "kind": self.kind.value,
            "vertices": self.vertices.tolist(),
            "label": self.label,
            "provenance": self.provenance.to_dict(),
        }
        if self.kind is Kind.POINTS:
            data["classes"] = list(self.classes)
        if self.kind is Kind.PROFILE:
            data["width"] = self.width
        if self.role:
            data["role"] = self.role
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Annotation:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on malformed input."""
        try:
            return cls(
                id=int(data["id"]),
                kind=Kind(data["kind"]),
                vertices=data["vertices"],
                label=str(data.get("label", "")),
                classes=tuple(data.get("classes", ())),
                width=float(data.get("width", 1.0)),
                provenance=Provenance.from_dict(data.get("provenance") or {"origin": "manual"}),
                role=str(data.get("role", "")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed annotation: {exc}") from exc
