"""Calibrated TIFFs: ImageJ's own layout, and read_image gives the pixels and pixel size back."""

import numpy as np
import pytest
import tifffile

from measurer.core.calibration import Calibration
from measurer.io.images import read_image
from measurer.io.tiff_writer import TiffWriteError, write_tiff

CALIBRATIONS = [
    Calibration(0.1, 0.1, "µm"),
    Calibration(0.1, 0.2, "µm"),  # anisotropic
    Calibration(12.5, 7.25, "nm"),
    Calibration(0.05, 0.07, "mm"),
    Calibration(0.001, 0.002, "cm"),
    Calibration(1 / 300, 1 / 300, "in"),
    Calibration(2e-6, 1e-6, "m"),
]


def pixels(dtype: str, shape=(3, 6, 8)) -> np.ndarray:
    rng = np.random.default_rng(5)
    if dtype == "float32":
        return rng.normal(size=shape).astype(np.float32)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


def assert_same_calibration(read: Calibration, written: Calibration, detail: str) -> None:
    assert read.unit == written.unit
    assert read.pixel_width == pytest.approx(written.pixel_width, rel=1e-9)
    assert read.pixel_height == pytest.approx(written.pixel_height, rel=1e-9)
    assert (read.source, read.detail) == ("metadata", detail)


@pytest.mark.parametrize("calibration", CALIBRATIONS, ids=lambda c: f"{c.unit}")
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_imagej_tiff_round_trip(tmp_path, dtype, calibration):
    data = pixels(dtype)
    path = write_tiff(tmp_path / "a.tif", data, calibration)
    image = read_image(path)
    np.testing.assert_array_equal(image.data, data)
    assert image.dtype == np.dtype(dtype) and image.notes == ()
    assert_same_calibration(image.calibration, calibration, "ImageJ TIFF")


def test_single_image_and_rgb_stack(tmp_path):
    calibration = Calibration(0.25, 0.5, "µm")
    grey = pixels("uint16", (6, 8))
    image = read_image(write_tiff(tmp_path / "grey.tif", grey, calibration))
    assert image.data.shape == (1, 6, 8) and image.notes == ()
    np.testing.assert_array_equal(image.data[0], grey)
    rgb = pixels("uint8", (2, 6, 8, 3))
    image = read_image(write_tiff(tmp_path / "rgb.tif", rgb, calibration))
    assert image.info.mode == "rgb" and image.notes == ()
    np.testing.assert_array_equal(image.data, rgb)
    assert_same_calibration(image.calibration, calibration, "ImageJ TIFF")


@pytest.mark.parametrize(
    ("unit", "description_unit", "resolution_unit"),
    [("µm", "\\u00B5m", 1), ("nm", "nm", 1), ("cm", "cm", 3), ("in", "inch", 2), ("m", "m", 1)],
)
def test_tags_are_written_as_imagej_writes_them(tmp_path, unit, description_unit, resolution_unit):
    # ImageJ 1.53t's FileSaver writes 0.1 x 0.2 µm pixels as unit=\u00B5m (a literal escape),
    # XResolution 10, YResolution 5 pixels per unit and ResolutionUnit NONE; inch -> INCH,
    # cm -> CENTIMETER.
    path = write_tiff(tmp_path / "a.tif", pixels("uint8"), Calibration(0.1, 0.2, unit))
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages.first.tags
        assert tif.imagej_metadata["unit"] == description_unit
        assert tif.imagej_metadata["slices"] == 3
        x_num, x_den = tags["XResolution"].value
        y_num, y_den = tags["YResolution"].value
        assert x_num / x_den == pytest.approx(10) and y_num / y_den == pytest.approx(5)
        assert int(tags["ResolutionUnit"].value) == resolution_unit


def test_uncalibrated_image_has_no_pixel_size(tmp_path):
    path = write_tiff(tmp_path / "a.tif", pixels("uint8"), Calibration.uncalibrated())
    with tifffile.TiffFile(path) as tif:
        assert "unit" not in tif.imagej_metadata
    image = read_image(path)
    assert not image.calibration.is_calibrated and image.notes == ()


def test_bool_mask_is_written_as_0_and_255_and_input_is_untouched(tmp_path):
    mask = np.eye(6, 8, dtype=bool)
    copy = mask.copy()
    image = read_image(write_tiff(tmp_path / "m.tif", mask, Calibration(0.1, 0.1, "µm")))
    np.testing.assert_array_equal(image.data[0], mask * 255)
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(mask, copy)


def test_plain_tiff_holds_fine_pixel_sizes_in_centimetres(tmp_path):
    calibration = Calibration(0.1, 0.2, "µm")
    path = write_tiff(tmp_path / "a.tif", pixels("uint16"), calibration, imagej=False)
    with tifffile.TiffFile(path) as tif:
        assert not tif.is_imagej
        assert int(tif.pages.first.tags["ResolutionUnit"].value) == 3
    image = read_image(path)
    assert_same_calibration(image.calibration, calibration, "TIFF resolution")
    # Coarse pixels look like a print resolution in a plain TIFF: not read as a pixel size.
    coarse = write_tiff(
        tmp_path / "b.tif", pixels("uint8"), Calibration(50, 50, "µm"), imagej=False
    )
    image = read_image(coarse)
    assert not image.calibration.is_calibrated
    assert any("ignored" in note for note in image.notes)


def test_replaces_a_file_atomically(tmp_path):
    path = tmp_path / "a.tif"
    path.write_bytes(b"old")
    write_tiff(path, pixels("uint8"), Calibration(0.1, 0.1, "µm"))
    assert read_image(path).data.shape == (3, 6, 8)
    assert [p.name for p in tmp_path.iterdir()] == ["a.tif"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((4, 4), np.int16), "int16"),
        (np.zeros((4, 4), np.float64), "astype"),
        (np.zeros((1, 4, 4, 4), np.uint8), "RGB"),
        (np.zeros((1, 4, 4, 3), np.uint16), "RGB"),
        (np.zeros((1, 1, 4, 4, 3), np.uint8), "shape"),
        (np.zeros(4, np.uint8), "shape"),
        (np.zeros((0, 4), np.uint8), "empty"),
    ],
)
def test_unsupported_pixels_raise(tmp_path, data, message):
    with pytest.raises(TiffWriteError, match=message):
        write_tiff(tmp_path / "a.tif", data, Calibration.uncalibrated())
    assert not (tmp_path / "a.tif").exists()
