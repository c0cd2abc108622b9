"""Memory allocator settings for processes that measure many images one after another."""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters
_M_MMAP_THRESHOLD = -3
#: Freed blocks up to this size are kept for the next image (a 4096 x 4096 image with its
#: 16-bit labels needs blocks of 16 and 32 MB).
LARGEST_KEPT_BLOCK = 64 << 20
#: Free memory the heap keeps at its top before giving it back to the system.
KEPT_FREE = 256 << 20


def keep_image_buffers() -> bool:
    """Make glibc's malloc keep freed image-sized blocks for the next image.

    By default glibc serves blocks above a threshold (which it raises to at most 32 MB as such
    blocks are freed) straight from the system, and gives the top of its heap back as soon as
    twice that threshold lies free there, so each image of a batch pays again, in the kernel,
    for the pages of its arrays: with 2048 x 2048 masks a fifth of the time of a batch
    (``bench/bench_batch.py``). After this call, blocks up to :data:`LARGEST_KEPT_BLOCK` come
    from the heap, which keeps up to :data:`KEPT_FREE` free at its top. For batch processes,
    which work on one image after another; process-wide and permanent.

    Returns
    -------
    bool
        True when the settings took effect (Linux with glibc); otherwise nothing changed.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    trim = mallopt(_M_TRIM_THRESHOLD, KEPT_FREE)
    return bool(trim and mallopt(_M_MMAP_THRESHOLD, LARGEST_KEPT_BLOCK))
