"""Set scale: pixel size from a line of known length, or typed; named presets in the settings.

With non-square pixels (aspect ratio r = pixel height / pixel width) a line of ``dx`` by ``dy``
pixels is ``pixel_width * hypot(dx, r * dy)`` long, so a known length along any direction gives
``pixel_width = known / hypot(dx, r * dy)``. Without the line's direction the distance is taken
along x.
"""

from __future__ import annotations

import json
import math

from PySide6.QtCore import QSettings, QSignalBlocker
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from measurer.core.calibration import PIXEL_UNIT, UNIT_METRES, Calibration, normalize_unit

#: QSettings key of the presets: JSON text ``{name: {pixel_width, pixel_height, unit}}``.
PRESETS_KEY = "calibration/presets"

_RED = "#b00020"
_GREY = "palette(placeholder-text)"


def load_presets(settings: QSettings) -> dict[str, Calibration]:
    """The presets kept in ``settings``; malformed entries are skipped."""
    try:
        data = json.loads(str(settings.value(PRESETS_KEY, "{}") or "{}"))
    except ValueError:
        return {}
    presets = {}
    for name, entry in data.items() if isinstance(data, dict) else ():
        try:
            cal = Calibration.from_dict({**entry, "source": "manual", "detail": f"preset {name}"})
        except (ValueError, TypeError):
            continue
        if cal.is_calibrated:
            presets[str(name)] = cal
    return presets


def store_presets(settings: QSettings, presets: dict[str, Calibration]) -> None:
    """Write the presets to ``settings`` as readable JSON text."""
    data = {
        name: {"pixel_width": c.pixel_width, "pixel_height": c.pixel_height, "unit": c.unit}
        for name, c in sorted(presets.items(), key=lambda item: item[0].lower())
    }
    settings.setValue(PRESETS_KEY, json.dumps(data, ensure_ascii=False))
    settings.sync()


def _number(text: str) -> float | None:
    """A positive finite number from text (a decimal comma is accepted), else None."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _note(text: str) -> QLabel:
    """A grey explanatory line."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {_GREY};")
    return label


def _size_text(cal: Calibration) -> str:
    """``"0.0512 µm/px  (19.53 px/µm)"`` or the x × y form for non-square pixels."""
    if cal.is_isotropic:
        return f"{cal.pixel_width:.4g} {cal.unit}/px  ({1 / cal.pixel_width:.4g} px/{cal.unit})"
    return f"{cal.pixel_width:.4g} × {cal.pixel_height:.4g} {cal.unit}/px (x × y)"


class CalibrationDialog(QDialog):
    """The "Set scale" dialog; read the result with :meth:`calibration` after ``exec()``."""

    def __init__(
        self,
        calibration: Calibration,
        measured_length_px: float | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        *,
        dx_px: float | None = None,
        dy_px: float | None = None,
    ) -> None:
        """``measured_length_px``: a drawn line's length; ``dx_px``, ``dy_px``: its extent."""
        super().__init__(parent)
        self.setWindowTitle("Set scale")
        self._settings = settings
        self._removed = False
        self._preset: str | None = None
        self._direction: tuple[float, float] | None = None
        delta = None
        if dx_px is not None and dy_px is not None and math.hypot(dx_px, dy_px) > 0:
            delta = (abs(float(dx_px)), abs(float(dy_px)))
            norm = math.hypot(*delta)
            self._direction = (delta[0] / norm, delta[1] / norm)
            if measured_length_px is None:
                measured_length_px = norm
        self._build(calibration, measured_length_px, delta)
        self._update()

    # --- layout ------------------------------------------------------------------------------

    def _build(
        self, cal: Calibration, line_length: float | None, delta: tuple[float, float] | None
    ) -> None:
        self.preset_combo = QComboBox()
        self.save_preset_button = QPushButton("Save as preset…")
        self.delete_preset_button = QPushButton("Delete preset")
        presets_row = QHBoxLayout()
        presets_row.addWidget(QLabel("Preset:"))
        presets_row.addWidget(self.preset_combo, 1)
        presets_row.addWidget(self.save_preset_button)
        presets_row.addWidget(self.delete_preset_button)

        self.line_mode_radio = QRadioButton("From a line of known length")
        self.size_mode_radio = QRadioButton("Type the pixel size in x and y")
        self._modes = QButtonGroup(self)
        self._modes.addButton(self.line_mode_radio, 0)
        self._modes.addButton(self.size_mode_radio, 1)

        self.pixel_distance_edit = QLineEdit(f"{line_length:.6g}" if line_length else "")
        self.known_distance_edit = QLineEdit()
        aspect = cal.pixel_height / cal.pixel_width if cal.is_calibrated else 1.0
        self.aspect_edit = QLineEdit(f"{aspect:.6g}")
        self.aspect_edit.setToolTip("Pixel height ÷ pixel width; 1 for square pixels.")
        self.line_note = _note("")
        if delta is not None:
            self.line_note.setText(f"Line drawn: {delta[0]:.1f} px across, {delta[1]:.1f} px down.")
        self.line_note.setVisible(delta is not None)
        line_page = QWidget()
        line_form = QFormLayout(line_page)
        line_form.addRow("Distance in pixels:", self.pixel_distance_edit)
        line_form.addRow("Known distance:", self.known_distance_edit)
        line_form.addRow("Pixel aspect ratio (y/x):", self.aspect_edit)
        line_form.addRow(self.line_note)

        size = cal if cal.is_calibrated else None
        self.width_edit = QLineEdit(f"{size.pixel_width:.6g}" if size else "")
        self.height_edit = QLineEdit(f"{size.pixel_height:.6g}" if size else "")
        size_page = QWidget()
        size_form = QFormLayout(size_page)
        size_form.addRow("Pixel width (x):", self.width_edit)
        size_form.addRow("Pixel height (y):", self.height_edit)
        size_form.addRow(_note("As given by the microscope, or the image's metadata."))

        self._pages = QStackedWidget()
        self._pages.addWidget(line_page)
        self._pages.addWidget(size_page)

        self.unit_combo = QComboBox()
        self.unit_combo.setEditable(True)
        self.unit_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.unit_combo.addItems(list(UNIT_METRES))
        self.unit_combo.setCurrentText(cal.unit if cal.is_calibrated else "µm")
        self.unit_combo.setMinimumContentsLength(6)
        self.unit_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        unit_row = QHBoxLayout()
        unit_row.setContentsMargins(9, 0, 9, 0)
        unit_row.addWidget(QLabel("Unit:"))
        unit_row.addWidget(self.unit_combo)
        unit_row.addStretch(1)

        self.readout_label = QLabel()
        font = self.readout_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.readout_label.setFont(font)
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        current = _note(f"Current scale: {cal.describe()}")

        self.remove_button = QPushButton("Remove calibration")
        self.remove_button.setToolTip("Go back to pixels: every value in px.")
        self.remove_button.setEnabled(cal.is_calibrated)
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        bottom = QHBoxLayout()
        bottom.addWidget(self.remove_button)
        bottom.addStretch(1)
        bottom.addWidget(self._buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(presets_row)
        layout.addWidget(self.line_mode_radio)
        layout.addWidget(self.size_mode_radio)
        layout.addWidget(self._pages)
        layout.addLayout(unit_row)
        layout.addWidget(self.readout_label)
        layout.addWidget(self.hint_label)
        layout.addWidget(current)
        layout.addLayout(bottom)
        self.setMinimumWidth(460)

        use_line = line_length is not None or not cal.is_calibrated
        (self.line_mode_radio if use_line else self.size_mode_radio).setChecked(True)
        self._pages.setCurrentIndex(0 if use_line else 1)
        self._fill_preset_combo()

        self._modes.idToggled.connect(self._on_mode_toggled)
        for edit in self.findChildren(QLineEdit):  # the unit combo's editor among them
            edit.textChanged.connect(self._on_edited)
        self.unit_combo.lineEdit().editingFinished.connect(self._tidy_unit)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        self.save_preset_button.clicked.connect(self._ask_save_preset)
        self.delete_preset_button.clicked.connect(self._ask_delete_preset)
        self.remove_button.clicked.connect(self.remove_calibration)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

    # --- result ------------------------------------------------------------------------------

    def calibration(self) -> Calibration:
        """The calibration the user set (uncalibrated after Remove); ValueError if invalid."""
        if self._removed:
            return Calibration.uncalibrated()
        cal, problem = self._compute()
        if cal is None:
            raise ValueError(problem)
        return cal

    def _compute(self) -> tuple[Calibration | None, str]:
        """The calibration from the fields, or None and a hint saying what is wrong."""
        try:
            unit = normalize_unit(self.unit_combo.currentText())
        except ValueError:
            return None, f"Unknown unit: use one of {', '.join(UNIT_METRES)}."
        if unit == PIXEL_UNIT:
            return None, "Choose a physical unit; to go back to pixels, use Remove calibration."
        if self.size_mode_radio.isChecked():
            width, height = _number(self.width_edit.text()), _number(self.height_edit.text())
            if width is None or height is None:
                return None, "Type the pixel width and height (positive numbers)."
            if self._preset is not None:
                detail = f"preset {self._preset}"
            elif math.isclose(width, height, rel_tol=1e-9):
                detail = f"pixel size {width:g} {unit}"
            else:
                detail = f"pixel size {width:g} × {height:g} {unit}"
            return Calibration(width, height, unit, "manual", detail), ""
        pixels = _number(self.pixel_distance_edit.text())
        known = _number(self.known_distance_edit.text())
        aspect = _number(self.aspect_edit.text())
        if pixels is None:
            return None, "Type the distance in pixels (a positive number), or draw a line first."
        if known is None:
            return None, "Type the known distance (a positive number)."
        if aspect is None:
            return None, "The pixel aspect ratio must be a positive number (1 for square pixels)."
        ux, uy = self._direction or (1.0, 0.0)
        width = known / (pixels * math.hypot(ux, aspect * uy))
        detail = f"line {pixels:g} px = {known:g} {unit}"
        if not math.isclose(aspect, 1.0, rel_tol=1e-9):
            detail += f", aspect y/x {aspect:g}"
        return Calibration(width, width * aspect, unit, "manual", detail), ""

    # --- reactions ---------------------------------------------------------------------------

    def _update(self) -> None:
        cal, problem = self._compute()
        self.ok_button.setEnabled(cal is not None)
        self.readout_label.setText(f"= {_size_text(cal)}" if cal else "= ?")
        aspect = _number(self.aspect_edit.text())
        note = (
            cal is not None
            and self.line_mode_radio.isChecked()
            and self._direction is None
            and not math.isclose(aspect or 1.0, 1.0)
        )
        if note:
            problem = "Without a drawn line, the distance in pixels is taken along x."
        self.hint_label.setStyleSheet(f"color: {_GREY if note else _RED};")
        self.hint_label.setText(problem)
        self.hint_label.setVisible(bool(problem))
        has_presets = self._settings is not None
        self.save_preset_button.setEnabled(has_presets and cal is not None)
        self.delete_preset_button.setEnabled(has_presets and self._preset is not None)

    def _on_mode_toggled(self, mode: int, checked: bool) -> None:
        if checked:
            self._pages.setCurrentIndex(mode)
            self._select_preset(None)
            self._update()

    def _on_edited(self, *_args) -> None:
        self._select_preset(None)  # a preset edited by hand is no longer that preset
        self._update()

    def _tidy_unit(self) -> None:
        """Show the canonical spelling once the unit is typed (``um`` becomes ``µm``)."""
        try:
            unit = normalize_unit(self.unit_combo.currentText())
        except ValueError:
            return
        if unit != PIXEL_UNIT and unit != self.unit_combo.currentText():
            self.unit_combo.setCurrentText(unit)

    def remove_calibration(self) -> None:
        """Back to pixels: close the dialog with an uncalibrated result."""
        self._removed = True
        self.accept()

    # --- presets -----------------------------------------------------------------------------

    def presets(self) -> dict[str, Calibration]:
        """The presets in the settings (empty without settings)."""
        return load_presets(self._settings) if self._settings is not None else {}

    def apply_preset(self, name: str) -> None:
        """Fill the pixel size from a preset."""
        cal = self.presets()[name]
        self.size_mode_radio.setChecked(True)
        self.width_edit.setText(f"{cal.pixel_width:.10g}")
        self.height_edit.setText(f"{cal.pixel_height:.10g}")
        self.unit_combo.setCurrentText(cal.unit)
        self._select_preset(name)
        self._update()

    def save_preset(self, name: str) -> None:
        """Keep the current pixel size under ``name`` (replacing a preset of that name)."""
        name = name.strip()
        if not name or self._settings is None:
            raise ValueError("a preset needs a name and settings to be kept in")
        self._store({**self.presets(), name: self.calibration()}, name)

    def delete_preset(self, name: str) -> None:
        """Forget a preset."""
        self._store({k: v for k, v in self.presets().items() if k != name}, None)

    def _store(self, presets: dict[str, Calibration], selected: str | None) -> None:
        store_presets(self._settings, presets)
        self._fill_preset_combo()
        self._select_preset(selected)
        self._update()

    def _fill_preset_combo(self) -> None:
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.clear()
            presets = self.presets()
            self.preset_combo.addItem("(choose one)" if presets else "(none saved yet)", None)
            for name, cal in sorted(presets.items(), key=lambda item: item[0].lower()):
                self.preset_combo.addItem(f"{name}  ({_size_text(cal).split('  ')[0]})", name)
            self.preset_combo.setEnabled(bool(presets))

    def _select_preset(self, name: str | None) -> None:
        self._preset = name
        index = self.preset_combo.findData(name) if name is not None else 0
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(max(index, 0))

    def _on_preset_chosen(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name is not None:
            self.apply_preset(name)

    def _ask_save_preset(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Save preset", "Name (e.g. microscope and objective):", text=self._preset or ""
        )
        name = name.strip()
        if not ok or not name:
            return
        if name in self.presets():
            answer = QMessageBox.question(self, "Save preset", f"Replace the preset “{name}”?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.save_preset(name)

    def _ask_delete_preset(self) -> None:
        name = self._preset
        if name is None:
            return
        answer = QMessageBox.question(self, "Delete preset", f"Delete the preset “{name}”?")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_preset(name)
