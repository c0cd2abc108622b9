"""Grid cells matched against reference images: best reference, scores, counts, corrections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtWidgets

from measurer.analysis.colors import Grid, match_grid
from measurer.analysis.synthetic_detections import texture
from measurer.core.annotations import Kind, Origin
from measurer.gui.panels.colors_panel import ColorsPanel
from measurer.io.session import load_session, save_session

CELL = 36
ORIGIN = (10, 12)  # first pixel (row, col) of cell (0, 0)
#: Quarter turns of the right-pointing arrow, as np.rot90 counts them.
DIRECTIONS = ["east", "north", "west", "south"]
#: Arrows facing each direction in known cells; -1 leaves a cell empty (textured background).
FACING = np.array([[0, 1, 2, 3], [2, 3, -1, 0], [-1, 1, 1, 3]])
MIN_SCORE = 0.7
CORRECTED = Origin.CORRECTED.value


def arrow() -> np.ndarray:
    """A 21×21 arrow pointing right (column increasing): a triangle and a tail."""
    shape = np.zeros((21, 21))
    for row in range(21):
        half = (20 - row if row > 10 else row) // 2
        shape[row, 10 : 10 + half + 1] = 1.0
    shape[9:12, 2:10] = 1.0
    return shape


ARROW = arrow()
TINT = np.array([1.0, 0.85, 0.5])


def arrow_scene(facing: np.ndarray, seed: int = 0) -> tuple[np.ndarray, dict]:
    """An RGB uint8 grid, each cell on its own textured, tinted background; arrows' corners."""
    rng = np.random.default_rng(seed)
    rows, cols = facing.shape
    image = np.full((ORIGIN[0] + rows * CELL + 8, ORIGIN[1] + cols * CELL + 9, 3), 0.5)
    corners = {}
    for (i, j), turns in np.ndenumerate(facing):
        level = 0.15 + 0.45 * rng.random()
        grey = level + 0.08 * texture((CELL, CELL), seed=seed * 100 + i * 10 + j)
        cell = grey[..., None] * (0.8 + 0.2 * rng.random(3))
        if turns >= 0:
            top, left = rng.integers(3, CELL - 21 - 3, 2)
            cell[top : top + 21, left : left + 21] += 0.4 * np.rot90(ARROW, turns)[..., None] * TINT
            corners[i, j] = (ORIGIN[0] + i * CELL + top, ORIGIN[1] + j * CELL + left)
        r0, c0 = ORIGIN[0] + i * CELL, ORIGIN[1] + j * CELL
        image[r0 : r0 + CELL, c0 : c0 + CELL] = cell
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8), corners


def reference_rgba(turns: int, size: int = 25) -> np.ndarray:
    """The arrow on a dark square, in a 2 px ring of random colours that is transparent."""
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., :3] = np.random.default_rng(turns).integers(0, 256, (size, size, 3))
    inner = np.rot90(ARROW, turns)[..., None] * TINT
    rgba[2:23, 2:23, :3] = (40 + 200 * inner).astype(np.uint8)
    rgba[2:23, 2:23, 3] = 255
    return rgba


@pytest.fixture
def window(main_window):
    main_window.panel = main_window.add_analysis_panel(ColorsPanel)
    return main_window


def open_scene(qtbot, window, tmp_path, image):
    path = tmp_path / "arrows.png"
    Image.fromarray(image).save(path)
    window.files.open_image(str(path))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)
    panel = window.panel
    panel.grid_box.setChecked(True)
    panel.origin_y.setValue(ORIGIN[0])
    panel.origin_x.setValue(ORIGIN[1])
    panel.cell_height.setValue(CELL)
    panel.cell_width.setValue(CELL)
    panel.grid_rows.setValue(FACING.shape[0])
    panel.grid_cols.setValue(FACING.shape[1])
    panel.references.min_score.setValue(MIN_SCORE)


def write_references(folder: Path, size: int = 25) -> list[str]:
    folder.mkdir(exist_ok=True)
    paths = []
    for turns, name in enumerate(DIRECTIONS):
        Image.fromarray(reference_rgba(turns, size)).save(folder / f"{name}.png")
        paths.append(str(folder / f"{name}.png"))
    return paths


def match(qtbot, window):
    with qtbot.waitSignal(window.panel.finished, timeout=20000) as blocker:
        window.panel.references.run_button.click()
    return blocker.args[0]


def rows_of(window, kind):
    return [r for r in window.document.measurements.rows if r["Kind"] == kind]


def counts(window):
    return {r["Label"]: r["Number"] for r in rows_of(window, "cell count")}


def cell_rows(window):
    return {(r["Cell row"], r["Cell column"]): r for r in rows_of(window, "cell")}


def cell_ids(window):
    doc = window.document
    return {a.role: a.id for a in doc.annotations.values() if a.role.startswith("colors:cell:")}


def test_cells_take_their_best_reference_with_scores_until_corrected(
    qtbot, window, tmp_path, monkeypatch
):
    image, _ = arrow_scene(FACING)
    open_scene(qtbot, window, tmp_path, image)
    box = window.panel.references
    assert box.add_files(write_references(tmp_path / "references"))
    # Names come from the file names and are edited in the list; the alpha channel is kept.
    assert [box.list.item(i).text() for i in range(4)] == DIRECTIONS
    assert all(r.pixels.shape == (25, 25, 4) for r in box.named().values())
    box.list.item(0).setText("right")
    names = ["right", *DIRECTIONS[1:]]
    result, _ = match(qtbot, window)

    expected = {n: int(np.equal(FACING, t).sum()) for t, n in enumerate(names)}
    empty = int((FACING < 0).sum())
    assert counts(window) == {**expected, "empty": empty}
    doc = window.document
    step = next(s for s in doc.steps if s.analysis == "colors")
    rows = cell_rows(window)
    assert sorted(rows) == [tuple(int(v) for v in ij) for ij in np.argwhere(FACING >= 0)]
    for (i, j), turns in np.ndenumerate(FACING):
        analysed = result.cells[i * FACING.shape[1] + j]
        if turns < 0:  # a textured empty cell: no mark, its best score below the minimum
            assert analysed.label is None and analysed.score < MIN_SCORE
            assert f"colors:cell:{i}:{j}" not in cell_ids(window)
            continue
        row = rows[i, j]
        assert row["Label"] == names[turns] and row["Origin"] == "automatic"
        # The transparent ring of random colours is masked out: without the mask these
        # references score about 0.6 on their own arrows.
        assert row["Score"] == pytest.approx(analysed.score, abs=5e-5) and row["Score"] > 0.95
        assert step.parameters["scores"][f"colors:cell:{i}:{j}"] == [names[turns], row["Score"]]
    assert "Score" in doc.measurements.headers
    assert "right: 2" in window.panel.counts_label.text()
    assert "cells matching a reference" in window.panel.status.text()

    # Re-class a cell with Set class…: the counts move, its score goes, it is corrected.
    ids = cell_ids(window)
    window.layer.select([ids["colors:cell:0:1"]])
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem", lambda *a, **k: ("south", True))
    window.panel.set_class_button.click()
    assert counts(window) == {**expected, "north": 2, "south": 4, "empty": empty}
    reclassed = cell_rows(window)[0, 1]
    assert "Score" not in reclassed and reclassed["Origin"] == CORRECTED
    assert reclassed["Label"] == "south"
    origins = {r["Label"]: r["Origin"] for r in rows_of(window, "cell count")}
    assert origins["south"] == CORRECTED and origins["west"] == "automatic"
    # Moving a cell also drops its score; relabelling (F2, still "automatic") drops it too.
    moved = doc.annotations[ids["colors:cell:1:0"]].vertices + 1.0
    window.layer.edit_requested.emit(ids["colors:cell:1:0"], moved)
    window.controller.relabel(ids["colors:cell:2:3"], "west")
    rows = cell_rows(window)
    assert "Score" not in rows[1, 0] and rows[1, 0]["Origin"] == CORRECTED
    assert "Score" not in rows[2, 3] and rows[2, 3]["Origin"] == CORRECTED
    assert counts(window) == {**expected, "north": 2, "south": 3, "west": 3, "empty": empty}
    assert sum("Score" in r for r in rows.values()) == int((FACING >= 0).sum()) - 3

    # Undo restores every score and count.
    for _ in range(3):
        doc.undo()
    assert counts(window) == {**expected, "empty": empty}
    rows = cell_rows(window)
    assert all(r["Origin"] == "automatic" and r["Score"] > 0.95 for r in rows.values())

    # The scores live in the step's parameters, so a session brings them back.
    session = save_session(doc, tmp_path / "arrows.session.json")
    window.controller.relabel(ids["colors:cell:0:0"], "north")
    load_session(session, doc)
    assert cell_rows(window)[0, 0]["Score"] == rows[0, 0]["Score"]
    assert counts(window) == {**expected, "empty": empty}


def test_without_the_alpha_mask_the_references_score_far_lower():
    image, _ = arrow_scene(FACING)
    grid = Grid(ORIGIN, (CELL, CELL), FACING.shape)
    opaque = {n: reference_rgba(t)[..., :3] for t, n in enumerate(DIRECTIONS)}
    scores = [c.score for c in match_grid(image, grid, opaque).cells]
    assert max(scores) < 0.8


def test_references_cropped_from_selected_rectangles(qtbot, window, tmp_path):
    image, corners = arrow_scene(FACING, seed=1)
    open_scene(qtbot, window, tmp_path, image)
    ids = []
    for turns, name in enumerate(DIRECTIONS):  # one rectangle around an arrow of each direction
        i, j = np.argwhere(np.equal(FACING, turns))[-1]
        top, left = corners[i, j]
        edges = np.array([[top - 0.5, left - 0.5], [top + 20.5, left + 20.5]])
        ids.append(window.controller.add_shape(Kind.RECTANGLE, edges))
        if name != "south":
            window.controller.relabel(ids[-1], name)
    window.layer.select(ids)
    box = window.panel.references
    assert box.add_selected_rectangles()
    names = ["east", "north", "west", "reference"]  # an unlabelled rectangle gets a name
    assert [box.list.item(i).text() for i in range(4)] == names
    assert all(r.pixels.shape == (21, 21, 3) for r in box.named().values())
    result, _ = match(qtbot, window)
    expected = [None if t < 0 else names[t] for t in FACING.ravel()]
    assert [c.label for c in result.cells] == expected
    assert counts(window) == {
        **{n: int(np.equal(FACING, t).sum()) for t, n in enumerate(names)},
        "empty": int((FACING < 0).sum()),
    }
    rows = cell_rows(window)
    for turns in range(4):  # the cells the references were cut from match them exactly
        i, j = np.argwhere(np.equal(FACING, turns))[-1]
        assert rows[i, j]["Score"] > 0.999
    assert min(r["Score"] for r in rows.values()) >= MIN_SCORE
    # The rectangles stay the user's own annotations.
    assert all(window.document.annotations[i].provenance.analysis is None for i in ids)


def test_unusable_references_are_refused(qtbot, window, tmp_path):
    image, _ = arrow_scene(FACING)
    open_scene(qtbot, window, tmp_path, image)
    box = window.panel.references
    assert not box.run()
    assert "Add reference images" in window.shown[-1][2]
    assert not box.add_selected_rectangles()
    assert "select them" in window.shown[-1][2]
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    assert not box.add_files([str(bad)])
    assert "broken.png" in window.shown[-1][2] and box.list.count() == 0
    # The same file name twice gets a distinct name; names edited to clash are refused.
    box.add_files(write_references(tmp_path / "a")[:1] + write_references(tmp_path / "b")[:1])
    assert [box.list.item(i).text() for i in range(2)] == ["east", "east 2"]
    box.list.item(1).setText("east")
    assert not box.run()
    assert "Two references are named 'east'" in window.shown[-1][2]
    box.list.item(1).setText("empty")
    assert not box.run()
    assert "stands for empty cells" in window.shown[-1][2]
    box.list.setCurrentRow(1)
    box.remove_current()
    assert box.list.count() == 1
    # A reference larger than a cell: the worker's readable error.
    box.add_files(write_references(tmp_path / "big", size=40)[1:2])
    with qtbot.waitSignal(window.panel.failed, timeout=10000):
        box.run()
    assert "larger than" in window.shown[-1][2]
    assert window.document.steps == []
    # Outside grid mode the references are disabled with the rest of the grid's options.
    window.panel.grid_box.setChecked(False)
    assert not box.isEnabled()
    assert not box.run()
    assert "lay the grid" in window.shown[-1][2]
    assert QtCore.Qt.ItemFlag.ItemIsEditable & box.list.item(0).flags()
