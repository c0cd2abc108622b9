"""Similar-image search: indexing throughput and query time, against baselines of the same run.

1. Indexing: ``SimilarityIndex.update()`` on a fresh index (opening the database timed apart)
   of a folder of 3-megapixel JPEG and PNG images, with its default number of threads and with
   one, against ``imagehash.phash(PIL.Image.open(path))`` (one thread) over the same files
   (goal: at least 2.5x faster, per image). ``imagehash`` is only a benchmark baseline:
   ``/work/venv/bin/pip install imagehash``.
2. Query: ``similarity_search.search`` over 100,000 synthetic random fingerprints, against the
   time to decode the query image at full size with OpenCV (goal: faster than that decode);
   the feature stage on the real folder; with ``--command``, ``measurer similar`` end to end
   (a new process that updates the index of a folder of 100,000 unchanged empty files, then
   searches it).

The CPU may be shared with other work: the runs that are compared alternate so that they see
the same load, and the indexing table says how many CPUs other processes used meanwhile (a
thread pool only gets the CPUs they leave).

Run: ``/work/venv/bin/python bench/bench_similarity.py [--images N] [--rows R] [--repeats N]
[--command]``
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from measurer.analysis import fingerprints as fp
from measurer.io.reduced import read_reduced
from measurer.io.similarity_index import SimilarityIndex, default_workers
from measurer.io.similarity_search import search

SOURCES = ("camera", "astronaut", "coffee", "chelsea", "rocket", "coins", "moon", "brick")
SIZE = (1536, 2048)  # rows, cols


def make_folder(folder: Path, count: int) -> dict[str, list[Path]]:
    """``count`` varied 2048 x 1536 images, two thirds JPEG (quality 90) in ``folder/jpeg``,
    one third PNG in ``folder/png``."""
    rng = np.random.default_rng(1)
    files: dict[str, list[Path]] = {"jpeg": [], "png": []}
    for i in range(count):
        source = getattr(data, SOURCES[i % len(SOURCES)])()
        rows, cols = source.shape[:2]
        # A different random window of each source, enlarged, with sensor-like noise.
        r0, c0 = rng.integers(0, rows // 4), rng.integers(0, cols // 4)
        window = source[r0 : r0 + rows * 3 // 4, c0 : c0 + cols * 3 // 4]
        image = cv2.resize(window, SIZE[::-1], interpolation=cv2.INTER_CUBIC).astype(np.float32)
        image = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        kind = "png" if i % 3 == 2 else "jpeg"
        path = folder / kind / f"img{i:03d}.{'png' if kind == 'png' else 'jpg'}"
        path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90] if kind == "jpeg" else [])
        files[kind].append(path)
    return files


def best_of(repeats: int, run) -> float:
    """Shortest wall time of ``repeats`` calls of ``run()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def load() -> str:
    """The load average of the last minute, with the number of CPUs."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def machine_busy() -> float | None:
    """CPU seconds every process of the machine has used so far (Linux), None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # not idle, iowait


def timed(run) -> tuple[object, float, float]:
    """``run()``, its wall seconds, and the CPUs that other processes used meanwhile (NaN if
    unknown): on a shared machine a thread pool only gets the CPUs that others leave."""
    busy, own, start = machine_busy(), os.times(), time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    busy_after, own_after = machine_busy(), os.times()
    if busy is None or busy_after is None:
        return result, seconds, float("nan")
    ours = own_after.user + own_after.system - own.user - own.system
    return result, seconds, max(0.0, busy_after - busy - ours) / seconds


def bench_indexing(folder: Path, files: dict[str, list[Path]], cache: Path, repeats: int) -> None:
    try:
        import imagehash
        from PIL import Image
    except ImportError:
        print("indexing: imagehash is NOT installed, so there is no baseline; install it with")
        print("    /work/venv/bin/pip install imagehash")
        imagehash = None

    threads = default_workers()

    def index(root: Path, count: int, workers: int) -> tuple[float, float]:
        """``timed`` of ``update()`` on a fresh index (opening and closing it not timed)."""
        with SimilarityIndex(root, cache_dir=cache / str(time.perf_counter_ns())) as ix:
            update, seconds, others = timed(partial(ix.update, workers=workers))
        assert update.added == count and not update.errors, update
        return seconds, others

    def phash(paths: list[Path]) -> None:
        for p in paths:
            with Image.open(p) as im:
                imagehash.phash(im)

    print(f"indexing ({SIZE[1]} x {SIZE[0]} images, best of {repeats}, load average {load()}):")
    print(f"  measurer with {threads} threads (its default) and with 1; imagehash.phash: 1 thread;")
    print("  'others': CPUs used by other processes meanwhile (the CPUs left are what counts)")
    print(
        f"  {'files':<10}{f'measurer {threads}t':>15}{'measurer 1t':>15}{'imagehash':>15}"
        f"{f'ratio {threads}t':>10}{'ratio 1t':>10}{'others':>9}"
    )
    groups = [(kind, folder / kind, paths) for kind, paths in files.items()]
    groups.append(("all", folder, [p for paths in files.values() for p in paths]))
    for kind, root, paths in groups:
        times: dict[str, list[float]] = {"many": [], "one": [], "imagehash": []}
        others: list[float] = []
        for _ in range(repeats):  # alternating, so that all see the same machine load
            measured = [(k, index(root, len(paths), w)) for k, w in (("many", threads), ("one", 1))]
            if imagehash is not None:
                measured.append(("imagehash", timed(partial(phash, paths))[1:]))
            for key, (seconds, busy) in measured:
                times[key].append(seconds)
                others.append(busy)
        rate = {k: len(paths) / min(v) for k, v in times.items() if v}
        line = f"  {f'{len(paths)} {kind}':<10}"
        line += "".join(f"{rate[k]:>9.1f} img/s" for k in rate)
        if imagehash is not None:
            line += "".join(f"{rate[k] / rate['imagehash']:>9.2f}x" for k in ("many", "one"))
        print(f"{line}{np.mean(others):>8.1f}")
    print(f"  load average now {load()}")
    print("  goal: at least 2.5x (indexing also stores 8 hashes, 4 histograms and a thumbnail)")


def fill_index(folder: Path, cache: Path, rows: int, *, files: bool) -> None:
    """An index of ``folder`` holding ``rows`` random fingerprints, written straight into its
    database; with ``files``, of as many empty files made in ``folder`` (1000 a subfolder),
    so that an update finds them unchanged."""
    names = [f"d{i // 1000:03d}/f{i % 1000:03d}.png" for i in range(rows)]
    for name in names if files else ():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).touch()
    rng = np.random.default_rng(2)
    with SimilarityIndex(folder, cache_dir=cache) as index:
        db = sqlite3.connect(index.db_path)
    chunk = 10_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        hashes = rng.integers(0, 256, (n, fp.HASH_BYTES), dtype=np.uint8)
        cdfs = np.sort(rng.integers(0, 256, (n, 4, fp.HIST_BINS), dtype=np.uint8), axis=2)
        cdfs[:, :, -1] = 255
        thumbs = rng.integers(0, 256, (n, fp.THUMB_SIZE * fp.THUMB_SIZE), dtype=np.uint8)
        stats = [(folder / name).stat() for name in names[start : start + n] if files]
        stamps = [(st.st_size, st.st_mtime_ns) for st in stats] if files else [(1, 1)] * n
        db.executemany(
            "INSERT INTO files VALUES (?, ?, ?, NULL, ?, ?, ?)",
            (
                (names[start + i], *stamps[i], hashes[i].tobytes(), cdfs[i].tobytes(),
                 thumbs[i].tobytes())
                for i in range(n)
            ),
        )  # fmt: skip
    db.commit()
    db.close()


def bench_query(
    queries: list[Path], folder: Path, cache: Path, rows: int, repeats: int, *, command: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp)
        fill_index(big, cache, rows, files=command)
        print(f"\nquery over {rows:,} fingerprints (best of {repeats}, load average {load()}):")
        with SimilarityIndex(big, cache_dir=cache) as ix:
            start = time.perf_counter()
            _, hashes, cdfs = ix.fingerprints()
            loading = time.perf_counter() - start
            print(f"  first search only: loading the fingerprints {loading * 1e3:.0f} ms")
            for query in queries:
                bench_one_query(ix, query, hashes, cdfs, repeats)
        print("  goal: a search faster than decoding the query (a search from a file includes")
        print("  decoding it at reduced size, the line 'reduced decode')")
        bench_features(folder, queries[0], cache / "real", repeats)
        if command:
            bench_command(big, queries[0], cache, repeats)


def bench_one_query(ix: SimilarityIndex, query: Path, hashes, cdfs, repeats: int) -> None:
    image = cv2.imread(str(query), cv2.IMREAD_UNCHANGED)
    kind = "grey" if image.ndim == 2 else "colour"
    made = fp.fingerprint(image)
    decode = best_of(repeats, lambda: cv2.imread(str(query), cv2.IMREAD_UNCHANGED))
    timings = {
        "reduced decode (read_reduced, 256)": lambda: read_reduced(query, longest=fp.WORKING_SIZE),
        "compare only, hash + histograms": lambda: (
            fp.hash_similarity(made, hashes),
            fp.histogram_similarity(made, cdfs),
        ),
        "search(method='hash')": lambda: search(ix, query, method="hash", top=10),
        "search(method='hist')": lambda: search(ix, query, method="hist", top=10),
        "search(method='auto', rerank=0)": lambda: search(ix, query, top=10, rerank=0),
    }
    print(f"  {query.name} ({kind} JPEG), full-size decode (cv2.imread) {decode * 1e3:.1f} ms")
    for name, run in timings.items():
        seconds = best_of(repeats, run)
        print(f"    {name:<36}{seconds * 1e3:7.1f} ms  {decode / seconds:5.2f}x the decode speed")


def bench_features(folder: Path, query: Path, cache: Path, repeats: int) -> None:
    """The feature stage of ``search(method='auto')`` on the real images."""
    with SimilarityIndex(folder, cache_dir=cache) as ix:
        ix.update()
        count = len(ix)
        rerank = min(20, count - 1)
        plain = best_of(repeats, lambda: search(ix, query, top=10, rerank=0))
        full = best_of(repeats, lambda: search(ix, query, top=10, rerank=rerank))
    print(
        f"  feature stage over the {count} real images: search(method='auto') re-ranking "
        f"{rerank} of them\n    takes {full * 1e3:.0f} ms, {(full - plain) / rerank * 1e3:.1f} ms "
        f"per re-ranked image on {default_workers()} threads"
    )


def bench_command(folder: Path, query: Path, cache: Path, repeats: int) -> None:
    """``measurer similar`` end to end in a new process, with what it is made of."""
    repeats = min(repeats, 3)  # a second or so each
    env = dict(os.environ, MEASURER_CACHE_DIR=str(cache))
    command = [sys.executable, "-m", "measurer", "similar", str(query), str(folder), "--top", "10"]
    imports = "import measurer.cli.main, measurer.io.similarity_search"
    start_up = best_of(repeats, lambda: subprocess.run([sys.executable, "-c", imports], env=env))
    with SimilarityIndex(folder, cache_dir=cache) as ix:
        update = best_of(repeats, ix.update)
        loading = best_of(1, ix.fingerprints)
        count = len(ix)
    print(f"\n`measurer similar QUERY FOLDER --top 10` over {count:,} unchanged files, end to end:")
    for method in ("hash", "auto"):
        seconds = best_of(
            repeats, lambda m=method: subprocess.run([*command, "--method", m], env=env, check=True,
                                                     capture_output=True)
        )  # fmt: skip
        print(f"  --method {method:<5}{seconds * 1e3:8.0f} ms")
    print(f"  of which: Python start-up and imports {start_up * 1e3:.0f} ms, index update (a scan")
    print(
        f"  of the folder) {update * 1e3:.0f} ms, loading the fingerprints {loading * 1e3:.0f} ms"
    )
    print("  (with auto, the re-ranked files are empty here: their feature stage fails at once)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=45, help="images in the folder")
    parser.add_argument("--rows", type=int, default=100_000, help="fingerprints queried")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--command",
        action="store_true",
        help="also time `measurer similar` end to end over ROWS empty files (tens of seconds)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp) / "images", Path(tmp) / "cache"
        folder.mkdir()
        print(f"writing {args.images} test images ...")
        files = make_folder(folder, args.images)
        for path in (p for paths in files.values() for p in paths):
            path.read_bytes()  # the same warm file cache for all
        bench_indexing(folder, files, cache, args.repeats)
        queries = files["jpeg"][:2]
        bench_query(queries, folder, cache / "query", args.rows, args.repeats, command=args.command)


if __name__ == "__main__":
    main()
