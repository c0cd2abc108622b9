"""Stacks, folders, large images, profiles and labels in the main window."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile
from PIL import Image
from PySide6 import QtCore, QtWidgets

from measurer.core.annotations import Annotation, Kind
from measurer.core.calibration import Calibration
from measurer.core.commands import AddAnnotations
from measurer.gui.canvas.view import OVERVIEW_PIXELS


@pytest.fixture
def window(main_window):
    main_window.resize(900, 700)
    return main_window


def open_and_wait(qtbot, window, path):
    window.files.open_image(str(path))
    qtbot.waitUntil(
        lambda: window.document is not None and window.document.path == path, timeout=10000
    )


def test_stack_pages_follow_the_slider_and_statistics_follow_the_page(qtbot, window, tmp_path):
    stack = np.stack([np.full((40, 50), 10 * (i + 1), np.uint16) for i in range(3)])
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    open_and_wait(qtbot, window, path)
    assert window.page_bar.isVisibleTo(window)
    assert window.page_slider.maximum() == 2
    doc = window.document
    doc.apply(
        AddAnnotations([Annotation(doc.new_id(), Kind.RECTANGLE, [(4.5, 4.5), (14.5, 24.5)])])
    )
    assert doc.measurements.rows[0]["Mean"] == 10
    window.page_slider.setValue(2)
    assert np.array_equal(window.canvas.display.data, stack[2])
    assert doc.measurements.rows[0]["Mean"] == 30
    assert window.page_label.text() == "3 / 3"


def test_next_and_previous_image_keep_tool_and_calibration(qtbot, window, tmp_path):
    paths = []
    for name in ("a.png", "b.png", "c.png"):
        paths.append(tmp_path / name)
        Image.fromarray(np.zeros((30, 40), np.uint8)).save(paths[-1])
    open_and_wait(qtbot, window, paths[0])
    window.set_tool(window.canvas.tools.tool.__class__.LINE)
    calibration = Calibration(0.2, 0.2, "µm", "manual")
    window.controller.set_calibration(calibration)
    window.files.autosaver.discard()
    window.document.mark_saved()
    window.files.step_image(1)
    qtbot.waitUntil(lambda: window.document.path == paths[1], timeout=10000)
    assert window.document.calibration == calibration
    assert window.canvas.tools.tool.value == "line"
    window.files.step_image(-1)
    qtbot.waitUntil(lambda: window.document.path == paths[0], timeout=10000)
    window.files.step_image(-1)  # already the first: stays
    qtbot.wait(50)
    assert window.document.path == paths[0]


def test_recent_files_are_remembered(qtbot, window, tmp_path):
    path = tmp_path / "r.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(path)
    open_and_wait(qtbot, window, path)
    assert window.files.recent()[0] == str(path)
    assert window.files.recent_menu.actions()[0].text() == str(path)


def test_large_image_shows_overview_and_reads_only_the_visible_window(qtbot, window):
    rows, cols = 6000, 5000
    assert rows * cols > OVERVIEW_PIXELS
    data = np.broadcast_to((np.arange(cols) % 256).astype(np.uint8), (rows, cols))
    window.canvas.set_image(data)
    shown = window.canvas.display.item.image
    assert max(shown.shape) <= 4096
    window.canvas.viewbox.setRange(QtCore.QRectF(1000, 2000, 400, 300), padding=0)
    window.canvas.display._update_detail()
    detail = window.canvas.display._detail
    assert detail.isVisible()
    # The visible window plus a margin, not the 6000×5000 image.
    assert detail.image.shape[0] < 2500 and detail.image.shape[1] < 2500
    # The detail window holds the full-resolution pixels of where the view is.
    rect = detail.mapRectToParent(detail.boundingRect())
    assert rect.left() <= 1000 and rect.right() >= 1400


def test_overlays_can_be_hidden(qtbot, window, tmp_path):
    path = tmp_path / "o.png"
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(path)
    open_and_wait(qtbot, window, path)
    window.actions_by_name["view.overlays"].setChecked(False)
    assert not window.canvas.overlay_group.isVisible()
    window.actions_by_name["view.overlays"].setChecked(True)
    assert window.canvas.overlay_group.isVisible()


def test_profile_plot_and_export_of_its_values(qtbot, window, tmp_path):
    data = np.tile((np.arange(100) * 2).astype(np.uint8), (60, 1))
    path = tmp_path / "ramp.png"
    Image.fromarray(data).save(path)
    open_and_wait(qtbot, window, path)
    doc = window.document
    doc.apply(
        AddAnnotations([Annotation(doc.new_id(), Kind.PROFILE, [(30, 10), (30, 60)], width=3)])
    )
    window.layer.select([1])
    assert window.profile.annotation_id == 1
    assert len(window.profile.values) == 51
    assert window.profile.values[0] == pytest.approx(20)
    assert window.profile.values[-1] == pytest.approx(120)
    out = tmp_path / "profile.csv"
    window.profile.write_values(str(out))
    with open(out, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 51
    assert float(table[10]["Value"]) == pytest.approx(40)
    assert float(table[-1]["Distance (px)"]) == pytest.approx(50)


def test_relabel_and_change_class_are_undoable(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "l.png"
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(path)
    open_and_wait(qtbot, window, path)
    doc = window.document
    doc.apply(AddAnnotations([Annotation(doc.new_id(), Kind.POINTS, [(5, 5), (9, 9)])]))
    window.layer.select([1])
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText", lambda *a, **k: ("nuclei", True))
    window.relabel_selection()
    assert doc.annotations[1].label == "nuclei"
    window.change_class_of_selection(4)
    assert doc.annotations[1].classes == (4, 4)
    assert [r["Class"] for r in doc.measurements.rows] == ["5", "5"]
    window.undo()
    window.undo()
    assert doc.annotations[1].label == ""
    assert doc.annotations[1].classes == (0, 0)


def test_set_scale_from_the_selected_line_through_the_dialog(qtbot, window, tmp_path, monkeypatch):
    from measurer.gui.dialogs.calibration_dialog import CalibrationDialog

    path = tmp_path / "s.png"
    Image.fromarray(np.zeros((60, 200), np.uint8)).save(path)
    open_and_wait(qtbot, window, path)
    doc = window.document
    doc.apply(AddAnnotations([Annotation(doc.new_id(), Kind.LINE, [(30, 20), (30, 145)])]))
    window.layer.select([1])

    def fill_and_accept(dialog):
        assert float(dialog.pixel_distance_edit.text()) == pytest.approx(125)
        dialog.known_distance_edit.setText("25")
        dialog.unit_combo.setCurrentText("µm")
        return QtWidgets.QDialog.DialogCode.Accepted

    monkeypatch.setattr(CalibrationDialog, "exec", fill_and_accept)
    window.measure.set_scale()
    assert doc.calibration.pixel_width == pytest.approx(0.2)
    assert doc.calibration.source == "manual"
    assert doc.measurements.rows[0]["Length (µm)"] == pytest.approx(25)
    assert "0.2 µm/px" in window.status.calibration_label.text()
    window.undo()
    assert not doc.calibration.is_calibrated


def test_dropping_a_file_opens_it(qtbot, window, tmp_path):
    from PySide6 import QtGui

    path = tmp_path / "dropped.png"
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(path)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    event = QtGui.QDropEvent(
        QtCore.QPointF(10, 10),
        QtCore.Qt.DropAction.CopyAction,
        mime,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    qtbot.waitUntil(
        lambda: window.document is not None and window.document.path == path, timeout=10000
    )
