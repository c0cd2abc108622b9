"""Calibration: units, conversions, construction rules and their errors."""

import math

import pytest

from measurer.core.calibration import (
    UNIT_METRES,
    Calibration,
    convert_length,
    normalize_unit,
)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("um", "µm"),
        ("µm", "µm"),  # micro sign U+00B5
        ("\u03bcm", "µm"),  # Greek mu U+03BC
        ("Microns", "µm"),
        ("micrometre", "µm"),
        (" nm ", "nm"),
        ("nanometers", "nm"),
        ("MM", "mm"),
        ("centimetre", "cm"),
        ("meters", "m"),
        ("inch", "in"),
        ("pixels", "px"),
    ],
)
def test_normalize_unit_spellings(spelling, canonical):
    assert normalize_unit(spelling) == canonical


@pytest.mark.parametrize("bad", ["furlong", "", "µ", "px2"])
def test_normalize_unit_rejects_unknown_units(bad):
    with pytest.raises(ValueError, match="unknown length unit"):
        normalize_unit(bad)


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1.0, "mm", "µm", 1000.0),
        (2500.0, "nm", "µm", 2.5),
        (1.0, "in", "mm", 25.4),
        (3.0, "cm", "m", 0.03),
        (7.0, "um", "micron", 7.0),
        (5.0, "px", "pixels", 5.0),
    ],
)
def test_convert_length(value, source, target, expected):
    assert convert_length(value, source, target) == pytest.approx(expected, rel=1e-12)


def test_convert_length_refuses_pixels_to_units():
    with pytest.raises(ValueError, match="without a calibration"):
        convert_length(1.0, "px", "µm")
    with pytest.raises(ValueError, match="without a calibration"):
        convert_length(1.0, "mm", "px")


def test_every_unit_round_trips_through_metres():
    for unit in UNIT_METRES:
        assert convert_length(convert_length(1.25, unit, "m"), "m", unit) == pytest.approx(1.25)


def test_uncalibrated_is_one_pixel():
    cal = Calibration.uncalibrated()
    assert (cal.pixel_width, cal.pixel_height, cal.unit, cal.source) == (1.0, 1.0, "px", "none")
    assert not cal.is_calibrated
    assert cal.area_unit == "px²"
    assert cal.describe() == "uncalibrated (px)"
    assert cal.to_unit("pixel") is cal


def test_uncalibrated_refuses_physical_units_and_other_sizes():
    with pytest.raises(ValueError, match="uncalibrated image cannot be expressed"):
        Calibration.uncalibrated().to_unit("µm")
    with pytest.raises(ValueError, match="pixel size of 1 px"):
        Calibration(2.0, 2.0, "px")


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [(0.0, 1.0, "pixel_width"), (1.0, -2.0, "pixel_height"), (math.nan, 1.0, "pixel_width")],
)
def test_pixel_size_must_be_positive_and_finite(width, height, message):
    with pytest.raises(ValueError, match=message):
        Calibration(width, height, "µm")


def test_unknown_source_refused():
    with pytest.raises(ValueError, match="calibration source"):
        Calibration(1.0, 1.0, "µm", "guess")


def test_anisotropic_calibration():
    cal = Calibration(2.0, 5.0, "um", "metadata", "OCT")
    assert cal.unit == "µm"
    assert cal.scale() == (5.0, 2.0)  # (row, col) = (y, x)
    assert not cal.is_isotropic
    assert cal.area_unit == "µm²"
    assert cal.describe() == "2 × 5 µm/px (x × y) (metadata: OCT)"


def test_to_unit_scales_both_axes_and_keeps_source():
    cal = Calibration(0.5, 2.0, "µm", "metadata", "ImageJ TIFF").to_unit("nm")
    assert (cal.pixel_width, cal.pixel_height, cal.unit) == pytest.approx((500.0, 2000.0, "nm"))
    assert (cal.source, cal.detail) == ("metadata", "ImageJ TIFF")
    assert cal.to_unit("mm").pixel_width == pytest.approx(0.0005, rel=1e-12)


def test_from_known_distance():
    cal = Calibration.from_known_distance(120.0, 30.0, "microns")
    assert (cal.pixel_width, cal.pixel_height, cal.unit) == (0.25, 0.25, "µm")
    assert cal.source == "manual"
    assert cal.detail == "120 px = 30 µm"
    assert cal.is_isotropic
    oct_like = Calibration.from_known_distance(
        100.0, 50.0, "µm", aspect_ratio=4.0, source="scalebar"
    )
    assert (oct_like.pixel_width, oct_like.pixel_height) == (0.5, 2.0)
    assert oct_like.source == "scalebar"


@pytest.mark.parametrize(("length_px", "known"), [(0.0, 1.0), (10.0, 0.0), (-5.0, 2.0)])
def test_from_known_distance_needs_positive_lengths(length_px, known):
    with pytest.raises(ValueError, match="must both be positive"):
        Calibration.from_known_distance(length_px, known, "µm")


def test_from_known_distance_unknown_unit():
    with pytest.raises(ValueError, match="unknown length unit"):
        Calibration.from_known_distance(10.0, 1.0, "parsec")


def test_dict_round_trip_and_malformed_input():
    cal = Calibration(0.1, 0.3, "mm", "scalebar", "bar of 200 px")
    assert Calibration.from_dict(cal.to_dict()) == cal
    with pytest.raises(ValueError, match="malformed calibration"):
        Calibration.from_dict({"pixel_width": 1.0})
    with pytest.raises(ValueError, match="malformed calibration"):
        Calibration.from_dict(None)
