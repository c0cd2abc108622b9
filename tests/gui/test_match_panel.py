"""Template matching panel: copies found through the GUI; boxes moved, deleted, added, undone."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image
from PySide6 import QtWidgets

from measurer.analysis.synthetic_detections import template_scene
from measurer.core.annotations import Kind, Origin
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.match_panel import MatchPanel, crop_rectangle, parse_numbers

#: Template 24×32; copies at sub-pixel centres, two touching the border, and one (60.5, 100.5)
#: whose window starts exactly on pixel (49, 85), so a crop of it is the template itself.
CENTRES = [(11.5, 15.5), (227.5, 303.5), (60.5, 100.5), (120.3, 150.7), (170.6, 60.2)]
THRESHOLD = 0.85


@pytest.fixture
def scene():
    return template_scene(CENTRES, noise=0.03, seed=0)


@pytest.fixture
def window(qtbot, settings, monkeypatch, tmp_path, scene):
    win = MainWindow(settings)
    win.errors = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", lambda *a: win.errors.append(a[2]))
    qtbot.addWidget(win)
    win.panel = win.add_analysis_panel(MatchPanel)
    path = tmp_path / "scene.tif"
    tifffile.imwrite(path, scene.image.astype(np.float32))
    win.files.open_image(str(path))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    win.panel.threshold.setValue(THRESHOLD)
    return win


def match_rows(window):
    return [r for r in window.document.measurements.rows if r["Kind"] == "match"]


def count_row(window):
    rows = [r for r in window.document.measurements.rows if r["Kind"] == "match count"]
    return rows[0]["Number"] if rows else 0


def centres(rows):
    return np.array([(r["Y (px)"], r["X (px)"]) for r in rows])


def nearest_errors(found, truth):
    """Distance from each true centre to its nearest found one; each found centre used once."""
    distance = np.hypot(*(found[:, None, :] - truth[None, :, :]).transpose(2, 0, 1))
    assert len(set(distance.argmin(axis=1))) == len(found), "two matches on one copy"
    return distance.min(axis=0)


def run(qtbot, window):
    with qtbot.waitSignal(window.panel.finished, timeout=10000):
        window.panel.run_button.click()


def test_template_from_file_finds_every_copy_within_half_a_pixel(qtbot, window, scene, tmp_path):
    path = tmp_path / "template.tif"
    tifffile.imwrite(path, scene.template.astype(np.float32))
    assert window.panel.load_template(str(path))
    run(qtbot, window)
    rows = match_rows(window)
    assert len(rows) == len(CENTRES) and count_row(window) == len(CENTRES)
    assert nearest_errors(centres(rows), scene.centres).max() < 0.5
    assert all(r["Score"] >= THRESHOLD and r["Scale"] == 1 and r["Angle (°)"] == 0 for r in rows)
    assert all(r["Origin"] == "automatic" for r in rows)
    assert window.panel.count_label.text() == f"Matches: {len(CENTRES)}"
    # Each match is one rectangle of the template's size, drawn in the analysis's batch.
    boxes = window.panel.matches()
    sizes = np.array([np.ptp(b.vertices, axis=0) for b in boxes])
    np.testing.assert_allclose(sizes, [(24.0, 32.0)] * len(CENTRES), atol=1e-9)
    assert set(window.layer._batches) == {"match"}
    assert window.document.steps[-1].parameters["template"] == "file"


def test_a_template_alpha_channel_masks_its_transparent_pixels(qtbot, window, scene, tmp_path):
    grey = np.round(scene.template * 200).clip(0, 255).astype(np.uint8)
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    rgba[:, :6, 3] = 0  # the left columns are transparent: garbage there must not matter
    rgba[:, :6, :3] = 255
    path = tmp_path / "template.png"
    Image.fromarray(rgba).save(path)
    assert window.panel.load_template(str(path))
    assert "transparent" in window.panel.template_label.text()
    run(qtbot, window)
    rows = match_rows(window)
    assert len(rows) == len(CENTRES)
    assert nearest_errors(centres(rows), scene.centres).max() < 0.5


def test_template_from_the_selected_rectangle_which_stays_manual(qtbot, window, scene):
    corners = np.array([[48.5, 84.5], [72.5, 116.5]])  # pixels 49..72 × 85..116
    np.testing.assert_array_equal(
        crop_rectangle(window.document.image, corners), window.document.image[49:73, 85:117]
    )
    template_id = window.controller.add_shape(Kind.RECTANGLE, corners)
    window.layer.select([template_id])
    run(qtbot, window)
    template = window.document.annotations[template_id]
    assert template.provenance.origin is Origin.MANUAL and template.role == ""
    assert window.panel.template.shape == (24, 32)
    rows = match_rows(window)
    assert len(rows) == len(CENTRES)
    assert nearest_errors(centres(rows), scene.centres).max() < 0.5


def test_moving_deleting_and_adding_boxes_update_the_rows_and_undo(qtbot, window, scene, tmp_path):
    path = tmp_path / "template.tif"
    tifffile.imwrite(path, scene.template.astype(np.float32))
    window.panel.load_template(str(path))
    run(qtbot, window)
    doc = window.document
    first, second = window.panel.matches()[:2]
    before = next(r for r in match_rows(window) if r["ID"] == str(first.id))
    # Move: the row follows, the score is no longer known, the box is marked corrected.
    window.layer.select([first.id])
    window.layer.edit_requested.emit(first.id, first.vertices + np.array([2.0, 3.0]))
    moved = next(r for r in match_rows(window) if r["ID"] == str(first.id))
    assert moved["X (px)"] == pytest.approx(before["X (px)"] + 3.0)
    assert moved["Y (px)"] == pytest.approx(before["Y (px)"] + 2.0)
    assert moved["Origin"] == Origin.CORRECTED.value and "Score" not in moved
    assert count_row(window) == len(CENTRES)
    # Delete (the Delete key's action): the count drops, in the table and the panel.
    window.layer.select([second.id])
    window.actions_by_name["edit.delete"].trigger()
    assert count_row(window) == len(CENTRES) - 1
    assert window.panel.count_label.text() == f"Matches: {len(CENTRES) - 1}"
    doc.undo()
    assert count_row(window) == len(CENTRES)
    assert window.panel.count_label.text() == f"Matches: {len(CENTRES)}"
    doc.undo()
    assert "Score" in next(r for r in match_rows(window) if r["ID"] == str(first.id))
    # Add: a rectangle drawn by hand becomes a match, corrected, with no score.
    drawn = window.controller.add_shape(Kind.RECTANGLE, np.array([[100.5, 10.5], [124.5, 42.5]]))
    window.layer.select([drawn])
    window.panel.add_button.click()
    added = next(r for r in match_rows(window) if r["ID"] == str(drawn))
    assert added["Origin"] == Origin.CORRECTED.value and "Score" not in added
    assert (added["X (px)"], added["Y (px)"]) == (26.5, 112.5)
    assert count_row(window) == len(CENTRES) + 1
    assert doc.annotations[drawn].role == f"match:{len(CENTRES)}"
    doc.undo()
    assert doc.annotations[drawn].provenance.origin is Origin.MANUAL
    assert count_row(window) == len(CENTRES)


@pytest.mark.parametrize(
    ("template", "message"),
    [(np.full((10, 12), 0.5, np.float32), "flat"), (np.ones((300, 20), np.float32), "fit")],
)
def test_flat_or_too_large_templates_are_refused_clearly(
    qtbot, window, tmp_path, template, message
):
    if message == "fit":
        template[::2] = 0  # not flat, only too tall
    path = tmp_path / "bad.tif"
    tifffile.imwrite(path, template)
    window.panel.load_template(str(path))
    with qtbot.waitSignal(window.panel.failed, timeout=10000):
        window.panel.run()
    assert message in window.errors[-1] and message in window.panel.status.text()
    assert window.panel.matches() == []


def test_bad_options_and_missing_template_are_refused(qtbot, window):
    assert not window.panel.run()
    assert "rectangle" in window.errors[-1]
    assert parse_numbers("0.8, 1.0 1.25", "Scales", positive=True) == (0.8, 1.0, 1.25)
    with pytest.raises(ValueError, match="Scales"):
        parse_numbers("0.8, big", "Scales")
    with pytest.raises(ValueError, match="positive"):
        parse_numbers("0, 1", "Scales", positive=True)
    assert not window.panel.add_selected_rectangle()
    assert "Find matches first" in window.errors[-1]
