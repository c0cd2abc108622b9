"""Benchmark of measurer.io.images.read_image against tifffile (not a test).

1. Speed: an 8192 × 8192 uint16 TIFF (128 MiB) read and fully materialised (sum of all pixels)
   by ``read_image`` and by ``tifffile.imread``; best of 5 each, in the same run. Goal ≤ 1.1×.
2. Memory: peak RSS (VmHWM) of a fresh process that opens a 20000 × 20000 uint8 TIFF (400 MB) with
   ``read_image`` and touches its pixels as a viewer would (a ::8 downsampled view), against the
   file size. Goal ≤ 1.2×. A fresh process that only imports the same modules is the baseline
   that is subtracted.

Run: ``/work/venv/bin/python bench/bench_read.py``. Temporary files are deleted at the end.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from measurer.io.images import read_image

_PEAK = """
import resource, sys
import numpy as np
import tifffile
from measurer.io.images import read_image
if sys.argv[1] == "view":
    image = read_image(sys.argv[2])
    view = np.array(image.data[0, ::8, ::8])
    print(image.data.shape, "memmap" if isinstance(image.data, np.memmap) else "loaded", view.sum())
try:  # high-water mark of this address space (ru_maxrss would include the parent's at exec)
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    print(int(status.split()[0]) * 1024)
except (OSError, IndexError):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _best(function, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _peak_rss(*args: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, *args], capture_output=True, text=True, check=True
    )
    *lines, peak = result.stdout.split("\n")[:-1]
    return int(peak), " ".join(lines)


def bench_speed(folder: Path) -> None:
    path = folder / "speed.tif"
    rng = np.random.default_rng(0)
    tifffile.imwrite(path, rng.integers(0, 65536, (8192, 8192), dtype=np.uint16))
    expected = int(tifffile.imread(path).sum(dtype=np.uint64))

    def ours() -> None:
        assert int(np.asarray(read_image(path).data).sum(dtype=np.uint64)) == expected

    def theirs() -> None:
        assert int(tifffile.imread(path).sum(dtype=np.uint64)) == expected

    theirs()  # warm the page cache
    t_ours, t_theirs = _best(ours), _best(theirs)
    print(
        f"read 8192x8192 uint16 TIFF + sum, best of 5: read_image {t_ours:.3f} s, "
        f"tifffile.imread {t_theirs:.3f} s -> ratio {t_ours / t_theirs:.2f} (goal <= 1.1)"
    )


def bench_memory(folder: Path) -> None:
    path = folder / "large.tif"
    with tifffile.TiffWriter(path) as writer:  # written in strips: never 400 MB in memory
        rows = (np.full((1000, 20000), i, np.uint8) for i in range(20))
        writer.write(rows, shape=(20000, 20000), dtype=np.uint8, rowsperstrip=1000)
    size = path.stat().st_size
    baseline, _ = _peak_rss("baseline")
    peak, detail = _peak_rss("view", str(path))
    print(f"open 20000x20000 uint8 TIFF ({size / 1e6:.0f} MB) and view data[0, ::8, ::8]: {detail}")
    print(
        f"  peak RSS {peak / 1e6:.0f} MB (imports alone {baseline / 1e6:.0f} MB); "
        f"(peak - imports) / file size = {(peak - baseline) / size:.2f}, "
        f"peak / file size = {peak / size:.2f} (goal <= 1.2)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="measurer-bench-") as folder:
        bench_memory(Path(folder))
        bench_speed(Path(folder))


if __name__ == "__main__":
    main()
