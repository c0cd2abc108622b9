"""The turning points panel: where the bright curve of a kymograph reverses.

The traced curve becomes a polyline (role ``"turns:trace"``) and each turning point a draggable
single point (role ``"turns:turn:<k>"``); the table's turn rows (frame, position, directions
before and after) come from :mod:`measurer.core.derived_turns`, recomputed after every edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6 import QtWidgets

from measurer.core.annotations import Annotation, Kind
from measurer.core.calibration import PIXEL_UNIT
from measurer.core.derived_turns import ANALYSIS, TRACE_ROLE, TURN_PREFIX, is_turn
from measurer.gui.panels.analysis_panel import AnalysisPanel

if TYPE_CHECKING:
    from measurer.core.document import Document
    from measurer.gui.main_window import MainWindow

_AXES = {
    "x": "Time along x (a column per frame)",
    "y": "Time along y (a row per frame)",
}


def turn_shapes(result: Any) -> list[Annotation]:
    """The smoothed trace as a polyline and each turning point as a single point."""
    shapes = []
    if len(result.trace) >= 2:
        shapes.append(Annotation(0, Kind.POLYLINE, result.trace, label="trace", role=TRACE_ROLE))
    for k, turn in enumerate(result.turns):
        shapes.append(
            Annotation(
                0,
                Kind.POINTS,
                [(turn.row, turn.col)],
                label="turning point",
                role=f"{TURN_PREFIX}{k}",
            )
        )
    return shapes


class TurnsPanel(AnalysisPanel):
    """Kymograph turning points: options, Run, and the number of turns now on the image."""

    title = "Turning points"
    analysis = ANALYSIS

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._document: Document | None = None
        self._unit_per_px = 1.0

        self.axis = QtWidgets.QComboBox()
        for key, text in _AXES.items():
            self.axis.addItem(text, key)
        self.axis.currentIndexChanged.connect(self._show_unit)
        self.method = QtWidgets.QComboBox()
        self.method.addItem("Centroid (fast)", "centroid")
        self.method.addItem("Ridge (curves that cross or fade)", "ridge")
        self.prominence = QtWidgets.QDoubleSpinBox(decimals=4, minimum=0.0001, maximum=1e6)
        self.prominence.setValue(5.0)
        self.prominence.setToolTip(
            "Smallest excursion of the curve on both sides of a turn, across the time axis"
        )
        self.separation = QtWidgets.QSpinBox(minimum=1, maximum=100000, suffix=" frames")
        self.separation.setValue(5)
        self.separation.setToolTip("Smallest number of frames between two turns of the same kind")
        form = QtWidgets.QFormLayout()
        form.addRow("Axis", self.axis)
        form.addRow("Method", self.method)
        form.addRow("Minimum prominence", self.prominence)
        form.addRow("Minimum separation", self.separation)

        self.run_button = QtWidgets.QPushButton("Find turning points")
        self.run_button.clicked.connect(self.run)
        self.count_label = QtWidgets.QLabel("Turns: –")
        hint = QtWidgets.QLabel(
            "Click a turning point to select it; drag it to correct it, Delete removes it."
        )
        hint.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.count_label)
        layout.addWidget(hint)
        layout.addWidget(self.status)
        layout.addStretch(1)

        window.document_changed.connect(self._follow)
        if window.document is not None:
            self._follow(window.document)
        else:
            self._show_unit()

    def prominence_px(self) -> float:
        """The minimum prominence in pixels along the position axis."""
        return self.prominence.value() / self._unit_per_px

    def run(self) -> bool:
        """Trace the curve and find its turning points on a worker."""
        from measurer.analysis.kymograph import find_turns

        document = self.window.document
        if document is None:
            self._fail("Open an image first.")
            return False
        options = {
            "axis": self.axis.currentData(),
            "method": self.method.currentData(),
            "min_prominence": self.prominence_px(),
            "min_separation": self.separation.value(),
        }
        unit = document.calibration.unit
        parameters = {**options, "prominence": self.prominence.value(), "prominence_unit": unit}
        return self.run_detection(
            find_turns, document.image, parameters=parameters, to_shapes=turn_shapes, **options
        )

    def describe(self, result: Any) -> str:
        """How many turns and frames."""
        if len(result.frames) == 0:
            return "No curve stands out from the background."
        return (
            f"{len(result.turns)} turning point{'s' if len(result.turns) != 1 else ''} over "
            f"frames {result.frames[0]}–{result.frames[-1]}."
        )

    # --- following the document ----------------------------------------------------------

    def _follow(self, document: Document) -> None:
        if self._document is not None:
            self._document.measurements_changed.disconnect(self._show_count)
            self._document.calibration_changed.disconnect(self._show_unit)
        self._document = document
        document.measurements_changed.connect(self._show_count)
        document.calibration_changed.connect(self._show_unit)
        self._show_unit()
        self._show_count()

    def _show_unit(self, *_: Any) -> None:
        """Prominence in the calibrated unit along the position axis, the same length as before."""
        calibration = self.window.document.calibration if self.window.document else None
        unit, per_px = PIXEL_UNIT, 1.0
        if calibration is not None and calibration.is_calibrated:
            unit = calibration.unit
            per_px = calibration.scale()[0 if self.axis.currentData() == "x" else 1]
        if per_px != self._unit_per_px:
            self.prominence.setValue(self.prominence.value() * per_px / self._unit_per_px)
            self._unit_per_px = per_px
        self.prominence.setSuffix(f" {unit}")

    def _show_count(self, *_: Any) -> None:
        """The number of turning points now, after every edit, undo and redo."""
        document = self._document
        if not any(s.analysis == ANALYSIS for s in document.steps):
            self.count_label.setText("Turns: –")
            return
        count = sum(
            is_turn(a) for a in document.annotations.values() if a.provenance.analysis == ANALYSIS
        )
        self.count_label.setText(f"Turns: {count}")
