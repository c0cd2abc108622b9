"""Helpers shared by the subcommands: loading images, calibration options, output."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

from measurer.cli.errors import CliError
from measurer.core.calibration import Calibration


def load_image(path: str, *, page: int = 0):
    """Read an image for a subcommand, turning read failures into one-line CLI errors.

    Returns
    -------
    ImageFile
        See :mod:`measurer.io.images`.
    """
    from measurer.io.images import ImageReadError, read_image

    try:
        image = read_image(path)
    except ImageReadError as exc:
        raise CliError(str(exc)) from exc
    if not 0 <= page < image.pages:
        raise CliError(f"{path!r} has {image.pages} page(s); page {page} does not exist")
    return image


def add_calibration_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--pixel-size X[,Y]`` and ``--unit U`` to a subcommand."""
    parser.add_argument(
        "--pixel-size",
        metavar="X[,Y]",
        help="physical size of one pixel in x (and y, if different); overrides file metadata",
    )
    parser.add_argument("--unit", metavar="U", help="unit of --pixel-size: nm, um, mm, cm, m, in")


def calibration_from_args(args: argparse.Namespace, image=None) -> Calibration:
    """The calibration given on the command line, else the image's metadata, else none."""
    if getattr(args, "pixel_size", None) is None:
        if getattr(args, "unit", None):
            raise CliError("--unit needs --pixel-size")
        return image.calibration if image is not None else Calibration.uncalibrated()
    if not getattr(args, "unit", None):
        raise CliError("--pixel-size needs --unit (nm, um, mm, cm, m or in)")
    parts = parse_floats(args.pixel_size, "--pixel-size")
    if len(parts) not in (1, 2):
        raise CliError("--pixel-size takes X or X,Y")
    width = parts[0]
    height = parts[1] if len(parts) == 2 else parts[0]
    try:
        return Calibration(width, height, args.unit, "manual", "command line")
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def parse_floats(text: str, option: str, count: int | None = None) -> list[float]:
    """Parse ``"1,2.5,3"``; with ``count``, exactly that many values."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise CliError(f"{option} takes comma-separated numbers, got {text!r}") from exc
    if any(not math.isfinite(v) for v in values):
        raise CliError(f"{option} takes finite numbers, got {text!r}")
    if count is not None and len(values) != count:
        raise CliError(f"{option} takes {count} comma-separated numbers, got {text!r}")
    return values


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (invalid JSON) by None, recursively."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """Write ``data`` as indented, strictly valid JSON (NaN becomes null) on stdout."""
    json.dump(_finite(data), sys.stdout, indent=2, ensure_ascii=False, default=_json_default)
    sys.stdout.write("\n")
