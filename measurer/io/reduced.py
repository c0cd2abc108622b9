"""Decoding image files at reduced size, quickly, for fingerprints and thumbnails.

JPEG and 8-bit PNG files are decoded by OpenCV with its ``IMREAD_REDUCED_*`` modes (libjpeg then
decodes at 1/2, 1/4 or 1/8 scale, which is several times faster than a full decode); everything
else is read by :func:`measurer.io.images.read_image`. Warnings that libjpeg and libpng print
on the process's standard error are collected, not shown. Files may be decoded on several
threads at once (OpenCV releases the GIL while it decodes).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from typing import IO

import cv2
import numpy as np

from measurer.io.images import DEFAULT_MAX_BYTES, ImageReadError, read_image


class _Stderr:
    """Descriptor 2, pointed at a temporary file while C decoders run.

    libjpeg and libpng write warnings ("Corrupt JPEG data", "libpng error") straight to
    descriptor 2, below Python's ``sys.stderr`` and OpenCV's log level. Redirecting a
    descriptor affects the whole process, so decodes on several threads share one
    redirection (:meth:`shared`; what they print is dropped), and a decode whose messages
    are wanted waits until it runs alone (:meth:`alone`), so that they are its own.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._users = 0
        self._alone = False  # a decode runs alone or waits to
        self._sink: IO[bytes] | None = None
        self._saved = -1

    def _redirect(self) -> None:
        """Point descriptor 2 at a new temporary file (called by the first user)."""
        sink = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _restore)
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (AttributeError, OSError, ValueError):  # no descriptor 2 (e.g. pythonw)
            sink.close()
            return
        self._saved, self._sink = saved, sink
        os.dup2(sink.fileno(), 2)

    def _restore(self) -> list[str]:
        """Undo :meth:`_redirect` (called by the last user); the lines the file received."""
        if self._sink is None:
            return []
        os.dup2(self._saved, 2)
        os.close(self._saved)
        with self._sink:
            self._sink.seek(0)
            text = self._sink.read().decode(errors="replace")
        self._sink = None
        return [line.strip() for line in text.split("\n") if line.strip()]

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """Descriptor 2 redirected while this or any other shared user needs it."""
        with self._changed:
            self._changed.wait_for(lambda: not self._alone)
            if self._users == 0:
                self._redirect()
            self._users += 1
        try:
            yield
        finally:
            with self._changed:
                self._users -= 1
                if self._users == 0:
                    self._restore()
                    self._changed.notify_all()

    @contextlib.contextmanager
    def alone(self) -> Iterator[list[str]]:
        """Descriptor 2 redirected for this user alone; yields a list that receives, on exit,
        the lines printed meanwhile."""
        with self._changed:
            self._changed.wait_for(lambda: not self._alone)
            self._alone = True  # no new shared users from now on
        messages: list[str] = []
        try:
            with self._changed:
                self._changed.wait_for(lambda: self._users == 0)
                self._redirect()
            yield messages
        finally:
            with self._changed:
                messages += self._restore()
                self._alone = False
                self._changed.notify_all()


_STDERR = _Stderr()


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
    return read_reduced_sizes(path, (longest,))[0]


def read_reduced_sizes(
    path: str | os.PathLike[str], longest: Sequence[int]
) -> list[tuple[np.ndarray, int]]:
    """An image file decoded at several reduced sizes, reading it once.

    Parameters
    ----------
    path : str or PathLike
    longest : sequence of int
        The ``longest`` of :func:`read_reduced` for each decode.

    Returns
    -------
    list of (ndarray, int)
        What :func:`read_reduced` returns for each of ``longest``, in that order (a PNG file
        is decompressed only once).

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
        page = read_image(path).page(0)
        return [(page, 1) for _ in longest]
    rows, cols, grey = header
    factors = [next((f for f in (8, 4, 2) if max(rows, cols) // f >= n), 1) for n in longest]
    if png and len(set(factors)) > 1:
        # OpenCV's IMREAD_REDUCED_* modes decode a PNG in full and then shrink it so: the
        # same pixels, from one decompression.
        full = _decode(path, data, 1, grey)
        return [(_shrink(full, f), f) for f in factors]
    decoded = {f: _decode(path, data, f, grey) for f in set(factors)}
    return [(decoded[f], f) for f in factors]


def _shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """``image`` reduced ``factor`` times as OpenCV's ``IMREAD_REDUCED_*`` modes do it."""
    if factor == 1:
        return image
    size = (image.shape[1] // factor, image.shape[0] // factor)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR_EXACT)


def _decode(path: str | os.PathLike[str], data: np.ndarray, factor: int, grey: bool) -> np.ndarray:
    """A JPEG or PNG file's bytes decoded by OpenCV at 1/``factor`` scale, as grey or RGB."""
    flags = _REDUCED[factor, grey] | cv2.IMREAD_IGNORE_ORIENTATION
    with _STDERR.shared():
        image = _imdecode(data, flags, [])
    if image is None:  # decoded again, alone, to hear what the decoder says about it
        with _STDERR.alone() as messages:
            image = _imdecode(data, flags, messages)
    if image is None:
        detail = f" ({'; '.join(messages[:3])})" if messages else ""
        raise ImageReadError(path, f"file is corrupt or truncated{detail}")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def _imdecode(data: np.ndarray, flags: int, messages: list[str]) -> np.ndarray | None:
    """``cv2.imdecode``; None, with OpenCV's message in ``messages``, if it fails."""
    try:
        return cv2.imdecode(data, flags)
    except cv2.error as exc:  # e.g. more pixels than OpenCV accepts
        messages.append(" ".join(str(exc).split())[-160:])
        return None
