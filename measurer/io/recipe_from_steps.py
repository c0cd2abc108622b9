"""Recipes from the GUI: the last analysis run on a document, as a recipe for ``measurer batch``.

A step's parameters are the panel's own (see ``measurer/gui/panels/*_panel.py``); this module
maps them onto the options of the subcommand that computes the same table:

- ``masks`` on one mask without a retina preset -> ``blobs`` (threshold or class foreground,
  connectivity, minimum area, rectangular ROI);
- ``match`` -> ``match``: the template is written as a PNG beside the recipe and named
  relatively (:func:`save_step_recipe`);
- ``turns`` -> ``turns`` (axis and minimum prominence; the other settings at their defaults);
- ``scalebar`` -> ``scalebar``.

Anything else (two masks, retina presets, polygon ROIs, layers, colours, the image pyramid,
non-default tracing settings) raises :class:`UnsupportedStep` saying why. The calibration
follows the document's: ``fixed`` when it was set by hand, ``metadata`` when it came from the
file (or there is none), ``scalebar`` when it came from the image's scale bar.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from measurer.core.calibration import Calibration
from measurer.core.commands import AnalysisStep
from measurer.io.recipes import Recipe, RecipeCalibration, RecipeError, write_recipe

#: The ``find_turns`` settings that ``measurer turns`` leaves at their defaults.
_TURNS_DEFAULTS = {"method": "centroid", "min_separation": 5}


class UnsupportedStep(RecipeError):
    """An analysis step that no recipe can express; the message says why, on one line."""


def recipe_calibration(calibration: Calibration) -> RecipeCalibration:
    """How a batch should calibrate each image, from how the document was calibrated."""
    if calibration.source == "manual" and calibration.is_calibrated:
        size = (calibration.pixel_width, calibration.pixel_height)
        return RecipeCalibration("fixed", size, calibration.unit)
    if calibration.source == "scalebar":
        return RecipeCalibration("scalebar")
    return RecipeCalibration("metadata")


def _class_option(value: Any) -> str:
    values = value if isinstance(value, list | tuple) else [value]
    return ",".join(f"{float(v):g}" for v in values)


def _masks(parameters: dict[str, Any]) -> tuple[dict[str, Any], tuple | None]:
    if parameters.get("source", "image") != "image":
        raise UnsupportedStep(
            "a masks run on two masks or two classes cannot be saved as a recipe yet: "
            "measure one mask (Source: this image)"
        )
    if parameters.get("preset", "none") != "none":
        raise UnsupportedStep(
            f"the masks preset {parameters['preset']!r} cannot be saved as a recipe yet: "
            "use the preset 'none' (blob measurements)"
        )
    options: dict[str, Any] = {}
    foreground = parameters.get("foreground", "nonzero")
    if foreground == "threshold":
        options["threshold"] = float(parameters["threshold"])
    elif foreground == "class":
        options["class"] = _class_option(parameters["class_a"])
    connectivity = int(parameters.get("connectivity", 8))
    if connectivity != 8:
        options["connectivity"] = connectivity
    if int(parameters.get("min_area") or 0) > 1:
        options["min-area"] = int(parameters["min_area"])
    roi = parameters.get("roi")
    rect = None
    if roi:
        kind, value = next(iter(roi.items()))
        if kind != "rect":
            raise UnsupportedStep("a polygon ROI cannot be saved in a recipe: use a rectangle")
        row, col, rows, cols = (round(float(v)) for v in value)
        rect = (col, row, cols, rows)
    return options, rect


def _match(parameters: dict[str, Any], template_file: str | None) -> dict[str, Any]:
    if parameters.get("pyramid"):
        raise UnsupportedStep(
            "measurer match has no image pyramid: untick 'Pyramid' and run again to save a recipe"
        )
    if template_file is None:
        raise UnsupportedStep("a match recipe needs its template file (see save_step_recipe)")
    options: dict[str, Any] = {"template": template_file}
    threshold = float(parameters.get("threshold", 0.8))
    if threshold != 0.8:
        options["threshold"] = threshold
    for name, default in (("scales", [1.0]), ("angles", [0.0])):
        values = [float(v) for v in parameters.get(name) or default]
        if values != default:
            options[name] = ",".join(f"{v:g}" for v in values)
    return options


def _turns(parameters: dict[str, Any]) -> dict[str, Any]:
    for name, default in _TURNS_DEFAULTS.items():
        if parameters.get(name, default) != default:
            raise UnsupportedStep(
                f"measurer turns always uses {name} = {default!r}, the run used "
                f"{parameters[name]!r}: set it back to save a recipe"
            )
    options: dict[str, Any] = {}
    if parameters.get("axis", "x") != "x":
        options["axis"] = parameters["axis"]
    prominence = float(parameters.get("min_prominence", 5.0))
    if prominence != 5.0:
        options["min-prominence"] = prominence
    return options


def recipe_from_step(
    step: AnalysisStep, calibration: Calibration, *, template_file: str | None = None
) -> Recipe:
    """The recipe that computes, for any image, the table ``step`` gave on the document.

    Parameters
    ----------
    step : AnalysisStep
        An analysis as a panel ran it (``document.steps[-1]``).
    calibration : Calibration
        The document's; see :func:`recipe_calibration`.
    template_file : str, optional
        ``match``: the template image's file name, relative to the recipe's folder.

    Raises
    ------
    UnsupportedStep
        The step cannot be expressed as a recipe; the message says why.
    """
    parameters = dict(step.parameters)
    setup = recipe_calibration(calibration)
    if step.analysis == "masks":
        options, rect = _masks(parameters)
        return Recipe("blobs", options, setup, rect)
    if step.analysis == "match":
        return Recipe("match", _match(parameters, template_file), setup)
    if step.analysis == "turns":
        return Recipe("turns", _turns(parameters), setup)
    if step.analysis == "scalebar":
        if setup.mode == "scalebar":
            setup = RecipeCalibration("metadata")  # the scale bar run measures the bar itself
        return Recipe("scalebar", {}, setup)
    raise UnsupportedStep(
        f"the {step.analysis!r} analysis cannot be saved as a recipe yet "
        "(recipes cover masks, match, turns and scalebar runs)"
    )


def template_pixels(step: AnalysisStep, image: np.ndarray) -> np.ndarray:
    """The template a ``match`` step searched for: its file, or the crop of its rectangle."""
    from measurer.io.images import read_image

    parameters = step.parameters
    if parameters.get("template") == "file":
        return np.asarray(read_image(parameters["template_path"]).page(0))
    box = parameters.get("template_box")
    if parameters.get("template") != "rectangle" or not box or len(box) != 4:
        raise UnsupportedStep("the match run does not say where its template came from")
    corners = np.asarray(box, dtype=float).reshape(2, 2)
    first = np.maximum(np.ceil(corners.min(axis=0)).astype(int), 0)
    stop = np.minimum(np.floor(corners.max(axis=0)).astype(int) + 1, image.shape[:2])
    return np.array(image[first[0] : stop[0], first[1] : stop[1]])


def save_step_recipe(
    path: str | os.PathLike[str],
    step: AnalysisStep,
    calibration: Calibration,
    image: np.ndarray,
) -> Path:
    """Write the recipe of ``step`` to ``path`` (a match's template as ``NAME.template.png``
    beside it); returns the recipe's path.

    Raises
    ------
    UnsupportedStep
        The step cannot be expressed as a recipe.
    OSError
        The files cannot be written.
    """
    from PIL import Image

    path = Path(path)
    template_file = None
    if step.analysis == "match":
        recipe_from_step(step, calibration, template_file="check")  # refuse before writing
        pixels = template_pixels(step, image)
        if pixels.dtype != np.uint8:
            raise UnsupportedStep(
                f"a {pixels.dtype} template cannot be kept as PNG: use an 8-bit template"
            )
        template_file = f"{path.stem}.template.png"
        Image.fromarray(pixels).save(path.with_name(template_file))
    return write_recipe(path, recipe_from_step(step, calibration, template_file=template_file))
