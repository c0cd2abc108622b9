"""Layer boundaries, counts, blur, period and automatic orientation on synthetic stacks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from measurer.analysis.layers import analyze_line, analyze_profile
from measurer.analysis.orientation import (
    clip_line,
    layer_orientation,
    parallel_lines,
    profile_lines,
)
from measurer.analysis.synthetic_layers import layered_image, random_layered_image

SEEDS = range(16)


def _angle_error(a: float, b: float) -> float:
    return abs((a - b + 90) % 180 - 90)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_stacks_count_exactly_and_boundaries_within_a_third_of_a_pixel(seed):
    # random widths, tilt -60..60, taper, blur sigma 1-2, noise, gradient and bands
    image, truth = random_layered_image(seed)
    copy = image.copy()
    roi = (0, 0, *image.shape)
    orientation = layer_orientation(image, roi=roi)
    assert _angle_error(orientation.angle_deg, truth.angle_deg) < 1.0
    (start, end) = profile_lines(roi, orientation, count=1)[0]
    line = analyze_line(image, start, end, width=9)
    expected = truth.crossings(start, end)
    found = line.profile.boundaries
    assert found.size == expected.size
    assert np.mean(np.abs(found - expected)) < 0.3
    kinds = truth.kinds
    assert line.profile.dark_count == kinds.count("dark")
    assert line.profile.light_count == kinds.count("light")
    complete = [layer for layer in line.profile.layers if layer.complete]
    assert [layer.kind for layer in complete] == list(kinds)
    np.testing.assert_allclose([la.width for la in complete], np.diff(expected), atol=1.2)
    # the boundary points lie on the profile line
    direction = (np.asarray(end) - start) / np.hypot(*(np.asarray(end) - start))
    np.testing.assert_allclose(line.boundary_points, start + found[:, None] * direction)
    assert np.array_equal(image, copy)


@pytest.mark.parametrize("seed", range(6))
def test_parallel_profiles_follow_the_taper(seed):
    image, truth = random_layered_image(100 + seed)
    roi = (40, 40, 240, 240)
    lines = profile_lines(roi, layer_orientation(image, roi=roi), count=6)
    assert lines.shape == (6, 2, 2)
    errors = []
    for start, end in lines:
        found = analyze_line(image, start, end, width=7).profile.boundaries
        expected = truth.crossings(start, end)
        length = np.hypot(*(end - start))
        margin = (
            3 * math.hypot(truth.blur, 1.0) + 1
        )  # a boundary this close to an end has no plateau
        inner = expected[(expected > margin) & (expected < length - margin)]
        kept = found[(found > margin) & (found < length - margin)]
        assert kept.size == inner.size
        errors.extend(np.abs(kept - inner))
    assert np.mean(errors) < 0.3


@pytest.mark.parametrize("seed", range(8))
def test_period_within_one_percent_with_ten_or_more_periods(seed):
    rng = np.random.default_rng(seed)
    dark, light = rng.uniform(5, 12, 2)
    periods = int(rng.integers(10, 15))
    image, truth = layered_image(
        (360, 360),
        [dark, light] * periods + [dark],
        angle_deg=rng.uniform(-60, 60),
        blur=rng.uniform(1, 2),
        noise=rng.uniform(0.01, 0.05),
        gradient=0.3,
        bands=2,
        level_jitter=0.05,
        seed=seed,
    )
    centre, normal = np.asarray(truth.origin), np.asarray(truth.normal)
    reach = (dark + light) * periods / 2 + 20
    line = analyze_line(image, centre - reach * normal, centre + reach * normal, width=9)
    assert line.profile.period == pytest.approx(truth.period, rel=0.01)
    assert line.profile.pair_width == pytest.approx(truth.period, rel=0.02)
    assert (line.profile.dark_count, line.profile.light_count) == (periods + 1, periods)


def test_narrow_layers_are_flagged_as_limited_by_blur():
    blur = 1.5
    image, truth = layered_image((200, 200), [14, 12, 3.0, 12, 14], blur=blur, noise=0.01, seed=4)
    start, end = (5.0, 100.0), (194.0, 100.0)  # layers are horizontal: the profile runs down
    line = analyze_line(image, start, end, width=9)
    profile = line.profile
    assert profile.blur == pytest.approx(blur, rel=0.25)
    complete = [layer for layer in profile.layers if layer.complete]
    assert [layer.resolved for layer in complete] == [True, True, False, True, True]
    centres = [(la.start + la.end) / 2 for la in complete]
    expected = truth.crossings(start, end)
    # the narrow layer's width is biased, its centre is not
    assert centres[2] == pytest.approx((expected[2] + expected[3]) / 2, abs=0.2)
    assert complete[2].width > 3.0 + 0.3


def test_layers_cut_by_the_profile_ends_are_listed_but_not_counted():
    image, _ = layered_image((120, 120), [10, 10, 10, 10, 10], blur=1.0, seed=0)
    line = analyze_line(image, (37.0, 60.0), (100.0, 60.0), width=3)  # starts inside layer 2
    layers = line.profile.layers
    assert not layers[0].complete and not layers[-1].complete
    assert layers[0].start == 0.0 and layers[-1].end == pytest.approx(63.0)
    assert all(layer.complete for layer in layers[1:-1])
    assert line.profile.dark_count + line.profile.light_count == len(layers) - 2
    data = line.to_dict()
    assert data["dark_count"] == line.profile.dark_count
    assert {"index", "kind", "start", "end", "width_px", "resolved", "complete"} <= set(
        data["layers"][0]
    )


def test_a_flat_profile_has_no_layers():
    profile = analyze_profile(np.random.default_rng(0).normal(100, 1, 300))
    assert profile.boundaries.size == 0 and profile.layers == ()
    assert profile.dark_count == profile.light_count == 0
    assert math.isnan(profile.blur)


def test_positions_scale_with_the_step_and_ignore_nan_ends():
    image, _ = layered_image((150, 150), [8, 10, 8], blur=1.2, seed=1)
    values = analyze_line(image, (0.0, 75.0), (149.0, 75.0)).profile
    samples = image[:, 75].astype(float)
    padded = np.concatenate([[np.nan] * 5, samples, [np.nan] * 3])
    shifted = analyze_profile(padded, step=0.5, smoothing=0.5)  # the same sigma in samples
    np.testing.assert_allclose(shifted.boundaries, (values.boundaries + 5) * 0.5, atol=1e-9)
    with pytest.raises(ValueError):
        analyze_profile(np.full(10, np.nan))
    with pytest.raises(ValueError):
        analyze_profile(np.zeros((3, 3)))


def test_orientation_in_physical_space_for_rectangular_pixels():
    image, truth = layered_image((200, 400), [10, 10, 10, 10, 10], angle_deg=0, blur=1.5)
    wide = image[:, ::2]  # pixels twice as wide as tall
    squashed, _ = layered_image((200, 200), [10] * 5, angle_deg=0, blur=1.5)
    assert layer_orientation(squashed).angle_deg == pytest.approx(0, abs=0.5)
    tilted, t2 = layered_image((300, 300), [10] * 5, angle_deg=30, blur=1.5)
    stretched = tilted[:, ::2]  # x sampled every 2 px: 30 deg looks like ~49 deg in pixels
    physical = layer_orientation(stretched, spacing=(1.0, 2.0))
    assert physical.angle_deg == pytest.approx(30, abs=1.0)
    in_pixels = layer_orientation(stretched)
    assert in_pixels.angle_deg == pytest.approx(
        math.degrees(math.atan(2 * math.tan(math.radians(30)))), abs=1.0
    )
    assert wide.shape == (200, 200) and truth.angle_deg == 0 and t2.angle_deg == 30


def test_orientation_rejects_bad_regions():
    image = np.zeros((50, 50))
    with pytest.raises(ValueError, match="flat"):
        layer_orientation(image)
    with pytest.raises(ValueError, match="inside"):
        layer_orientation(image, roi=(40, 40, 20, 20))
    with pytest.raises(ValueError):
        layer_orientation(image, roi=(0, 0, 2, 2))


def test_line_helpers():
    clipped = clip_line((5, -10), (5, 30), (0, 0, 9, 19))
    np.testing.assert_allclose(clipped, [(5, 0), (5, 19)])
    assert clip_line((20, -10), (20, 30), (0, 0, 9, 19)) is None
    # A slanted line clipped at both sides ends exactly on them (no 1e-13 left over).
    # (Plain arithmetic gives -7.1e-15 and 1795.0000000000002 for these two lines.)
    start, _ = clip_line((35.97, -62.346), (126.896, 1925.053), (0, 0, 161, 1795))
    _, end = clip_line((30.198, -187.721), (122.165, 1912.198), (0, 0, 161, 1795))
    assert start[1] == 0.0 and end[1] == 1795.0
    lines = parallel_lines((0, 0), (0, 10), count=3, spacing=2.0)
    np.testing.assert_allclose(lines[:, 0, 0], [-2, 0, 2])  # shifted across the line
    np.testing.assert_allclose(lines[:, 1, 1], [10, 10, 10])
