"""File → Save analysis as recipe… after a Layers run: the recipe written, run by
``measurer batch``, gives the panel's layers; a run no recipe can repeat is refused with why."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtWidgets

from measurer.analysis.synthetic_layers import layered_image
from measurer.core.annotations import Kind
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.layers_panel import LayersPanel
from measurer.io.recipes import read_recipe

WIDTHS = [12.0, 9.0, 15.0, 10.0, 13.0]


@pytest.fixture
def window(qtbot, settings, tmp_path, no_blocking_message_boxes):
    win = MainWindow(settings)
    win.shown = no_blocking_message_boxes
    qtbot.addWidget(win)
    win.panel = win.add_analysis_panel(LayersPanel)
    image, win.truth = layered_image((160, 200), WIDTHS, angle_deg=30.0, blur=1.3, seed=3)
    win.image_path = tmp_path / "layers.png"
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(win.image_path)
    win.files.open_image(str(win.image_path))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    return win


def run_on_drawn_line(qtbot, win, half_length=60):
    centre, normal = np.array(win.truth.origin), np.array(win.truth.normal)
    line = np.array([centre - half_length * normal, centre + half_length * normal])
    win.layer.select([win.controller.add_shape(Kind.LINE, line)])
    with qtbot.waitSignal(win.panel.finished, timeout=15000):
        win.panel.run_button.click()


def save_recipe_through_the_menu(win, monkeypatch, path):
    monkeypatch.setattr(
        QtWidgets.QFileDialog,
        "getSaveFileName",
        lambda *args, **kwargs: (str(path), "Recipes (*.json)"),
    )
    win.actions_by_name["file.save_recipe"].trigger()


def test_a_saved_layers_recipe_gives_the_panels_layers_in_a_batch(
    qtbot, window, tmp_path, monkeypatch
):
    from measurer.cli.main import main

    window.panel.band_width.setValue(7)
    window.panel.profiles.setValue(3)
    window.panel.smoothing.setValue(1.5)
    run_on_drawn_line(qtbot, window)
    panel_rows = [r for r in window.document.measurements.rows if r["Kind"] == "layer"]
    save_recipe_through_the_menu(window, monkeypatch, tmp_path / "layers.json")
    assert window.shown == []  # no refusal
    recipe = read_recipe(tmp_path / "layers.json")
    assert recipe.analysis == "layers"
    assert (recipe.options["width"], recipe.options["profiles"]) == (7, 3)
    assert recipe.options["smoothing"] == 1.5
    table = tmp_path / "batch.csv"
    assert main(["batch", str(tmp_path / "layers.json"), str(window.image_path),
                 "--out", str(table), "--jobs", "1"]) == 0  # fmt: skip
    with open(table, newline="", encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle) if r["profile"] != "0"]  # 0: the drawn line
    complete = [r for r in rows if r["complete"] == "True"]
    assert len(complete) == 3 * len(WIDTHS)  # every layer on each of the three profiles
    assert sorted(float(r["width_px"]) for r in complete) == pytest.approx(
        sorted(r["Width (px)"] for r in panel_rows if r["Complete"]), abs=1e-3
    )
    darks = [r for r in complete if r["kind"] == "dark"]
    assert sorted(float(r["width_px"]) for r in darks) == pytest.approx(
        sorted([12.0, 15.0, 13.0] * 3), abs=1.0
    )  # and the stack's dark layers, as drawn


def test_a_run_no_recipe_can_repeat_is_refused_with_the_reason(
    qtbot, window, tmp_path, monkeypatch
):
    window.panel.profiles.setValue(3)
    run_on_drawn_line(qtbot, window, half_length=150)  # runs off the image
    save_recipe_through_the_menu(window, monkeypatch, tmp_path / "layers.json")
    assert not (tmp_path / "layers.json").exists()
    ((kind, title, text),) = window.shown
    assert (kind, title) == ("warning", "Save analysis as recipe")
    assert "cut by the image border" in text


def test_a_two_mask_run_saves_a_pattern_that_finds_each_images_second_mask(
    qtbot, settings, no_blocking_message_boxes, tmp_path, monkeypatch
):
    from measurer.analysis.gaps import deepest_to_margin_line
    from measurer.analysis.synthetic_masks import rectangles_mask
    from measurer.cli.main import main
    from measurer.gui.panels.masks_panel import MasksPanel

    win = MainWindow(settings)
    win.shown = no_blocking_message_boxes
    qtbot.addWidget(win)
    panel = win.add_analysis_panel(MasksPanel)
    # Retinas in retina/, holes of the same names in hole/; the second image's hole is deeper.
    depths = {}
    for name, bottom in (("s1.png", 40), ("s2.png", 44)):
        retina = rectangles_mask((60, 80), [(10, 5, 30, 30), (10, 45, 30, 30)])
        hole = rectangles_mask((60, 80), [(14, 36, bottom - 14, 8)])
        for folder, mask in (("retina", retina), ("hole", hole)):
            (tmp_path / folder).mkdir(exist_ok=True)
            Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / folder / name)
        depths[name] = abs(deepest_to_margin_line(retina, hole).to_line.distance)
    first = tmp_path / "retina" / "s1.png"
    win.files.open_image(str(first))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    assert panel.set_second_mask(str(tmp_path / "hole" / "s1.png"))
    with qtbot.waitSignal(panel.finished, timeout=15000):
        panel.run_button.click()
    save_recipe_through_the_menu(win, monkeypatch, tmp_path / "pairs.json")
    assert win.shown == []
    recipe = read_recipe(tmp_path / "pairs.json")
    assert recipe.analysis == "regions" and recipe.options["mask_b"] == "{dir}/../hole/{name}"
    table = tmp_path / "pairs.csv"
    code = main(["batch", str(tmp_path / "pairs.json"), str(tmp_path / "retina"),
                 "--out", str(table), "--jobs", "1"])  # fmt: skip
    assert code == 0
    with open(table, newline="", encoding="utf-8-sig") as handle:
        rows = {Path(r["path"]).name: float(r["depth"]) for r in csv.DictReader(handle)}
    assert rows == pytest.approx(depths) and depths["s2.png"] == depths["s1.png"] + 4
