"""``measurer colors --background``: stained discs in a field filled with tissue to its edges."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from measurer.analysis.synthetic_detections import STAINS, TISSUE, tissue_scene
from measurer.cli.main import main


def rgb(color) -> str:
    return ",".join(str(round(v * 255)) for v in color)


@pytest.fixture
def tissue_file(tmp_path):
    """The full-field tissue scene as a file and, per disc, its stain and centroid (row, col)."""
    scene = tissue_scene()
    path = tmp_path / "tissue.png"
    Image.fromarray(scene.image).save(path)
    return path, sorted((stain, *centroid) for stain, _, centroid in scene.discs)


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_background_option_counts_the_stained_discs(tissue_file, capsys):
    tissue_file, truth = tissue_file
    classes = [x for name, c in STAINS.items() for x in ("--class", f"{name}={rgb(c)}")]
    code, out, _ = _run(capsys, "colors", tissue_file, *classes, "--json")
    assert code == 0 and json.loads(out)["counts"] == {"brown": 0, "blue": 0}  # the border
    background = ("--background", rgb(TISSUE))
    code, out, err = _run(capsys, "colors", tissue_file, *classes, *background, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {"objects", "counts"}
    assert data["counts"] == {"brown": 3, "blue": 4}
    assert set(data["objects"][0]) == {"class", "area", "centroid_x", "centroid_y", "bbox"}
    found = sorted((o["class"], o["centroid_y"], o["centroid_x"]) for o in data["objects"])
    for (label, y, x), (stain, row, col) in zip(found, truth, strict=True):
        assert label == stain and abs(y - row) < 1 and abs(x - col) < 1
    code, out, _ = _run(capsys, "colors", tissue_file, "--k", "2", *background)
    assert code == 0 and out.splitlines()[0] == "7 objects (c0: 3, c1: 4)"
    # Two background colours: the tissue and the blue stain leave the brown discs.
    two = (*background, "--background", rgb(STAINS["blue"]))
    code, out, _ = _run(capsys, "colors", tissue_file, "--k", "1", *two)
    assert code == 0 and out.splitlines()[0] == "3 objects (c0: 3)"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--background", "1,2"), "--background takes 3 comma-separated"),
        (("--background", "a,b,c"), "--background takes comma-separated"),
        (("--background", "1,-2,3"), "non-negative"),
        (("--background", "1,2,3", "--grid", "0,0,10,10,2,2"), "not --grid"),
    ],
)
def test_a_bad_background_exits_2_with_one_line(tissue_file, capsys, extra, message):
    code, out, err = _run(capsys, "colors", tissue_file[0], "--k", "2", *extra)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
