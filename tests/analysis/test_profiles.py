"""Line profiles: ImageJ's sampling, band averaging, edges of the image, period."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.measure import profile_line

from measurer.analysis.profiles import (
    grayscale,
    line_profile,
    profile_period,
    profile_points,
    profile_positions,
    sample_count,
)

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXPECTED = SHARED / "oracles" / "imagej" / "expected"
REAL = SHARED / "data" / "real"


def _ramp(rows=40, cols=50):
    r, c = np.mgrid[0:rows, 0:cols]
    return (3.0 * r + 0.5 * c + 0.01 * r * c).astype(np.float64)


def test_horizontal_profile_is_the_row_and_a_band_is_the_mean_of_rows():
    image = np.random.default_rng(0).integers(0, 255, (30, 40)).astype(np.uint8)
    np.testing.assert_allclose(line_profile(image, (10, 3), (10, 30)), image[10, 3:31], atol=1e-9)
    band = line_profile(image, (10, 3), (10, 30), width=5)
    np.testing.assert_allclose(band, image[8:13, 3:31].mean(axis=0), atol=1e-12)


def test_oblique_band_is_the_mean_of_parallel_bilinear_lines():
    image = _ramp() + np.random.default_rng(1).random((40, 50))
    start, end = (5.0, 4.0), (30.0, 41.0)
    length = math.hypot(25, 37)
    n = sample_count(start, end)
    assert n == round(length) + 1
    np.testing.assert_allclose(profile_positions(start, end), np.linspace(0, length, n))
    direction = np.array([25, 37]) / length
    normal = np.array([direction[1], -direction[0]])
    t = np.linspace(0, 1, n)[:, None]
    lines = [
        ndi.map_coordinates(
            image, (np.array(start) + t * np.array([25, 37]) + k * normal).T, order=1
        )
        for k in (-1, 0, 1)
    ]
    np.testing.assert_allclose(line_profile(image, start, end, width=3), np.mean(lines, axis=0))
    points = profile_points(start, end, width=3)
    assert points.shape == (3, n, 2)
    np.testing.assert_allclose(points[1, 0], start)
    np.testing.assert_allclose(points[1, -1], end)


def test_matches_skimage_profile_line_for_whole_lengths():
    image = np.random.default_rng(2).random((60, 60))
    start, end = (10, 12), (40, 52)  # length 50
    ours = line_profile(image, start, end, width=3)
    theirs = profile_line(image, start, end, linewidth=3, order=1, mode="constant")
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_a_linear_ramp_is_sampled_exactly_and_order_3_agrees():
    image = _ramp()
    r, c = profile_points((2.5, 3.25), (35.0, 44.0))[0].T
    expected = 3.0 * r + 0.5 * c + 0.01 * r * c
    np.testing.assert_allclose(line_profile(image, (2.5, 3.25), (35.0, 44.0)), expected, atol=1e-9)
    r, c = profile_points((10.5, 12.25), (28.0, 34.0))[0].T  # splines: away from the border
    cubic = line_profile(image, (10.5, 12.25), (28.0, 34.0), order=3)
    np.testing.assert_allclose(cubic, 3.0 * r + 0.5 * c + 0.01 * r * c, atol=1e-3)


def test_samples_outside_the_image_are_nan_and_bands_average_what_is_inside():
    image = np.full((10, 10), 7.0)
    values = line_profile(image, (5, -3), (5, 12))
    assert np.isnan(values[:2]).all() and np.isnan(values[-2:]).all()
    assert np.all(values[3:-3] == 7.0)
    edge = line_profile(image, (0, 2), (0, 8), width=5)  # two lines above the image
    assert np.all(edge == 7.0)


def test_colour_images_give_one_profile_per_channel_and_input_is_untouched():
    image = np.zeros((20, 20, 3), np.uint8)
    image[..., 1] = 100
    image[..., 2] = np.arange(20)
    copy = image.copy()
    values = line_profile(image, (3, 0), (3, 19))
    assert values.shape == (20, 3)
    np.testing.assert_allclose(values[:, 1], 100, atol=1e-9)
    np.testing.assert_allclose(values[:, 2], np.arange(20), atol=1e-9)
    assert np.array_equal(image, copy)
    assert grayscale(image).shape == (20, 20)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": (1, 1), "end": (1, 1)},
        {"start": (1, 1), "end": (5, 5), "width": 0},
        {"start": (1, 1), "end": (5, 5), "order": 7},
        {"start": (1, 1, 1), "end": (5, 5)},
        {"start": (1, math.nan), "end": (5, 5)},
    ],
)
def test_bad_lines_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        line_profile(np.zeros((10, 10)), **kwargs)


def test_period_of_a_sampled_square_wave():
    x = np.arange(400)
    for period in (9.3, 12.5, 20.0):
        wave = (np.sin(2 * np.pi * x / period) > 0).astype(float)
        wave = ndi.gaussian_filter1d(wave, 1.2) + 0.002 * x  # blur and a slow ramp
        assert profile_period(wave) == pytest.approx(period, rel=0.01)
        assert profile_period(wave, step=0.5) == pytest.approx(period / 2, rel=0.01)
    assert math.isnan(profile_period(np.random.default_rng(3).normal(size=300)))


def _imagej(name: str) -> np.ndarray:
    with open(EXPECTED / name, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([[float(r["x"]), float(r["y"]), float(r["value"])] for r in rows])


@pytest.mark.parametrize(
    ("name", "image", "line", "width", "tolerance"),
    [
        ("coins_profile_y60_w5.csv", "skimage/coins.png", (10, 60, 370, 60), 5, 1e-9),
        ("coins_profile_diag_w3.csv", "skimage/coins.png", (20, 20, 300, 250), 3, 1e-3),
        (
            "tree_rings_profile_y80_w9.csv",
            "imagej_samples/Tree_Rings.pgm",
            (0, 80, 1795, 80),
            9,
            1e-4,
        ),
    ],
)
def test_matches_imagej_plot_profile(name, image, line, width, tolerance):
    if not (EXPECTED / name).exists() or not (REAL / image).exists():
        pytest.skip("ImageJ oracle outputs or real images not available")
    pixels = cv2.imread(str(REAL / image), cv2.IMREAD_GRAYSCALE)
    expected = _imagej(name)
    x0, y0, x1, y1 = line  # ImageJ profiles use pixel-index coordinates: no 0.5 offset
    values = line_profile(pixels, (y0, x0), (y1, x1), width=width)
    assert values.shape == (expected.shape[0],)
    np.testing.assert_allclose(values, expected[:, 2], atol=tolerance)
    centre = profile_points((y0, x0), (y1, x1), width=width).mean(axis=0)
    np.testing.assert_allclose(centre[:, ::-1], expected[:, :2], atol=1e-4)
