"""The controller: turns requests from the views into document commands."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import Calibration
from measurer.core.commands import (
    AddAnnotations,
    Command,
    Macro,
    RemoveAnnotations,
    SetCalibration,
    add_points,
    move_vertices,
    relabel,
    remove_point,
    set_point_classes,
)
from measurer.core.document import Document
from measurer.core.measurements import measure_annotation


class DocumentController(QtCore.QObject):
    """Applies the user's edits to the current document; refused edits become ``failed``."""

    failed = QtCore.Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.document: Document | None = None
        self.point_class = 0
        self.profile_width = 1.0

    def set_document(self, document: Document) -> None:
        """Edit this document from now on."""
        self.document = document

    def apply(self, command: Command) -> bool:
        """Apply a command; report a refusal instead of raising."""
        if self.document is None:
            return False
        try:
            self.document.apply(command)
        except (ValueError, KeyError) as exc:
            self.failed.emit(str(exc))
            return False
        return True

    def add_shape(self, kind: Kind, vertices: np.ndarray) -> int | None:
        """Add a shape the user drew; returns its id."""
        if self.document is None:
            return None
        width = self.profile_width if kind is Kind.PROFILE else 1.0
        annotation = Annotation(self.document.new_id(), kind, vertices, width=width)
        return annotation.id if self.apply(AddAnnotations([annotation])) else None

    def add_point(self, vertex: np.ndarray) -> None:
        """Add a counted point of the current class to the manual point set (made if needed)."""
        if self.document is None:
            return
        target = next(
            (
                a
                for a in reversed(self.document.annotations.values())
                if a.kind is Kind.POINTS and a.provenance.origin is Origin.MANUAL
            ),
            None,
        )
        if target is None:
            annotation = Annotation(
                self.document.new_id(),
                Kind.POINTS,
                [vertex],
                label="counts",
                classes=(self.point_class,),
            )
            self.apply(AddAnnotations([annotation]))
        else:
            self.apply(add_points(self.document, target.id, [vertex], [self.point_class]))

    def move(self, annotation_id: int, vertices: np.ndarray) -> bool:
        """Commit a drag: one gesture, one undo step."""
        if self.document is None or annotation_id not in self.document.annotations:
            return False
        old = self.document.annotations[annotation_id]
        if np.array_equal(old.vertices, np.asarray(vertices)):
            return True
        try:
            command = move_vertices(self.document, annotation_id, vertices)
        except ValueError as exc:
            self.failed.emit(str(exc))
            return False
        return self.apply(command)

    def preview_rows(self, annotation_id: int, vertices: np.ndarray) -> list[dict]:
        """Table rows of an annotation as if moved to ``vertices`` (nothing is committed)."""
        assert self.document is not None
        old = self.document.annotations[annotation_id]
        try:
            moved = old.with_vertices(vertices)
        except ValueError:
            return []
        return measure_annotation(
            moved,
            self.document.calibration,
            image=self.document.image,
            image_name=self.document.image_name,
            class_names=self.document.class_names,
        )

    def preview_rows_for(self, annotation: Annotation) -> list[dict]:
        """Table rows of a shape still being drawn."""
        assert self.document is not None
        return measure_annotation(annotation, self.document.calibration)

    def delete(self, ids: list[int]) -> None:
        """Delete annotations (one undo step)."""
        ids = [i for i in ids if self.document and i in self.document.annotations]
        if ids:
            self.apply(RemoveAnnotations(ids))

    def delete_point(self, annotation_id: int, index: int) -> None:
        """Delete one point of a point set."""
        if self.document is not None:
            self.apply(remove_point(self.document, annotation_id, index))

    def relabel(self, annotation_id: int, label: str) -> None:
        """Rename an annotation."""
        if self.document is not None:
            self.apply(relabel(self.document, annotation_id, label))

    def set_class(self, annotation_id: int, point_class: int, index: int | None = None) -> None:
        """Change the class of one point (``index``) or of every point of a point set."""
        if self.document is None:
            return
        old = self.document.annotations[annotation_id]
        classes = list(old.classes)
        for i in range(len(classes)) if index is None else [index]:
            classes[i] = point_class
        self.apply(set_point_classes(self.document, annotation_id, classes))

    def set_calibration(self, calibration: Calibration) -> None:
        """Change the calibration (undoable)."""
        if self.document is not None and calibration != self.document.calibration:
            self.apply(SetCalibration(calibration))

    def delete_mixed(self, ids: list[int], points: list[tuple[int, int]]) -> None:
        """Delete whole annotations and single points in one undo step."""
        if self.document is None:
            return
        commands: list[Command] = []
        if ids:
            commands.append(RemoveAnnotations(ids))
        by_set: dict[int, list[int]] = {}
        for annotation_id, index in points:
            if annotation_id not in ids:
                by_set.setdefault(annotation_id, []).append(index)
        for annotation_id, indices in by_set.items():
            # Remove from the highest index down so earlier indices stay valid.
            for index in sorted(indices, reverse=True):
                commands.append(_DeferredRemovePoint(annotation_id, index))
        if commands:
            self.apply(Macro(commands, "delete"))


class _DeferredRemovePoint(Command):
    """Remove one point, looked up when run (inside a macro, after earlier removals)."""

    text = "delete point"

    def __init__(self, annotation_id: int, index: int) -> None:
        self.annotation_id = annotation_id
        self.index = index
        self._inner: Command | None = None

    def do(self, doc: Document) -> set[int]:
        if self._inner is None:
            self._inner = remove_point(doc, self.annotation_id, self.index)
        return self._inner.do(doc)

    def undo(self, doc: Document) -> set[int]:
        assert self._inner is not None
        return self._inner.undo(doc)
