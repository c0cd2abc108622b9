"""Reading image files: every format and pixel type, memory mapping, the public API.

Pixel size from metadata, real files, bad input and the size guard are in
``test_image_metadata.py``.
"""

from __future__ import annotations

import hashlib
import json
import struct
import warnings
import zlib

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from measurer.io import images
from measurer.io.images import ImageReadError, file_checksum, read_image, read_info

RNG = np.random.default_rng(1234)


def png_bytes(width: int, height: int, depth: int, colour: int, raw: bytes = b"") -> bytes:
    """A PNG built chunk by chunk (for headers Pillow cannot write); ``raw`` = filtered rows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(raw)) if raw else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


def read_quietly(path, **kwargs):
    """read_image with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_image(path, **kwargs)


def is_memmap(arr: np.ndarray) -> bool:
    while isinstance(arr, np.ndarray):
        if isinstance(arr, np.memmap):
            return True
        arr = arr.base
    return False


# --- formats and pixel types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "array", "mode"),
    [
        (".png", RNG.integers(0, 256, (7, 9), dtype=np.uint8), "grey"),
        (".png", RNG.integers(0, 65536, (7, 9), dtype=np.uint16), "grey"),
        (".png", RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8), "rgb"),
        (".png", RNG.integers(0, 256, (7, 9, 4), dtype=np.uint8), "rgba"),
        (".bmp", RNG.integers(0, 256, (7, 9), dtype=np.uint8), "grey"),
        (".bmp", RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8), "rgb"),
    ],
)
def test_pillow_formats_exact(tmp_path, suffix, array, mode):
    path = tmp_path / f"img{suffix}"
    Image.fromarray(array).save(path)
    image = read_quietly(path)
    assert image.info.mode == mode and image.dtype == array.dtype
    assert image.data.shape == (1, *array.shape)
    np.testing.assert_array_equal(image.page(0), array)


@pytest.mark.parametrize("channels", [3, 4])
def test_png_16bit_colour_exact(tmp_path, channels):
    array = RNG.integers(0, 65536, (6, 5, channels), dtype=np.uint16)
    path = tmp_path / "c16.png"
    cv2.imwrite(str(path), array[..., [2, 1, 0, 3][:channels]])  # OpenCV writes BGR(A)
    image = read_quietly(path)
    assert image.info.mode == ("rgb" if channels == 3 else "rgba")
    np.testing.assert_array_equal(image.page(), array)


def test_png_16bit_grey_alpha_keeps_grey(tmp_path):
    pixels = np.array([[[1000, 60000], [2000, 50000], [65535, 0]]], dtype=">u2")
    path = tmp_path / "ga16.png"
    path.write_bytes(png_bytes(3, 1, 16, 4, b"\x00" + pixels.tobytes()))
    image = read_quietly(path)
    np.testing.assert_array_equal(image.page(), [[1000, 2000, 65535]])
    assert image.dtype == np.uint16 and "alpha channel dropped" in image.notes


@pytest.mark.parametrize("suffix", [".png", ".bmp"])
def test_one_bit_images_read_as_0_255(tmp_path, suffix):
    bits = RNG.integers(0, 2, (8, 10)).astype(bool)
    path = tmp_path / f"bits{suffix}"
    Image.fromarray(bits).save(path)
    image = read_quietly(path)
    np.testing.assert_array_equal(image.page(), bits.astype(np.uint8) * 255)
    assert any("0/255" in note for note in image.notes)


def test_two_bit_grey_png_is_scaled_with_a_note(tmp_path):
    (tmp_path / "g2.png").write_bytes(png_bytes(4, 1, 2, 0, b"\x00" + bytes([0b00011011])))
    image = read_quietly(tmp_path / "g2.png")
    np.testing.assert_array_equal(image.page(), [[0, 85, 170, 255]])
    assert "2-bit grey PNG scaled to 0-255 by the decoder" in image.notes


@pytest.mark.parametrize("shape", [(16, 24), (16, 24, 3)])
def test_jpeg_matches_its_decoder(tmp_path, shape):
    array = np.full(shape, 100, np.uint8)
    array[4:12, 8:16] = 180
    path = tmp_path / "img.jpg"
    Image.fromarray(array).save(path, quality=100)
    image = read_quietly(path)
    with Image.open(path) as reference:
        np.testing.assert_array_equal(image.page(), np.asarray(reference))
    assert np.abs(image.page().astype(int) - array).max() <= 3  # lossy, but barely at q=100


def test_gif_with_inverting_palette_keeps_raw_indices(tmp_path):
    indices = RNG.integers(0, 256, (10, 12), dtype=np.uint8)
    gif = Image.fromarray(indices, "P")
    gif.putpalette([255 - i for i in range(256) for _ in range(3)])
    path = tmp_path / "inv.gif"
    gif.save(path, optimize=False)  # keep the palette order
    image = read_quietly(path)
    np.testing.assert_array_equal(image.page(), indices)
    assert image.info.mode == "palette"
    assert any("raw index values" in n and "inverting" in n for n in image.notes)


def test_gif_with_colour_palette_and_frames(tmp_path):
    frames = [Image.fromarray(np.full((4, 5), v, np.uint8), "P") for v in (3, 7)]
    for frame in frames:
        frame.putpalette([(i * 7) % 256 for i in range(768)])
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], optimize=False)
    image = read_quietly(path)
    assert image.pages == 1 and np.all(image.page() == 3)
    assert "2 frames: only the first is read" in image.notes
    assert any("colour lookup table" in note for note in image.notes)


@pytest.mark.parametrize(
    "dtype", ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"]
)
def test_tiff_pixel_types_exact(tmp_path, dtype):
    array = RNG.normal(0, 1000, (6, 7)) if dtype.startswith("f") else RNG.integers(0, 120, (6, 7))
    array = array.astype(dtype)
    tifffile.imwrite(tmp_path / "t.tif", array)
    image = read_quietly(tmp_path / "t.tif")
    assert image.info.dtype == dtype and image.info.mode == "grey"
    np.testing.assert_array_equal(image.page(), array)


def test_tiff_conversions_are_noted(tmp_path):
    tifffile.imwrite(tmp_path / "h.tif", np.array([[0.5, -2.0]], np.float16))
    half = read_quietly(tmp_path / "h.tif")
    assert half.dtype == np.float32 and half.page().tolist() == [[0.5, -2.0]]
    assert "float16 pixels read as float32" in half.notes
    bits = RNG.integers(0, 2, (5, 9)).astype(bool)
    tifffile.imwrite(tmp_path / "b.tif", bits)
    np.testing.assert_array_equal(read_quietly(tmp_path / "b.tif").page(), bits * 255)


@pytest.mark.parametrize(
    ("shape", "dtype", "kwargs", "mode"),
    [
        ((5, 6, 3), np.uint8, {"photometric": "rgb"}, "rgb"),
        ((5, 6, 3), np.uint16, {"photometric": "rgb", "compression": "zlib"}, "rgb"),
        ((5, 6, 4), np.uint8, {"photometric": "rgb", "extrasamples": ["unassalpha"]}, "rgba"),
    ],
)
def test_tiff_colour_exact(tmp_path, shape, dtype, kwargs, mode):
    array = RNG.integers(0, 250, shape).astype(dtype)
    tifffile.imwrite(tmp_path / "c.tif", array, **kwargs)
    image = read_quietly(tmp_path / "c.tif")
    assert image.info.mode == mode and image.channels == shape[-1]
    np.testing.assert_array_equal(image.page(), array)


def test_tiff_planar_rgb_comes_out_interleaved(tmp_path):
    planes = RNG.integers(0, 256, (3, 5, 6), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "p.tif", planes, photometric="rgb", planarconfig="separate")
    image = read_quietly(tmp_path / "p.tif")
    np.testing.assert_array_equal(image.page(), np.moveaxis(planes, 0, -1))


@pytest.mark.parametrize(
    "kwargs", [{}, {"compression": "zlib"}, {"bigtiff": True}, {"byteorder": ">"}]
)
def test_tiff_stack_pages(tmp_path, kwargs):
    stack = RNG.integers(0, 60000, (4, 5, 6), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack", **kwargs)
    image = read_quietly(tmp_path / "s.tif")
    assert image.pages == 4 and image.dtype == np.uint16
    np.testing.assert_array_equal(image.data, stack)
    np.testing.assert_array_equal(image.page(2), stack[2])
    np.testing.assert_array_equal(image.page(-1), stack[3])
    with pytest.raises(IndexError):
        image.page(4)


def test_imagej_hyperstack_flattens_in_file_order(tmp_path):
    stack = RNG.integers(0, 256, (2, 3, 2, 5, 6), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "h.tif", stack, imagej=True, metadata={"axes": "TZCYX"})
    image = read_quietly(tmp_path / "h.tif")
    np.testing.assert_array_equal(image.data, stack.reshape(12, 5, 6))
    assert "TZCYX stack read as 12 pages" in image.notes


def test_tiff_extra_grey_samples_become_pages(tmp_path):
    array = RNG.integers(0, 256, (5, 6, 2), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "g.tif", array, photometric="minisblack", planarconfig="contig")
    image = read_quietly(tmp_path / "g.tif")
    np.testing.assert_array_equal(image.data, np.moveaxis(array, -1, 0))


def test_tiff_palette_identity_is_grey_inverted_is_palette(tmp_path):
    indices = RNG.integers(0, 256, (5, 6), dtype=np.uint8)
    ramp = np.tile(np.arange(256, dtype=np.uint16) * 257, (3, 1))
    tifffile.imwrite(tmp_path / "i.tif", indices, photometric="palette", colormap=ramp)
    tifffile.imwrite(tmp_path / "v.tif", indices, photometric="palette", colormap=ramp[:, ::-1])
    identity, inverted = read_quietly(tmp_path / "i.tif"), read_quietly(tmp_path / "v.tif")
    np.testing.assert_array_equal(identity.page(), indices)
    np.testing.assert_array_equal(inverted.page(), indices)
    assert (identity.info.mode, inverted.info.mode) == ("grey", "palette")
    assert any("inverting" in note for note in inverted.notes)


@pytest.mark.parametrize(
    ("magic", "maxval", "shape"),
    [("P5", 255, (4, 5)), ("P5", 65535, (4, 5)), ("P5", 4095, (4, 5)), ("P6", 255, (4, 5, 3))],
)
def test_binary_pgm_ppm_keep_raw_values(tmp_path, magic, maxval, shape):
    array = RNG.integers(0, maxval + 1, shape).astype(np.uint8 if maxval < 256 else np.uint16)
    stored = array.astype(">u2") if maxval > 255 else array
    path = tmp_path / ("a.pgm" if magic == "P5" else "a.ppm")
    path.write_bytes(
        f"{magic}\n# comment\n{shape[1]} {shape[0]}\n{maxval}\n".encode() + stored.tobytes()
    )
    image = read_quietly(path)
    assert image.info.format == ("PGM" if magic == "P5" else "PPM")
    np.testing.assert_array_equal(image.page(), array)
    assert image.dtype == array.dtype
    assert any("not rescaled" in n for n in image.notes) == (maxval == 4095)


def test_ascii_pgm_ppm(tmp_path):
    (tmp_path / "a.pgm").write_text("P2\n3 2\n1000\n0 1 2\n999 1000 7\n")
    np.testing.assert_array_equal(
        read_quietly(tmp_path / "a.pgm").page(), [[0, 1, 2], [999, 1000, 7]]
    )
    (tmp_path / "a.ppm").write_text("P3 1 1 255 10 20 30")
    np.testing.assert_array_equal(read_quietly(tmp_path / "a.ppm").page(), [[[10, 20, 30]]])


def test_wrong_suffix_is_read_by_content_with_a_note(tmp_path):
    array = RNG.integers(0, 256, (4, 5), dtype=np.uint8)
    Image.fromarray(array).save(tmp_path / "real.png")
    (tmp_path / "fake.tif").write_bytes((tmp_path / "real.png").read_bytes())
    image = read_quietly(tmp_path / "fake.tif")
    assert image.info.format == "PNG"
    np.testing.assert_array_equal(image.page(), array)
    assert "content is PNG although the name ends in '.tif': read as PNG" in image.notes


# --- memory mapping ----------------------------------------------------------------------------


def test_memmap_modes(tmp_path, monkeypatch):
    stack = RNG.integers(0, 60000, (3, 20, 30), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "m.tif", stack, photometric="minisblack")
    mapped = read_quietly(tmp_path / "m.tif", memmap=True)
    loaded = read_quietly(tmp_path / "m.tif", memmap=False)
    assert is_memmap(mapped.data) and not is_memmap(loaded.data)
    np.testing.assert_array_equal(mapped.data, stack)
    for image in (mapped, loaded):
        assert not image.data.flags.writeable
    assert not is_memmap(read_quietly(tmp_path / "m.tif").data)  # small: loaded
    monkeypatch.setattr(images, "MEMMAP_THRESHOLD", stack.nbytes)
    assert is_memmap(read_quietly(tmp_path / "m.tif").data)  # large enough: mapped


def test_memmap_impossible_is_noted(tmp_path):
    tifffile.imwrite(tmp_path / "z.tif", np.ones((20, 30), np.uint8), compression="zlib")
    image = read_quietly(tmp_path / "z.tif", memmap=True)
    assert not is_memmap(image.data) and np.all(image.data == 1)
    assert any(note.startswith("not memory-mapped") for note in image.notes)
    (tmp_path / "a.pgm").write_bytes(b"P5 3 2 255\n" + bytes(range(6)))
    pgm = read_quietly(tmp_path / "a.pgm", memmap=True)
    assert is_memmap(pgm.data) and pgm.page().tolist() == [[0, 1, 2], [3, 4, 5]]


# --- API ---------------------------------------------------------------------------------------


def test_info_to_dict_and_properties(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((2, 5, 6, 3), np.uint8), photometric="rgb")
    image = read_quietly(tmp_path / "a.tif")
    info = read_info(tmp_path / "a.tif")
    assert info == image.info
    data = json.loads(json.dumps(info.to_dict()))
    assert {k: data[k] for k in ("width", "height", "pages", "dtype", "channels", "mode")} == {
        "width": 6,
        "height": 5,
        "pages": 2,
        "dtype": "uint8",
        "channels": 3,
        "mode": "rgb",
    }
    assert data["pixel_size"] == {"x": 1.0, "y": 1.0, "unit": "px", "source": "none", "detail": ""}
    assert (image.width, image.height, image.pages, image.channels) == (6, 5, 2, 3)
    assert image.path == tmp_path / "a.tif" and image.dtype == np.uint8
    assert image.data.shape == info.shape == (2, 5, 6, 3) and info.nbytes == 180
    assert image.page(1).shape == (5, 6, 3)


def test_file_checksum(tmp_path):
    path = tmp_path / "x.bin"
    payload = RNG.bytes(3 * 2**20 + 17)  # more than one chunk
    path.write_bytes(payload)
    assert file_checksum(path) == "sha256:" + hashlib.sha256(payload).hexdigest()
    with pytest.raises(ImageReadError, match="cannot read"):
        file_checksum(tmp_path / "missing.png")


def test_supported_suffixes():
    assert {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".gif"} <= set(
        images.SUPPORTED_SUFFIXES
    )
    assert all(s == s.lower() and s.startswith(".") for s in images.SUPPORTED_SUFFIXES)
