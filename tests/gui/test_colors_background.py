"""The Colours panel's picked background: stained discs in a field filled with tissue."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtWidgets

from measurer.analysis.synthetic_detections import texture
from measurer.gui.panels.colors_panel import ColorsPanel

TISSUE = np.array([0.88, 0.70, 0.76])
STAINS = {"brown": np.array([0.55, 0.33, 0.15]), "blue": np.array([0.28, 0.32, 0.66])}
#: (stain, row, col, radius); two discs are cut by the image edges, so the border holds stain.
DISCS = [
    ("brown", 40.3, 60.6, 11.0), ("brown", 150.2, 200.7, 9.0), ("brown", 95.5, 0.0, 12.0),
    ("blue", 120.4, 100.2, 10.0), ("blue", 60.7, 250.1, 8.5), ("blue", 0.0, 160.0, 12.0),
    ("blue", 200.0, 50.0, 9.5),
]  # fmt: skip


def tissue_image(shape=(240, 320)) -> np.ndarray:
    """Textured pink tissue to every edge with brown and blue discs (as test_colors.py's)."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    image = TISSUE * (0.9 + 0.2 * texture(shape, sigma=2.0, seed=0))[..., None]
    for stain, row, col, radius in DISCS:
        dist = np.hypot(rows - row, cols - col)
        cover = np.clip(radius + 0.5 - dist, 0, 1)[..., None]
        shade = 1 - 0.2 * np.clip(dist / radius, 0, 1)[..., None] ** 2
        image = image * (1 - cover) + STAINS[stain] * shade * cover
    image = np.clip(image + np.random.default_rng(0).normal(0, 0.015, image.shape), 0, 1)
    return (image * 255).round().astype(np.uint8)


@pytest.fixture
def window(main_window, qtbot, tmp_path):
    main_window.panel = main_window.add_analysis_panel(ColorsPanel)
    path = tmp_path / "tissue.png"
    Image.fromarray(tissue_image()).save(path)
    main_window.files.open_image(str(path))
    qtbot.waitUntil(lambda: main_window.document is not None, timeout=10000)
    return main_window


def click(window, row, col):
    """A click on the image where no ordinary item is (what the view box reports)."""
    scene = window.canvas.viewbox.mapViewToScene(QtCore.QPointF(col, row))
    window.canvas.viewbox.background_clicked.emit(scene)


def run(qtbot, window):
    with qtbot.waitSignal(window.panel.finished, timeout=20000) as blocker:
        window.panel.run_button.click()
    return blocker.args[0]


def counts(window):
    rows = window.document.measurements.rows
    return {r["Label"]: r["Number"] for r in rows if r["Kind"] == "class count"}


def test_a_background_picked_on_the_image_finds_the_stained_discs(qtbot, window, monkeypatch):
    panel = window.panel
    names = iter(["brown", "blue"])
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText", lambda *a, **k: (next(names), True))
    panel.pick_button.setChecked(True)
    click(window, 40, 61)  # a brown disc's centre
    click(window, 120, 100)  # a blue one
    assert [p.name for p in panel.picked] == ["brown", "blue"]
    result, shapes = run(qtbot, window)  # the border holds tissue and stain: nothing stands out
    assert result.counts == {"brown": 0, "blue": 0} and shapes == [] and counts(window) == {}

    panel.pick_background_button.setChecked(True)
    assert not panel.pick_button.isChecked()  # one kind of pick at a time
    assert panel.background_mode.currentText() == "picked colours"
    click(window, 220, 300)  # tissue, away from the discs
    click(window, 999, 5)  # outside the image: nothing
    click(window, 20, 150)
    assert len(panel.background) == 2
    assert panel.background_label.text().count("■") == 2
    tissue = np.array(panel.background[0].value)
    assert np.all(np.abs(tissue - TISSUE * 255) < 0.15 * TISSUE * 255)  # texture is ±10 %
    run(qtbot, window)
    assert not panel.pick_background_button.isChecked()
    assert counts(window) == {"brown": 3, "blue": 4}
    (step,) = [s for s in window.document.steps if s.analysis == "colors"]
    assert step.parameters["background"] == [list(p.value) for p in panel.background]

    panel.k.setValue(2)
    panel.automatic.setChecked(True)
    run(qtbot, window)
    assert counts(window) == {"c0": 3, "c1": 4}
    panel.background_mode.setCurrentIndex(0)  # the image border again; the picks are kept
    result, _ = run(qtbot, window)
    assert result.counts == {"c0": 0, "c1": 0} and len(panel.background) == 2
    (step,) = [s for s in window.document.steps if s.analysis == "colors"]
    assert "background" not in step.parameters


def test_picked_background_needs_a_colour_and_is_off_for_grids(qtbot, window):
    panel = window.panel
    panel.background_mode.setCurrentIndex(1)
    assert panel.run() is False
    assert window.shown[-1][2].startswith("Pick a background colour first")
    panel.grid_box.setChecked(True)
    assert not panel.background_mode.isEnabled() and not panel.pick_background_button.isEnabled()
    panel.grid_box.setChecked(False)
    assert panel.background_mode.isEnabled()
