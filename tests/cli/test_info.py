"""``measurer info IMAGE``: header facts as JSON, one-line errors with exit code 2."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
import tifffile

from measurer.cli.main import main


def test_info_prints_size_type_and_pixel_size(tmp_path, capsys):
    path = tmp_path / "cal.tif"
    stack = np.zeros((3, 20, 30), np.uint16)
    tifffile.imwrite(
        path, stack, imagej=True, resolution=(1 / 0.25, 1 / 0.5), metadata={"unit": "um"}
    )
    assert main(["info", str(path)]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert captured.err == ""
    assert (data["width"], data["height"], data["pages"]) == (30, 20, 3)
    assert (data["dtype"], data["channels"], data["mode"]) == ("uint16", 1, "grey")
    size = data["pixel_size"]
    assert (size["x"], size["y"], size["unit"], size["source"]) == (0.25, 0.5, "µm", "metadata")
    assert captured.out.startswith('{\n  "')  # indented by 2


def test_info_uncalibrated_rgb(tmp_path, capsys):
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, np.zeros((4, 5, 3), np.uint8), photometric="rgb")
    assert main(["info", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["channels"] == 3 and data["mode"] == "rgb"
    assert {k: data["pixel_size"][k] for k in ("x", "y", "unit", "source")} == {
        "x": 1.0,
        "y": 1.0,
        "unit": "px",
        "source": "none",
    }


def test_info_describes_an_image_too_large_to_open(tmp_path, capsys):
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    assert main(["info", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["width"] == 100_000


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.tif", None, "no such file"),
        ("empty.png", b"", "file is empty"),
        ("text.tif", b"not an image at all", "not an image in a supported format"),
    ],
)
def test_info_bad_input(tmp_path, capsys, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["info", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert str(path) in captured.err and reason in captured.err


def test_info_subprocess_exit_code_and_one_line(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    result = subprocess.run(
        [sys.executable, "-m", "measurer", "info", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and str(bad) in result.stderr
