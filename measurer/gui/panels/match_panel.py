"""The template matching panel: every place where a small image occurs in the current one.

The template is the part of the image inside a rectangle the user drew (the rectangle stays a
manual annotation), or an image file whose alpha channel, if any, masks out transparent pixels.
Each match becomes an editable rectangle (role ``"match:<i>"``, its score in the label); the
table's match rows come from :mod:`measurer.core.derived_match`, recomputed after every edit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.commands import ReplaceAnnotation
from measurer.core.derived_match import (
    ANALYSIS,
    ROLE_PREFIX,
    is_match,
    match_index,
    match_label,
)
from measurer.gui.panels.analysis_panel import AnalysisPanel

if TYPE_CHECKING:
    from measurer.core.document import Document
    from measurer.gui.main_window import MainWindow

#: Height of the template preview in the panel (screen pixels).
_THUMBNAIL = 64


def crop_rectangle(image: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """The pixels whose centres lie inside a rectangle given by two corners (a copy).

    Raises ``ValueError`` when fewer than 2×2 pixels of the image are inside.
    """
    low, high = np.min(vertices, axis=0), np.max(vertices, axis=0)
    first = np.maximum(np.ceil(low).astype(int), 0)
    stop = np.minimum(np.floor(high).astype(int) + 1, image.shape[:2])
    if (stop - first < 2).any():
        raise ValueError("The rectangle holds fewer than 2×2 pixels of the image.")
    return np.array(image[first[0] : stop[0], first[1] : stop[1]])


def parse_numbers(text: str, name: str, *, positive: bool = False) -> tuple[float, ...]:
    """``"0.8, 1, 1.25"`` (commas or spaces) as numbers; a readable ``ValueError`` otherwise."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise ValueError(f"{name}: write numbers separated by commas, got {text!r}.") from None
    if not values or not all(np.isfinite(values)) or (positive and min(values) <= 0):
        kind = "positive numbers" if positive else "numbers"
        raise ValueError(f"{name}: give one or more {kind}, got {text!r}.")
    return values


def match_shapes(result: Any) -> list[Annotation]:
    """One rectangle per match (corners on pixel edges), best first."""
    return [
        Annotation(
            0,
            Kind.RECTANGLE,
            [(m.row - 0.5, m.col - 0.5), (m.row + m.height - 0.5, m.col + m.width - 0.5)],
            label=match_label(m.score, m.scale, m.angle),
            role=f"{ROLE_PREFIX}{i}",
        )
        for i, m in enumerate(result.matches)
    ]


def _thumbnail(template: np.ndarray) -> QtGui.QPixmap:
    """The template scaled to 0-255 for display (alpha dropped)."""
    values = template.astype(np.float64)
    if values.ndim == 3:
        values = values[..., :3] if values.shape[2] >= 3 else values[..., :1].repeat(3, axis=2)
    low, high = np.nanmin(values), np.nanmax(values)
    grey = np.zeros_like(values) if high <= low else (values - low) / (high - low)
    pixels = np.ascontiguousarray((grey * 255).round().astype(np.uint8))
    height, width = pixels.shape[:2]
    fmt = (
        QtGui.QImage.Format.Format_RGB888
        if pixels.ndim == 3
        else QtGui.QImage.Format.Format_Grayscale8
    )
    image = QtGui.QImage(pixels.data, width, height, pixels.strides[0], fmt).copy()
    return QtGui.QPixmap.fromImage(image).scaledToHeight(
        _THUMBNAIL, QtCore.Qt.TransformationMode.FastTransformation
    )


class MatchPanel(AnalysisPanel):
    """Template matching: template from a rectangle or a file, matches as editable boxes."""

    title = "Template matching"
    analysis = ANALYSIS

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._document: Document | None = None
        self.template: np.ndarray | None = None
        self._template_source: dict[str, Any] = {}

        self.preview = QtWidgets.QLabel()
        self.preview.setMinimumHeight(_THUMBNAIL)
        self.template_label = QtWidgets.QLabel(
            "No template yet: draw a rectangle around one occurrence and select it, "
            "or load one from a file."
        )
        self.template_label.setWordWrap(True)
        self.use_selection_button = QtWidgets.QPushButton("Use selected rectangle")
        self.use_selection_button.clicked.connect(self.use_selected_rectangle)
        self.file_button = QtWidgets.QPushButton("Template from file…")
        self.file_button.clicked.connect(self._choose_file)
        sources = QtWidgets.QHBoxLayout()
        sources.addWidget(self.use_selection_button)
        sources.addWidget(self.file_button)

        self.threshold = QtWidgets.QDoubleSpinBox(decimals=2, minimum=-1.0, maximum=1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(0.8)
        self.threshold.setToolTip("Minimum normalised correlation of a match (-1 to 1)")
        self.scales = QtWidgets.QLineEdit("1.0")
        self.scales.setPlaceholderText("e.g. 0.8, 1.0, 1.25")
        self.scales.setToolTip("Template sizes to try, as factors; every one is searched")
        self.angles = QtWidgets.QLineEdit("0")
        self.angles.setPlaceholderText("e.g. 0, 90, 180, 270")
        self.angles.setToolTip("Template rotations to try, degrees counter-clockwise")
        self.pyramid = QtWidgets.QCheckBox("Coarse to fine (fast)")
        self.pyramid.setToolTip(
            "Search halved images first: much faster for templates of 32 px and more; "
            "may miss occurrences whose detail is finer than the halved image"
        )
        form = QtWidgets.QFormLayout()
        form.addRow("Threshold", self.threshold)
        form.addRow("Scales", self.scales)
        form.addRow("Angles (°)", self.angles)
        form.addRow(self.pyramid)

        self.run_button = QtWidgets.QPushButton("Find matches")
        self.run_button.clicked.connect(self.run)
        self.count_label = QtWidgets.QLabel("Matches: –")
        self.add_button = QtWidgets.QPushButton("Add selected rectangle as a match")
        self.add_button.setToolTip(
            "Draw a rectangle with the rectangle tool, select it, press this"
        )
        self.add_button.clicked.connect(self.add_selected_rectangle)
        hint = QtWidgets.QLabel(
            "Click a box to select it; drag it to correct it, Delete removes it."
        )
        hint.setWordWrap(True)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.preview)
        layout.addWidget(self.template_label)
        layout.addLayout(sources)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.count_label)
        layout.addWidget(self.add_button)
        layout.addWidget(hint)
        layout.addWidget(self.status)
        layout.addStretch(1)

        window.document_changed.connect(self._follow)
        if window.document is not None:
            self._follow(window.document)

    # --- the template --------------------------------------------------------------------

    def use_selected_rectangle(self) -> bool:
        """Take the template from the selected rectangle (a crop of the current image)."""
        document = self.window.document
        rectangle = self._selected_rectangle()
        if document is None or rectangle is None:
            self._fail("Select a rectangle drawn around one occurrence first.")
            return False
        try:
            template = crop_rectangle(document.image, rectangle.vertices)
        except ValueError as exc:
            self._fail(str(exc))
            return False
        box = [round(float(v), 3) for v in rectangle.vertices.ravel()]
        self._set_template(template, {"template": "rectangle", "template_box": box})
        self.template_label.setText(
            f"Template: {template.shape[0]}×{template.shape[1]} px from rectangle {rectangle.id}"
        )
        return True

    def load_template(self, path: str) -> bool:
        """Take the template from an image file (its first page; alpha masks pixels out)."""
        from measurer.io.images import read_image

        try:
            template = np.array(read_image(path).page(0))
        except (ValueError, OSError) as exc:
            self._fail(f"Cannot read the template: {exc}")
            return False
        self._set_template(template, {"template": "file", "template_path": str(path)})
        alpha = template.ndim == 3 and template.shape[2] in (2, 4)
        self.template_label.setText(
            f"Template: {template.shape[0]}×{template.shape[1]} px from {Path(path).name}"
            + (" (transparent pixels ignored)" if alpha else "")
        )
        return True

    def _choose_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Template image", "", "Images (*.png *.tif *.tiff *.jpg *.jpeg *.bmp);;All (*)"
        )
        if path:
            self.load_template(path)

    def _set_template(self, template: np.ndarray, source: dict[str, Any]) -> None:
        self.template = template
        self._template_source = source
        self.preview.setPixmap(_thumbnail(template))

    def _selected_rectangle(self) -> Annotation | None:
        """The first selected rectangle that is not itself a match."""
        document = self.window.document
        if document is None:
            return None
        for annotation_id in self.window.layer.selected:
            annotation = document.annotations.get(annotation_id)
            is_rectangle = annotation is not None and annotation.kind is Kind.RECTANGLE
            if is_rectangle and not is_match(annotation):
                return annotation
        return None

    # --- running -------------------------------------------------------------------------

    def run(self) -> bool:
        """Search the current image for the template (the selected rectangle if none yet)."""
        from measurer.analysis.templates import match_template

        if self.window.document is None:
            self._fail("Open an image first.")
            return False
        if self.template is None and not self.use_selected_rectangle():
            return False
        try:
            scales = parse_numbers(self.scales.text(), "Scales", positive=True)
            angles = parse_numbers(self.angles.text(), "Angles")
        except ValueError as exc:
            self._fail(str(exc))
            return False
        options = {
            "threshold": round(self.threshold.value(), 4),
            "scales": scales,
            "angles": angles,
            "pyramid": self.pyramid.isChecked(),
        }
        parameters = {
            **self._template_source,
            "template_shape": list(self.template.shape[:2]),
            **{k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
        }
        return self.run_detection(
            match_template,
            self.window.document.image,
            self.template,
            parameters=parameters,
            to_shapes=match_shapes,
            **options,
        )

    def describe(self, result: Any) -> str:
        """How many matches were found."""
        plural = "es" if result.count != 1 else ""
        return f"{result.count} match{plural} at or above {result.threshold:g}."

    # --- hand corrections ----------------------------------------------------------------

    def add_selected_rectangle(self) -> bool:
        """Turn the selected hand-drawn rectangle into a match of the last run (one undo step)."""
        document = self.window.document
        step = (
            None
            if document is None
            else next((s for s in document.steps if s.analysis == ANALYSIS), None)
        )
        if step is None:
            self._fail("Find matches first: a match added by hand joins the last run's results.")
            return False
        rectangle = self._selected_rectangle()
        if rectangle is None:
            self._fail("Draw a rectangle with the rectangle tool and select it first.")
            return False
        index = 1 + max((match_index(a) for a in self.matches()), default=-1)
        match = replace(
            rectangle,
            role=f"{ROLE_PREFIX}{index}",
            label="added by hand",
            provenance=Provenance(Origin.CORRECTED, ANALYSIS, step.parameters),
        )
        return self.window.controller.apply(ReplaceAnnotation(rectangle, match, "add match"))

    def matches(self) -> list[Annotation]:
        """The current matches (detected, corrected or added by hand)."""
        document = self.window.document
        return [] if document is None else [a for a in document.annotations.values() if is_match(a)]

    # --- following the document ----------------------------------------------------------

    def _follow(self, document: Document) -> None:
        if self._document is not None:
            self._document.measurements_changed.disconnect(self._show_count)
        self._document = document
        document.measurements_changed.connect(self._show_count)
        self._show_count()

    def _show_count(self, *_: Any) -> None:
        """The number of matches now, after every edit, undo and redo."""
        ran = any(s.analysis == ANALYSIS for s in self._document.steps)
        self.count_label.setText(f"Matches: {len(self.matches())}" if ran else "Matches: –")
