"""File → Save analysis as recipe… after a Layers run: the recipe written, run by
``measurer batch``, gives the panel's layers; a run no recipe can repeat is refused with why."""

from __future__ import annotations

import csv

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
