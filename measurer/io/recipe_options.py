"""Subcommand options that repeat a masks, layers or colours panel run on every image of a batch.

Each function takes a step's parameters as its panel stores them and returns the options of
the ``measurer`` subcommand that computes the same table, or raises :class:`UnsupportedStep`
with one line saying what to change in the panel. See
:mod:`measurer.io.recipe_from_steps` for the whole mapping.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from measurer.io.recipes import RecipeError

#: Rectangle of a recipe: first column, first row, width, height.
Rect = tuple[int, int, int, int]


class UnsupportedStep(RecipeError):
    """An analysis step that no recipe can express; the message says why, on one line."""


def _number(value: Any) -> str:
    """A number as short text that reads back to the same float."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _class_option(value: Any) -> str:
    values = value if isinstance(value, list | tuple) else [value]
    return ",".join(_number(v) for v in values)


def _foreground(parameters: dict[str, Any]) -> dict[str, Any]:
    """``threshold`` or ``class``: how the blobs and retina subcommands read each mask."""
    foreground = parameters.get("foreground", "nonzero")
    if foreground == "threshold":
        return {"threshold": float(parameters["threshold"])}
    if foreground == "class":
        return {"class": _class_option(parameters["class_a"])}
    return {}


def _rect(parameters: dict[str, Any]) -> Rect | None:
    """The run's rectangular ROI as ``(x, y, width, height)``; a polygon is refused."""
    roi = parameters.get("roi")
    if not roi:
        return None
    kind, value = next(iter(roi.items()))
    if kind != "rect":
        raise UnsupportedStep("a polygon ROI cannot be saved in a recipe: use a rectangle")
    row, col, rows, cols = (round(float(v)) for v in value)
    return col, row, cols, rows


def _connectivity(parameters: dict[str, Any]) -> dict[str, Any]:
    connectivity = int(parameters.get("connectivity", 8))
    return {"connectivity": connectivity} if connectivity != 8 else {}


def _braces(text: str) -> str:
    """``text`` with its braces doubled, so that a pattern keeps them literally."""
    return text.replace("{", "{{").replace("}", "}}")


def second_mask_pattern(image: str | os.PathLike[str], second: str | os.PathLike[str]) -> str:
    """The ``mask_b`` pattern that finds ``second`` from ``image``, and each image's second
    mask the same way (see :mod:`measurer.io.recipes`).

    The file name is ``{name}`` when both files have the same name, else ``second``'s name with
    the image's stem replaced by ``{stem}``; the folder is ``{dir}``, followed by the relative
    path from the image's folder to ``second``'s when they differ: ``retina/img001.png`` and
    ``hole/img001.png`` give ``{dir}/../hole/{name}``, ``img001.png`` and ``img001_hole.png``
    give ``{dir}/{stem}_hole.png``.

    Raises
    ------
    UnsupportedStep
        ``second`` is the image itself, its name contains neither the image's name nor its
        stem, or no relative path leads to it (another drive).
    """
    first = Path(os.path.normpath(Path(image).absolute()))
    other = Path(os.path.normpath(Path(second).absolute()))
    if first == other:
        raise UnsupportedStep("the second mask is the image itself: choose another file")
    if other.name == first.name:
        name = "{name}"
    elif first.stem in other.name:
        name = _braces(other.name).replace(_braces(first.stem), "{stem}", 1)
    else:
        raise UnsupportedStep(
            f"a batch cannot find the second mask {other.name!r} from the image {first.name!r}: "
            "give it the same file name in another folder (retina/img001.png, hole/img001.png) "
            "or a name containing the image's (img001.png, img001_hole.png)"
        )
    try:
        folder = Path(os.path.relpath(other.parent, first.parent)).as_posix()
    except ValueError:  # Windows: another drive
        raise UnsupportedStep(
            "the second mask is on another drive than the image: keep them on one drive"
        ) from None
    return "{dir}/" + ("" if folder == "." else _braces(folder) + "/") + name


def _retina(parameters: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The options of ``measurer retina`` for a preset run: ``options`` with kind and area."""
    if parameters.get("roi"):
        raise UnsupportedStep(
            "measurer retina has no ROI: select no rectangle or polygon and run the "
            "preset again to save a recipe"
        )
    preset = parameters.get("preset", "none")
    if preset != "auto":
        options["kind"] = preset
    min_area = int(parameters.get("min_area") or 0)
    if min_area > 0:  # 0: automatic, 1 % of the retina in both
        options["min-area"] = min_area
    return options


def _two_masks(
    parameters: dict[str, Any], image_path: str | os.PathLike[str] | None
) -> tuple[str, dict[str, Any], Rect | None]:
    """``regions`` (or ``retina`` for a preset) with each image's second mask as a pattern."""
    second = parameters.get("second_mask")
    if image_path is None or not second:
        raise UnsupportedStep(
            "a masks run on two masks needs the files of the image and of the second mask "
            "to name each image's second mask in a recipe"
        )
    options = {"mask_b": second_mask_pattern(image_path, second), **_foreground(parameters)}
    if parameters.get("preset", "none") != "none":
        return "retina", _retina(parameters, options), None
    return "regions", {**options, **_connectivity(parameters)}, _rect(parameters)


def masks_options(
    parameters: dict[str, Any], *, image_path: str | os.PathLike[str] | None = None
) -> tuple[str, dict[str, Any], Rect | None]:
    """``(subcommand, options, rect)`` of a masks run: ``blobs``, ``retina`` for a preset, or
    ``regions`` for two classes (the gaps between them and B's depth below A's margins).

    A run on two masks (the image and ``parameters["second_mask"]``) becomes ``regions``, or
    ``retina`` for a preset, with ``mask_b`` the pattern :func:`second_mask_pattern` derives
    from ``image_path``, the image's file; without it, such a run is refused.
    """
    source = parameters.get("source", "image")
    preset = parameters.get("preset", "none")
    if source == "two_masks":
        return _two_masks(parameters, image_path)
    if source != "image":
        if preset != "none":
            raise UnsupportedStep(
                "a retina preset on two classes cannot be saved as a recipe: measurer retina "
                "reads one class per mask; measure one class (Source: current image)"
            )
        rect = _rect(parameters)
        classes = f"{_class_option(parameters['class_a'])},{_class_option(parameters['class_b'])}"
        return "regions", {"classes": classes, **_connectivity(parameters)}, rect
    options = _foreground(parameters)
    if preset != "none":
        return "retina", _retina(parameters, options), None
    options.update(_connectivity(parameters))
    min_area = int(parameters.get("min_area") or 0)
    if min_area > 1:
        options["min-area"] = min_area
    return "blobs", options, _rect(parameters)


def _drawn_line(lines: list, width: int, count: int) -> str:
    """``--line`` for the profiles of a run from a line: the line they were placed around.

    ``measurer layers`` places ``--profiles`` lines one band width apart around ``--line``, as
    the panel did around the drawn line; the step keeps only the placed lines, so the drawn
    one is their middle, checked by placing them again.
    """
    from measurer.analysis.orientation import parallel_lines

    found = np.asarray(lines, dtype=float).reshape(-1, 2, 2)
    if len(found) == count:
        start, end = found.mean(axis=0)
        placed = parallel_lines(start, end, count=count, spacing=width)
        if np.allclose(placed, found, rtol=0, atol=1e-6):
            (r0, c0), (r1, c1) = start, end
            return ",".join(_number(round(v, 9)) for v in (c0, r0, c1, r1))
    raise UnsupportedStep(
        "the profiles were cut by the image border, which measurer layers does differently: "
        "draw the line inside the image (or use 1 profile) and run again to save a recipe"
    )


def layers_options(parameters: dict[str, Any]) -> tuple[dict[str, Any], Rect | None]:
    """``(options, rect)`` of ``measurer layers`` for a Layers panel run.

    A run from a drawn line gives ``--line`` (a fixed line on every image); a run on a
    rectangle, or on the whole image, gives ``--auto`` with that rectangle as the ROI.
    """
    width, count = int(parameters["band_width"]), int(parameters["profiles"])
    options: dict[str, Any] = {}
    smoothing = float(parameters.get("smoothing", 1.0))
    if smoothing != 1.0:
        options["smoothing"] = smoothing
    if width != 5:
        options["width"] = width
    if count != 1:
        options["profiles"] = count
    roi = parameters.get("roi")
    if roi is not None:
        row, col, rows, cols = (int(v) for v in roi)
        return {"auto": True, **options}, (col, row, cols, rows)
    return {"line": _drawn_line(parameters["lines"], width, count), **options}, None


def colors_options(parameters: dict[str, Any]) -> dict[str, Any]:
    """The options of ``measurer colors`` for a Colours panel run (objects or grid cells)."""
    if parameters.get("references"):
        raise UnsupportedStep(
            "matching grid cells against reference images cannot be saved as a recipe "
            "(measurer colors has no reference images): classify the cells by colour instead"
        )
    grid = parameters.get("grid")
    options: dict[str, Any] = {}
    smoothing = float(parameters.get("smoothing", 1.0 if grid else 1.5))
    if smoothing != (1.0 if grid else 1.5):  # the defaults of measurer colors
        options["smoothing"] = smoothing
    classes = parameters.get("classes")
    if classes:
        specs = []
        for name, value in classes.items():
            if "=" in name or name != name.strip():
                raise UnsupportedStep(
                    f"measurer colors cannot read the class name {name!r} (NAME=R,G,B): "
                    "rename the class without '=' or surrounding spaces"
                )
            specs.append(f"{name}={_class_option(value)}")
        options["class"] = specs
    else:
        options["k"] = int(parameters["k"])
    background = parameters.get("background")
    if background and not grid:  # picked background colours (the panel keeps them off grids)
        options["background"] = [_class_option(value) for value in background]
    min_area = int(parameters.get("min_area", 20))
    if min_area != 20:
        options["min-area"] = min_area
    if grid:
        top, left, height, width, rows, cols = grid
        cells = (left, top, width, height, int(rows), int(cols))
        options["grid"] = ",".join(_number(v) for v in cells)
    return options
