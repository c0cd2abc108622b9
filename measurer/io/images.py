"""Image files in, pixels in one layout out: ``(pages, rows, cols[, channels])`` plus header facts.

The format comes from the file's first bytes, never its name. TIFF (also BigTIFF, ImageJ and
OME-TIFF) is read with tifffile, PGM/PPM with a small parser of our own (raw values, no
rescaling), 16-bit colour PNG with OpenCV, PNG/JPEG/BMP/GIF otherwise with Pillow. Sizes are
checked from the header before any pixel is allocated; every failure is an
:class:`ImageReadError` naming the file and the reason on one line; decoder warnings and
tifffile log messages become ``notes``. The readers live in :mod:`measurer.io.image_readers`,
header interpretation in :mod:`measurer.io.metadata`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from measurer.core.calibration import Calibration
from measurer.io import metadata
from measurer.io.image_readers import PillowReader, PnmReader, TiffReader
from measurer.io.metadata import FormatError

#: Default size guard: bytes of decoded pixels an image may need.
DEFAULT_MAX_BYTES = 2**31
#: With ``memmap=None``, pixel data of at least this many bytes is memory-mapped if it can be.
MEMMAP_THRESHOLD = 2**28
#: File-name suffixes of the supported formats (for file dialogs and folder scans).
SUPPORTED_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm")


class ImageReadError(ValueError):
    """An image file that cannot be read; the message names the file and the reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot read {str(path)!r}: {reason}")


@dataclass(frozen=True)
class ImageInfo:
    """What the header says about an image; reading it touches no pixel data.

    ``format`` is ``"PNG"``, ``"JPEG"``, ``"BMP"``, ``"GIF"``, ``"TIFF"``, ``"PGM"`` or ``"PPM"``
    (from the content); ``dtype`` the numpy name of the pixels as read; ``channels`` 1 for grey and
    palette images, 3 for RGB, 4 for RGBA; ``mode`` ``"grey"``, ``"rgb"``, ``"rgba"`` or
    ``"palette"`` (raw index values, lookup table not applied); ``calibration`` from metadata or
    uncalibrated; ``notes`` whatever the user should know (dropped alpha, ignored resolution...).
    """

    path: Path
    format: str
    width: int
    height: int
    pages: int
    dtype: str
    channels: int
    mode: str
    calibration: Calibration
    notes: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of :attr:`ImageFile.data`."""
        tail = (self.channels,) if self.channels > 1 else ()
        return (self.pages, self.height, self.width, *tail)

    @property
    def nbytes(self) -> int:
        """Bytes of decoded pixels (what the size guard compares to ``max_bytes``)."""
        count = 1
        for n in self.shape:
            count *= n
        return count * np.dtype(self.dtype).itemsize

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``pixel_size`` has ``x``, ``y``, ``unit``, ``source`` and ``detail``."""
        cal = self.calibration
        size = {"x": cal.pixel_width, "y": cal.pixel_height, "unit": cal.unit}
        return {
            "path": str(self.path),
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "pages": self.pages,
            "dtype": self.dtype,
            "channels": self.channels,
            "mode": self.mode,
            "pixel_size": size | {"source": cal.source, "detail": cal.detail},
            "notes": list(self.notes),
        }


@dataclass(frozen=True, eq=False)
class ImageFile:
    """Pixels of an image file with its header facts.

    ``data`` always has shape ``(pages, rows, cols)`` or ``(pages, rows, cols, channels)`` and is
    read-only (possibly a memory map of the file): copy it to modify it.
    """

    info: ImageInfo
    data: np.ndarray

    def page(self, index: int = 0) -> np.ndarray:
        """One page: ``(rows, cols)`` or ``(rows, cols, channels)``."""
        if not -self.pages <= index < self.pages:
            raise IndexError(f"page {index} out of range for an image of {self.pages} page(s)")
        return self.data[index]

    path = property(lambda self: self.info.path, doc="Path of the file.")
    calibration = property(lambda self: self.info.calibration, doc="Pixel size from metadata.")
    pages = property(lambda self: self.info.pages, doc="Number of pages.")
    width = property(lambda self: self.info.width, doc="Columns.")
    height = property(lambda self: self.info.height, doc="Rows.")
    dtype = property(lambda self: self.data.dtype, doc="numpy dtype of the pixels.")
    channels = property(lambda self: self.info.channels, doc="1, 3 or 4.")
    notes = property(lambda self: self.info.notes, doc="Notes from reading the file.")


def read_info(
    path: str | os.PathLike[str], *, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> ImageInfo:
    """Header facts and pixel size of an image file, without reading its pixels.

    Parameters
    ----------
    path : str or PathLike
    max_bytes : int or None
        Refuse images whose decoded pixels would need more bytes; None for no limit.

    Raises
    ------
    ImageReadError
        Missing, empty, unsupported, corrupt or too large file.
    """
    with _reader(path) as (info, _):
        _check_size(info, max_bytes)
        return info


def read_image(
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    memmap: bool | None = None,
) -> ImageFile:
    """Read an image file: raw stored values (palette indices, no rescaling).

    Parameters
    ----------
    path : str or PathLike
    max_bytes : int or None
        Refuse, before allocating anything, images whose pixels need more bytes; None: no limit.
    memmap : bool or None
        Memory-map uncompressed, contiguous TIFF (and 8-bit binary PGM/PPM) pixel data instead
        of loading it: always (True; a note says when the file does not allow it), never
        (False), or when the pixels need at least :data:`MEMMAP_THRESHOLD` bytes (None).

    Raises
    ------
    ImageReadError
        Missing, empty, truncated, corrupt, unsupported or too large file.
    """
    with _reader(path) as (info, reader):
        _check_size(info, max_bytes)
        with _captured() as messages:
            data = reader.pixels(info.nbytes >= MEMMAP_THRESHOLD if memmap is None else memmap)
        if data.shape != info.shape or data.dtype != np.dtype(info.dtype):
            raise FormatError(
                f"decoded pixels {data.shape} {data.dtype} do not match the header "
                f"{info.shape} {info.dtype}"
            )
        data.flags.writeable = False
        return ImageFile(_with_notes(info, *reader.notes, *messages), data)


def file_checksum(path: str | os.PathLike[str]) -> str:
    """``"sha256:<hex>"`` of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise ImageReadError(path, exc.strerror or str(exc)) from exc
    return f"sha256:{digest.hexdigest()}"


def _with_notes(info: ImageInfo, *notes: str) -> ImageInfo:
    cleaned = (" ".join(note.split())[:200] for note in (*info.notes, *notes))
    return dataclasses.replace(info, notes=tuple(dict.fromkeys(cleaned)))


def _check_size(info: ImageInfo, max_bytes: int | None) -> None:
    if max_bytes is not None and info.nbytes > max_bytes:
        raise FormatError(
            f"image too large: {' × '.join(map(str, info.shape))} {info.dtype} pixels need "
            f"{info.nbytes / 2**30:.3g} GiB, over the limit of {max_bytes / 2**30:.3g} GiB "
            "(max_bytes)"
        )


class _LogCapture(logging.Filter):
    """Diverts tifffile's log records into the current thread's capture list, if any."""

    local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        sink = getattr(self.local, "sink", None)
        if sink is None:
            return True
        sink.append(f"{record.name}: {record.getMessage()}")
        return False


logging.getLogger("tifffile").addFilter(_LogCapture())


@contextlib.contextmanager
def _captured(limit: int = 3) -> Iterator[list[str]]:
    """Collect the first few tifffile log messages of this thread, for the notes."""
    messages: list[str] = []
    outer = getattr(_LogCapture.local, "sink", None)
    _LogCapture.local.sink = messages
    try:
        yield messages
    finally:
        _LogCapture.local.sink = outer
        messages[limit:] = []


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FormatError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory for the pixels"
    text = " ".join(str(exc).split())[:160] or type(exc).__name__
    if type(exc).__name__ == "DecompressionBombError":  # a GIF frame beyond the screen size
        return f"image too large: {text}"
    if isinstance(exc, EOFError) or "truncated" in text.lower():
        return "file is truncated"
    return f"file is corrupt or unsupported ({type(exc).__name__}: {text})"


@contextlib.contextmanager
def _reader(path: str | os.PathLike[str]) -> Iterator[tuple[ImageInfo, Any]]:
    """Info and reader for the file's content, turning every failure into an ImageReadError."""
    try:
        fmt, head = _identify(Path(path))
        with _captured() as messages:
            reader = _READERS[fmt](Path(path), fmt, head)
        try:
            layout = reader.layout
            pages, height, width, *channels = layout.shape
            info = ImageInfo(
                path=Path(path),
                format=fmt,
                width=width,
                height=height,
                pages=pages,
                dtype=layout.dtype,
                channels=channels[0] if channels else 1,
                mode=layout.mode,
                calibration=layout.calibration,
            )
            note = metadata.suffix_note(Path(path), fmt)
            notes = (*([note] if note else []), *layout.notes, *reader.notes, *messages)
            yield _with_notes(info, *notes), reader
        finally:
            reader.close()
    except ImageReadError:
        raise
    except Exception as exc:  # decoders raise anything on hostile input; keep one error type
        raise ImageReadError(path, _reason(exc)) from exc


def _identify(path: Path) -> tuple[str, bytes]:
    """Format from the magic bytes, and the file's first 32 bytes."""
    try:
        if path.is_dir():
            raise FormatError("is a directory")
        if not path.exists():
            raise FormatError("no such file")
        if not path.is_file():
            raise FormatError("not a regular file")
        with open(path, "rb") as fh:
            head = fh.read(32)
    except OSError as exc:
        raise FormatError(exc.strerror or str(exc)) from exc
    if not head:
        raise FormatError("file is empty")
    return metadata.sniff_format(head), head


_READERS: dict[str, Any] = {"TIFF": TiffReader, "PGM": PnmReader, "PPM": PnmReader}
_READERS |= dict.fromkeys(("PNG", "JPEG", "BMP", "GIF"), PillowReader)
