"""The shared path of analysis panels: worker, ApplyDetection, corrections kept unless confirmed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtWidgets

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.commands import move_vertices
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.analysis_panel import AnalysisPanel


def brightest_pixels(image, *, count):
    """A stand-in analysis: the positions of the ``count`` brightest pixels."""
    order = np.argsort(image, axis=None)[::-1][:count]
    return np.column_stack(np.unravel_index(order, image.shape)).astype(float)


class BrightestPanel(AnalysisPanel):
    title = "Brightest"
    analysis = "brightest"

    def run(self, count):
        return self.run_detection(
            brightest_pixels,
            self.window.document.image,
            count=count,
            parameters={"count": count},
            to_shapes=lambda points: [
                Annotation(0, Kind.POINTS, [p], role=f"peak:{i}") for i, p in enumerate(points)
            ],
        )


@pytest.fixture
def window(qtbot, settings, monkeypatch, tmp_path):
    win = MainWindow(settings)
    win.errors = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", lambda *a: win.errors.append(a[2]))
    qtbot.addWidget(win)
    win.panel = win.add_analysis_panel(BrightestPanel)
    data = np.zeros((40, 50), np.uint8)
    data[5, 7], data[30, 40], data[20, 10] = 250, 240, 230
    path = tmp_path / "peaks.png"
    Image.fromarray(data).save(path)
    win.files.open_image(str(path))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    return win


def test_run_applies_one_undoable_detection(qtbot, window):
    with qtbot.waitSignal(window.panel.finished, timeout=10000):
        assert window.panel.run(3)
    doc = window.document
    points = sorted(tuple(a.vertices[0]) for a in doc.annotations.values())
    assert points == [(5, 7), (20, 10), (30, 40)]
    assert all(a.provenance.origin is Origin.AUTOMATIC for a in doc.annotations.values())
    assert doc.steps[-1].parameters == {"count": 3}
    assert doc.history.texts() == ["run brightest"]
    assert "Brightest…" in [a.text() for a in window.analyze_menu.actions()]
    doc.undo()
    assert doc.annotations == {}


def test_rerun_asks_before_discarding_corrections(qtbot, window, monkeypatch):
    with qtbot.waitSignal(window.panel.finished, timeout=10000):
        window.panel.run(3)
    doc = window.document
    first = next(iter(doc.annotations))
    doc.apply(move_vertices(doc, first, [(1, 1)]))
    asked = []

    def keep(*args, **kwargs):
        asked.append(args[1])
        return QtWidgets.QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", keep)
    assert not window.panel.run(2)
    assert asked and doc.annotations[first].provenance.origin is Origin.CORRECTED
    monkeypatch.setattr(
        QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Yes
    )
    with qtbot.waitSignal(window.panel.finished, timeout=10000):
        assert window.panel.run(2)
    assert len(doc.annotations) == 2


def test_a_result_for_an_older_state_is_dropped(qtbot, window):
    doc = window.document
    with qtbot.waitSignal(window.panel.failed, timeout=10000):
        window.panel.run(3)
        window.controller.add_shape(Kind.LINE, np.array([[0.0, 0.0], [5.0, 5.0]]))
    assert [a.kind for a in doc.annotations.values()] == [Kind.LINE]
    assert "changed while the analysis ran" in window.errors[-1]
