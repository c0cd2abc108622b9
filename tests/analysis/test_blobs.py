"""Blob statistics and mask input handling on masks with known geometry (and ImageJ's outputs)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from measurer.analysis import blobs
from measurer.analysis.blobs import blob_stats, label_blobs
from measurer.analysis.masks import MaskError, as_binary, is_binary, mask_classes, restrict_to_roi
from measurer.analysis.synthetic_masks import disc_mask, rectangles_mask

SQRT2 = math.sqrt(2.0)
SHARED = Path(__file__).resolve().parents[3] / "shared"  # beside the checkout (optional)
EXPECTED = SHARED / "oracles/imagej/expected"
REAL = SHARED / "data/real"


def test_rectangle_every_value():
    # rows 5..8, cols 10..19: a 10 x 4 rectangle
    result = blob_stats(rectangles_mask((20, 30), [(5, 10, 4, 10)]))
    assert len(result) == 1
    assert result.labels.tolist() == [1]
    assert result.area[0] == 40
    # ImageJ: 28 edges minus 4 cut corners of 2 - sqrt(2)
    assert result.perimeter[0] == pytest.approx(28 - 4 * (2 - SQRT2), abs=1e-12)
    assert result.perimeter[0] == pytest.approx(25.656854, abs=1e-6)
    assert result.centroid[0].tolist() == [6.5, 14.5]
    assert result.bbox[0].tolist() == [5, 10, 4, 10]
    # Ties: the middle of k tied pixels, index (k - 1) // 2 from the top / from the left.
    assert result.leftmost[0].tolist() == [6, 10]  # rows 5..8 tie: index 1
    assert result.rightmost[0].tolist() == [6, 19]
    assert result.topmost[0].tolist() == [5, 14]  # cols 10..19 tie: index 4
    assert result.bottommost[0].tolist() == [8, 14]
    assert result.equivalent_diameter[0] == pytest.approx(math.sqrt(4 * 40 / math.pi))
    assert not result.touches_edge[0]
    assert result.perimeter_steps[0].tolist() == [20, 8, 4]


def test_outline_is_the_pixel_edge_polygon():
    with pytest.raises(ValueError, match="outlines=True"):
        blob_stats(rectangles_mask((20, 30), [(5, 10, 4, 10)])).outline(0)
    result = blob_stats(rectangles_mask((20, 30), [(5, 10, 4, 10)]), outlines=True)
    outline = result.outline(0)
    corners = {tuple(p) for p in outline.tolist()}
    assert corners == {(4.5, 9.5), (4.5, 19.5), (8.5, 9.5), (8.5, 19.5)}
    # An L shape: the polygon's shoelace area equals the pixel count (no holes).
    shape = rectangles_mask((10, 10), [(1, 1, 6, 2), (5, 3, 2, 4)])
    outline = blob_stats(shape, outlines=True).outline(0)
    rows, cols = outline[:, 0], outline[:, 1]
    area = 0.5 * abs(np.sum(rows * np.roll(cols, -1) - np.roll(rows, -1) * cols))
    assert len(outline) == 6 and area == shape.sum()


def test_disc_centroid_extremes_and_perimeter():
    result = blob_stats(disc_mask((100, 100), (50, 50), 20))
    assert result.centroid[0].tolist() == [50.0, 50.0]
    assert result.bbox[0].tolist() == [30, 30, 41, 41]
    assert result.leftmost[0].tolist() == [50, 30]
    assert result.rightmost[0].tolist() == [50, 70]
    assert result.topmost[0].tolist() == [30, 50]
    assert result.bottommost[0].tolist() == [70, 50]
    assert result.area[0] == pytest.approx(math.pi * 400, rel=0.005)
    # ImageJ's traced perimeter overestimates a digital circle by a few percent.
    assert 1.0 < result.perimeter[0] / (2 * math.pi * 20) < 1.08


def test_holes_are_excluded_from_area_not_from_the_outline():
    ring = rectangles_mask((12, 12), [(1, 1, 9, 9)])
    ring[4:7, 4:7] = False
    ring[5, 5] = True  # a separate blob inside the hole
    result = blob_stats(ring)
    assert result.area.tolist() == [72, 1]
    assert result.perimeter[0] == pytest.approx(36 - 4 * (2 - SQRT2))  # outer boundary only
    assert result.perimeter[1] == pytest.approx(4 - 2 * (2 - SQRT2))  # ImageJ: 2.828427


def test_connectivity_and_min_area():
    mask = np.zeros((6, 6), bool)
    mask[1, 1] = mask[2, 2] = True  # touch at a corner
    mask[4, 4] = True
    eight = blob_stats(mask)
    assert eight.area.tolist() == [2, 1]
    assert eight.perimeter[0] == pytest.approx(8 - 4 * (2 - SQRT2))  # ImageJ: 5.656854
    four = blob_stats(mask, connectivity=4)
    assert four.area.tolist() == [1, 1, 1]
    big = blob_stats(mask, min_area=2)
    assert big.labels.tolist() == [1] and big.area.tolist() == [2]
    assert label_blobs(mask, min_area=2).max() == 1
    with pytest.raises(ValueError):
        blob_stats(mask, connectivity=6)
    with pytest.raises(ValueError):
        blob_stats(mask, min_area=0)


def test_more_blobs_than_16_bit_labels_can_number():
    # 330 x 300 isolated pixels overflow 16-bit labels: the mask is labelled again in 32 bits.
    mask = np.zeros((662, 600), bool)
    mask[:660:2, ::2] = True
    mask[660, 0] = mask[661, 1] = True  # two pixels touching at a corner, numbered last
    result = blob_stats(mask)
    assert len(result) == 99_001
    assert result.area.sum() == 99_002 and result.area[-1] == 2
    assert result.bbox[-1].tolist() == [660, 0, 2, 2]
    assert result.centroid[1000].tolist() == [6.0, 200.0]
    labels = label_blobs(mask)
    assert labels.max() == 99_001 and labels[2, 0] == 301


def test_one_opencv_thread_traces_on_this_thread_with_the_same_result(monkeypatch):
    mask = disc_mask((60, 80), (30, 40), 20) ^ disc_mask((60, 80), (30, 40), 6)
    mask |= disc_mask((60, 80), (8, 8), 5)
    threaded = blob_stats(mask, outlines=True)
    threads = cv2.getNumThreads()
    monkeypatch.setattr(blobs, "ThreadPoolExecutor", None)  # any use of it fails
    cv2.setNumThreads(1)
    try:
        alone = blob_stats(mask, outlines=True)
    finally:
        cv2.setNumThreads(threads)
    assert len(alone) == 2 and alone.area[1] == threaded.area[1] > 1000
    for name in ("area", "perimeter", "centroid", "bbox", "outline_vertices", "outline_offsets"):
        np.testing.assert_array_equal(getattr(alone, name), getattr(threaded, name))


def test_blobs_are_numbered_in_raster_order_of_their_first_pixel():
    # The second blob starts one row lower but far left; OpenCV's block labelling may not
    # number them in this order.
    mask = rectangles_mask((8, 40), [(1, 30, 3, 3), (2, 2, 3, 3), (0, 20, 2, 2), (1, 10, 1, 1)])
    result = blob_stats(mask)
    assert result.bbox[:, :2].tolist() == [[0, 20], [1, 10], [1, 30], [2, 2]]
    labels = label_blobs(mask)
    for i, (row, col) in enumerate(result.topmost.tolist()):
        assert labels[row, col] == i + 1


def test_calibrated_values_with_anisotropic_pixels():
    result = blob_stats(rectangles_mask((20, 30), [(5, 10, 4, 10)]))
    scaled = result.scaled(row_scale=3.0, col_scale=2.0)
    assert scaled.area[0] == pytest.approx(40 * 6.0)
    corner = 2.0 + 3.0 - math.hypot(2.0, 3.0)
    assert scaled.perimeter[0] == pytest.approx(20 * 2.0 + 8 * 3.0 - 4 * corner)
    assert scaled.centroid[0].tolist() == [6.5 * 3.0, 14.5 * 2.0]
    assert scaled.bbox_size[0].tolist() == [12.0, 20.0]
    assert scaled.equivalent_diameter[0] == pytest.approx(math.sqrt(4 * 240 / math.pi))
    doubled = result.scaled(row_scale=6.0, col_scale=4.0)
    for name in ("perimeter", "equivalent_diameter"):
        assert getattr(doubled, name)[0] == pytest.approx(2 * getattr(scaled, name)[0])
    assert doubled.area[0] == pytest.approx(4 * scaled.area[0])
    with pytest.raises(ValueError):
        result.scaled(0.0, 1.0)


def test_input_kinds_edges_and_no_modification():
    mask = rectangles_mask((10, 10), [(0, 0, 3, 3), (5, 5, 2, 2)])
    as_255 = np.where(mask, 255, 0).astype(np.uint8)
    as_255.flags.writeable = False
    before = as_255.copy()
    a, b = blob_stats(mask), blob_stats(as_255)
    assert np.array_equal(as_255, before)
    assert a.area.tolist() == b.area.tolist() == [9, 4]
    assert a.touches_edge.tolist() == [True, False]
    assert blob_stats(mask.astype(np.float32)).area.tolist() == [9, 4]
    empty = blob_stats(np.zeros((5, 5), bool))
    assert len(empty) == 0 and empty.to_dict()["labels"] == []
    with pytest.raises(MaskError, match="not a binary mask"):
        blob_stats(np.arange(100, dtype=np.uint8).reshape(10, 10))
    with pytest.raises(MaskError, match="2D"):
        blob_stats(np.zeros((2, 3, 4, 5), bool))


def test_to_dict_is_plain():
    d = blob_stats(rectangles_mask((10, 10), [(2, 2, 2, 3)])).to_dict()
    assert d["area"] == [6] and d["bbox"] == [[2, 2, 2, 3]] and d["connectivity"] == 8
    assert "outline_vertices" not in d


def test_as_binary_kinds():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert as_binary(grey, threshold=5).sum() == 6
    labels = np.array([[0, 1, 2], [2, 2, 0]], np.uint8)
    assert as_binary(labels, value=2).tolist() == [[False, False, True], [True, True, False]]
    assert mask_classes(labels) == [1, 2]
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[0, 0] = (255, 0, 0)
    colour[1, 1] = (0, 255, 0)
    assert as_binary(colour, value=(0, 255, 0)).tolist() == [[False, False], [False, True]]
    assert mask_classes(colour) == [(0, 255, 0), (255, 0, 0)]
    with pytest.raises(MaskError, match="2 colours"):
        as_binary(colour)
    grey_rgb = np.repeat(np.array([[0, 9], [9, 0]], np.uint8)[..., None], 4, axis=2)
    assert as_binary(grey_rgb).tolist() == [[False, True], [True, False]]  # alpha ignored
    with pytest.raises(MaskError, match="3 distinct values"):
        as_binary(labels)
    with pytest.raises(MaskError):
        as_binary(grey, threshold=1, value=1)
    assert is_binary(np.array([[0, 0.5]])) and not is_binary(np.array([[0, -1]], np.int16))


def test_restrict_to_roi():
    mask = np.ones((10, 10), bool)
    rect = restrict_to_roi(mask, rect=(2, 3, 4, 5))
    assert rect.sum() == 20 and rect[2:6, 3:8].all()
    triangle = restrict_to_roi(mask, polygon=[(0, 0), (0, 9), (9, 0)])
    assert triangle.sum() == 55  # centres on or inside the edges
    with pytest.raises(MaskError):
        restrict_to_roi(mask, rect=(20, 20, 2, 2))
    with pytest.raises(MaskError):
        restrict_to_roi(mask)


def _imagej_cases():
    from PIL import Image

    yield "blobs_default.csv", np.array(Image.open(REAL / "imagej_samples/blobs.gif")) >= 126
    coins = np.array(Image.open(EXPECTED / "inputs/coins_skimage_otsu_mask.png"))
    yield "coins_skimage_otsu_mask.csv", coins
    axons = np.array(Image.open(REAL / "axondeepseg/sem_demo_mask.png"))[..., 0]
    yield "axondeepseg_demo_axons.csv", axons == 255
    yield "axondeepseg_demo_myelin.csv", axons == 128
    yield (
        "conventions/conventions_particles.csv",
        np.array(Image.open(EXPECTED / "conventions/conventions.png")),
    )


@pytest.mark.skipif(not (EXPECTED.is_dir() and REAL.is_dir()), reason="ImageJ oracle not present")
def test_agrees_with_imagej_analyze_particles():
    for name, mask in _imagej_cases():
        with open(EXPECTED / name) as handle:
            rows = list(csv.DictReader(handle))
        column = lambda key: np.array([float(r[key]) for r in rows])  # noqa: E731, B023
        result = blob_stats(mask)
        assert len(result) == len(rows), name
        assert np.array_equal(result.area, column("Area")), name
        # ImageJ puts pixel centres at +0.5.
        assert np.allclose(result.centroid[:, 1] + 0.5, column("X"), atol=1e-5), name
        assert np.allclose(result.centroid[:, 0] + 0.5, column("Y"), atol=1e-5), name
        assert np.array_equal(result.bbox[:, 1], column("BX")), name
        assert np.array_equal(result.bbox[:, 0], column("BY")), name
        assert np.array_equal(result.bbox[:, 3], column("Width")), name
        assert np.array_equal(result.bbox[:, 2], column("Height")), name
        assert np.allclose(result.perimeter, column("Perim."), atol=1e-5), name
