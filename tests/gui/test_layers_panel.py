"""The Layers panel on a synthetic stack: run, drag/delete/add boundaries, undo, units, ROI."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.analysis.synthetic_layers import layered_image
from measurer.core.annotations import Kind, Origin
from measurer.core.calibration import Calibration
from measurer.core.derived_layers import parse_boundary_role, project
from measurer.gui.canvas.tick_item import TickItem
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.layers_panel import LayersPanel

WIDTHS = [12.0, 9.0, 15.0, 10.0, 13.0, 8.0, 11.0]
ANGLE = 30.0


@pytest.fixture
def window(qtbot, settings, tmp_path):
    win = MainWindow(settings)
    win.resize(1000, 760)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.panel = win.add_analysis_panel(LayersPanel)
    image, win.truth = layered_image((240, 300), WIDTHS, angle_deg=ANGLE, blur=1.3, seed=3)
    path = tmp_path / "layers.png"
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)
    win.files.open_image(str(path))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    centre, normal = np.array(win.truth.origin), np.array(win.truth.normal)
    win.line = (centre - 80 * normal, centre + 80 * normal)
    return win


def run_on_line(qtbot, win):
    line_id = win.controller.add_shape(Kind.LINE, np.array(win.line))
    win.layer.select([line_id])
    with qtbot.waitSignal(win.panel.finished, timeout=10000):
        qtbot.mouseClick(win.panel.run_button, QtCore.Qt.MouseButton.LeftButton)


def boundaries(win):
    """Boundary annotations of profile 0, ordered along the line."""
    start, end = win.line
    found = [a for a in win.document.annotations.values() if parse_boundary_role(a.role)]
    return sorted(found, key=lambda a: project(start, end, a.vertices[0]))


def layer_rows(win):
    return [r for r in win.document.measurements.rows if r["Kind"] == "layer"]


def counts(win):
    (row,) = [r for r in win.document.measurements.rows if r["Kind"] == "layer count"]
    return row["Dark layers"], row["Light layers"]


def viewport_pos(win, row, col) -> QtCore.QPoint:
    scene = win.canvas.viewbox.mapViewToScene(QtCore.QPointF(col, row))
    return win.canvas.mapFromScene(scene)


def mouse(win, kind, pos):
    types = {
        "press": QtCore.QEvent.Type.MouseButtonPress,
        "move": QtCore.QEvent.Type.MouseMove,
        "release": QtCore.QEvent.Type.MouseButtonRelease,
    }
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    button = none if kind == "move" else left
    held = none if kind == "release" else left
    viewport = win.canvas.viewport()
    local = QtCore.QPointF(pos)
    event = QtGui.QMouseEvent(
        types[kind], local, viewport.mapToGlobal(local), button, held,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QtWidgets.QApplication.sendEvent(viewport, event)


def test_run_from_a_drawn_line_finds_every_boundary(qtbot, window):
    run_on_line(qtbot, window)
    start, end = window.line
    found = [project(start, end, a.vertices[0]) for a in boundaries(window)]
    truth = window.truth.crossings(start, end)
    assert len(found) == len(truth) == len(WIDTHS) + 1
    assert np.mean(np.abs(np.array(found) - truth)) < 0.3
    assert counts(window) == (4, 3)  # 7 layers: dark, light, ..., dark
    complete = [r for r in layer_rows(window) if r["Complete"]]
    assert [r["Width (px)"] for r in complete] == pytest.approx(WIDTHS, abs=0.6)
    assert [r["Label"] for r in complete] == list(window.truth.kinds)
    assert len(window.panel.marks) == len(truth)  # the plot shows every boundary
    assert window.document.history.texts()[-1] == "run layers"
    # Every boundary is a tick of its own on the canvas, never a dot in the detection batch.
    assert all(isinstance(window.layer.items[a.id], TickItem) for a in boundaries(window))


def test_dragging_a_tick_changes_its_two_layers_by_the_distance_dragged(qtbot, window):
    run_on_line(qtbot, window)
    tick = boundaries(window)[3]
    before = [r["Width (px)"] for r in layer_rows(window)]
    start, end = window.line
    unit = (end - start) / np.hypot(*(end - start))
    start_mark = window.panel.marks[tick.id].value()
    window.layer.edit_previewed.emit(tick.id, tick.vertices + 1.0 * unit)  # while dragging
    assert window.panel.marks[tick.id].value() == pytest.approx(start_mark + 1.0)
    assert [r["Width (px)"] for r in layer_rows(window)] == before  # nothing committed
    window.layer.edit_requested.emit(tick.id, tick.vertices + 2.5 * unit)
    after = [r["Width (px)"] for r in layer_rows(window)]
    assert after[3] - before[3] == pytest.approx(2.5)
    assert after[4] - before[4] == pytest.approx(-2.5)
    assert np.delete(after, [3, 4]) == pytest.approx(np.delete(before, [3, 4]))
    assert window.document.annotations[tick.id].provenance.origin is Origin.CORRECTED
    mark = window.panel.marks[tick.id]  # the plot follows
    assert mark.value() == pytest.approx(project(start, end, tick.vertices[0]) + 2.5)
    window.undo()
    assert [r["Width (px)"] for r in layer_rows(window)] == pytest.approx(before)
    window.redo()
    assert [r["Width (px)"] for r in layer_rows(window)] == pytest.approx(after)


def test_a_selected_tick_drags_only_along_its_profile_with_the_mouse(qtbot, window):
    run_on_line(qtbot, window)
    tick = boundaries(window)[2]
    window.layer.select([tick.id])
    item = window.layer.items[tick.id]
    assert isinstance(item, TickItem)
    window.canvas.viewbox.setRange(QtCore.QRectF(60, 40, 180, 160), padding=0)
    qtbot.wait(20)
    start, end = window.line
    unit = (end - start) / np.hypot(*(end - start))
    across = np.array([-unit[1], unit[0]])
    target = tick.vertices[0] + 4.0 * unit + 6.0 * across  # off the line, sideways
    a, b = viewport_pos(window, *tick.vertices[0]), viewport_pos(window, *target)
    mouse(window, "press", a)
    for t in np.linspace(0.2, 1.0, 5):
        mouse(window, "move", QtCore.QPoint(round(a.x() + (b.x() - a.x()) * t),
                                            round(a.y() + (b.y() - a.y()) * t)))  # fmt: skip
        qtbot.wait(5)
    mouse(window, "release", b)
    qtbot.wait(20)
    moved = window.document.annotations[tick.id].vertices[0]
    offset = moved - tick.vertices[0]
    assert float(offset @ across) == pytest.approx(0.0, abs=1e-6)  # still on the line
    assert float(offset @ unit) == pytest.approx(4.0, abs=0.5)  # a screen pixel is ~0.2 px


def test_deleting_a_tick_merges_two_layers_and_undo_splits_them_again(qtbot, window):
    run_on_line(qtbot, window)
    tick = boundaries(window)[3]
    widths = [r["Width (px)"] for r in layer_rows(window)]
    window.layer.select([tick.id])
    window.delete_selection()
    merged = [r["Width (px)"] for r in layer_rows(window)]
    assert len(merged) == len(widths) - 1
    assert merged[3] == pytest.approx(widths[3] + widths[4])
    assert layer_rows(window)[3]["Label"] == "mixed"
    assert counts(window) == (3, 2)
    window.undo()
    assert [r["Width (px)"] for r in layer_rows(window)] == pytest.approx(widths)
    assert counts(window) == (4, 3)
    window.redo()
    assert len(layer_rows(window)) == len(widths) - 1


def test_add_boundary_by_clicking_on_the_profile_splits_a_layer(qtbot, window):
    run_on_line(qtbot, window)
    ticks = boundaries(window)
    start, end = window.line
    unit = (end - start) / np.hypot(*(end - start))
    widths = [r["Width (px)"] for r in layer_rows(window)]
    # the second dark layer (index 3 along the line) is 15 px wide: click 5 px into it
    where = ticks[2].vertices[0] + 5.0 * unit
    window.canvas.viewbox.setRange(QtCore.QRectF(60, 40, 180, 160), padding=0)
    qtbot.wait(20)
    window.panel.add_button.setChecked(True)
    pos = viewport_pos(window, *where)
    mouse(window, "press", pos)
    mouse(window, "release", pos)
    qtbot.wait(20)
    rows = layer_rows(window)
    assert len(rows) == len(widths) + 1
    assert rows[3]["Width (px)"] + rows[4]["Width (px)"] == pytest.approx(widths[3])
    assert rows[3]["Width (px)"] == pytest.approx(5.0, abs=0.5)
    added = [a for a in window.document.annotations.values() if a.id not in {t.id for t in ticks}]
    (new,) = [a for a in added if parse_boundary_role(a.role)]
    assert new.provenance.origin is Origin.CORRECTED and new.provenance.analysis == "layers"
    assert window.layer.selected == [new.id]
    window.undo()
    assert [r["Width (px)"] for r in layer_rows(window)] == pytest.approx(widths)


def test_widths_in_micrometres_with_anisotropic_pixels(qtbot, window):
    run_on_line(qtbot, window)
    window.controller.set_calibration(Calibration(0.02, 0.05, "µm"))
    start, end = window.line
    d_row, d_col = (end - start) / np.hypot(*(end - start))
    per_px = math.hypot(d_row * 0.05, d_col * 0.02)
    rows = [r for r in layer_rows(window) if r["Complete"]]
    assert [r["Width (µm)"] for r in rows] == pytest.approx(
        [r["Width (px)"] * per_px for r in rows]
    )
    assert [r["Width (µm)"] for r in rows] == pytest.approx(
        [w * per_px for w in WIDTHS], abs=0.6 * per_px
    )
    window.undo()
    assert "Width (µm)" not in layer_rows(window)[0]


def test_a_rectangle_gives_profiles_across_the_layers_and_their_taper(qtbot, window):
    roi = window.controller.add_shape(Kind.RECTANGLE, np.array([[40.5, 60.5], [200.5, 240.5]]))
    window.layer.select([roi])
    assert "rectangle" in window.panel.input_label.text()
    window.panel.profiles.setValue(3)
    with qtbot.waitSignal(window.panel.finished, timeout=10000):
        window.panel.run()
    parameters = window.document.steps[-1].parameters
    assert parameters["orientation_deg"] == pytest.approx(ANGLE, abs=1.0)
    assert len(parameters["lines"]) == 3
    for r0, c0, r1, c1 in parameters["lines"]:  # each line crosses the layers at a right angle
        direction = np.array([r1 - r0, c1 - c0]) / math.hypot(r1 - r0, c1 - c0)
        assert abs(direction @ np.array(window.truth.direction)) < 0.02
    rows = [r for r in layer_rows(window) if r["Complete"] and r["Label"] == "dark"]
    by_layer = {}
    for r in rows:
        by_layer.setdefault(r["Layer"], []).append(r["Width (px)"])
    assert max(len(v) for v in by_layer.values()) == 3  # the same layer on every profile
    assert window.panel.profile_choice.count() == 3
