"""The bundled samples: present, readable, calibrated, true to their documented ground truth, and
exactly what resources/make_samples.py makes."""

from __future__ import annotations

import math
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from scipy import ndimage

from measurer.io.samples import SAMPLE_NAMES, icon_path, sample_paths

GENERATOR = Path(__file__).resolve().parents[2] / "resources" / "make_samples.py"
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


@pytest.fixture(scope="module")
def paths() -> dict[str, Path]:
    return sample_paths()


def _imagej_pixel_size(path: Path) -> tuple[float, float, str]:
    """(width, height, unit) of one pixel, from the ImageJ TIFF tags."""
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej
        tags = tif.pages[0].tags
        x_num, x_den = tags["XResolution"].value
        y_num, y_den = tags["YResolution"].value
        return x_den / x_num, y_den / y_num, tif.imagej_metadata["unit"]


def _read(path: Path) -> np.ndarray:
    if path.suffix == ".tif":
        return tifffile.imread(path)
    with Image.open(path) as image:
        return np.asarray(image)


def test_every_sample_and_the_icon_exist_and_are_small(paths):
    assert list(paths) == list(SAMPLE_NAMES)
    for path in paths.values():
        assert path.is_file(), path
    assert sum(path.stat().st_size for path in paths.values()) < 2 * 1024 * 1024
    with Image.open(icon_path()) as icon:
        assert icon.size == (256, 256)
        assert icon.mode == "RGBA"
    with Image.open(icon_path().with_name("icon-64.png")) as small:
        assert small.size == (64, 64)


def test_retina_mask_has_two_regions_a_cyst_and_the_designed_hole(paths):
    with Image.open(paths["retina_hole_mask.png"]) as image:
        assert image.mode == "L"
        mask = np.asarray(image)
    assert mask.shape == (496, 1024)
    assert set(np.unique(mask)) == {0, 255}
    labels, count = ndimage.label(mask > 0, structure=EIGHT_CONNECTED)
    assert count == 2
    areas = np.bincount(labels.ravel())[1:]
    assert areas.min() > 100_000
    # The retina spans the scan: the left region touches the left border, the right one the right.
    assert set(labels[:, 0]) - {0} == {1}
    assert set(labels[:, -1]) - {0} == {2}

    holes = ndimage.binary_fill_holes(mask > 0) & (mask == 0)
    _, hole_count = ndimage.label(holes)
    assert hole_count == 1
    assert abs(holes.sum() - math.pi * 11 * 16) < 0.03 * math.pi * 11 * 16
    assert np.all(labels[ndimage.binary_dilation(holes)] != 2)  # the cyst is in the left region

    # Minimum linear diameter: designed 36 px between the continuous edges (417.6 µm with the
    # anisotropic 11.7 × 3.9 µm pixels); pixel centres sit within a pixel of that.
    to_left = ndimage.distance_transform_edt(labels != 1)
    assert abs(to_left[labels == 2].min() - 36.0) <= 1.0
    to_left_um = ndimage.distance_transform_edt(labels != 1, sampling=(3.9, 11.7))
    assert abs(to_left_um[labels == 2].min() - 417.6) <= 11.7


def test_retina_mask_tiff_is_the_png_with_anisotropic_pixels(paths):
    np.testing.assert_array_equal(
        tifffile.imread(paths["retina_hole_mask.tif"]), _read(paths["retina_hole_mask.png"])
    )
    width, height, unit = _imagej_pixel_size(paths["retina_hole_mask.tif"])
    assert width == pytest.approx(11.7, rel=1e-9)
    assert height == pytest.approx(3.9, rel=1e-9)
    assert unit == "um"


def _layer_orientation(image: np.ndarray) -> float:
    """Direction of the layers in degrees, counterclockwise on screen from the x axis."""
    gy, gx = np.gradient(image.astype(float))
    jxx, jyy, jxy = (gx * gx).mean(), (gy * gy).mean(), (gx * gy).mean()
    gradient = 0.5 * math.degrees(math.atan2(2 * jxy, jxx - jyy))  # rows point down
    return (-(gradient + 90.0)) % 180.0


def test_layered_micrograph_has_the_designed_layers_and_a_200_px_scale_bar(paths):
    with Image.open(paths["layered_micrograph.png"]) as image:
        assert image.mode == "L"
        pixels = np.asarray(image)
    assert pixels.shape == (768, 1024)

    bar = pixels == 0
    runs = {r: np.flatnonzero(bar[r]) for r in range(pixels.shape[0]) if bar[r].sum() >= 100}
    assert len(runs) == 8  # the bar is 8 px thick and nothing else has 100 black pixels a row
    for cols in runs.values():
        np.testing.assert_array_equal(cols, np.arange(788, 988))  # one run of exactly 200 px
    assert sorted(runs) == list(range(730, 738))
    assert np.all(pixels[735, 770:788] == 255)  # on the white label box
    assert np.all(pixels[735, 988:1006] == 255)

    field = pixels[:640, :]  # clear of the label box
    assert abs(_layer_orientation(field) - 25.0) < 1.0

    # Period along the normal to the layers through the centre: 40 px.
    a = math.radians(25.0)
    t = np.arange(-320.0, 320.0)
    rows = 383.5 + t * math.cos(a)
    cols = 511.5 + t * math.sin(a)
    profile = ndimage.map_coordinates(pixels.astype(float), [rows, cols], order=1)
    profile -= profile.mean()
    correlation = np.correlate(profile, profile, mode="full")[profile.size - 1 :]
    lag = 30 + int(np.argmax(correlation[30:50]))
    left, mid, right = correlation[lag - 1 : lag + 2]
    period = lag + 0.5 * (left - right) / (left - 2 * mid + right)
    assert abs(period - 40.0) < 0.5


def test_calibrated_16bit_has_14_cells_beyond_12_bits_and_its_pixel_size(paths):
    path = paths["calibrated_16bit.tif"]
    image = tifffile.imread(path)
    assert image.shape == (512, 512)
    assert image.dtype == np.uint16
    assert image.max() > 50_000  # well past 12 bits
    assert image.min() < 1000
    assert _imagej_pixel_size(path) == (pytest.approx(0.25), pytest.approx(0.25), "um")
    # The dimmest cell is 1500 above a background of 400-550 with ~50 noise.
    labels, _ = ndimage.label(ndimage.median_filter(image, 3) > 1300)
    sizes = np.bincount(labels.ravel())[1:]
    assert np.count_nonzero(sizes > 100) == 14
    assert np.count_nonzero(sizes <= 100) == 0
    # Each documented cell: its half-maximum outline is the designed ellipse.
    smooth = ndimage.gaussian_filter(image.astype(float), 1.0)
    rows, cols = np.mgrid[0:512, 0:512]
    for row, col, a, b, _angle, peak in runpy.run_path(str(GENERATOR))["make_cells"]()[1]:
        background = 400.0 + 150.0 * (row + col) / 1024
        near = np.hypot(rows - row, cols - col) < a + 4  # cells are at least 8 px apart
        inside = near & (smooth > background + peak / 2)
        assert abs(inside.sum() - math.pi * a * b) < 0.03 * math.pi * a * b
        assert abs(rows[inside].mean() - row) < 0.3
        assert abs(cols[inside].mean() - col) < 0.3


def test_stack_has_three_frames_drifting_by_2_3_px(paths):
    path = paths["stack_16bit.tif"]
    stack = tifffile.imread(path)
    assert stack.shape == (3, 256, 256)
    assert stack.dtype == np.uint16
    assert _imagej_pixel_size(path) == (pytest.approx(0.25), pytest.approx(0.25), "um")
    with tifffile.TiffFile(path) as tif:
        assert tif.imagej_metadata["frames"] == 3
    reference = np.fft.fft2(stack[0].astype(float) - stack[0].mean())
    for k in (1, 2):
        moved = np.fft.fft2(stack[k].astype(float) - stack[k].mean())
        cross = np.fft.ifft2(moved * np.conj(reference)).real
        shift = np.unravel_index(np.argmax(cross), cross.shape)
        assert shift == (2 * k, 3 * k)


def _generate(output: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), str(output)], check=True, capture_output=True)


def test_generator_is_byte_reproducible_and_makes_the_shipped_samples(tmp_path, paths):
    first, second = tmp_path / "first", tmp_path / "second"
    _generate(first)
    _generate(second)
    assert sorted(p.name for p in first.iterdir()) == sorted(SAMPLE_NAMES)
    for name in SAMPLE_NAMES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # The shipped files are what the script makes. Pixels, not bytes: a different zlib or
    # FreeType may change the encoding or a few antialiased text pixels, nothing else.
    for name, shipped in paths.items():
        made, kept = _read(first / name), _read(shipped)
        assert made.shape == kept.shape and made.dtype == kept.dtype, name
        assert np.count_nonzero(made != kept) <= 0.001 * made.size, name
        if name.endswith(".tif"):
            assert _imagej_pixel_size(first / name) == _imagej_pixel_size(shipped), name
