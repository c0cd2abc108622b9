"""Recipes from GUI analysis steps: options, calibration, template file, refusals; and the batch
running such a recipe gives what the analysis gives on the same image."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from measurer.analysis.blobs import blob_stats
from measurer.analysis.synthetic_masks import rectangles_mask
from measurer.core.calibration import Calibration
from measurer.core.commands import AnalysisStep
from measurer.io.recipe_from_steps import (
    UnsupportedStep,
    recipe_calibration,
    recipe_from_step,
    save_step_recipe,
)
from measurer.io.recipes import read_recipe

MASKS = {
    "source": "image",
    "foreground": "threshold",
    "threshold": 100.0,
    "class_a": None,
    "connectivity": 4,
    "min_area": 3,
    "roi": {"rect": [2, 1, 30, 35]},
    "preset": "none",
}


def test_a_masks_step_becomes_a_blobs_recipe_with_its_roi_in_x_y_order():
    recipe = recipe_from_step(AnalysisStep("masks", MASKS), Calibration.uncalibrated())
    assert recipe.analysis == "blobs"
    assert dict(recipe.options) == {"threshold": 100.0, "connectivity": 4, "min-area": 3}
    assert recipe.roi == (1, 2, 35, 30)
    assert recipe.calibration.mode == "metadata"
    by_class = recipe_from_step(
        AnalysisStep("masks", {**MASKS, "foreground": "class", "class_a": [255, 0, 0]}),
        Calibration.uncalibrated(),
    )
    assert by_class.options["class"] == "255,0,0"


def test_the_calibration_follows_where_the_documents_came_from():
    manual = Calibration(0.5, 0.25, "um", "manual", "line")
    setup = recipe_calibration(manual)
    assert (setup.mode, setup.pixel_size, setup.unit) == ("fixed", (0.5, 0.25), "µm")
    assert recipe_calibration(Calibration(2, 2, "nm", "metadata")).mode == "metadata"
    assert recipe_calibration(Calibration(2, 2, "nm", "scalebar")).mode == "scalebar"
    assert recipe_calibration(Calibration.uncalibrated()).mode == "metadata"


def test_turns_and_scalebar_steps():
    turns = {"axis": "y", "method": "centroid", "min_prominence": 7.5, "min_separation": 5}
    recipe = recipe_from_step(AnalysisStep("turns", turns), Calibration.uncalibrated())
    assert (recipe.analysis, dict(recipe.options)) == (
        "turns",
        {"axis": "y", "min-prominence": 7.5},
    )
    bar = recipe_from_step(AnalysisStep("scalebar", {}), Calibration(1, 1, "um", "scalebar"))
    assert (bar.analysis, bar.calibration.mode) == ("scalebar", "metadata")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (AnalysisStep("masks", {**MASKS, "source": "two_masks"}), "two masks needs the files"),
        (
            AnalysisStep("masks", {**MASKS, "source": "two_classes", "preset": "hole"}),
            "retina preset on two classes",
        ),
        (
            AnalysisStep(
                "masks",
                {**MASKS, "source": "two_classes", "class_b": 2, "roi": {"polygon": [[0, 0]]}},
            ),
            "polygon ROI",
        ),
        (AnalysisStep("masks", {**MASKS, "preset": "pit"}), "retina has no ROI"),
        (AnalysisStep("masks", {**MASKS, "roi": {"polygon": [[0, 0]]}}), "polygon ROI"),
        (AnalysisStep("match", {"pyramid": True}), "pyramid"),
        (AnalysisStep("turns", {"method": "ridge"}), "method"),
        (AnalysisStep("similar", {}), "'similar' analysis cannot be saved"),
    ],
)
def test_steps_no_recipe_can_express_say_why(step, message):
    with pytest.raises(UnsupportedStep, match=message):
        recipe_from_step(step, Calibration.uncalibrated(), template_file="t.png")


def test_a_match_recipe_writes_the_rectangles_crop_beside_it(tmp_path):
    image = np.arange(40 * 50, dtype=np.uint16).reshape(40, 50).astype(np.uint8)
    # Corners on pixel edges around rows 3..9 and columns 5..16.
    step = AnalysisStep(
        "match",
        {"template": "rectangle", "template_box": [2.5, 4.5, 9.5, 16.5], "threshold": 0.7,
         "scales": [1.0], "angles": [0.0, 90.0], "pyramid": False},
    )  # fmt: skip
    path = save_step_recipe(tmp_path / "find.json", step, Calibration.uncalibrated(), image)
    recipe = read_recipe(path)
    assert dict(recipe.options) == {
        "template": "find.template.png", "threshold": 0.7, "angles": "0,90",
    }  # fmt: skip
    saved = np.asarray(Image.open(tmp_path / "find.template.png"))
    np.testing.assert_array_equal(saved, image[3:10, 5:17])


def test_the_batch_running_a_masks_recipe_gives_the_blob_analysis(tmp_path):
    from measurer.cli.batch import _task
    from measurer.io.batch import run_batch

    rects = [(3, 3, 4, 4), (3, 12, 1, 2), (20, 20, 9, 9), (5, 30, 3, 3)]
    mask = rectangles_mask((40, 40), rects)
    image = np.where(mask, 200, 40).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "grey.png")
    path = save_step_recipe(
        tmp_path / "r.json", AnalysisStep("masks", MASKS), Calibration.uncalibrated(), image
    )
    task, fingerprint = _task(str(path))
    result = run_batch([tmp_path / "grey.png"], task, tmp_path / "t.csv", fingerprint=fingerprint)
    assert result.failed == 0
    with open(tmp_path / "t.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    inside = np.zeros_like(mask)
    inside[2:32, 1:36] = mask[2:32, 1:36]
    expected = blob_stats(inside, connectivity=4, min_area=3)
    assert len(rows) == len(expected) == 3  # the 1×2 blob is under min_area
    assert [int(r["area"]) for r in rows] == expected.area.tolist()
    np.testing.assert_allclose(
        [(float(r["centroid_y"]), float(r["centroid_x"])) for r in rows], expected.centroid
    )


# --- layers, colours and retina runs: the batch gives the panel's analysis -------------------


def batch_rows(recipe, image, tmp_path) -> list[dict]:
    """The rows ``measurer batch`` gives for ``image`` with ``recipe``, read back from its file."""
    from measurer.cli.batch import _task
    from measurer.io.recipes import write_recipe

    task, _ = _task(str(write_recipe(tmp_path / "recipe.json", recipe)))
    return task(str(image))


def no_progress(*_):
    return None


def layers_run(image, **request):
    """What the Layers panel's worker returns for ``request`` (its keys, its defaults)."""
    from measurer.gui.panels.layers_task import find_layers

    asked = {"band_width": 9, "profiles": 1, "smoothing": 1.0, "spacing": (1.0, 1.0)}
    asked = {**asked, "roi": None, "line": None, **request}
    return find_layers(image, asked, progress=no_progress, cancelled=lambda: False)


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    from measurer.analysis.synthetic_layers import layered_image

    image, truth = layered_image((160, 200), [12.0, 9.0, 15.0, 10.0, 13.0], angle_deg=30,
                                 blur=1.3, seed=3)  # fmt: skip
    pixels = np.round(image * 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("layers") / "layers.png"
    Image.fromarray(pixels).save(path)
    return pixels, truth, path


@pytest.mark.parametrize(
    "where",
    [
        {"count": 3, "line": True},
        {"count": 2, "line": True},
        {"count": 2, "roi": (20, 30, 100, 120)},
        {"count": 1, "roi": (20, 30, 100, 120), "smoothing": 2.5},
    ],
)
def test_a_layers_run_as_recipe_gives_each_profiles_layers(layered, tmp_path, where):
    from measurer.analysis.layers import analyze_line

    pixels, truth, path = layered
    centre, normal = np.array(truth.origin), np.array(truth.normal)
    line = (centre - 60 * normal, centre + 60 * normal)
    request = {"line": line} if where.get("line") else {"roi": where["roi"]}
    smoothing = where.get("smoothing", 1.0)
    found = layers_run(pixels, band_width=7, profiles=where["count"], smoothing=smoothing,
                       **request)  # fmt: skip
    parameters = found["parameters"]
    recipe = recipe_from_step(AnalysisStep("layers", parameters), Calibration.uncalibrated())
    assert recipe.options["width"] == 7
    assert recipe.options.get("profiles", 1) == where["count"]
    assert recipe.options.get("smoothing", 1.0) == smoothing
    if "roi" in where:
        assert recipe.options["auto"] is True and recipe.roi == (30, 20, 120, 100)
    else:
        drawn = [line[0][1], line[0][0], line[1][1], line[1][0]]
        values = [float(v) for v in recipe.options["line"].split(",")]
        np.testing.assert_allclose(values, drawn, atol=1e-6)  # the line as drawn
    rows = batch_rows(recipe, path, tmp_path)
    # The batch's profile 0 is the line the others are placed around; then the panel's.
    assert sorted({r["profile"] for r in rows}) == list(range(where["count"] + 1))
    for number, (r0, c0, r1, c1) in enumerate(parameters["lines"], start=1):
        own = [r for r in rows if r["profile"] == number]
        np.testing.assert_allclose(
            [own[0][k] for k in ("line_x0", "line_y0", "line_x1", "line_y1")],
            [c0, r0, c1, r1], atol=1e-5,
        )  # fmt: skip
        profile = analyze_line(pixels, (r0, c0), (r1, c1), width=7, smoothing=smoothing).profile
        assert (own[0]["dark_count"], own[0]["light_count"]) == (
            profile.dark_count, profile.light_count,
        )  # fmt: skip
        assert profile.dark_count >= 2  # complete dark layers crossed: the rows are not empty
        assert [r["kind"] for r in own] == [la.kind for la in profile.layers]
        np.testing.assert_allclose(
            [r["width_px"] for r in own],
            [la.to_dict()["width_px"] for la in profile.layers],
            atol=1e-4,
        )


def test_layers_runs_no_recipe_can_repeat_say_what_to_change(layered):
    pixels, truth, _ = layered
    centre, normal = np.array(truth.origin), np.array(truth.normal)
    # Three profiles around a line that runs off the image: the border cuts them.
    long = (centre - 150 * normal, centre + 150 * normal)
    cut = layers_run(pixels, line=long, profiles=3, band_width=7)["parameters"]
    with pytest.raises(UnsupportedStep, match="cut by the image border"):
        recipe_from_step(AnalysisStep("layers", cut), Calibration.uncalibrated())
    one = layers_run(pixels, line=long, profiles=1)["parameters"]  # one profile: its clipped line
    recipe = recipe_from_step(AnalysisStep("layers", one), Calibration.uncalibrated())
    assert recipe.options["width"] == 9 and "profiles" not in recipe.options


#: Red, green, blue, yellow (RGB 0-1), as in tests/gui/test_colors_panel.py.
COLORS = np.array([[0.85, 0.15, 0.1], [0.15, 0.6, 0.2], [0.15, 0.25, 0.85], [0.9, 0.8, 0.1]])


def colors_parameters(**options):
    """The step parameters the Colours panel stores (see ColorsPanel.run)."""
    parameters = {"min_area": 20, "smoothing": 1.5, "grid": None, "display": {}, **options}
    if "classes" in parameters:
        parameters["names"] = list(parameters["classes"])
    else:
        parameters["names"] = [f"c{i}" for i in range(parameters["k"])]
    return parameters


def object_rows(result):
    return [
        (o.label, o.area, o.centroid[1], o.centroid[0], o.bbox[1], o.bbox[0], o.bbox[3], o.bbox[2])
        for o in result.objects
    ]


@pytest.mark.parametrize("picked", [False, True])
def test_a_colours_run_as_recipe_finds_the_same_objects(tmp_path, picked):
    from measurer.analysis.synthetic_detections import disc_scene
    from measurer.gui.panels.colors_shapes import find_objects

    scene = disc_scene(COLORS, [3, 4, 2, 3], seed=0)
    Image.fromarray(scene.image).save(tmp_path / "discs.png")
    if picked:
        classes = {"red": [216.0, 38.5, 25.0], "blue": [38.0, 64.0, 217.0]}
        parameters = colors_parameters(classes=classes, min_area=40)
        options = {"classes": {k: tuple(v) for k, v in classes.items()}}
    else:
        parameters = colors_parameters(k=4)
        options = {"k": 4}
    recipe = recipe_from_step(AnalysisStep("colors", parameters), Calibration.uncalibrated())
    expected_options = (
        {"class": ["red=216,38.5,25", "blue=38,64,217"], "min-area": 40} if picked else {"k": 4}
    )
    assert dict(recipe.options) == expected_options
    result, _ = find_objects(scene.image, min_area=parameters["min_area"], smoothing=1.5, **options)
    assert len(result.objects) == (5 if picked else 12)  # the red and blue discs, or all
    rows = batch_rows(recipe, tmp_path / "discs.png", tmp_path)
    keys = ("class", "area", "centroid_x", "centroid_y", "bbox_x", "bbox_y", "bbox_w", "bbox_h")
    got = [tuple(r[k] for k in keys) for r in rows]
    assert [g[:2] + g[4:] for g in got] == [e[:2] + e[4:] for e in object_rows(result)]
    np.testing.assert_allclose(
        [g[2:4] for g in got], [e[2:4] for e in object_rows(result)], atol=5e-4
    )  # the table rounds centroids to 3 decimals


def test_a_colours_run_with_a_picked_background_as_recipe_finds_the_same_objects(tmp_path):
    from measurer.analysis.synthetic_detections import disc_scene
    from measurer.gui.panels.colors_shapes import find_objects

    scene = disc_scene(COLORS, [3, 4, 2, 3], seed=0)
    Image.fromarray(scene.image).save(tmp_path / "discs.png")
    background = [[180.0, 172.5, 156.0], [150.0, 144.0, 130.0]]  # the backdrop, lit and shaded
    parameters = colors_parameters(k=4, background=background)
    recipe = recipe_from_step(AnalysisStep("colors", parameters), Calibration.uncalibrated())
    assert dict(recipe.options) == {"k": 4, "background": ["180,172.5,156", "150,144,130"]}
    result, _ = find_objects(scene.image, k=4, background=background, min_area=20, smoothing=1.5)
    assert result.counts == {"c0": 3, "c1": 3, "c2": 4, "c3": 2}  # red, yellow, green, blue
    rows = batch_rows(recipe, tmp_path / "discs.png", tmp_path)
    keys = ("class", "area", "centroid_x", "centroid_y", "bbox_x", "bbox_y", "bbox_w", "bbox_h")
    got = [tuple(r[k] for k in keys) for r in rows]
    assert [g[:2] + g[4:] for g in got] == [e[:2] + e[4:] for e in object_rows(result)]
    np.testing.assert_allclose(
        [g[2:4] for g in got], [e[2:4] for e in object_rows(result)], atol=5e-4
    )
    # A grid run keeps its cells' own backgrounds: no --background.
    grid = colors_parameters(k=2, grid=[0, 0, 40, 40, 2, 2], background=background)
    recipe = recipe_from_step(AnalysisStep("colors", grid), Calibration.uncalibrated())
    assert "background" not in recipe.options


@pytest.mark.parametrize("smoothing", [1.0, 1.5])  # measurer colors' default, the panel's
def test_a_colour_grid_run_as_recipe_classifies_the_same_cells(tmp_path, smoothing):
    from measurer.analysis.colors import Grid
    from measurer.analysis.synthetic_detections import grid_scene
    from measurer.gui.panels.colors_shapes import classify_cells

    occupancy = np.array([[0, -1, 1], [2, 3, -1]])
    scene = grid_scene(COLORS, occupancy, cell_size=(40, 44), seed=3)
    Image.fromarray(scene.image).save(tmp_path / "grid.png")
    spec = [*scene.origin, *scene.cell_size, 2, 3]  # top, left, cell height, width, rows, cols
    parameters = colors_parameters(k=4, grid=spec, smoothing=smoothing)
    recipe = recipe_from_step(AnalysisStep("colors", parameters), Calibration.uncalibrated())
    expected_options = {"k": 4, "grid": "11,7,44,40,2,3"}
    assert dict(recipe.options) == expected_options | ({"smoothing": 1.5} if smoothing > 1 else {})
    result, _ = classify_cells(scene.image, Grid(spec[:2], spec[2:4], spec[4:]), k=4,
                               min_area=20, smoothing=smoothing)  # fmt: skip
    expected = [(c.row, c.col, c.label) for c in result.cells]
    assert [label is None for *_, label in expected] == (occupancy.ravel() < 0).tolist()
    rows = batch_rows(recipe, tmp_path / "grid.png", tmp_path)
    assert [(r["row"], r["col"], r["class"]) for r in rows] == expected


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (colors_parameters(classes={"a=b": [1, 2, 3]}), "class name 'a=b'"),
        (
            {"names": ["x"], "grid": [0, 0, 9, 9, 2, 2], "display": {}, "min_score": 0.5,
             "references": [{"name": "x", "path": "x.png"}]},
            "reference images",
        ),
    ],
)  # fmt: skip
def test_colours_runs_no_recipe_can_repeat_say_what_to_change(parameters, message):
    with pytest.raises(UnsupportedStep, match=message):
        recipe_from_step(AnalysisStep("colors", parameters), Calibration.uncalibrated())


@pytest.mark.parametrize("preset", ["hole", "auto"])
def test_a_retina_preset_as_recipe_gives_the_panels_landmarks_and_lengths(tmp_path, preset):
    from measurer.analysis.retina import measure_retina
    from measurer.analysis.synthetic_masks import macular_hole_mask
    from measurer.gui.panels.masks_shapes import MaskOptions, analyse_masks

    mask, _ = macular_hole_mask(
        (150, 240), centre_col=120.5, base_row=110.5, base_diameter=60.0, mld=24.0,
        neck=(10.0, 20.0), foot=3.0, top_diameter=40.0, height_left=40.0, height_right=36.0,
        retina_width=200.0,
    )  # fmt: skip
    image = np.where(mask, 180, 20).astype(np.uint8)  # grey: the threshold makes the mask
    Image.fromarray(image).save(tmp_path / "bscan.png")
    # The panel's options with a fixed 4 µm pixel, as the form and the document give them.
    options = MaskOptions(
        foreground="threshold", threshold=100.0, preset=preset, pixel_width=4.0,
        pixel_height=4.0, microns_per_unit=1.0, unit="µm",
    )  # fmt: skip
    parameters = options.parameters()
    calibration = Calibration(4.0, 4.0, "um", "manual", "line")
    recipe = recipe_from_step(AnalysisStep("masks", parameters), calibration)
    kind = {} if preset == "auto" else {"kind": "hole"}
    assert (recipe.analysis, dict(recipe.options)) == ("retina", {"threshold": 100.0, **kind})
    assert recipe.calibration.mode == "fixed"
    (row,) = batch_rows(recipe, tmp_path / "bscan.png", tmp_path)
    panel = analyse_masks(image, None, options)
    landmarks = {a.role.rsplit(":", 1)[-1]: a.vertices[0] for a in panel.shapes}
    assert landmarks  # the hole's landmarks, each a column pair in the row
    for name, (y, x) in landmarks.items():
        assert (row[f"{name}_x"], row[f"{name}_y"]) == pytest.approx((x, y), abs=1e-9)
    truth = measure_retina(mask, kind=preset, pixel_width=4.0, pixel_height=4.0,
                           microns_per_unit=1.0)  # fmt: skip
    assert row["kind"] == "hole" and row["unit"] == "µm"
    for key in ("mld", "base_diameter", "height_left", "height_right", "tilt_deg"):
        assert row[key] == pytest.approx(getattr(truth, key), rel=1e-12)
    assert row["mld"] == pytest.approx(4.0 * 24.0, abs=4.0)  # 24 px across, in µm


def test_masks_presets_map_their_foreground_and_minimum_area():
    from measurer.gui.panels.masks_shapes import MaskOptions

    parameters = MaskOptions(foreground="class", class_a=(0, 255, 0), min_area=50,
                             preset="pit").parameters()  # fmt: skip
    recipe = recipe_from_step(AnalysisStep("masks", parameters), Calibration.uncalibrated())
    assert (recipe.analysis, dict(recipe.options), recipe.roi) == (
        "retina", {"class": "0,255,0", "kind": "pit", "min-area": 50}, None,
    )  # fmt: skip
    two = MaskOptions(source="two_classes", class_a=1, class_b=2, preset="hole").parameters()
    with pytest.raises(UnsupportedStep, match="retina preset on two classes"):
        recipe_from_step(AnalysisStep("masks", two), Calibration.uncalibrated())
    second = MaskOptions(source="two_masks", preset="hole").parameters("/data/b.png")
    with pytest.raises(UnsupportedStep, match="needs the files of the image"):
        recipe_from_step(AnalysisStep("masks", second), Calibration.uncalibrated())


@pytest.mark.parametrize("calibrated", [False, True])
def test_a_two_classes_run_as_recipe_gives_the_panels_gaps_and_depth(tmp_path, calibrated):
    from measurer.analysis.gaps import closest_pair, deepest_to_margin_line, horizontal_gap
    from measurer.gui.panels.masks_shapes import MaskOptions, analyse_masks

    # Class 1: a retina split by a hole, two blocks whose one-pixel lips are its margins;
    # class 2: the hole, reaching below them to row 29, cut at row 26 by the ROI.
    a = rectangles_mask((40, 60), [(5, 5, 10, 15), (12, 20, 1, 1), (5, 30, 20, 20),
                                   (12, 29, 1, 1)])  # fmt: skip
    b = rectangles_mask((40, 60), [(10, 22, 20, 5)])
    labels = np.zeros((40, 60), np.uint8)
    labels[a], labels[b] = 1, 2
    Image.fromarray(labels).save(tmp_path / "labels.png")
    width, height = (2.0, 0.5) if calibrated else (1.0, 1.0)
    options = MaskOptions(
        source="two_classes", class_a=1, class_b=2, connectivity=4, min_area=5,
        roi=("rect", (0, 0, 27, 60)), pixel_width=width, pixel_height=height,
        unit="µm" if calibrated else "px",
    )  # fmt: skip
    calibration = (
        Calibration(2.0, 0.5, "um", "manual", "line") if calibrated else Calibration.uncalibrated()
    )
    recipe = recipe_from_step(AnalysisStep("masks", options.parameters()), calibration)
    assert (recipe.analysis, dict(recipe.options), recipe.roi) == (
        "regions", {"classes": "1,2", "connectivity": 4}, (0, 0, 60, 27),
    )  # fmt: skip
    assert recipe.calibration.mode == ("fixed" if calibrated else "metadata")
    (row,) = batch_rows(recipe, tmp_path / "labels.png", tmp_path)
    a[27:], b[27:] = False, False  # the ROI
    comparison = deepest_to_margin_line(a, b, connectivity=4, row_scale=height, col_scale=width)
    pair = closest_pair(a, b, row_scale=height, col_scale=width)
    gap = horizontal_gap(a, b)
    unit = "_unit" if calibrated else ""
    assert row[f"depth{unit}"] == comparison.to_line.distance == 14 * height
    assert row[f"min_distance{unit}"] == pair.distance == width  # one column: the left lip
    assert row[f"horizontal_gap{unit}"] == gap.minimum * width == 3 * width
    assert row["horizontal_gap_row"] == gap.row == 19
    assert row.get("unit") == ("µm" if calibrated else None)
    scale = np.array([height, width])

    def at(name: str) -> np.ndarray:  # a point of the row in (row, col) pixels
        return np.array([row[f"{name}_y"], row[f"{name}_x"]]) / (scale if "_unit" in name else 1)

    assert at("margin_left").tolist() == list(comparison.margin_left) == [12, 20]
    assert at("margin_right").tolist() == list(comparison.margin_right) == [12, 29]
    np.testing.assert_allclose(at(f"deepest{unit}"), comparison.deepest)
    np.testing.assert_allclose(at(f"closest_a{unit}"), pair.point_a)
    np.testing.assert_allclose(at(f"closest_b{unit}"), pair.point_b)
    # The panel's own landmarks of the same run are the recipe's points.
    panel = {s.role: s.vertices[0] for s in analyse_masks(labels, None, options).shapes}
    for role, name in [("b_deepest", f"deepest{unit}"), ("margin_left", "margin_left"),
                       ("margin_right", "margin_right"), ("closest_a", f"closest_a{unit}"),
                       ("closest_b", f"closest_b{unit}")]:  # fmt: skip
        np.testing.assert_allclose(panel[f"masks:{role}"], at(name), err_msg=role)


def test_a_two_classes_run_in_colour_maps_both_colours():
    from measurer.gui.panels.masks_shapes import MaskOptions

    parameters = MaskOptions(source="two_classes", class_a=(255, 0, 0),
                             class_b=(0, 128.5, 0)).parameters()  # fmt: skip
    recipe = recipe_from_step(AnalysisStep("masks", parameters), Calibration.uncalibrated())
    assert (recipe.analysis, dict(recipe.options), recipe.roi) == (
        "regions", {"classes": "255,0,0,0,128.5,0"}, None,
    )  # fmt: skip


# --- two masks: each image's second mask as a pattern ------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "pattern"),
    [
        ("retina/img001.png", "hole/img001.png", "{dir}/../hole/{name}"),
        ("img001.png", "img001_hole.png", "{dir}/{stem}_hole.png"),
        ("m/img001.tif", "m/hole_img001.png", "{dir}/hole_{stem}.png"),
        ("retina/img001.png", "hole/img001_hole.png", "{dir}/../hole/{stem}_hole.png"),
        ("a/x.png", "a/sub/x.png", "{dir}/sub/{name}"),
        ("a/x.png", "b{1}/x.png", "{dir}/../b{{1}}/{name}"),
    ],
)
def test_the_second_masks_pattern_follows_the_two_file_names(tmp_path, first, second, pattern):
    from measurer.cli.batch_task import second_mask_path
    from measurer.io.recipe_options import second_mask_pattern

    assert second_mask_pattern(tmp_path / first, tmp_path / second) == pattern
    # Resolved for the image it came from, the pattern names the second mask again.
    assert second_mask_path(pattern, tmp_path / first) == tmp_path / second


def test_second_masks_a_batch_cannot_find_are_refused(tmp_path):
    from measurer.io.recipe_options import second_mask_pattern

    with pytest.raises(
        UnsupportedStep,
        match=r"cannot find the second mask 'b\.png' from the "
        r"image 'img001\.png': give it the same file name in another folder",
    ):
        second_mask_pattern(tmp_path / "img001.png", tmp_path / "b.png")
    with pytest.raises(UnsupportedStep, match="give it the same file name"):
        second_mask_pattern(tmp_path / "a" / "img001.png", tmp_path / "b" / "img002.png")
    with pytest.raises(UnsupportedStep, match="the image itself"):
        second_mask_pattern(tmp_path / "a" / "x.png", tmp_path / "b" / ".." / "a" / "x.png")


def test_a_two_masks_run_maps_to_regions_or_retina_with_the_pattern(tmp_path):
    from measurer.gui.panels.masks_shapes import MaskOptions
    from measurer.io.recipe_options import masks_options

    image = tmp_path / "retina" / "img001.png"
    regions = MaskOptions(source="two_masks", foreground="class", class_a=1, connectivity=4,
                          roi=("rect", (0, 2, 27, 50))).parameters(str(tmp_path / "hole" /
                                                                       "img001.png"))  # fmt: skip
    assert masks_options(regions, image_path=image) == (
        "regions", {"mask_b": "{dir}/../hole/{name}", "class": "1", "connectivity": 4},
        (2, 0, 50, 27),
    )  # fmt: skip
    retina = MaskOptions(source="two_masks", foreground="threshold", threshold=100.0,
                         preset="hole", min_area=50).parameters(str(image.with_name(
                             "img001_cyst.png")))  # fmt: skip
    assert masks_options(retina, image_path=image) == (
        "retina",
        {"mask_b": "{dir}/{stem}_cyst.png", "threshold": 100.0, "kind": "hole", "min-area": 50},
        None,
    )
    other = {**retina, "second_mask": str(tmp_path / "cysts.png")}
    with pytest.raises(UnsupportedStep, match="give it the same file name in another folder"):
        masks_options(other, image_path=image)
    with pytest.raises(UnsupportedStep, match="has no ROI"):
        masks_options({**retina, "roi": {"rect": [0, 0, 5, 5]}}, image_path=image)


def test_a_two_masks_run_as_recipe_gives_the_panels_points_on_each_image(tmp_path):
    from measurer.gui.panels.masks_shapes import MaskOptions, analyse_masks
    from measurer.io.recipe_options import masks_options
    from measurer.io.recipes import Recipe

    # Region A: a retina split by a hole, two blocks whose one-pixel lips are its margins;
    # region B: the hole down to row 29, in a second file of the same name in another folder.
    a = rectangles_mask((40, 60), [(5, 5, 10, 15), (12, 20, 1, 1), (5, 30, 20, 20),
                                   (12, 29, 1, 1)]).astype(np.uint8)  # fmt: skip
    b = rectangles_mask((40, 60), [(10, 22, 20, 5)]).astype(np.uint8)
    for folder, pixels in (("retina", a), ("hole", b)):
        (tmp_path / folder).mkdir()
        Image.fromarray(pixels).save(tmp_path / folder / "s.png")
    options = MaskOptions(source="two_masks", connectivity=4)
    parameters = options.parameters(str(tmp_path / "hole" / "s.png"))
    analysis, recipe_options, rect = masks_options(parameters, image_path=tmp_path / "retina" /
                                                   "s.png")  # fmt: skip
    recipe = Recipe(analysis, recipe_options, roi=rect)
    (row,) = batch_rows(recipe, tmp_path / "retina" / "s.png", tmp_path)
    assert (row["depth"], row["min_distance"], row["horizontal_gap"]) == (17.0, 1.0, 3.0)
    panel = {s.role: s.vertices[0] for s in analyse_masks(a, b, options).shapes}
    for role, name in [("b_deepest", "deepest"), ("margin_left", "margin_left"),
                       ("margin_right", "margin_right"), ("closest_a", "closest_a"),
                       ("closest_b", "closest_b")]:  # fmt: skip
        np.testing.assert_allclose(
            panel[f"masks:{role}"], [row[f"{name}_y"], row[f"{name}_x"]], err_msg=role
        )
