"""ImageJ ROI sets, the image as a calibrated TIFF, and annotated images (TIFF, SVG) from the
File menu."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

from measurer.core.commands import AddAnnotations

if TYPE_CHECKING:
    from measurer.gui.main_window import MainWindow


class InteropActions(QtCore.QObject):
    """Import and export of ImageJ ROIs, and figures with their overlays."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    # --- ImageJ ROIs -------------------------------------------------------------------------

    def import_rois_dialog(self) -> None:
        """File → Import ImageJ ROIs."""
        start = str(self.window.current_path().parent) if self.window.current_path() else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, "Import ImageJ ROIs", start, "ImageJ ROIs (*.roi *.zip);;All files (*)"
        )
        if path:
            self.import_rois(path)

    def import_rois(self, path: str) -> int:
        """Add the ROIs of a ``.roi`` or ``.zip`` file as manual annotations (one undo step)."""
        from measurer.io.imagej_roi import read_rois

        document = self.window.document
        if document is None:
            return 0
        skipped: list[str] = []
        try:
            rois = read_rois(path, skipped=skipped)
        except (ValueError, OSError) as exc:
            self.window.files.show_error("The ROIs could not be read", str(exc))
            return 0
        from dataclasses import replace

        annotations = [replace(a, id=document.new_id()) for a in rois]
        if annotations and not self.window.controller.apply(AddAnnotations(annotations)):
            return 0
        message = f"Imported {len(annotations)} ROI(s) from {Path(path).name}"
        if skipped:
            QtWidgets.QMessageBox.warning(
                self.window,
                "Some ROIs were skipped",
                message + ". measurer cannot represent these:\n\n" + "\n".join(skipped),
            )
        self.window.status.showMessage(message, 8000)
        return len(annotations)

    def export_rois_dialog(self) -> None:
        """File → Export → ImageJ ROI set (the selection, or every annotation)."""
        path = self.window.files.ask_save_path(
            "Export ImageJ ROIs", "rois.zip", "ImageJ ROI set (*.zip);;ImageJ ROI (*.roi)"
        )
        if path:
            self.export_rois(path)

    def export_rois(self, path: str) -> bool:
        """Write the selected annotations (or all) as an ImageJ ROI file or set."""
        from measurer.io.imagej_roi import write_rois

        document = self.window.document
        if document is None:
            return False
        ids = self.window.layer.selected or document.order()
        try:
            write_rois(
                path, [document.annotations[i] for i in ids], image_shape=document.image.shape
            )
        except (ValueError, OSError) as exc:
            self.window.files.show_error("The ROIs could not be exported", str(exc))
            return False
        self.window.status.showMessage(f"Exported {len(ids)} ROI(s) to {Path(path).name}", 8000)
        return True

    # --- the image as an ImageJ-calibrated TIFF ----------------------------------------------

    def export_image_tiff_dialog(self) -> None:
        """File → Export → Image as calibrated TIFF (for Fiji)."""
        path = self.window.files.ask_save_path(
            "Export image as calibrated TIFF", "calibrated.tif", "ImageJ TIFF (*.tif)"
        )
        if path:
            self.export_image_tiff(path)

    def export_image_tiff(self, path: str) -> bool:
        """Every page of the image, without overlays, with the document's pixel size, so that
        Fiji shows the calibration set here (e.g. from a scale bar)."""
        from measurer.io.tiff_writer import TiffWriteError, imagej_pixels, write_tiff

        document, image_file = self.window.document, self.window.image_file
        if document is None or image_file is None:
            return False
        try:
            write_tiff(path, imagej_pixels(image_file.data), document.calibration)
        except (TiffWriteError, OSError) as exc:
            self.window.files.show_error("The image could not be exported", str(exc))
            return False
        self.window.status.showMessage(f"Exported {Path(path).name}", 5000)
        return True

    # --- annotated figures -------------------------------------------------------------------

    def export_figure_dialog(self, fmt: str) -> None:
        """File → Export → Image with overlays as TIFF or SVG."""
        filters = {"tif": "ImageJ TIFF (*.tif)", "svg": "SVG, vector overlays (*.svg)"}
        path = self.window.files.ask_save_path(
            "Export image with overlays", f"annotated.{fmt}", filters[fmt]
        )
        if path:
            self.export_figure(path)

    def export_figure(self, path: str) -> bool:
        """The image at full resolution with its annotations and scale bar, as on the canvas."""
        from measurer.io.annotated import write_annotated

        document = self.window.document
        if document is None:
            return False
        levels = self.window.canvas.display.item.levels
        if levels is not None and np.ndim(levels) != 1:
            levels = None  # per-channel levels of a colour image: keep its colours as stored
        try:
            write_annotated(
                path,
                document.image,
                document.annotations.values(),
                calibration=document.calibration,
                scale_bar=self.window.measure.scale_bar_options,
                levels=tuple(float(v) for v in levels) if levels is not None else None,
                line_width=2,
            )
        except (ValueError, OSError) as exc:
            self.window.files.show_error("The image could not be exported", str(exc))
            return False
        self.window.status.showMessage(f"Exported {Path(path).name}", 5000)
        return True
