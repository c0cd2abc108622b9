"""The Scale bar panel: find the bar burned into the image and calibrate from it.

"Detect scale bar" finds the bar (and reads its label with Tesseract OCR when it is installed)
on a worker thread and puts it on the canvas as a selected line between the bar's outer edges
(role ``scalebar``), whose ends can be dragged: the length follows live. The known length and
unit are pre-filled from the label when it was read; "Set calibration" applies the pixel size
(undoable). When the file's metadata has a pixel size that differs by more than 2 %, the
panel says so with both values and lets the user keep either.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtWidgets

from measurer.core.annotations import Annotation, Kind
from measurer.core.calibration import UNIT_METRES, Calibration, normalize_unit
from measurer.core.commands import AnalysisStep, ApplyDetection
from measurer.gui.panels.analysis_panel import AnalysisPanel
from measurer.gui.workers import run_task

ROLE = "scalebar"


def detect_bar(image: np.ndarray) -> dict:
    """The scale bar candidates and, when Tesseract is installed, the best bar's label."""
    from measurer.analysis.scalebar import detect_scale_bar

    result = detect_scale_bar(image)
    found = {"result": result, "labels": {}, "note": ""}
    if result.bar is not None:
        found["labels"][0], found["note"] = read_label(image, result.bar)
    return found


def read_label(image: np.ndarray, bar, **_) -> tuple:
    """``(ScaleLabel or None, note)``: the bar's label read by OCR, or why it was not."""
    from measurer.analysis.scalebar_label import OcrUnavailableError, read_scale_label

    try:
        label = read_scale_label(image, bar.top, bar.bottom, bar.x0, bar.x1)
    except OcrUnavailableError as exc:
        return None, f"Label not read: {exc}."
    return label, "" if label is not None else "The label could not be read."


def bar_shape(bar) -> Annotation:
    """The bar as a line along its middle row, between its outer edges."""
    return Annotation(0, Kind.LINE, [(bar.row, bar.x0), (bar.row, bar.x1)], "scale bar", role=ROLE)


class ScaleBarPanel(AnalysisPanel):
    """Detect the scale bar, check its length, and set the calibration from it."""

    title = "Scale bar"
    analysis = "scalebar"

    def __init__(self, window) -> None:
        super().__init__(window)
        self.detect_button = QtWidgets.QPushButton("Detect scale bar")
        self.detect_button.clicked.connect(self.detect)
        self.candidates = QtWidgets.QComboBox()
        self.candidates.setPlaceholderText("Other candidates…")
        self.candidates.activated.connect(self.choose_candidate)
        self.length_label = QtWidgets.QLabel("No bar yet.")
        self.label_label = QtWidgets.QLabel("")
        self.label_label.setWordWrap(True)
        self.known_length = QtWidgets.QLineEdit()
        self.known_length.setPlaceholderText("the length written on the image")
        self.unit = QtWidgets.QComboBox()
        self.unit.addItems([u for u in UNIT_METRES if u != "in"])
        self.unit.setCurrentText("µm")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.known_length, 1)
        row.addWidget(self.unit)
        self.prompt = QtWidgets.QLabel("")
        self.prompt.setWordWrap(True)
        self.set_button = QtWidgets.QPushButton("Set calibration")
        self.set_button.clicked.connect(self.set_calibration)
        self.check_label = QtWidgets.QLabel("")
        self.check_label.setWordWrap(True)
        self.use_bar_button = QtWidgets.QPushButton()
        self.use_bar_button.clicked.connect(self.set_calibration)
        self.keep_metadata_button = QtWidgets.QPushButton()
        self.keep_metadata_button.clicked.connect(self.keep_metadata)
        choice = QtWidgets.QHBoxLayout()
        choice.addWidget(self.use_bar_button)
        choice.addWidget(self.keep_metadata_button)
        self.choice = QtWidgets.QWidget()
        self.choice.setLayout(choice)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.detect_button)
        layout.addWidget(self.candidates)
        layout.addWidget(self.length_label)
        layout.addWidget(self.label_label)
        layout.addWidget(QtWidgets.QLabel("Known length of the bar"))
        layout.addLayout(row)
        layout.addWidget(self.prompt)
        layout.addWidget(self.set_button)
        layout.addWidget(self.check_label)
        layout.addWidget(self.choice)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self._document = None
        self.found: dict | None = None
        self._candidate: int | None = None
        self._reading = None
        self.known_length.textChanged.connect(lambda _: self._update())
        self.unit.currentTextChanged.connect(lambda _: self._update())
        self.finished.connect(self._on_detected)
        window.document_changed.connect(self._on_document_changed)
        window.layer.edit_previewed.connect(self._on_edit_previewed)
        self._reset()

    # --- reading the state -------------------------------------------------------------------

    def bar_annotation(self) -> Annotation | None:
        """The bar on the document (the scale bar analysis's line), if any."""
        doc = self.window.document
        if doc is None:
            return None
        return next(
            (a for a in doc.annotations.values()
             if a.role == ROLE and a.provenance.analysis == self.analysis),
            None,
        )  # fmt: skip

    def bar_length(self, vertices=None) -> float | None:
        """The bar's length in (x) pixels, from its ends (or from ``vertices`` being dragged)."""
        if vertices is None:
            bar = self.bar_annotation()
            if bar is None:
                return None
            vertices = bar.vertices
        (r0, c0), (r1, c1) = np.asarray(vertices, dtype=float)
        return math.hypot(c1 - c0, (r1 - r0) * self._aspect())

    def current_candidate(self) -> int | None:
        """Which candidate of the last detection is on the document, if any."""
        doc = self.window.document
        steps = [s for s in doc.steps if s.analysis == self.analysis] if doc else []
        if not steps or self.found is None or self.bar_annotation() is None:
            return None
        return int(steps[-1].parameters.get("candidate", 0))

    def known(self) -> tuple[float, str] | None:
        """The length and unit typed (or pre-filled), if valid."""
        try:
            value = float(self.known_length.text().replace(",", "."))
        except ValueError:
            return None
        return (value, normalize_unit(self.unit.currentText())) if value > 0 else None

    def metadata_calibration(self) -> Calibration | None:
        """The pixel size the image file's metadata gives, if any."""
        image_file = self.window.image_file
        calibration = image_file.calibration if image_file is not None else None
        if calibration is None or not calibration.is_calibrated:
            current = self.window.document.calibration if self.window.document else None
            calibration = current if current and current.source == "metadata" else None
        return calibration

    def bar_calibration(self) -> Calibration | None:
        """The calibration the bar and the known length give, if both are there."""
        length_px, known = self.bar_length(), self.known()
        if not length_px or known is None:
            return None
        return Calibration.from_known_distance(
            length_px, known[0], known[1], aspect_ratio=self._aspect(), source="scalebar"
        )

    def _aspect(self) -> float:
        """Pixel height over width: kept from an anisotropic calibration (the bar gives x)."""
        doc = self.window.document
        calibration = doc.calibration if doc is not None else Calibration()
        return calibration.pixel_height / calibration.pixel_width

    # --- actions -----------------------------------------------------------------------------

    def detect(self) -> bool:
        """Find the bar (and read its label) off the GUI thread; False if nothing started."""
        doc = self.window.document
        if doc is None:
            self._fail("Open an image first.")
            return False
        return self.run_detection(
            detect_bar,
            doc.image,
            parameters={"min_confidence": 0.5},
            to_shapes=lambda found: [bar_shape(found["result"].bar)] if found["result"].bar else [],
        )

    def describe(self, result) -> str:
        """Found or not, plainly."""
        bar, others = result["result"].bar, len(result["result"].candidates)
        if bar is None:
            weaker = f" ({others} weak candidate(s) listed above)" if others else ""
            return f"No scale bar found{weaker}."
        return f"Scale bar found (confidence {bar.confidence:.2f}). Drag its ends to adjust."

    def choose_candidate(self, index: int) -> None:
        """Put another candidate on the canvas instead (undoable) and read its label."""
        if self.found is None or index == self.current_candidate() or not self.confirm_discard():
            self.candidates.setCurrentIndex(-1 if self._candidate is None else self._candidate)
            return
        candidates = self.found["result"].candidates
        step = AnalysisStep(self.analysis, {"min_confidence": 0.5, "candidate": index})
        if not self.window.controller.apply(ApplyDetection(step, [bar_shape(candidates[index])])):
            return
        self._candidate = index
        self._select_bar()
        labels = self.found["labels"]
        if index in labels:
            self._show_label(labels[index], "")
            return
        self._show_label(None, "Reading the label…")
        document = self.window.document

        def done(read: tuple) -> None:
            labels[index] = read[0]
            if self.window.document is document and self._candidate == index:
                self._show_label(*read)

        self._reading = run_task(
            self.window, "Reading the label", read_label, document.image, candidates[index],
            on_done=done, on_error=lambda message: self._show_label(None, message),
        )  # fmt: skip

    def set_calibration(self) -> None:
        """Calibrate the image from the bar (undoable)."""
        calibration = self.bar_calibration()
        if calibration is None:
            self.status.setText("Detect the bar and type its length first.")
            return
        self.window.controller.set_calibration(calibration)
        self.status.setText(
            f"Calibration set: {calibration.describe()}. Edit → Undo restores the previous one."
        )

    def keep_metadata(self) -> None:
        """Keep (or restore) the pixel size of the file's metadata (undoable)."""
        metadata = self.metadata_calibration()
        if metadata is not None:
            self.window.controller.set_calibration(metadata)
            self.status.setText(f"Keeping the metadata's pixel size: {metadata.describe()}.")

    # --- showing -----------------------------------------------------------------------------

    def _reset(self) -> None:
        self.found, self._candidate = None, None
        self.candidates.clear()
        self.candidates.hide()
        self.label_label.setText("")
        self.known_length.clear()
        self._update()

    def _on_detected(self, found: dict) -> None:
        self.found = found
        result = found["result"]
        self.candidates.clear()
        self.candidates.addItems(
            [f"{k + 1}: {c.length:.1f} px at y {c.row:.0f}, x {c.x0:.1f}–{c.x1:.1f} "
             f"(confidence {c.confidence:.2f})" for k, c in enumerate(result.candidates)]
        )  # fmt: skip
        self._candidate = 0 if result.bar is not None else None
        self.candidates.setCurrentIndex(-1 if self._candidate is None else 0)
        self.candidates.setVisible(len(result.candidates) > (result.bar is not None))
        if result.bar is None:
            self.label_label.setText("")
            self._update()
            return
        self._show_label(found["labels"].get(0), found["note"])
        self._select_bar()

    def _select_bar(self) -> None:
        bar = self.bar_annotation()
        if bar is not None:
            self.window.layer.select([bar.id])

    def _show_label(self, label, note: str) -> None:
        if label is None:
            self.label_label.setText(note)
            self.known_length.clear()
        else:
            sure = "" if label.certain else " — not sure: check it"
            shown = " ".join(label.text.split())
            self.label_label.setText(f"Label read: “{shown}” = {label.value:g} {label.unit}{sure}")
            self.known_length.setText(f"{label.value:g}")
            self.unit.setCurrentText(label.unit)
        self._update()

    def _update(self, vertices=None) -> None:
        length = self.bar_length(vertices)
        self.length_label.setText(
            "No bar on the image." if length is None
            else f"Bar: {length:.2f} px between its outer edges"
        )  # fmt: skip
        known = self.known()
        if length is not None and known is None:
            self.prompt.setText("<b>Type the length written beside the bar</b>, e.g. 1 µm.")
        else:
            self.prompt.setText("")
        self.set_button.setEnabled(length is not None and known is not None)
        self._show_check(vertices)
        self.set_button.setHidden(not self.choice.isHidden())  # the choice's buttons replace it

    def _show_check(self, vertices=None) -> None:
        """Compare with the metadata's pixel size; offer a choice when they disagree."""
        from measurer.analysis.scalebar_label import compare_pixel_size

        metadata, length, known = (
            self.metadata_calibration(),
            self.bar_length(vertices),
            self.known(),
        )
        self.choice.hide()
        self.check_label.setText("")
        if metadata is None or not length or known is None:
            return
        try:
            check = compare_pixel_size(
                metadata.pixel_width, metadata.unit, length, known[0], known[1]
            )
        except ValueError:
            return
        bar = f"{check.scale_bar:.4g} {check.unit}/px"
        meta = f"{check.metadata:.4g} {check.unit}/px"
        if check.agree:
            self.check_label.setText(f"The scale bar ({bar}) agrees with the metadata ({meta}).")
            return
        self.check_label.setText(
            f"<b>The scale bar and the file's metadata disagree by "
            f"{abs(check.difference) * 100:.1f} %</b>: scale bar {bar}, metadata {meta}. "
            "Which one is right?"
        )
        self.use_bar_button.setText(f"Use the scale bar ({bar})")
        self.keep_metadata_button.setText(f"Keep the metadata ({meta})")
        self.choice.show()

    # --- events ------------------------------------------------------------------------------

    def _on_document_changed(self, document) -> None:
        if self._document is not None:
            self._document.annotations_changed.disconnect(self._on_annotations_changed)
            self._document.calibration_changed.disconnect(self._on_annotations_changed)
        self._document = document
        document.annotations_changed.connect(self._on_annotations_changed)
        document.calibration_changed.connect(self._on_annotations_changed)
        self._reset()

    def _on_annotations_changed(self, *_) -> None:
        current = self.current_candidate()
        if self.found is not None and current != self._candidate:  # an undo or a redo
            self._candidate = current
            self.candidates.setCurrentIndex(-1 if current is None else current)
            label = self.found["labels"].get(current) if current is not None else None
            self._show_label(label, "" if label or current is None else "Label not read.")
        self._update()

    def _on_edit_previewed(self, annotation_id: int, vertices) -> None:
        bar = self.bar_annotation()
        if bar is not None and bar.id == annotation_id:
            self._update(vertices)
