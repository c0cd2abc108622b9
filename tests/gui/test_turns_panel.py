"""The turning points panel: turns of synthetic kymographs through the GUI, dragged and undone."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PySide6 import QtWidgets

from measurer.analysis.synthetic_detections import synthetic_kymograph
from measurer.core.annotations import Kind, Origin
from measurer.core.calibration import Calibration
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.turns_panel import TurnsPanel


@pytest.fixture
def kymograph():
    return synthetic_kymograph(frames=240, size=90, turns=5, noise=0.25, seed=1)


def open_window(qtbot, settings, monkeypatch, tmp_path, image):
    win = MainWindow(settings)
    win.errors = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", lambda *a: win.errors.append(a[2]))
    qtbot.addWidget(win)
    win.panel = win.add_analysis_panel(TurnsPanel)
    path = tmp_path / "kymograph.tif"
    tifffile.imwrite(path, image.astype(np.float32))
    win.files.open_image(str(path))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    return win


def run(qtbot, window):
    with qtbot.waitSignal(window.panel.finished, timeout=10000):
        window.panel.run_button.click()


def turn_rows(window):
    return [r for r in window.document.measurements.rows if r["Kind"] == "turn"]


def expected_directions(positions, frame, axis):
    """Screen directions of the true motion 8 frames before and after a turn."""
    names = {"x": ("up", "down"), "y": ("left", "right")}[axis]
    before = names[int(positions[frame] > positions[frame - 8])]
    after = names[int(positions[frame + 8] > positions[frame])]
    return before, after


def test_turns_found_within_two_frames_with_their_directions(
    qtbot, settings, monkeypatch, tmp_path, kymograph
):
    window = open_window(qtbot, settings, monkeypatch, tmp_path, kymograph.image)
    run(qtbot, window)
    rows = turn_rows(window)
    frames = np.array([r["Frame"] for r in rows])
    assert len(frames) == len(kymograph.turn_frames)  # no extra turn, none missed
    assert np.abs(frames - kymograph.turn_frames).max() <= 2
    for row, frame in zip(rows, kymograph.turn_frames, strict=True):
        assert row["Position (px)"] == pytest.approx(kymograph.positions[frame], abs=1.5)
        expected = expected_directions(kymograph.positions, frame, "x")
        assert (row["Direction before"], row["Direction after"]) == expected
    assert window.panel.count_label.text() == f"Turns: {len(frames)}"
    # The trace is one polyline over the frames where the curve is seen.
    doc = window.document
    (trace,) = [a for a in doc.annotations.values() if a.role == "turns:trace"]
    assert trace.kind is Kind.POLYLINE and len(trace.vertices) == 240
    error = np.abs(trace.vertices[:, 0] - kymograph.positions[trace.vertices[:, 1].astype(int)])
    assert np.median(error) < 0.5


def test_dragging_a_turn_updates_its_row_and_undo_restores_it(
    qtbot, settings, monkeypatch, tmp_path, kymograph
):
    window = open_window(qtbot, settings, monkeypatch, tmp_path, kymograph.image)
    run(qtbot, window)
    doc = window.document
    turn = next(a for a in doc.annotations.values() if a.role == "turns:turn:2")
    before = next(r for r in turn_rows(window) if r["ID"] == str(turn.id))
    window.layer.select([turn.id])
    assert turn.id in window.layer.items  # selected: an editable item, out of the batch
    window.layer.edit_requested.emit(turn.id, turn.vertices + np.array([4.0, 3.0]))
    after = next(r for r in turn_rows(window) if r["ID"] == str(turn.id))
    assert after["Frame"] == before["Frame"] + 3
    assert after["Position (px)"] == pytest.approx(before["Position (px)"] + 4.0)
    assert after["Origin"] == Origin.CORRECTED.value
    # Dragged past its neighbours' level, the directions around it follow.
    neighbours = [r["Position (px)"] for r in turn_rows(window)][1:4:2]
    far = max(neighbours) + 5 if before["Direction before"] == "up" else min(neighbours) - 5
    window.layer.edit_requested.emit(turn.id, [[far, turn.vertices[0][1]]])
    flipped = next(r for r in turn_rows(window) if r["ID"] == str(turn.id))
    assert flipped["Direction before"] != before["Direction before"]
    doc.undo()
    doc.undo()
    assert next(r for r in turn_rows(window) if r["ID"] == str(turn.id)) == before
    # Deleting a turn: one row fewer, and the count in the panel follows.
    window.layer.select([turn.id])
    window.delete_selection()
    assert len(turn_rows(window)) == len(kymograph.turn_frames) - 1
    assert window.panel.count_label.text() == f"Turns: {len(kymograph.turn_frames) - 1}"


def test_prominence_in_calibrated_units_and_time_along_y(
    qtbot, settings, monkeypatch, tmp_path, kymograph
):
    window = open_window(qtbot, settings, monkeypatch, tmp_path, kymograph.image.T)
    panel = window.panel
    panel.axis.setCurrentIndex(panel.axis.findData("y"))
    window.controller.set_calibration(Calibration(0.5, 2.0, "µm"))  # x 0.5, y 2 µm per pixel
    # Along y the position runs along x: 5 px are 2.5 µm, whatever the number says.
    assert panel.prominence.suffix() == " µm"
    assert panel.prominence.value() == pytest.approx(2.5)
    assert panel.prominence_px() == pytest.approx(5.0)
    run(qtbot, window)
    rows = turn_rows(window)
    frames = np.array([r["Frame"] for r in rows])
    assert len(frames) == len(kymograph.turn_frames)
    assert np.abs(frames - kymograph.turn_frames).max() <= 2
    for row, frame in zip(rows, kymograph.turn_frames, strict=True):
        assert row["Position (µm)"] == pytest.approx(0.5 * row["Position (px)"])
        expected = expected_directions(kymograph.positions, frame, "y")
        assert (row["Direction before"], row["Direction after"]) == expected
    assert window.document.steps[-1].parameters["min_prominence"] == pytest.approx(5.0)
    # A prominence larger than any excursion: no turn at all, and the panel says so.
    panel.prominence.setValue(500.0)
    run(qtbot, window)
    assert turn_rows(window) == [] and panel.count_label.text() == "Turns: 0"
