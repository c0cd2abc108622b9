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
        (AnalysisStep("masks", {**MASKS, "source": "two_masks"}), "two masks"),
        (AnalysisStep("masks", {**MASKS, "preset": "pit"}), "preset 'pit'"),
        (AnalysisStep("masks", {**MASKS, "roi": {"polygon": [[0, 0]]}}), "polygon ROI"),
        (AnalysisStep("match", {"pyramid": True}), "pyramid"),
        (AnalysisStep("turns", {"method": "ridge"}), "method"),
        (AnalysisStep("layers", {}), "'layers' analysis cannot be saved"),
        (AnalysisStep("colors", {}), "'colors' analysis cannot be saved"),
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
