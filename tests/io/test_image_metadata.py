"""Reading image files: pixel size from metadata, real files, bad input and the size guard.

Formats, pixel types, memory mapping and the public API are in ``test_images.py``.
"""

from __future__ import annotations

import struct
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from test_images import png_bytes, read_quietly

from measurer.core.calibration import Calibration
from measurer.io.images import ImageReadError, read_image, read_info

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
RNG = np.random.default_rng(1234)


def tiff_header_bytes(width: int, height: int) -> bytes:
    """A little-endian TIFF whose only IFD claims a ``width`` × ``height`` 8-bit image."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1)]
    tags += [(273, 4, 200), (277, 3, 1), (278, 4, height), (279, 4, 16)]
    ifd = struct.pack("<H", len(tags))
    for code, kind, value in tags:
        packed = struct.pack("<HHI", code, kind, 1)
        ifd += packed + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    body = b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    return body.ljust(216, b"\x00")


# --- pixel size from metadata ------------------------------------------------------------------


def _calibration(path):
    return read_info(path).calibration


def test_imagej_calibration_anisotropic(tmp_path):
    path = tmp_path / "ij.tif"
    tifffile.imwrite(
        path,
        np.zeros((4, 4), np.uint8),
        imagej=True,
        resolution=(1 / 0.25, 1 / 0.5),
        metadata={"unit": "um"},
    )
    cal = _calibration(path)
    assert (cal.unit, cal.source, cal.detail) == ("µm", "metadata", "ImageJ TIFF")
    assert cal.pixel_width == pytest.approx(0.25) and cal.pixel_height == pytest.approx(0.5)


def test_imagej_pixel_unit_is_uncalibrated(tmp_path):
    path = tmp_path / "ij.tif"
    tifffile.imwrite(
        path,
        np.zeros((4, 4), np.uint8),
        imagej=True,
        resolution=(6.25, 6.25),
        metadata={"unit": "pixel"},
    )
    info = read_info(path)
    assert not info.calibration.is_calibrated and any("'pixel'" in n for n in info.notes)


def test_ome_calibration(tmp_path):
    path = tmp_path / "o.ome.tif"
    tifffile.imwrite(
        path,
        np.zeros((4, 4), np.uint16),
        ome=True,
        metadata={
            "PhysicalSizeX": 2.5,
            "PhysicalSizeXUnit": "nm",
            "PhysicalSizeY": 0.003,
            "PhysicalSizeYUnit": "µm",
        },
    )
    cal = _calibration(path)
    assert (cal.unit, cal.detail) == ("nm", "OME-TIFF")
    assert cal.pixel_width == pytest.approx(2.5) and cal.pixel_height == pytest.approx(3.0)


def test_zeiss_and_fei_sem_tags(tmp_path):
    zeiss = "DP_X\r\nX = 1\r\nAP_PIXEL_SIZE\r\nPixel Size = 2.5 nm\r\nAP_WD\r\nWD = 5 mm\r\n"
    fei = "[User]\nDate=1\n[Scan]\nPixelWidth=2.5e-09\nPixelHeight=3e-09\n"
    tifffile.imwrite(
        tmp_path / "z.tif", np.zeros((4, 4), np.uint8), extratags=[(34118, "s", 0, zeiss, True)]
    )
    tifffile.imwrite(
        tmp_path / "f.tif", np.zeros((4, 4), np.uint8), extratags=[(34682, "s", 0, fei, True)]
    )
    z, f = _calibration(tmp_path / "z.tif"), _calibration(tmp_path / "f.tif")
    assert (z.pixel_width, z.pixel_height, z.unit, z.detail) == (2.5, 2.5, "nm", "Zeiss SEM")
    assert (f.unit, f.detail) == ("nm", "FEI SEM")
    assert (f.pixel_width, f.pixel_height) == pytest.approx((2.5, 3.0))


@pytest.mark.parametrize(
    ("resolution", "unit", "expected"),
    [
        ((1e4, 2e4), "CENTIMETER", (1.0, 0.5)),  # 1 µm × 0.5 µm
        ((254000, 254000), "INCH", (0.1, 0.1)),
        ((72, 72), "INCH", None),
        ((300, 300), "CENTIMETER", None),  # 762 dpi: still a print resolution
        ((1e6, 1e6), "NONE", None),
    ],
)
def test_tiff_resolution_rule(tmp_path, resolution, unit, expected):
    path = tmp_path / "r.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8), resolution=resolution, resolutionunit=unit)
    info = read_info(path)
    if expected is None:
        assert info.calibration == Calibration.uncalibrated()
        assert any("dpi ignored" in n for n in info.notes) == (unit != "NONE")
    else:
        cal = info.calibration
        assert (cal.unit, cal.source, cal.detail) == ("µm", "metadata", "TIFF resolution")
        assert (cal.pixel_width, cal.pixel_height) == pytest.approx(expected)


def test_png_resolution_follows_the_same_rule(tmp_path):
    Image.new("L", (4, 3)).save(tmp_path / "fine.png", dpi=(25400, 25400))
    Image.new("L", (4, 3)).save(tmp_path / "coarse.png", dpi=(96, 96))
    assert _calibration(tmp_path / "fine.png").pixel_width == pytest.approx(1.0, rel=1e-5)
    assert _calibration(tmp_path / "fine.png").detail == "PNG resolution"
    assert not _calibration(tmp_path / "coarse.png").is_calibrated


# --- real files (skipped when the shared data folder is absent) --------------------------------


def _real(relative: str) -> Path:
    path = REAL / relative
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


def test_real_blobs_gif_raw_values():
    path = _real("imagej_samples/blobs.gif")
    image = read_quietly(path)
    with Image.open(path) as reference:  # mode "P": the raw indices
        np.testing.assert_array_equal(image.page(), np.asarray(reference))
    assert image.info.mode == "palette" and (image.width, image.height) == (256, 254)
    assert any("inverting" in note for note in image.notes)


def test_real_sem_tiffs_carry_no_calibration():
    for name in ("MoelleRat_06.tif", "MoelleRat_07.tif"):
        info = read_info(_real(f"axonseg_sem/{name}"))
        assert (info.width, info.height, info.mode) == (1280, 1024, "grey")
        assert not info.calibration.is_calibrated
        assert any("270.93 dpi ignored" in note for note in info.notes)


def test_real_imagej_hyperstack():
    info = read_info(_real("kymograph/mt.tif"))
    assert (info.pages, info.height, info.width) == (110, 166, 117)
    assert not info.calibration.is_calibrated


# --- bad input ---------------------------------------------------------------------------------


def _refused(path, match=None, **kwargs):
    with pytest.raises(ImageReadError, match=match) as caught:
        read_image(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"cannot read {str(path)!r}: ")
    return message


def _small_files(tmp_path) -> dict[str, Path]:
    array = RNG.integers(0, 256, (40, 50), dtype=np.uint8)
    files = {}
    for suffix in (".png", ".jpg", ".bmp", ".gif"):
        files[suffix] = tmp_path / f"s{suffix}"
        Image.fromarray(array).save(files[suffix])
    files[".tif"] = tmp_path / "s.tif"
    tifffile.imwrite(files[".tif"], array)
    files["zlib.tif"] = tmp_path / "z.tif"
    tifffile.imwrite(
        files["zlib.tif"], RNG.integers(0, 256, (40, 50), np.uint8), compression="zlib"
    )
    files[".pgm"] = tmp_path / "s.pgm"
    files[".pgm"].write_bytes(b"P5 50 40 255\n" + array.tobytes())
    return files


def test_missing_directory_empty_and_unknown(tmp_path):
    _refused(tmp_path / "nope.png", "no such file")
    _refused(tmp_path, "is a directory")
    (tmp_path / "empty.png").write_bytes(b"")
    _refused(tmp_path / "empty.png", "file is empty")
    (tmp_path / "notes.tif").write_text("just some text, not an image")
    _refused(tmp_path / "notes.tif", r"not an image in a supported format \(PNG, JPEG")
    with pytest.raises(ImageReadError, match="no such file"):
        read_info(tmp_path / "nope.png")


def test_truncated_files(tmp_path):
    for name, path in _small_files(tmp_path).items():
        data = path.read_bytes()
        cut = tmp_path / f"cut_{path.name}"
        cut.write_bytes(data[: len(data) * 2 // 3])
        assert _refused(cut).endswith(": file is truncated"), name
        assert read_info(cut).width == 50, name  # the header alone is intact and enough


def test_corrupt_payload(tmp_path):
    path = _small_files(tmp_path)["zlib.tif"]
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        start = tif.pages.first.dataoffsets[0]
    data[start : start + 40] = bytes(40)
    path.write_bytes(bytes(data))
    _refused(path, "corrupt")


def test_unsupported_modes(tmp_path):
    tifffile.imwrite(tmp_path / "cmyk.tif", np.zeros((4, 4, 4), np.uint8), photometric="separated")
    _refused(tmp_path / "cmyk.tif", "unsupported TIFF colour model SEPARATED")
    tifffile.imwrite(tmp_path / "cx.tif", np.zeros((4, 4), np.complex64))
    _refused(tmp_path / "cx.tif", "unsupported pixel type complex64")
    Image.new("CMYK", (4, 4)).save(tmp_path / "cmyk.jpg")
    _refused(tmp_path / "cmyk.jpg", "unsupported colour mode CMYK")


# --- size guard --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["png", "tif"])
def test_huge_header_refused_before_allocation(tmp_path, kind):
    path = tmp_path / f"huge.{kind}"
    data = (
        png_bytes(100_000, 100_000, 8, 0) if kind == "png" else tiff_header_bytes(100_000, 100_000)
    )
    path.write_bytes(data)
    tracemalloc.start()
    try:
        message = _refused(path, r"image too large: 1 × 100000 × 100000 uint8 .* \(max_bytes\)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak  # the 10 GB of pixels were never allocated
    assert "9.31 GiB" in message
    assert read_info(path, max_bytes=None).width == 100_000


def test_max_bytes_keyword(tmp_path):
    tifffile.imwrite(
        tmp_path / "a.tif", np.zeros((3, 10, 10), np.uint16), photometric="minisblack"
    )  # 600 bytes
    assert read_image(tmp_path / "a.tif", max_bytes=600).pages == 3
    _refused(tmp_path / "a.tif", "image too large", max_bytes=599)


def test_pillow_bomb_check_does_not_preempt_our_guard(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    for suffix in (".png", ".gif", ".jpg", ".bmp"):
        Image.new("L", (64, 64), 7).save(tmp_path / f"a{suffix}")
        image = read_quietly(tmp_path / f"a{suffix}")  # no DecompressionBombWarning/Error
        assert image.page().shape == (64, 64)
        assert len(np.unique(image.page())) == 1  # uniform (a GIF stores a palette index)
        assert not any("Bomb" in note for note in image.notes)


def test_gif_frame_beyond_its_screen_refused(tmp_path):
    screen = b"GIF89a" + struct.pack("<HHBBB", 4, 4, 0x80, 0, 0) + bytes(6)
    frame = b"," + struct.pack("<HHHHB", 0, 0, 60000, 60000, 0) + b"\x02\x02\x44\x01\x00;"
    (tmp_path / "bomb.gif").write_bytes(screen + frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _refused(tmp_path / "bomb.gif", "image too large")
