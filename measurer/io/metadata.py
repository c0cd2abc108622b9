"""What an image file's header says: its format, pixel layout and pixel size.

Nothing here reads pixel data. :mod:`measurer.io.images` reads the pixels and builds the public
:class:`~measurer.io.images.ImageInfo` from the :class:`Layout` made here.

Pixel size sources, in order of precedence for TIFF: ImageJ description (``unit=`` with
XResolution/YResolution), OME-XML (``PhysicalSizeX``/``Y`` and their units), FEI/Thermo SEM tags
(``[Scan] PixelWidth``/``PixelHeight`` in metres), Zeiss SEM tag 34118 (``AP_PIXEL_SIZE``), then
the plain TIFF XResolution/YResolution with ResolutionUnit. PNG, JPEG and BMP carry only a
resolution (Pillow's ``info["dpi"]``).

Resolution rule (plain TIFF, PNG, JPEG, BMP): paint programs, cameras and many instruments write
a print or screen resolution (72, 96, 300 dpi, or the 270.93 dpi of some JEOL SEM files) that
says nothing about the specimen. A resolution counts as a calibration only when its unit is
physical (inch, cm, or tifffile's mm/µm) **and** it makes pixels finer than
:data:`MAX_PRINT_DPI` in both x and y, i.e. smaller than 1/1200 inch ≈ 21.2 µm. A coarser one
is ignored with a note; ResolutionUnit NONE or a zero resolution is ignored silently.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from measurer.core.calibration import PIXEL_UNIT, Calibration, normalize_unit

#: Resolutions at or below this many pixels per inch are print/screen settings, not pixel sizes.
MAX_PRINT_DPI = 1200.0
#: Metres per unit of the TIFF ResolutionUnit values (1 = NONE is left out on purpose; 4 and 5
#: are tifffile's millimetre and micrometre extensions).
_RESOLUTION_UNITS = {2: 0.0254, 3: 0.01, 4: 1e-3, 5: 1e-6}
#: Units found in OME and ImageJ files that measurer's Calibration does not list: metres per unit.
_SMALL_UNITS = {"å": 1e-10, "Å": 1e-10, "angstrom": 1e-10, "ångström": 1e-10, "pm": 1e-12}
_FORMATS_TEXT = "PNG, JPEG, BMP, GIF, TIFF, PGM/PPM"
_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF87a": "GIF", b"GIF89a": "GIF"}
_MAGIC |= dict.fromkeys((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), "TIFF") | {b"BM": "BMP"}
_SUFFIX_FORMATS = {".tif": "TIFF", ".tiff": "TIFF", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
_SUFFIX_FORMATS |= {".bmp": "BMP", ".gif": "GIF", ".pgm": "PGM", ".ppm": "PPM", ".pnm": "PNM"}
#: Pillow mode -> (dtype, channels, mode) for the modes our Pillow formats produce.
_PIL_MODES = {
    "1": ("uint8", 1, "grey"),
    "L": ("uint8", 1, "grey"),
    "LA": ("uint8", 1, "grey"),
    "P": ("uint8", 1, "palette"),
    "I;16": ("uint16", 1, "grey"),
    "RGB": ("uint8", 3, "rgb"),
    "RGBA": ("uint8", 4, "rgba"),
}
#: Colour type of a 16-bit PNG that Pillow would reduce to 8 bits -> (channels, mode).
_PNG16 = {2: (3, "rgb"), 6: (4, "rgba"), 4: (1, "grey")}
#: Pillow palette raw modes -> (bytes per entry, positions of R, G, B).
_PALETTE_LAYOUTS = {"RGB": (3, [0, 1, 2]), "RGBA": (4, [0, 1, 2]), "BGR": (3, [2, 1, 0])}
_PALETTE_LAYOUTS |= {"BGRX": (4, [2, 1, 0])}
_PNM_TOKEN = re.compile(rb"(?:\s|#[^\r\n]*[\r\n])*(\d+)")


class FormatError(ValueError):
    """File content that cannot be used; the message is the reason, without the file name."""


@dataclass(frozen=True)
class Layout:
    """How a file's pixels come out of the reader, as its header describes them.

    ``shape`` is ``(pages, rows, cols)`` or ``(pages, rows, cols, channels)``; ``mode`` is
    ``"grey"``, ``"rgb"``, ``"rgba"`` or ``"palette"``. ``samples_as_pages``: the TIFF samples of
    a grey image (e.g. 2 or 5 channels) become pages.
    """

    shape: tuple[int, ...]
    dtype: str
    mode: str
    calibration: Calibration = field(default_factory=Calibration.uncalibrated)
    notes: tuple[str, ...] = ()
    samples_as_pages: bool = False


def sniff_format(head: bytes) -> str:
    """Format from a file's first 16 bytes; raises FormatError for anything else."""
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    if re.match(rb"P[2356]\s", head):
        return "PGM" if head[1:2] in b"25" else "PPM"
    raise FormatError(f"not an image in a supported format ({_FORMATS_TEXT})")


def suffix_note(path: Path, fmt: str) -> str | None:
    """A note when the name's suffix promises another format than the content has."""
    suffix = path.suffix.lower()
    expected = _SUFFIX_FORMATS.get(suffix)
    if expected == fmt or (expected == "PNM" and fmt in ("PGM", "PPM")):
        return None
    named = f"the name ends in {suffix!r}" if suffix else "the name has no suffix"
    return f"content is {fmt} although {named}: read as {fmt}"


def tiff_layout(tif: Any) -> Layout:
    """Layout of the first series of an open ``tifffile.TiffFile`` (all its pages)."""
    if not tif.series:
        raise FormatError("file holds no image data")
    series = tif.series[0]
    page = series.keyframe
    axes, shape, dtype = series.axes, series.shape, np.dtype(series.dtype)
    notes = []
    if len(tif.series) > 1:
        notes.append(f"file holds {len(tif.series)} image series; the first is read")
    samples = shape[axes.index("S")] if "S" in axes else 1
    photometric, split, mode = int(page.photometric), False, "grey"
    if photometric in (2, 6) and samples in (3, 4):  # RGB; YCbCr is decoded to RGB
        mode = "rgb" if samples == 3 else "rgba"
    elif photometric == 3 and samples == 1:
        mode, note = palette_kind(np.asarray(page.colormap, np.uint16).T >> 8)
        notes.append(note)
    elif photometric in (0, 1):  # MinIsWhite, MinIsBlack
        split = samples > 1
        if photometric == 0:
            notes.append("MinIsWhite image: raw values kept (0 is displayed white)")
        if split:
            notes.append(f"{samples} samples per pixel read as separate pages")
    else:
        name = getattr(page.photometric, "name", photometric)
        raise FormatError(f"unsupported TIFF colour model {name} with {samples} sample(s)/pixel")
    if not axes.replace("S", "").endswith("YX"):
        raise FormatError(f"unsupported TIFF layout {axes}")
    out = {"bool": "uint8", "float16": "float32"}.get(dtype.name, dtype.name)
    if dtype.kind not in "uifb":
        raise FormatError(f"unsupported pixel type {dtype}")
    if out != dtype.name:
        notes.append(f"{dtype} pixels read as {out}" + (" 0/255" if dtype.kind == "b" else ""))
    outer = [n for a, n in zip(axes, shape, strict=True) if a not in "YXS"]
    pages = math.prod(outer) * (samples if split else 1)
    if len(outer) > 1:
        notes.append(f"{axes} stack read as {pages} pages")
    channels = (samples,) if mode in ("rgb", "rgba") else ()
    calibration, more = tiff_calibration(tif)
    rows, cols = shape[axes.index("Y")], shape[axes.index("X")]
    return Layout((pages, rows, cols, *channels), out, mode, calibration, (*notes, *more), split)


def png16_colour(head: bytes) -> int | None:
    """PNG colour type if ``head`` (26+ bytes) starts a 16-bit grey+alpha or colour PNG."""
    if head[12:16] == b"IHDR" and len(head) >= 26 and head[24] == 16 and head[25] in _PNG16:
        return head[25]
    return None


def pillow_layout(img: Any, fmt: str, head: bytes) -> Layout:
    """Layout of an opened Pillow image (first frame); 16-bit colour PNG as OpenCV reads it."""
    notes = []
    colour16 = png16_colour(head) if fmt == "PNG" else None
    if colour16 is not None:
        (channels, mode), dtype = _PNG16[colour16], "uint16"
    elif img.mode in _PIL_MODES:
        dtype, channels, mode = _PIL_MODES[img.mode]
    else:
        raise FormatError(f"unsupported colour mode {img.mode}")
    if img.mode == "LA" or colour16 == 4:
        notes.append("alpha channel dropped")
    if img.mode == "1":
        notes.append("1-bit image read as 8-bit 0/255")
    if fmt == "PNG" and len(head) >= 26 and head[25] == 0 and head[24] in (2, 4):
        notes.append(f"{head[24]}-bit grey PNG scaled to 0-255 by the decoder")
    if mode == "palette":
        mode, note = palette_kind(_pillow_lut(img))
        notes.append(note)
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        notes.append(f"{frames} frames: only the first is read")
    orientation = img.getexif().get(0x0112) if fmt == "JPEG" else None
    if orientation not in (None, 1):
        notes.append(f"EXIF orientation {orientation} ignored: pixels are in stored order")
    calibration, more = pillow_calibration(img.info, fmt)
    shape = (1, img.size[1], img.size[0], *((channels,) if channels > 1 else ()))
    return Layout(shape, dtype, mode, calibration, (*notes, *more))


def _pillow_lut(img: Any) -> np.ndarray:
    """(N, 3) RGB palette of an unloaded Pillow image (``getpalette()`` would decode pixels)."""
    palette = img.palette
    raw = (palette.rawmode or palette.mode) if palette is not None else None
    if raw not in _PALETTE_LAYOUTS:
        return np.zeros((0, 3), np.uint8)
    step, order = _PALETTE_LAYOUTS[raw]
    data = np.frombuffer(bytes(palette.palette), np.uint8)
    return data[: len(data) // step * step].reshape(-1, step)[:, order]


def pnm_header(head: bytes, fmt: str) -> tuple[Layout, int, int]:
    """Layout, data offset and maxval of a P2, P3, P5 or P6 file from its first bytes."""
    values, pos = [], 2
    for _ in range(3):
        match = _PNM_TOKEN.match(head, pos)
        if match is None:
            raise FormatError("file is truncated" if pos >= len(head) else f"corrupt {fmt} header")
        values.append(int(match.group(1)))
        pos = match.end()
    width, height, maxval = values
    if pos >= len(head):
        raise FormatError("file is truncated")
    if not (width > 0 and height > 0 and 0 < maxval < 65536 and head[pos] in b" \t\r\n"):
        raise FormatError(f"corrupt {fmt} header")
    notes = []
    if maxval not in (255, 65535):
        notes.append(f"maxval {maxval}: values kept as stored, not rescaled")
    colour = head[1:2] in b"36"
    shape = (1, height, width, *((3,) if colour else ()))
    dtype = "uint8" if maxval < 256 else "uint16"
    layout = Layout(shape, dtype, "rgb" if colour else "grey", notes=tuple(notes))
    return layout, pos + 1, maxval


def physical_calibration(width: float, height: float, unit: str, detail: str) -> Calibration:
    """A metadata calibration, converting units Calibration lacks (Å, pm) to nm.

    Raises ``ValueError`` for an unknown unit or a non-positive size.
    """
    key = unit.strip().replace("Âµ", "µ")  # UTF-8 "µ" decoded as Latin-1 by some writers
    factor = _SMALL_UNITS.get(key, _SMALL_UNITS.get(key.lower()))
    if factor is not None:
        width, height, key = width * factor / 1e-9, height * factor / 1e-9, "nm"
    if normalize_unit(key) == PIXEL_UNIT:
        raise ValueError(f"{detail} gives the pixel size in pixels")
    return Calibration(float(width), float(height), key, "metadata", detail)


def metres_calibration(width_m: float, height_m: float, detail: str) -> Calibration:
    """A metadata calibration from sizes in metres, expressed in nm, µm or mm."""
    smaller = min(width_m, height_m)
    unit, scale = (
        ("mm", 1e-3) if smaller >= 1e-3 else ("µm", 1e-6) if smaller >= 1e-8 else ("nm", 1e-9)
    )
    return physical_calibration(width_m / scale, height_m / scale, unit, detail)


def resolution_calibration(
    x_per_unit: float, y_per_unit: float, metres_per_unit: float, origin: str
) -> tuple[Calibration | None, str | None]:
    """Apply the resolution rule (module docstring) to pixels per unit of ``metres_per_unit``.

    Returns the calibration (detail ``origin``, e.g. ``"TIFF resolution"``) when the resolution
    counts, else None and possibly a note saying why it was ignored.
    """
    values = (float(x_per_unit), float(y_per_unit))
    if not all(math.isfinite(v) and v > 0 for v in values):
        return None, None
    dpi = [v * 0.0254 / metres_per_unit for v in values]
    if min(dpi) <= MAX_PRINT_DPI:
        shown = f"{dpi[0]:.5g}" if math.isclose(dpi[0], dpi[1]) else f"{dpi[0]:.5g} × {dpi[1]:.5g}"
        return None, (
            f"{origin} {shown} dpi ignored: a print or screen setting "
            f"(only finer than {MAX_PRINT_DPI:g} dpi counts as a pixel size)"
        )
    return metres_calibration(
        metres_per_unit / values[0], metres_per_unit / values[1], origin
    ), None


def pillow_calibration(info: dict[str, Any], fmt: str) -> tuple[Calibration, list[str]]:
    """Calibration from the ``dpi`` entry Pillow derives from PNG pHYs, JPEG JFIF/EXIF or BMP."""
    dpi = info.get("dpi")
    try:
        x, y = (float(v) for v in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return Calibration.uncalibrated(), []
    calibration, note = resolution_calibration(x, y, 0.0254, f"{fmt} resolution")
    return calibration or Calibration.uncalibrated(), [note] if note else []


def tiff_calibration(tif: Any) -> tuple[Calibration, list[str]]:
    """Pixel size of an open ``tifffile.TiffFile``, from the first source that has one.

    Metadata that cannot be parsed never stops the image from being read: it becomes a note.
    """
    notes: list[str] = []
    readers: tuple[tuple[str, Callable[[Any, list[str]], Calibration | None]], ...] = (
        ("ImageJ TIFF", _imagej),
        ("OME-TIFF", _ome),
        ("FEI SEM", _fei),
        ("Zeiss SEM", _zeiss),
        ("TIFF resolution", _tiff_resolution),
    )
    for name, reader in readers:
        try:
            found = reader(tif, notes)
        except Exception as exc:  # damaged metadata of any kind must not block the pixels
            notes.append(f"{name} pixel size ignored: {' '.join(str(exc).split())[:120]}")
            continue
        if found is not None:
            return found, notes
    return Calibration.uncalibrated(), notes


def _rational(tags: Any, code: int) -> float | None:
    tag = tags.get(code)
    if tag is None:
        return None
    value = tag.value
    num, den = (value if isinstance(value, tuple) else (value, 1))[:2]
    return num / den if num > 0 and den > 0 else None


def _combine(width: float, x_unit: str, height: float, y_unit: str, detail: str) -> Calibration:
    """One calibration from x and y sizes that may come in different units (kept in x's)."""
    x_cal = physical_calibration(width, width, x_unit, detail)
    y_cal = physical_calibration(height, height, y_unit, detail).to_unit(x_cal.unit)
    return physical_calibration(x_cal.pixel_width, y_cal.pixel_height, x_cal.unit, detail)


def _imagej(tif: Any, notes: list[str]) -> Calibration | None:
    description = tif.imagej_metadata
    if not description or "unit" not in description:
        return None
    unit = str(description["unit"])
    if unit.strip().lower() in ("pixel", "pixels", "px", ""):
        notes.append(f"ImageJ calibration unit is {unit!r}: uncalibrated")
        return Calibration.uncalibrated()
    tags = tif.pages.first.tags
    x_res = _rational(tags, 282)
    if x_res is None:
        return None
    y_res = _rational(tags, 283) or x_res
    y_unit = str(description.get("yunit", unit))
    return _combine(1.0 / x_res, unit, 1.0 / y_res, y_unit, "ImageJ TIFF")


def _ome(tif: Any, notes: list[str]) -> Calibration | None:
    if not tif.is_ome:
        return None
    root = ET.fromstring(tif.ome_metadata)
    pixels = next((e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Pixels"), None)
    if pixels is None or "PhysicalSizeX" not in pixels.attrib:
        return None
    attrib = pixels.attrib
    width = float(attrib["PhysicalSizeX"])
    x_unit = attrib.get("PhysicalSizeXUnit", "µm")
    if "PhysicalSizeY" not in attrib:
        notes.append("OME-TIFF has no PhysicalSizeY: square pixels assumed")
    height = float(attrib.get("PhysicalSizeY", width))
    y_unit = attrib.get("PhysicalSizeYUnit", "µm" if "PhysicalSizeY" in attrib else x_unit)
    return _combine(width, x_unit, height, y_unit, "OME-TIFF")


def _fei(tif: Any, notes: list[str]) -> Calibration | None:
    metadata = tif.fei_metadata
    if not metadata:
        return None
    for section in ("Scan", "EScan"):
        values = metadata.get(section) or {}
        width = values.get("PixelWidth")
        if isinstance(width, (int, float)) and width > 0:
            height = values.get("PixelHeight", width)
            height = height if isinstance(height, (int, float)) and height > 0 else width
            return metres_calibration(float(width), float(height), "FEI SEM")
    return None


def _zeiss(tif: Any, notes: list[str]) -> Calibration | None:
    metadata = tif.sem_metadata
    if not metadata:
        return None
    for key in ("ap_pixel_size", "ap_image_pixel_size"):
        entry = metadata.get(key)
        if isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[1], (int, float)):
            return physical_calibration(entry[1], entry[1], str(entry[2]), "Zeiss SEM")
    return None


def _tiff_resolution(tif: Any, notes: list[str]) -> Calibration | None:
    tags = tif.pages.first.tags
    x_res = _rational(tags, 282)
    unit_tag = tags.get(296)
    unit = int(unit_tag.value) if unit_tag is not None else 2  # TIFF default: inch
    if x_res is None or unit not in _RESOLUTION_UNITS:
        return None
    y_res = _rational(tags, 283) or x_res
    calibration, note = resolution_calibration(
        x_res, y_res, _RESOLUTION_UNITS[unit], "TIFF resolution"
    )
    if note:
        notes.append(note)
    return calibration


def palette_kind(lut: np.ndarray) -> tuple[str, str]:
    """Mode and note for a palette image from its (N, 3) lookup table scaled to 0-255.

    ``"grey"`` when the table is the identity grey ramp (raw values are grey levels), else
    ``"palette"`` with a note that the raw index values were kept.
    """
    lut = np.asarray(lut, dtype=np.int64).reshape(-1, 3)
    index = np.arange(len(lut))
    grey = len(lut) > 0 and bool(np.all(lut == lut[:, :1]))
    if grey and np.array_equal(lut[:, 0], index):
        return "grey", "stored as a palette image with an identity grey lookup table"
    if grey and np.array_equal(lut[:, 0], 255 - index):
        table = "inverting grey lookup table (displayed = 255 − raw)"
    elif grey:
        table = "grey lookup table"
    else:
        table = "colour lookup table"
    return "palette", f"palette image: raw index values kept, its {table} is not applied"
