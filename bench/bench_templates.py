"""Template matching speed against raw OpenCV and SciPy, and kymograph turn detection quality.

    /work/venv/bin/python bench/bench_templates.py [--repeats N]

1. 4096×4096 8-bit scene, 64×64 template pasted 24 times (noise, brightness changes): time of
   ``match_template`` (every match, sub-pixel, NMS) over raw ``cv2.matchTemplate`` +
   ``cv2.minMaxLoc`` (one best match only). Goal: at most 1.3× with every copy found. Then the
   coarse-to-fine pyramid mode: goal at least 4× faster than the raw call, same matches.
2. 512×512 with a 32×32 template: speed-up of raw OpenCV and of ``match_template`` over
   ``scipy.signal.correlate2d`` (plain, un-normalised correlation).
3. Turning points on 40 synthetic kymographs at moderate noise: precision and recall within
   3 frames and the trace error, for both methods.

Times are the median of the repeats, all measured in this run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np
from scipy.signal import correlate2d

from measurer.analysis.kymograph import find_turns
from measurer.analysis.synthetic_detections import synthetic_kymograph
from measurer.analysis.templates import match_template


def timed(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def scene(
    size: int, side: int, copies: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smooth texture with ``copies`` noisy, re-lit pastes of a template cut from it."""
    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), 2.0)
    image = np.clip(128 + 40 * field / field.std(), 0, 255).astype(np.uint8)
    template = image[size // 3 : size // 3 + side, size // 5 : size // 5 + side].copy()
    tops = []
    while len(tops) < copies:
        top = rng.integers(0, size - side, 2)
        if (
            all(np.abs(top - t).max() > side for t in tops)
            and np.abs(top - (size // 3, size // 5)).max() > side
        ):
            tops.append(top)
    for top, left in tops:
        copy = template * rng.uniform(0.7, 1.1) + rng.uniform(-20, 20)
        copy += rng.normal(0, 4, template.shape)
        image[top : top + side, left : left + side] = np.clip(copy, 0, 255).astype(np.uint8)
    tops.append(np.array((size // 3, size // 5)))
    return image, template, np.array(tops, dtype=np.float64)


def all_found(result, tops: np.ndarray) -> bool:
    found = np.array([(m.row, m.col) for m in result.matches]).reshape(-1, 2)
    if len(found) != len(tops):
        return False
    distance = np.hypot(*(found[:, None, :] - tops[None, :, :]).transpose(2, 0, 1))
    return bool((distance.min(axis=0) < 0.5).all())


def bench_large(repeats: int) -> None:
    image, template, tops = scene(4096, 64, 24, seed=0)

    def raw():
        return cv2.minMaxLoc(cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED))

    match_template(image[:512, :512], template)  # warm-up (imports, OpenCV buffers)
    t_raw, _ = timed(raw, repeats)
    t_full, full = timed(lambda: match_template(image, template, threshold=0.8), repeats)
    t_pyr, pyr = timed(
        lambda: match_template(image, template, threshold=0.8, pyramid=True), repeats
    )
    same = full.count == pyr.count and np.allclose(
        sorted((m.row, m.col) for m in full.matches),
        sorted((m.row, m.col) for m in pyr.matches),
        atol=0.01,
    )
    print("4096×4096, 64×64 template, 25 copies (uint8)")
    print(f"  raw cv2.matchTemplate + minMaxLoc : {t_raw * 1000:8.1f} ms  (best match only)")
    print(
        f"  match_template                    : {t_full * 1000:8.1f} ms  "
        f"{t_full / t_raw:.2f}× raw (goal <= 1.3); {full.count} matches, "
        f"all copies within 0.5 px: {all_found(full, tops)}"
    )
    print(
        f"  match_template(pyramid=True)      : {t_pyr * 1000:8.1f} ms  "
        f"{t_raw / t_pyr:.1f}× faster than raw (goal >= 4); same matches: {same}"
    )


def bench_small(repeats: int) -> None:
    image, template, tops = scene(512, 32, 6, seed=1)
    f_image, f_template = image.astype(np.float64), template.astype(np.float64)
    t_scipy, _ = timed(lambda: correlate2d(f_image, f_template - f_template.mean(), "valid"), 1)

    def raw():
        return cv2.minMaxLoc(cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED))

    t_raw, _ = timed(raw, repeats * 5)
    t_ours, ours = timed(lambda: match_template(image, template, threshold=0.8), repeats * 5)
    print("512×512, 32×32 template")
    print(f"  scipy.signal.correlate2d (valid)  : {t_scipy * 1000:8.1f} ms")
    print(f"  raw cv2.matchTemplate + minMaxLoc : {t_raw * 1000:8.2f} ms  {t_scipy / t_raw:.0f}×")
    print(
        f"  match_template                    : {t_ours * 1000:8.2f} ms  {t_scipy / t_ours:.0f}×; "
        f"all copies within 0.5 px: {all_found(ours, tops)}"
    )


def bench_kymographs(count: int) -> None:
    print(f"kymograph turning points: {count} synthetic kymographs (240 frames, noise 0.25)")
    for method in ("centroid", "ridge"):
        true_pos = false_pos = missed = 0
        errors = []
        start = time.perf_counter()
        for seed in range(count):
            kymo = synthetic_kymograph(noise=0.25, seed=1000 + seed)
            result = find_turns(kymo.image, method=method)
            found = np.array([t.frame for t in result.turns])
            near = np.abs(found[:, None] - kymo.turn_frames[None, :]) <= 3
            true_pos += int(near.any(axis=1).sum())
            false_pos += int((~near.any(axis=1)).sum())
            missed += int((~near.any(axis=0)).sum())
            errors.append(np.abs(result.positions - kymo.positions[result.frames]))
        elapsed = (time.perf_counter() - start) / count
        errors = np.concatenate(errors)
        print(
            f"  {method:8}: precision {true_pos / max(1, true_pos + false_pos):.3f}, "
            f"recall {true_pos / max(1, true_pos + missed):.3f} (within 3 frames); trace error "
            f"mean {errors.mean():.2f} px, max {errors.max():.2f} px; {elapsed * 1000:.0f} ms each"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement")
    args = parser.parse_args()
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads")
    bench_large(args.repeats)
    bench_small(args.repeats)
    bench_kymographs(40)


if __name__ == "__main__":
    main()
