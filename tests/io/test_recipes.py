"""Recipe files: round trip, hand-edited forms, and one-line messages for every kind of mistake
(the options checked by the subcommand's own parser)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from measurer.cli.recipe import recipe_args
from measurer.core.calibration import Calibration
from measurer.io.recipes import (
    SCHEMA,
    Recipe,
    RecipeCalibration,
    RecipeError,
    read_recipe,
    recipe_from_dict,
    write_recipe,
)


def _write(tmp_path, data) -> str:
    path = tmp_path / "recipe.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "recipe",
    [
        Recipe("blobs"),
        Recipe(
            "blobs",
            {"min-area": 5, "connectivity": 4, "threshold": 0.5, "class": "255,0,0"},
            RecipeCalibration("fixed", (0.1, 0.2), "µm"),
            (10, 20, 300, 400),
        ),
        Recipe("colors", {"class": ["red=200,0,0", "blue=0,0,200"]}, RecipeCalibration()),
        Recipe("layers", {"auto": True, "width": 3}, RecipeCalibration("scalebar"), (0, 0, 5, 5)),
        Recipe("match", {"template": "t.png"}, RecipeCalibration("scalebar", None, "nm", 500.0)),
    ],
)
def test_round_trip(tmp_path, recipe):
    path = tmp_path / "r.json"
    assert write_recipe(path, recipe) == path
    assert read_recipe(path) == recipe
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == ["schema", "analysis", "options", "calibration", "roi"]
    assert data["schema"] == SCHEMA == 1
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, then renamed


def test_written_file_is_easy_to_edit(tmp_path):
    path = tmp_path / "r.json"
    recipe = Recipe(
        "colors", {"k": 3, "grid": "1,2,3,4,5,6"}, RecipeCalibration("fixed", (0.5, 0.5), "µm")
    )
    write_recipe(path, recipe)
    assert path.read_text(encoding="utf-8") == (
        '{\n  "schema": 1,\n  "analysis": "colors",\n  "options": {\n    "k": 3,\n'
        '    "grid": "1,2,3,4,5,6"\n  },\n'
        '  "calibration": {"mode": "fixed", "pixel_size": [0.5, 0.5], "unit": "µm"},\n'
        '  "roi": null\n}\n'
    )
    write_recipe(path, Recipe("blobs", roi=(1, 2, 3, 4)))
    text = path.read_text(encoding="utf-8")
    assert '"options": {},' in text and '"roi": [1, 2, 3, 4]\n}' in text


def test_hand_edited_forms_are_accepted(tmp_path):
    recipe = read_recipe(
        _write(
            tmp_path,
            '\ufeff{"schema": 1, "analysis": "blobs", '
            '"calibration": {"mode": "fixed", "pixel_size": 0.25, "unit": "microns"}}',
        )
    )
    assert recipe.options == {} and recipe.roi is None
    assert recipe.calibration == RecipeCalibration("fixed", (0.25, 0.25), "µm")
    assert recipe.calibration.fixed() == Calibration(0.25, 0.25, "µm", "manual", "recipe")
    assert recipe_from_dict({"schema": 1, "analysis": "turns", "roi": None}).calibration == (
        RecipeCalibration("metadata")
    )
    bar = recipe_from_dict(
        {"schema": 1, "analysis": "blobs", "calibration": {"mode": "scalebar"}}
    ).calibration
    assert (bar.mode, bar.bar_length, bar.unit) == ("scalebar", None, None)


def test_fixed_is_only_for_fixed_calibrations():
    with pytest.raises(RecipeError, match="'metadata' calibration has no fixed pixel size"):
        RecipeCalibration().fixed()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("[1, 2]", "a recipe must be a JSON object"),
        ("{", "not valid JSON: Expecting property name"),
        ({"analysis": "blobs"}, 'needs "schema": 1, got null'),
        ({"schema": "1", "analysis": "blobs"}, 'needs "schema": 1, got "1"'),
        ({"schema": 2, "analysis": "blobs"}, "schema 2 is newer than this version"),
        ({"schema": 1, "analysis": "blobs", "option": {}}, "unknown recipe key 'option'"),
        ({"schema": 1, "analysis": "blob"}, 'unknown analysis "blob" (known: blobs, colors'),
        ({"schema": 1}, "unknown analysis null"),
        ({"schema": 1, "analysis": "blobs", "options": [1]}, '"options" must be an object'),
        (
            {"schema": 1, "analysis": "blobs", "options": {"min-area": {"a": 1}}},
            "option 'min-area' must be a number, text, true/false or a list",
        ),
        (
            {"schema": 1, "analysis": "blobs", "calibration": {"mode": "auto"}},
            'calibration "mode" must be one of metadata, fixed, scalebar, got "auto"',
        ),
        (
            {"schema": 1, "analysis": "blobs", "calibration": {"mode": "fixed", "pixel_size": 1}},
            "a 'fixed' calibration needs a \"unit\"",
        ),
        (
            {
                "schema": 1,
                "analysis": "blobs",
                "calibration": {"mode": "fixed", "pixel_size": [1, -2], "unit": "um"},
            },
            '"pixel_size" must be positive, got -2',
        ),
        (
            {
                "schema": 1,
                "analysis": "blobs",
                "calibration": {"mode": "fixed", "pixel_size": [1, 2, 3], "unit": "um"},
            },
            '"pixel_size" must be [x, y] or one number',
        ),
        (
            {
                "schema": 1,
                "analysis": "blobs",
                "calibration": {"mode": "fixed", "pixel_size": 1, "unit": "px"},
            },
            "must be a physical unit",
        ),
        (
            {
                "schema": 1,
                "analysis": "blobs",
                "calibration": {"mode": "fixed", "pixel_size": 1, "unit": "furlong"},
            },
            "unknown length unit 'furlong'",
        ),
        (
            {"schema": 1, "analysis": "blobs", "calibration": {"mode": "metadata", "unit": "um"}},
            "a 'metadata' calibration takes mode, not 'unit'",
        ),
        (
            {"schema": 1, "analysis": "blobs", "calibration": {"mode": "scalebar", "unit": "um"}},
            '"bar_length" must be a number, got null',
        ),
        ({"schema": 1, "analysis": "blobs", "roi": [1, 2, 3]}, '"roi" must be [x, y, width'),
        ({"schema": 1, "analysis": "blobs", "roi": [1, 2, 3.5, 4]}, "in whole pixels"),
        ({"schema": 1, "analysis": "blobs", "roi": [1, 2, 0, 4]}, "a positive width and height"),
        (
            {"schema": 1, "analysis": "regions", "options": {"mask_b": 3}},
            "option 'mask_b' is a file name or pattern, got 3",
        ),
        (
            {"schema": 1, "analysis": "retina", "options": {"mask_b": "{dir}/{file}"}},
            "the pattern '{dir}/{file}' has an unknown placeholder {file} (placeholders: {dir}, "
            "{stem}, {name}, {ext})",
        ),
        (
            {"schema": 1, "analysis": "regions", "options": {"mask_b": "{dir}/{name!r}"}},
            "unknown placeholder {name!r}",
        ),
    ],
)
def test_messages_name_the_file_and_the_mistake(tmp_path, data, message):
    path = _write(tmp_path, data)
    with pytest.raises(RecipeError) as info:
        read_recipe(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text, text
    assert "\n" not in text


def test_mask_b_patterns_are_told_from_file_names():
    from measurer.io.recipes import is_mask_pattern

    assert is_mask_pattern("{dir}/../hole/{name}") and is_mask_pattern("x/{stem}_b{ext}")
    assert not is_mask_pattern("hole/img001.png")
    assert not is_mask_pattern("odd{{name}}.png")  # literal braces: one file


def test_missing_file(tmp_path):
    with pytest.raises(RecipeError, match=r"missing\.json: cannot read the recipe: No such file"):
        read_recipe(tmp_path / "missing.json")


# The options are checked by the subcommand's own parser (measurer.cli.recipe).


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_area": 3}, "unknown option 'min_area' for blobs (options: connectivity, min-area"),
        ({"min-area": 2.5}, "argument --min-area: invalid int value: '2.5'"),
        ({"connectivity": 6}, "argument --connectivity: invalid choice: 6"),
        ({"min-area": True}, "option 'min-area' takes a value, not true"),
        ({"min-area": 0}, "--min-area must be at least 1"),
        ({"class": "1,2"}, "--class takes one value or R,G,B"),
        ({"pixel-size": 0.1}, "option 'pixel-size' goes in the recipe's \"calibration\""),
        ({"roi": "1,2,3,4"}, "option 'roi' goes in the recipe's \"roi\""),
        ({"scalebar": True}, 'goes in the recipe\'s "calibration" ({"mode": "scalebar"})'),
    ],
)
def test_recipe_options_are_checked_by_the_subcommand(options, message):
    with pytest.raises(RecipeError) as info:
        recipe_args(Recipe("blobs", options))
    assert message in str(info.value)


def test_recipe_arguments_of_other_analyses(tmp_path):
    with pytest.raises(RecipeError, match="retina takes no ROI"):
        recipe_args(Recipe("retina", {}, roi=(0, 0, 4, 4)))
    with pytest.raises(RecipeError, match="option 'auto' is true or false, got 1"):
        recipe_args(Recipe("layers", {"auto": 1}, roi=(0, 0, 4, 4)))
    with pytest.raises(RecipeError, match="one of the arguments --line --roi is required"):
        recipe_args(Recipe("layers", {"width": 3}))
    with pytest.raises(RecipeError, match="option 'template': no such file"):
        recipe_args(Recipe("match", {"template": "t.png"}), base=tmp_path)
    Image.fromarray(np.eye(8, dtype=np.uint8)).save(tmp_path / "t.png")
    args = recipe_args(Recipe("match", {"template": "t.png", "threshold": -0.5}), base=tmp_path)
    assert (args.template, args.threshold) == (str(tmp_path / "t.png"), -0.5)
    args = recipe_args(Recipe("colors", {"class": ["a=1,2,3", "b=4,5,6"], "min-area": 3}))
    assert (args.classes, args.min_area) == (["a=1,2,3", "b=4,5,6"], 3)
    args = recipe_args(Recipe("layers", {"auto": True, "profiles": 3}, roi=(1, 2, 30, 40)))
    assert (args.roi, args.auto, args.profiles, args.pixel_size) == ("1,2,30,40", True, 3, None)


@pytest.mark.parametrize("option", [["--rois", "x.zip"], ["--annotated", "x.png"]])
def test_output_options_are_not_recipe_options(tmp_path, option, capsys):
    from measurer.cli.main import main

    out = tmp_path / "r.json"
    assert main(["recipe", "blobs", "--min-area", "5", *option, "--out", str(out)]) == 2
    assert "is not a recipe option" in capsys.readouterr().err
    assert not out.exists()
