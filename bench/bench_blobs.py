"""Benchmark of measurer.analysis.blobs.blob_stats (not a test).

An 8192 x 8192 mask with 10,000 blobs (ellipses and rings of 5-35 px radius, one per cell of a
100 x 100 grid, so none touch) is measured by:

1. raw ``cv2.connectedComponentsWithStats`` (labels, areas, boxes, centroids only): baseline;
2. ``blob_stats``: the same plus ImageJ perimeters, extreme points with their tie rule and
   equivalent diameters (outline polygons are optional and off). Goal: at most 1.5x the
   baseline; ``blob_stats(..., outlines=True)`` is timed too, for information;
3. ``skimage.measure.label`` + ``regionprops`` with the same quantities (area, perimeter,
   centroid, bbox, and extreme points from each region's pixel list). Goal: several times
   slower than ``blob_stats``.

Times are the best of ``--repeats`` runs, the two OpenCV-based ones interleaved so that both
see the same machine load (the median ratio of the paired runs is printed too); regionprops
runs once (it is slow).
Run: ``/work/venv/bin/python bench/bench_blobs.py [--size 8192] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from skimage.measure import label, regionprops

from measurer.analysis.blobs import blob_stats


def make_mask(size: int, grid: int, seed: int = 0) -> np.ndarray:
    """``grid`` x ``grid`` blobs, one per cell, as a uint8 0/1 mask."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size), np.uint8)
    cell = size // grid
    limit = max(2, cell // 2 - 2)
    for i in range(grid):
        for j in range(grid):
            axes = rng.integers(min(5, limit), limit + 1, 2)
            centre = (j * cell + cell // 2, i * cell + cell // 2)
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(mask, centre, (int(axes[0]), int(axes[1])), angle, 0, 360, 1, -1)
            if rng.random() < 0.2:  # some rings: a hole the perimeter must ignore
                hole = (max(1, int(axes[0]) // 3), max(1, int(axes[1]) // 3))
                cv2.ellipse(mask, centre, hole, angle, 0, 360, 0, -1)
    return mask


def with_regionprops(mask: np.ndarray) -> list:
    """The same quantities with scikit-image, extreme points from each region's pixels."""
    rows = []
    for region in regionprops(label(mask, connectivity=2)):
        coords = region.coords
        r, c = coords[:, 0], coords[:, 1]
        extremes = []
        for along, across, pick in ((c, r, c.min()), (c, r, c.max()), (r, c, r.min())):
            tied = np.sort(across[along == pick])
            extremes.append(tied[(len(tied) - 1) // 2])
        tied = np.sort(c[r == r.max()])
        extremes.append(tied[(len(tied) - 1) // 2])
        rows.append((region.area, region.perimeter, region.centroid, region.bbox, extremes))
    return rows


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--grid", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    mask = make_mask(args.size, args.grid)
    count = len(blob_stats(mask))
    print(f"mask {args.size} x {args.size}, {count} blobs, {mask.mean():.1%} foreground")
    raw_times, our_times = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        raw_times.append(
            timed(lambda: cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_32S))
        )
        our_times.append(timed(lambda: blob_stats(mask)))
    raw, ours = min(raw_times), min(our_times)
    pair_ratio = float(np.median(np.divide(our_times, raw_times)))
    with_outlines = min(timed(lambda: blob_stats(mask, outlines=True)) for _ in range(3))
    skimage_time = timed(lambda: with_regionprops(mask))
    print(f"cv2.connectedComponentsWithStats  {raw * 1000:8.1f} ms (best of {args.repeats})")
    print(f"blob_stats                        {ours * 1000:8.1f} ms (best of {args.repeats})")
    print(f"blob_stats(outlines=True)         {with_outlines * 1000:8.1f} ms (best of 3)")
    print(f"skimage label + regionprops       {skimage_time * 1000:8.1f} ms (one run)")
    print(
        f"blob_stats / cv2 raw:        {ours / raw:5.2f}x best times, {pair_ratio:5.2f}x median "
        "of paired runs  (goal <= 1.5x)"
    )
    print(f"regionprops / blob_stats:    {skimage_time / ours:5.1f}x  (goal: several times)")


if __name__ == "__main__":
    main()
