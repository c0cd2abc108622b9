"""Commands: every change to a document, each with the smallest delta that reverses it.

A command is applied with ``document.apply(command)``; it must not be run directly. ``do`` and
``undo`` return the ids of the annotations they touched so the document can tell its views.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.calibration import Calibration

if TYPE_CHECKING:
    from measurer.core.document import Document


class Command:
    """Base class: ``text`` names the command in the Edit menu's history."""

    text = "edit"

    def do(self, doc: Document) -> set[int]:
        """Make the change; return the ids of the annotations it touched."""
        raise NotImplementedError

    def undo(self, doc: Document) -> set[int]:
        """Reverse :meth:`do` exactly."""
        raise NotImplementedError


@dataclass
class AddAnnotations(Command):
    """Add new annotations (their ids must be unused: take them from ``document.new_id()``)."""

    annotations: Sequence[Annotation]

    @property
    def text(self) -> str:  # type: ignore[override]
        if len(self.annotations) == 1:
            return f"add {self.annotations[0].kind.value}"
        return f"add {len(self.annotations)} annotations"

    def do(self, doc: Document) -> set[int]:
        for annotation in self.annotations:
            doc._insert(annotation)
        return {a.id for a in self.annotations}

    def undo(self, doc: Document) -> set[int]:
        for annotation in self.annotations:
            doc._remove(annotation.id)
        return {a.id for a in self.annotations}


@dataclass
class RemoveAnnotations(Command):
    """Delete annotations; undo puts them back at their places in the table."""

    ids: Sequence[int]
    _removed: list[tuple[int, Annotation]] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:  # type: ignore[override]
        return "delete" if len(self.ids) == 1 else f"delete {len(self.ids)} annotations"

    def do(self, doc: Document) -> set[int]:
        order = doc.order()
        # set(): a selection of several rows of one point set names its id more than once
        self._removed = sorted((order.index(i), doc.annotations[i]) for i in set(self.ids))
        for _, annotation in self._removed:
            doc._remove(annotation.id)
        return set(self.ids)

    def undo(self, doc: Document) -> set[int]:
        for position, annotation in self._removed:
            doc._insert(annotation, position)
        return set(self.ids)


@dataclass
class ReplaceAnnotation(Command):
    """Swap one annotation for a new version with the same id (the general edit)."""

    old: Annotation
    new: Annotation
    text: str = "edit"

    def __post_init__(self) -> None:
        if self.old.id != self.new.id:
            raise ValueError("a replacement keeps the annotation's id")

    def do(self, doc: Document) -> set[int]:
        doc._replace(self.new)
        return {self.new.id}

    def undo(self, doc: Document) -> set[int]:
        doc._replace(self.old)
        return {self.old.id}


def move_vertices(doc: Document, annotation_id: int, new_vertices: Any) -> ReplaceAnnotation:
    """The command for dragging vertices (or the whole shape) of an annotation to new places.

    An automatic annotation becomes automatic-then-corrected.
    """
    old = doc.annotations[annotation_id]
    new_vertices = np.asarray(new_vertices, dtype=float).reshape(-1, 2)
    if old.kind is Kind.POINTS and len(new_vertices) != len(old.vertices):
        raise ValueError("moving points keeps their number; add or delete points instead")
    return ReplaceAnnotation(old, old.with_vertices(new_vertices), "move")


def relabel(doc: Document, annotation_id: int, label: str) -> ReplaceAnnotation:
    """The command that renames an annotation."""
    old = doc.annotations[annotation_id]
    return ReplaceAnnotation(old, replace(old, label=label), "relabel")


def set_point_classes(
    doc: Document, annotation_id: int, classes: Sequence[int]
) -> ReplaceAnnotation:
    """The command that changes the counter class of every point of a point set."""
    old = doc.annotations[annotation_id]
    if old.kind is not Kind.POINTS:
        raise ValueError("only point sets have classes")
    return ReplaceAnnotation(old, replace(old, classes=tuple(classes)), "change class")


def add_points(
    doc: Document, annotation_id: int, points: Any, classes: Sequence[int]
) -> ReplaceAnnotation:
    """The command that appends points to an existing point set (automatic becomes corrected)."""
    old = doc.annotations[annotation_id]
    vertices = np.vstack([old.vertices, np.asarray(points, dtype=float).reshape(-1, 2)])
    return ReplaceAnnotation(
        old, old.with_vertices(vertices, old.classes + tuple(classes)), "add point"
    )


def remove_point(doc: Document, annotation_id: int, index: int) -> Command:
    """The command that deletes one point of a point set (the whole set if it was the last)."""
    old = doc.annotations[annotation_id]
    if len(old.vertices) == 1:
        return RemoveAnnotations([annotation_id])
    keep = [i for i in range(len(old.vertices)) if i != index]
    new = replace(
        old,
        vertices=old.vertices[keep],
        classes=tuple(old.classes[i] for i in keep),
        provenance=old.provenance.corrected(),
    )
    return ReplaceAnnotation(old, new, "delete point")


@dataclass
class SetCalibration(Command):
    """Change the image's calibration; every value in the table follows."""

    new: Calibration
    _old: Calibration | None = field(default=None, repr=False)
    text = "set calibration"

    def do(self, doc: Document) -> set[int]:
        self._old = doc.calibration
        doc._set_calibration(self.new)
        return set()

    def undo(self, doc: Document) -> set[int]:
        assert self._old is not None
        doc._set_calibration(self._old)
        return set()


@dataclass(frozen=True)
class AnalysisStep:
    """An analysis that was run on the image, with its parameters (kept in sessions)."""

    analysis: str
    parameters: dict[str, Any]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"analysis": self.analysis, "parameters": dict(self.parameters)}

    @classmethod
    def from_dict(cls, data: dict) -> AnalysisStep:
        """Inverse of :meth:`to_dict`."""
        return cls(str(data["analysis"]), dict(data.get("parameters") or {}))


@dataclass
class ApplyDetection(Command):
    """Put an analysis result on the document, replacing the previous run of the same analysis.

    Parameters
    ----------
    step : AnalysisStep
        The analysis and its parameters; recorded in the provenance of every annotation.
    shapes : sequence of Annotation
        The detected shapes. Their ids and provenance are assigned here.
    """

    step: AnalysisStep
    shapes: Sequence[Annotation]
    _added: list[Annotation] = field(default_factory=list, repr=False)
    _removed: list[tuple[int, Annotation]] = field(default_factory=list, repr=False)
    _old_steps: list[AnalysisStep] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:  # type: ignore[override]
        return f"run {self.step.analysis}"

    def do(self, doc: Document) -> set[int]:
        if not self._added:  # first run: assign ids once, so redo restores the same ones
            provenance = Provenance(Origin.AUTOMATIC, self.step.analysis, self.step.parameters)
            self._added = [replace(s, id=doc.new_id(), provenance=provenance) for s in self.shapes]
        order = doc.order()
        previous = previous_results(doc, self.step.analysis)
        self._removed = sorted((order.index(a.id), a) for a in previous)
        for _, annotation in self._removed:
            doc._remove(annotation.id)
        for annotation in self._added:
            doc._insert(annotation)
        self._old_steps = list(doc.steps)
        doc._set_steps([s for s in doc.steps if s.analysis != self.step.analysis] + [self.step])
        return {a.id for a in self._added} | {a.id for _, a in self._removed}

    def undo(self, doc: Document) -> set[int]:
        for annotation in self._added:
            doc._remove(annotation.id)
        for position, annotation in self._removed:
            doc._insert(annotation, position)
        doc._set_steps(self._old_steps)
        return {a.id for a in self._added} | {a.id for _, a in self._removed}


def previous_results(doc: Document, analysis: str) -> list[Annotation]:
    """Annotations an earlier run of ``analysis`` put on the document (edited ones too)."""
    return [
        a
        for a in doc.annotations.values()
        if a.provenance.analysis == analysis and a.provenance.origin is not Origin.MANUAL
    ]


def has_corrections(annotations: Iterable[Annotation]) -> bool:
    """True when any of the annotations was corrected by hand (re-running would discard that)."""
    return any(a.provenance.origin is Origin.CORRECTED for a in annotations)


@dataclass
class Macro(Command):
    """Several commands as one undo step (e.g. deleting a selection of mixed items)."""

    commands: Sequence[Command]
    text: str = "edit"

    def do(self, doc: Document) -> set[int]:
        touched: set[int] = set()
        for command in self.commands:
            touched |= command.do(doc)
        return touched

    def undo(self, doc: Document) -> set[int]:
        touched: set[int] = set()
        for command in reversed(self.commands):
            touched |= command.undo(doc)
        return touched
