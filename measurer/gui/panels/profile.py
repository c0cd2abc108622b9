"""The profile dock: values along the selected line profile, with their export."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from measurer.core.annotations import Kind
from measurer.core.document import Document


def profile_values(document: Document, annotation_id: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Distances along a profile (calibrated when possible), its values, and the distance unit."""
    # Imported here: scipy.ndimage takes a third of a second to import, not worth it at start-up.
    from measurer.analysis.profiles import grayscale, line_profile

    annotation = document.annotations[annotation_id]
    start, end = annotation.vertices
    values = line_profile(grayscale(document.image), start, end, width=round(annotation.width))
    calibration = document.calibration
    step = (end - start) * np.array(calibration.scale())
    length = float(np.hypot(*step))
    distances = np.linspace(0.0, length, len(values)) if len(values) > 1 else np.zeros(len(values))
    return distances, np.asarray(values, dtype=float), calibration.unit


class ProfilePanel(QtWidgets.QWidget):
    """Plot of the selected profile annotation; follows its edits."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("left", "value")
        self.curve = self.plot.plot([], [], pen=pg.mkPen((255, 210, 0), width=2))
        self.hint = QtWidgets.QLabel("Draw or select a line profile (tool K) to see its values.")
        self.hint.setWordWrap(True)
        export = QtWidgets.QPushButton("Export values…")
        export.clicked.connect(self.export_values)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.hint)
        layout.addWidget(self.plot, 1)
        layout.addWidget(export)
        self.document: Document | None = None
        self.annotation_id: int | None = None
        self.distances = np.zeros(0)
        self.values = np.zeros(0)
        self.unit = "px"

    def set_document(self, document: Document) -> None:
        """Follow another document (clears the plot)."""
        self.document = document
        self.show_annotation(None)

    def show_annotation(self, annotation_id: int | None) -> None:
        """Plot a profile annotation; other kinds (or None) leave the last profile shown."""
        doc = self.document
        if doc is None:
            return
        if self.annotation_id is not None and self.annotation_id not in doc.annotations:
            self._clear()
        if (
            annotation_id not in doc.annotations
            or doc.annotations[annotation_id].kind is not Kind.PROFILE
        ):
            return
        self.annotation_id = annotation_id
        self.distances, self.values, self.unit = profile_values(doc, annotation_id)
        self.curve.setData(self.distances, self.values)
        self.plot.setLabel("bottom", f"distance ({self.unit})")
        width = doc.annotations[annotation_id].width
        self.hint.setText(f"Profile {annotation_id}: {len(self.values)} samples, band {width:g} px")

    def _clear(self) -> None:
        self.annotation_id = None
        self.distances = self.values = np.zeros(0)
        self.curve.setData([], [])
        self.hint.setText("Draw or select a line profile (tool K) to see its values.")

    def export_values(self) -> None:
        """Save the plotted values as CSV (distance, value)."""
        if self.annotation_id is None:
            QtWidgets.QMessageBox.information(self, "Profile", "Select a line profile first.")
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export profile", "profile.csv", "CSV (*.csv)"
        )
        if path:
            self.write_values(path)

    def write_values(self, path: str) -> None:
        """Write the plotted values to ``path`` (CSV, atomically)."""
        from measurer.core.measurements import Column
        from measurer.io.tables import write_rows

        columns = [
            Column(f"Distance ({self.unit})", "Distance", self.unit),
            Column("Value", "Value"),
        ]
        rows = [
            {columns[0].header: float(d), "Value": float(v)}
            for d, v in zip(self.distances, self.values, strict=True)
        ]
        write_rows(path, columns, rows)
