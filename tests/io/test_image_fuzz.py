"""Damaged files of every format: an ImageReadError or a valid image, never anything else.

Each small file gets 50 seeded mutations (random byte changes, and truncations at random
lengths). Reads run with a 1 MiB size guard, so a mutated header that claims a huge image is
refused instead of decoded; warnings of any kind are errors.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from measurer.io.images import ImageFile, ImageReadError, read_image

MUTATIONS = 50
GUARD = 2**20


def _sources(folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(7)
    grey = rng.integers(0, 256, (12, 16), dtype=np.uint8)
    rgb = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    files = {
        "png": (grey, {}),
        "palette.png": (Image.fromarray(grey).quantize(16), {}),
        "jpg": (rgb, {"quality": 90}),
        "bmp": (rgb, {}),
        "gif": (grey, {}),
    }
    paths = {}
    for name, (pixels, options) in files.items():
        paths[name] = folder / f"src.{name}"
        image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
        image.save(paths[name], **options)
    paths["rgb16.png"] = folder / "src.rgb16.png"
    cv2.imwrite(str(paths["rgb16.png"]), rgb.astype(np.uint16) * 257)
    stack = np.stack([grey, grey[::-1]])
    tiffs = {
        "tif": {"photometric": "minisblack"},
        "zlib.tif": {"photometric": "minisblack", "compression": "zlib"},
        "ij.tif": {"imagej": True, "resolution": (4, 2), "metadata": {"unit": "um"}},
        "ome.tif": {"ome": True, "metadata": {"PhysicalSizeX": 0.5, "PhysicalSizeXUnit": "µm"}},
    }
    for name, options in tiffs.items():
        paths[name] = folder / f"src.{name}"
        tifffile.imwrite(paths[name], stack, **options)
    paths["pgm"] = folder / "src.pgm"
    paths["pgm"].write_bytes(b"P5\n16 12\n65535\n" + grey.astype(">u2").tobytes())
    paths["ascii.ppm"] = folder / "src.ascii.ppm"
    paths["ascii.ppm"].write_text("P3 4 2 255\n" + " ".join(map(str, rgb[:2, :4].ravel())))
    return paths


def _mutants(data: bytes, rng: np.random.Generator) -> list[bytes]:
    mutants = []
    for index in range(MUTATIONS):
        if index % 3 == 2:
            mutants.append(data[: int(rng.integers(1, len(data)))])
            continue
        mutated = bytearray(data)
        for position in rng.integers(0, len(data), int(rng.integers(1, 9))):
            mutated[position] = int(rng.integers(0, 256))
        mutants.append(bytes(mutated))
    return mutants


def test_sources_are_readable(tmp_path):
    for name, path in _sources(tmp_path).items():
        assert read_image(path).data.size > 0, name


@pytest.mark.parametrize("seed", [0])
def test_damaged_files_fail_cleanly(tmp_path, seed):
    rng = np.random.default_rng(seed)
    outcomes = {"read": 0, "refused": 0}
    for name, source in _sources(tmp_path).items():
        suffix = "".join(source.suffixes)
        for number, data in enumerate(_mutants(source.read_bytes(), rng)):
            path = tmp_path / f"mutant{number}{suffix}"
            path.write_bytes(data)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    image = read_image(path, max_bytes=GUARD)
                except ImageReadError as exc:
                    message = str(exc)
                    assert "\n" not in message and str(path) in message, (name, message)
                    outcomes["refused"] += 1
                    continue
            assert isinstance(image, ImageFile), name
            assert image.data.shape == image.info.shape, (name, number)
            assert image.data.dtype == np.dtype(image.info.dtype), (name, number)
            assert not image.data.flags.writeable
            outcomes["read"] += 1
    # Both outcomes happen: byte changes in pixel data often leave a valid image.
    assert outcomes["read"] > 0 and outcomes["refused"] > 0, outcomes
