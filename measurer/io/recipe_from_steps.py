"""Recipes from the GUI: the last analysis run on a document, as a recipe for ``measurer batch``.

A step's parameters are the panel's own (see ``measurer/gui/panels/*_panel.py``); this module
and :mod:`measurer.io.recipe_options` map them onto the options of the subcommand that
computes the same table:

- ``masks`` on one mask without a retina preset -> ``blobs`` (threshold or class foreground,
  connectivity, minimum area, rectangular ROI); the gap the panel shows between two blobs is
  not part of the blob table;
- ``masks`` with a retina preset (hole, pit or auto) on one mask, without ROI -> ``retina``
  (foreground, kind, minimum area);
- ``masks`` on two classes of the image without a retina preset -> ``regions`` (``--classes
  A,B``, connectivity, rectangular ROI): the gaps between regions A and B and the depth of B
  below the line through A's margins; the blob tables of A and B are not part of its row;
- ``masks`` on two masks -> ``regions`` (or ``retina`` with a retina preset) with
  ``"mask_b"`` a pattern that finds each image's second mask as the second mask was found
  from the image (:func:`~measurer.io.recipe_options.second_mask_pattern`: the same name in
  another folder, ``{dir}/../hole/{name}``, or the image's stem in its name,
  ``{dir}/{stem}_hole.png``), from the image's file (``image_path``);
- ``layers`` -> ``layers``: a run from a drawn line gives ``--line``, the same line on every
  image of the batch (what one expects when the images share a framing; it is clipped to each
  image); a run on a rectangle (or the whole image) gives ``--auto`` with that rectangle as
  the ROI, the same pixels of every image. Band width, number of profiles and smoothing
  follow. The batch table numbers the panel's profiles from 1: its profile 0 is the line
  they are placed around (``--line``) or the centre line of the ROI;
- ``colors`` -> ``colors``: automatic (k) or picked classes, minimum area, smoothing, grid;
- ``match`` -> ``match``: the template is written as a PNG beside the recipe and named
  relatively (:func:`save_step_recipe`);
- ``turns`` -> ``turns`` (axis and minimum prominence; the other settings at their defaults);
- ``scalebar`` -> ``scalebar``.

Anything else raises :class:`UnsupportedStep` saying why and what to change: two masks
without the image's file or whose names do not follow each other, retina presets on two
classes or with an ROI,
polygon ROIs, layer profiles cut by the image border, grid cells matched against reference
images, the image pyramid, non-default tracing settings. The calibration follows the
document's: ``fixed`` when it was set by hand, ``metadata`` when it came from the file (or
there is none), ``scalebar`` when it came from the image's scale bar.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from measurer.core.calibration import Calibration
from measurer.core.commands import AnalysisStep
from measurer.io.recipe_options import (
    UnsupportedStep,
    colors_options,
    layers_options,
    masks_options,
)
from measurer.io.recipes import Recipe, RecipeCalibration, write_recipe

#: The ``find_turns`` settings that ``measurer turns`` leaves at their defaults.
_TURNS_DEFAULTS = {"method": "centroid", "min_separation": 5}


def recipe_calibration(calibration: Calibration) -> RecipeCalibration:
    """How a batch should calibrate each image, from how the document was calibrated."""
    if calibration.source == "manual" and calibration.is_calibrated:
        size = (calibration.pixel_width, calibration.pixel_height)
        return RecipeCalibration("fixed", size, calibration.unit)
    if calibration.source == "scalebar":
        return RecipeCalibration("scalebar")
    return RecipeCalibration("metadata")


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
    step: AnalysisStep,
    calibration: Calibration,
    *,
    template_file: str | None = None,
    image_path: str | os.PathLike[str] | None = None,
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
    image_path : path, optional
        The document's image file: a masks run on two masks finds each image's second mask
        as its own was found from it (without it, such a run is refused).

    Raises
    ------
    UnsupportedStep
        The step cannot be expressed as a recipe; the message says why.
    """
    parameters = dict(step.parameters)
    setup = recipe_calibration(calibration)
    if step.analysis == "masks":
        analysis, options, rect = masks_options(parameters, image_path=image_path)
        return Recipe(analysis, options, setup, rect)
    if step.analysis == "layers":
        options, rect = layers_options(parameters)
        return Recipe("layers", options, setup, rect)
    if step.analysis == "colors":
        return Recipe("colors", colors_options(parameters), setup)
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
        "(recipes cover masks, layers, colours, match, turns and scalebar runs)"
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
    image_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the recipe of ``step`` to ``path`` (a match's template as ``NAME.template.png``
    beside it); returns the recipe's path. ``image_path`` as for :func:`recipe_from_step`.

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
    recipe = recipe_from_step(step, calibration, template_file=template_file, image_path=image_path)
    return write_recipe(path, recipe)
