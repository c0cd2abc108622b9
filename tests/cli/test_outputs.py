"""``--rois OUT.zip`` and ``--annotated OUT.png`` of every analysis subcommand.

ROI sets are read back with measurer's own ImageJ reader (which undoes ImageJ's half-pixel
shift), so coordinates are compared in measurer's convention against the ``--json`` output of
the same command and against the synthetic truth. Float32 storage keeps half-integers exactly
and other coordinates to ~1e-5 px.
"""

from __future__ import annotations

import json
import math

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
from measurer.analysis.synthetic_layers import layered_image, scalebar_image
from measurer.analysis.synthetic_masks import macular_hole_mask, rectangles_mask, two_blobs_mask
from measurer.cli import blobs as blobs_cli
from measurer.cli.batch_task import write_overlay
from measurer.cli.main import main
from measurer.cli.recipe import analysis_parser
from measurer.core.annotations import Kind
from measurer.io.imagej_roi import read_rois
from measurer.io.images import read_image

COLORS = np.array([[0.85, 0.15, 0.1], [0.15, 0.6, 0.2]])
CENTRES = [(11.5, 15.5), (100.3, 150.7), (170.6, 60.2)]


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _save(path, pixels: np.ndarray):
    Image.fromarray(pixels).save(path)
    return path


def _grey(values: np.ndarray, gain: float = 255, offset: float = 0) -> np.ndarray:
    return np.clip(values * gain + offset, 0, 255).astype(np.uint8)


def _area_centroid(vertices: np.ndarray) -> tuple[float, np.ndarray]:
    """Shoelace area and area centroid ``(row, col)`` of a closed polygon."""
    r, c = vertices[:, 0], vertices[:, 1]
    r1, c1 = np.roll(r, -1), np.roll(c, -1)
    cross = r * c1 - r1 * c
    area = cross.sum() / 2
    centroid = np.array([((r + r1) * cross).sum(), ((c + c1) * cross).sum()]) / (6 * area)
    return abs(area), centroid


def _blob_mask() -> np.ndarray:
    """Four blobs without holes: a rectangle, an L, a single pixel, and two squares touching
    at a corner (one blob 8-connected, two 4-connected)."""
    mask = rectangles_mask((40, 50), [(2, 3, 4, 5), (10, 20, 8, 3), (15, 23, 3, 6), (30, 40, 1, 1)])
    mask[25:28, 5:8] = True
    mask[28:31, 8:11] = True
    return mask.astype(np.uint8)


def test_blob_rois_are_outlines_with_the_table_area_and_centroid(tmp_path, capsys):
    image = _save(tmp_path / "mask.png", _blob_mask())
    code, plain, _ = _run(capsys, "blobs", image, "--json")
    assert code == 0
    rois = tmp_path / "blobs.zip"
    code, out, err = _run(capsys, "blobs", image, "--json", "--rois", rois)
    assert (code, err, out) == (0, "", plain)  # the table is the same with or without --rois
    rows = json.loads(out)
    shapes = read_rois(rois)
    assert len(rows) == 4 and len(shapes) == 4
    for row, shape in zip(rows, shapes, strict=True):
        assert shape.kind is Kind.POLYGON and shape.label == f"blob {row['label']}"
        assert np.array_equal(shape.vertices % 1, np.full_like(shape.vertices, 0.5))  # edges
        area, centroid = _area_centroid(shape.vertices)
        assert area == row["area"]
        np.testing.assert_allclose(centroid, [row["centroid_y"], row["centroid_x"]], atol=1e-9)
        low, high = shape.vertices.min(axis=0), shape.vertices.max(axis=0)
        assert (low + 0.5).tolist() == [row["bbox_y"], row["bbox_x"]]
        assert (high - low).tolist() == [row["bbox_h"], row["bbox_w"]]

    code, out, _ = _run(capsys, "blobs", image, "--json", "--connectivity", "4", "--rois", rois)
    assert code == 0 and len(read_rois(rois)) == len(json.loads(out)) == 5
    code, out, _ = _run(capsys, "blobs", image, "--json", "--min-area", "2", "--rois", rois)
    assert [s.label for s in read_rois(rois)] == [f"blob {r['label']}" for r in json.loads(out)]


def test_blob_annotated_image_and_batch_draw_the_same(tmp_path, capsys):
    mask = _blob_mask()
    image = _save(tmp_path / "mask.png", mask)
    drawn = tmp_path / "drawn.png"
    assert _run(capsys, "blobs", image, "--annotated", drawn)[0] == 0
    rgb = np.asarray(Image.open(drawn))
    assert rgb.shape == (40, 50, 3)
    assert (rgb[38, 1] == 0).all() and (rgb[35, 25] == 0).all()  # far from every blob
    assert (rgb[13, 21] == 255).all()  # inside the L, away from its outline: white
    for row, col in [(2, 3), (5, 7), (10, 20), (17, 22), (30, 40)]:  # blob corners
        assert len(set(rgb[row, col].tolist())) > 1, (row, col)  # the outline's colour
    args = analysis_parser("blobs").parse_args([str(image)])
    batch, image_file = tmp_path / "batch.png", read_image(image)
    write_overlay(str(batch), image_file, "blobs", blobs_cli.measure(image_file, args), args)
    assert np.array_equal(np.asarray(Image.open(batch)), rgb)

    tiff, svg = tmp_path / "drawn.tif", tmp_path / "drawn.svg"
    assert (
        _run(capsys, "blobs", image, "--annotated", tiff, "--pixel-size", "0.5", "--unit", "um")[0]
        == 0
    )
    assert tifffile.imread(tiff).shape == (40, 50, 3)
    assert _run(capsys, "blobs", image, "--annotated", svg)[0] == 0
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and text.count("<polygon") + text.count("<path") >= 4


def test_no_blobs_writes_no_roi_set_but_the_image(tmp_path, capsys):
    image = _save(tmp_path / "empty.png", np.zeros((20, 30), np.uint8))
    rois, drawn = tmp_path / "none.zip", tmp_path / "none.png"
    code, out, err = _run(capsys, "blobs", image, "--rois", rois, "--annotated", drawn)
    assert code == 0 and out.startswith("label,area")
    assert err.count("\n") == 1 and "nothing found" in err and "none.zip" in err
    assert not rois.exists() and np.asarray(Image.open(drawn)).shape == (20, 30, 3)


def test_gap_rois_are_the_closest_pairs(tmp_path, capsys):
    pair = two_blobs_mask((40, 60), top=5, rows=20, left_end=20, gap=7, width=10)
    image = _save(tmp_path / "two.png", _grey(pair))
    rois = tmp_path / "gaps.zip"
    code, out, _ = _run(capsys, "gaps", image, "--json", "--rois", rois)
    assert code == 0
    (row,) = json.loads(out)
    (line,) = read_rois(rois)
    assert line.kind is Kind.LINE and line.label == "gap 1-2"
    ends = [row["closest_a"][::-1], row["closest_b"][::-1]]
    np.testing.assert_allclose(line.vertices, ends, atol=1e-5)
    assert math.dist(*line.vertices) == pytest.approx(row["min_distance"]) == pytest.approx(7)


def test_retina_rois_are_its_landmarks(tmp_path, capsys):
    hole, _ = macular_hole_mask(
        (120, 200), centre_col=100.5, base_row=90.5, base_diameter=40, mld=20, neck=(8, 14),
        foot=2, top_diameter=30, height_left=30, height_right=25, retina_width=180,
    )  # fmt: skip
    image = _save(tmp_path / "hole.png", _grey(hole))
    rois = tmp_path / "retina.zip"
    code, out, _ = _run(capsys, "retina", image, "--json", "--rois", rois)
    assert code == 0
    landmarks = json.loads(out)["landmarks"]
    shapes = read_rois(rois)
    assert landmarks and [s.label for s in shapes] == list(landmarks)
    for shape in shapes:
        assert shape.kind is Kind.POINTS and len(shape.vertices) == 1
        np.testing.assert_allclose(shape.vertices[0], landmarks[shape.label][::-1], atol=1e-4)


def test_scalebar_roi_is_one_line_of_the_bar_length(tmp_path, capsys):
    pixels, truth = scalebar_image(3, boxed=True, jpeg_quality=0)
    image = _save(tmp_path / "bar.png", pixels)
    rois, drawn = tmp_path / "bar.zip", tmp_path / "bar.png.png"
    argv = ("scalebar", image, "--length", "10", "--unit", "um", "--json")
    code, out, _ = _run(capsys, *argv, "--rois", rois, "--annotated", drawn)
    assert code == 0
    found = json.loads(out)
    (line,) = read_rois(rois)
    assert line.kind is Kind.LINE and line.label == "scale bar"
    np.testing.assert_allclose(
        line.vertices, [[found["y0"], found["x0"]], [found["y1"], found["x1"]]], atol=1e-4
    )
    assert math.dist(*line.vertices) == pytest.approx(found["length_px"], abs=1e-4)
    assert found["length_px"] == pytest.approx(truth.x1 - truth.x0, abs=0.5)
    assert np.asarray(Image.open(drawn)).shape == (*pixels.shape[:2], 3)


def test_layer_rois_are_the_profile_and_the_layer_ends(tmp_path, capsys):
    stack, _ = layered_image((120, 120), [8, 12, 10], angle_deg=30, blur=1.5, seed=1)
    image = _save(tmp_path / "stack.png", _grey(stack))
    rois = tmp_path / "layers.zip"
    argv = ("layers", image, "--line", "5,60,115,60", "--width", "3", "--json")
    code, out, _ = _run(capsys, *argv, "--rois", rois)
    assert code == 0
    found = json.loads(out)
    shapes = read_rois(rois)
    lines = [found, *found["profiles"]]  # the main profile, then the parallel ones
    assert len(shapes) == 2 * len(lines)
    for number, line in enumerate(lines):
        profile, ends = shapes[2 * number : 2 * number + 2]
        assert profile.kind is Kind.PROFILE and profile.width == 3
        assert (profile.label, ends.label) == (f"profile {number}", f"profile {number} layer ends")
        x0, y0, x1, y1 = line["line"]
        np.testing.assert_allclose(profile.vertices, [[y0, x0], [y1, x1]], atol=1e-4)
        positions = sorted({la[k] for la in line["layers"] for k in ("start", "end")})
        assert ends.kind is Kind.POINTS and len(ends.vertices) == len(positions) >= 4
        along = np.hypot(*(ends.vertices - profile.vertices[0]).T)
        np.testing.assert_allclose(along, positions, atol=1e-4)


@pytest.fixture
def match_files(tmp_path):
    scene = template_scene(CENTRES, noise=0.03, seed=1)
    image = _save(tmp_path / "scene.png", _grey(scene.image, 180))
    template = _save(tmp_path / "template.png", _grey(scene.template, 180, 20))
    return image, template, scene


def test_match_rois_are_rectangles_at_the_matches(match_files, tmp_path, capsys):
    image, template, scene = match_files
    rois, drawn = tmp_path / "match.zip", tmp_path / "match.png"
    argv = ("match", image, template, "--threshold", "0.85", "--json")
    code, out, _ = _run(capsys, *argv, "--rois", rois, "--annotated", drawn)
    assert code == 0
    matches = json.loads(out)
    boxes = read_rois(rois)
    assert len(boxes) == len(matches) == 3
    for i, (box, m) in enumerate(zip(boxes, matches, strict=True), start=1):
        assert box.kind is Kind.RECTANGLE and box.label == f"match {i}"
        corner = np.array([m["y"], m["x"]]) - 0.5
        np.testing.assert_allclose(
            box.vertices, [corner, corner + np.array([m["height"], m["width"]])], atol=1e-4
        )
    centres = sorted(box.vertices.mean(axis=0).tolist() for box in boxes)
    np.testing.assert_allclose(centres, sorted(scene.centres.tolist()), atol=0.5)

    rgb = np.asarray(Image.open(drawn)).astype(int)
    grey = np.asarray(Image.open(image)).astype(int)
    assert rgb.shape == (*grey.shape, 3)
    coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 30
    near = np.zeros(grey.shape, bool)  # within 3 px of an outline
    for box in boxes:
        (r0, c0), (r1, c1) = box.vertices
        mid = round((c0 + c1) / 2)
        assert coloured[round(r0 + 0.5), mid] and coloured[round(r1 - 0.5), mid]  # top, bottom
        assert not coloured[round((r0 + r1) / 2), mid]  # the window's middle: the image
        top, left, bottom, right = round(r0 - 3), round(c0 - 3), round(r1 + 4), round(c1 + 4)
        near[max(top, 0) : bottom, max(left, 0) : right] = True
        near[round(r0 + 4) : round(r1 - 3), round(c0 + 4) : round(c1 - 3)] = False
    far = ~near
    assert np.array_equal(rgb[far], np.repeat(grey[far][:, None], 3, axis=1))  # untouched


def test_turn_rois_are_the_turning_points(tmp_path, capsys):
    kymo = synthetic_kymograph(noise=0.25, seed=2, frames=120)
    image = _save(tmp_path / "kymo.png", _grey(kymo.image + 1, 60))
    rois = tmp_path / "turns.zip"
    code, out, _ = _run(capsys, "turns", image, "--json", "--rois", rois)
    assert code == 0
    turns = json.loads(out)["turns"]
    (points,) = read_rois(rois)
    assert points.kind is Kind.POINTS and len(turns) >= 1
    np.testing.assert_allclose(points.vertices, [[t["y"], t["x"]] for t in turns], atol=1e-4)


def test_color_rois_are_object_boxes_or_occupied_cells(tmp_path, capsys):
    image = _save(tmp_path / "discs.png", disc_scene(COLORS, [2, 1], seed=3).image)
    rois = tmp_path / "colors.zip"
    code, out, _ = _run(capsys, "colors", image, "--k", "2", "--json", "--rois", rois)
    assert code == 0
    objects = json.loads(out)["objects"]
    *boxes, centroids = read_rois(rois)
    assert len(boxes) == len(objects) == 3
    for box, o in zip(boxes, objects, strict=True):
        x, y, w, h = o["bbox"]
        assert box.kind is Kind.RECTANGLE and box.label == o["class"]
        np.testing.assert_allclose(box.vertices, [[y - 0.5, x - 0.5], [y + h - 0.5, x + w - 0.5]])
    assert centroids.kind is Kind.POINTS
    np.testing.assert_allclose(
        centroids.vertices, [[o["centroid_y"], o["centroid_x"]] for o in objects], atol=1e-4
    )

    grid = grid_scene(COLORS, np.array([[0, -1], [1, 0]]), seed=4)
    image = _save(tmp_path / "grid.png", grid.image)
    (top, left), (height, width) = grid.origin, grid.cell_size
    cells = f"{left},{top},{width},{height},2,2"
    code, out, _ = _run(
        capsys, "colors", image, "--k", "2", "--grid", cells, "--json", "--rois", rois
    )
    assert code == 0
    occupied = [c for c in json.loads(out)["cells"] if c["class"] is not None]
    boxes = read_rois(rois)
    assert len(occupied) == len(boxes) == 3
    for box, c in zip(boxes, occupied, strict=True):
        corner = np.array([top + c["row"] * height, left + c["col"] * width]) - 0.5
        np.testing.assert_allclose(box.vertices, [corner, corner + np.array([height, width])])


@pytest.mark.parametrize(
    "argv",
    [
        ("blobs", "m.png"),
        ("gaps", "m.png"),
        ("retina", "m.png"),
        ("scalebar", "m.png"),
        ("layers", "m.png", "--line", "0,0,9,9"),
        ("match", "m.png", "t.png"),
        ("turns", "m.png"),
        ("colors", "m.png", "--k", "2"),
    ],
)
def test_bad_output_names_are_one_line_errors(argv, tmp_path, capsys):
    for option, name, says in [
        ("--rois", "out.roi", "ends in .zip"),
        ("--annotated", "out.jpg", "ends in .png, .tif, .tiff or .svg"),
        ("--rois", "missing/out.zip", "no folder"),
    ]:
        code, out, err = _run(capsys, *argv, option, tmp_path / name)
        assert (code, out) == (2, ""), (argv, option)
        assert err.count("\n") == 1 and says in err and option in err, err


def test_an_unwritable_output_fails_before_the_table(tmp_path, capsys):
    image = _save(tmp_path / "mask.png", _blob_mask())
    (tmp_path / "taken.zip").mkdir()
    code, out, err = _run(capsys, "blobs", image, "--rois", tmp_path / "taken.zip")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "cannot write" in err and "taken.zip" in err
