"""One image of ``measurer batch``: read it, calibrate it as the recipe says, measure it and, if
asked, write it annotated.

:class:`ImageTask` is the ``measure`` that :func:`measurer.io.batch.run_batch` runs on each
image; it is picklable, so worker processes and Dask workers can run it. Annotated PNGs show
the geometry of the rows as ``measurer ANALYSIS --annotated`` draws it (see
:mod:`measurer.cli.overlays`): blob outlines, the closest points of each gap, the retina
landmarks, the margins and deepest point of two regions, the scale bar, the layer profiles
with the layers' ends, match windows, turning points, and the boxes of colour objects or the
grid's classified cells.

A second mask named by a pattern (``"mask_b": "{dir}/../hole/{name}"``, see
:mod:`measurer.io.recipes`) is resolved for each image by :func:`second_mask_path`; an image
whose second mask is missing is an error row.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from measurer.cli.errors import CliError
from measurer.core.calibration import Calibration
from measurer.io.recipes import RecipeCalibration, is_mask_pattern


def scalebar_calibration(pixels: np.ndarray, setup: RecipeCalibration) -> Calibration:
    """The calibration an image's scale bar gives: its label, or ``setup.bar_length``.

    Raises
    ------
    ValueError
        No bar found, or its label missing, unreadable or uncertain.
    """
    from measurer.analysis.scalebar import detect_scale_bar
    from measurer.analysis.scalebar_label import OcrUnavailableError, read_scale_label

    bar = detect_scale_bar(pixels).bar
    if bar is None:
        raise ValueError("no scale bar found in the image")
    if setup.bar_length is not None and setup.unit is not None:
        length, unit = setup.bar_length, setup.unit
    else:
        fix = (
            'give the length every bar stands for: "bar_length" and "unit" in the recipe\'s '
            "calibration (measurer recipe --bar-length LENGTH UNIT)"
        )
        try:
            label = read_scale_label(pixels, bar.top, bar.bottom, bar.x0, bar.x1)
        except OcrUnavailableError as exc:
            raise ValueError(f"cannot read the scale bar label ({exc}): {fix}") from exc
        if label is None:
            raise ValueError(f"the scale bar label could not be read: {fix}")
        if not label.certain:
            raise ValueError(
                f"the scale bar label {label.text!r} was read as {label.value:g} {label.unit}, "
                f"which is uncertain: if every bar stands for that, make the recipe with "
                f"--bar-length {label.value:g} {label.unit}"
            )
        length, unit = label.value, label.unit
    detail = f"scale bar of {bar.length:.2f} px = {length:g} {unit}"
    calibration = Calibration.from_known_distance(bar.length, length, unit, source="scalebar")
    return dataclasses.replace(calibration, detail=detail)


def calibrated(image, setup: RecipeCalibration):
    """The :class:`~measurer.io.images.ImageFile` with the calibration the recipe gives it."""
    if setup.mode == "metadata":
        return image
    if setup.mode == "fixed":
        calibration = setup.fixed()
    else:
        calibration = scalebar_calibration(image.page(0), setup)
    return dataclasses.replace(image, info=dataclasses.replace(image.info, calibration=calibration))


def second_mask_path(pattern: str, image: str | os.PathLike[str]) -> Path:
    """The file a ``mask_b`` pattern names for ``image``, with ``..`` normalised.

    ``{dir}`` is the image's folder (absolute), ``{stem}``, ``{name}`` and ``{ext}`` its file
    name without extension, its file name and its extension with the dot.
    """
    path = Path(image).absolute()
    text = pattern.format(dir=path.parent, stem=path.stem, name=path.name, ext=path.suffix)
    return Path(os.path.normpath(text))


def write_overlay(path: str, image, analysis: str, rows: list[dict], args) -> None:
    """Write ``image`` (an ImageFile) with the geometry of its rows drawn on it, as PNG."""
    from measurer.cli.overlays import analysis_annotations, write_annotated_image

    annotations = analysis_annotations(analysis, image, rows, args)
    write_annotated_image(path, image, annotations, image.calibration)


@dataclass(frozen=True)
class ImageTask:
    """Measure one image as a recipe says: ``task(path, annotated_path=None) -> rows``.

    Attributes
    ----------
    analysis : str
        The subcommand whose ``measure(image_file, args)`` gives the rows.
    args : argparse.Namespace
        Its arguments (see :func:`measurer.cli.recipe.recipe_args`).
    calibration : RecipeCalibration
    """

    analysis: str
    args: argparse.Namespace
    calibration: RecipeCalibration

    def __call__(self, path: str, annotated: str | None = None) -> list[dict]:
        from measurer.cli.common import load_image

        module = importlib.import_module(f"measurer.cli.{self.analysis}")
        args = self._image_args(path)
        try:
            image = calibrated(load_image(path), self.calibration)
            rows = module.measure(image, args)
        except CliError as exc:
            raise ValueError(str(exc)) from None
        if annotated is not None:
            write_overlay(annotated, image, self.analysis, rows, args)
        return rows

    def _image_args(self, path: str) -> argparse.Namespace:
        """The arguments for the image ``path``: a ``mask_b`` pattern resolved for it."""
        pattern = getattr(self.args, "mask_b", None)
        if pattern is None or not is_mask_pattern(pattern):
            return self.args
        second = second_mask_path(pattern, path)
        if not second.is_file():
            raise ValueError(f"no second mask at {second} (from the recipe's pattern {pattern!r})")
        return argparse.Namespace(**{**vars(self.args), "mask_b": str(second)})
