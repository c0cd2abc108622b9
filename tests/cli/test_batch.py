"""``measurer recipe`` and ``measurer batch``: tables, errors, resuming, processes and Dask.

Also checks each table analysis's ``measure(image_file, args)``: the rows are its JSON output,
flattened as its module docstring says.
"""

from __future__ import annotations

import csv
import importlib
import json
import multiprocessing
import os
import shutil
import sys

import numpy as np
import pytest
import tifffile
from openpyxl import load_workbook
from PIL import Image

from measurer.analysis.blobs import blob_stats
from measurer.analysis.scalebar_label import tesseract_available
from measurer.analysis.synthetic_detections import (
    disc_scene,
    grid_scene,
    synthetic_kymograph,
    template_scene,
)
from measurer.analysis.synthetic_layers import layered_image, scalebar_image
from measurer.analysis.synthetic_masks import (
    macular_hole_mask,
    rectangles_mask,
    two_blobs_mask,
)
from measurer.cli import blobs as blobs_cli
from measurer.cli.batch_task import write_overlay
from measurer.cli.main import main
from measurer.cli.recipe import analysis_parser, recipe_args
from measurer.io import batch as batch_module
from measurer.io.batch import run_batch
from measurer.io.batch_files import find_images
from measurer.io.images import read_image
from measurer.io.recipes import Recipe, RecipeCalibration, read_recipe
from measurer.io.samples import sample_paths
from measurer.io.tables import write_rows

#: Blobs per good image of the test folder (each a 4 x 5 rectangle, or a 3 x 3 square).
COUNTS = {"a.png": 1, "b.png": 3, "sub/c.png": 2, "sub/deeper/d.tif": 4}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _mask(count: int) -> np.ndarray:
    rects = [(2 + 7 * i, 3 + 2 * i, 4, 5) for i in range(count)] + [(1, 20, 1, 2)]  # + a speck
    return rectangles_mask((32, 24), rects)


@pytest.fixture
def folder(tmp_path):
    """Good masks with known blob counts, a corrupt PNG, an empty file and a text file."""
    root = tmp_path / "images"
    for name, count in COUNTS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.where(_mask(count), 255, 0).astype(np.uint8)
        if name.endswith(".tif"):
            tifffile.imwrite(path, pixels)
        else:
            Image.fromarray(pixels).save(path)
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (root / "sub" / "empty.png").write_bytes(b"")
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def recipe(tmp_path, capsys):
    path = tmp_path / "blobs.json"
    assert _run(capsys, "recipe", "blobs", "--min-area", "5", "--out", path)[0] == 0
    return path


def _table(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _batch(capsys, recipe, *inputs, out, extra=()):
    return _run(capsys, "batch", recipe, *inputs, "--out", out, *extra)


@pytest.fixture
def counted(monkeypatch):
    """Count the calls of ``blobs.measure`` (in this process); ``stop_after`` interrupts."""
    calls = {"n": 0, "stop_after": None}
    measure = blobs_cli.measure

    def counting(image_file, args):
        if calls["stop_after"] is not None and calls["n"] == calls["stop_after"]:
            raise KeyboardInterrupt
        calls["n"] += 1
        return measure(image_file, args)

    monkeypatch.setattr(blobs_cli, "measure", counting)
    return calls


def test_batch_over_a_folder(folder, recipe, tmp_path, capsys):
    out = tmp_path / "table.csv"
    code, stdout, err = _batch(capsys, recipe, folder, out=out, extra=("--jobs", "1"))
    assert code == 3 and stdout == ""
    assert "6 images: 4 measured, 2 failed" in err
    rows = _table(out)
    assert list(rows[0])[:3] == ["path", "label", "area"]
    by_path: dict[str, list[dict]] = {}
    for row in rows:
        by_path.setdefault(row["path"], []).append(row)
    assert list(by_path) == [str(folder / name) for name in COUNTS]  # folder order, recursive
    args = recipe_args(read_recipe(recipe))
    for name, count in COUNTS.items():
        path = folder / name
        got = by_path[str(path)]
        assert len(got) == count  # the 2-pixel speck is below --min-area 5
        image = read_image(path)
        direct = blob_stats(image.page(0) > 0, min_area=5)
        assert [int(r["area"]) for r in got] == direct.area.tolist() == [20] * count
        np.testing.assert_allclose([float(r["centroid_x"]) for r in got], direct.centroid[:, 1])
        expected = blobs_cli.measure(image, args)
        assert [{k: str(v) for k, v in r.items()} for r in expected] == [
            {k: v for k, v in r.items() if k != "path"} for r in got
        ]
    errors = _table(tmp_path / "table.errors.csv")
    assert [e["path"] for e in errors] == [
        str(folder / "broken.png"),
        str(folder / "sub/empty.png"),
    ]
    assert "file is corrupt" in errors[0]["error"] and "file is empty" in errors[1]["error"]


def test_inputs_in_order_once_each(folder):
    first = folder / "sub" / "c.png"
    pattern = str(folder / "sub" / "*")
    found = find_images([str(first), str(folder), pattern], skip=[folder / "sub" / "deeper"])
    names = [str(p.relative_to(folder)) for p in found]
    assert names == ["sub/c.png", "a.png", "b.png", "broken.png", "sub/empty.png"]
    assert found[0] == first  # as given, not resolved


def test_an_image_without_blobs_has_a_row_with_its_path_only(tmp_path, recipe, capsys):
    path = tmp_path / "blank.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)
    code, _, err = _batch(capsys, recipe, path, out=tmp_path / "t.csv", extra=("--jobs", "1"))
    assert code == 0 and "1 image: 1 measured; 1 row in" in err
    assert (tmp_path / "t.csv").read_bytes().decode("utf-8-sig") == f"path\r\n{path}\r\n"
    assert _table(tmp_path / "t.errors.csv") == []


def test_interrupted_batch_resumes(folder, recipe, tmp_path, capsys, counted):
    out = tmp_path / "table.csv"
    counted["stop_after"] = 2
    code, _, err = _batch(capsys, recipe, folder, out=out, extra=("--jobs", "1"))
    assert code == 130 and "interrupted" in err and not out.exists()
    assert counted["n"] == 2
    counted.update(n=0, stop_after=None)
    code, _, err = _batch(capsys, recipe, folder, out=out, extra=("--jobs", "1"))
    assert code == 3 and counted["n"] == 2  # only the two good images not measured before
    assert "2 measured, 2 kept from an earlier run, 2 failed" in err
    complete = _table(out)
    assert len(complete) == sum(COUNTS.values())

    counted["n"] = 0
    assert _batch(capsys, recipe, folder, out=out, extra=("--jobs", "1"))[0] == 3
    assert counted["n"] == 0 and _table(out) == complete  # everything kept
    changed = folder / "a.png"
    Image.fromarray(np.where(_mask(2), 255, 0).astype(np.uint8)).save(changed)
    os.utime(changed, ns=(1, 1))
    assert _batch(capsys, recipe, folder, out=out, extra=("--jobs", "1"))[0] == 3
    assert counted["n"] == 1  # the changed image only
    assert sum(r["path"] == str(changed) for r in _table(out)) == 2

    counted["n"] = 0
    assert _batch(capsys, recipe, folder, out=out, extra=("--jobs", "1", "--force"))[0] == 3
    assert counted["n"] == 4

    other = tmp_path / "other.json"
    _run(capsys, "recipe", "blobs", "--min-area", "1", "--out", other)
    counted["n"] = 0
    code, _, err = _batch(capsys, other, folder, out=out, extra=("--jobs", "1"))
    assert code == 3 and counted["n"] == 4 and "starting over" in err
    assert len(_table(out)) == sum(COUNTS.values()) + 5  # the specks count now


@pytest.mark.parametrize("start", ["forkserver", "spawn"])
def test_jobs_2_gives_the_same_table_as_jobs_1(
    folder, recipe, tmp_path, capsys, monkeypatch, start
):
    # Workers fork from a server process on Linux; elsewhere (and frozen) they are spawned.
    if start == "spawn":
        monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    elif not sys.platform.startswith("linux"):
        pytest.skip("workers start from a fork server on Linux only")
    assert batch_module._process_context(_rows_by_name).get_start_method() == start
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert _batch(capsys, recipe, folder, out=one, extra=("--jobs", "1"))[0] == 3
    assert _batch(capsys, recipe, folder, out=two, extra=("--jobs", "2"))[0] == 3
    assert one.read_bytes() == two.read_bytes()
    assert (tmp_path / "one.errors.csv").read_bytes() == (tmp_path / "two.errors.csv").read_bytes()


def _rows_by_name(path: str, annotated: str | None) -> list[dict]:
    """A stand-in analysis for run_batch: rows that depend on the file's name."""
    name = os.path.basename(path).split(".")[0]
    if name == "bad":
        raise ValueError("cannot measure this one")
    extra = {"note": 'a "quoted", text'} if name == "extra" else {}
    return [] if name == "none" else [{"label": i, "value": i / 3, **extra} for i in range(3)]


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.json"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_combined_table_is_the_table_of_all_rows(tmp_path, name, jobs):
    # Workers format their own lines; images whose columns differ from the table's (here the
    # first two, before "note" appears, and one with no rows) are formatted again.
    names = ["a", "b", "extra", "none", "bad", "c"]
    paths = [tmp_path / f"{n}.png" for n in names]
    for path in paths:
        path.write_bytes(b"")
    out = tmp_path / name
    result = run_batch([str(p) for p in paths], _rows_by_name, out, jobs=jobs, xlsx=True)
    assert (result.images, result.measured, result.failed, result.rows) == (6, 5, 1, 13)
    rows = []
    for path in paths:
        if path.stem != "bad":
            rows += [{"path": str(path), **r} for r in _rows_by_name(str(path), None)] or [
                {"path": str(path)}
            ]
    expected = write_rows(
        tmp_path / f"expected{out.suffix}", ["path", "label", "value", "note"], rows
    )
    assert out.read_bytes() == expected.read_bytes()
    assert len(load_workbook(out.with_suffix(".xlsx")).active["A"]) == 14
    errors = (tmp_path / f"t.errors{out.suffix}").read_bytes()
    assert b"bad.png" in errors and b"cannot measure this one" in errors


def test_dask_cluster_gives_the_same_table(folder, recipe, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local.csv"
    assert _batch(capsys, recipe, folder, out=local, extra=("--jobs", "1"))[0] == 3
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    with cluster:
        remote = tmp_path / "dask.csv"
        code, _, _ = _batch(
            capsys, recipe, folder, out=remote, extra=("--scheduler", cluster.scheduler_address)
        )
    assert code == 3
    assert local.read_bytes() == remote.read_bytes()
    errors = tmp_path / "dask.errors.csv"
    assert errors.read_bytes() == (tmp_path / "local.errors.csv").read_bytes()


def test_scheduler_without_dask_is_a_usage_error(folder, recipe, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    code, _, err = _batch(
        capsys, recipe, folder, out=tmp_path / "t.csv", extra=("--scheduler", "tcp://h:1")
    )
    assert code == 2 and err == (
        "measurer: error: --scheduler needs Dask distributed: pip install 'measurer[dask]'\n"
    )


def test_usage_errors_exit_2_with_one_line(folder, recipe, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": 1, "analysis": "blobs", "options": {"min-area": "x"}}))
    out = tmp_path / "t.csv"
    cases = [
        (bad, (folder,), (), "argument --min-area: invalid int value: 'x'"),
        (tmp_path / "none.json", (folder,), (), "cannot read the recipe"),
        (recipe, (tmp_path / "nowhere",), (), "no such file or folder"),
        (recipe, (str(tmp_path / "*.tif"),), (), "no file matches"),
        (recipe, (tmp_path / "blobs.json",), ("--jobs", "0"), "--jobs must be at least 1"),
        (recipe, (folder,), ("--jobs", "2", "--scheduler", "tcp://x:1"), "not allowed with"),
    ]
    for recipe_path, inputs, extra, message in cases:
        code, stdout, err = _batch(capsys, recipe_path, *inputs, out=out, extra=extra)
        assert code == 2 and stdout == "", err
        assert err.startswith("measurer: error:") and message in err and err.count("\n") == 1, err
    code, _, err = _batch(capsys, recipe, folder, out=tmp_path / "no" / "t.csv")
    assert code == 2 and "does not exist" in err
    assert not out.exists()


def test_globs_xlsx_and_fixed_calibration(folder, tmp_path, capsys):
    recipe = tmp_path / "r.json"
    argv = ("recipe", "blobs", "--min-area", "5", "--pixel-size", "0.5,2", "--unit", "um")
    assert _run(capsys, *argv, "--out", recipe)[0] == 0
    assert read_recipe(recipe).calibration == RecipeCalibration("fixed", (0.5, 2.0), "µm")
    out = tmp_path / "t.csv"
    pattern = str(folder / "**" / "*.png")
    code, _, _ = _batch(capsys, recipe, pattern, out=out, extra=("--jobs", "1", "--xlsx"))
    assert code == 3  # the broken and the empty PNG
    rows = _table(out)
    assert {r["path"] for r in rows} == {str(folder / n) for n in COUNTS if n.endswith(".png")}
    assert all(float(r["area_unit"]) == float(r["area"]) * 1.0 for r in rows)
    assert all(float(r["bbox_h_unit"]) == float(r["bbox_h"]) * 2 for r in rows)
    assert {r["unit"] for r in rows} == {"µm"}
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert sheet.max_row == len(rows) + 1 and sheet.cell(1, 1).value == "path"


def test_scalebar_calibration_per_image(tmp_path, capsys):
    image, truth = scalebar_image(3, boxed=True, jpeg_quality=0)
    Image.fromarray(image).save(tmp_path / "bar.png")
    Image.fromarray(np.full((120, 160), 128, np.uint8)).save(tmp_path / "plain.png")
    recipe = tmp_path / "r.json"
    data = {"schema": 1, "analysis": "blobs", "options": {"threshold": 240, "min-area": 3}}
    data["calibration"] = {"mode": "scalebar", "bar_length": 10, "unit": "um"}
    recipe.write_text(json.dumps(data))
    out = tmp_path / "t.csv"
    code, _, _ = _batch(capsys, recipe, tmp_path, out=out, extra=("--jobs", "1"))
    assert code == 3
    errors = _table(tmp_path / "t.errors.csv")
    assert errors == [
        {"path": str(tmp_path / "plain.png"), "error": "no scale bar found in the image"}
    ]
    size = 10 / truth.length
    for row in _table(out):
        assert row["path"] == str(tmp_path / "bar.png") and row["unit"] == "µm"
        assert float(row["bbox_w_unit"]) / float(row["bbox_w"]) == pytest.approx(size, rel=0.02)


def test_recipe_bar_length_option_and_the_uncertain_label_message(tmp_path, capsys):
    made = tmp_path / "made.json"
    argv = ("recipe", "--scalebar", "blobs", "--threshold", "240", "--bar-length", "10", "um")
    assert _run(capsys, *argv, "--out", made)[0] == 0
    assert json.loads(made.read_text())["calibration"] == {
        "mode": "scalebar", "bar_length": 10.0, "unit": "µm",
    }  # fmt: skip
    code, _, err = _run(capsys, "recipe", "blobs", "--bar-length", "10", "--out", made)
    assert code == 2 and "--bar-length needs a length and a unit" in err
    code, _, err = _run(capsys, "recipe", "blobs", "--bar-length", "1", "parsec", "--out", made)
    assert code == 2 and "unknown length unit 'parsec'" in err
    if not tesseract_available():
        return
    # The bundled layered sample's "1 um" is read as "Tum": a guess the batch does not take.
    plain = tmp_path / "plain.json"
    assert _run(capsys, "recipe", "--scalebar", "scalebar", "--out", plain)[0] == 0
    sample = sample_paths()["layered_micrograph.png"]
    code, _, _ = _batch(capsys, plain, sample, out=tmp_path / "t.csv", extra=("--jobs", "1"))
    assert code == 3
    (error,) = _table(tmp_path / "t.errors.csv")
    assert "'Tum' was read as 1 µm, which is uncertain" in error["error"]
    assert error["error"].endswith("make the recipe with --bar-length 1 µm")


def test_annotated_pngs_mirror_the_folders(folder, recipe, tmp_path, capsys):
    annotated = folder / "annotated"  # inside the input folder: not measured on the next run
    out = tmp_path / "t.csv"
    extra = ("--jobs", "1", "--annotated", annotated)
    assert _batch(capsys, recipe, folder, out=out, extra=extra)[0] == 3
    written = sorted(str(p.relative_to(annotated)) for p in annotated.rglob("*.png"))
    assert written == sorted(n.rsplit(".", 1)[0] + ".png" for n in COUNTS)
    drawn = np.asarray(Image.open(annotated / "b.png"))
    assert drawn.shape == (32, 24, 3)
    assert (drawn[30, 0] == 0).all()  # far from every blob: the mask as it is
    assert (drawn[2, 3] != drawn[2, 3, 0]).any()  # a box corner is drawn in colour
    assert _batch(capsys, recipe, folder, out=out, extra=extra)[2].count("4 kept") == 1
    shutil.rmtree(annotated / "sub")
    err = _batch(capsys, recipe, folder, out=out, extra=extra)[2]
    assert "2 measured, 2 kept" in err and (annotated / "sub" / "deeper" / "d.png").exists()


def test_recipe_command(tmp_path, capsys, monkeypatch):
    template = tmp_path / "t.png"
    Image.fromarray(np.eye(8, dtype=np.uint8) * 200).save(template)
    out = tmp_path / "m.json"
    monkeypatch.chdir(tmp_path)
    code, stdout, err = _run(capsys, "recipe", "match", "t.png", "--threshold", "0.9", "--out", out)
    assert (code, stdout, err) == (0, "", "")
    recipe = read_recipe(out)
    assert recipe.options == {"template": str(template), "threshold": 0.9}
    layers = tmp_path / "l.json"
    argv = ("recipe", "--out", layers, "layers", "--roi", "1,2,30,40", "--auto", "--scalebar")
    assert _run(capsys, *argv)[0] == 0
    assert read_recipe(layers) == Recipe(
        "layers", {"auto": True}, RecipeCalibration("scalebar"), (1, 2, 30, 40)
    )
    colors = tmp_path / "c.json"
    argv = ("recipe", "colors", "--class", "a=1,2,3", "--class", "b=4,5,6", "--out=" + str(colors))
    assert _run(capsys, *argv)[0] == 0
    assert read_recipe(colors).options == {"class": ["a=1,2,3", "b=4,5,6"]}
    for argv, message in [
        (("recipe", "blobs", "--min-area", "5"), "--out RECIPE.json is required"),
        (("recipe", "blobs", "--min-area", "x", "--out", out), "invalid int value: 'x'"),
        (("recipe", "blobs", "--min-area", "0", "--out", out), "--min-area must be at least 1"),
        (("recipe", "blobs", "--json", "--out", out), "--json is not a recipe option"),
        (("recipe", "blobs", "x.png", "--out", out), "unrecognized arguments: x.png"),
        (("recipe", "blob", "--out", out), "invalid choice: 'blob'"),
        (("recipe", "blobs", "--out", out, "--out", out), "--out is given twice"),
    ]:
        code, stdout, err = _run(capsys, *argv)
        assert code == 2 and stdout == "" and message in err and err.count("\n") == 1, err


def _flat(analysis: str, data) -> list[dict]:
    """The rows each analysis's module docstring promises, from its JSON output."""
    if analysis in ("blobs", "gaps"):
        return [blobs_cli.flat_row(row) for row in data]
    if analysis == "retina":
        row = {k: v for k, v in data.items() if k not in ("landmarks", "unit")}
        for name, (x, y) in data["landmarks"].items():
            row[f"{name}_x"], row[f"{name}_y"] = x, y
        return [{**row, "unit": data["unit"]}]
    if analysis == "layers":
        rows = []
        for number, line in enumerate([data, *data["profiles"]]):
            x0, y0, x1, y1 = line["line"]
            base = {"profile": number, "line_x0": x0, "line_y0": y0, "line_x1": x1, "line_y1": y1}
            base |= {k: line[k] for k in ("dark_count", "light_count", "period_px")}
            base["orientation_deg"] = line["orientation_deg"]
            for layer in line["layers"]:
                rest = {k: v for k, v in layer.items() if k != "index"}
                rows.append({**base, "layer": layer["index"], **rest, "unit": line["unit"]})
        return rows
    if analysis == "turns":
        return data["turns"]
    if analysis == "colors" and "cells" in data:
        return data["cells"]
    if analysis == "colors":
        return [
            {
                **{k: v for k, v in o.items() if k != "bbox"},
                **dict(zip(BBOX, o["bbox"], strict=True)),
            }
            for o in data["objects"]
        ]
    return data if isinstance(data, list) else [data]


BBOX = ("bbox_x", "bbox_y", "bbox_w", "bbox_h")


def _scenes(tmp_path) -> dict[str, tuple]:
    """Per analysis: an image file and the subcommand's arguments after it."""

    def save(name: str, pixels: np.ndarray):
        Image.fromarray(pixels).save(tmp_path / name)
        return tmp_path / name

    def grey(values: np.ndarray, gain: float = 255, offset: float = 0) -> np.ndarray:
        return np.clip(values * gain + offset, 0, 255).astype(np.uint8)

    pair = two_blobs_mask((40, 60), top=5, rows=20, left_end=20, gap=7, width=10)
    mask = save("two.png", grey(pair))
    hole, _ = macular_hole_mask(
        (120, 200), centre_col=100.5, base_row=90.5, base_diameter=40, mld=20, neck=(8, 14),
        foot=2, top_diameter=30, height_left=30, height_right=25, retina_width=180,
    )  # fmt: skip
    stack, _ = layered_image((120, 120), [8, 12, 10], angle_deg=30, blur=1.5, seed=1)
    bar, _ = scalebar_image(3, boxed=True, jpeg_quality=0)
    scene = template_scene([(40.5, 60.5), (150.2, 200.7)], noise=0.03, seed=1)
    kymo = synthetic_kymograph(noise=0.25, seed=2, frames=120)
    colors = np.array([[0.85, 0.15, 0.1], [0.15, 0.6, 0.2]])
    grid = grid_scene(colors, np.array([[0, -1], [1, 0]]), seed=4)
    (top, left), (height, width) = grid.origin, grid.cell_size
    template = save("template.png", grey(scene.template, 180, 20))
    cells = ("--k", "2", "--grid", f"{left},{top},{width},{height},2,2")
    return {
        "blobs": (mask, ()),
        "gaps": (mask, ("--pixel-size", "0.5,0.25", "--unit", "um")),
        "retina": (save("hole.png", grey(hole)), ()),
        "layers": (save("stack.png", grey(stack)), ("--line", "5,60,115,60")),
        "scalebar": (save("bar.png", bar), ("--length", "10", "--unit", "um")),
        "match": (save("scene.png", grey(scene.image, 180)), (template,)),
        "turns": (save("kymo.png", grey(kymo.image + 1, 60)), ()),
        "colors": (save("discs.png", disc_scene(colors, [2, 1], seed=3).image), ("--k", "2")),
        "colors --grid": (save("grid.png", grid.image), cells),
    }


def test_measure_gives_the_json_output_as_rows(tmp_path, capsys):
    for name, (image, extra) in _scenes(tmp_path).items():
        analysis = name.split()[0]
        code, stdout, err = _run(capsys, analysis, image, *extra, "--json")
        assert code == 0, err
        expected = _flat(analysis, json.loads(stdout))
        assert expected, name
        args = analysis_parser(analysis).parse_args([str(image), *map(str, extra)])
        module = importlib.import_module(f"measurer.cli.{analysis}")
        image_file = read_image(image)
        measured = module.measure(image_file, args)
        rows = json.loads(json.dumps(measured, allow_nan=True))
        rows = [{k: None if v != v else v for k, v in row.items()} for row in rows]  # NaN: null
        assert rows == expected, name
        assert all(not isinstance(v, list | dict) for row in rows for v in row.values())
        drawn = tmp_path / f"{name}.annotated.png"  # what --annotated draws of these rows
        write_overlay(str(drawn), image_file, analysis, measured, args)
        assert np.asarray(Image.open(drawn)).shape[:2] == image_file.page(0).shape[:2]


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_terminal_else_lines():
    from measurer.cli.batch import BatchProgress

    log = _Stream(tty=False)
    progress = BatchProgress(log, every=0.0)
    progress(1, 3, 0)
    progress(2, 3, 1)
    progress(3, 3, 1)  # the summary line says the end
    progress.finish()
    lines = log.text.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "measurer batch: 1/3 images",
        "measurer batch: 2/3 images",
    ]
    assert lines[1].endswith("images/s, 1 failed")
    terminal = _Stream(tty=True)
    progress = BatchProgress(terminal)
    progress(3, 3, 0)
    progress.finish()
    assert terminal.text.startswith("\rmeasuring [") and " 3/3 " in terminal.text
    assert "images/s" in terminal.text and terminal.text.endswith("\n")
