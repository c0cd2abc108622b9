"""Benchmark of layer analysis and scale bar detection (not a test).

On a 4096 x 4096 8-bit image, against one ``cv2.GaussianBlur`` (sigma 2) of the same image
(the baseline, measured in the same run):

1. automatic orientation (structure tensor of the whole region) plus 16 parallel profiles
   (band width 5) across ~300 tilted layers, each analysed for boundaries, blur and period.
   Goal: at most 3x the baseline;
2. scale bar detection on a 4096 x 4096 synthetic micrograph with a bar. Goal: at most 3x.

Times are medians of ``--repeats`` runs, each task interleaved with the baseline, since the
machine is shared. Run: ``/work/venv/bin/python bench/bench_layers.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from measurer.analysis.layers import analyze_line
from measurer.analysis.orientation import layer_orientation, profile_lines
from measurer.analysis.scalebar import detect_scale_bar
from measurer.analysis.synthetic_layers import layered_image, scalebar_image

SIZE = 4096


def layers_task(image: np.ndarray) -> list:
    """Orientation of the whole image, then 16 profiles across its layers."""
    roi = (0, 0, *image.shape)
    orientation = layer_orientation(image, roi=roi)
    return [
        analyze_line(image, s, e, width=5) for s, e in profile_lines(roi, orientation, count=16)
    ]


def timed(task, baseline, repeats: int) -> tuple[float, float]:
    """Median times of ``task()`` and ``baseline()``, run alternately."""
    task_times, base_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        baseline()
        base_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        task()
        task_times.append(time.perf_counter() - start)
    return statistics.median(task_times), statistics.median(base_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    print(f"making {SIZE} x {SIZE} test images...", flush=True)
    stack, truth = layered_image(
        (SIZE, SIZE), [9.0, 13.0] * 150 + [9.0], angle_deg=25, blur=1.5, noise=0.03, seed=1
    )
    stack = np.clip(stack * 255, 0, 255).astype(np.uint8)
    micrograph, bar_truth = scalebar_image(3, (SIZE, SIZE))

    lines = layers_task(stack)
    centre = lines[len(lines) // 2].profile
    print(
        f"layers: {len(lines)} profiles; central one: {centre.dark_count} dark, "
        f"{centre.light_count} light, period {centre.period:.3f} px (truth {truth.period:.3f})"
    )
    task, base = timed(
        lambda: layers_task(stack), lambda: cv2.GaussianBlur(stack, (0, 0), 2), args.repeats
    )
    print(
        f"orientation + 16 profiles: {task * 1e3:.1f} ms; "
        f"GaussianBlur sigma 2: {base * 1e3:.1f} ms;"
        f" ratio {task / base:.2f} (goal <= 3)"
    )

    bar = detect_scale_bar(micrograph).bar
    print(f"scale bar: {bar.length:.3f} px (truth {bar_truth.length:.3f})")
    task, base = timed(
        lambda: detect_scale_bar(micrograph),
        lambda: cv2.GaussianBlur(micrograph, (0, 0), 2),
        args.repeats,
    )
    print(
        f"scale bar detection: {task * 1e3:.1f} ms; GaussianBlur sigma 2: {base * 1e3:.1f} ms;"
        f" ratio {task / base:.2f} (goal <= 3)"
    )


if __name__ == "__main__":
    main()
