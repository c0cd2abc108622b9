"""``measurer match``, ``measurer turns`` and ``measurer colors`` on generated image files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from measurer.analysis.synthetic_detections import (
    disc_scene,
    grid_scene,
    synthetic_kymograph,
    template_scene,
)
from measurer.cli.main import main

COLORS = np.array([[0.85, 0.15, 0.1], [0.15, 0.6, 0.2], [0.15, 0.25, 0.85], [0.9, 0.8, 0.1]])
CENTRES = [(11.5, 15.5), (100.3, 150.7), (170.6, 60.2)]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def scene_files(tmp_path):
    scene = template_scene(CENTRES, noise=0.03, seed=1)
    image = tmp_path / "scene.png"
    template = tmp_path / "template.png"
    Image.fromarray(np.clip(scene.image * 180, 0, 255).astype(np.uint8)).save(image)
    Image.fromarray(np.clip(scene.template * 180 + 20, 0, 255).astype(np.uint8)).save(template)
    return image, template, scene


def test_match_json_lists_matches_best_first(scene_files, capsys):
    image, template, scene = scene_files
    code, out, err = _run(capsys, "match", image, template, "--threshold", "0.85", "--json")
    assert (code, err) == (0, "")
    matches = json.loads(out)
    assert len(matches) == 3
    assert all(set(m) == {"x", "y", "width", "height", "score", "scale", "angle"} for m in matches)
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)
    found = np.array(sorted((m["y"] + 11.5, m["x"] + 15.5) for m in matches))
    np.testing.assert_allclose(found, sorted(scene.centres.tolist()), atol=0.5)
    assert {(m["width"], m["height"], m["scale"], m["angle"]) for m in matches} == {
        (32, 24, 1.0, 0.0)
    }


def test_match_text_and_scales_and_angles(scene_files, capsys):
    image, template, _ = scene_files
    code, out, _ = _run(
        capsys, "match", image, template, "--scales", "0.9,1,1.1", "--angles", "0,90"
    )
    assert code == 0
    assert out.splitlines()[0] == "3 matches (threshold 0.8)"
    assert len(out.splitlines()) == 5  # heading, column names, three rows


def test_match_uses_the_template_alpha(tmp_path, scene_files, capsys):
    image, template, _ = scene_files
    grey = np.array(Image.open(template))
    alpha = np.full(grey.shape, 255, np.uint8)
    alpha[:, :8] = 0
    grey[:, :8] = 0  # garbage under the transparent part
    rgba = tmp_path / "alpha.png"
    Image.fromarray(np.dstack([grey, grey, grey, alpha]), "RGBA").save(rgba)
    code, out, _ = _run(capsys, "match", image, rgba, "--threshold", "0.85", "--json")
    assert code == 0 and len(json.loads(out)) == 3


def test_match_refusals_are_one_line(tmp_path, scene_files, capsys):
    image, template, _ = scene_files
    flat = tmp_path / "flat.png"
    Image.fromarray(np.full((10, 10), 90, np.uint8)).save(flat)
    for argv, message in [
        (("match", template, image), "does not fit"),
        (("match", image, flat), "flat"),
        (("match", image, template, "--scales", "1,x"), "--scales"),
        (("match", image, template, "--threshold", "2"), "threshold"),
        (("match", image, tmp_path / "missing.png"), "missing.png"),
    ]:
        code, out, err = _run(capsys, *argv)
        assert code == 2 and out == ""
        assert err.startswith("measurer: error:") and message in err and err.count("\n") == 1


def test_turns_json_trace_and_turns(tmp_path, capsys):
    kymo = synthetic_kymograph(noise=0.25, seed=2)
    path = tmp_path / "kymo.tif"
    image = np.clip((kymo.image + 1) * 4000, 0, 65535).astype(np.uint16)
    tifffile.imwrite(path, image)
    code, out, err = _run(capsys, "turns", path, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {"trace", "turns"}
    trace = np.array(data["trace"])
    assert trace.shape == (240, 2) and trace[:, 0].tolist() == list(range(240))  # x = frame
    assert np.abs(trace[:, 1] - kymo.positions).max() < 1.0
    frames = [t["frame"] for t in data["turns"]]
    assert np.abs(np.array(frames) - kymo.turn_frames).max() <= 2
    first = data["turns"][0]
    assert set(first) == {"x", "y", "frame", "direction_before", "direction_after"}
    assert first["x"] == first["frame"]
    assert {first["direction_before"], first["direction_after"]} == {"up", "down"}

    tifffile.imwrite(path, np.ascontiguousarray(image.T))
    code, out, _ = _run(capsys, "turns", path, "--axis", "y", "--json")
    data = json.loads(out)
    assert [t["frame"] for t in data["turns"]] == frames
    assert {data["turns"][0]["direction_before"], data["turns"][0]["direction_after"]} == {
        "left",
        "right",
    }
    code, out, _ = _run(capsys, "turns", path, "--axis", "y", "--min-prominence", "500")
    assert code == 0 and out.splitlines()[0] == "curve traced over frames 0-239; 0 turns"
    code, _, err = _run(capsys, "turns", path, "--min-prominence", "-1")
    assert code == 2 and "min_prominence" in err


def test_colors_counts_objects_per_class(tmp_path, capsys):
    scene = disc_scene(COLORS, [2, 3, 1, 2], seed=3)
    path = tmp_path / "discs.png"
    Image.fromarray(scene.image).save(path)
    classes = []
    for name, color in zip(["red", "green", "blue", "yellow"], COLORS, strict=True):
        classes += ["--class", f"{name}=" + ",".join(str(round(v * 255)) for v in color)]
    code, out, err = _run(capsys, "colors", path, *classes, "--min-area", "50", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["counts"] == {"red": 2, "green": 3, "blue": 1, "yellow": 2}
    assert set(data["objects"][0]) == {"class", "area", "centroid_x", "centroid_y", "bbox"}
    for obj in data["objects"]:
        x, y, w, h = obj["bbox"]
        assert x <= obj["centroid_x"] <= x + w - 1 and y <= obj["centroid_y"] <= y + h - 1
    centres = sorted((o["centroid_y"], o["centroid_x"]) for o in data["objects"])
    np.testing.assert_allclose(centres, sorted(scene.centres.tolist()), atol=1.0)

    code, out, _ = _run(capsys, "colors", path, "--k", "4", "--min-area", "50", "--json")
    assert json.loads(out)["counts"] == {"c0": 2, "c1": 2, "c2": 3, "c3": 1}  # hue order


def test_colors_grid(tmp_path, capsys):
    occupancy = np.array([[0, -1, 1], [2, 3, -1]])
    scene = grid_scene(COLORS, occupancy, seed=4)
    path = tmp_path / "grid.png"
    Image.fromarray(scene.image).save(path)
    (top, left), (height, width) = scene.origin, scene.cell_size
    grid = f"{left},{top},{width},{height},2,3"
    code, out, _ = _run(capsys, "colors", path, "--k", "4", "--grid", grid, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["cells"][:3] == [
        {"row": 0, "col": 0, "class": "c0"},
        {"row": 0, "col": 1, "class": None},
        {"row": 0, "col": 2, "class": "c2"},
    ]
    assert [c["class"] for c in data["cells"][3:]] == ["c3", "c1", None]
    assert data["counts"] == {"c0": 1, "c1": 1, "c2": 1, "c3": 1}
    code, out, _ = _run(capsys, "colors", path, "--k", "4", "--grid", grid)
    assert code == 0 and out.splitlines()[0] == "6 cells (c0: 1, c1: 1, c2: 1, c3: 1)"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "--k N"),
        (("--k", "2", "--class", "a=1,2,3"), "not allowed"),
        (("--class", "a=1,2"), "3 comma-separated"),
        (("--class", "=1,2,3"), "NAME=R,G,B"),
        (("--class", "a=1,2,3", "--class", "a=4,5,6"), "twice"),
        (("--k", "2", "--grid", "1,2,3"), "--grid"),
        (("--k", "2", "--grid", "0,0,10,10,1.5,2"), "whole numbers"),
        (("--k", "2", "--grid", "0,0,500,500,2,2"), "does not fit"),
        (("--k", "2", "--min-area", "0"), "--min-area"),
    ],
)
def test_colors_refusals_are_one_line(tmp_path, capsys, extra, message):
    path = tmp_path / "discs.png"
    Image.fromarray(disc_scene(COLORS, [1, 1, 1, 1], seed=5).image).save(path)
    code, out, err = _run(capsys, "colors", path, *extra)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
