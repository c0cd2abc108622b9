"""The document: one image, its calibration, its annotations and their history.

Every change goes through :meth:`Document.apply`; views listen to the document's events.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from measurer.core.annotations import Annotation
from measurer.core.calibration import Calibration
from measurer.core.commands import AnalysisStep, Command
from measurer.core.derived import derived_rows
from measurer.core.events import Event
from measurer.core.history import History
from measurer.core.measurements import MeasurementTable, measure_annotation, table_columns


class Document:
    """An image being measured.

    Parameters
    ----------
    image : ndarray, optional
        The current page, ``(rows, cols)`` or ``(rows, cols, channels)``; used for intensity
        statistics. Never modified.
    path : str or Path, optional
        Where the image came from (shown in the table's ``Image`` column).
    checksum : str, optional
        The image file's checksum, which binds a saved session to this image.
    calibration : Calibration, optional

    Events
    ------
    annotations_changed(ids: set[int])
        Annotations were added, changed or removed (ids of all three).
    measurements_changed(table: MeasurementTable)
    calibration_changed(calibration: Calibration)
    history_changed()
        After every apply, undo, redo or save: the Edit menu and the title follow it.
    """

    def __init__(
        self,
        image: np.ndarray | None = None,
        *,
        path: str | Path | None = None,
        checksum: str | None = None,
        calibration: Calibration | None = None,
        page: int = 0,
    ) -> None:
        self.image = image
        self.path = Path(path) if path is not None else None
        self.checksum = checksum
        self.page = page
        self.calibration = calibration or Calibration.uncalibrated()
        self.annotations: dict[int, Annotation] = {}
        self.class_names: dict[int, str] = {}
        self.steps: list[AnalysisStep] = []
        self.view_state: dict[str, Any] = {}
        self.history = History()
        self.revision = 0
        self._next_id = 1
        self._rows: dict[int, list[dict[str, Any]]] = {}
        self._table: MeasurementTable | None = None
        self.annotations_changed = Event()
        self.measurements_changed = Event()
        self.calibration_changed = Event()
        self.history_changed = Event()

    # --- reading -----------------------------------------------------------------------------

    @property
    def image_name(self) -> str:
        """The image's file name, or an empty string."""
        return self.path.name if self.path else ""

    def order(self) -> list[int]:
        """Annotation ids in table order."""
        return list(self.annotations)

    def new_id(self) -> int:
        """A fresh annotation id, never used before in this document."""
        value = self._next_id
        self._next_id += 1
        return value

    @property
    def measurements(self) -> MeasurementTable:
        """The measurement table, recomputed only for what changed."""
        if self._table is None:
            rows: list[dict[str, Any]] = []
            ids: list[int] = []
            for annotation_id, annotation in self.annotations.items():
                if annotation_id not in self._rows:
                    self._rows[annotation_id] = measure_annotation(
                        annotation,
                        self.calibration,
                        image=self.image,
                        image_name=self.image_name,
                        class_names=self.class_names,
                    )
                rows.extend(self._rows[annotation_id])
                ids.extend([annotation_id] * len(self._rows[annotation_id]))
            annotations = list(self.annotations.values())
            for step in self.steps:
                for derived in derived_rows(
                    annotations, self.calibration, step.analysis, step.parameters
                ):
                    rows.append({"Image": self.image_name, "Class": "", **derived.values})
                    ids.append(derived.sources[0] if derived.sources else -1)
            self._table = MeasurementTable(
                table_columns(rows, self.calibration), tuple(rows), tuple(ids)
            )
        return self._table

    @property
    def is_modified(self) -> bool:
        """True when there are changes since the last save (or load)."""
        return not self.history.is_clean

    # --- changing ----------------------------------------------------------------------------

    def apply(self, command: Command) -> None:
        """Run a command, record it for undo, and tell the views."""
        self._run(command.do, command)
        self.history.push(command)
        self.history_changed.emit()

    def undo(self) -> None:
        """Reverse the last command (nothing happens when there is none)."""
        if self.history.can_undo:
            command = self.history.take_undo()
            self._run(command.undo, command)
            self.history_changed.emit()

    def redo(self) -> None:
        """Apply again the last undone command (nothing happens when there is none)."""
        if self.history.can_redo:
            command = self.history.take_redo()
            self._run(command.do, command)
            self.history_changed.emit()

    def mark_saved(self) -> None:
        """Remember the current state as saved (called by whoever wrote the session)."""
        self.history.mark_clean()
        self.history_changed.emit()

    def set_page(self, page: int, image: np.ndarray) -> None:
        """Show another page of a stack: intensity statistics follow (not an undoable edit)."""
        self.page = page
        self.image = image
        self._invalidate(None)
        self.measurements_changed.emit(self.measurements)

    def load_state(
        self,
        *,
        calibration: Calibration,
        annotations: list[Annotation],
        class_names: dict[int, str],
        steps: list[AnalysisStep],
        view_state: dict[str, Any],
    ) -> None:
        """Replace the whole state (a session being opened); clears the history."""
        by_id = {a.id: a for a in annotations}
        if len(by_id) != len(annotations):
            raise ValueError("annotation ids must be unique")
        self.calibration = calibration
        self.annotations = by_id
        self.class_names = dict(class_names)
        self.steps = list(steps)
        self.view_state = dict(view_state)
        self._next_id = max(self.annotations, default=0) + 1
        self.history.clear()
        self._invalidate(None)
        self.revision += 1
        self.calibration_changed.emit(self.calibration)
        self.annotations_changed.emit(set(self.annotations))
        self.measurements_changed.emit(self.measurements)
        self.history_changed.emit()

    def _run(self, action: Callable[[Document], set[int]], command: Command) -> None:
        calibration = self.calibration
        touched = action(self)
        self.revision += 1
        if self.calibration != calibration:
            self._invalidate(None)
            self.calibration_changed.emit(self.calibration)
        else:
            self._invalidate(touched)
        if touched:
            self.annotations_changed.emit(touched)
        self.measurements_changed.emit(self.measurements)

    def _invalidate(self, ids: set[int] | None) -> None:
        if ids is None:
            self._rows.clear()
        else:
            for annotation_id in ids:
                self._rows.pop(annotation_id, None)
        self._table = None

    # --- used by commands only ---------------------------------------------------------------

    def _insert(self, annotation: Annotation, position: int | None = None) -> None:
        if annotation.id in self.annotations:
            raise ValueError(f"annotation {annotation.id} already exists")
        self._next_id = max(self._next_id, annotation.id + 1)
        if position is None or position >= len(self.annotations):
            self.annotations[annotation.id] = annotation
            return
        items = list(self.annotations.items())
        items.insert(position, (annotation.id, annotation))
        self.annotations = dict(items)

    def _remove(self, annotation_id: int) -> None:
        del self.annotations[annotation_id]

    def _replace(self, annotation: Annotation) -> None:
        if annotation.id not in self.annotations:
            raise KeyError(f"no annotation {annotation.id}")
        self.annotations[annotation.id] = annotation

    def _set_calibration(self, calibration: Calibration) -> None:
        self.calibration = calibration

    def _set_steps(self, steps: list[AnalysisStep]) -> None:
        self.steps = list(steps)
