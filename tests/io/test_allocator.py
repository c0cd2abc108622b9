"""Freed image buffers are kept for the next image (glibc only: checked by page faults)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# Allocates, fills and frees a 48 MB array (above glibc's largest default threshold) 20 times,
# with or without keep_image_buffers(), and prints the page faults per round.
SCRIPT = """
import resource, sys
import numpy as np
from measurer.io.allocator import keep_image_buffers
kept = keep_image_buffers() if sys.argv[1] == "keep" else None
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    block = np.ones(48 << 20, np.uint8)
    del block
print(kept, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def _faults(mode: str) -> tuple[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], float(out[1])


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc only",
)
def test_freed_blocks_are_reused_without_new_page_faults():
    kept, with_keeping = _faults("keep")
    _, without = _faults("plain")
    assert kept == "True"
    assert without > 4 * with_keeping  # every round faulted its pages in again


def test_elsewhere_nothing_changes(monkeypatch):
    from measurer.io import allocator

    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_image_buffers() is False
