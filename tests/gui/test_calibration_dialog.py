"""The Set scale dialog: from a line (also diagonal, non-square pixels), typed sizes, presets."""

import json
import math

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox

from measurer.core.calibration import Calibration
from measurer.core.geometry import path_length
from measurer.gui.dialogs.calibration_dialog import PRESETS_KEY, CalibrationDialog, store_presets

UNCALIBRATED = Calibration.uncalibrated()


@pytest.fixture
def make(qtbot, settings):
    def make(calibration=UNCALIBRATED, measured_length_px=None, **kwargs):
        dialog = CalibrationDialog(calibration, measured_length_px, settings, **kwargs)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return make


def type_into(widget, text):
    widget.clear()
    QTest.keyClicks(widget, text)


def test_line_of_known_length(make):
    dialog = make(measured_length_px=120.5)
    assert dialog.line_mode_radio.isChecked()
    assert not dialog.ok_button.isEnabled()  # the known distance is still empty
    type_into(dialog.known_distance_edit, "10")
    assert dialog.ok_button.isEnabled()
    cal = dialog.calibration()
    assert cal.pixel_width == pytest.approx(10 / 120.5, rel=1e-12)
    assert cal.pixel_height == pytest.approx(10 / 120.5, rel=1e-12)
    assert (cal.unit, cal.source, cal.detail) == ("µm", "manual", "line 120.5 px = 10 µm")
    assert dialog.readout_label.text().startswith("= 0.08299 µm/px")
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_unit_typed_as_um_and_decimal_comma(make):
    dialog = make(measured_length_px=50)
    type_into(dialog.known_distance_edit, "2,5")
    type_into(dialog.unit_combo.lineEdit(), "um")
    assert dialog.calibration().to_unit("nm").pixel_width == pytest.approx(50.0)
    QTest.keyClick(dialog.unit_combo.lineEdit(), Qt.Key.Key_Return)  # Return also means OK
    assert dialog.unit_combo.currentText() == "µm"
    assert dialog.unit_combo.count() == 6  # typing a unit does not add it to the list
    assert dialog.result() == QDialog.DialogCode.Accepted
    cal = dialog.calibration()
    assert (cal.unit, cal.pixel_width) == ("µm", pytest.approx(0.05))


@pytest.mark.parametrize(
    ("field", "text"),
    [("known", ""), ("known", "0"), ("known", "-3"), ("known", "abc"), ("pixels", "0"),
     ("aspect", "0"), ("unit", "furlong"), ("unit", "px")],
)  # fmt: skip
def test_invalid_input_disables_ok_with_a_hint(make, field, text):
    dialog = make(measured_length_px=100)
    type_into(dialog.known_distance_edit, "10")
    assert dialog.ok_button.isEnabled()
    assert dialog.hint_label.isHidden()
    widget = {
        "known": dialog.known_distance_edit,
        "pixels": dialog.pixel_distance_edit,
        "aspect": dialog.aspect_edit,
        "unit": dialog.unit_combo.lineEdit(),
    }[field]
    type_into(widget, text)
    assert not dialog.ok_button.isEnabled()
    assert dialog.hint_label.isVisible() and dialog.hint_label.text()
    assert dialog.readout_label.text() == "= ?"
    with pytest.raises(ValueError):
        dialog.calibration()


@pytest.mark.parametrize(("dx", "dy"), [(30.0, 40.0), (0.0, 25.0), (80.0, 0.0), (-12.0, 5.0)])
def test_diagonal_line_with_non_square_pixels(make, dx, dy):
    # A line of dx by dy pixels whose true length is 7 µm, on pixels twice as tall as wide.
    dialog = make(dx_px=dx, dy_px=dy)
    assert float(dialog.pixel_distance_edit.text()) == pytest.approx(math.hypot(dx, dy), 1e-5)
    type_into(dialog.known_distance_edit, "7")
    type_into(dialog.aspect_edit, "2")
    cal = dialog.calibration()
    assert cal.pixel_height == pytest.approx(2 * cal.pixel_width)
    # Measured back through the core geometry, the line is 7 µm long.
    line = np.array([[0.0, 0.0], [dy, dx]])
    assert path_length(line, cal.scale()) == pytest.approx(7.0, rel=1e-9)
    assert cal.detail == f"line {math.hypot(dx, dy):.6g} px = 7 µm, aspect y/x 2"


def test_distance_without_a_line_is_along_x(make):
    dialog = make()
    type_into(dialog.pixel_distance_edit, "200")
    type_into(dialog.known_distance_edit, "50")
    assert dialog.hint_label.isHidden()
    type_into(dialog.aspect_edit, "1.5")
    assert "along x" in dialog.hint_label.text() and dialog.hint_label.isVisible()
    assert dialog.ok_button.isEnabled()  # a note, not an error
    cal = dialog.calibration()
    assert (cal.pixel_width, cal.pixel_height) == pytest.approx((0.25, 0.375))


def test_typed_pixel_size_x_and_y(make):
    dialog = make()
    dialog.size_mode_radio.click()
    assert not dialog.ok_button.isEnabled()
    type_into(dialog.width_edit, "120")
    type_into(dialog.height_edit, "360")
    type_into(dialog.unit_combo.lineEdit(), "nm")
    cal = dialog.calibration()
    assert (cal.pixel_width, cal.pixel_height, cal.unit) == (120.0, 360.0, "nm")
    assert cal.detail == "pixel size 120 × 360 nm"
    assert "120 × 360 nm/px" in dialog.readout_label.text()


def test_opens_on_the_current_pixel_size(make):
    dialog = make(Calibration(0.2, 0.4, "mm", "metadata", "TIFF"))
    assert dialog.size_mode_radio.isChecked()
    assert dialog.calibration().pixel_height == pytest.approx(0.4)
    assert dialog.calibration().unit == "mm"
    assert dialog.aspect_edit.text() == "2"


def test_remove_calibration(make):
    dialog = make(Calibration(0.2, 0.2, "µm"))
    dialog.remove_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.calibration() == Calibration.uncalibrated()


def test_remove_is_disabled_when_uncalibrated(make):
    assert not make().remove_button.isEnabled()


def test_save_choose_and_delete_presets(make, settings, monkeypatch):
    dialog = make()
    dialog.size_mode_radio.click()
    type_into(dialog.width_edit, "0.1038")
    type_into(dialog.height_edit, "0.1038")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Zeiss LSM 40×", True))
    dialog.save_preset_button.click()
    assert dialog.calibration().detail == "preset Zeiss LSM 40×"

    # Kept as readable JSON text in the INI file, read back by a fresh QSettings.
    settings.sync()
    again = QSettings(settings.fileName(), QSettings.Format.IniFormat)
    stored = json.loads(again.value(PRESETS_KEY))
    assert stored == {
        "Zeiss LSM 40×": {"pixel_width": 0.1038, "pixel_height": 0.1038, "unit": "µm"}
    }

    other = make(measured_length_px=10)
    assert other.preset_combo.count() == 2
    index = other.preset_combo.findData("Zeiss LSM 40×")
    other.preset_combo.setCurrentIndex(index)
    other.preset_combo.activated.emit(index)
    cal = other.calibration()
    assert other.size_mode_radio.isChecked()
    assert (cal.pixel_width, cal.unit, cal.detail) == (0.1038, "µm", "preset Zeiss LSM 40×")
    # Edited by hand, it is no longer the preset.
    type_into(other.width_edit, "0.2")
    assert other.calibration().detail == "pixel size 0.2 × 0.1038 µm"
    assert other.preset_combo.currentIndex() == 0

    other.apply_preset("Zeiss LSM 40×")
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    other.delete_preset_button.click()
    assert other.presets() == {}
    assert json.loads(settings.value(PRESETS_KEY)) == {}
    assert other.preset_combo.count() == 1


def test_malformed_presets_are_skipped(make, settings):
    settings.setValue(PRESETS_KEY, "{not json")
    assert make().presets() == {}
    settings.setValue(PRESETS_KEY, json.dumps({"bad": {"pixel_width": -1}, "px": {
        "pixel_width": 1, "pixel_height": 1, "unit": "px"}, "good": {
        "pixel_width": 2, "pixel_height": 2, "unit": "nm"}}))  # fmt: skip
    assert list(make().presets()) == ["good"]


def test_presets_are_sorted_and_show_their_size(make, settings):
    store_presets(settings, {"b": Calibration(1, 1, "nm"), "A": Calibration(0.5, 0.5, "µm")})
    dialog = make()
    combo = dialog.preset_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "(choose one)",
        "A  (0.5 µm/px)",
        "b  (1 nm/px)",
    ]


def test_without_settings_presets_are_unavailable(qtbot):
    dialog = CalibrationDialog(UNCALIBRATED, 10.0)
    qtbot.addWidget(dialog)
    type_into(dialog.known_distance_edit, "1")
    assert not dialog.save_preset_button.isEnabled()
    assert not dialog.preset_combo.isEnabled()
