"""``measurer index FOLDER`` and ``measurer similar QUERY FOLDER``: output, options, errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from measurer.analysis.fingerprints import DEFAULT_THRESHOLD
from measurer.cli import similar
from measurer.cli.index import ProgressBar
from measurer.cli.main import main
from measurer.io.similarity_search import METHODS


def write(path: Path, image: np.ndarray, quality: int = 95) -> Path:
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    options = [cv2.IMWRITE_JPEG_QUALITY, quality] if path.suffix == ".jpg" else []
    assert cv2.imwrite(str(path), bgr, options)
    return path


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """coffee, coins, camera and a re-compressed, brighter copy of coffee; cache in tmp_path."""
    monkeypatch.setenv("MEASURER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "images"
    (root / "copies").mkdir(parents=True)
    write(root / "coffee.png", data.coffee())
    write(root / "coins.png", data.coins())
    write(root / "camera.jpg", data.camera())
    brighter = np.clip(data.coffee() * 1.2, 0, 255).astype(np.uint8)
    write(root / "copies" / "coffee_bright.jpg", brighter, quality=50)
    return root


def test_index_prints_a_summary_and_the_unreadable_files(folder, capsys):
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    assert main(["index", "images"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("images: 5 images (5 new, 0 changed, 0 removed, 1 unreadable) in ")
    assert lines[0].endswith(" images/s read")
    assert len(lines) == 2 and lines[1].startswith("  unreadable: broken.jpg: ")
    assert "truncated" in lines[1]
    assert err == ""  # no progress bar when stderr is not a terminal
    assert main(["index", "images"]) == 0
    again = capsys.readouterr().out.splitlines()
    assert "(0 new, 0 changed, 0 removed, 1 unreadable)" in again[0] and len(again) == 2


def test_similar_json_lists_path_and_score_best_first(folder, capsys):
    query = os.path.join("images", "copies", "coffee_bright.jpg")
    assert main(["similar", query, "images", "--json", "--min", "0"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert all(set(row) == {"path", "score"} for row in rows)
    assert rows[0]["path"] == os.path.join("images", "coffee.png")
    assert query not in [row["path"] for row in rows]  # the query itself is left out
    assert len(rows) == 3
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] >= 100 * DEFAULT_THRESHOLD > scores[1]
    assert "4 images (4 new" in captured.err  # indexed on the way, summary on stderr


def test_similar_default_threshold_and_table(folder, capsys):
    query = folder / "copies" / "coffee_bright.jpg"
    assert main(["similar", str(query), "images"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  score  path"
    assert len(lines) == 2 and lines[1].endswith("%  " + os.path.join("images", "coffee.png"))
    options = ["--method", "hash", "--min", "0", "--top", "2"]
    assert main(["similar", str(query), "images", *options]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    outside = write(folder.parent / "gravel.png", data.gravel())
    assert main(["similar", str(outside), "images"]) == 0
    assert capsys.readouterr().out.startswith("no image in images is at least 70 % similar")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.png", "images"], "cannot read 'missing.png': no such file"),
        (["images/coins.png", "nowhere"], "'nowhere' is not a folder"),
        (["images/coins.png", "images", "--top", "0"], "--top"),
        (["images/coins.png", "images", "--min", "150"], "--min"),
        (["images/coins.png", "images", "--method", "fft"], "invalid choice"),
        (["notes.png", "images"], "cannot read"),
    ],
)
def test_similar_errors_are_one_line_with_exit_code_2(folder, capsys, arguments, message):
    Path("notes.png").write_text("not an image")
    assert main(["similar", *arguments]) == 2
    err = capsys.readouterr().err
    assert err.startswith("measurer: error: ") and message in err and err.count("\n") == 1


def test_cli_choices_match_the_library():
    assert similar._METHODS == METHODS
    assert similar._DEFAULT_MIN == 100 * DEFAULT_THRESHOLD


def test_progress_bar_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bar = ProgressBar(stream)
    for done in (1, 2, 3):
        bar(done, 3, f"{done}.png")
    bar.finish()
    text = stream.getvalue()
    assert text.startswith("\rindexing [") and "] 3/3 " in text and text.endswith("images/s \n")
    quiet = io.StringIO()
    ProgressBar(quiet)(1, 1, "a.png")
    assert quiet.getvalue() == ""


def test_commands_load_no_qt():
    code = (
        "import sys, measurer.cli.index, measurer.cli.similar, measurer.io.similarity_search\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
