"""Detections on the canvas: drawn in bulk, picked with a spatial index, edited one at a time."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.commands import AnalysisStep, ApplyDetection


@pytest.fixture
def window(qtbot, main_window, tmp_path):
    win = main_window
    win.resize(900, 700)
    path = tmp_path / "grid.png"
    Image.fromarray(np.zeros((1000, 1000), np.uint8)).save(path)
    win.files.open_image(str(path))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    return win


def squares(n_side: int, size: float = 6.0) -> list[Annotation]:
    """n_side² square outlines on a 10 px grid, plus one landmark point in each."""
    shapes = []
    for r in range(n_side):
        for c in range(n_side):
            top, left = 10 * r + 2, 10 * c + 2
            outline = [
                (top, left),
                (top, left + size),
                (top + size, left + size),
                (top + size, left),
            ]
            shapes.append(Annotation(0, Kind.POLYGON, outline, role=f"blob:{r}:{c}"))
            shapes.append(
                Annotation(0, Kind.POINTS, [(top + size, left + 3)], role=f"deepest:{r}:{c}")
            )
    return shapes


def test_ten_thousand_outlines_draw_as_a_few_items(qtbot, window):
    doc = window.document
    doc.apply(ApplyDetection(AnalysisStep("blobs", {}), squares(100)))
    assert len(doc.annotations) == 20000
    assert window.layer.items == {}
    children = window.canvas.overlay_group.childItems()
    assert len(children) < 10
    assert len(window.table.model.table.rows) == 20000


def test_picking_selects_a_detection_which_becomes_editable(qtbot, window):
    doc = window.document
    doc.apply(ApplyDetection(AnalysisStep("blobs", {}), squares(20)))
    target = next(a for a in doc.annotations.values() if a.role == "blob:3:4")
    # Inside the square of row 3, column 4 (rows 32..38, columns 42..48).
    assert window.layer.pick(35.0, 45.0, tolerance=0.5) == target.id
    window.layer.select([target.id])
    assert target.id in window.layer.items
    assert window.table.selected_ids() == [target.id]
    # Move it through the item's gesture: one command, marked corrected, drawn on its own.
    moved = target.vertices + np.array([5.0, 0.0])
    window.layer.edit_requested.emit(target.id, moved)
    assert doc.annotations[target.id].provenance.origin is Origin.CORRECTED
    window.layer.select([])
    assert target.id in window.layer.items  # corrected: no longer part of the batch
    others = [a for a in doc.annotations.values() if a.provenance.origin is Origin.AUTOMATIC]
    assert all(a.id not in window.layer.items for a in others)


def test_click_on_a_batched_landmark_selects_it(qtbot, window):
    doc = window.document
    doc.apply(ApplyDetection(AnalysisStep("blobs", {}), squares(5)))
    point = next(a for a in doc.annotations.values() if a.role == "deepest:2:2")
    scene = window.canvas.viewbox.mapViewToScene(
        QtCore.QPointF(point.vertices[0][1], point.vertices[0][0])
    )
    window.canvas.viewbox.background_clicked.emit(scene)
    assert window.layer.selected == [point.id]
    window.canvas.viewbox.background_clicked.emit(
        window.canvas.viewbox.mapViewToScene(QtCore.QPointF(900, 900))
    )
    assert window.layer.selected == []


def test_rerun_replaces_the_batch_and_undo_restores_it(qtbot, window):
    doc = window.document
    doc.apply(ApplyDetection(AnalysisStep("blobs", {"min_area": 1}), squares(4)))
    first = set(doc.annotations)
    doc.apply(ApplyDetection(AnalysisStep("blobs", {"min_area": 5}), squares(2)))
    assert len(doc.annotations) == 8 and not first & set(doc.annotations)
    assert len(window.layer._batches["blobs"]._owners) > 0
    doc.undo()
    assert set(doc.annotations) == first
    ids = set(int(i) for i in window.layer._batches["blobs"]._owners)
    assert ids == first
