"""``measurer regions``: region B against region A of a label mask (or two masks), on synthetic
masks whose gaps, margins and depth are known by construction; recipes and batches of it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import measurer
from measurer.analysis.synthetic_masks import rectangles_mask
from measurer.cli import regions as regions_cli
from measurer.cli.main import main
from measurer.cli.recipe import analysis_parser
from measurer.io.imagej_roi import read_rois
from measurer.io.images import read_image

SHAPE = (40, 60)
KEYS = ["horizontal_gap", "horizontal_gap_row", "min_distance", "closest_a", "closest_b"]
KEYS += ["margin_left", "margin_right", "deepest", "depth"]
UNIT_KEYS = ["horizontal_gap_unit", "min_distance_unit", "closest_a_unit", "closest_b_unit"]
UNIT_KEYS += ["deepest_unit", "depth_unit", "unit"]


def regions(bottom: int = 29) -> tuple[np.ndarray, np.ndarray]:
    """Region A: a retina split by a hole; region B: the hole, reaching down to row ``bottom``.

    A = left block rows 5-14, cols 5-19, with a one-pixel lip at (12, 20), and right block
    rows 5-24, cols 30-49, with a lip at (12, 29): the lips are the blocks' only rightmost and
    leftmost pixels, so A's margins are (12, 20) and (12, 29) and the margin line is row 12.
    B = rows 10-``bottom``, cols 22-26.
    """
    a = rectangles_mask(SHAPE, [(5, 5, 10, 15), (12, 20, 1, 1), (5, 30, 20, 20), (12, 29, 1, 1)])
    b = rectangles_mask(SHAPE, [(10, 22, bottom - 9, 5)])
    return a, b


def expected(bottom: int = 29) -> dict:
    """The hand values for :func:`regions`.

    - Horizontal gap: in rows 10-14 A spans cols 5-49 around B (no gap); in rows 15-24 A is
      the right block alone, B ends at col 26 and A starts at col 30: 30 - 26 - 1 = 3 px, in
      the 10 rows 15-24, the middle one (index (10 - 1) // 2 = 4) is row 19.
    - Shortest distance: the left lip (col 20) and B (col 22) in row 12, one pixel column
      between them: 1 px; the first closest pixels in raster order are A (12, 20) and B
      (11, 22), so the points are the corner (11.5, 20.5) and the edge point (11.5, 21.5).
    - Margins (12, 20) and (12, 29); deepest: B's bottom row, the middle of cols 22-26 =
      col 24; depth = bottom - 12 (positive: below the line).
    """
    return {
        "horizontal_gap": 3.0,
        "horizontal_gap_row": 19,
        "min_distance": 1.0,
        "closest_a": [20.5, 11.5],
        "closest_b": [21.5, 11.5],
        "margin_left": [20, 12],
        "margin_right": [29, 12],
        "deepest": [24, bottom],
        "depth": float(bottom - 12),
    }


def label_image(bottom: int = 29) -> np.ndarray:
    a, b = regions(bottom)
    assert not (a & b).any()
    labels = np.zeros(SHAPE, np.uint8)
    labels[a], labels[b] = 1, 2
    return labels


def _save(path: Path, pixels: np.ndarray) -> Path:
    Image.fromarray(pixels).save(path)
    return path


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def labels(tmp_path) -> Path:
    return _save(tmp_path / "labels.png", label_image())


def test_two_classes_give_the_hand_values(labels, capsys):
    code, out, err = _run(capsys, "regions", labels, "--classes", "1,2", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == KEYS  # exactly the documented keys, in order, uncalibrated
    assert data == expected()


def test_the_csv_is_one_row_with_points_as_x_and_y(labels, capsys):
    code, out, _ = _run(capsys, "regions", labels, "--classes", "1,2")
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert (row["horizontal_gap"], row["horizontal_gap_row"], row["depth"]) == ("3.0", "19", "17.0")
    assert (row["deepest_x"], row["deepest_y"], row["margin_right_x"]) == ("24", "29", "29")


def test_anisotropic_pixels_scale_x_and_y_separately(labels, capsys):
    # Pixels 2 µm wide and 0.5 µm tall: the depth (17 rows) is 17 × 0.5 = 8.5 µm; the
    # shortest gap (1 column) 1 × 2 = 2 µm (the other candidates: 2 columns to the left block
    # = 4 µm, 3 columns to the right block = 6 µm); the horizontal gap 3 × 2 = 6 µm. Swapped
    # or isotropic scales would give 34, 0.5 and 1.5.
    argv = ("regions", labels, "--classes", "1,2", "--pixel-size", "2,0.5", "--unit", "um")
    code, out, _ = _run(capsys, *argv, "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == KEYS + UNIT_KEYS
    assert {k: data[k] for k in KEYS} == expected()  # the pixel values stay
    assert data["depth_unit"] == pytest.approx(8.5, abs=1e-12)
    assert data["min_distance_unit"] == pytest.approx(2.0, abs=1e-12)
    assert data["horizontal_gap_unit"] == pytest.approx(6.0, abs=1e-12)
    assert data["deepest_unit"] == pytest.approx([24 * 2.0, 29 * 0.5])
    (ax, ay), (bx, by) = data["closest_a_unit"], data["closest_b_unit"]
    assert np.hypot(bx - ax, by - ay) == pytest.approx(2.0, abs=1e-12)  # its end points
    assert ax == pytest.approx(20.5 * 2.0) and bx == pytest.approx(21.5 * 2.0)
    assert data["unit"] == "µm"


def test_b_above_the_margin_line_has_a_negative_depth(tmp_path, capsys):
    # A: two blocks with margins (30, 19) and (30, 40) (their one-pixel lips), B above:
    # rows 5-9; its deepest pixel is on row 9, 21 rows above the margin line.
    a = rectangles_mask(SHAPE, [(25, 5, 10, 14), (30, 19, 1, 1), (25, 41, 10, 14), (30, 40, 1, 1)])
    labels = np.zeros(SHAPE, np.uint8)
    labels[a] = 1
    labels[5:10, 25:32] = 2
    path = _save(tmp_path / "above.png", labels)
    code, out, _ = _run(capsys, "regions", path, "--classes", "1,2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["margin_left"] == [19, 30] and data["margin_right"] == [40, 30]
    assert data["deepest"] == [28, 9] and data["depth"] == -21.0
    assert data["horizontal_gap"] is None  # A and B share no row


def test_two_files_give_the_numbers_of_two_classes(tmp_path, labels, capsys):
    a, b = regions()
    grey_a = _save(tmp_path / "a.png", np.where(a, 200, 30).astype(np.uint8))
    grey_b = _save(tmp_path / "b.png", np.where(b, 220, 10).astype(np.uint8))
    binary_b = _save(tmp_path / "b01.png", b.astype(np.uint8))
    calibration = ("--pixel-size", "2,0.5", "--unit", "um", "--json")
    _, by_classes, _ = _run(capsys, "regions", labels, "--classes", "1,2", *calibration)
    code, by_files, err = _run(
        capsys, "regions", grey_a, grey_b, "--threshold", "100", *calibration
    )
    assert (code, err) == (0, "")
    assert json.loads(by_files) == json.loads(by_classes)
    binary_a = _save(tmp_path / "a01.png", a.astype(np.uint8))
    code, out, _ = _run(capsys, "regions", binary_a, binary_b, "--json")
    assert code == 0 and json.loads(out) == expected()


def test_classes_in_a_rectangle_and_in_colour(tmp_path, capsys):
    colours = np.zeros((*SHAPE, 3), np.uint8)
    a, b = regions()
    colours[a], colours[b] = (255, 0, 0), (0, 255, 0)
    path = _save(tmp_path / "colour.png", colours)
    code, out, _ = _run(capsys, "regions", path, "--classes", "255,0,0,0,255,0", "--json")
    assert code == 0 and json.loads(out) == expected()
    # Rows 0-26 only: B ends at row 26, so the depth is 26 - 12 = 14 (the gaps stay).
    code, out, _ = _run(capsys, "regions", path, "--classes", "255,0,0,0,255,0", "--roi",
                        "0,0,60,27", "--json")  # fmt: skip
    assert code == 0 and json.loads(out) == expected(26)


def test_bad_input_is_one_line_and_exit_2(tmp_path, labels, capsys):
    a, _ = regions()
    other = _save(tmp_path / "other.png", np.ones((30, 30), np.uint8))
    empty = _save(tmp_path / "empty.png", np.zeros(SHAPE, np.uint8))
    mask_a = _save(tmp_path / "a.png", a.astype(np.uint8))
    cases = [
        ((labels,), "give region B: MASK_B (a second mask) or --classes A,B"),
        ((labels, mask_a, "--classes", "1,2"), "either as MASK_B or as --classes A,B, not both"),
        ((labels, "--classes", "2,2"), "--classes names class 2 twice"),
        ((labels, "--classes", "1,3"), "class 3 (region B) is not in the image (its classes: 1;"),
        ((labels, "--classes", "1,2,3"), "--classes takes two label values A,B or two colours"),
        ((labels, "--classes", "1,2", "--threshold", "5"), "--threshold reads MASK and MASK_B"),
        ((mask_a, other), "other.png is 30 × 30 px but"),
        ((mask_a, empty), "region B (" + str(empty) + ") has no pixel"),
        ((labels, "--classes", "1,2", "--roi", "0,0,60,10"), "(class 2) has no pixel inside --roi"),
        ((labels, "--classes", "1,2", "--connectivity", "6"), "invalid choice: 6"),
    ]  # fmt: skip
    for argv, message in cases:
        code, out, err = _run(capsys, "regions", *argv)
        assert (code, out) == (2, ""), argv
        assert err.count("\n") == 1 and message in err, err


def test_the_documented_keys_are_the_output_keys():
    help_page = Path(measurer.__file__).parent / "resources" / "help" / "retina.md"
    text = help_page.read_text(encoding="utf-8")
    section = text[text.index("## Two regions: `measurer regions`") :]
    for key in KEYS + UNIT_KEYS:
        assert f"`{key}`" in section, key
    assert (tuple(KEYS), tuple(UNIT_KEYS)) == (regions_cli.KEYS, regions_cli.UNIT_KEYS)


def test_measure_gives_the_json_as_one_flat_row(labels, capsys):
    argv = [str(labels), "--classes", "1,2", "--pixel-size", "2,0.5", "--unit", "um"]
    _, out, _ = _run(capsys, "regions", *argv, "--json")
    data = json.loads(out)
    args = analysis_parser("regions").parse_args(argv)
    (row,) = regions_cli.measure(read_image(labels), args)
    flat = {}
    for key, value in data.items():
        if isinstance(value, list):
            flat[f"{key}_x"], flat[f"{key}_y"] = value
        else:
            flat[key] = value
    assert row == flat


def test_rois_are_the_margins_the_deepest_point_and_two_lines(tmp_path, labels, capsys):
    rois, drawn = tmp_path / "r.zip", tmp_path / "r.png"
    code, _, _ = _run(capsys, "regions", labels, "--classes", "1,2", "--rois", rois,
                      "--annotated", drawn)  # fmt: skip
    assert code == 0
    shapes = {roi.label: roi for roi in read_rois(rois)}
    assert list(shapes) == [
        "A margin left", "A margin right", "B deepest", "B depth below A's margin line",
        "gap A-B",
    ]  # fmt: skip
    np.testing.assert_allclose(shapes["A margin left"].vertices, [(12, 20)])
    np.testing.assert_allclose(shapes["A margin right"].vertices, [(12, 29)])
    np.testing.assert_allclose(shapes["B deepest"].vertices, [(29, 24)])
    # From the deepest point straight up to the margin line (row 12): 17 px long.
    np.testing.assert_allclose(
        shapes["B depth below A's margin line"].vertices, [(29, 24), (12, 24)]
    )
    np.testing.assert_allclose(shapes["gap A-B"].vertices, [(11.5, 20.5), (11.5, 21.5)])
    assert np.asarray(Image.open(drawn)).shape[:2] == SHAPE


# --- recipes and batches -----------------------------------------------------------------


def test_a_batch_over_a_folder_gives_one_row_per_label_mask(tmp_path, capsys):
    folder = tmp_path / "masks"
    folder.mkdir()
    bottoms = {"a.png": 29, "b.png": 27, "c.png": 25}  # depths 17, 15 and 13
    for name, bottom in bottoms.items():
        _save(folder / name, label_image(bottom))
    recipe = tmp_path / "r.json"
    assert _run(capsys, "recipe", "regions", "--classes", "1,2", "--out", recipe)[0] == 0
    assert json.loads(recipe.read_text(encoding="utf-8"))["options"] == {"classes": "1,2"}
    table = tmp_path / "t.csv"
    code, _, err = _run(capsys, "batch", recipe, folder, "--out", table, "--jobs", "1")
    assert code == 0, err
    with open(table, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [Path(r["path"]).name for r in rows] == list(bottoms)
    for row, bottom in zip(rows, bottoms.values(), strict=True):
        truth = expected(bottom)
        assert float(row["depth"]) == truth["depth"]
        assert (int(row["deepest_x"]), int(row["deepest_y"])) == (24, bottom)
        assert (int(row["margin_left_x"]), int(row["margin_right_x"])) == (20, 29)
        assert float(row["horizontal_gap"]) == 3.0 and int(row["horizontal_gap_row"]) == 19
        assert float(row["min_distance"]) == 1.0


def test_a_recipe_takes_classes_or_a_pattern_not_one_second_mask(tmp_path, labels, capsys):
    # Patterns of MASK_B ("{dir}/../b/{name}") are tested in tests/cli/test_mask_pairs.py.
    out = tmp_path / "r.json"
    second = _save(tmp_path / "b.png", regions()[1].astype(np.uint8))
    for argv, message in [
        ((second,), "a recipe cannot name MASK_B as one file, the same for every image"),
        ((second, "--classes", "1,2"), "a recipe cannot name MASK_B as one file"),
        ((), "give region B"),
        (("--classes", "1,1"), "names class 1 twice"),
    ]:
        code, stdout, err = _run(capsys, "recipe", "regions", *argv, "--out", out)
        assert (code, stdout) == (2, "") and message in err and err.count("\n") == 1, err
        assert not out.exists()
