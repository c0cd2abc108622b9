"""Freed image buffers are kept for the next image (glibc only: checked with mallinfo2)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# Prints, with or without keep_image_buffers(), the bytes glibc has mapped for blocks of their
# own (mallinfo2's hblkhd) while a 48 MB array lives, and the heap's size after it was freed
# and allocated again: blocks kept in the heap are reused, blocks of their own are unmapped.
SCRIPT = """
import ctypes, sys
import numpy as np
from measurer.io.allocator import keep_image_buffers

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
kept = keep_image_buffers() if sys.argv[1] == "keep" else None
block = np.ones(48 << 20, np.uint8)
mapped = mallinfo2().hblkhd
del block
heap = mallinfo2().arena
block = np.ones(48 << 20, np.uint8)
print(kept, mapped >> 20, heap >> 20, mallinfo2().arena >> 20)
"""


def _run(mode: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True
    ).stdout.split()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc only",
)
def test_image_sized_blocks_stay_in_the_heap_for_the_next_image():
    kept, mapped, heap, again = _run("keep")
    assert kept == "True"
    assert int(mapped) < 48 <= int(heap)  # from the heap, which keeps it once freed
    assert again == heap  # the next image's array reuses it
    _, mapped, heap, _ = _run("plain")
    assert int(mapped) >= 48 > int(heap)  # by default: mapped apart, and unmapped when freed


def test_elsewhere_nothing_changes(monkeypatch):
    from measurer.io import allocator

    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_image_buffers() is False
