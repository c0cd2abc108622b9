"""TIFF files that carry their pixel size: ImageJ-calibrated by default, so Fiji shows it.

The ImageJ form is what ImageJ 1.53t itself writes (checked against its ``FileSaver``): the pixel
width and height as XResolution/YResolution (pixels per unit), the unit in the ImageJ description
(``unit=\\u00B5m`` for micrometres, escaped exactly as ImageJ writes it; ``inch`` for inches),
ResolutionUnit INCH or CENTIMETER for those units and NONE otherwise. Fiji and
:func:`measurer.io.images.read_image` read the same pixel size back, anisotropic pixels included.

The plain form (``imagej=False``) writes the resolution in pixels per centimetre, which most
programs understand; :mod:`measurer.io.metadata` counts such a resolution as a pixel size only
when pixels are finer than 1/1200 inch (about 21 µm), so use the ImageJ form for coarse pixels.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import tifffile

from measurer.core.calibration import Calibration, convert_length
from measurer.io.atomic import atomic_write_bytes

#: ImageJ description spelling of each unit (ImageJ escapes the micro sign itself).
IMAGEJ_UNIT_NAMES = {"nm": "nm", "µm": "\\u00B5m", "mm": "mm", "cm": "cm", "m": "m", "in": "inch"}
#: TIFF ResolutionUnit ImageJ writes for a unit: 2 = inch, 3 = centimetre, 1 = none.
_RESOLUTION_UNITS = {"in": 2, "cm": 3}
#: Pixel types ImageJ opens, besides 8-bit RGB.
_GREY_TYPES = ("uint8", "uint16", "float32")
#: ImageJ axes of each array layout.
_AXES = {2: "YX", 3: "ZYX", 4: "ZYXS"}


class TiffWriteError(ValueError):
    """Pixels or a layout that a calibrated TIFF cannot hold; the message says what to pass."""


def write_tiff(
    path: str | os.PathLike[str],
    data: np.ndarray,
    calibration: Calibration,
    *,
    imagej: bool = True,
) -> Path:
    """Write pixels and their pixel size as a TIFF, atomically.

    Parameters
    ----------
    path : str or PathLike
        The file to create or replace (its folder must exist).
    data : ndarray
        In :func:`measurer.io.images.read_image`'s layout: ``(rows, cols)`` for one grey image,
        ``(pages, rows, cols)`` for a grey stack (a 3-D array is always a stack), or
        ``(pages, rows, cols, 3)`` for RGB. Grey pixels are uint8, uint16 or float32 (what
        ImageJ opens), bool is written as uint8 0/255; RGB is uint8. Never modified.
    calibration : Calibration
        Pixel width (x) and height (y); an uncalibrated one writes no pixel size.
    imagej : bool
        True: ImageJ-calibrated TIFF (stacks are ImageJ z-stacks). False: a plain TIFF whose
        resolution is in pixels per centimetre.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    TiffWriteError
        For other pixel types or shapes.
    OSError
        When the file cannot be written (the old file, if any, is left intact).
    """
    return atomic_write_bytes(path, tiff_bytes(data, calibration, imagej=imagej))


def tiff_bytes(data: np.ndarray, calibration: Calibration, *, imagej: bool = True) -> bytes:
    """The TIFF file :func:`write_tiff` writes, as bytes (same arguments and errors)."""
    pixels, rgb = _checked(np.asarray(data))
    options: dict = {"photometric": "rgb" if rgb else "minisblack"}
    if imagej:
        options |= {"imagej": True, "metadata": {"axes": _AXES[pixels.ndim]}}
        if calibration.is_calibrated:
            options["metadata"]["unit"] = IMAGEJ_UNIT_NAMES[calibration.unit]
            options["resolution"] = (1 / calibration.pixel_width, 1 / calibration.pixel_height)
            options["resolutionunit"] = _RESOLUTION_UNITS.get(calibration.unit, 1)
    elif calibration.is_calibrated:
        per_cm = 1 / convert_length(1.0, calibration.unit, "cm")
        width, height = calibration.pixel_width, calibration.pixel_height
        options |= {"resolution": (per_cm / width, per_cm / height), "resolutionunit": 3}
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, **options)
    return buffer.getvalue()


def imagej_pixels(data: np.ndarray) -> np.ndarray:
    """An image's ``(pages, rows, cols[, channels])`` pixels in a form ImageJ opens: grey
    integer and float types other than uint8, uint16 and float32 become float32 (exact for
    every 8- and 16-bit value), an alpha channel is dropped, and one grey page is 2-D."""
    if data.ndim == 4:
        return data[..., :3]  # RGB(A): ImageJ keeps 8-bit RGB (other types are refused)
    if data.dtype.name not in ("bool", *_GREY_TYPES):
        data = data.astype(np.float32)
    return data[0] if len(data) == 1 else data


def _checked(data: np.ndarray) -> tuple[np.ndarray, bool]:
    """The pixels to write (bool as uint8 0/255) and whether they are RGB."""
    rgb = data.ndim == 4
    if rgb:
        if data.shape[3] != 3 or data.dtype != np.uint8:
            raise TiffWriteError(
                f"4-D pixels must be 8-bit RGB of shape (pages, rows, cols, 3), got "
                f"{data.shape} {data.dtype}"
            )
    elif data.ndim not in (2, 3):
        raise TiffWriteError(
            f"cannot write pixels of shape {data.shape}: pass (rows, cols), (pages, rows, cols) "
            "or (pages, rows, cols, 3) for RGB"
        )
    elif data.dtype == bool:
        data = data.astype(np.uint8) * np.uint8(255)
    elif data.dtype.name not in _GREY_TYPES:
        raise TiffWriteError(
            f"ImageJ opens 8-bit, 16-bit unsigned and 32-bit float grey pixels, got "
            f"{data.dtype}: convert first (e.g. data.astype(np.float32))"
        )
    if 0 in data.shape:
        raise TiffWriteError(f"cannot write an empty image of shape {data.shape}")
    return data, rgb
