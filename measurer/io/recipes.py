"""Recipes: an analysis with its options, calibration and ROI, saved as versioned JSON.

A recipe is what ``measurer batch`` applies to every image, written by ``measurer recipe`` (or
the GUI) and editable by hand::

    {
      "schema": 1,
      "analysis": "blobs",
      "options": {"min-area": 5, "connectivity": 4},
      "calibration": {"mode": "metadata"},
      "roi": null
    }

- ``analysis``: one of :data:`ANALYSES` (the ``measurer`` subcommand of the same name).
- ``options``: the subcommand's long options without their dashes, with values as on the
  command line: numbers, text, ``true`` for a flag, a list for an option given several times.
  Its positional arguments after the image go here under their names (``"template"`` for
  ``match``); a relative file path is relative to the recipe's folder. This module checks their
  form only; :mod:`measurer.cli.recipe` checks them with the subcommand's own parser.
- ``"mask_b"`` (``regions`` and ``retina``: a second mask per image) may be a **pattern**
  that ``measurer batch`` resolves for each image with the placeholders ``{dir}`` (the
  image's folder), ``{stem}`` (its file name without extension), ``{name}`` (its file name)
  and ``{ext}`` (its extension, with the dot); ``..`` is normalised. Masks kept in parallel
  folders (``retina/img001.png``, ``hole/img001.png``) take ``"{dir}/../hole/{name}"``, masks
  side by side (``img001.png``, ``img001_hole.png``) ``"{dir}/{stem}_hole.png"``. An image
  whose second mask is missing becomes an error row. A pattern that starts neither with
  ``{dir}`` nor with a root is relative to the recipe's folder. ``{{`` and ``}}`` stand for
  literal braces. A name without placeholders is one file: ``retina`` merges it into every
  image; ``regions`` refuses it.
- ``calibration``: ``{"mode": "metadata"}`` (the pixel size each file's metadata gives, if
  any; the default), ``{"mode": "fixed", "pixel_size": [x, y], "unit": "um"}`` (``pixel_size``
  may be one number for square pixels) or ``{"mode": "scalebar"}``: each image's scale bar is
  detected and its label read by OCR; ``"bar_length"`` and ``"unit"`` give the bar's length
  instead, when every image has the same bar.
- ``roi``: ``[x, y, width, height]`` in whole pixels (x = first column, y = first row), or null.

Files are written atomically, UTF-8, keys in the order above, one option per line.
"""

from __future__ import annotations

import json
import math
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measurer.core.calibration import PIXEL_UNIT, Calibration, normalize_unit
from measurer.io.atomic import atomic_write_text

#: The recipe format this version writes and reads.
SCHEMA = 1
#: Analyses a recipe can name: the subcommands that give a table per image.
ANALYSES = ("blobs", "colors", "gaps", "layers", "match", "regions", "retina", "scalebar", "turns")
#: How a recipe calibrates each image.
CALIBRATION_MODES = ("metadata", "fixed", "scalebar")
#: Placeholders of a ``"mask_b"`` pattern, resolved for each image of a batch.
MASK_PLACEHOLDERS = ("dir", "stem", "name", "ext")
_KEYS = ("schema", "analysis", "options", "calibration", "roi")
_CALIBRATION_KEYS = {
    "metadata": ("mode",),
    "fixed": ("mode", "pixel_size", "unit"),
    "scalebar": ("mode", "bar_length", "unit"),
}


class RecipeError(ValueError):
    """A recipe that cannot be read or used; the message says what is wrong, on one line."""


@dataclass(frozen=True)
class RecipeCalibration:
    """How each image of a batch is calibrated (see the module docstring).

    Attributes
    ----------
    mode : {"metadata", "fixed", "scalebar"}
    pixel_size : (float, float) or None
        ``fixed``: pixel width (x) and height (y) in ``unit``.
    unit : str or None
        Canonical unit (see :func:`~measurer.core.calibration.normalize_unit`) of
        ``pixel_size`` or ``bar_length``.
    bar_length : float or None
        ``scalebar``: the bar's physical length; None reads each bar's label.
    """

    mode: str = "metadata"
    pixel_size: tuple[float, float] | None = None
    unit: str | None = None
    bar_length: float | None = None

    def fixed(self) -> Calibration:
        """The calibration of ``fixed`` mode."""
        if self.mode != "fixed" or self.pixel_size is None or self.unit is None:
            raise RecipeError(f"a {self.mode!r} calibration has no fixed pixel size")
        x, y = self.pixel_size
        return Calibration(x, y, self.unit, "manual", "recipe")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, only the keys the mode uses."""
        data: dict[str, Any] = {"mode": self.mode}
        if self.mode == "fixed":
            data.update(pixel_size=list(self.pixel_size or ()), unit=self.unit)
        elif self.bar_length is not None:
            data.update(bar_length=self.bar_length, unit=self.unit)
        return data


@dataclass(frozen=True)
class Recipe:
    """An analysis with its options, calibration and ROI (see the module docstring).

    ``roi`` is ``(x, y, width, height)`` in whole pixels, or None.
    """

    analysis: str
    options: Mapping[str, Any] = field(default_factory=dict)
    calibration: RecipeCalibration = field(default_factory=RecipeCalibration)
    roi: tuple[int, int, int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written to a file."""
        return {
            "schema": SCHEMA,
            "analysis": self.analysis,
            "options": dict(self.options),
            "calibration": self.calibration.to_dict(),
            "roi": None if self.roi is None else list(self.roi),
        }


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecipeError(f"{what} must be a number, got {json.dumps(value)}")
    if value <= 0:
        raise RecipeError(f"{what} must be positive, got {value:g}")
    return float(value)


def _unit(value: Any, mode: str) -> str:
    if not isinstance(value, str):
        raise RecipeError(f'a {mode!r} calibration needs a "unit" (nm, um, mm, cm, m or in)')
    try:
        unit = normalize_unit(value)
    except ValueError as exc:
        raise RecipeError(f"calibration: {exc}") from exc
    if unit == PIXEL_UNIT:
        raise RecipeError("the calibration unit must be a physical unit (nm, um, mm, cm, m, in)")
    return unit


def _calibration(data: Any) -> RecipeCalibration:
    if data is None:
        return RecipeCalibration()
    if not isinstance(data, dict):
        raise RecipeError(f'"calibration" must be an object, got {json.dumps(data)}')
    mode = data.get("mode")
    if mode not in CALIBRATION_MODES:
        known = ", ".join(CALIBRATION_MODES)
        raise RecipeError(f'calibration "mode" must be one of {known}, got {json.dumps(mode)}')
    extra = [key for key in data if key not in _CALIBRATION_KEYS[mode]]
    if extra:
        allowed = ", ".join(_CALIBRATION_KEYS[mode])
        raise RecipeError(f"a {mode!r} calibration takes {allowed}, not {extra[0]!r}")
    if mode == "fixed":
        size = data.get("pixel_size")
        sizes = size if isinstance(size, list) else [size]
        if len(sizes) not in (1, 2):
            raise RecipeError(f'"pixel_size" must be [x, y] or one number, got {size}')
        values = [_number(v, '"pixel_size"') for v in sizes]
        return RecipeCalibration("fixed", (values[0], values[-1]), _unit(data.get("unit"), mode))
    if mode == "scalebar" and ("bar_length" in data or "unit" in data):
        length = _number(data.get("bar_length"), '"bar_length"')
        return RecipeCalibration("scalebar", None, _unit(data.get("unit"), mode), length)
    return RecipeCalibration(mode)


def is_mask_pattern(value: str) -> bool:
    """Whether the file name ``value`` is a pattern: it holds a placeholder such as ``{stem}``.

    Raises
    ------
    RecipeError
        Braces that are not one of :data:`MASK_PLACEHOLDERS` (``{{`` is a literal brace).
    """
    known = ", ".join(f"{{{name}}}" for name in MASK_PLACEHOLDERS)
    try:
        fields = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise RecipeError(f"the pattern {value!r}: {exc} (placeholders: {known})") from None
    found = False
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in MASK_PLACEHOLDERS or spec or conversion:
            whole = "{" + name + (f"!{conversion}" if conversion else "")
            whole += f":{spec}}}" if spec else "}"
            raise RecipeError(
                f"the pattern {value!r} has an unknown placeholder {whole} (placeholders: {known})"
            )
        found = True
    return found


def _options(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RecipeError(f'"options" must be an object, got {json.dumps(data)}')
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int | float | bool) for v in values) or not values:
            raise RecipeError(
                f"option {name!r} must be a number, text, true/false or a list of them, "
                f"got {json.dumps(value)}"
            )
    if "mask_b" in data:
        if not isinstance(data["mask_b"], str):
            raise RecipeError(
                f"option 'mask_b' is a file name or pattern, got {json.dumps(data['mask_b'])}"
            )
        is_mask_pattern(data["mask_b"])
    return dict(data)


def _roi(data: Any) -> tuple[int, int, int, int] | None:
    if data is None:
        return None
    ok = isinstance(data, list) and len(data) == 4
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in data)
    if not ok or any(v != int(v) for v in data):
        raise RecipeError(f'"roi" must be [x, y, width, height] in whole pixels, got {data}')
    x, y, w, h = (int(v) for v in data)
    if x < 0 or y < 0 or w < 1 or h < 1:
        raise RecipeError(f'"roi" needs x, y >= 0 and a positive width and height, got {data}')
    return x, y, w, h


def recipe_from_dict(data: Any) -> Recipe:
    """Check a recipe's JSON content and return it as a :class:`Recipe`.

    Raises
    ------
    RecipeError
        Not an object, missing or newer schema, unknown key or analysis, malformed options,
        calibration or ROI.
    """
    if not isinstance(data, dict):
        raise RecipeError("a recipe must be a JSON object")
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise RecipeError(f'a recipe needs "schema": {SCHEMA}, got {json.dumps(schema)}')
    if schema > SCHEMA:
        raise RecipeError(
            f"recipe schema {schema} is newer than this version of measurer reads ({SCHEMA})"
        )
    if schema < 1:
        raise RecipeError(f"unknown recipe schema {schema}")
    extra = [key for key in data if key not in _KEYS]
    if extra:
        raise RecipeError(f"unknown recipe key {extra[0]!r} (known: {', '.join(_KEYS)})")
    analysis = data.get("analysis")
    if analysis not in ANALYSES:
        known = ", ".join(ANALYSES)
        raise RecipeError(f"unknown analysis {json.dumps(analysis)} (known: {known})")
    return Recipe(
        analysis,
        _options(data.get("options")),
        _calibration(data.get("calibration")),
        _roi(data.get("roi")),
    )


def read_recipe(path: str | os.PathLike[str]) -> Recipe:
    """Read and check a recipe file.

    Raises
    ------
    RecipeError
        Unreadable file, invalid JSON or content (see :func:`recipe_from_dict`); the message
        starts with the file's path.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RecipeError(f"{path}: cannot read the recipe: {reason}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecipeError(f"{path}: not valid JSON: {exc}") from exc
    try:
        return recipe_from_dict(data)
    except RecipeError as exc:
        raise RecipeError(f"{path}: {exc}") from exc


def recipe_text(recipe: Recipe) -> str:
    """The recipe as JSON text: one option per line, calibration and ROI on one line each."""

    def text(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    data = recipe.to_dict()
    options = ",\n".join(f"    {text(k)}: {text(v)}" for k, v in data["options"].items())
    lines = [f"  {text(key)}: {text(data[key])}" for key in ("schema", "analysis")]
    lines.append('  "options": ' + ("{\n" + options + "\n  }" if options else "{}"))
    lines += [f"  {text(key)}: {text(data[key])}" for key in ("calibration", "roi")]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_recipe(path: str | os.PathLike[str], recipe: Recipe) -> Path:
    """Write a recipe file (see :func:`recipe_text`) atomically; returns the path."""
    return atomic_write_text(path, recipe_text(recipe))
