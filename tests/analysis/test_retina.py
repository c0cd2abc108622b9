"""Macular hole and foveal pit measurements on synthetic B-scan masks with known geometry.

Untilted masks are drawn so that every designed edge falls on a pixel edge: their values are
exact. Tilted masks are staircases: the mask itself departs from the designed shape by up to
about half a pixel on each edge, so they are checked against the design with one-pixel
tolerances and, for the minimum linear diameter, against an exact computation on the mask's
own pixel squares with half a pixel.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from measurer.analysis.masks import MaskError
from measurer.analysis.retina import measure_retina, size_class
from measurer.analysis.synthetic_masks import foveal_pit_mask, macular_hole_mask, rectangles_mask

SAMPLE = Path(__file__).resolve().parents[2] / "measurer/resources/samples/retina_hole_mask.png"
HOLE = dict(
    centre_col=150.5,
    base_row=120.5,
    base_diameter=60.0,
    mld=24.0,
    neck=(10.0, 20.0),
    foot=3.0,
    top_diameter=40.0,
    height_left=40.0,
    height_right=30.0,
    retina_width=260.0,
)
PIT = dict(
    centre_col=150,
    base_row=120.5,
    rim_height=40.0,
    pit_depth=16.0,
    pit_diameter=80.0,
    floor_diameter=20.0,
    retina_width=260.0,
)


def _hole(pw=1.0, ph=1.0, tilt=0.0):
    mask, truth = macular_hole_mask(
        (190, 300), pixel_width=pw, pixel_height=ph, tilt_deg=tilt, **HOLE
    )
    return mask, truth, measure_retina(mask, pixel_width=pw, pixel_height=ph)


@pytest.mark.parametrize(("pw", "ph"), [(1.0, 1.0), (2.0, 0.5)])
def test_untilted_hole_is_exact(pw, ph):
    _, truth, r = _hole(pw, ph)
    assert r.kind == "hole" and r.tilt_deg == pytest.approx(0.0, abs=1e-9)
    for name in ("mld", "base_diameter", "height_left", "height_right", "arm_left", "arm_right"):
        assert getattr(r, name) == pytest.approx(getattr(truth, name), abs=1e-9), name
    assert r.mld_euclidean == pytest.approx(truth.mld, abs=1e-9)
    assert r.height == 40.0
    for name in ("mhi", "thi", "hff", "dhi"):
        assert getattr(r, name) == pytest.approx(getattr(truth, name), abs=1e-9), name
    assert math.isnan(r.pit_depth) and r.size_class is None
    # Landmarks are image (row, col): the neck's left edge is 12 units left of the axis.
    row, col = r.landmarks["mld_left"]
    assert col == pytest.approx(150.5 - 12.0 / pw)
    assert 120.5 - 20.0 / ph <= row <= 120.5 - 10.0 / ph
    assert r.landmarks["base_right"] == pytest.approx((120.5, 150.5 + 30.0 / pw))
    assert r.landmarks["top_left"] == pytest.approx((120.5 - 40.0 / ph, 150.5 - 20.0 / pw))


def _rectangle_extents(rows, cols, pw, ph, tilt, heights):
    """Per height v: extent in u of each pixel rectangle crossed by the line v = const."""
    a = math.radians(tilt)
    corners = [(-0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.5, -0.5)]
    x = np.stack([(cols + dc - HOLE["centre_col"]) * pw for _, dc in corners], axis=1)
    y = np.stack([(rows + dr - HOLE["base_row"]) * ph for dr, _ in corners], axis=1)
    u = x * math.cos(a) - y * math.sin(a)
    v = -x * math.sin(a) - y * math.cos(a)
    low = np.full((len(heights), len(rows)), np.inf)
    high = np.full((len(heights), len(rows)), -np.inf)
    for k in range(4):
        u0, v0, u1, v1 = u[:, k], v[:, k], u[:, (k + 1) % 4], v[:, (k + 1) % 4]
        for i, h in enumerate(heights):
            cross = (v0 - h) * (v1 - h) <= 0
            t = np.where(cross, (h - v0) / np.where(v1 == v0, 1, v1 - v0), np.nan)
            at = u0 + t * (u1 - u0)
            low[i] = np.fmin(low[i], np.where(cross, at, np.inf))
            high[i] = np.fmax(high[i], np.where(cross, at, -np.inf))
    return low, high


def _exact_parallel_mld(mask, pw, ph, tilt):
    """Minimum base-parallel gap between the two parts' pixel squares, by brute force."""
    from measurer.analysis.blobs import label_blobs

    labels = label_blobs(mask)
    heights = np.arange(1.0, 29.0, 0.05)
    _, left_high = _rectangle_extents(*np.nonzero(labels == 1), pw, ph, tilt, heights)
    right_low, _ = _rectangle_extents(*np.nonzero(labels == 2), pw, ph, tilt, heights)
    return float(np.min(right_low.min(axis=1) - left_high.max(axis=1)))


@pytest.mark.parametrize(("pw", "ph", "tilt"), [(1.0, 1.0, 3.0), (2.0, 0.5, -7.0)])
def test_tilted_hole(pw, ph, tilt):
    mask, truth, r = _hole(pw, ph, tilt)
    assert r.tilt_deg == pytest.approx(tilt, abs=0.15)
    # The measurement of the mask: within half a pixel (the frame is sampled at half pixels).
    assert r.mld == pytest.approx(_exact_parallel_mld(mask, pw, ph, tilt), abs=0.5 * pw)
    # The mask against the design: staircase edges, one pixel.
    pixel = ph * math.cos(math.radians(tilt)) + pw * abs(math.sin(math.radians(tilt)))
    for name in ("mld", "mld_euclidean", "base_diameter"):
        value = getattr(r, name)
        assert value == pytest.approx(
            getattr(truth, "mld" if name == "mld_euclidean" else name), abs=pw
        )
    for name in ("height_left", "height_right", "arm_left", "arm_right"):
        assert getattr(r, name) == pytest.approx(getattr(truth, name), abs=pixel), name


def test_doubling_the_pixel_size_doubles_every_length():
    mask, _, small = _hole(1.0, 0.5)
    big = measure_retina(mask, pixel_width=2.0, pixel_height=1.0)
    for name in ("mld", "mld_euclidean", "base_diameter", "height", "arm_left", "arm_right"):
        assert getattr(big, name) == pytest.approx(2 * getattr(small, name)), name
    for name in ("mhi", "thi", "hff", "dhi", "tilt_deg"):
        assert getattr(big, name) == pytest.approx(getattr(small, name)), name
    assert big.landmarks.keys() == small.landmarks.keys()
    for name, point in big.landmarks.items():
        assert point == pytest.approx(small.landmarks[name]), name


def test_size_class():
    mask, _, _ = _hole()  # MLD 24 px
    assert measure_retina(mask, pixel_width=10, pixel_height=10, microns_per_unit=1).size_class == (
        "small"
    )
    um = measure_retina(mask, pixel_width=0.0125, pixel_height=0.0125, microns_per_unit=1000)
    assert um.size_class == "medium"  # 24 * 12.5 = 300 µm
    assert measure_retina(mask, pixel_width=20, pixel_height=20, microns_per_unit=1).size_class == (
        "large"
    )
    assert [size_class(v) for v in (250.0, 250.5, 400.0, 400.5)] == [
        "small",
        "medium",
        "medium",
        "large",
    ]


@pytest.mark.parametrize(("pw", "ph"), [(1.0, 1.0), (2.0, 0.5)])
def test_untilted_pit(pw, ph):
    mask, truth = foveal_pit_mask((190, 300), pixel_width=pw, pixel_height=ph, **PIT)
    r = measure_retina(mask, pixel_width=pw, pixel_height=ph)
    assert r.kind == "pit" and math.isnan(r.mld) and math.isnan(r.mhi)
    assert r.pit_depth == pytest.approx(truth.pit_depth, abs=1e-9)
    assert r.central_thickness == pytest.approx(truth.central_thickness, abs=1e-9)
    assert r.pit_diameter == pytest.approx(truth.pit_diameter, abs=0.5 * pw)
    assert r.max_slope_deg == pytest.approx(truth.max_slope_deg, abs=1.5)
    row, col = r.landmarks["pit_bottom"]
    assert row == pytest.approx(120.5 - 24.0 / ph) and col == pytest.approx(150, abs=0.5)
    assert r.landmarks["pit_base"][0] == pytest.approx(120.5)


@pytest.mark.parametrize(("pw", "ph", "tilt"), [(1.0, 1.0, 3.0), (2.0, 0.5, -7.0)])
def test_tilted_pit(pw, ph, tilt):
    mask, truth = foveal_pit_mask((190, 300), pixel_width=pw, pixel_height=ph, tilt_deg=tilt, **PIT)
    r = measure_retina(mask, pixel_width=pw, pixel_height=ph)
    assert r.tilt_deg == pytest.approx(tilt, abs=0.15)
    pixel = ph * math.cos(math.radians(tilt)) + pw * abs(math.sin(math.radians(tilt)))
    # Rims are maxima and the floor a minimum of a staircase: up to one pixel each way.
    assert r.pit_depth == pytest.approx(truth.pit_depth, abs=pixel)
    assert r.central_thickness == pytest.approx(truth.central_thickness, abs=pixel)
    assert r.pit_diameter == pytest.approx(truth.pit_diameter, abs=pw)
    assert r.max_slope_deg == pytest.approx(truth.max_slope_deg, abs=2.5)


def test_degenerate_masks_raise_clear_errors():
    with pytest.raises(MaskError, match="empty"):
        measure_retina(np.zeros((50, 50), bool))
    band = rectangles_mask((50, 80), [(20, 0, 10, 80)])
    with pytest.raises(MaskError, match="1 part"):
        measure_retina(band, kind="hole")
    with pytest.raises(MaskError, match="no foveal pit"):
        measure_retina(band)
    with pytest.raises(MaskError, match="top or bottom"):
        measure_retina(rectangles_mask((50, 80), [(0, 0, 10, 80)]))
    with pytest.raises(MaskError, match="not a binary mask"):
        measure_retina(np.arange(50 * 80).reshape(50, 80) % 7)
    with pytest.raises(ValueError):
        measure_retina(band, kind="cyst")


@pytest.mark.skipif(not SAMPLE.exists(), reason="bundled sample not present")
def test_bundled_sample_hole():
    from PIL import Image

    # Designed: minimum diameter 36 px at mid depth, base diameter 90 px on a curved base.
    r = measure_retina(np.array(Image.open(SAMPLE)))
    assert r.kind == "hole"
    assert r.mld == pytest.approx(36.0, abs=1.0)
    assert r.mld_euclidean == pytest.approx(36.0, abs=1.0)
    assert r.base_diameter == pytest.approx(90.0, abs=3.0)  # measured a pixel above the base
