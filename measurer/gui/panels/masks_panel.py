"""The masks panel: blobs, their landmarks and gaps, and the retina presets, on binary masks.

A run puts, per blob, its outline (a polygon along the pixel edges, role ``"masks:blob:<label>"``,
whose ordinary table row is the blob's area, centroid and box) and the landmarks asked for
(single points, role ``"masks:<extreme>:<label>"``); for two blobs or two regions the closest
pair and the horizontal-gap pair; with a retina preset the landmarks of the hole or pit. The
values measured between landmarks are derived rows (:mod:`measurer.core.derived_masks`), so
dragging, deleting or adding a landmark updates them; the canvas draws their lines and values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.core.annotations import Annotation, Kind
from measurer.core.calibration import convert_length
from measurer.core.derived_masks import (
    ANALYSIS,
    EXTREMES,
    is_landmark,
    mask_measures,
)
from measurer.gui.panels.analysis_panel import AnalysisPanel
from measurer.gui.panels.masks_landmarks import LandmarkAdder, masks_step, own_annotations
from measurer.gui.panels.masks_overlay import MeasureOverlay, SecondMaskOverlay
from measurer.gui.panels.masks_shapes import MaskOptions, analyse_masks, foreground, roi_of

if TYPE_CHECKING:
    from measurer.core.document import Document
    from measurer.gui.main_window import MainWindow

#: Classes listed in the class menus, at most (label images can have thousands).
MAX_CLASSES = 256


def _combo(items: list[tuple[str, Any]]) -> QtWidgets.QComboBox:
    combo = QtWidgets.QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    return combo


def _class_text(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else f"{value:g}"


class MasksPanel(AnalysisPanel):
    """Blobs, landmarks and gaps of binary masks, or a macular hole or foveal pit."""

    title = "Masks"
    analysis = ANALYSIS

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._document: Document | None = None
        self.second_path: str | None = None
        self.second_image: np.ndarray | None = None
        self._classes: list[Any] = []
        self._classes_of: tuple[int, int] | None = None
        self._sources: set[int] = set()

        self.source = _combo(
            [
                ("Current image", "image"),
                ("Current image + second mask", "two_masks"),
                ("Two classes of the current image", "two_classes"),
            ]
        )
        self.foreground = _combo(
            [
                ("Any nonzero pixel (binary mask)", "nonzero"),
                ("Brighter than a threshold", "threshold"),
                ("One class (label or colour)", "class"),
            ]
        )
        self.threshold = QtWidgets.QDoubleSpinBox(decimals=2, minimum=-1e9, maximum=1e9)
        self.threshold.setValue(127)
        self.class_a, self.class_b = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        self.second_button = QtWidgets.QPushButton("Second mask…")
        self.second_button.clicked.connect(self.choose_second_mask)
        self.remove_second_button = QtWidgets.QPushButton("Remove")
        self.remove_second_button.clicked.connect(lambda: self.set_second_mask(None))
        self.second_label = QtWidgets.QLabel("no second mask")
        self.connectivity = _combo([("8 (corners touch)", 8), ("4 (edges only)", 4)])
        self.min_area = QtWidgets.QSpinBox(minimum=0, maximum=1_000_000_000, suffix=" px")
        self.min_area.setSpecialValueText("auto")
        self.min_area.setToolTip("Smaller blobs are ignored; auto: 1 px, or 1 % of the retina")
        self.roi_label = QtWidgets.QLabel()
        self.roi_label.setWordWrap(True)
        self.extremes = {name: QtWidgets.QCheckBox(name) for name in EXTREMES}
        self.extremes["deepest"].setChecked(True)
        self.pair_a, self.pair_b = (
            QtWidgets.QSpinBox(minimum=0, maximum=10_000_000, specialValueText="auto")
            for _ in range(2)
        )
        self.pair_a.setToolTip("Blob label; auto: the largest blob")
        self.pair_b.setToolTip("Blob label; auto: the largest other blob")
        self.preset = _combo(
            [
                ("none: blobs and gaps", "none"),
                ("macular hole", "hole"),
                ("foveal pit", "pit"),
                ("auto: hole or pit", "auto"),
            ]
        )
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.adder = LandmarkAdder(window, self.status)
        self.values_label = QtWidgets.QLabel()
        self.values_label.setWordWrap(True)
        self.values_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        hint = QtWidgets.QLabel(
            "Click a landmark to select it and drag it to correct it; Delete removes it. The "
            "distances in the table follow."
        )
        hint.setWordWrap(True)
        self._layout(hint)

        self.overlay = MeasureOverlay(window.canvas.overlay_group)
        self.second_overlay = SecondMaskOverlay(window.canvas.overlay_group)
        for combo in (self.source, self.foreground, self.preset):
            combo.currentIndexChanged.connect(self._update_form)
        window.layer.selection_changed.connect(self._show_roi)
        window.layer.edit_previewed.connect(self._on_previewed)
        window.canvas.viewbox.sigRangeChanged.connect(
            lambda *_: self.overlay.declutter(window.canvas.viewbox)
        )
        window.document_changed.connect(self._follow)
        if window.document is not None:
            self._follow(window.document)
        self._update_form()
        self._show_roi()

    def _layout(self, hint: QtWidgets.QLabel) -> None:
        second = self._second_row = QtWidgets.QHBoxLayout()
        second.addWidget(self.second_button)
        second.addWidget(self.remove_second_button)
        extremes = self._extremes_row = QtWidgets.QHBoxLayout()
        for box in self.extremes.values():
            extremes.addWidget(box)
        pair = self._pair_row = QtWidgets.QHBoxLayout()
        pair.addWidget(self.pair_a)
        pair.addWidget(QtWidgets.QLabel("and"))
        pair.addWidget(self.pair_b)
        form = QtWidgets.QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("Source", self.source)
        form.addRow("Foreground", self.foreground)
        form.addRow("Threshold", self.threshold)
        form.addRow("Class (A)", self.class_a)
        form.addRow("Class B", self.class_b)
        form.addRow(second)
        form.addRow(self.second_label)
        form.addRow("Connectivity", self.connectivity)
        form.addRow("Minimum area", self.min_area)
        form.addRow("Landmarks", extremes)
        form.addRow("Gap between blobs", pair)
        self._form = form
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.roi_label)
        layout.addWidget(self.run_button)
        layout.addWidget(self.status)
        layout.addWidget(self.values_label)
        layout.addWidget(self.adder.button)
        layout.addWidget(hint)
        layout.addStretch(1)

    # --- options -------------------------------------------------------------------------

    def _update_form(self, *_: Any) -> None:
        """Show the options that apply to the chosen source, foreground and preset."""
        source, fg = self.source.currentData(), self.foreground.currentData()
        blobs = self.preset.currentData() == "none"
        shown = {
            self.foreground: source != "two_classes",
            self.threshold: source != "two_classes" and fg == "threshold",
            self.class_a: source == "two_classes" or fg == "class",
            self.class_b: source == "two_classes",
            self._second_row: source == "two_masks",
            self.second_label: source == "two_masks",
            self.connectivity: blobs,
            self._extremes_row: blobs,
            self._pair_row: blobs and source == "image",
        }
        for row, visible in shown.items():
            self._form.setRowVisible(row, visible)
        self.remove_second_button.setEnabled(self.second_path is not None)
        self.run_button.setText("Find blobs" if blobs else "Measure retina")
        if shown[self.class_a]:
            self._refresh_classes()

    def _refresh_classes(self) -> None:
        """Fill the class menus with the classes of the current image (once per image)."""
        document = self.window.document
        if document is None or self._classes_of == (id(document), document.page):
            return
        from measurer.analysis.masks import MaskError, mask_classes

        try:
            self._classes = mask_classes(document.image)[:MAX_CLASSES]
        except MaskError:
            self._classes = []
        self._classes_of = (id(document), document.page)
        for combo in (self.class_a, self.class_b):
            combo.clear()
            for value in self._classes:
                icon = QtGui.QIcon()
                if isinstance(value, tuple):
                    swatch = QtGui.QPixmap(12, 12)
                    swatch.fill(QtGui.QColor(*(int(v) for v in value[:3])))
                    icon = QtGui.QIcon(swatch)
                combo.addItem(icon, _class_text(value))
        self.class_b.setCurrentIndex(min(1, len(self._classes) - 1))

    def _class(self, combo: QtWidgets.QComboBox) -> Any:
        index = combo.currentIndex()
        return self._classes[index] if 0 <= index < len(self._classes) else None

    def roi_annotation(self) -> Annotation | None:
        """The selected rectangle or polygon (not one of this analysis's outlines), if any."""
        document = self.window.document
        for annotation_id in self.window.layer.selected if document else []:
            annotation = document.annotations[annotation_id]
            if annotation.provenance.analysis != ANALYSIS and annotation.kind in (
                Kind.RECTANGLE,
                Kind.POLYGON,
                Kind.FREEHAND,
            ):
                return annotation
        return None

    def _show_roi(self, *_: Any) -> None:
        roi = self.roi_annotation()
        if roi is None:
            self.roi_label.setText("ROI: whole image (select a rectangle or polygon to restrict)")
        else:
            self.roi_label.setText(f"ROI: the selected {roi.kind.value} (ID {roi.id})")

    def options(self) -> MaskOptions:
        """The options of the form, with the document's calibration."""
        calibration = self.window.document.calibration
        calibrated = calibration.is_calibrated
        roi = self.roi_annotation()
        return MaskOptions(
            source=self.source.currentData(),
            foreground=self.foreground.currentData(),
            threshold=self.threshold.value(),
            class_a=self._class(self.class_a),
            class_b=self._class(self.class_b),
            connectivity=self.connectivity.currentData(),
            min_area=self.min_area.value(),
            roi=None if roi is None else roi_of(roi),
            landmarks=tuple(name for name, box in self.extremes.items() if box.isChecked()),
            pair=(self.pair_a.value(), self.pair_b.value()),
            preset=self.preset.currentData(),
            pixel_width=calibration.pixel_width,
            pixel_height=calibration.pixel_height,
            microns_per_unit=convert_length(1.0, calibration.unit, "µm") if calibrated else None,
            unit=calibration.unit,
        )

    # --- the second mask -----------------------------------------------------------------

    def choose_second_mask(self) -> bool:
        """Ask for the second mask file and show it over the image."""
        from measurer.io.images import SUPPORTED_SUFFIXES

        pattern = " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES)
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Second mask", "", f"Images ({pattern});;All files (*)"
        )
        return bool(path) and self.set_second_mask(path)

    def set_second_mask(self, path: str | None) -> bool:
        """Use the mask in ``path`` as region B (None removes it); it must match the image."""
        from measurer.io.images import ImageReadError, read_image

        document = self.window.document
        if path is None or document is None:
            self.second_path, self.second_image = None, None
            self.second_overlay.show_mask(None)
            self.second_label.setText("no second mask")
            self._update_form()
            return path is None
        try:
            image = read_image(path).page(0)
        except ImageReadError as exc:
            self._fail(str(exc))
            return False
        if image.shape[:2] != document.image.shape[:2]:
            self._fail(
                f"The second mask is {image.shape[1]} × {image.shape[0]} px but the image is "
                f"{document.image.shape[1]} × {document.image.shape[0]} px: choose a mask of "
                "the same size."
            )
            return False
        self.second_path, self.second_image = str(path), image
        self.source.setCurrentIndex(self.source.findData("two_masks"))
        self.second_label.setText(f"B: {QtCore.QFileInfo(path).fileName()} (shown in magenta)")
        self.second_overlay.show_mask(self._second_foreground())
        self._update_form()
        return True

    def _second_foreground(self) -> np.ndarray:
        """The second mask's foreground as the options read it (any nonzero pixel if they
        cannot: Run then says why)."""
        from measurer.analysis.masks import MaskError

        image = self.second_image
        try:
            return foreground(image, self.options(), self._class(self.class_a))
        except MaskError:
            return np.asarray(image).reshape(*image.shape[:2], -1).any(axis=2)

    # --- running -------------------------------------------------------------------------

    def run(self) -> bool:
        """Analyse the mask(s) on a worker and put the results on the image."""
        document = self.window.document
        if document is None:
            self._fail("Open an image first.")
            return False
        self.adder.cancel()
        options = self.options()
        return self.run_detection(
            analyse_masks,
            document.image,
            self.second_image,
            options,
            parameters=options.parameters(self.second_path),
            to_shapes=lambda outcome: outcome.shapes,
        )

    def describe(self, outcome: Any) -> str:
        """The run's summary."""
        return outcome.summary

    # --- following the document ----------------------------------------------------------

    def _follow(self, document: Document) -> None:
        if self._document is not None:
            self._document.measurements_changed.disconnect(self._show_results)
        self._document = document
        self._classes_of = None
        document.measurements_changed.connect(self._show_results)
        if (
            self.second_image is not None
            and self.second_image.shape[:2] != document.image.shape[:2]
        ):
            self.set_second_mask(None)
            self.status.setText("The second mask was removed: it does not fit this image.")
        self.adder.cancel()
        self._update_form()
        self._show_results()

    def _show_results(self, *_: Any, preview: tuple[int, np.ndarray] | None = None) -> None:
        """Lines, values and landmark names of the current run (with a landmark being dragged)."""
        step = masks_step(self.window.document)
        if step is None:
            self.overlay.clear()
            self.values_label.setText("")
            self._sources = set()
            return
        own = own_annotations(self._document)
        if preview is not None:
            own = [a.with_vertices(preview[1]) if a.id == preview[0] else a for a in own]
        calibration = self._document.calibration
        measures = mask_measures(own, calibration, step.parameters)
        self._sources = {s.id for m in measures for s in m.sources}
        self.overlay.show_measures(measures, calibration)
        named = self.overlay.show_names([a for a in own if is_landmark(a)])
        self.overlay.declutter(self.window.canvas.viewbox)
        lines = [m.text(calibration) for m in measures]
        if not named:
            lines.append("(landmark names are shown for up to 300 landmarks)")
        self.values_label.setText("\n".join(lines))

    def _on_previewed(self, annotation_id: int, vertices: np.ndarray) -> None:
        """While a landmark is dragged, its name, and the lines and values using it, follow."""
        if annotation_id in self._sources:
            self._show_results(preview=(annotation_id, vertices))
        elif annotation_id in self.overlay.names and len(vertices) == 1:
            self.overlay.names[annotation_id].setPos(float(vertices[0][1]), float(vertices[0][0]))
