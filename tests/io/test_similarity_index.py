"""Folder index and similar-image search: edited copies find their originals, unrelated images
stay below the default threshold, incremental updates, unreadable files, cache location."""

from __future__ import annotations

import os
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from skimage import data, transform

from measurer.analysis.fingerprints import DEFAULT_THRESHOLD
from measurer.io.images import ImageReadError
from measurer.io.reduced import read_reduced, read_reduced_sizes
from measurer.io.similarity_index import (
    MAX_WORKERS,
    SimilarityError,
    SimilarityIndex,
    default_cache_dir,
    default_workers,
)
from measurer.io.similarity_search import search

THRESHOLD = 100 * DEFAULT_THRESHOLD
# Each original and the edit of it that the folder also holds.
EDITS = {
    "camera": "rotated",
    "astronaut": "jpeg50",
    "coffee": "brighter",
    "chelsea": "darker",
    "rocket": "cropped",
    "coins": "rotated",
    "moon": "noisy",
    "page": "resized",
    "text": "cropped",
    "brick": "noisy",
    "grass": "resized",
    "gravel": "cropped",
}


def write(path: Path, image: np.ndarray, quality: int = 95) -> Path:
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    options = [cv2.IMWRITE_JPEG_QUALITY, quality] if path.suffix == ".jpg" else []
    assert cv2.imwrite(str(path), bgr, options)
    return path


def edited(image: np.ndarray, edit: str, rng: np.random.Generator) -> np.ndarray:
    rows, cols = image.shape[:2]
    values = image.astype(np.float32)
    if edit == "resized":
        return cv2.resize(image, (cols * 2 // 3, rows * 2 // 3), interpolation=cv2.INTER_AREA)
    if edit in ("brighter", "darker"):
        return np.clip(values * (1.2 if edit == "brighter" else 0.8), 0, 255).astype(np.uint8)
    if edit == "cropped":  # 5 % off every side: 10 % of width and height
        return image[rows // 20 : rows - rows // 20, cols // 20 : cols - cols // 20]
    if edit == "rotated":  # black corners
        turned = transform.rotate(image, 5, mode="constant", preserve_range=True)
        return np.round(turned).astype(np.uint8)
    if edit == "noisy":
        return np.clip(values + rng.normal(0, 15, image.shape), 0, 255).astype(np.uint8)
    return image  # jpeg50: only re-compressed


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """12 varied originals (PNG, a grey JPEG, a 16-bit TIFF) and one edited copy of each."""
    root = tmp_path_factory.mktemp("images")
    (root / "edits").mkdir()
    rng = np.random.default_rng(7)
    for name, edit in EDITS.items():
        image = getattr(data, name)()
        if name == "camera":
            write(root / "camera.jpg", image)
        elif name == "moon":
            tifffile.imwrite(root / "moon.tif", image.astype(np.uint16) * 257)
        else:
            write(root / f"{name}.png", image)
        suffix = "jpg" if edit == "jpeg50" else "png"
        write(root / "edits" / f"{name}_{edit}.{suffix}", edited(image, edit, rng), quality=50)
    return root


@pytest.fixture(scope="module")
def index(folder, tmp_path_factory):
    with SimilarityIndex(folder, cache_dir=tmp_path_factory.mktemp("cache")) as opened:
        update = opened.update()
        assert (update.images, update.added, update.errors) == (24, 24, ())
        yield opened


@pytest.fixture(scope="module")
def rankings(index, folder) -> dict[str, list]:
    """Default search (auto, all scores) of every image of the folder."""
    queries = sorted(p for p in folder.rglob("*") if p.is_file())
    return {q.stem: search(index, q) for q in queries}


def source(path: Path) -> str:
    return path.stem.split("_")[0]


@pytest.mark.parametrize("name", list(EDITS))
def test_every_edited_copy_ranks_its_original_first(rankings, name):
    found = rankings[f"{name}_{EDITS[name]}"]
    assert source(found[0].path) == name and found[0].path.parent.name != "edits"
    assert found[0].score >= THRESHOLD, found[0].scores


def test_unrelated_images_stay_below_the_default_threshold(rankings):
    for query, found in rankings.items():
        unrelated = [r for r in found if source(r.path) != query.split("_")[0]]
        assert unrelated and max(r.score for r in unrelated) < THRESHOLD, query


def test_results_leave_the_query_out_and_are_sorted(rankings, folder):
    for query, found in rankings.items():
        assert query not in [r.path.stem for r in found]
        scores = [r.score for r in found]
        assert scores == sorted(scores, reverse=True)
        assert all(r.path.is_absolute() and folder in r.path.parents for r in found)


def test_exact_copy_scores_100(tmp_path):
    (tmp_path / "sub").mkdir()
    original = write(tmp_path / "a.png", data.coffee())
    shutil.copy(original, tmp_path / "sub" / "b.png")
    write(tmp_path / "c.png", data.chelsea())
    with SimilarityIndex(tmp_path, cache_dir=tmp_path / ".cache") as index:
        index.update()
        found = search(index, original, min_score=THRESHOLD)
    assert [r.path.name for r in found] == ["b.png"]
    assert found[0].score == pytest.approx(100.0, abs=1e-3)
    whole = [[-0.5, -0.5], [-0.5, 599.5], [399.5, 599.5], [399.5, -0.5]]
    np.testing.assert_allclose(found[0].region, whole, atol=1.5)


@pytest.mark.parametrize("method", ["hash", "hist", "ssim", "orb"])
def test_each_method_finds_a_recompressed_copy(index, folder, method):
    found = search(index, folder / "edits" / "astronaut_jpeg50.jpg", method=method, top=3)
    assert len(found) == 3 and found[0].path.name == "astronaut.png"
    assert found[0].score >= 90 and list(found[0].scores) == [method]


def test_region_of_interest_finds_its_image_and_where_it_lies(index):
    roi = data.coffee()[100:300, 150:450]
    found = search(index, roi, top=2)
    # Both the original and its brighter copy hold the region, at the same place.
    assert {r.path.name for r in found} == {"coffee.png", "coffee_brighter.png"}
    outline = [[99.5, 149.5], [99.5, 449.5], [299.5, 449.5], [299.5, 149.5]]
    for result in found:
        assert result.score >= THRESHOLD
        np.testing.assert_allclose(result.region, outline, atol=3)


def test_top_and_min_score(index, folder):
    query = folder / "edits" / "coffee_brighter.png"
    assert len(search(index, query, method="hash", top=5)) == 5
    assert len(search(index, query, method="hash")) == 23  # everything but the query
    strong = search(index, query, method="hash", min_score=THRESHOLD)
    assert [r.path.name for r in strong] == ["coffee.png"]


def test_bad_search_options(index, folder):
    query = folder / "coffee.png"
    for options in ({"method": "fft"}, {"top": 0}, {"min_score": 101}, {"rerank": -1}):
        with pytest.raises(SimilarityError):
            search(index, query, **options)
    with pytest.raises(ImageReadError):
        search(index, folder / "missing.png")


def make_small_folder(root: Path, count: int) -> list[Path]:
    root.mkdir()
    names = ["camera", "coins", "moon", "text", "page", "brick"][:count]
    return [write(root / f"{n}.png", getattr(data, n)()[::2, ::2]) for n in names]


def test_update_reads_only_new_and_changed_files(tmp_path):
    files = make_small_folder(tmp_path / "images", 4)
    read: list[str] = []

    def progress(done: int, total: int, path: str) -> None:
        read.append(path)
        assert 1 <= done <= total

    with SimilarityIndex(tmp_path / "images", cache_dir=tmp_path / "cache") as index:
        first = index.update(progress=progress)
        assert (first.added, first.changed, len(index), sorted(read)) == (
            4, 0, 4, sorted(f.name for f in files),
        )  # fmt: skip
        read.clear()
        assert index.update(progress=progress).added == 0 and read == []
        stat = files[1].stat()
        os.utime(files[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        touched = index.update(progress=progress)
        assert (touched.changed, touched.added, read) == (1, 0, [files[1].name])
        files[0].unlink()
        extra = write(tmp_path / "images" / "extra.png", data.gravel()[::2, ::2])
        read.clear()
        changed = index.update(progress=progress)
        assert (changed.removed, changed.added, read, len(index)) == (1, 1, [extra.name], 4)
    with SimilarityIndex(tmp_path / "images", cache_dir=tmp_path / "cache") as reopened:
        assert len(reopened) == 4 and reopened.update().added == 0


def make_broken_files(folder: Path) -> None:
    jpeg = cv2.imencode(".jpg", data.coffee())[1].tobytes()
    png = cv2.imencode(".png", data.coffee())[1].tobytes()
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "truncated.png").write_bytes(png[: len(png) // 2])
    (folder / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (folder / "empty.tif").write_bytes(b"")
    (folder / "text.jpg").write_text("not an image")
    (folder / "notes.txt").write_text("not an image either, and not named like one")


@pytest.mark.parametrize("workers", [1, 4])
def test_unreadable_files_are_listed_and_skipped(tmp_path, capfd, workers):
    folder = tmp_path / "images"
    make_small_folder(folder, 2)
    make_broken_files(folder)
    capfd.readouterr()
    with SimilarityIndex(folder, cache_dir=tmp_path / "cache") as index:
        update = index.update(workers=workers)
        errors = dict(update.errors)
        assert len(index) == 2 and update.images == 7
        unreadable = ["empty.tif", "garbage.png", "text.jpg", "truncated.jpg", "truncated.png"]
        assert sorted(errors) == unreadable
        assert "corrupt or truncated" in errors["truncated.jpg"]
        # What libpng said about this file, heard while other threads decoded other files.
        assert "libpng" in errors["truncated.png"] and "libpng" not in errors["truncated.jpg"]
        assert "empty" in errors["empty.tif"]
        assert index.errors() == sorted(update.errors)
        assert index.update().errors == update.errors  # still listed, not read again
    assert capfd.readouterr().err == ""  # libjpeg / libpng said nothing on stderr


def test_decoder_messages_stay_with_their_file_across_threads(tmp_path, capfd):
    good = write(tmp_path / "good.png", data.coffee())
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:20000])

    def reason(path: Path) -> str:
        try:
            read_reduced(path, longest=64)
        except ImageReadError as exc:
            return exc.reason
        return ""

    capfd.readouterr()
    with ThreadPoolExecutor(4) as pool:
        reasons = list(pool.map(reason, [good, tmp_path / "cut.png"] * 8))
    assert reasons[0::2] == [""] * 8
    assert all("corrupt or truncated (libpng error" in r for r in reasons[1::2]), reasons
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("workers", [1, 3])
def test_cancel_keeps_what_was_read(tmp_path, workers):
    make_small_folder(tmp_path / "images", 6)
    calls = []
    with SimilarityIndex(tmp_path / "images", cache_dir=tmp_path / "cache") as index:
        update = index.update(
            progress=lambda *a: calls.append(a), cancel=lambda: len(calls) >= 2, workers=workers
        )
        assert update.cancelled and update.added == 2 and len(index) == 2
        assert [c[2] for c in calls] == ["brick.png", "camera.png"]  # path order
        rest = index.update(workers=workers)
        assert not rest.cancelled and rest.added == 4 and len(index) == 6


def test_threads_make_the_same_index_as_one(tmp_path):
    folder = tmp_path / "images"
    make_small_folder(folder, 6)
    (folder / "sub").mkdir()
    make_broken_files(folder / "sub")
    contents = []
    for workers in (1, 2, 5):
        with SimilarityIndex(folder, cache_dir=tmp_path / f"cache{workers}") as index:
            update = index.update(workers=workers)
            assert (update.added, len(update.errors), len(index)) == (11, 5, 6)
            with sqlite3.connect(index.db_path) as db:
                contents.append(db.execute("SELECT rowid, * FROM files ORDER BY rowid").fetchall())
    assert contents[0] == contents[1] == contents[2]
    assert sum(row[5] is not None for row in contents[0]) == 6  # fingerprints, not only errors
    with (
        SimilarityIndex(folder, cache_dir=tmp_path / "cache1") as index,
        pytest.raises(SimilarityError, match="workers"),
    ):
        index.update(workers=0)


def test_default_workers_are_the_usable_cpus_up_to_a_limit(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(3)), raising=False)
    assert default_workers() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert default_workers() == MAX_WORKERS < 64
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_workers() == 1


def test_cache_location(tmp_path, monkeypatch):
    monkeypatch.setenv("MEASURER_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("MEASURER_CACHE_DIR")
    if os.name == "posix" and not str(default_cache_dir()).startswith(str(Path.home() / "Library")):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert default_cache_dir() == tmp_path / "xdg" / "measurer"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = SimilarityIndex(tmp_path / "a", cache_dir=tmp_path / "cache")
    two = SimilarityIndex(tmp_path / "b", cache_dir=tmp_path / "cache")
    assert one.db_path.parent == two.db_path.parent and one.db_path != two.db_path
    assert (tmp_path / "cache") in one.db_path.parents and one.db_path.exists()
    one.close()
    two.close()
    with pytest.raises(SimilarityError, match="not a folder"):
        SimilarityIndex(tmp_path / "missing", cache_dir=tmp_path / "cache")


def test_index_of_older_fingerprints_is_rebuilt(tmp_path):
    make_small_folder(tmp_path / "images", 2)
    with SimilarityIndex(tmp_path / "images", cache_dir=tmp_path / "cache") as index:
        index.update()
        db_path = index.db_path
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'version'")
    with SimilarityIndex(tmp_path / "images", cache_dir=tmp_path / "cache") as index:
        assert len(index) == 0 and index.update().added == 2


def test_read_reduced_decodes_at_the_smallest_sufficient_scale(tmp_path):
    wide = cv2.resize(data.astronaut(), (2048, 1024))
    path = write(tmp_path / "wide.jpg", wide)
    image, factor = read_reduced(path, longest=256)
    assert (factor, image.shape) == (8, (128, 256, 3))
    assert abs(image.astype(int).mean(axis=(0, 1)) - wide.mean(axis=(0, 1))).max() < 3  # RGB
    assert read_reduced(path, longest=1024)[1] == 2
    assert read_reduced(path, longest=4096)[1] == 1
    grey, factor = read_reduced(write(tmp_path / "grey.png", data.camera()), longest=256)
    assert (factor, grey.shape, grey.dtype) == (2, (256, 256), np.uint8)
    deep = tmp_path / "deep.png"
    cv2.imwrite(str(deep), data.camera().astype(np.uint16) * 257)
    image, factor = read_reduced(deep, longest=256)  # 16 bits: read in full, not cut to 8
    assert (factor, image.shape, image.dtype) == (1, (512, 512), np.uint16)
    (tmp_path / "cut.jpg").write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ImageReadError, match="corrupt or truncated"):
        read_reduced(tmp_path / "cut.jpg", longest=256)


def test_one_read_decodes_at_several_sizes_as_opencv_does(tmp_path):
    colour = cv2.resize(data.astronaut(), (2048, 1024))
    reduced = {
        (2, False): cv2.IMREAD_REDUCED_COLOR_2,
        (8, False): cv2.IMREAD_REDUCED_COLOR_8,
        (2, True): cv2.IMREAD_REDUCED_GRAYSCALE_2,
        (8, True): cv2.IMREAD_REDUCED_GRAYSCALE_8,
    }
    for suffix in ("png", "jpg"):
        for grey in (False, True):
            path = write(tmp_path / f"{grey}.{suffix}", colour[:, :, 1] if grey else colour)
            decoded = read_reduced_sizes(path, (256, 1024, 256))
            assert [factor for _, factor in decoded] == [8, 2, 8]
            for image, factor in decoded:
                # A PNG is decompressed once and shrunk; OpenCV's reduced modes give the same.
                flags = reduced[factor, grey] | cv2.IMREAD_IGNORE_ORIENTATION
                expected = cv2.imdecode(np.fromfile(path, np.uint8), flags)
                if not grey:
                    expected = cv2.cvtColor(expected, cv2.COLOR_BGR2RGB)
                np.testing.assert_array_equal(image, expected)
    tifffile.imwrite(tmp_path / "deep.tif", data.camera().astype(np.uint16))
    (one, f1), (two, f2) = read_reduced_sizes(tmp_path / "deep.tif", (64, 256))
    assert f1 == f2 == 1 and one.dtype == np.uint16 and np.array_equal(one, data.camera())
    assert np.array_equal(two, one)
    (tmp_path / "cut.png").write_bytes((tmp_path / "False.png").read_bytes()[:5000])
    with pytest.raises(ImageReadError, match="corrupt or truncated"):
        read_reduced_sizes(tmp_path / "cut.png", (256, 1024))


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with SimilarityIndex(tmp_path / "empty", cache_dir=tmp_path / "cache") as index:
        assert index.update().images == 0 and len(index) == 0
        for method in ("auto", "hash", "hist", "ssim", "orb"):
            assert search(index, data.camera(), method=method) == []
