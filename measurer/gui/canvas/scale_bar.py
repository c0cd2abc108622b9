"""A scale bar drawn on the canvas in image coordinates, its options, and the dialog to edit them.

Everything is sized in image pixels, the bar and the text alike: the label is painted as a text
outline scaled with the image rather than as a ``pg.TextItem`` (which keeps a constant size on
screen). On screen the label grows and shrinks with the image, as it will look in the figure,
and an export at full resolution shows exactly the same bar and label: a 10 µm bar at 0.1 µm/px
is 100 image pixels long there as here. Automatic sizes follow the image's size, so the label is
readable at "fit to window". When the canvas shows pixels at their physical aspect, the label
and the bar's thickness are stretched over the rows to look upright there
(:meth:`ScaleBarOverlay.set_display_aspect`); exports, in image pixels, are not.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainterPath, QTransform
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from measurer.core.calibration import Calibration
from measurer.core.style import POSITIONS, format_length
from measurer.core.style import ScaleBar as ScaleBarOptions

#: Colours offered by name in the dialog; anything else is ``"#rrggbb"``.
PRESET_COLOURS = ("white", "black")


class ScaleBarOverlay(pg.GraphicsObject):
    """The scale bar, added to the canvas view box (``addItem(bar, ignoreBounds=True)``).

    It is hidden while the image is uncalibrated, before an image shape is known, and when
    ``options.visible`` is False.
    """

    def __init__(
        self,
        options: ScaleBarOptions | None = None,
        calibration: Calibration | None = None,
        image_shape: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        self._options = options or ScaleBarOptions()
        self._calibration = calibration or Calibration.uncalibrated()
        self._shape = tuple(image_shape[:2]) if image_shape is not None else None
        self._bar = QRectF()
        self._text = QPainterPath()
        self._aspect = 1.0
        self.setZValue(20)
        self._relayout()

    @property
    def options(self) -> ScaleBarOptions:
        """The current options."""
        return self._options

    def set_options(self, options: ScaleBarOptions) -> None:
        """Change how the bar looks."""
        self._options = options
        self._relayout()

    def set_calibration(self, calibration: Calibration) -> None:
        """Follow a new calibration (the bar hides itself when uncalibrated)."""
        self._calibration = calibration
        self._relayout()

    def set_display_aspect(self, ratio: float) -> None:
        """Follow the canvas showing each pixel ``ratio`` times as wide as it is tall."""
        self._aspect = float(ratio)
        self._relayout()

    def set_image_shape(self, shape: tuple[int, ...]) -> None:
        """Follow a new image size ``(rows, cols, ...)``."""
        self._shape = (int(shape[0]), int(shape[1]))
        self._relayout()

    def length(self) -> float | None:
        """The physical length drawn (automatic lengths resolved), None when not drawn."""
        if self._shape is None:
            return None
        return self._options.resolved_length(self._calibration, self._shape)

    def label_text(self) -> str:
        """The label, e.g. ``"10 µm"`` (empty when not drawn)."""
        length = self.length()
        return format_length(length, self._calibration.unit) if length is not None else ""

    def bar_rect(self) -> QRectF:
        """The bar in image coordinates (x = column, y = row, pixel centres at integers)."""
        return QRectF(self._bar)

    def label_rect(self) -> QRectF:
        """The ink of the label in image coordinates (empty without a label)."""
        return self._text.boundingRect()

    def color(self) -> QColor:
        """The colour of the bar and its label."""
        return QColor(*self._options.rgb)

    def _relayout(self) -> None:
        self.prepareGeometryChange()
        length = self.length()
        self.setVisible(length is not None and self._options.visible)
        if length is None:
            self._bar, self._text = QRectF(), QPainterPath()
            self.update()
            return
        rows, cols = self._shape
        thickness, font_size, margin = self._options.sizes(self._shape)
        thickness *= self._aspect
        bar_width = length / self._calibration.pixel_width
        text = _text_path(self.label_text(), font_size) if self._options.label else QPainterPath()
        text = QTransform.fromScale(1.0, self._aspect).map(text)
        ink = text.boundingRect()
        gap = 0.3 * font_size if self._options.label else 0.0
        block_w = max(bar_width, ink.width())
        block_h = thickness + gap + ink.height()
        vertical, horizontal = self._options.position.split("-")
        left = -0.5 + margin if horizontal == "left" else cols - 0.5 - margin - block_w
        top = -0.5 + margin if vertical == "top" else rows - 0.5 - margin - block_h
        self._bar = QRectF(left + (block_w - bar_width) / 2, top, bar_width, thickness)
        centre_x = left + block_w / 2
        self._text = text.translated(centre_x - ink.center().x(), top + thickness + gap - ink.top())
        self.update()

    def boundingRect(self) -> QRectF:
        """The bar and its label, with a little room for antialiasing."""
        return self._bar.united(self._text.boundingRect()).adjusted(-1, -1, 1, 1)

    def paint(self, painter, option=None, widget=None) -> None:
        """Draw the bar and the label in their colour."""
        if self._bar.isEmpty():
            return
        painter.setRenderHint(painter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color())
        painter.drawRect(self._bar)
        painter.drawPath(self._text)


def _text_path(text: str, size: float) -> QPainterPath:
    """The outline of ``text`` whose em size is ``size`` image pixels.

    The outline is taken from a large font and scaled, so it is the same at every zoom.
    """
    font = QFont()
    font.setPixelSize(100)
    font.setBold(True)
    path = QPainterPath()
    path.addText(QPointF(0, 0), font, text)
    return QTransform.fromScale(size / 100, size / 100).map(path)


_POSITION_NAMES = {p: p.replace("-", " ").capitalize() for p in POSITIONS}


class ScaleBarDialog(QDialog):
    """Edit the scale bar's options; ``options_changed`` lets the canvas preview them live."""

    options_changed = Signal(object)

    def __init__(
        self,
        options: ScaleBarOptions,
        calibration: Calibration,
        image_shape: tuple[int, ...] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scale bar")
        self._custom = options.color if options.color not in PRESET_COLOURS else "#ffcc00"
        unit = calibration.unit if calibration.is_calibrated else ""

        self.visible_check = QCheckBox("Show the scale bar")
        self.visible_check.setChecked(options.visible)
        self.length_edit = QLineEdit("" if options.length is None else f"{options.length:g}")
        auto = None
        if calibration.is_calibrated and image_shape is not None:
            auto = ScaleBarOverlay(None, calibration, image_shape).label_text()
        self.length_edit.setPlaceholderText(f"automatic ({auto})" if auto else "automatic")
        self.length_edit.setToolTip("Leave empty for a round length about 1/5 of the width.")
        self.position_combo = QComboBox()
        for key, name in _POSITION_NAMES.items():
            self.position_combo.addItem(name, key)
        self.position_combo.setCurrentIndex(POSITIONS.index(options.position))
        self.color_combo = QComboBox()
        self.color_combo.addItem("White", "white")
        self.color_combo.addItem("Black", "black")
        self.color_combo.addItem("Custom…", "custom")
        self.color_combo.setCurrentIndex(
            self.color_combo.findData(
                options.color if options.color in PRESET_COLOURS else "custom"
            )
        )
        self.thickness_spin = _auto_spin(options.thickness)
        self.label_check = QCheckBox("Show the length as text")
        self.label_check.setChecked(options.label)
        self.font_spin = _auto_spin(options.font_size)

        form = QFormLayout()
        form.addRow(self.visible_check)
        form.addRow(f"Length ({unit}):" if unit else "Length:", self.length_edit)
        form.addRow("Position:", self.position_combo)
        form.addRow("Colour:", self.color_combo)
        form.addRow("Thickness:", self.thickness_spin)
        form.addRow(self.label_check)
        form.addRow("Font size:", self.font_spin)
        note = QLabel("Sizes are in image pixels, so an exported image shows the bar as here.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        self.warning_label = QLabel(
            "This image has no scale yet: set one first (Set scale…). A scale bar in pixels "
            "would be meaningless, so none is drawn until the image is calibrated."
        )
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b00020;")
        self.warning_label.setVisible(not calibration.is_calibrated)
        self.hint_label = QLabel()
        self.hint_label.setStyleSheet("color: #b00020;")
        self.hint_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.warning_label)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.hint_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

        for signal in (
            self.visible_check.toggled,
            self.length_edit.textChanged,
            self.position_combo.currentIndexChanged,
            self.thickness_spin.valueChanged,
            self.label_check.toggled,
            self.font_spin.valueChanged,
        ):
            signal.connect(self._changed)
        self.color_combo.activated.connect(self._on_color_chosen)
        self._changed()

    def options(self) -> ScaleBarOptions:
        """The options as set; ValueError if the length is not a positive number."""
        text = self.length_edit.text().strip().replace(",", ".")
        try:
            length = float(text) if text else None
        except ValueError:
            raise ValueError("The length must be a number (or empty for automatic).") from None
        colour = self.color_combo.currentData()
        try:
            return ScaleBarOptions(
                visible=self.visible_check.isChecked(),
                length=length,
                position=self.position_combo.currentData(),
                color=self._custom if colour == "custom" else colour,
                thickness=self.thickness_spin.value(),
                label=self.label_check.isChecked(),
                font_size=self.font_spin.value(),
            )
        except ValueError:
            raise ValueError("The length must be a positive number.") from None

    def set_color(self, color: str) -> None:
        """Choose a colour: ``"white"``, ``"black"`` or any ``"#rrggbb"``."""
        if color in PRESET_COLOURS:
            self.color_combo.setCurrentIndex(self.color_combo.findData(color))
        else:
            self._custom = QColor(color).name()
            self.color_combo.setCurrentIndex(self.color_combo.findData("custom"))
        self._changed()

    def _on_color_chosen(self, index: int) -> None:
        if self.color_combo.itemData(index) == "custom":
            chosen = QColorDialog.getColor(QColor(self._custom), self, "Scale bar colour")
            if chosen.isValid():
                self._custom = chosen.name()
        self._changed()

    def _changed(self, *_args) -> None:
        self.font_spin.setEnabled(self.label_check.isChecked())
        try:
            options = self.options()
        except ValueError as exc:
            self.hint_label.setText(str(exc))
            self.hint_label.show()
            self.ok_button.setEnabled(False)
            return
        self.hint_label.hide()
        self.ok_button.setEnabled(True)
        self.options_changed.emit(options)


def _auto_spin(value: int) -> QSpinBox:
    """A size in image pixels where 0 reads "automatic"."""
    spin = QSpinBox()
    spin.setRange(0, 100_000)
    spin.setSpecialValueText("automatic")
    spin.setSuffix(" px")
    spin.setValue(value)
    return spin
