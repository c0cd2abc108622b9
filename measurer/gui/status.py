"""The status bar: cursor position in pixels and units, pixel value, calibration, tool."""

from __future__ import annotations

import numpy as np
from PySide6 import QtWidgets

from measurer.core.calibration import Calibration
from measurer.gui.canvas.tools import Tool


class StatusBar(QtWidgets.QStatusBar):
    """Permanent read-outs on the right, transient messages on the left."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.cursor_label = QtWidgets.QLabel()
        self.calibration_label = QtWidgets.QLabel("uncalibrated (px)")
        self.tool_label = QtWidgets.QLabel()
        for label in (self.cursor_label, self.calibration_label, self.tool_label):
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)

    def show_cursor(
        self, row: float, col: float, image: np.ndarray, calibration: Calibration
    ) -> None:
        """Position (x = column, y = row) and the value of the pixel under the cursor."""
        r, c = round(row), round(col)
        text = f"x {col:.1f}, y {row:.1f} px"
        if calibration.is_calibrated:
            x, y = col * calibration.pixel_width, row * calibration.pixel_height
            text += f"  ({x:.4g}, {y:.4g} {calibration.unit})"
        if 0 <= r < image.shape[0] and 0 <= c < image.shape[1]:
            value = image[r, c]
            if np.ndim(value):
                shown = ", ".join(_number(v) for v in value)
                text += f"  value ({shown})"
            else:
                text += f"  value {_number(value)}"
        self.cursor_label.setText(text)

    def show_calibration(self, calibration: Calibration) -> None:
        """The calibration and where it came from, always visible."""
        self.calibration_label.setText(calibration.describe())
        self.calibration_label.setToolTip("Measure → Set scale… to change it")

    def show_tool(self, tool: Tool) -> None:
        """Name of the current tool."""
        self.tool_label.setText(f"Tool: {tool.value}")


def _number(value) -> str:
    return f"{value:.5g}" if isinstance(value, float | np.floating) else str(value)
