"""The masks panel: blobs, landmarks, gaps and the retina presets through the GUI, edited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from PySide6 import QtCore, QtWidgets

from measurer.analysis.blobs import blob_stats
from measurer.analysis.gaps import closest_pair, deepest_to_margin_line, horizontal_gap
from measurer.analysis.retina import measure_retina
from measurer.analysis.synthetic_masks import disc_mask, rectangles_mask, two_blobs_mask
from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import Calibration
from measurer.core.geometry import polygon_area_centroid
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.masks_overlay import _screen_box
from measurer.gui.panels.masks_panel import MasksPanel

SAMPLES = Path(__file__).resolve().parents[2] / "measurer" / "resources" / "samples"
BLOBS_GIF = Path("/work/shared/data/real/imagej_samples/blobs.gif")


@pytest.fixture
def window(qtbot, settings, no_blocking_message_boxes):
    win = MainWindow(settings)
    win.shown = no_blocking_message_boxes
    qtbot.addWidget(win)
    win.panel = win.add_analysis_panel(MasksPanel)
    return win


def open_image(qtbot, window, path):
    previous = window.document
    window.files.open_image(str(path))
    qtbot.waitUntil(lambda: window.document is not previous, timeout=10000)


def write(tmp_path, name, mask):
    path = tmp_path / name
    Image.fromarray((np.asarray(mask) * 255).astype(np.uint8)).save(path)
    return path


def run(qtbot, window):
    with qtbot.waitSignal(window.panel.finished, timeout=15000):
        window.panel.run_button.click()


def rows(window, label=None, kind=None):
    return [
        r
        for r in window.document.measurements.rows
        if (label is None or r["Label"] == label) and (kind is None or r["Kind"] == kind)
    ]


def row(window, label):
    (found,) = rows(window, label)
    return found


def landmark(window, role):
    return next(a for a in window.document.annotations.values() if a.role == role)


def choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def odd_blobs():
    """Blobs whose outlines are not rectangles: a disc, an L, a staircase, two pixels that
    touch by a corner (one 8-connected blob), and a single pixel."""
    mask = disc_mask((48, 64), (12, 12), 7.5) | rectangles_mask(
        (48, 64), [(4, 30, 12, 3), (13, 30, 3, 10), (30, 5, 1, 1)]
    )
    for k in range(6):
        mask[28 + k, 20 + k : 24 + k] = True
    mask[40, 50] = mask[41, 51] = True
    return mask


def test_two_blobs_gap_rows_drag_delete_add_and_undo(qtbot, window, tmp_path, monkeypatch):
    mask = two_blobs_mask((40, 60), top=10, rows=12, left_end=20, gap=7, width=10)
    open_image(qtbot, window, write(tmp_path, "two.png", mask))
    window.controller.set_calibration(Calibration(2.0, 0.5, "µm"))  # x 2 µm, y 0.5 µm
    run(qtbot, window)
    left, right = mask.copy(), mask.copy()
    left[:, 21:] = False
    right[:, :21] = False
    pair = closest_pair(left, right, row_scale=0.5, col_scale=2.0)
    shortest = row(window, "shortest gap (two largest blobs)")
    assert shortest["Length (µm)"] == pytest.approx(pair.distance) == pytest.approx(14.0)
    assert shortest["Length (px)"] == pytest.approx(7.0)
    assert shortest["Origin"] == Origin.AUTOMATIC.value
    horizontal = row(window, "horizontal gap (two largest blobs)")
    assert horizontal["Length (px)"] == pytest.approx(horizontal_gap(left, right).minimum) == 7.0
    # Blob rows (the outlines), the deepest points, and the panel's values.
    assert [r["Area (px²)"] for r in rows(window, kind="polygon")] == [120.0, 120.0]
    assert len(rows(window, kind="points")) == 2 + 4  # deepest of each, gap landmarks
    assert "shortest gap (two largest blobs): 14 µm" in window.panel.values_label.text()

    # Drag the closest point of blob 2 three columns further: 3 px, 6 µm more.
    moved = landmark(window, "masks:closest_b")
    window.layer.select([moved.id])
    assert moved.id in window.layer.items  # selected: out of the batch, editable
    window.layer.edit_requested.emit(moved.id, moved.vertices + np.array([0.0, 3.0]))
    after = row(window, "shortest gap (two largest blobs)")
    assert after["Length (px)"] == pytest.approx(10.0)
    assert after["Length (µm)"] == pytest.approx(20.0)
    assert after["Origin"] == Origin.CORRECTED.value
    assert row(window, "horizontal gap (two largest blobs)")["Origin"] == "automatic"
    assert "20 µm" in window.panel.values_label.text()

    # Delete the other end: its distance row goes, undo brings it back.
    gone = landmark(window, "masks:closest_a")
    window.layer.select([gone.id])
    window.delete_selection()
    assert rows(window, "shortest gap (two largest blobs)") == []
    window.undo()
    assert row(window, "shortest gap (two largest blobs)")["Length (px)"] == pytest.approx(10.0)
    window.undo()
    assert row(window, "shortest gap (two largest blobs)")["Length (px)"] == pytest.approx(7.0)

    # Delete it again and put it back by hand: Add landmark…, choose it, click on the image.
    window.layer.select([gone.id])
    window.delete_selection()
    assert "masks:closest_a" in window.panel.adder.missing()
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem", lambda *a, **k: ("closest a", True))
    window.panel.adder.button.click()
    assert window.panel.adder.pending_role == "masks:closest_a"
    scene = window.canvas.viewbox.mapViewToScene(QtCore.QPointF(20.5, 10.0))  # (x, y)
    window.canvas.viewbox.background_clicked.emit(scene)
    added = landmark(window, "masks:closest_a")
    assert added.provenance.origin is Origin.CORRECTED and added.provenance.analysis == "masks"
    assert added.vertices[0] == pytest.approx([10.0, 20.5])
    restored = row(window, "shortest gap (two largest blobs)")
    assert restored["Length (px)"] == pytest.approx(7.0)
    assert restored["Origin"] == Origin.CORRECTED.value
    assert not window.panel.adder.button.isChecked()
    window.undo()  # adding is one undo step
    assert rows(window, "shortest gap (two largest blobs)") == []


def test_outline_rows_are_the_blob_statistics(qtbot, window, tmp_path):
    mask = odd_blobs()
    open_image(qtbot, window, write(tmp_path, "odd.png", mask))
    for name in ("leftmost", "rightmost", "topmost"):
        window.panel.extremes[name].setChecked(True)
    run(qtbot, window)
    blobs = blob_stats(mask)
    outlines = [a for a in window.document.annotations.values() if a.kind is Kind.POLYGON]
    assert [a.role for a in outlines] == [f"masks:blob:{i}" for i in range(1, len(blobs) + 1)]
    for i, outline in enumerate(outlines):
        area, centre = polygon_area_centroid(outline.vertices, (1.0, 1.0))
        assert area == blobs.area[i]
        assert centre == pytest.approx(blobs.centroid[i])
        r = rows(window, f"blob {i + 1}")[0]
        top, left, height, width = blobs.bbox[i]
        assert (r["Area (px²)"], r["BX (px)"], r["BY (px)"]) == (blobs.area[i], left, top)
        assert (r["Width (px)"], r["Height (px)"]) == (width, height)
        assert (r["X (px)"], r["Y (px)"]) == pytest.approx(blobs.centroid[i][::-1])
        for name, points in (("deepest", blobs.bottommost), ("leftmost", blobs.leftmost)):
            (point,) = rows(window, f"{name} {i + 1}")
            assert (point["Y (px)"], point["X (px)"]) == tuple(points[i])
    assert len(rows(window, kind="points")) == 4 * len(blobs) + 4  # and the gap's landmarks
    assert len(window.panel.overlay.names) == 4 * len(blobs) + 4  # each landmark named


def check_blob_rows(window, mask, connectivity=8):
    """Each blob's outline row has blob_stats' area (holes excluded), centroid and box, and
    its polygon covers exactly the blob's pixels."""
    from skimage.draw import polygon

    from measurer.analysis.blobs import label_blobs

    blobs = blob_stats(mask, connectivity=connectivity)
    labels = label_blobs(mask, connectivity=connectivity)
    outlines = [a for a in window.document.annotations.values() if a.kind is Kind.POLYGON]
    assert len(outlines) == len(blobs)
    for i, outline in enumerate(outlines):
        r = row(window, f"blob {i + 1}")
        top, left, height, width = blobs.bbox[i]
        assert r["Area (px²)"] == blobs.area[i]  # exactly
        assert (r["X (px)"], r["Y (px)"]) == pytest.approx(blobs.centroid[i][::-1], abs=1e-9)
        assert (r["BX (px)"], r["BY (px)"], r["Width (px)"], r["Height (px)"]) == (
            left, top, width, height,
        )  # fmt: skip
        rows_in, cols_in = polygon(outline.vertices[:, 0], outline.vertices[:, 1], mask.shape)
        inside = np.zeros(mask.shape, bool)
        inside[rows_in, cols_in] = True
        np.testing.assert_array_equal(inside, labels == i + 1)
    return blobs


@pytest.mark.skipif(not (SAMPLES / "retina_hole_mask.png").exists(), reason="no bundled sample")
def test_retina_sample_blob_rows_leave_out_the_cyst(qtbot, window):
    open_image(qtbot, window, SAMPLES / "retina_hole_mask.png")
    run(qtbot, window)
    mask = window.document.image > 0
    blobs = check_blob_rows(window, mask)
    assert blobs.area.tolist() == [119242, 118939]  # the sample's README
    # The left region's outer outline encloses its cyst (549 px); its row does not.
    left = blob_stats(mask, outlines=True).outline(0)
    assert polygon_area_centroid(left, (1.0, 1.0))[0] == 119242 + 549
    assert row(window, "blob 1")["Area (px²)"] == 119242


def test_blobs_with_holes_and_blobs_in_holes(qtbot, window, tmp_path):
    mask = rectangles_mask((40, 60), [(2, 2, 30, 30), (5, 40, 12, 12)])
    mask[6:26, 6:26] = False  # a hole of 400 px with a ring inside it, and a dot in the ring
    mask[10:22, 10:22] = True
    mask[13:19, 13:19] = False
    mask[15, 15] = True
    mask[9:12, 44:47] = False  # a hole touching the next one at a corner
    mask[12, 47] = False
    mask[35, 0:60:2] = True  # a row of pixels
    mask[36, 1:60:2] = True  # touching it at corners: one 8-connected blob, 60 4-connected
    open_image(qtbot, window, write(tmp_path, "holes.png", mask))
    run(qtbot, window)
    blobs = check_blob_rows(window, mask)
    assert blobs.area.tolist()[:4] == [30 * 30 - 400, 144 - 10, 144 - 36, 1]
    choose(window.panel.connectivity, 4)
    run(qtbot, window)
    blobs = check_blob_rows(window, mask, connectivity=4)
    assert len(blobs) == 4 + 60


def test_non_binary_image_says_why_and_the_app_stays_up(qtbot, window, tmp_path):
    grey = np.tile(np.arange(64, dtype=np.uint8) * 4, (40, 1))
    open_image(qtbot, window, write(tmp_path, "grey.png", grey / 255))
    with qtbot.waitSignal(window.panel.failed, timeout=10000) as failed:
        window.panel.run_button.click()
    assert "not a binary mask" in failed.args[0] and "threshold" in failed.args[0]
    assert "not a binary mask" in window.panel.status.text()
    assert window.shown[-1][0] == "critical"
    assert window.document.annotations == {}
    # The same image with a threshold works: one blob, columns 32..63.
    choose(window.panel.foreground, "threshold")
    window.panel.threshold.setValue(127)
    run(qtbot, window)
    assert [r["BX (px)"] for r in rows(window, kind="polygon")] == [32]


def test_two_masks_and_two_classes(qtbot, window, tmp_path):
    shape = (60, 80)
    retina = rectangles_mask(shape, [(10, 5, 30, 30), (10, 45, 30, 30)])  # split by a hole
    hole = rectangles_mask(shape, [(14, 36, 34, 8)])  # reaches 8 rows below the retina
    open_image(qtbot, window, write(tmp_path, "a.png", retina))
    panel = window.panel
    assert not panel.set_second_mask(str(write(tmp_path, "small.png", hole[:50])))
    assert "same size" in panel.status.text() and panel.second_image is None
    assert panel.set_second_mask(str(write(tmp_path, "b.png", hole)))
    assert panel.second_overlay.visible
    assert panel.source.currentData() == "two_masks"
    run(qtbot, window)
    expected = deepest_to_margin_line(retina, hole)
    depth = row(window, "B deepest to A's margin line")
    assert depth["Length (px)"] == pytest.approx(abs(expected.to_line.distance))
    assert landmark(window, "masks:b_deepest").vertices[0] == pytest.approx(expected.deepest)
    pair = closest_pair(retina, hole)
    assert row(window, "shortest gap A–B")["Length (px)"] == pytest.approx(pair.distance)
    assert {a.role for a in window.document.annotations.values() if a.kind is Kind.POLYGON} == {
        "masks:blob:A1", "masks:blob:A2", "masks:blob:B1",
    }  # fmt: skip
    panel.set_second_mask(None)
    assert not panel.second_overlay.visible

    # Two classes of one label image: 1 = left part, 2 = right part, 3 = the hole.
    labels = retina.astype(np.uint8)
    labels[:, 40:][retina[:, 40:]] = 2
    labels[hole] = 3
    path = tmp_path / "labels.tif"
    tifffile.imwrite(path, labels)
    open_image(qtbot, window, path)
    choose(panel.source, "two_classes")
    assert [panel.class_a.itemText(i) for i in range(panel.class_a.count())] == ["1", "2", "3"]
    panel.class_a.setCurrentIndex(0)
    panel.class_b.setCurrentIndex(1)
    run(qtbot, window)
    gap = horizontal_gap(labels == 1, labels == 2)
    assert row(window, "horizontal gap A–B")["Length (px)"] == pytest.approx(gap.minimum) == 10


def test_roi_restricts_the_blobs(qtbot, window, tmp_path):
    mask = two_blobs_mask((40, 60), top=10, rows=12, left_end=20, gap=7, width=10)
    open_image(qtbot, window, write(tmp_path, "two.png", mask))
    box = window.controller.add_shape(Kind.RECTANGLE, np.array([[4.5, 24.5], [30.5, 55.5]]))
    window.layer.select([box])
    assert "rectangle" in window.panel.roi_label.text()
    run(qtbot, window)
    assert [r["BX (px)"] for r in rows(window, kind="polygon")] == [28]  # only the right blob
    assert rows(window, kind="distance") == []
    window.layer.select([])
    assert "whole image" in window.panel.roi_label.text()


@pytest.mark.skipif(not (SAMPLES / "retina_hole_mask.tif").exists(), reason="no bundled sample")
def test_retina_sample_mld_and_a_dragged_mld_landmark(qtbot, window):
    open_image(qtbot, window, SAMPLES / "retina_hole_mask.tif")
    calibration = window.document.calibration
    assert (calibration.pixel_width, calibration.pixel_height) == pytest.approx((11.7, 3.9))
    choose(window.panel.preset, "hole")
    run(qtbot, window)
    expected = measure_retina(
        window.document.image, kind="hole", pixel_width=11.7, pixel_height=3.9, microns_per_unit=1
    )
    mld = row(window, "MLD")
    assert mld["Length (µm)"] == pytest.approx(expected.mld, abs=1e-6)
    assert mld["Length (µm)"] == pytest.approx(36.0 * 11.7, abs=11.7)  # designed: 36 px
    assert mld["Size class"] == expected.size_class == "large"
    assert row(window, "base diameter")["Length (µm)"] == pytest.approx(expected.base_diameter)
    assert row(window, "arm left")["Length (µm)"] == pytest.approx(expected.arm_left)
    height = row(window, "height")["Length (µm)"]
    assert height == pytest.approx(expected.height, abs=1e-6)  # from the top landmarks
    assert row(window, "height right")["Length (µm)"] == pytest.approx(expected.height_right)
    thi = row(window, "THI")["Index"]
    assert thi == pytest.approx(height / mld["Length (µm)"])
    marks = {a.role for a in window.document.annotations.values()}
    assert marks == {f"masks:retina:{name}" for name in expected.landmarks}
    texts = [item.textItem.toPlainText() for item in window.panel.overlay.values]
    assert any("MLD: 421.2 µm" in text for text in texts)  # drawn beside its line
    boxes = [_screen_box(item, window.canvas.viewbox) for item in window.panel.overlay.values]
    assert len(boxes) >= 4  # MLD, heights left and right, base diameter
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])

    # Drag the right MLD landmark 3 columns into the hole: MLD, THI and DHI follow at once.
    right = landmark(window, "masks:retina:mld_right")
    left = landmark(window, "masks:retina:mld_left")
    window.layer.select([right.id])
    window.layer.edit_requested.emit(right.id, right.vertices - [0.0, 3.0])
    delta = (right.vertices[0] - [0.0, 3.0] - left.vertices[0]) * [3.9, 11.7]
    moved = row(window, "MLD")
    assert moved["Length (µm)"] == pytest.approx(np.hypot(*delta))
    assert moved["Length (µm)"] == pytest.approx(mld["Length (µm)"] - 3 * 11.7, abs=0.1)
    assert moved["Origin"] == Origin.CORRECTED.value
    texts = [item.textItem.toPlainText() for item in window.panel.overlay.values]
    assert any("MLD: 386.1 µm" in text for text in texts)
    assert row(window, "THI")["Index"] == pytest.approx(height / moved["Length (µm)"])
    assert row(window, "THI")["Origin"] == Origin.CORRECTED.value
    assert row(window, "DHI")["Index"] == pytest.approx(
        moved["Length (µm)"] / row(window, "base diameter")["Length (µm)"]
    )
    assert row(window, "MHI")["Origin"] == Origin.AUTOMATIC.value  # does not use the MLD
    window.undo()
    assert row(window, "MLD")["Length (µm)"] == pytest.approx(expected.mld, abs=1e-6)


@pytest.mark.skipif(not (SAMPLES / "retina_hole_mask.png").exists(), reason="no bundled sample")
def test_uncalibrated_retina_in_pixels_with_a_note(qtbot, window):
    open_image(qtbot, window, SAMPLES / "retina_hole_mask.png")
    choose(window.panel.preset, "auto")
    run(qtbot, window)
    mld = row(window, "MLD")
    assert mld["Length (px)"] == pytest.approx(36.0, abs=1.0)
    assert "Size class" not in mld and not any("µm" in key for key in mld)
    assert "uncalibrated" in window.panel.status.text()


def test_pit_preset_anisotropic_and_a_rerun_asks_before_discarding(qtbot, window, tmp_path):
    from measurer.analysis.synthetic_masks import foveal_pit_mask

    # The pit of tests/analysis/test_retina.py, with pixels 2 µm wide and 0.5 µm tall.
    mask, truth = foveal_pit_mask(
        (190, 300), centre_col=150, base_row=120.5, rim_height=40.0, pit_depth=16.0,
        pit_diameter=80.0, floor_diameter=20.0, retina_width=260.0, pixel_width=2.0,
        pixel_height=0.5,
    )  # fmt: skip
    path = tmp_path / "pit.tif"
    tifffile.imwrite(path, mask.astype(np.uint8) * 255)
    open_image(qtbot, window, path)
    window.controller.set_calibration(Calibration(2.0, 0.5, "µm"))
    choose(window.panel.preset, "pit")
    run(qtbot, window)
    expected = measure_retina(mask, kind="pit", pixel_width=2.0, pixel_height=0.5)
    assert row(window, "pit depth")["Length (µm)"] == pytest.approx(expected.pit_depth)
    assert row(window, "pit depth")["Length (µm)"] == pytest.approx(truth.pit_depth, abs=1e-9)
    diameter = row(window, "pit diameter")["Length (µm)"]
    assert diameter == pytest.approx(expected.pit_diameter)
    assert diameter == pytest.approx(truth.pit_diameter, abs=1.0)  # half a pixel width
    thickness = row(window, "central thickness")["Length (µm)"]
    assert thickness == pytest.approx(truth.central_thickness, abs=1e-9)
    assert row(window, "maximum slope")["Angle (°)"] == pytest.approx(
        expected.max_slope_deg, abs=0.005
    )
    rim = landmark(window, "masks:retina:rim_left")
    window.layer.edit_requested.emit(rim.id, rim.vertices + np.array([0.0, -2.0]))
    assert row(window, "pit diameter")["Length (µm)"] == pytest.approx(diameter + 4.0)
    assert rows(window, "maximum slope") == []  # the slope needs the mask between the rims
    # Running again asks first (the conftest answers Discard): the correction stays.
    window.panel.run_button.click()
    assert window.shown[-1][0] == "question"
    assert landmark(window, "masks:retina:rim_left").provenance.origin is Origin.CORRECTED


@pytest.mark.skipif(not BLOBS_GIF.exists(), reason="real sample images not available")
def test_imagej_blobs_sample_gives_its_64_particles(qtbot, window):
    open_image(qtbot, window, BLOBS_GIF)
    choose(window.panel.foreground, "threshold")
    window.panel.threshold.setValue(125)  # ImageJ's Default threshold: raw 126-255
    run(qtbot, window)
    areas = [r["Area (px²)"] for r in rows(window, kind="polygon")]
    assert len(areas) == 64
    assert np.mean(areas) == pytest.approx(347.546875)  # ImageJ's Analyze Particles
    assert window.layer.items == {}  # untouched results are drawn in bulk
    # Deepest points and the closest pair of the two largest (which share no row).
    assert len(window.panel.overlay.names) == 64 + 2


def test_manual_annotations_are_not_landmarks(qtbot, window, tmp_path):
    mask = two_blobs_mask((40, 60), top=10, rows=12, left_end=20, gap=7, width=10)
    open_image(qtbot, window, write(tmp_path, "two.png", mask))
    run(qtbot, window)
    doc = window.document
    manual = Annotation(doc.new_id(), Kind.POINTS, [(0, 0)], role="masks:closest_a")
    from measurer.core.commands import AddAnnotations

    window.controller.apply(AddAnnotations([manual]))
    assert row(window, "shortest gap (two largest blobs)")["Length (px)"] == pytest.approx(7.0)
