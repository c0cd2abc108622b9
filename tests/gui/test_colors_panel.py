"""The colour objects panel: picked and automatic classes, outlines, grid cells, corrections."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtWidgets
from scipy import ndimage as ndi

from measurer.analysis.synthetic_detections import disc_scene, grid_scene
from measurer.core.annotations import Kind, Origin
from measurer.core.geometry import polygon_area_centroid
from measurer.gui.panels.colors_overlay import grid_lines
from measurer.gui.panels.colors_panel import ColorsPanel
from measurer.gui.panels.colors_shapes import pixel_outline

#: Red, green, blue, yellow (RGB 0-1), as in tests/analysis/test_colors.py.
COLORS = np.array([[0.85, 0.15, 0.1], [0.15, 0.6, 0.2], [0.15, 0.25, 0.85], [0.9, 0.8, 0.1]])
NAMES = ["red", "green", "blue", "yellow"]
COUNTS = [4, 6, 3, 5]
#: Automatic classes come in order of hue: red, yellow, green, blue.
HUE_NAME = {0: "c0", 3: "c1", 1: "c2", 2: "c3"}


def shoelace(vertices):
    return polygon_area_centroid(vertices, (1.0, 1.0))[0]


def test_pixel_outline_runs_along_pixel_edges_and_encloses_the_pixel_count():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(150):
        mask = ndi.binary_fill_holes(ndi.gaussian_filter(rng.random((24, 24)), 1.5) > 0.52)
        labels, n = ndi.label(mask, np.ones((3, 3)))
        for k in range(1, n + 1):
            outline = pixel_outline(labels == k)
            assert shoelace(outline) == (labels == k).sum()
            assert np.all(np.abs(outline % 1 - 0.5) < 1e-12)  # corners only
            checked += 1
    assert checked > 300
    # An L (inner corner put back) and two pixels touching by a corner (one shared vertex).
    ell = np.zeros((4, 4), bool)
    ell[1, 1] = ell[2, 1] = ell[2, 2] = True
    assert sorted(map(tuple, pixel_outline(ell))) == [
        (0.5, 0.5), (0.5, 1.5), (1.5, 1.5), (1.5, 2.5), (2.5, 0.5), (2.5, 2.5)
    ]  # fmt: skip
    pair = np.zeros((4, 4), bool)
    pair[1, 1] = pair[2, 2] = True
    assert shoelace(pixel_outline(pair)) == 2.0


@pytest.fixture
def window(main_window):
    main_window.panel = main_window.add_analysis_panel(ColorsPanel)
    return main_window


def open_image(qtbot, window, tmp_path, image):
    path = tmp_path / "scene.png"
    Image.fromarray(image).save(path)
    window.files.open_image(str(path))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)


def click(window, row, col):
    """A click on the image where no ordinary item is (what the view box reports)."""
    scene = window.canvas.viewbox.mapViewToScene(QtCore.QPointF(col, row))
    window.canvas.viewbox.background_clicked.emit(scene)


def run(qtbot, window):
    with qtbot.waitSignal(window.panel.finished, timeout=20000) as blocker:
        window.panel.run_button.click()
    return blocker.args[0]


def counts(window, kind):
    rows = window.document.measurements.rows
    return {r["Label"]: r["Number"] for r in rows if r["Kind"] == kind}


def test_classes_picked_on_the_image_count_the_discs_exactly(qtbot, window, tmp_path, monkeypatch):
    scene = disc_scene(COLORS, COUNTS, seed=0)
    open_image(qtbot, window, tmp_path, scene.image)
    names = iter(NAMES)
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText", lambda *a, **k: (next(names), True))
    window.panel.pick_button.setChecked(True)
    for cls in range(len(NAMES)):
        centre = scene.centres[list(scene.classes).index(cls)]
        click(window, *centre)
    assert [p.name for p in window.panel.picked] == NAMES
    red = window.panel.picked[0].value
    assert red[0] > 180 and red[1] < 70 and red[2] < 70  # a disc centre's colour, 0-255
    window.panel.min_area.setValue(50)
    result, _ = run(qtbot, window)
    assert counts(window, "class count") == dict(zip(NAMES, COUNTS, strict=True))
    assert window.panel.counts_label.text().count("■") == len(NAMES)
    # One outline per object, along pixel edges: its area is the object's pixel count.
    doc = window.document
    polygons = [a for a in doc.annotations.values() if a.kind is Kind.POLYGON]
    assert len(polygons) == sum(COUNTS)
    for obj in result.objects:
        index = [o for o in result.objects if o.label == obj.label].index(obj)
        (polygon,) = [a for a in polygons if a.role == f"colors:{obj.label}:{index}"]
        assert polygon.label == obj.label
        assert shoelace(polygon.vertices) == obj.area
        row = next(r for r in doc.measurements.rows if r["ID"] == str(polygon.id))
        assert row["Area (px²)"] == obj.area
    # Each class is outlined in its colour by one item on the canvas.
    assert set(window.panel.bands.items) == set(NAMES)


def test_automatic_classes_and_relabelling_an_object(qtbot, window, tmp_path, monkeypatch):
    scene = disc_scene(COLORS, COUNTS, seed=1)
    open_image(qtbot, window, tmp_path, scene.image)
    window.panel.k.setValue(4)
    window.panel.min_area.setValue(50)
    run(qtbot, window)
    expected = {HUE_NAME[i]: n for i, n in enumerate(COUNTS)}
    assert counts(window, "class count") == expected
    # Click inside a blue disc: the object is selected; Set class… moves it to c0.
    blue = scene.centres[list(scene.classes).index(2)]
    click(window, *blue)
    (selected,) = window.layer.selected
    assert window.document.annotations[selected].label == "c3"
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem", lambda *a, **k: ("c0", True))
    window.panel.set_class_button.click()
    assert counts(window, "class count") == {**expected, "c0": 5, "c3": 2}
    assert window.document.annotations[selected].provenance.origin is Origin.CORRECTED
    window.document.undo()
    assert counts(window, "class count") == expected


def test_grid_cells_counted_corrected_and_undone(qtbot, window, tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    occupancy = rng.integers(-1, 4, (4, 6))
    occupancy.flat[rng.choice(24, 4, replace=False)] = [0, 1, 2, 3]
    scene = grid_scene(COLORS, occupancy, seed=3)
    open_image(qtbot, window, tmp_path, scene.image)
    panel = window.panel
    # Lay the grid over a rectangle drawn around the cells.
    top, left = scene.origin
    height, width = scene.cell_size
    corners = np.array([[top - 0.5, left - 0.5], [top + 4 * height - 0.5, left + 6 * width - 0.5]])
    window.layer.select([window.controller.add_shape(Kind.RECTANGLE, corners)])
    panel.grid_rows.setValue(4)
    panel.grid_cols.setValue(6)
    assert panel.fit_grid_to_selection()
    assert panel.grid_spec() == (top, left, height, width, 4, 6)
    assert panel.grid_overlay.item.isVisible()
    assert len(grid_lines(panel.grid_spec())) == 3 * (5 + 7)
    panel.k.setValue(4)
    window.controller.delete(list(window.layer.selected))
    run(qtbot, window)
    doc = window.document
    expected = {HUE_NAME[i]: int((occupancy == i).sum()) for i in range(4)}
    assert counts(window, "cell count") == {**expected, "empty": int((occupancy < 0).sum())}
    # Every occupied cell is marked by its rectangle, labelled with its class.
    cells = {a.role: a for a in doc.annotations.values() if a.kind is Kind.RECTANGLE}
    for (i, j), cls in np.ndenumerate(occupancy):
        cell = cells.get(f"colors:cell:{i}:{j}")
        assert (cell is None) == (cls < 0)
        if cell is not None:
            assert cell.label == HUE_NAME[cls]
            np.testing.assert_allclose(
                cell.vertices,
                [[top + i * height - 0.5, left + j * width - 0.5],
                 [top + (i + 1) * height - 0.5, left + (j + 1) * width - 0.5]],
            )  # fmt: skip
    # Click a cell, give it another class; delete another: the counts follow, undo restores.
    i, j = np.argwhere(occupancy == 0)[0]
    click(window, top + (i + 0.5) * height, left + (j + 0.5) * width)
    assert window.layer.selected == [cells[f"colors:cell:{i}:{j}"].id]
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem", lambda *a, **k: ("c3", True))
    panel.set_class_button.click()
    changed = {**expected, "c0": expected["c0"] - 1, "c3": expected["c3"] + 1}
    assert counts(window, "cell count") == {**changed, "empty": int((occupancy < 0).sum())}
    i, j = np.argwhere(occupancy == 1)[0]
    window.layer.select([cells[f"colors:cell:{i}:{j}"].id])
    window.actions_by_name["edit.delete"].trigger()
    assert counts(window, "cell count")["empty"] == int((occupancy < 0).sum()) + 1
    assert counts(window, "cell count")["c2"] == expected["c2"] - 1  # class 1 is green, c2
    assert "empty: " + str(int((occupancy < 0).sum()) + 1) in panel.counts_label.text()
    doc.undo()
    doc.undo()
    assert counts(window, "cell count") == {**expected, "empty": int((occupancy < 0).sum())}


def test_missing_classes_and_a_grid_outside_the_image_are_refused(qtbot, window, tmp_path):
    scene = disc_scene(COLORS, [1, 1, 1, 1], seed=2)
    open_image(qtbot, window, tmp_path, scene.image)
    window.panel.from_picks.setChecked(True)
    assert not window.panel.run()
    assert "Pick a colour" in window.shown[-1][2]
    window.panel.automatic.setChecked(True)
    window.panel.grid_box.setChecked(True)
    window.panel.cell_width.setValue(500)
    with qtbot.waitSignal(window.panel.failed, timeout=10000):
        window.panel.run()
    assert "does not fit" in window.shown[-1][2]
    assert not window.panel.set_class_of_selection()
