"""``measurer blobs``, ``measurer gaps`` and ``measurer retina`` on masks written to disk."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from measurer.analysis.synthetic_masks import (
    foveal_pit_mask,
    macular_hole_mask,
    rectangles_mask,
    two_blobs_mask,
)
from measurer.cli.main import main

BLOB_KEYS = [
    "label",
    "area",
    "perimeter",
    "centroid_x",
    "centroid_y",
    "bbox_x",
    "bbox_y",
    "bbox_w",
    "bbox_h",
    "leftmost",
    "rightmost",
    "topmost",
    "bottommost",
]
GAP_KEYS = ["a", "b", "horizontal_gap", "horizontal_gap_row", "min_distance", "closest_a"]
GAP_KEYS.append("closest_b")
RETINA_KEYS = ["kind", "mld", "base_diameter", "height", "height_left", "height_right", "mhi"]
RETINA_KEYS += ["thi", "hff", "dhi", "size_class", "pit_depth", "pit_diameter", "landmarks", "unit"]


def _png(path, mask):
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(path)
    return str(path)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _json(capsys, *argv):
    code, out, err = _run(capsys, *argv, "--json")
    assert code == 0 and err == "", err
    return json.loads(out)


@pytest.fixture
def two_rects(tmp_path):
    # (row, col, rows, cols): blob 1 at x 2..5, y 1..3; blob 2 at x 10..12, y 6..7
    return _png(tmp_path / "rects.png", rectangles_mask((10, 16), [(1, 2, 3, 4), (6, 10, 2, 3)]))


def test_blobs_csv_and_json(two_rects, capsys):
    code, out, err = _run(capsys, "blobs", two_rects)
    assert code == 0 and err == ""
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["label"] for r in rows] == ["1", "2"]
    assert rows[0]["area"] == "12" and rows[0]["bbox_x"] == "2" and rows[0]["bbox_w"] == "4"
    assert (rows[0]["leftmost_x"], rows[0]["leftmost_y"]) == ("2", "2")
    data = _json(capsys, "blobs", two_rects)
    assert list(data[0])[: len(BLOB_KEYS)] == BLOB_KEYS
    assert not any(key.endswith("_unit") for key in data[0])
    first = data[0]
    assert (first["centroid_x"], first["centroid_y"]) == (3.5, 2.0)
    assert (first["bbox_x"], first["bbox_y"], first["bbox_w"], first["bbox_h"]) == (2, 1, 4, 3)
    assert first["topmost"] == [3, 1] and first["bottommost"] == [3, 3]
    assert first["leftmost"] == [2, 2] and first["rightmost"] == [5, 2]
    assert first["perimeter"] == pytest.approx(14 - 4 * (2 - 2**0.5))


def test_blobs_calibrated_from_options_and_from_metadata(two_rects, tmp_path, capsys):
    data = _json(capsys, "blobs", two_rects, "--pixel-size", "2,3", "--unit", "um")
    assert data[0]["unit"] == "µm"
    assert data[0]["area_unit"] == pytest.approx(12 * 6.0)
    assert data[0]["centroid_x_unit"] == pytest.approx(7.0)
    assert data[0]["bbox_h_unit"] == pytest.approx(9.0)
    path = tmp_path / "cal.tif"
    mask = rectangles_mask((10, 16), [(1, 2, 3, 4)]).astype(np.uint8)
    tifffile.imwrite(
        path, mask, imagej=True, resolution=(1 / 0.5, 1 / 0.25), metadata={"unit": "um"}
    )
    data = _json(capsys, "blobs", path)
    assert data[0]["area_unit"] == pytest.approx(12 * 0.125) and data[0]["unit"] == "µm"


def test_blobs_options(tmp_path, capsys):
    mask = rectangles_mask((10, 16), [(1, 2, 3, 4), (6, 10, 2, 3), (0, 14, 1, 1)])
    path = _png(tmp_path / "m.png", mask)
    assert len(_json(capsys, "blobs", path, "--min-area", "2")) == 2
    inside = _json(capsys, "blobs", path, "--roi", "8,5,8,5")  # x 8..15, y 5..9
    assert [b["bbox_x"] for b in inside] == [10]
    diagonal = np.zeros((5, 5), bool)
    diagonal[1, 1] = diagonal[2, 2] = True
    path = _png(tmp_path / "d.png", diagonal)
    assert len(_json(capsys, "blobs", path)) == 1
    assert len(_json(capsys, "blobs", path, "--connectivity", "4")) == 2


def test_blobs_grey_label_and_colour_images(tmp_path, capsys):
    grey = tmp_path / "grey.png"
    Image.fromarray(np.tile(np.arange(0, 250, 10, dtype=np.uint8), (5, 1))).save(grey)
    code, out, err = _run(capsys, "blobs", grey)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "not a binary mask" in err and "threshold" in err
    assert _json(capsys, "blobs", grey, "--threshold", "195")[0]["area"] == 25
    labels = tmp_path / "labels.png"
    Image.fromarray(np.array([[0, 1, 1, 0, 2], [0, 1, 0, 0, 2]], np.uint8)).save(labels)
    assert [b["area"] for b in _json(capsys, "blobs", labels, "--class", "1")] == [3]
    colour = np.zeros((4, 6, 3), np.uint8)
    colour[1:3, 1:3] = (255, 0, 0)
    colour[0:2, 4:6] = (0, 0, 255)
    path = tmp_path / "colour.png"
    Image.fromarray(colour).save(path)
    assert [b["bbox_x"] for b in _json(capsys, "blobs", path, "--class", "0,0,255")] == [4]
    code, _, err = _run(capsys, "blobs", path)
    assert code == 2 and "colours" in err


def test_gaps(tmp_path, capsys):
    mask = two_blobs_mask((12, 30), top=2, rows=7, left_end=10, gap=3, width=5)
    path = _png(tmp_path / "two.png", mask)
    data = _json(capsys, "gaps", path)
    assert len(data) == 1 and list(data[0]) == GAP_KEYS
    pair = data[0]
    assert (pair["a"], pair["b"], pair["horizontal_gap"], pair["min_distance"]) == (1, 2, 3.0, 3.0)
    assert pair["horizontal_gap_row"] == 5  # middle of rows 2..8
    assert pair["closest_a"][0] == 10.5 and pair["closest_b"][0] == 13.5
    code, out, _ = _run(capsys, "gaps", path)
    header = out.splitlines()[0].split(",")
    assert code == 0 and header[:5] == GAP_KEYS[:5] and "closest_a_x" in header
    calibrated = _json(capsys, "gaps", path, "--pixel-size", "2,5", "--unit", "um")[0]
    assert calibrated["horizontal_gap_unit"] == 6.0 and calibrated["min_distance_unit"] == 6.0
    assert calibrated["closest_a_unit"] == [21.0, calibrated["closest_a"][1] * 5.0]
    assert _json(capsys, "gaps", path, "--pair", "2,1")[0]["a"] == 2


def test_gaps_bad_input(tmp_path, capsys):
    one = _png(tmp_path / "one.png", rectangles_mask((8, 8), [(1, 1, 3, 3)]))
    code, _, err = _run(capsys, "gaps", one)
    assert code == 2 and "at least two blobs" in err
    two = _png(tmp_path / "two.png", rectangles_mask((8, 8), [(1, 1, 2, 2), (5, 5, 2, 2)]))
    for pair in ("1,3", "1,1", "a,b"):
        code, _, err = _run(capsys, "gaps", two, "--pair", pair)
        assert code == 2 and err.count("\n") == 1, pair
    code, _, err = _run(capsys, "gaps", tmp_path / "missing.png")
    assert code == 2 and "missing.png" in err


def _hole_mask():
    mask, truth = macular_hole_mask(
        (120, 200),
        centre_col=100.5,
        base_row=90.5,
        base_diameter=40,
        mld=20,
        neck=(8, 14),
        foot=2,
        top_diameter=30,
        height_left=30,
        height_right=25,
        retina_width=180,
    )
    return mask, truth


def test_retina_hole(tmp_path, capsys):
    mask, truth = _hole_mask()
    png = _png(tmp_path / "hole.png", mask)
    data = _json(capsys, "retina", png)
    assert list(data)[:13] == RETINA_KEYS[:13] and {"landmarks", "unit"} <= set(data)
    assert data["kind"] == "hole" and data["unit"] == "px" and data["size_class"] is None
    assert data["mld"] == truth.mld and data["base_diameter"] == truth.base_diameter
    assert data["height"] == 30.0 and data["height_right"] == 25.0
    assert data["mhi"] == pytest.approx(truth.mhi) and data["hff"] == pytest.approx(truth.hff)
    assert data["pit_depth"] is None and data["pit_diameter"] is None
    assert data["landmarks"]["mld_left"][0] == pytest.approx(100.5 - 10)  # x = column
    tif = tmp_path / "hole.tif"
    tifffile.imwrite(
        tif,
        mask.astype(np.uint8) * 255,
        imagej=True,
        resolution=(1 / 10.0, 1 / 10.0),
        metadata={"unit": "um"},
    )
    calibrated = _json(capsys, "retina", tif)
    assert calibrated["unit"] == "µm" and calibrated["mld"] == pytest.approx(200.0)
    assert calibrated["size_class"] == "small"
    assert calibrated["landmarks"]["mld_left"] == pytest.approx(data["landmarks"]["mld_left"])
    code, out, _ = _run(capsys, "retina", tif)
    assert code == 0 and "mld" in out and "µm" in out


def test_retina_two_masks_are_merged(tmp_path, capsys):
    mask, _ = _hole_mask()
    left, right = mask.copy(), mask.copy()
    left[:, 100:] = False
    right[:, :100] = False
    whole = _json(capsys, "retina", _png(tmp_path / "whole.png", mask))
    split = _json(capsys, "retina", _png(tmp_path / "l.png", left), _png(tmp_path / "r.png", right))
    assert split == whole
    small = _png(tmp_path / "small.png", mask[:50])
    code, _, err = _run(capsys, "retina", tmp_path / "l.png", small)
    assert code == 2 and "px" in err


def test_retina_pit_and_errors(tmp_path, capsys):
    mask, truth = foveal_pit_mask(
        (120, 200),
        centre_col=100,
        base_row=90.5,
        rim_height=30,
        pit_depth=12,
        pit_diameter=60,
        floor_diameter=16,
        retina_width=180,
    )
    data = _json(capsys, "retina", _png(tmp_path / "pit.png", mask))
    assert data["kind"] == "pit" and data["pit_depth"] == truth.pit_depth
    assert data["pit_diameter"] == pytest.approx(truth.pit_diameter, abs=0.5)
    assert data["mld"] is None and data["mhi"] is None and data["size_class"] is None
    band = _png(tmp_path / "band.png", rectangles_mask((40, 60), [(10, 0, 10, 60)]))
    code, out, err = _run(capsys, "retina", band, "--kind", "hole")
    assert code == 2 and out == "" and "1 part" in err and err.count("\n") == 1
    code, _, err = _run(capsys, "retina", _png(tmp_path / "empty.png", np.zeros((9, 9), bool)))
    assert code == 2 and "empty" in err
