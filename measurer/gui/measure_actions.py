"""Measure and Help menu actions: set scale, the scale bar overlay, the guide."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

from measurer import __version__
from measurer.core.annotations import Kind
from measurer.core.calibration import Calibration

if TYPE_CHECKING:
    from measurer.gui.main_window import MainWindow


class MeasureActions(QtCore.QObject):
    """Calibration, scale bar overlay and help for the main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        from measurer.gui.canvas.scale_bar import ScaleBarOptions, ScaleBarOverlay

        self.scale_bar_options = ScaleBarOptions()
        self.scale_bar = ScaleBarOverlay(self.scale_bar_options)
        self.scale_bar.setParentItem(window.canvas.overlay_group)

    def selected_line(self) -> np.ndarray | None:
        """Vertices of the selected line (or profile), the reference for Set scale."""
        document = self.window.document
        for annotation_id in self.window.layer.selected:
            annotation = document.annotations[annotation_id]
            if annotation.kind in (Kind.LINE, Kind.PROFILE):
                return annotation.vertices
        return None

    def set_scale(self) -> None:
        """Measure → Set scale: from the selected line, a preset, or typed pixel sizes."""
        from measurer.gui.dialogs.calibration_dialog import CalibrationDialog

        document = self.window.document
        if document is None:
            return
        line = self.selected_line()
        dialog = self.calibration_dialog(CalibrationDialog, document.calibration, line)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.window.controller.set_calibration(dialog.calibration())

    def calibration_dialog(self, dialog_class, current: Calibration, line: np.ndarray | None):
        """The Set scale dialog, pre-filled with the selected line's length."""
        if line is None:
            return dialog_class(current, settings=self.window.settings, parent=self.window)
        d_row, d_col = np.abs(line[1] - line[0])
        return dialog_class(
            current,
            measured_length_px=float(np.hypot(d_row, d_col)),
            dx_px=float(d_col),
            dy_px=float(d_row),
            settings=self.window.settings,
            parent=self.window,
        )

    def edit_scale_bar(self) -> None:
        """Measure → Scale bar overlay: length, position, colour, label."""
        from measurer.gui.canvas.scale_bar import ScaleBarDialog

        document = self.window.document
        if document is None:
            return
        dialog = ScaleBarDialog(
            self.scale_bar_options,
            document.calibration,
            image_shape=document.image.shape[:2],
            parent=self.window,
        )
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.set_scale_bar_options(dialog.options())

    def set_scale_bar_options(self, options) -> None:
        """Apply scale bar options and keep them in the session's view state."""
        self.scale_bar_options = options
        self.scale_bar.set_options(options)
        if self.window.document is not None:
            self.window.document.view_state["scale_bar"] = options.to_dict()
            self.follow_document()

    def follow_document(self) -> None:
        """Place the scale bar for the current image and calibration."""
        document = self.window.document
        if document is None:
            return
        from measurer.gui.canvas.scale_bar import ScaleBarOptions

        saved = document.view_state.get("scale_bar")
        if saved:
            self.scale_bar_options = ScaleBarOptions.from_dict(saved)
            self.scale_bar.set_options(self.scale_bar_options)
        self.scale_bar.set_image_shape(document.image.shape[:2])
        self.scale_bar.set_calibration(document.calibration)

    def show_guide(self) -> None:
        """Help → Quick guide."""
        from measurer.gui.help import show_guide

        show_guide(self.window)

    def show_definitions(self) -> None:
        """Help → Measurement definitions."""
        from measurer.gui.help import show_definitions

        show_definitions(self.window)

    def show_about(self) -> None:
        """Help → About."""
        QtWidgets.QMessageBox.about(
            self.window,
            "About measurer",
            f"<b>measurer {__version__}</b><p>Measure features in micrographs and retinal "
            "segmentation masks: detect, correct, export.</p>",
        )
