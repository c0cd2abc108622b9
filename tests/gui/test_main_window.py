"""The main window driven like a user: mouse on the canvas, menus' slots, the table."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import tifffile
from PIL import Image
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.core.annotations import Kind
from measurer.core.calibration import Calibration
from measurer.gui.canvas.tools import Tool
from measurer.gui.main_window import MainWindow


@pytest.fixture
def image_path(tmp_path):
    """A 200×300 greyscale PNG with a gradient (known pixel values)."""
    data = (np.arange(300)[None, :] * np.ones((200, 1)) % 256).astype(np.uint8)
    path = tmp_path / "gradient.png"
    Image.fromarray(data).save(path)
    return path


@pytest.fixture
def window(qtbot, settings, monkeypatch):
    """A shown main window whose message boxes are recorded instead of blocking."""
    messages = []
    monkeypatch.setattr(
        QtWidgets.QMessageBox,
        "critical",
        lambda parent, title, text, *a: messages.append((title, text)),
    )
    monkeypatch.setattr(
        QtWidgets.QMessageBox,
        "question",
        lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Discard,
    )
    win = MainWindow(settings)
    win.messages = messages
    win.resize(1000, 800)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def open_and_wait(qtbot, window, path):
    """Open an image and wait until its document is shown."""
    window.files.open_image(str(path))
    qtbot.waitUntil(
        lambda: window.document is not None and window.document.path == path, timeout=10000
    )


def viewport_pos(window, row, col) -> QtCore.QPoint:
    """Widget position of an image point on the canvas."""
    scene = window.canvas.viewbox.mapViewToScene(QtCore.QPointF(col, row))
    return window.canvas.mapFromScene(scene)


def mouse(window, kind, pos, buttons=QtCore.Qt.MouseButton.LeftButton, modifiers=None):
    """Send one mouse event to the canvas viewport (press, move or release)."""
    types = {
        "press": QtCore.QEvent.Type.MouseButtonPress,
        "move": QtCore.QEvent.Type.MouseMove,
        "release": QtCore.QEvent.Type.MouseButtonRelease,
    }
    button = QtCore.Qt.MouseButton.NoButton if kind == "move" else QtCore.Qt.MouseButton.LeftButton
    held = QtCore.Qt.MouseButton.NoButton if kind == "release" else buttons
    modifiers = modifiers or QtCore.Qt.KeyboardModifier.NoModifier
    viewport = window.canvas.viewport()
    local = QtCore.QPointF(pos)
    event = QtGui.QMouseEvent(
        types[kind], local, viewport.mapToGlobal(local), button, held, modifiers
    )
    QtWidgets.QApplication.sendEvent(viewport, event)


def drag(qtbot, window, start, end, steps=8, modifiers=None):
    """Press at ``start`` (row, col), move in steps to ``end``, release."""
    a, b = viewport_pos(window, *start), viewport_pos(window, *end)
    mouse(window, "press", a, modifiers=modifiers)
    for i in range(1, steps + 1):
        t = i / steps
        p = QtCore.QPoint(round(a.x() + (b.x() - a.x()) * t), round(a.y() + (b.y() - a.y()) * t))
        mouse(window, "move", p, modifiers=modifiers)
        qtbot.wait(5)
    mouse(window, "move", b, modifiers=modifiers)  # a hand comes to rest before letting go
    mouse(window, "release", b, modifiers=modifiers)
    qtbot.wait(20)


def rows_of(window):
    return list(window.document.measurements.rows)


def draw_line(qtbot, window, start=(50, 40), end=(50, 240)):
    window.set_tool(Tool.LINE)
    drag(qtbot, window, start, end)
    assert len(window.document.annotations) == 1
    return next(iter(window.document.annotations.values()))


def test_open_sample_shows_it(qtbot, window):
    path = window.files.samples()["calibrated_16bit.tif"]
    open_and_wait(qtbot, window, path)
    image = tifffile.imread(path)
    assert window.canvas.display.data.shape == image.shape
    assert window.document.calibration.is_calibrated
    assert window.document.calibration.unit == "µm"
    assert "metadata" in window.status.calibration_label.text()


def test_draw_line_with_the_mouse_gives_its_length(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    line = draw_line(qtbot, window)
    # Mouse positions are rounded to screen pixels: allow one screen pixel in image units.
    tolerance = 2 * window.canvas.viewbox.viewPixelSize()[0]
    assert line.kind is Kind.LINE
    assert np.allclose(line.vertices, [[50, 40], [50, 240]], atol=tolerance)
    (row,) = rows_of(window)
    assert row["Length (px)"] == pytest.approx(200, abs=2 * tolerance)
    assert window.table.model.rowCount() == 1
    header = window.table.model.table.headers.index("Length (px)")
    shown = window.table.model.data(window.table.model.index(0, header))
    assert float(shown) == pytest.approx(row["Length (px)"], rel=1e-5)


def test_shift_snaps_a_line_to_horizontal(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    window.set_tool(Tool.LINE)
    drag(qtbot, window, (50, 40), (63, 200), modifiers=QtCore.Qt.KeyboardModifier.ShiftModifier)
    line = next(iter(window.document.annotations.values()))
    assert line.vertices[1][0] == pytest.approx(line.vertices[0][0], abs=1e-9)
    # Shown at a physical aspect of 3 (pixels 3x as wide as tall), a line dragged along the
    # screen's diagonal snaps to 45 degrees on screen: 3 rows for every column.
    window.controller.set_calibration(Calibration(3.0, 1.0, "µm"))
    window.actions_by_name["view.aspect"].setChecked(True)
    drag(qtbot, window, (100, 100), (130, 111), modifiers=QtCore.Qt.KeyboardModifier.ShiftModifier)
    (r0, c0), (r1, c1) = window.document.annotations[max(window.document.annotations)].vertices
    assert (r1 - r0) == pytest.approx(3 * (c1 - c0), rel=1e-9) and r1 - r0 > 20


def test_set_scale_shows_micrometres_and_undo_restores_pixels(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    draw_line(qtbot, window, (50, 40), (50, 240))
    length_px = rows_of(window)[0]["Length (px)"]
    window.controller.set_calibration(Calibration.from_known_distance(length_px, 10, "um"))
    assert rows_of(window)[0]["Length (µm)"] == pytest.approx(10)
    assert "Length (µm)" in window.table.model.table.headers
    assert "µm/px" in window.status.calibration_label.text()
    window.undo()
    assert "Length (µm)" not in rows_of(window)[0]
    window.redo()
    assert rows_of(window)[0]["Length (µm)"] == pytest.approx(10)


def test_drag_a_vertex_changes_the_value_and_is_one_undo_step(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    line = draw_line(qtbot, window, (50, 40), (50, 240))
    window.set_tool(Tool.NAVIGATE)
    before = rows_of(window)[0]["Length (px)"]
    end = tuple(line.vertices[1])
    drag(qtbot, window, end, (end[0] + 100, end[1]))
    after_line = window.document.annotations[line.id]
    assert after_line.vertices[1][0] == pytest.approx(end[0] + 100, abs=3)
    after = rows_of(window)[0]["Length (px)"]
    assert after == pytest.approx(math.hypot(100, before), abs=3)
    assert window.document.history.texts()[-1] == "move"
    window.undo()
    assert rows_of(window)[0]["Length (px)"] == pytest.approx(before)
    window.redo()
    assert rows_of(window)[0]["Length (px)"] == pytest.approx(after)


def test_delete_and_undo(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    line = draw_line(qtbot, window)
    window.layer.select([line.id])
    window.delete_selection()
    assert window.document.annotations == {}
    assert window.table.model.rowCount() == 0
    assert line.id not in window.layer.items
    window.undo()
    assert line.id in window.document.annotations
    assert line.id in window.layer.items
    assert window.table.model.rowCount() == 1


def test_every_tool_draws_its_kind(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    window.set_tool(Tool.RECTANGLE)
    drag(qtbot, window, (20, 20), (80, 120))
    window.set_tool(Tool.ELLIPSE)
    drag(qtbot, window, (100, 20), (160, 120))
    window.set_tool(Tool.FREEHAND)
    drag(qtbot, window, (20, 150), (90, 280), steps=12)
    window.set_tool(Tool.PROFILE)
    drag(qtbot, window, (150, 150), (150, 250))
    window.set_tool(Tool.POINT)
    for position in [(30, 30), (40, 60)]:
        p = viewport_pos(window, *position)
        mouse(window, "press", p)
        mouse(window, "release", p)
    qtbot.wait(20)
    kinds = sorted(a.kind.value for a in window.document.annotations.values())
    assert kinds == ["ellipse", "freehand", "points", "profile", "rectangle"]
    rows = rows_of(window)
    rect = next(r for r in rows if r["Kind"] == "rectangle")
    tolerance = 3 * window.canvas.viewbox.viewPixelSize()[0]
    assert rect["Area (px²)"] == pytest.approx(60 * 100, rel=0.05)
    assert rect["Width (px)"] == pytest.approx(100, abs=tolerance)
    profile = next(r for r in rows if r["Kind"] == "profile")
    # The gradient image's value is its column: the mean along a horizontal profile is its middle.
    assert profile["Mean"] == pytest.approx(200, abs=2)
    assert sum(r["Kind"] == "points" for r in rows) == 2
    assert window.profile.annotation_id is None or window.profile.values.size > 0


def test_polygon_by_clicks_and_escape_cancels(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    window.set_tool(Tool.POLYGON)
    for position in [(20, 20), (20, 120), (100, 120)]:
        p = viewport_pos(window, *position)
        mouse(window, "press", p)
        mouse(window, "release", p)
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_Escape)
    assert window.document.annotations == {}
    for position in [(20, 20), (20, 120), (100, 120)]:
        p = viewport_pos(window, *position)
        mouse(window, "press", p)
        mouse(window, "release", p)
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_Return)
    (polygon,) = window.document.annotations.values()
    assert polygon.kind is Kind.POLYGON
    assert rows_of(window)[0]["Area (px²)"] == pytest.approx(0.5 * 80 * 100, rel=0.05)


def test_export_csv_and_read_back(qtbot, window, image_path, tmp_path):
    open_and_wait(qtbot, window, image_path)
    draw_line(qtbot, window)
    window.controller.set_calibration(Calibration(0.5, 0.5, "µm", "manual"))
    out = tmp_path / "out.csv"
    assert window.files.write_measurements(str(out))
    with open(out, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 1
    expected = rows_of(window)[0]
    assert float(table[0]["Length (µm)"]) == pytest.approx(expected["Length (µm)"])
    assert float(table[0]["Length (px)"]) == pytest.approx(2 * expected["Length (µm)"])


def test_save_close_reopen_restores_measurements(qtbot, window, image_path, settings):
    open_and_wait(qtbot, window, image_path)
    draw_line(qtbot, window)
    window.controller.set_calibration(Calibration(0.5, 0.25, "µm", "manual"))
    expected = rows_of(window)
    assert window.document.is_modified
    assert window.files.save_session()
    assert not window.document.is_modified
    window.close()

    second = MainWindow(settings)
    qtbot.addWidget(second)
    open_and_wait(qtbot, second, image_path)
    assert rows_of(second) == expected
    assert second.document.calibration == window.document.calibration
    assert not second.document.is_modified


def test_autosave_is_offered_after_a_crash(qtbot, window, image_path, settings, monkeypatch):
    from measurer.io import session as sessions

    open_and_wait(qtbot, window, image_path)
    draw_line(qtbot, window)
    window.files.flush_autosave()
    assert sessions.find_autosave(image_path) is not None
    expected = rows_of(window)
    # "Crash": a new window opens the image while the autosave is still there.
    monkeypatch.setattr(
        QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Yes
    )
    second = MainWindow(settings)
    qtbot.addWidget(second)
    open_and_wait(qtbot, second, image_path)
    assert rows_of(second) == expected
    assert second.document.is_modified


def test_corrupt_file_shows_an_error_and_the_window_stays_usable(
    qtbot, window, image_path, tmp_path
):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 5)
    window.files.open_image(str(bad))
    qtbot.waitUntil(lambda: bool(window.messages), timeout=10000)
    _title, text = window.messages[0]
    assert "broken.png" in text
    assert window.document is None
    open_and_wait(qtbot, window, image_path)
    draw_line(qtbot, window)
    assert len(rows_of(window)) == 1


def test_table_and_canvas_selection_follow_each_other(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    window.set_tool(Tool.LINE)
    drag(qtbot, window, (30, 40), (30, 240))
    drag(qtbot, window, (120, 40), (160, 240))
    first, second = window.document.order()
    window.table.select_ids([first])
    window.table.selection_changed.emit(window.table.selected_ids())
    assert window.layer.selected == [first]
    window.layer.select([second])
    assert window.table.selected_ids() == [second]


def test_point_classes_with_number_keys(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    window.set_tool(Tool.POINT)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_3)
    p = viewport_pos(window, 60, 60)
    mouse(window, "press", p)
    mouse(window, "release", p)
    (points,) = window.document.annotations.values()
    assert points.classes == (2,)
    assert rows_of(window)[0]["Class"] == "3"


def test_export_view_png_has_overlays_where_the_canvas_shows_them(
    qtbot, window, image_path, tmp_path
):
    open_and_wait(qtbot, window, image_path)
    window.set_tool(Tool.LINE)
    drag(qtbot, window, (100, 20), (100, 280))
    out = tmp_path / "view.png"
    assert window.files.write_view(str(out))
    rendered = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert rendered.shape == (200, 300, 3)
    # The line is drawn in yellow (255, 210, 0) across row 100; elsewhere the grey gradient
    # (red = blue). Antialiasing blends it with the background, so look for red well above blue.
    yellowish = (rendered[..., 0] - rendered[..., 2]) > 60
    assert yellowish[97:104, 50:250].any(axis=0).all()
    assert not yellowish[110:200].any()
    assert not yellowish[:80].any()


def test_value_updates_live_while_dragging_without_committing(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    line = draw_line(qtbot, window, (50, 40), (50, 240))
    item = window.layer.items[line.id]
    model = window.table.model
    column = model.table.headers.index("Length (px)")
    item.edit_previewed.emit(np.array([[50.0, 40.0], [50.0, 140.0]]))
    assert float(model.data(model.index(0, column))) == pytest.approx(100, abs=1e-6)
    assert window.document.history.texts() == ["add line"]  # nothing committed yet
    assert rows_of(window)[0]["Length (px)"] == pytest.approx(200, abs=2)


def _screen_pixels_per_unit(window) -> tuple[float, float]:
    """Screen pixels per image column and per image row."""
    x_units, y_units = window.canvas.viewbox.viewPixelSize()
    return 1 / x_units, 1 / y_units


def test_physical_pixel_aspect_shows_oct_pixels_as_wide_as_they_are(
    qtbot, window, image_path, settings
):
    open_and_wait(qtbot, window, image_path)
    column, row = _screen_pixels_per_unit(window)
    assert column == pytest.approx(row)  # square by default, as ImageJ shows them
    window.controller.set_calibration(Calibration(11.7, 3.9, "µm"))  # an OCT B-scan's pixels
    assert _screen_pixels_per_unit(window)[0] == pytest.approx(column)  # not asked for yet
    bar = window.measure.scale_bar
    square_bar, square_label = bar.bar_rect(), bar.label_rect()
    window.actions_by_name["view.aspect"].setChecked(True)
    column, row = _screen_pixels_per_unit(window)
    assert column / row == pytest.approx(3.0, rel=1e-6)  # 11.7 µm wide, 3.9 µm tall
    # The scale bar keeps its length in columns; its thickness and label stretch over 3x the
    # rows, so that they look as they did on screen.
    assert bar.bar_rect().width() == pytest.approx(square_bar.width())
    assert bar.bar_rect().height() == pytest.approx(3 * square_bar.height())
    assert bar.label_rect().height() == pytest.approx(3 * square_label.height(), rel=0.01)
    (x0, x1), (y0, y1) = window.canvas.viewbox.viewRange()
    assert x0 <= -0.5 and x1 >= 299.5 and y0 <= -0.5 and y1 >= 199.5  # fitted whole
    assert settings.value("view/physical_aspect", False, bool) is True
    window.undo()  # back to pixels: square again
    column, row = _screen_pixels_per_unit(window)
    assert column == pytest.approx(row)
    window.redo()
    window.actions_by_name["view.aspect"].setChecked(False)
    column, row = _screen_pixels_per_unit(window)
    assert column == pytest.approx(row)
    assert settings.value("view/physical_aspect", True, bool) is False


def click(window, row, col, modifiers=None):
    p = viewport_pos(window, row, col)
    mouse(window, "press", p, modifiers=modifiers)
    mouse(window, "release", p, modifiers=modifiers)


def test_one_counted_point_is_removed_by_alt_click_or_from_the_table(qtbot, window, image_path):
    open_and_wait(qtbot, window, image_path)
    window.set_tool(Tool.POINT)
    for col in (40, 80, 120, 160):
        click(window, 50, col)
    (points,) = window.document.annotations.values()
    assert len(points.vertices) == 4
    # Alt+click on the second point removes that point only (ImageJ's multi-point gesture).
    click(window, 50, 80, modifiers=QtCore.Qt.KeyboardModifier.AltModifier)
    (points,) = window.document.annotations.values()
    assert points.vertices[:, 1].tolist() == pytest.approx([40, 120, 160], abs=1)
    window.undo()
    assert len(window.document.annotations[points.id].vertices) == 4
    click(window, 50, 160, modifiers=QtCore.Qt.KeyboardModifier.ControlModifier)  # Ctrl too
    assert len(window.document.annotations[points.id].vertices) == 3
    window.undo()
    # Selecting two of the four rows and pressing Delete removes those two points, in one step.
    window.set_tool(Tool.NAVIGATE)
    view = window.table.view
    flags = QtCore.QItemSelectionModel.SelectionFlag.Select
    for row in (0, 2):
        view.selectionModel().select(
            window.table.proxy.index(row, 0), flags | QtCore.QItemSelectionModel.SelectionFlag.Rows
        )
    window.actions_by_name["edit.delete"].trigger()
    (points,) = window.document.annotations.values()
    assert points.vertices[:, 1].tolist() == pytest.approx([80, 160], abs=1)
    assert [r["ID"] for r in rows_of(window)] == [f"{points.id}.1", f"{points.id}.2"]
    window.undo()
    assert len(window.document.annotations[points.id].vertices) == 4
    # The whole set selected (a click on one of its points): Delete removes the set.
    window.layer.select([points.id])
    window.table.select_ids([points.id])
    window.actions_by_name["edit.delete"].trigger()
    assert window.document.annotations == {}
