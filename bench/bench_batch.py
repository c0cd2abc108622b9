"""Benchmark of ``measurer batch`` (not a test).

``--images`` PNG masks of ``--size`` x ``--size`` pixels (default 200 of 2048 x 2048 with
``--blobs`` 400 filled ellipses of 4-30 px radii each, about 330 blobs once they merge) are
written to a temporary folder and measured with a blobs recipe (``--min-area 5``) by:

1. a plain loop calling the analysis directly: ``read_image``, ``as_binary`` and
   ``blob_stats`` per image, nothing written (baseline);
2. ``measurer batch RECIPE FOLDER --out TABLE.csv --jobs 1 --force`` (in this process: rows,
   one result file per image, the combined table and errors table). Goal: at most 1.2x the
   baseline;
3. the same with ``--jobs 2`` (two worker processes). Goal: at least 1.7x faster than
   ``--jobs 1`` on two cores.

The batches run through ``measurer.cli.main.main`` in this process, so interpreter start-up is
not counted (worker start-up is); this process keeps freed image buffers from the start
(:func:`measurer.io.allocator.keep_image_buffers`, which ``measurer batch`` calls), so the
baseline gets that gain too. Times are the best of ``--repeats`` runs, the three interleaved
so they see the same machine load. CPU seconds are printed too: of this process, and of the
whole machine from ``/proc/stat`` (Linux; the workers, which start from a fork server and are
not children of this process, and whatever else runs: compare the load averages printed
before and after).

What keeps ``--jobs 2`` below 2x on two cores: one in-process job already keeps a little more
than one core busy (blob_stats traces outlines on a helper thread while OpenCV labels; the
worker processes, which share the cores, measure on one thread each), the workers' start-up
(about 0.2 s: Python, numpy, OpenCV, Pillow, measurer), and two processes sharing the memory
bandwidth.
Run: ``/work/venv/bin/python bench/bench_batch.py [--images 200] [--size 2048] [--blobs 400]
[--repeats 2]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from measurer.analysis.blobs import blob_stats
from measurer.analysis.masks import as_binary
from measurer.cli.main import main as measurer
from measurer.io.allocator import keep_image_buffers
from measurer.io.images import read_image


def write_masks(folder: Path, count: int, size: int, blobs: int, seed: int = 0) -> list[Path]:
    """``count`` PNG masks with ``blobs`` filled ellipses each (some merge)."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        mask = np.zeros((size, size), np.uint8)
        for _ in range(blobs):
            centre = tuple(int(v) for v in rng.integers(0, size, 2))
            axes = tuple(int(v) for v in rng.integers(4, 30, 2))
            cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        paths.append(folder / f"mask_{i:04d}.png")
        cv2.imwrite(str(paths[-1]), mask)
    return paths


def machine_cpu() -> float:
    """CPU seconds all processes of the machine have used since it started (Linux)."""
    fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:8]
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields)
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def timed(function) -> tuple[float, float, float]:
    """Wall seconds of ``function()``, CPU seconds of this process and of the whole machine
    (the batch's workers, which are not children of this process when they start from a fork
    server, and whatever else runs)."""
    start, cpu, machine = time.perf_counter(), time.process_time(), machine_cpu()
    function()
    wall = time.perf_counter() - start
    return wall, time.process_time() - cpu, machine_cpu() - machine


def direct(paths: list[Path]) -> None:
    """Measure every mask by calling the analysis in a loop."""
    for path in paths:
        blob_stats(as_binary(read_image(path).page(0)), min_area=5)


def batch(recipe: Path, folder: Path, table: Path, jobs: int) -> None:
    """Measure every mask with ``measurer batch --jobs N --force``."""
    argv = ["batch", str(recipe), str(folder), "--out", str(table), "--jobs", str(jobs)]
    with contextlib.redirect_stderr(io.StringIO()):
        code = measurer([*argv, "--force"])
    if code != 0:
        raise SystemExit(f"measurer batch failed with exit code {code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--blobs", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    keep_image_buffers()
    print(f"load averages before: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="measurer-bench-") as temporary:
        root = Path(temporary)
        folder = root / "masks"
        folder.mkdir()
        start = time.perf_counter()
        paths = write_masks(folder, args.images, args.size, args.blobs)
        print(f"{args.images} masks of {args.size} x {args.size} written in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        recipe = root / "blobs.json"
        if measurer(["recipe", "blobs", "--min-area", "5", "--out", str(recipe)]) != 0:
            raise SystemExit("measurer recipe failed")
        times: dict[str, list[tuple[float, float, float]]] = {
            "direct": [],
            "jobs 1": [],
            "jobs 2": [],
        }
        for _ in range(args.repeats):
            times["direct"].append(timed(lambda: direct(paths)))
            times["jobs 1"].append(timed(lambda: batch(recipe, folder, root / "one.csv", 1)))
            times["jobs 2"].append(timed(lambda: batch(recipe, folder, root / "two.csv", 2)))
        same = (root / "one.csv").read_bytes() == (root / "two.csv").read_bytes()
        rows = (root / "one.csv").read_text(encoding="utf-8-sig").count("\n") - 1
    best = {name: min(values) for name, values in times.items()}
    print(f"load averages after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, (wall, cpu, machine) in best.items():
        print(
            f"{name:<8} {wall:7.2f} s  {1000 * wall / args.images:6.1f} ms/image  CPU: this "
            f"process {cpu:6.2f} s, machine {machine:6.2f} s ({machine / wall:4.2f} cores busy)"
            f"  (best of {args.repeats})"
        )
    print(f"{rows} rows; --jobs 1 and --jobs 2 tables identical: {same}")
    wall = best["jobs 1"][0] / best["direct"][0]
    cpu = best["jobs 1"][1] / best["direct"][1]
    print(f"batch --jobs 1 / direct loop: {wall:5.2f}x wall, {cpu:5.2f}x CPU  (goal <= 1.2x)")
    speed_up = best["jobs 1"][0] / best["jobs 2"][0]
    print(f"--jobs 1 / --jobs 2:          {speed_up:5.2f}x  (goal >= 1.7x)")


if __name__ == "__main__":
    main()
