"""The Layers panel: dark and light layers along profiles, with editable boundaries.

Input: the selected line or profile (parallel profiles one band width apart around it), or
the selected rectangle as ROI (the layer direction from the structure tensor, profiles placed
across the layers and spread along them), or the whole image when nothing is selected. The
result is one profile line (role ``layers:line:<i>``) and one boundary point per boundary
(``layers:boundary:<i>:<k>:<rising|falling>``), drawn as ticks across the line that drag along
it. Widths, kinds and counts are derived rows (:mod:`measurer.core.derived_layers`), so every
drag, deletion (Delete key) or added boundary ("Add boundary", then click on a profile)
recomputes them. Two tabs: Profile plots the selected profile with its boundaries; Taper
plots every layer's width against its profile's position along the layers (2+ profiles,
:mod:`measurer.gui.panels.taper_plot`). The work itself is in :mod:`.layers_task`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from measurer.core import derived_layers
from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.commands import AddAnnotations, AnalysisStep, ApplyDetection
from measurer.core.derived_layers import (
    boundary_role,
    parse_boundary_role,
    parse_line_role,
    polarity_label,
    profile_layers,
    project,
)
from measurer.gui.canvas.items import register_role_item
from measurer.gui.canvas.tick_item import TickItem
from measurer.gui.panels.analysis_panel import AnalysisPanel
from measurer.gui.panels.layers_task import find_layers, rectangle_roi
from measurer.gui.panels.taper_plot import TaperPlot
from measurer.gui.workers import run_task

register_role_item(derived_layers.BOUNDARY_PREFIX, TickItem)

#: Plot colours of rising (dark to light) and falling boundaries, and of the selected one.
RISING, FALLING, CHOSEN = (255, 160, 40), (90, 170, 255), (255, 60, 200)


class LayersPanel(AnalysisPanel):
    """Count and measure dark and light layers; edit their boundaries on the canvas."""

    title = "Layers"
    analysis = derived_layers.ANALYSIS

    def __init__(self, window) -> None:
        super().__init__(window)
        self.input_label = QtWidgets.QLabel()
        self.input_label.setWordWrap(True)
        self.band_width = QtWidgets.QSpinBox(minimum=1, maximum=501, value=9, suffix=" px")
        self.band_width.setToolTip("Width of the band averaged across each profile")
        self.profiles = QtWidgets.QSpinBox(minimum=1, maximum=64, value=1)
        self.profiles.setToolTip("Parallel profiles (spread along the layers: their taper)")
        self.smoothing = QtWidgets.QDoubleSpinBox(maximum=20.0, value=1.0, singleStep=0.5)
        self.smoothing.setSuffix(" px")
        self.smoothing.setToolTip("Gaussian sigma used to find extremes and boundaries")
        self.run_button = QtWidgets.QPushButton("Run", clicked=self.run)
        self.add_button = QtWidgets.QPushButton("Add boundary", checkable=True)
        self.add_button.setToolTip("Then click on a profile line to add a boundary there")
        self.add_button.toggled.connect(self._on_add_toggled)
        form = QtWidgets.QFormLayout()
        form.addRow("Band width", self.band_width)
        form.addRow("Profiles", self.profiles)
        form.addRow("Smoothing", self.smoothing)
        form.addRow(self.run_button, self.add_button)
        self.profile_choice = QtWidgets.QComboBox()
        self.profile_choice.currentIndexChanged.connect(lambda _: self.refresh())
        self.summary = QtWidgets.QLabel("Run to find the layers.")
        self.summary.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(160)
        self.plot.setLabel("left", "value")
        self.curve = self.plot.plot([], [], pen=pg.mkPen((220, 220, 220), width=1.5))
        self.marks: dict[int, pg.InfiniteLine] = {}
        self.taper = TaperPlot()
        profile_page = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(profile_page)
        column.setContentsMargins(2, 2, 2, 2)
        column.addWidget(self.profile_choice)
        column.addWidget(self.plot, 1)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(profile_page, "Profile")
        self.tabs.addTab(self.taper, "Taper")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.input_label)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        self._document = None
        self._curve_key: tuple | None = None
        self._values = np.zeros(0)
        self._indices: list[int] = []
        self._shown: derived_layers.ProfileLayers | None = None
        window.document_changed.connect(self._on_document_changed)
        window.layer.selection_changed.connect(self._on_selection_changed)
        window.layer.edit_previewed.connect(self._on_edit_previewed)
        window.canvas.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._show_input()

    # --- input and run -----------------------------------------------------------------------

    def input_shape(self) -> Annotation | None:
        """The selected line, profile or rectangle the analysis will use, if any."""
        doc = self.window.document
        selected = [doc.annotations.get(i) for i in self.window.layer.selected] if doc else []
        usable = (Kind.LINE, Kind.PROFILE, Kind.RECTANGLE)
        return next((a for a in selected if a is not None and a.kind in usable), None)

    def _show_input(self) -> None:
        shape = self.input_shape()
        if shape is None:
            text = "Input: nothing selected, so the whole image with automatic orientation."
        elif shape.kind is Kind.RECTANGLE:
            text = f"Input: rectangle {shape.id} as ROI, profiles across its layers."
        else:
            text = f"Input: {shape.kind.value} {shape.id} as the profile."
        self.input_label.setText(text)

    def run(self) -> bool:
        """Find the layers along the input's profiles; False when nothing was started."""
        document = self.window.document
        if document is None:
            self._fail("Open an image first.")
            return False
        if not self.confirm_discard():
            return False
        shape = self.input_shape()
        request: dict[str, Any] = {
            "band_width": self.band_width.value(),
            "profiles": self.profiles.value(),
            "smoothing": self.smoothing.value(),
            "spacing": document.calibration.scale(),
            "roi": None,
            "line": None,
        }
        if shape is None:
            request["roi"] = (0, 0, *document.image.shape[:2])
        elif shape.kind is Kind.RECTANGLE:
            request["roi"] = rectangle_roi(shape.vertices, document.image.shape)
            if min(request["roi"][2:]) < 3:
                self._fail("The rectangle is too small: it must cover at least 3 × 3 pixels.")
                return False
        else:
            request["line"] = tuple(shape.vertices)
        revision = document.revision

        def done(found: dict | None) -> None:
            if found is None:
                return
            if self.window.document is not document or document.revision != revision:
                self._fail("The image changed while the analysis ran; run it again.")
                return
            step = AnalysisStep(self.analysis, found["parameters"])
            if self.window.controller.apply(ApplyDetection(step, found["shapes"])):
                self.status.setText(self.describe(found))
                self.finished.emit(found)

        self.status.setText("Running…")
        self._task = run_task(
            self.window, self.title, find_layers, document.image, request,
            on_done=done, on_error=self._fail,
        )  # fmt: skip
        return True

    def describe(self, result: Any) -> str:
        """How many profiles and boundaries were found."""
        return result["text"] + " Drag a tick along its profile, Delete removes it."

    # --- the result --------------------------------------------------------------------------

    def step_parameters(self) -> dict | None:
        """The parameters of the document's layer analysis, if it ran."""
        doc = self.window.document
        steps = [s for s in doc.steps if s.analysis == self.analysis] if doc else []
        return steps[-1].parameters if steps else None

    def current_layers(self) -> list[derived_layers.ProfileLayers]:
        """Every profile's layers as the annotations are now."""
        parameters = self.step_parameters()
        if parameters is None:
            return []
        doc = self.window.document
        own = [a for a in doc.annotations.values() if a.provenance.analysis == self.analysis]
        return profile_layers(own, doc.calibration, parameters)

    def refresh(self) -> None:
        """Rebuild the profile list, the summary and both plots from the document."""
        profiles = self.current_layers()
        indices = [p.index for p in profiles]
        if indices != self._indices:
            chosen = self.profile_choice.currentIndex()
            self.profile_choice.blockSignals(True)
            self.profile_choice.clear()
            self.profile_choice.addItems([f"Profile {i + 1}" for i in indices])
            self.profile_choice.setCurrentIndex(min(max(chosen, 0), len(indices) - 1))
            self.profile_choice.blockSignals(False)
            self._indices = indices
        self.profile_choice.setVisible(len(indices) > 1)
        chosen = self.profile_choice.currentIndex()
        self._shown = profiles[chosen] if profiles and chosen >= 0 else None
        self.summary.setText(self._summary(profiles) if self._shown else "Run to find the layers.")
        self._plot(self._shown)
        calibration = self.window.document.calibration if self.window.document else None
        shown = self._shown.index if self._shown is not None else None
        self.taper.set_layers(profiles, calibration, shown=shown)

    def _summary(self, profiles: list) -> str:
        profile, unit = self._shown, self.window.document.calibration.unit
        text = (
            f"Profile {profile.index + 1}: {profile.count('dark')} dark and "
            f"{profile.count('light')} light complete layers"
        )
        if profile.pair_width is not None:
            text += f"; dark + light pair {profile.pair_width * profile.unit_per_px:.4g} {unit}"
        if profile.period is not None:
            text += f", period {profile.period * profile.unit_per_px:.4g} {unit}"
        text += "."
        mixed = profile.count("mixed")
        if mixed:
            text += (
                f" {mixed} layer(s) between two boundaries of the same polarity (shown as "
                "mixed): add or delete a boundary to fix."
            )
        blurred = sum(1 for la in profile.layers if la.complete and not la.resolved)
        if blurred:
            text += f" {blurred} layer(s) narrower than 4 blur sigmas: widths limited by blur."
        parameters = self.step_parameters() or {}
        lines = parameters.get("lines") or []
        if profile.index < len(lines) and not np.allclose(
            np.reshape(lines[profile.index], (2, 2)), profile.line.vertices
        ):
            text += " Its line was moved since the run: run again to find its boundaries."
        if len(profiles) > 1:
            darks = [p.count("dark") for p in profiles]
            text += f" {len(profiles)} profiles: {min(darks)}–{max(darks)} dark layers each."
        return text

    def _plot(self, profile) -> None:
        for mark in self.marks.values():
            self.plot.removeItem(mark)
        self.marks = {}
        if profile is None:
            self.curve.setData([], [])
            return
        scale = profile.unit_per_px
        values = self._values_of(profile.line)
        self.curve.setData(np.linspace(0.0, profile.length * scale, values.size), values)
        unit = self.window.document.calibration.unit
        self.plot.setLabel("bottom", f"distance along profile {profile.index + 1} ({unit})")
        selected = set(self.window.layer.selected)
        for boundary in profile.boundaries:
            colour = CHOSEN if boundary.id in selected else RISING if boundary.rising else FALLING
            mark = pg.InfiniteLine(
                boundary.position * scale, angle=90, pen=pg.mkPen(colour, width=1.5)
            )
            self.plot.addItem(mark)
            self.marks[boundary.id] = mark

    def _values_of(self, line: Annotation) -> np.ndarray:
        """The band-averaged profile along a line (kept until the line or the image changes)."""
        key = (line.id, line.vertices.tobytes(), line.width, id(self.window.document.image))
        if key != self._curve_key:
            from measurer.analysis.profiles import grayscale, line_profile

            start, end = line.vertices
            image = grayscale(self.window.document.image)
            self._values = line_profile(image, start, end, width=round(line.width))
            self._curve_key = key
        return self._values

    # --- adding boundaries -------------------------------------------------------------------

    def add_boundary_at(self, row: float, col: float, tolerance: float | None = None) -> int | None:
        """Add a boundary where the nearest profile line passes ``(row, col)``; its new id."""
        doc, parameters = self.window.document, self.step_parameters()
        if doc is None or parameters is None:
            self.status.setText("Run the layer analysis first.")
            return None
        best = None
        for profile in self.current_layers():
            start, end = profile.line.vertices
            t = float(np.clip(project(start, end, (row, col)), 0.0, profile.length))
            point = start + t * (end - start) / profile.length
            distance = float(np.hypot(*(point - (row, col))))
            reach = tolerance if tolerance is not None else profile.line.width / 2 + 4
            if distance <= reach and (best is None or distance < best[0]):
                best = (distance, profile, t, point)
        if best is None:
            self.status.setText("Click on a profile line to add a boundary there.")
            return None
        _, profile, t, point = best
        parsed = [parse_boundary_role(a.role) for a in doc.annotations.values()]
        keys = [p[1] for p in parsed if p is not None and p[0] == profile.index]
        rising = self._rising_at(profile, t)
        annotation = Annotation(
            doc.new_id(),
            Kind.POINTS,
            [point],
            polarity_label(rising),
            role=boundary_role(profile.index, max(keys, default=-1) + 1, rising),
            provenance=Provenance(Origin.CORRECTED, self.analysis, parameters),
        )
        if not self.window.controller.apply(AddAnnotations([annotation])):
            return None
        self.window.layer.select([annotation.id])
        self.status.setText(f"Boundary added ({polarity_label(rising)}).")
        return annotation.id

    def _rising_at(self, profile, t: float) -> bool:
        """True when the image is brighter after ``t`` along the profile than before it."""
        values = self._values_of(profile.line)
        positions = np.linspace(0.0, profile.length, values.size)
        others = [b.position for b in profile.boundaries]
        before = max([p for p in others if p < t], default=0.0)
        after = min([p for p in others if p > t], default=profile.length)
        reach = float(np.clip(min(t - before, after - t) / 2, 2.0, 15.0))
        left = values[(positions >= t - reach) & (positions < t)]
        right = values[(positions > t) & (positions <= t + reach)]
        return bool(np.nanmean(right) > np.nanmean(left)) if left.size and right.size else True

    # --- events ------------------------------------------------------------------------------

    def _on_add_toggled(self, on: bool) -> None:
        self.status.setText("Click on a profile line to add a boundary." if on else "")

    def _on_scene_clicked(self, ev) -> None:
        left = ev.button() == QtCore.Qt.MouseButton.LeftButton
        on_tick = isinstance(getattr(ev, "currentItem", None), TickItem)  # it took the click
        if not (self.add_button.isChecked() and left) or ev.double() or on_tick:
            return
        viewbox = self.window.canvas.viewbox
        point = viewbox.mapSceneToView(ev.scenePos())
        tolerance = 8 * viewbox.viewPixelSize()[0]
        self.add_boundary_at(point.y(), point.x(), tolerance=max(tolerance, 1.0))

    def _on_document_changed(self, document) -> None:
        if self._document is not None:
            self._document.measurements_changed.disconnect(self._on_measurements_changed)
        self._document = document
        document.measurements_changed.connect(self._on_measurements_changed)
        self._curve_key = None
        self.refresh()
        self._show_input()

    def _on_measurements_changed(self, table) -> None:
        self.refresh()

    def _on_selection_changed(self, ids: list) -> None:
        self._show_input()
        doc = self.window.document
        for annotation_id in ids:
            role = doc.annotations[annotation_id].role if annotation_id in doc.annotations else ""
            parsed = parse_boundary_role(role)
            index = parsed[0] if parsed is not None else parse_line_role(role)
            if index in self._indices:
                self.profile_choice.setCurrentIndex(self._indices.index(index))
                break
        self.refresh()

    def _on_edit_previewed(self, annotation_id: int, vertices) -> None:
        """While a tick of the plotted profile is dragged, its line in the plot follows."""
        mark, shown = self.marks.get(annotation_id), self._shown
        if mark is not None and shown is not None:
            position = project(*shown.line.vertices, np.asarray(vertices)[0])
            mark.setValue(position * shown.unit_per_px)
