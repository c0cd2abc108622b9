"""A second mask per image in recipes and batches: ``"mask_b"`` patterns with ``{dir}``,
``{stem}``, ``{name}`` and ``{ext}``, resolved for each image of ``measurer batch``, on
synthetic region pairs whose depth is known by construction."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from measurer.analysis.synthetic_masks import macular_hole_mask, rectangles_mask
from measurer.cli.batch_task import second_mask_path
from measurer.cli.main import main
from measurer.cli.recipe import recipe_args
from measurer.io.recipes import read_recipe

SHAPE = (40, 60)
#: Image name -> the bottom row of its region B; depth below A's margin line = bottom - 12.
BOTTOMS = {"p.png": 29, "q.png": 27, "r.png": 25}


def region_a() -> np.ndarray:
    """A retina split by a hole (as tests/cli/test_regions.py): margins (12, 20) and (12, 29)."""
    return rectangles_mask(
        SHAPE, [(5, 5, 10, 15), (12, 20, 1, 1), (5, 30, 20, 20), (12, 29, 1, 1)]
    ).astype(np.uint8)


def region_b(bottom: int) -> np.ndarray:
    """The hole, cols 22-26, rows 10 to ``bottom``: deepest point (24, bottom)."""
    return rectangles_mask(SHAPE, [(10, 22, bottom - 9, 5)]).astype(np.uint8)


def _save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _table(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _flat(data: dict) -> dict:
    """The JSON of ``measurer regions`` as a batch row: points as ``name_x``, ``name_y``."""
    flat = {}
    for key, value in data.items():
        if isinstance(value, list):
            flat[f"{key}_x"], flat[f"{key}_y"] = value
        else:
            flat[key] = value
    return flat


@pytest.fixture
def pairs(tmp_path) -> Path:
    """``a/`` with region A of each image, ``b/`` with region B under the same names."""
    for name, bottom in BOTTOMS.items():
        _save(tmp_path / "a" / name, region_a())
        _save(tmp_path / "b" / name, region_b(bottom))
    return tmp_path


def test_resolving_a_pattern_for_an_image(tmp_path):
    image = tmp_path / "retina" / "img001.png"
    assert second_mask_path("{dir}/../hole/{name}", image) == tmp_path / "hole" / "img001.png"
    side = second_mask_path("{dir}/{stem}_hole{ext}", image)
    assert side == tmp_path / "retina" / "img001_hole.png"
    braces = second_mask_path(str(tmp_path) + "/{{x}}/{stem}.tif", image)
    assert braces == tmp_path / "{x}" / "img001.tif"
    relative = second_mask_path("{dir}/../b/{name}", "a/x.png")
    assert relative == Path.cwd() / "b" / "x.png"  # {dir} is absolute, ".." resolved


def test_parallel_folders_give_the_numbers_of_regions_on_each_pair(pairs, capsys):
    recipe = pairs / "r.json"
    code, _, err = _run(capsys, "recipe", "regions", "{dir}/../b/{name}", "--out", recipe)
    assert (code, err) == (0, "")
    table = pairs / "t.csv"
    code, _, err = _run(capsys, "batch", recipe, pairs / "a", "--out", table, "--jobs", "1")
    assert code == 0, err
    rows = _table(table)
    assert [Path(r["path"]).name for r in rows] == list(BOTTOMS)
    for row, (name, bottom) in zip(rows, BOTTOMS.items(), strict=True):
        argv = ("regions", pairs / "a" / name, pairs / "b" / name, "--json")
        code, out, _ = _run(capsys, *argv)
        assert code == 0
        single = _flat(json.loads(out))
        assert list(row)[1:] == list(single)
        assert {k: float(row[k]) for k in single} == pytest.approx(single, abs=0)
        assert float(row["depth"]) == bottom - 12  # the hand value, different per image
        assert (float(row["deepest_x"]), float(row["deepest_y"])) == (24, bottom)
    assert _table(pairs / "t.errors.csv") == []


def test_a_missing_partner_is_an_error_row_and_the_others_are_measured(pairs, capsys):
    (pairs / "b" / "q.png").unlink()
    recipe = pairs / "r.json"
    recipe.write_text(json.dumps({"schema": 1, "analysis": "regions",
                                  "options": {"mask_b": "{dir}/../b/{name}"}}))  # fmt: skip
    table = pairs / "t.csv"
    code, _, err = _run(capsys, "batch", recipe, pairs / "a", "--out", table, "--jobs", "1")
    assert code == 3 and "1 failed" in err
    assert [Path(r["path"]).name for r in _table(table)] == ["p.png", "r.png"]
    assert [float(r["depth"]) for r in _table(table)] == [17.0, 13.0]
    (error,) = _table(pairs / "t.errors.csv")
    assert Path(error["path"]).name == "q.png"
    assert error["error"] == (
        f"no second mask at {pairs / 'b' / 'q.png'} (from the recipe's pattern "
        "'{dir}/../b/{name}')"
    )


def test_masks_side_by_side_are_found_by_their_stem(tmp_path, capsys):
    folder = tmp_path / "masks"
    for name, bottom in BOTTOMS.items():
        _save(folder / name, region_a())
        _save(folder / name.replace(".png", "_b.png"), region_b(bottom))
    recipe = tmp_path / "r.json"
    code, _, _ = _run(capsys, "recipe", "regions", "{dir}/{stem}_b.png", "--out", recipe)
    assert code == 0
    table = tmp_path / "t.csv"
    code, _, err = _run(capsys, "batch", recipe, folder / "?.png", "--out", table, "--jobs", "1")
    assert code == 0, err
    rows = _table(table)
    assert [Path(r["path"]).name for r in rows] == list(BOTTOMS)
    assert [float(r["depth"]) for r in rows] == [b - 12.0 for b in BOTTOMS.values()]


def test_a_pattern_survives_the_recipe_command_and_reading_back(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for pattern, kept in [
        ("{dir}/../b/{name}", "{dir}/../b/{name}"),
        ("{dir}/{stem}_b.png", "{dir}/{stem}_b.png"),
        (str(tmp_path / "m" / "{stem}.png"), str(tmp_path / "m" / "{stem}.png")),
        ("b/{stem}.png", str(tmp_path / "b" / "{stem}.png")),  # from here, as file names are
    ]:
        out = tmp_path / "r.json"
        code, _, err = _run(capsys, "recipe", "regions", pattern, "--threshold", "100",
                            "--out", out)  # fmt: skip
        assert (code, err) == (0, "")
        assert json.loads(out.read_text(encoding="utf-8"))["options"] == {
            "threshold": 100.0, "mask_b": kept,
        }  # fmt: skip
        args = recipe_args(read_recipe(out), base=tmp_path / "elsewhere")
        assert (args.mask_b, args.threshold) == (kept, 100.0)
    # In a recipe file, a relative pattern is relative to the recipe's folder.
    out.write_text(json.dumps({"schema": 1, "analysis": "regions",
                               "options": {"mask_b": "../b/{name}"}}))  # fmt: skip
    args = recipe_args(read_recipe(out), base=tmp_path / "recipes")
    assert args.mask_b == str(tmp_path / "recipes" / "../b/{name}")


def test_patterns_and_fixed_files_that_recipes_refuse(tmp_path, capsys):
    fixed = _save(tmp_path / "b.png", region_b(29))
    out = tmp_path / "r.json"
    for argv, message in [
        ((fixed,), "a recipe cannot name MASK_B as one file, the same for every image: name"),
        (("{dir}/{folder}/{name}",), "has an unknown placeholder {folder} (placeholders: {dir}"),
        (("{dir}/{stem:>5}.png",), "unknown placeholder {stem:>5}"),
        (("{dir}/{name",), "the pattern '{dir}/{name': expected '}'"),
        (("{dir}/{name}", "--classes", "1,2"), "either as MASK_B or as --classes A,B"),
    ]:
        code, stdout, err = _run(capsys, "recipe", "regions", *argv, "--out", out)
        assert (code, stdout) == (2, "") and message in err and err.count("\n") == 1, err
        assert not out.exists()
    out.write_text(json.dumps({"schema": 1, "analysis": "regions",
                               "options": {"mask_b": "{dir}/{x}"}}))  # fmt: skip
    code, _, err = _run(capsys, "batch", out, fixed, "--out", tmp_path / "t.csv")
    assert code == 2 and "unknown placeholder {x}" in err and str(out) in err


def test_retina_merges_each_images_second_mask(tmp_path, capsys):
    mask, _ = macular_hole_mask(
        (120, 200), centre_col=100.5, base_row=90.5, base_diameter=40, mld=20, neck=(8, 14),
        foot=2, top_diameter=30, height_left=30, height_right=25, retina_width=180,
    )  # fmt: skip
    left, right = mask.copy(), mask.copy()
    left[:, 100:], right[:, :100] = False, False
    _save(tmp_path / "left" / "s.png", left.astype(np.uint8))
    _save(tmp_path / "right" / "s.png", right.astype(np.uint8))
    whole = _save(tmp_path / "whole.png", mask.astype(np.uint8))
    recipe = tmp_path / "r.json"
    code, _, _ = _run(capsys, "recipe", "retina", "{dir}/../right/{name}", "--out", recipe)
    assert code == 0 and read_recipe(recipe).options["mask_b"] == "{dir}/../right/{name}"
    table = tmp_path / "t.csv"
    code, _, err = _run(capsys, "batch", recipe, tmp_path / "left", "--out", table, "--jobs", "1")
    assert code == 0, err
    (row,) = _table(table)
    code, out, _ = _run(capsys, "retina", whole, "--json")
    truth = json.loads(out)
    assert row["kind"] == truth["kind"] == "hole"
    for key in ("mld", "base_diameter", "height_left", "height_right", "tilt_deg"):
        assert float(row[key]) == pytest.approx(truth[key], rel=1e-12), key
