"""The Colours panel's picked background: stained discs in a field filled with tissue."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtWidgets

from measurer.analysis.synthetic_detections import TISSUE, tissue_scene
from measurer.gui.panels.colors_panel import ColorsPanel


@pytest.fixture
def window(main_window, qtbot, tmp_path):
    main_window.panel = main_window.add_analysis_panel(ColorsPanel)
    path = tmp_path / "tissue.png"
    Image.fromarray(tissue_scene().image).save(path)
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
