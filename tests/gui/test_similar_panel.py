"""The Similar images panel: index a folder, search with the image or a rectangle, filter, open."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from skimage import data

from measurer.core.annotations import Annotation, Kind
from measurer.core.commands import AddAnnotations
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.similar_panel import SETTINGS_KEY, SimilarPanel
from measurer.gui.panels.similar_tasks import crop_bounds, make_thumbnail

LEFT = QtCore.Qt.MouseButton.LeftButton
UNRELATED = ("camera.png", "coffee.png", "coins.png")
RECTANGLE = [(249.5, 249.5), (449.5, 449.5)]  # pixels 250..449 of the astronaut


def write(path: Path, image: np.ndarray, quality: int = 95) -> None:
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    options = [cv2.IMWRITE_JPEG_QUALITY, quality] if path.suffix == ".jpg" else []
    assert cv2.imwrite(str(path), bgr, options)


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """The astronaut, a brighter re-compressed copy, its lower right 60 %, three unrelated
    images and a broken JPEG; the index cache inside tmp_path."""
    monkeypatch.setenv("MEASURER_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "images"
    root.mkdir()
    astronaut = data.astronaut()
    write(root / "astronaut.png", astronaut)
    write(root / "astronaut_bright.jpg", np.clip(astronaut * 1.2, 0, 255).astype(np.uint8), 80)
    write(root / "astronaut_part.png", astronaut[204:, 204:])
    write(root / "camera.png", data.camera())
    write(root / "coffee.png", data.coffee())
    write(root / "coins.png", data.coins())
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    return root


@pytest.fixture
def window(qtbot, settings, folder):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.panel = win.add_analysis_panel(SimilarPanel)
    win.show()
    dock = win.panel.parent()  # tabbed behind the profile: float it to click its buttons
    dock.setFloating(True)
    dock.resize(430, 720)
    dock.show()
    qtbot.waitExposed(win.panel)
    win.files.open_image(str(folder / "astronaut.png"))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    return win


def run_index(qtbot, panel):
    with qtbot.waitSignal(panel.indexed, timeout=20000) as blocker:
        qtbot.mouseClick(panel.index_button, LEFT)
    return blocker.args[0]


def run_search(qtbot, panel):
    with qtbot.waitSignal(panel.searched, timeout=20000) as blocker:
        qtbot.mouseClick(panel.find_button, LEFT)
    return blocker.args[0]


def shown_names(panel) -> list[str]:
    """Names of the items the grid shows (not hidden), in grid order."""
    grid = panel.results.list
    items = [grid.item(i) for i in range(grid.count())]
    return [item.text().split("\n")[1] for item in items if not item.isHidden()]


def test_index_lists_the_unreadable_file_and_remembers_the_folder(
    qtbot, window, folder, settings, monkeypatch
):
    panel = window.panel
    monkeypatch.setattr(
        QtWidgets.QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(folder)
    )
    qtbot.mouseClick(panel.choose_button, LEFT)
    assert panel.folder == folder and settings.value(SETTINGS_KEY) == str(folder)
    outcome = run_index(qtbot, panel)
    assert outcome.indexed == 6 and not outcome.update.cancelled
    assert panel.index_status.text() == "6 images indexed, 1 unreadable"
    assert [path for path, _ in panel.unreadable] == ["broken.jpg"]
    assert panel.unreadable_button.isEnabled()
    dialog = panel.show_unreadable()
    listed = dialog.text.toPlainText()
    assert listed.startswith("broken.jpg: ") and "truncated" in listed
    dialog.close()
    again = run_index(qtbot, panel)  # incremental: nothing to read
    assert again.update.added == again.update.changed == 0 and again.indexed == 6
    assert "0 files read" in panel.status.text()

    other = MainWindow(settings)
    qtbot.addWidget(other)
    assert other.add_analysis_panel(SimilarPanel).folder == folder


def test_find_similar_filters_live_and_opens_a_result(qtbot, window, folder):
    panel = window.panel
    panel.set_folder(folder)
    assert panel.query_label.text().startswith("Query: the whole image")
    results = run_search(qtbot, panel)
    scores = {r.path.name: r.score for r in results}
    # The query file itself is left out; its edited copy ranks first; unrelated images stay low.
    assert set(scores) == {"astronaut_bright.jpg", "astronaut_part.png", *UNRELATED}
    assert results[0].path == folder / "astronaut_bright.jpg" and results[0].score >= 95
    assert 70 <= scores["astronaut_part.png"] < 95  # found by local features: 92 % measured
    assert max(scores[name] for name in UNRELATED) < 40
    assert panel.index_status.text() == "6 images indexed, 1 unreadable"

    assert panel.results.threshold.value() == 70
    assert shown_names(panel) == ["astronaut_bright.jpg", "astronaut_part.png"]
    with qtbot.assertNotEmitted(panel.searched):  # the slider filters; it does not search
        panel.results.threshold.setValue(95)
        assert shown_names(panel) == ["astronaut_bright.jpg"]
        assert panel.results.summary.text().startswith("1 of the 5 closest images")
        panel.results.threshold.setValue(0)
        assert len(shown_names(panel)) == 5
        panel.results.threshold.setValue(100)
        assert shown_names(panel) == [] and "lower the threshold" in panel.results.summary.text()
        panel.results.threshold.setValue(70)

    grid = panel.results.list
    centre = grid.visualItemRect(grid.item(0)).center()
    qtbot.mouseClick(grid.viewport(), LEFT, pos=centre)  # QTest's double-click sends no press
    qtbot.mouseDClick(grid.viewport(), LEFT, pos=centre)
    qtbot.waitUntil(lambda: window.document.path == folder / "astronaut_bright.jpg", timeout=10000)


def test_a_selected_rectangle_searches_with_its_part_and_outlines_it(qtbot, window, folder):
    panel = window.panel
    panel.set_folder(folder)
    document = window.document
    rectangle = Annotation(document.new_id(), Kind.RECTANGLE, RECTANGLE)
    window.controller.apply(AddAnnotations([rectangle]))
    window.layer.select([rectangle.id])
    assert panel.query_label.text() == "Query: the selected rectangle of the image."
    results = run_search(qtbot, panel)
    assert "the selected rectangle (200 × 200 px)" in panel.status.text()
    found = {r.path.name: r for r in results if r.score >= 70}
    # The rectangle's pixels are an array, not the file: the astronaut itself is found too.
    assert set(found) >= {"astronaut.png", "astronaut_part.png"}
    assert not set(found) & set(UNRELATED)
    region = found["astronaut.png"].region  # where the rectangle lies in the astronaut
    assert np.allclose(region.min(axis=0), 249.5, atol=4)
    assert np.allclose(region.max(axis=0), 449.5, atol=4)
    in_part = found["astronaut_part.png"].region  # the part starts at pixel 204
    assert np.allclose(in_part.min(axis=0), 249.5 - 204, atol=4)
    assert document.annotations.keys() == {rectangle.id}  # the search changed nothing

    window.layer.select([])
    assert panel.query_label.text().startswith("Query: the whole image")


def test_the_thumbnail_outlines_a_matched_region_but_not_the_whole_image(folder):
    plain = make_thumbnail(folder / "astronaut.png")
    assert plain.shape == (112, 112, 3) and plain.dtype == np.uint8
    corners = np.array([[249.5, 249.5], [249.5, 449.5], [449.5, 449.5], [449.5, 249.5]])
    changed = np.any(make_thumbnail(folder / "astronaut.png", corners) != plain, axis=2)
    rows, cols = np.nonzero(changed)
    first, last = 250 * 112 / 512 - 0.5, 450 * 112 / 512 - 0.5  # pixel edges in the thumbnail
    for found in (rows, cols):  # the outline is about 4 px wide (2 px, smoothed) around the edges
        assert first - 3.5 <= found.min() <= first and last <= found.max() <= last + 3.5
    assert not changed[60:90, 60:90].any() and not changed[:50].any()  # inside and outside
    whole = np.array([[-0.5, -0.5], [-0.5, 511.5], [511.5, 511.5], [511.5, -0.5]])
    assert np.array_equal(make_thumbnail(folder / "astronaut.png", whole + 3), plain)
    assert make_thumbnail(folder / "broken.jpg") is None


def test_the_method_combo_chooses_the_score(qtbot, window, folder):
    panel = window.panel
    panel.set_folder(folder)
    panel.method.setCurrentIndex(panel.method.findData("hash"))
    results = run_search(qtbot, panel)
    assert all(set(r.scores) == {"hash"} for r in results)
    assert results[0].path.name == "astronaut_bright.jpg" and "(hash)" in panel.status.text()


def test_cancel_during_indexing_keeps_the_window_usable(
    qtbot, window, folder, monkeypatch, request
):
    import measurer.io.similarity_index as similarity_index

    pool = QtCore.QThreadPool.globalInstance()  # indexing holds one thread, opening needs another
    previous = pool.maxThreadCount()
    request.addfinalizer(lambda: pool.setMaxThreadCount(previous))
    pool.setMaxThreadCount(max(previous, 2))

    real, calls = similarity_index.read_reduced, []
    reached, release = threading.Event(), threading.Event()

    def gated(path, **kwargs):  # the third file waits until the test has pressed Cancel
        calls.append(path)
        if len(calls) == 3:
            reached.set()
            release.wait(10)
        return real(path, **kwargs)

    monkeypatch.setattr(similarity_index, "read_reduced", gated)
    panel = window.panel
    panel.set_folder(folder)
    qtbot.mouseClick(panel.index_button, LEFT)
    qtbot.waitUntil(reached.is_set, timeout=10000)
    qtbot.waitUntil(lambda: panel.progress.value() == round(1000 * 2 / 7), timeout=5000)
    assert panel.is_busy() and panel.cancel_button.isEnabled()
    assert not panel.index_button.isEnabled() and not panel.find_button.isEnabled()
    assert QtWidgets.QApplication.activeModalWidget() is None
    window.files.open_image(str(folder / "coins.png"))  # the window keeps working meanwhile
    qtbot.waitUntil(lambda: window.document.path == folder / "coins.png", timeout=10000)

    with qtbot.waitSignal(panel.indexed, timeout=10000) as blocker:
        qtbot.mouseClick(panel.cancel_button, LEFT)
        release.set()
    outcome = blocker.args[0]
    assert outcome.update.cancelled and outcome.indexed == 3  # the file being read is kept
    assert panel.index_status.text().startswith("Indexing cancelled: 3 images indexed")
    assert not panel.is_busy() and panel.index_button.isEnabled()

    outcome = run_index(qtbot, panel)  # indexing again finishes the job
    assert not outcome.update.cancelled and outcome.update.added == 4 and outcome.indexed == 6


def test_errors_are_reported_and_the_panel_recovers(
    qtbot, window, tmp_path, no_blocking_message_boxes
):
    panel = window.panel
    panel.set_folder(tmp_path / "gone")
    with qtbot.waitSignal(panel.failed, timeout=10000) as blocker:
        qtbot.mouseClick(panel.index_button, LEFT)
    assert "is not a folder" in blocker.args[0] and "is not a folder" in panel.status.text()
    assert no_blocking_message_boxes[-1][0] == "critical"
    assert not panel.is_busy() and panel.index_button.isEnabled() and panel.find_button.isEnabled()

    document = window.document
    tiny = Annotation(document.new_id(), Kind.RECTANGLE, [(9.5, 9.5), (19.5, 49.5)])
    window.controller.apply(AddAnnotations([tiny]))
    window.layer.select([tiny.id])
    with qtbot.waitSignal(panel.failed, timeout=1000) as blocker:
        assert not panel.find_similar()
    assert "covers 40 × 10 pixels" in blocker.args[0]


def test_crop_bounds_take_the_pixels_whose_centres_lie_inside():
    rows, cols = crop_bounds(np.array([[7.5, 2.5], [2.5, 9.5]]), (20, 30))
    assert (rows.start, rows.stop, cols.start, cols.stop) == (3, 8, 3, 10)
    rows, cols = crop_bounds(np.array([[-4.0, 2.7], [12.2, 40.0]]), (10, 30))
    assert (rows.start, rows.stop, cols.start, cols.stop) == (0, 10, 3, 30)
