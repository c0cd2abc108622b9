"""The Scale bar panel: detect, drag the ends, calibrate (undoable), metadata disagreement."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from measurer.analysis.scalebar_label import tesseract_available
from measurer.analysis.synthetic_layers import scalebar_image
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.scalebar_panel import ScaleBarPanel

SEED = 2  # a boxed 174.55 px bar labelled "20 µm"


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.panel = win.add_analysis_panel(ScaleBarPanel)
    return win


def open_image(qtbot, win, path):
    win.files.open_image(str(path))
    qtbot.waitUntil(lambda: win.document is not None and win.document.path == path, timeout=10000)


def micrograph(tmp_path, seed=SEED, *, pixel_size=None, bar=True):
    """A synthetic micrograph with a "20 µm" bar; an ImageJ TIFF when ``pixel_size`` is given."""
    image, truth = scalebar_image(seed, label="20 µm", boxed=True, jpeg_quality=0, bar=bar)
    if pixel_size is None:
        path = tmp_path / f"bar{seed}.png"
        Image.fromarray(image).save(path)
    else:
        path = tmp_path / f"bar{seed}.tif"
        tifffile.imwrite(
            path, image, imagej=True, resolution=(1 / pixel_size,) * 2, metadata={"unit": "um"}
        )
    return path, truth


def detect(qtbot, win):
    with qtbot.waitSignal(win.panel.finished, timeout=20000):
        assert win.panel.detect()


def test_detect_then_set_calibration_gives_the_pixel_size_and_undo_restores(
    qtbot, window, tmp_path
):
    path, truth = micrograph(tmp_path)
    open_image(qtbot, window, path)
    detect(qtbot, window)
    panel, doc = window.panel, window.document
    bar = panel.bar_annotation()
    assert bar.kind.value == "line" and bar.role == "scalebar"
    assert window.layer.selected == [bar.id]  # highlighted, ends draggable
    assert panel.bar_length() == pytest.approx(truth.length, abs=0.5)
    assert bar.vertices[:, 1] == pytest.approx([truth.x0, truth.x1], abs=0.5)  # outer edges
    assert f"{panel.bar_length():.2f} px" in panel.length_label.text()
    if tesseract_available():
        assert "20 um" in panel.label_label.text() or "20 µm" in panel.label_label.text()
        assert (panel.known_length.text(), panel.unit.currentText()) == ("20", "µm")
    else:
        assert panel.known_length.text() == "" and "Type the length" in panel.prompt.text()
        panel.known_length.setText("20")
        panel.unit.setCurrentText("µm")
    panel.set_button.click()
    cal = doc.calibration
    assert (cal.unit, cal.source) == ("µm", "scalebar")
    true_size = 20.0 / truth.length
    assert cal.pixel_width == pytest.approx(true_size, rel=0.5 / truth.length)
    assert cal.pixel_height == cal.pixel_width
    window.undo()
    assert not doc.calibration.is_calibrated
    window.redo()
    assert doc.calibration.pixel_width == cal.pixel_width


def test_dragging_an_end_shows_the_length_live_and_calibrates_with_it(qtbot, window, tmp_path):
    path, truth = micrograph(tmp_path)
    open_image(qtbot, window, path)
    detect(qtbot, window)
    panel = window.panel
    bar = panel.bar_annotation()
    longer = bar.vertices + np.array([[0.0, 0.0], [0.0, 5.25]])
    window.layer.edit_previewed.emit(bar.id, longer)  # what the item sends while dragging
    assert f"{truth.length + 5.25:.2f} px" in panel.length_label.text()
    window.layer.edit_requested.emit(bar.id, longer)  # release
    assert panel.bar_length() == pytest.approx(truth.length + 5.25, abs=0.5)
    panel.known_length.setText("20")
    panel.unit.setCurrentText("µm")
    panel.set_calibration()
    assert window.document.calibration.pixel_width == pytest.approx(20 / panel.bar_length())
    assert window.document.history.texts()[-2:] == ["move", "set calibration"]


def test_metadata_disagreement_is_shown_and_either_can_be_kept(qtbot, window, tmp_path):
    _, truth = micrograph(tmp_path)
    metadata_size = 20.0 / truth.length * 1.10  # 10 % larger than the bar says
    path, _ = micrograph(tmp_path, pixel_size=metadata_size)
    open_image(qtbot, window, path)
    doc, panel = window.document, window.panel
    assert doc.calibration.source == "metadata"
    detect(qtbot, window)
    panel.known_length.setText("20")
    panel.unit.setCurrentText("µm")
    text = panel.check_label.text()
    assert "disagree by 9.1 %" in text
    assert f"{metadata_size:.4g} µm/px" in text and f"{20 / panel.bar_length():.4g} µm/px" in text
    assert not panel.choice.isHidden()
    panel.use_bar_button.click()
    assert doc.calibration.source == "scalebar"
    assert doc.calibration.pixel_width == pytest.approx(20 / truth.length, rel=0.5 / truth.length)
    panel.keep_metadata_button.click()
    assert doc.calibration.source == "metadata"
    assert doc.calibration.pixel_width == pytest.approx(metadata_size)
    window.undo()
    assert doc.calibration.source == "scalebar"


def test_metadata_within_two_percent_agrees(qtbot, window, tmp_path):
    _, truth = micrograph(tmp_path)
    path, _ = micrograph(tmp_path, pixel_size=20.0 / truth.length * 1.01)
    open_image(qtbot, window, path)
    detect(qtbot, window)
    window.panel.known_length.setText("20")
    window.panel.unit.setCurrentText("µm")
    assert "agrees with the metadata" in window.panel.check_label.text()
    assert window.panel.choice.isHidden()


def test_an_image_without_a_bar_says_so(qtbot, window, tmp_path):
    path, truth = micrograph(tmp_path, seed=3, bar=False)
    assert not truth.present
    open_image(qtbot, window, path)
    detect(qtbot, window)
    panel = window.panel
    assert panel.status.text().startswith("No scale bar found")
    assert panel.bar_annotation() is None
    assert panel.length_label.text() == "No bar on the image."
    assert not panel.set_button.isEnabled()


def test_another_candidate_can_be_chosen_and_undone(qtbot, window, tmp_path):
    path, truth = micrograph(tmp_path, seed=0)  # the bar and a short piece of its label
    open_image(qtbot, window, path)
    detect(qtbot, window)
    panel = window.panel
    candidates = panel.found["result"].candidates
    assert panel.candidates.count() == len(candidates) == 2 and not panel.candidates.isHidden()
    label = panel.label_label.text()
    panel.choose_candidate(1)
    assert panel.bar_length() == pytest.approx(candidates[1].length)
    assert window.layer.selected == [panel.bar_annotation().id]
    assert panel.current_candidate() == 1 == panel.candidates.currentIndex()
    window.undo()
    assert panel.bar_length() == pytest.approx(truth.length, abs=0.5)
    assert panel.candidates.currentIndex() == 0 and panel.label_label.text() == label
    panel.choose_candidate(1)  # again, after the undo
    assert panel.bar_length() == pytest.approx(candidates[1].length)
