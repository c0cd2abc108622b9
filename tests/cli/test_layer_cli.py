"""``measurer layers`` and ``measurer scalebar``: options, JSON keys, units and errors."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import tifffile

from measurer.analysis.scalebar_label import tesseract_available
from measurer.analysis.synthetic_layers import DEJAVU_SANS, layered_image, scalebar_image
from measurer.cli.main import main

LINE_KEYS = {
    "line",
    "boundaries",
    "layers",
    "dark_count",
    "light_count",
    "period_px",
    "orientation_deg",
    "unit",
}
LAYER_KEYS = {"index", "kind", "start", "end", "width_px", "width", "resolved", "complete"}
BAR_KEYS = {"found", "x0", "y0", "x1", "y1", "length_px", "confidence", "label", "length"}
BAR_KEYS |= {"unit", "pixel_size"}


@pytest.fixture
def stack(tmp_path):
    image, truth = layered_image((240, 240), [8, 12, 10, 9, 11], angle_deg=30, blur=1.5, seed=1)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.clip(image * 255, 0, 255).astype(np.uint8))
    return path, truth


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_layers_along_a_line_in_physical_units(stack, capsys):
    path, truth = stack
    centre, normal = np.asarray(truth.origin), np.asarray(truth.normal)
    (r0, c0), (r1, c1) = centre - 100 * normal, centre + 100 * normal
    line = f"{c0},{r0},{c1},{r1}"
    code, out, err = _run(capsys, "layers", path, "--line", line, "--json")
    assert code == 0 and err == ""
    px = json.loads(out)
    assert set(px) == LINE_KEYS | {"profiles"}
    assert px["unit"] == "px" and (px["dark_count"], px["light_count"]) == (3, 2)
    assert px["line"] == pytest.approx([c0, r0, c1, r1])
    expected = truth.crossings((r0, c0), (r1, c1))
    positions = [b["position"] for b in px["boundaries"]]
    assert np.mean(np.abs(np.array(positions) - expected)) < 0.3
    for b in px["boundaries"]:  # x = column, y = row, on the line
        assert b["x"] == pytest.approx(c0 + (c1 - c0) * b["position"] / 200)
        assert b["y"] == pytest.approx(r0 + (r1 - r0) * b["position"] / 200)
    assert all(set(layer) == LAYER_KEYS for layer in px["layers"])
    assert abs(px["orientation_deg"] - 30) < 1.5
    assert len(px["profiles"]) == 1 and px["profiles"][0]["line"] == px["line"]
    code, out, _ = _run(
        capsys, "layers", path, "--line", line, "--pixel-size", "0.5", "--unit", "um", "--json"
    )
    um = json.loads(out)
    assert um["unit"] == "µm"
    for a, b in zip(px["layers"], um["layers"], strict=True):
        assert b["width"] == pytest.approx(a["width_px"] * 0.5)  # twice the pixel size...
    code, out, _ = _run(
        capsys, "layers", path, "--line", line, "--pixel-size", "1", "--unit", "um", "--json"
    )
    widths = [layer["width"] for layer in json.loads(out)["layers"]]
    assert widths == pytest.approx([2 * layer["width"] for layer in um["layers"]])  # ...twice


def test_layers_auto_profile_in_a_roi_with_parallel_profiles(stack, capsys):
    path, truth = stack
    code, out, _ = _run(
        capsys, "layers", path, "--roi", "20,20,200,200", "--auto", "--profiles", "4", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert abs(data["orientation_deg"] - truth.angle_deg) < 1.0
    assert (data["dark_count"], data["light_count"]) == (3, 2)
    assert len(data["profiles"]) == 4
    for profile in data["profiles"]:
        assert set(profile) == LINE_KEYS
        x0, y0, x1, y1 = profile["line"]
        assert min(x0, x1) >= 20 and max(x0, x1) <= 219 and 20 <= min(y0, y1) <= 219
    complete = [la for la in data["layers"] if la["complete"]]
    assert [la["kind"] for la in complete] == list(truth.kinds)
    assert all(la["resolved"] for la in complete)
    code, out, _ = _run(capsys, "layers", path, "--roi", "20,20,200,200", "--auto")
    assert code == 0 and "3 dark and 2 light complete layers" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--roi", "0,0,50,50"], "--roi needs --auto"),
        (["--line", "0,0,10,10", "--auto"], "--auto goes with --roi"),
        (["--line", "500,500,600,600"], "does not cross the image"),
        (["--line", "1,2,3"], "takes 4"),
        (["--roi", "200,200,100,100", "--auto"], "not inside the image"),
        (["--line", "0,0,100,100", "--width", "0"], "--width"),
        (["--line", "0,0,100,100", "--scalebar", "--pixel-size", "1", "--unit", "um"], "exclude"),
        (["--line", "0,0,100,100", "--scalebar"], "no scale bar"),
        (["--line", "0,0,100,100", "--unit", "um"], "--unit needs --pixel-size"),
    ],
)
def test_layers_errors_are_one_line(stack, capsys, argv, message):
    code, out, err = _run(capsys, "layers", stack[0], *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


@pytest.fixture
def bar_image(tmp_path):
    image, truth = scalebar_image(3, boxed=True, jpeg_quality=0)
    path = tmp_path / "bar.png"
    cv2.imwrite(str(path), image)
    return path, truth


def test_scalebar_json_with_known_length(bar_image, capsys):
    path, truth = bar_image
    code, out, _ = _run(capsys, "scalebar", path, "--length", "100", "--unit", "um", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == BAR_KEYS
    assert data["found"] is True
    assert data["length_px"] == pytest.approx(data["x1"] - data["x0"])
    assert data["length_px"] == pytest.approx(truth.length, abs=0.5)
    assert data["x0"] == pytest.approx(truth.x0, abs=0.5)
    assert data["y0"] == data["y1"] == pytest.approx(truth.row, abs=1)
    assert (data["length"], data["unit"]) == (100.0, "µm")
    assert data["pixel_size"] == pytest.approx(100 / data["length_px"])


def test_scalebar_label_read_when_tesseract_is_installed(tmp_path, capsys):
    if not DEJAVU_SANS.exists():
        pytest.skip("no TrueType font with the micro sign")
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (320, 200), 245)
    ImageDraw.Draw(page).rectangle((80, 150, 229, 155), fill=10)  # 150 px bar
    font = ImageFont.truetype(str(DEJAVU_SANS), 24)
    ImageDraw.Draw(page).text((110, 110), "50 µm", font=font, fill=10)
    path = tmp_path / "label.png"
    page.save(path)
    code, out, _ = _run(capsys, "scalebar", path, "--json")
    data = json.loads(out)
    assert code == 0 and data["found"]
    assert data["length_px"] == pytest.approx(150.0, abs=0.01)
    if tesseract_available():
        assert (data["length"], data["unit"]) == (50.0, "µm")
        assert data["pixel_size"] == pytest.approx(50 / 150, rel=1e-4)
        assert "50" in data["label"]
    else:
        assert data["label"] is data["length"] is data["pixel_size"] is None


def test_scalebar_none_found(tmp_path, capsys):
    image, _ = scalebar_image(5, bar=False)
    path = tmp_path / "plain.png"
    cv2.imwrite(str(path), image)
    code, out, _ = _run(capsys, "scalebar", path, "--json")
    data = json.loads(out)
    assert code == 0 and data["found"] is False
    assert set(data) == BAR_KEYS and all(data[k] is None for k in BAR_KEYS - {"found"})
    code, out, _ = _run(capsys, "scalebar", path)
    assert "no scale bar found" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--length", "10"], "--length and --unit go together"),
        (["--unit", "um"], "--length and --unit go together"),
        (["--length", "-1", "--unit", "um"], "positive"),
        (["--length", "1", "--unit", "furlong"], "unknown length unit"),
    ],
)
def test_scalebar_errors(bar_image, capsys, argv, message):
    code, _, err = _run(capsys, "scalebar", bar_image[0], *argv)
    assert code == 2 and message in err


def test_missing_file_is_a_one_line_error(tmp_path, capsys):
    code, _, err = _run(capsys, "scalebar", tmp_path / "nope.png")
    assert code == 2 and err.count("\n") == 1
