"""The Batch dialog: a recipe over a folder (one corrupt file), Cancel and resume, and recipes
saved from a GUI run giving the panel's own numbers."""

from __future__ import annotations

import csv
import os
import sys

import numpy as np
import pytest
from PIL import Image

from measurer.analysis.synthetic_detections import template_scene
from measurer.analysis.synthetic_masks import rectangles_mask
from measurer.gui.batch_runner import BatchSpec
from measurer.gui.dialogs.batch_dialog import BatchDialog
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.masks_panel import MasksPanel
from measurer.gui.panels.match_panel import MatchPanel
from measurer.io.recipes import Recipe, read_recipe, write_recipe

#: Image name -> blobs (row, col, rows, cols); every mask has a different count.
MASKS = {
    "a.png": [(2, 2, 5, 5)],
    "b.png": [(2, 2, 5, 5), (20, 20, 4, 4)],
    "c.png": [(1, 1, 3, 3), (10, 10, 2, 8), (30, 3, 6, 6)],
    "d.png": [(5, 30, 4, 4)] * 1 + [(20, 5, 3, 3), (30, 30, 5, 2), (2, 20, 2, 2)],
    "e.png": [(3, 3, 4, 4), (3, 12, 4, 4), (3, 21, 4, 4), (3, 30, 4, 4), (20, 20, 9, 9)],
}


@pytest.fixture
def window(qtbot, settings, no_blocking_message_boxes):
    win = MainWindow(settings)
    win.shown = no_blocking_message_boxes
    qtbot.addWidget(win)
    return win


def write_mask(path, rects):
    Image.fromarray((rectangles_mask((40, 40), rects) * 255).astype(np.uint8)).save(path)


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name, rects in MASKS.items():
        write_mask(images / name, rects)
    (images / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    recipe = write_recipe(tmp_path / "blobs.json", Recipe("blobs"))
    return images, recipe


def dialog_for(qtbot, window, recipe, inputs, table):
    dialog = BatchDialog(window)
    qtbot.addWidget(dialog)
    dialog.recipe.setCurrentText(str(recipe))
    dialog.set_inputs([str(i) for i in inputs])
    dialog.table.setText(str(table))
    dialog.jobs.setValue(1)
    return dialog


def run(qtbot, dialog, timeout=30000):
    with qtbot.waitSignal(dialog.finished_batch, timeout=timeout) as blocker:
        qtbot.mouseClick(dialog.run_button, qtbot_left())
    return blocker.args[0]


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_a_folder_with_a_corrupt_file_gives_every_blob_and_one_error(
    qtbot, window, folder, tmp_path
):
    images, recipe = folder
    dialog = dialog_for(qtbot, window, recipe, [images], tmp_path / "out.csv")
    summary = run(qtbot, dialog)
    assert (summary.images, summary.measured, summary.reused, summary.failed) == (6, 5, 0, 1)
    assert "1 failed" in dialog.status.text() and str(summary.errors) in dialog.status.text()
    (error,) = read_csv(tmp_path / "out.errors.csv")
    assert error["path"].endswith("corrupt.png") and "corrupt" in error["error"]
    # The table opened in its window: one row per blob with its image, areas as drawn.
    shown = dialog.table_window.rows()
    assert len(shown) == sum(len(r) for r in MASKS.values())
    for name, rects in MASKS.items():
        mine = [r for r in shown if r["path"].endswith(name)]
        assert sorted(int(r["area"]) for r in mine) == sorted(h * w for _, _, h, w in rects)
    assert dialog.run_button.isEnabled() and not dialog.cancel_button.isEnabled()


#: ``measurer batch`` with its measure held forever on c.png (until interrupted).
HOLD = """
import sys, time
from measurer.cli import batch_task
from measurer.cli.main import main
measure = batch_task.ImageTask.__call__
def held(self, path, annotated=None):
    while path.endswith("c.png"):
        time.sleep(0.05)
    return measure(self, path, annotated)
batch_task.ImageTask.__call__ = held
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(os.name != "posix", reason="Cancel interrupts the batch with SIGINT")
def test_cancel_keeps_what_was_done_and_run_again_measures_only_the_rest(
    qtbot, window, folder, tmp_path, monkeypatch
):
    images, recipe = folder
    (images / "corrupt.png").unlink()
    command = BatchSpec.command
    monkeypatch.setattr(
        BatchSpec, "command", lambda spec: [sys.executable, "-c", HOLD, *command(spec)[3:]]
    )
    table = tmp_path / "out.csv"
    dialog = dialog_for(qtbot, window, recipe, [images], table)
    finished = []
    dialog.finished_batch.connect(finished.append)
    assert dialog.run()
    qtbot.waitUntil(lambda: "2 of 5 images" in dialog.progress_label.text(), timeout=20000)
    assert dialog.bar.value() == 400
    qtbot.mouseClick(dialog.cancel_button, qtbot_left())
    qtbot.waitUntil(lambda: bool(finished), timeout=20000)
    assert finished[0].cancelled and "Run again" in dialog.status.text()
    assert dialog.table_window is None and not table.exists()
    monkeypatch.setattr(BatchSpec, "command", command)
    summary = run(qtbot, dialog)
    assert (summary.measured, summary.reused, summary.failed) == (3, 2, 0)
    assert "3 measured, 2 kept from an earlier run" in dialog.status.text()
    assert len(read_csv(table)) == sum(len(r) for r in MASKS.values())


def test_a_bad_recipe_is_shown_and_the_app_stays_up(qtbot, window, folder, tmp_path):
    images, _ = folder
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 1, "analysis": "blobs", "options": {"min-area": 0}}')
    dialog = dialog_for(qtbot, window, bad, [images], tmp_path / "out.csv")
    assert run(qtbot, dialog) is None
    assert "--min-area must be at least 1" in dialog.status.text()
    assert any("min-area" in text for _, _, text in window.shown)
    dialog.table.setText("")
    assert not dialog.run() and "Choose the table" in dialog.status.text()
    assert dialog.run_button.isEnabled()  # ready to try again


def open_image(qtbot, window, path):
    window.files.open_image(str(path))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)


def test_the_current_masks_analysis_as_recipe_gives_the_panels_numbers(qtbot, window, tmp_path):
    panel = window.add_analysis_panel(MasksPanel)
    path = tmp_path / "mask.png"
    write_mask(path, MASKS["e.png"] + [(35, 0, 1, 1)])
    open_image(qtbot, window, path)
    panel.min_area.setValue(2)  # drops the single pixel, in the panel and in the recipe
    with qtbot.waitSignal(panel.finished, timeout=15000):
        panel.run_button.click()
    polygons = [r for r in window.document.measurements.rows if r["Kind"] == "polygon"]
    dialog = dialog_for(qtbot, window, "Use the current analysis", [path], tmp_path / "t.csv")
    summary = run(qtbot, dialog)
    assert summary.failed == 0
    recipe = read_recipe(tmp_path / "t.recipe.json")
    assert (recipe.analysis, dict(recipe.options)) == ("blobs", {"min-area": 2})
    rows = read_csv(tmp_path / "t.csv")
    assert len(rows) == len(polygons) == 5
    assert sorted(float(r["area"]) for r in rows) == sorted(r["Area (px²)"] for r in polygons)
    boxes = sorted((int(r["bbox_x"]), int(r["bbox_y"])) for r in rows)
    assert boxes == sorted((r["BX (px)"], r["BY (px)"]) for r in polygons)


def test_a_match_recipe_keeps_its_template_and_finds_the_same_matches(qtbot, window, tmp_path):
    from measurer.gui.dialogs.recipe_saving import save_current_recipe

    panel = window.add_analysis_panel(MatchPanel)
    centres = [(30.5, 40.5), (90.2, 150.7), (160.6, 60.3)]
    scene = template_scene(centres, noise=0.02, seed=1)
    image = tmp_path / "scene.png"
    Image.fromarray(np.round(scene.image * 200).clip(0, 255).astype(np.uint8)).save(image)
    template = tmp_path / "template.png"
    Image.fromarray(np.round(scene.template * 200).clip(0, 255).astype(np.uint8)).save(template)
    open_image(qtbot, window, image)
    assert panel.load_template(str(template))
    panel.threshold.setValue(0.85)
    with qtbot.waitSignal(panel.finished, timeout=15000):
        panel.run_button.click()
    found = [r for r in window.document.measurements.rows if r["Kind"] == "match"]
    (tmp_path / "recipes").mkdir()
    recipe_path = save_current_recipe(window, tmp_path / "recipes" / "match.json")
    template.unlink()  # the recipe keeps its own copy, beside it
    assert (tmp_path / "recipes" / "match.template.png").is_file()
    assert read_recipe(recipe_path).options["template"] == "match.template.png"
    dialog = dialog_for(qtbot, window, recipe_path, [image], tmp_path / "m.csv")
    assert run(qtbot, dialog).failed == 0
    rows = read_csv(tmp_path / "m.csv")
    assert len(rows) == len(found) == len(centres)
    batch = sorted(
        (float(r["x"]) + (int(r["width"]) - 1) / 2, float(r["y"]) + (int(r["height"]) - 1) / 2)
        for r in rows
    )
    np.testing.assert_allclose(batch, sorted((r["X (px)"], r["Y (px)"]) for r in found), atol=2e-3)
