"""Decoding image files at reduced size, quickly, for fingerprints and thumbnails.

JPEG and 8-bit PNG files are decoded by OpenCV with its ``IMREAD_REDUCED_*`` modes (libjpeg then
decodes at 1/2, 1/4 or 1/8 scale, which is several times faster than a full decode); everything
else is read by :func:`measurer.io.images.read_image`. Warnings that libjpeg and libpng print
on the process's standard error are collected, not shown.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

import cv2
import numpy as np

from measurer.io.images import DEFAULT_MAX_BYTES, ImageReadError, read_image

_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[list[str]]:
    """Collect what C decoders print on file descriptor 2 instead of letting it through.

    libjpeg and libpng write warnings ("Corrupt JPEG data", "libpng error") straight to
    descriptor 2, below Python's ``sys.stderr`` and OpenCV's log level. It is pointed at a
    temporary file for the length of one decode, under a lock so decodes do not interleave.
    """
    messages: list[str] = []
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (AttributeError, OSError, ValueError):  # no descriptor 2 (e.g. pythonw)
            yield messages
            return
        os.dup2(sink.fileno(), 2)
        try:
            yield messages
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            messages += sink.read().decode(errors="replace").split("\n")
            messages[:] = [m.strip() for m in messages if m.strip()]


def _jpeg_header(buf: memoryview) -> tuple[int, int, bool] | None:
    """(rows, cols, grey) from a JPEG's start-of-frame segment."""
    i = 2
    while i + 9 < len(buf):
        if buf[i] != 0xFF:
            return None
        marker = buf[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif 0xD0 <= marker <= 0xD9 or marker == 0x01:  # markers without a length
            i += 2
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return buf[i + 5] << 8 | buf[i + 6], buf[i + 7] << 8 | buf[i + 8], buf[i + 9] == 1
        else:
            i += 2 + (buf[i + 2] << 8 | buf[i + 3])
    return None


def _fast_header(data: np.ndarray) -> tuple[int, int, bool] | None:
    """(rows, cols, grey) of a JPEG or an 8-bit PNG, None for anything OpenCV should not read."""
    head = data[:26].tobytes()
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) == 26:
        if head[24] > 8:  # 16-bit: OpenCV's reduced modes would cut it to 8 bits
            return None
        cols, rows = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        return rows, cols, head[25] in (0, 4)
    if head.startswith(b"\xff\xd8\xff"):
        return _jpeg_header(memoryview(data))
    return None


_REDUCED = {
    (1, False): cv2.IMREAD_COLOR,
    (2, False): cv2.IMREAD_REDUCED_COLOR_2,
    (4, False): cv2.IMREAD_REDUCED_COLOR_4,
    (8, False): cv2.IMREAD_REDUCED_COLOR_8,
    (1, True): cv2.IMREAD_GRAYSCALE,
    (2, True): cv2.IMREAD_REDUCED_GRAYSCALE_2,
    (4, True): cv2.IMREAD_REDUCED_GRAYSCALE_4,
    (8, True): cv2.IMREAD_REDUCED_GRAYSCALE_8,
}


def read_reduced(path: str | os.PathLike[str], *, longest: int) -> tuple[np.ndarray, int]:
    """Pixels of an image file, decoded at a reduced size when that is faster.

    Parameters
    ----------
    path : str or PathLike
    longest : int
        JPEG and 8-bit PNG files are decoded at 1/8, 1/4 or 1/2 of their size, the
        smallest that keeps the longest side at least this long. Other files are read in
        full (first page) by :func:`measurer.io.images.read_image`.

    Returns
    -------
    image : ndarray
        (M, N) grey or (M, N, 3) RGB, uint8 from OpenCV, as stored otherwise. EXIF
        orientation is ignored, as :func:`~measurer.io.images.read_image` does.
    factor : int
        Pixels of the file per decoded pixel along each axis (1, 2, 4 or 8).

    Raises
    ------
    ImageReadError
        The file cannot be read or decoded.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise ImageReadError(path, exc.strerror or str(exc)) from exc
    header = _fast_header(data)
    png = data[:4].tobytes() == b"\x89PNG"
    # PNG is decoded in full even at a reduced size: large ones meet read_image's size guard.
    if header is None or (png and 3 * header[0] * header[1] > DEFAULT_MAX_BYTES):
        return read_image(path).page(0), 1
    rows, cols, grey = header
    factor = next((f for f in (8, 4, 2) if max(rows, cols) // f >= longest), 1)
    with _quiet_stderr() as messages:
        try:
            image = cv2.imdecode(data, _REDUCED[factor, grey] | cv2.IMREAD_IGNORE_ORIENTATION)
        except cv2.error as exc:  # e.g. more pixels than OpenCV accepts
            messages.append(" ".join(str(exc).split())[-160:])
            image = None
    if image is None:
        detail = f" ({'; '.join(messages[:3])})" if messages else ""
        raise ImageReadError(path, f"file is corrupt or truncated{detail}")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image, factor
