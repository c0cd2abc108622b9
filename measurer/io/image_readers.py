"""The three pixel readers behind :mod:`measurer.io.images`: TIFF, Pillow formats, PGM/PPM.

Each reader is built from ``(path, fmt, head)``, holds a :class:`~measurer.io.metadata.Layout`
(``layout``) and a list of ``notes``, and has ``pixels(memmap)`` and ``close()``. Readers raise
:class:`~measurer.io.metadata.FormatError` (or whatever their decoder raises);
:func:`measurer.io.images.read_image` picks the reader and turns every failure into an
``ImageReadError``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from measurer.io import metadata
from measurer.io.metadata import FormatError

_WARNINGS_LOCK = threading.Lock()


@contextlib.contextmanager
def _warnings_to(notes: list[str], limit: int = 3) -> Iterator[None]:
    """Turn Pillow's warnings into notes instead of letting them through.

    ``warnings.catch_warnings`` changes process-wide state (before Python 3.14): the lock keeps
    two of our reads from interleaving it, and only the short Pillow calls are wrapped.
    """
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            # Pillow's decompression-bomb warning is replaced by our own size guard.
            found = [f"{w.category.__name__}: {w.message}" for w in caught]
            notes += [text for text in found if "DecompressionBomb" not in text][:limit]


class TiffReader:
    """TIFF, BigTIFF, ImageJ and OME-TIFF through tifffile: first series, all its pages."""

    def __init__(self, path: Path, fmt: str, head: bytes) -> None:
        import tifffile

        self.path, self.notes = path, []
        self.tif = tifffile.TiffFile(path)
        try:
            self.layout = metadata.tiff_layout(self.tif)
        except BaseException:
            self.tif.close()
            raise
        self.series = self.tif.series[0]

    def pixels(self, memmap: bool) -> np.ndarray:
        series, layout = self.series, self.layout
        if series.dataoffset is not None:
            end = series.dataoffset + series.nbytes
        else:
            pages = [p for p in series.pages if p is not None]
            pairs = (zip(p.dataoffsets, p.databytecounts, strict=False) for p in pages)
            end = max((offset + count for pair in pairs for offset, count in pair), default=0)
        if end > self.path.stat().st_size:
            raise FormatError("file is truncated")
        native = self.tif.byteorder == ("<" if sys.byteorder == "little" else ">")
        mappable = series.dataoffset is not None and series.dtype == np.dtype(layout.dtype)
        if memmap and mappable and (native or series.dtype.itemsize == 1):
            arr = np.memmap(
                self.path,
                dtype=series.dtype,
                mode="r",
                offset=series.dataoffset,
                shape=series.shape,
            )
        else:
            if memmap:
                self.notes.append("not memory-mapped: pixel data is compressed, split or converted")
            arr = series.asarray()
        if "S" in series.axes:
            target = arr.ndim - 3 if layout.samples_as_pages else arr.ndim - 1
            arr = np.moveaxis(arr, series.axes.index("S"), target)
        arr = arr.reshape(layout.shape)
        if arr.dtype.kind == "b":
            return np.where(arr, np.uint8(255), np.uint8(0))
        return arr.astype(layout.dtype, copy=False)

    def close(self) -> None:
        self.tif.close()


class PillowReader:
    """PNG, JPEG, BMP and GIF (first frame) through Pillow; 16-bit colour PNG through OpenCV."""

    def __init__(self, path: Path, fmt: str, head: bytes) -> None:
        from PIL import BmpImagePlugin, GifImagePlugin, JpegImagePlugin, PngImagePlugin

        plugins = {
            "PNG": PngImagePlugin.PngImageFile,
            "JPEG": JpegImagePlugin.JpegImageFile,
            "BMP": BmpImagePlugin.BmpImageFile,
            "GIF": GifImagePlugin.GifImageFile,
        }
        self.path, self.notes = path, []
        self.opencv = fmt == "PNG" and metadata.png16_colour(head) is not None
        self.fh = open(path, "rb")  # noqa: SIM115  (closed by close())
        try:
            # The plugin class, not Image.open: Pillow's global decompression-bomb check would
            # pre-empt our own size guard with a warning or an error of its own.
            with _warnings_to(self.notes):
                self.img = plugins[fmt](self.fh)
                self.layout = metadata.pillow_layout(self.img, fmt, head)
        except BaseException:
            self.fh.close()
            raise

    def pixels(self, memmap: bool) -> np.ndarray:
        if memmap:
            self.notes.append("not memory-mapped: the pixel data is compressed")
        channels = self.layout.shape[3] if len(self.layout.shape) == 4 else 1
        if self.opencv:
            import cv2

            arr = cv2.imdecode(np.fromfile(self.path, np.uint8), cv2.IMREAD_UNCHANGED)
            if arr is None or arr.ndim != 3:
                raise FormatError("file is corrupt (OpenCV cannot decode it)")
            arr = arr[..., [2, 1, 0, 3][:channels] if channels > 1 else 0]  # BGR(A) to RGB(A)
        else:
            with _warnings_to(self.notes):
                arr = np.asarray(self.img)
            if self.img.mode == "1":
                arr = np.where(arr, np.uint8(255), np.uint8(0))  # bools may be stored as 0/255
            elif self.img.mode == "LA":
                arr = arr[..., 0]
        return np.ascontiguousarray(arr, dtype=self.layout.dtype)[np.newaxis]

    def close(self) -> None:
        self.img.close()  # frees Pillow's copy of the pixels
        self.fh.close()


class PnmReader:
    """Binary and ASCII PGM/PPM (P2, P3, P5, P6): raw values, whatever the maxval."""

    def __init__(self, path: Path, fmt: str, head: bytes) -> None:
        with open(path, "rb") as fh:
            head = fh.read(4096)
        self.path, self.notes, self.ascii = path, [], head[1:2] in b"23"
        self.layout, self.offset, self.maxval = metadata.pnm_header(head, fmt)

    def pixels(self, memmap: bool) -> np.ndarray:
        shape = self.layout.shape
        count = int(np.prod(shape))
        if self.ascii:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                tokens = fh.read().split()
            if len(tokens) < count:
                raise FormatError("file is truncated")
            if not all(token.isdigit() for token in tokens[:count]):
                raise FormatError("file is corrupt (a sample is not a number)")
            values = np.array(tokens[:count], dtype=np.int64)
            if values.max() > self.maxval:
                raise FormatError("file is corrupt (a sample exceeds maxval)")
            return values.astype(self.layout.dtype).reshape(shape)
        stored = np.dtype(">u2" if self.maxval > 255 else "u1")
        if self.path.stat().st_size - self.offset < count * stored.itemsize:
            raise FormatError("file is truncated")
        if memmap and stored.itemsize == 1:
            return np.memmap(self.path, dtype=stored, mode="r", offset=self.offset, shape=shape)
        if memmap:
            self.notes.append("not memory-mapped: 16-bit PGM/PPM is stored big-endian")
        arr = np.fromfile(self.path, dtype=stored, count=count, offset=self.offset)
        return arr.astype(self.layout.dtype, copy=False).reshape(shape)

    def close(self) -> None:
        """Nothing stays open between the header and the pixels."""
