"""Scale bar detection, label parsing, OCR and the metadata cross-check."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from measurer.analysis.scalebar import detect_scale_bar
from measurer.analysis.scalebar_label import (
    ScaleLabel,
    compare_pixel_size,
    parse_scale_label,
    read_scale_label,
    tesseract_available,
)
from measurer.analysis.synthetic_layers import DEJAVU_SANS, micrograph_texture, scalebar_image
from measurer.io.samples import sample_paths

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "axonseg_sem"
needs_tesseract = pytest.mark.skipif(not tesseract_available(), reason="Tesseract not installed")


def _check(image, truth):
    result = detect_scale_bar(image)
    assert result.found, truth
    bar = result.bar
    assert abs(bar.row - truth.row) <= 1.0
    assert bar.polarity == truth.polarity
    assert bar.length == pytest.approx(truth.length, abs=0.5)
    assert bar.x0 == pytest.approx(truth.x0, abs=0.5)
    assert result.candidates[0] is bar
    return bar


@pytest.mark.parametrize("seed", range(24))
def test_boxed_bars_anywhere_with_ticks_and_jpeg(seed):
    # random corner or place, polarity, length, height, ticks, label side, JPEG quality
    _check(*scalebar_image(seed, boxed=True))


@pytest.mark.parametrize("seed", range(24))
def test_bars_straight_on_the_micrograph(seed):
    _check(*scalebar_image(seed, boxed=False))


@pytest.mark.parametrize("seed", range(24))
def test_images_without_a_bar_say_so(seed):
    image, truth = scalebar_image(seed, bar=False)
    assert not truth.present
    result = detect_scale_bar(image)
    assert not result.found and result.bar is None
    assert all(c.confidence < 0.5 for c in result.candidates)


def test_length_is_between_outer_edges_and_input_is_untouched():
    image = np.full((120, 300), 200, np.uint8)
    image[100:106, 150:250] = 0  # columns 150..249: 100 px
    copy = image.copy()
    bar = detect_scale_bar(image).bar
    assert (bar.x0, bar.x1, bar.length) == pytest.approx((149.5, 249.5, 100.0), abs=1e-6)
    assert (bar.top, bar.bottom, bar.row, bar.height) == (100, 105, 102.5, 6)
    assert bar.polarity == "dark" and bar.confidence > 0.9
    assert np.array_equal(image, copy)
    colour = np.repeat(image[..., None], 3, axis=2)
    assert detect_scale_bar(colour).bar.length == pytest.approx(100.0, abs=1e-6)
    assert detect_scale_bar(image.astype(np.float32) / 255).bar.length == pytest.approx(100.0)


def test_a_bar_touching_the_border_or_a_flat_image_is_not_a_bar():
    image = np.full((100, 200), 30, np.uint8)
    assert not detect_scale_bar(image).found
    image[80:86, 0:120] = 255  # runs out of the image: its end cannot be measured
    assert not detect_scale_bar(image).found
    with pytest.raises(ValueError):
        detect_scale_bar(np.zeros((4, 100)))


@pytest.mark.parametrize(("name", "length"), [("MoelleRat_06.tif", 107), ("MoelleRat_07.tif", 161)])
def test_real_sem_data_strip_bars(name, length):
    path = REAL / name
    if not path.exists():
        pytest.skip("real SEM images not available")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    bar = detect_scale_bar(image).bar
    assert bar.length == pytest.approx(length, abs=0.5)
    assert bar.x1 == pytest.approx(709.5, abs=0.5)  # ends at column 709 (ImageJ: x = 710)
    assert bar.polarity == "light"
    if tesseract_available():
        label = read_scale_label(image, bar.top, bar.bottom, bar.x0, bar.x1)
        assert (label.value, label.unit) == (10.0, "µm")  # Tesseract reads "10pm"


@pytest.mark.parametrize(
    ("text", "value", "unit", "certain"),
    [
        ("500 nm", 500, "nm", True),
        ("1 µm", 1, "µm", True),
        ("2 um", 2, "µm", True),
        ("10 μm", 10, "µm", True),  # Greek mu
        ("10µ m", 10, "µm", True),
        ("0,5 mm", 0.5, "mm", True),
        ("5 microns", 5, "µm", True),
        ("1O µm", 10, "µm", True),  # letter O for zero
        ("l00 nm", 100, "nm", True),
        ("10pm", 10, "µm", False),  # Tesseract's reading of the real "10µm"
        ("10 'm", 10, "µm", False),
        ("200nrn", 200, "nm", False),
        ("10 m", 10, "µm", False),
        ("17 µm", 17, "µm", False),  # not a usual bar length
        ("10µm JEOL", 10, "µm", True),
        ("Tum", 1, "µm", False),  # Tesseract's reading of "1 um" in Pillow's default font
        ("l nm", 1, "nm", False),
        ("|µm", 1, "µm", False),
    ],
)
def test_labels_are_parsed_tolerantly(text, value, unit, certain):
    label = parse_scale_label(text)
    assert (label.value, label.unit, label.certain) == (value, unit, certain)
    assert label.to_dict()["text"] == text.strip()


@pytest.mark.parametrize("text", ["", "X 1,000", "5.0kV", "SEM", "0 µm", "Tumor", "The um", "ATum"])
def test_text_without_a_length_gives_none(text):
    assert parse_scale_label(text) is None


def test_metadata_cross_check():
    check = compare_pixel_size(0.0935, "um", 107, 10, "µm")
    assert check.agree and check.scale_bar == pytest.approx(10 / 107)
    far = compare_pixel_size(0.1, "µm", 107, 10, "µm")
    assert not far.agree and far.difference == pytest.approx(10 / 107 / 0.1 - 1)
    assert "disagree by 6.5 %" in far.message()
    units = compare_pixel_size(93.46, "nm", 107, 10, "um")
    assert units.agree and units.unit == "nm"
    assert not compare_pixel_size(0.0935, "µm", 107, 10, "µm", tolerance=0.0001).agree
    with pytest.raises(ValueError):
        compare_pixel_size(0.1, "parsec", 107, 10, "µm")
    with pytest.raises(ValueError):
        compare_pixel_size(0.1, "µm", 0, 10, "µm")


def _labelled(text: str, seed: int) -> tuple[np.ndarray, object]:
    """A boxed black bar with ``text`` rendered above it in a clear font."""
    image = (micrograph_texture((200, 320), np.random.default_rng(seed)) * 255).astype(np.uint8)
    image[100:170, 60:260] = 245
    image[150:156, 80:230] = 10
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(DEJAVU_SANS), 24)
    page = Image.fromarray(image)
    ImageDraw.Draw(page).text((110, 110), text, font=font, fill=10)
    return np.asarray(page), detect_scale_bar(np.asarray(page)).bar


@needs_tesseract
@pytest.mark.parametrize(
    ("text", "value", "unit"), [("500 nm", 500, "nm"), ("10 µm", 10, "µm"), ("2 um", 2, "µm")]
)
def test_rendered_labels_are_read(text, value, unit):
    if not DEJAVU_SANS.exists():
        pytest.skip("no TrueType font with the micro sign")
    image, bar = _labelled(text, seed=len(text))
    assert bar.length == pytest.approx(150.0, abs=0.5)
    label = read_scale_label(image, bar.top, bar.bottom, bar.x0, bar.x1)
    assert isinstance(label, ScaleLabel)
    assert (label.value, label.unit) == (value, unit)


@needs_tesseract
def test_the_bundled_sample_label_is_read_as_a_guess():
    # Dark stripes beside the boxed label are not glyphs; Tesseract reads "1 um" as "Tum".
    image = cv2.imread(str(sample_paths()["layered_micrograph.png"]), cv2.IMREAD_GRAYSCALE)
    bar = detect_scale_bar(image).bar
    label = read_scale_label(image, bar.top, bar.bottom, bar.x0, bar.x1)
    assert (label.value, label.unit, label.certain) == (1.0, "µm", False)
