"""``measurer recipe ANALYSIS [OPTIONS] --out RECIPE.json``: save an analysis setup for batches.

The options are those of ``measurer ANALYSIS`` without its IMAGE. ``--pixel-size``/``--unit``
become the recipe's fixed calibration, ``--roi`` its ROI and ``--scalebar`` (any analysis) a
calibration from each image's scale bar, whose label is read by OCR unless ``--bar-length
LENGTH UNIT`` gives the length every bar stands for; the other options are kept under their
long names.
A second mask (``regions`` and ``retina`` MASK_B) may be a pattern resolved for each image of
the batch, e.g. ``"{dir}/../hole/{name}"``: it is kept as written, not checked for a file.
:func:`recipe_args` turns a recipe back into the subcommand's arguments, checked by the
subcommand's own parser, so a hand-edited recipe gets the same messages as a command line.
The file format is described in :mod:`measurer.io.recipes`.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

from measurer.cli.errors import CliError
from measurer.io.recipes import (
    ANALYSES,
    Recipe,
    RecipeCalibration,
    RecipeError,
    is_mask_pattern,
)

#: Stands for the image when a subcommand's options are parsed without one.
_IMAGE = "IMAGE"
#: Options that are parts of a recipe other than its options, and where they go.
_ELSEWHERE = {
    "json": "is not a recipe option: measurer batch writes a table",
    "rois": "is not a recipe option: a batch writes tables (and --annotated DIR images)",
    "annotated": "is not a recipe option: measurer batch --annotated DIR draws the images",
    "roi": 'goes in the recipe\'s "roi" ([x, y, width, height]), not in its options',
    "pixel-size": 'goes in the recipe\'s "calibration" ({"mode": "fixed", ...})',
    "unit": 'goes in the recipe\'s "calibration" ({"mode": "fixed", ...})',
    "scalebar": 'goes in the recipe\'s "calibration" ({"mode": "scalebar"})',
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one CliError line, like ``measurer`` itself."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: {message}")


def analysis_parser(analysis: str) -> argparse.ArgumentParser:
    """The parser of ``measurer ANALYSIS`` (prefixes of long options not accepted)."""
    module = importlib.import_module(f"measurer.cli.{analysis}")
    subparsers = _Parser(prog="measurer").add_subparsers(parser_class=_Parser)
    module.register(subparsers)
    parser = subparsers.choices[analysis]
    parser.allow_abbrev = False
    return parser


def _layout(parser: argparse.ArgumentParser) -> tuple[dict[str, argparse.Action], set[str]]:
    """``(options, elsewhere)``: recipe option names with their actions, and the names that
    belong to other parts of the recipe. Positional arguments after the image are options
    under their names."""
    options: dict[str, argparse.Action] = {}
    positionals = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            name = next((o for o in action.option_strings if o.startswith("--")), None)
            options[(name or action.option_strings[0]).lstrip("-")] = action
        else:
            positionals.append(action)
    options.update((action.dest, action) for action in positionals[1:])
    elsewhere = {"json", "roi", "scalebar", "rois", "annotated"} & set(options)
    if "pixel-size" in options:
        elsewhere |= {"pixel-size", "unit"}
    return {k: v for k, v in options.items() if k not in elsewhere}, elsewhere


def _fixed_start(pattern: str) -> bool:
    """Whether a ``mask_b`` pattern starts at a known place: the image's folder or a root."""
    return pattern.startswith("{dir}") or Path(pattern).is_absolute()


def _file(name: str, value: str) -> str:
    """A file name of the command line as the recipe keeps it: absolute, except that a
    ``mask_b`` pattern keeps its placeholders and ``..`` (only a relative start is made
    absolute)."""
    try:
        pattern = name == "mask_b" and is_mask_pattern(value)
    except RecipeError as exc:
        raise CliError(str(exc)) from exc
    if not pattern:
        return str(Path(value).resolve())
    return value if _fixed_start(value) else str(Path(value).absolute())


def _text(name: str, value) -> str:
    if isinstance(value, bool):
        raise RecipeError(f"option {name!r} takes a value, not {json.dumps(value)}")
    if isinstance(value, list):
        return ",".join(_text(name, v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def _argv(recipe: Recipe, parser: argparse.ArgumentParser, base: Path | None) -> list[str]:
    """The recipe's options and ROI as arguments of the subcommand, after a stand-in image."""
    options, elsewhere = _layout(parser)
    files: dict[str, str] = {}
    flags: list[str] = []
    for name, value in recipe.options.items():
        if name == "roi" and name not in elsewhere:
            raise RecipeError(f"{recipe.analysis} takes no ROI")
        if name in elsewhere or (name in _ELSEWHERE and name not in options):
            raise RecipeError(f"option {name!r} {_ELSEWHERE[name]}")
        action = options.get(name)
        if action is None:
            known = ", ".join(options) or "none"
            raise RecipeError(f"unknown option {name!r} for {recipe.analysis} (options: {known})")
        if not action.option_strings:
            if not isinstance(value, str):
                raise RecipeError(f"option {name!r} is a file name, got {json.dumps(value)}")
            if name == "mask_b" and is_mask_pattern(value):  # resolved for each image
                files[name] = value if base is None or _fixed_start(value) else str(base / value)
                continue
            path = Path(value) if base is None or Path(value).is_absolute() else base / value
            if not path.is_file():
                raise RecipeError(f"option {name!r}: no such file {str(path)!r}")
            files[name] = str(path)
        elif action.nargs == 0:
            if not isinstance(value, bool):
                raise RecipeError(f"option {name!r} is true or false, got {json.dumps(value)}")
            flags += [f"--{name}"] if value else []
        elif isinstance(action, argparse._AppendAction) and isinstance(value, list):
            flags += [f"--{name}={_text(name, v)}" for v in value]
        else:
            flags.append(f"--{name}={_text(name, value)}")
    if recipe.roi is not None:
        if "roi" not in elsewhere:
            raise RecipeError(f'{recipe.analysis} takes no ROI: set "roi" to null')
        flags.append("--roi=" + ",".join(map(str, recipe.roi)))
    return [_IMAGE, *(files[name] for name in options if name in files), *flags]


def recipe_args(recipe: Recipe, *, base: str | Path | None = None) -> argparse.Namespace:
    """The subcommand's arguments for a recipe, checked as its command line would be.

    Parameters
    ----------
    recipe : Recipe
    base : path, optional
        Folder that relative file names in the options are relative to (the recipe's).

    Returns
    -------
    argparse.Namespace
        As ``measurer ANALYSIS`` parses them, ``image`` a stand-in; no pixel size (the batch
        calibrates each image as the recipe says).

    Raises
    ------
    RecipeError
        Unknown option, bad value (the subcommand parser's message), or an option the
        analysis refuses.
    """
    parser = analysis_parser(recipe.analysis)
    argv = _argv(recipe, parser, None if base is None else Path(base))
    module = importlib.import_module(f"measurer.cli.{recipe.analysis}")
    try:
        args = parser.parse_args(argv)
        if hasattr(module, "check_options"):
            module.check_options(args)
    except CliError as exc:
        raise RecipeError(str(exc)) from exc
    return args


def recipe_from_command(analysis: str, argv: list[str]) -> Recipe:
    """A recipe from ``measurer ANALYSIS``'s arguments without the image (``--scalebar`` too).

    Raises
    ------
    CliError
        The subcommand's parser refuses the arguments.
    """
    from measurer.cli.common import calibration_from_args, parse_floats

    parser = analysis_parser(analysis)
    options, elsewhere = _layout(parser)
    scalebar = "scalebar" not in elsewhere and "--scalebar" in argv
    args = parser.parse_args([_IMAGE, *(a for a in argv if not (scalebar and a == "--scalebar"))])
    for name in ("json", "rois", "annotated"):
        if getattr(args, name, None):
            raise CliError(f"--{name} {_ELSEWHERE[name]}")
    chosen = {}
    for name, action in options.items():
        value = getattr(args, action.dest)
        if value != action.default:
            chosen[name] = _file(name, value) if not action.option_strings else value
    calibration = RecipeCalibration()
    if "pixel-size" in elsewhere:
        fixed = calibration_from_args(args)
        if fixed.is_calibrated:
            size = (fixed.pixel_width, fixed.pixel_height)
            calibration = RecipeCalibration("fixed", size, fixed.unit)
    if scalebar or getattr(args, "scalebar", False):
        if calibration.mode == "fixed":
            raise CliError("--scalebar and --pixel-size/--unit exclude each other")
        calibration = RecipeCalibration("scalebar")
    roi = None
    if getattr(args, "roi", None):
        values = parse_floats(args.roi, "--roi", 4)
        if any(v != int(v) for v in values):
            raise CliError(f"--roi takes whole pixels, got {args.roi!r}")
        x, y, w, h = (int(v) for v in values)
        roi = (x, y, w, h)
    return Recipe(analysis, chosen, calibration, roi)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recipe`` subcommand."""
    parser = subparsers.add_parser(
        "recipe",
        help="save an analysis with its options as a recipe for measurer batch",
        description="Write a recipe (versioned JSON, editable by hand) for `measurer batch`: "
        "ANALYSIS followed by its own options as `measurer ANALYSIS --help` lists them, "
        "without IMAGE (match takes its TEMPLATE; regions and retina may take MASK_B as a "
        "pattern resolved for each image with {dir}, {stem}, {name} and {ext}, e.g. "
        "'{dir}/../hole/{name}' or '{dir}/{stem}_hole.png'). --pixel-size/--unit make a fixed "
        "calibration, --scalebar calibrates each image from its scale bar (its label read "
        "by OCR, or --bar-length LENGTH UNIT when every bar stands for that length), "
        "otherwise the batch uses each file's metadata. --roi becomes the recipe's ROI.",
    )
    parser.add_argument("analysis", choices=ANALYSES, metavar="ANALYSIS", help=", ".join(ANALYSES))
    parser.add_argument(
        "arguments", nargs=argparse.REMAINDER, metavar="OPTION", help="the analysis's options"
    )
    parser.add_argument("--out", metavar="RECIPE.json", help="the recipe file to write")
    parser.add_argument(
        "--scalebar", action="store_true", help="calibrate each image from its scale bar"
    )
    parser.add_argument(
        "--bar-length",
        nargs=2,
        metavar=("LENGTH", "UNIT"),
        help="with --scalebar: every bar stands for LENGTH UNIT (e.g. 10 um); no OCR",
    )
    parser.set_defaults(func=run)


def _take(
    arguments: list[str], name: str, count: int, needs: str
) -> tuple[list[str], list[str] | None]:
    """Remove ``name`` and its ``count`` values (or ``name=VALUE``) from the analysis's
    arguments, where argparse leaves the recipe's own options given after ANALYSIS; ``needs``
    says what the values are in the error for missing ones."""
    rest: list[str] = []
    taken = None
    items = iter(arguments)
    for item in items:
        if item != name and not item.startswith(f"{name}="):
            rest.append(item)
            continue
        if taken is not None:
            raise CliError(f"{name} is given twice")
        if "=" in item:
            taken = [item.partition("=")[2]]
        else:
            taken = [value for _, value in zip(range(count), items, strict=False)]
        if len(taken) != count or not all(taken):
            raise CliError(f"{name} needs {needs}")
    return rest, taken


def _with_bar_length(recipe: Recipe, length: str, unit: str) -> Recipe:
    """``recipe`` calibrated from each scale bar standing for ``length`` ``unit``."""
    import dataclasses

    from measurer.io.recipes import recipe_from_dict

    if recipe.calibration.mode != "scalebar":
        raise CliError("--bar-length goes with --scalebar")
    try:
        value = float(length)
    except ValueError:
        raise CliError(f"--bar-length takes a number and a unit, got {length!r}") from None
    data = recipe.to_dict()
    data["calibration"] = {"mode": "scalebar", "bar_length": value, "unit": unit}
    try:
        calibration = recipe_from_dict(data).calibration
    except RecipeError as exc:
        raise CliError(f"--bar-length: {exc}") from exc
    return dataclasses.replace(recipe, calibration=calibration)


def run(args: argparse.Namespace) -> int:
    """Write the recipe ``args.out``."""
    from measurer.io.recipes import write_recipe

    arguments, out = _take(list(args.arguments), "--out", 1, "a file name")
    arguments, bar_length = _take(arguments, "--bar-length", 2, "a length and a unit, e.g. 10 um")
    for name, inline, given in (
        ("--out", out, args.out),
        ("--bar-length", bar_length, args.bar_length),
    ):
        if inline and given:
            raise CliError(f"{name} is given twice")
    out = args.out or (out[0] if out else None)
    bar_length = args.bar_length or bar_length
    if out is None:
        raise CliError("--out RECIPE.json is required")
    if args.scalebar or bar_length:
        arguments.append("--scalebar")
    recipe = recipe_from_command(args.analysis, arguments)
    if bar_length:
        recipe = _with_bar_length(recipe, *bar_length)
    try:
        recipe_args(recipe)
    except RecipeError as exc:
        raise CliError(str(exc)) from exc
    try:
        write_recipe(out, recipe)
    except OSError as exc:
        raise CliError(f"cannot write {out!r}: {exc.strerror or exc}") from exc
    return 0
