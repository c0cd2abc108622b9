"""Landmarks of a masks run put back by hand: which ones are missing, and the click that adds one.

A landmark the run knows (an extreme point of one of its blobs, an end of one of its distances,
a retina landmark) but that is not on the image, deleted or never asked for, can be added: choose
it from the list, then click where it goes. It joins the run as automatic-then-corrected, so its
distances come back and a re-run asks before replacing it; adding is one undo step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets

from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.commands import AddAnnotations, AnalysisStep
from measurer.core.derived_masks import (
    ANALYSIS,
    BLOB_PREFIX,
    EXTREMES,
    HOLE_LANDMARKS,
    PIT_LANDMARKS,
    RETINA_PREFIX,
    ROLE_PREFIX,
    landmark_label,
    landmarks_by_role,
)
from measurer.gui.canvas.tools import Tool

if TYPE_CHECKING:
    from measurer.core.document import Document
    from measurer.gui.main_window import MainWindow

#: Landmarks offered at once, at most (a run can have thousands of blobs).
MAX_OFFERED = 200


def masks_step(document: Document | None) -> AnalysisStep | None:
    """The document's masks run, if any."""
    if document is None:
        return None
    return next((s for s in document.steps if s.analysis == ANALYSIS), None)


def own_annotations(document: Document) -> list[Annotation]:
    """The annotations of the document's masks run (detected, corrected or added)."""
    return [a for a in document.annotations.values() if a.provenance.analysis == ANALYSIS]


def missing_landmarks(
    annotations: Sequence[Annotation], parameters: dict[str, Any], selected: Sequence[int] = ()
) -> list[str]:
    """Roles of the landmarks a run knows that are not among ``annotations``.

    The extreme points of every blob outline present (those of the ``selected`` blobs first),
    the ends of the step's distances and lines, and the retina landmarks of the kind found
    (both kinds when none is left); at most :data:`MAX_OFFERED`.
    """
    present = landmarks_by_role(annotations)
    blobs = sorted(
        (a for a in annotations if a.role.startswith(BLOB_PREFIX)),
        key=lambda a: a.id not in selected,
    )
    roles = [
        f"{ROLE_PREFIX}{extreme}:{blob.role.removeprefix(BLOB_PREFIX)}"
        for blob in blobs
        for extreme in EXTREMES
    ]
    for entry in parameters.get("distances", []) + parameters.get("lines", []):
        roles += entry[:-1]
    preset = parameters.get("preset", "none")
    if preset != "none":
        hole = preset == "hole" or any(RETINA_PREFIX + n in present for n in HOLE_LANDMARKS)
        pit = preset == "pit" or any(RETINA_PREFIX + n in present for n in PIT_LANDMARKS)
        if not hole and not pit:  # "auto" with every landmark deleted: offer both kinds
            hole = pit = True
        roles += [RETINA_PREFIX + n for n in HOLE_LANDMARKS if hole]
        roles += [RETINA_PREFIX + n for n in PIT_LANDMARKS if pit]
    return [r for r in dict.fromkeys(roles) if r not in present][:MAX_OFFERED]


class LandmarkAdder(QtCore.QObject):
    """The *Add landmark…* button: choose a missing landmark, then click on the image."""

    def __init__(self, window: MainWindow, status: QtWidgets.QLabel) -> None:
        super().__init__(window)
        self.window = window
        self.status = status
        self.pending_role: str | None = None
        self.button = QtWidgets.QPushButton("Add landmark…")
        self.button.setCheckable(True)
        self.button.setToolTip(
            "Put back a landmark of the run that is not on the image: choose it, then click"
        )
        self.button.toggled.connect(self._on_toggled)
        window.canvas.viewbox.background_clicked.connect(self._on_canvas_clicked)

    def missing(self) -> list[str]:
        """Roles of the current run's landmarks that are not on the image."""
        step = masks_step(self.window.document)
        if step is None:
            return []
        own = own_annotations(self.window.document)
        return missing_landmarks(own, step.parameters, self.window.layer.selected)

    def cancel(self) -> None:
        """Stop waiting for a click."""
        self.button.setChecked(False)

    def _on_toggled(self, checked: bool) -> None:
        self.pending_role = None
        if not checked:
            return
        roles = self.missing()
        if not roles:
            self.button.setChecked(False)
            self.status.setText("Every landmark of the run is on the image (or nothing was run).")
            return
        names = [landmark_label(r) for r in roles]
        name, ok = QtWidgets.QInputDialog.getItem(
            self.button, "Add landmark", "Landmark (then click where it goes):", names, 0, False
        )
        if not ok:
            self.button.setChecked(False)
            return
        self.pending_role = roles[names.index(name)]
        self.window.set_tool(Tool.NAVIGATE)
        self.status.setText(f"Click on the image where {name!r} goes.")

    def _on_canvas_clicked(self, scene_pos: QtCore.QPointF) -> None:
        if self.pending_role is not None:
            point = self.window.canvas.viewbox.mapSceneToView(scene_pos)
            self.add(self.pending_role, point.y(), point.x())

    def add(self, role: str, row: float, col: float) -> bool:
        """Put the landmark ``role`` of the current run at ``(row, col)`` (one undo step)."""
        document = self.window.document
        step = masks_step(document)
        self.cancel()
        if step is None or role in landmarks_by_role(own_annotations(document)):
            return False
        annotation = Annotation(
            document.new_id(),
            Kind.POINTS,
            [(row, col)],
            label=landmark_label(role),
            provenance=Provenance(Origin.CORRECTED, ANALYSIS, step.parameters),
            role=role,
        )
        if not self.window.controller.apply(AddAnnotations([annotation])):
            return False
        self.status.setText(f"Added {annotation.label!r}.")
        return True
