"""Helpers shared by the subcommands: loading images, calibration options, output.

``--rois OUT.zip`` and ``--annotated OUT.png`` (:func:`add_output_options`,
:func:`write_outputs`) write an analysis's geometry as an ImageJ ROI set and the image with it
drawn on; :mod:`measurer.cli.overlays` says which shapes each analysis gives. A result with no
geometry (no blob, no match, no bar...) writes no ROI set (there is nothing to open in Fiji,
and :func:`~measurer.io.imagej_roi.write_rois` writes no empty set): a line on stderr says so,
the exit code stays 0, and an old file at that path is left as it was. The annotated image is
always written.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
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


#: Extensions ``--annotated`` writes (see :func:`measurer.io.annotated.write_annotated`).
ANNOTATED_FORMATS = (".png", ".tif", ".tiff", ".svg")


def _output_path(text: str, extensions: tuple[str, ...], what: str) -> str:
    """An output file name with one of ``extensions``, in a folder that exists."""
    if Path(text).suffix.lower() not in extensions:
        raise argparse.ArgumentTypeError(
            f"{what} ends in {', '.join(extensions[:-1])}{' or ' if len(extensions) > 1 else ''}"
            f"{extensions[-1]}, got {text!r}"
        )
    folder = Path(text).parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: no folder {str(folder)!r}")
    return text


def _rois_path(text: str) -> str:
    return _output_path(text, (".zip",), "an ImageJ ROI set")


def _annotated_path(text: str) -> str:
    return _output_path(text, ANNOTATED_FORMATS, "an annotated image")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--rois OUT.zip`` and ``--annotated OUT.png`` (PNG, TIFF or SVG) to a subcommand."""
    parser.add_argument(
        "--rois",
        type=_rois_path,
        metavar="OUT.zip",
        help="also write what was found as an ImageJ ROI set (opens in Fiji's ROI Manager)",
    )
    parser.add_argument(
        "--annotated",
        type=_annotated_path,
        metavar="OUT.png",
        help="also write the image with what was found drawn on it: .png, .tif or .svg",
    )


def wants_outputs(args: argparse.Namespace) -> bool:
    """True when ``--rois`` or ``--annotated`` was given."""
    return bool(getattr(args, "rois", None) or getattr(args, "annotated", None))


def write_outputs(
    args: argparse.Namespace, image_file, annotations: list, calibration: Calibration
) -> None:
    """Write ``--rois`` and ``--annotated`` if given (atomically), else nothing.

    Parameters
    ----------
    args : argparse.Namespace
        With ``rois`` and ``annotated`` from :func:`add_output_options`.
    image_file : ImageFile
        The image measured; its first page is drawn.
    annotations : list of Annotation
        From :func:`measurer.cli.overlays.analysis_annotations`.
    calibration : Calibration
        Unit of the value labels and the burned-in scale bar of the annotated image.

    Raises
    ------
    CliError
        A file cannot be written (one line naming it).
    """
    from measurer.cli.overlays import write_annotated_image
    from measurer.io.imagej_roi import write_rois

    command = f"measurer {getattr(args, 'command', None) or 'analysis'}"
    rois, annotated = getattr(args, "rois", None), getattr(args, "annotated", None)
    if rois:
        if annotations:
            _write(rois, lambda: write_rois(rois, annotations))
        else:
            print(
                f"{command}: nothing found to write as ROIs; {rois!r} not written", file=sys.stderr
            )
    if annotated:
        _write(
            annotated,
            lambda: write_annotated_image(annotated, image_file, annotations, calibration),
        )


def _write(path: str, write) -> None:
    """Run ``write()``, turning its failures into one CliError line naming ``path``."""
    try:
        write()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CliError(f"cannot write {path!r}: {reason}") from exc
    except ValueError as exc:  # the io functions name the file themselves, or say the extension
        message = str(exc)
        raise CliError(message if path in message else f"cannot write {path!r}: {message}") from exc
