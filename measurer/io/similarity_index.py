"""The fingerprint index of a folder of images, in SQLite, for similar-image search.

One SQLite database per indexed folder (found by a hash of the folder's resolved path) lives in
the user's cache directory (:func:`default_cache_dir`). It holds, per image file below the
folder, the relative path, size, modification time and either the fingerprint
(:mod:`measurer.analysis.fingerprints`) or the reason the file could not be read. Updating is
incremental: only files whose size or modification time changed are read again.

Files are decoded at reduced size (:func:`measurer.io.reduced.read_reduced`) and fingerprinted
on several threads; a file that cannot be read is listed with the reason and skipped, it never
stops the indexing.

The searches over an index are in :mod:`measurer.io.similarity_search`.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from measurer.analysis import fingerprints as fp
from measurer.io.images import SUPPORTED_SUFFIXES, ImageReadError
from measurer.io.reduced import read_reduced

#: Bump when fingerprints change: older indexes are then rebuilt.
FINGERPRINT_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, error TEXT,
    hashes BLOB, cdfs BLOB, thumbnail BLOB
);
"""


class SimilarityError(ValueError):
    """Bad folder, query or option of a similarity search; the message says which."""


def default_cache_dir() -> Path:
    """``$MEASURER_CACHE_DIR``, else the platform's per-user cache directory + ``measurer``."""
    if os.environ.get("MEASURER_CACHE_DIR"):
        return Path(os.environ["MEASURER_CACHE_DIR"])
    home = Path.home()
    if sys.platform == "win32":
        return (
            Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
            / "measurer"
            / "Cache"
        )
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "measurer"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "measurer"


@dataclass(frozen=True)
class IndexUpdate:
    """What :meth:`SimilarityIndex.update` did.

    Attributes
    ----------
    root : Path
    images : int
        Image files found below the folder (by suffix).
    added, changed, removed : int
        Files read because they were new or had a new size or modification time; files no
        longer there.
    errors : tuple of (str, str)
        ``(path relative to root, reason)`` of every file in the index that could not be
        read (this time or earlier) and of every folder that could not be listed.
    seconds : float
    cancelled : bool
        True when ``cancel`` stopped the update; what was read so far is kept.
    """

    root: Path
    images: int
    added: int
    changed: int
    removed: int
    errors: tuple[tuple[str, str], ...]
    seconds: float
    cancelled: bool


def _reason(exc: Exception) -> str:
    """One line saying why a file could not be indexed."""
    if isinstance(exc, ImageReadError):
        return exc.reason
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, ValueError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


#: Most threads :func:`default_workers` gives: each holds a decoded image in memory, and the
#: storing thread and the Python parts of a fingerprint limit the gain of more anyway.
MAX_WORKERS = 8


def default_workers() -> int:
    """Threads that decode files at once (indexing, re-ranking): the CPUs this process may
    use, at most ``MAX_WORKERS``."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    cpus = len(usable) if usable is not None else os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def _columns(path: Path) -> tuple:
    """``(error, hashes, cdfs, thumbnail)`` columns of one file; runs on any thread."""
    try:
        image, _ = read_reduced(path, longest=fp.WORKING_SIZE)
        made = fp.fingerprint(image)
    except Exception as exc:  # one bad file must never stop the indexing
        return _reason(exc), None, None, None
    return None, made.hashes.tobytes(), made.cdfs.tobytes(), made.thumbnail.tobytes()


def _now(function: Callable, *args: object) -> Future:
    """``function(*args)`` run on this thread, as a finished future."""
    future: Future = Future()
    future.set_result(function(*args))
    return future


class SimilarityIndex:
    """The fingerprint index of one folder and its subfolders.

    Use it from one thread at a time (it may be opened in one thread and updated in another).
    :func:`measurer.io.similarity_search.search` searches it.

    Parameters
    ----------
    root : str or PathLike
        The folder.
    cache_dir : str or PathLike, optional
        Where the database goes; :func:`default_cache_dir` by default.

    Raises
    ------
    SimilarityError
        ``root`` is not a folder, or the database cannot be opened.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None
    ):
        if not Path(root).is_dir():
            raise SimilarityError(f"{str(root)!r} is not a folder")
        self.root = Path(root).resolve()
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:24]
        self.db_path = cache / "similarity" / f"{digest}.sqlite3"
        self._arrays: tuple | None = None
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.db_path, timeout=30, check_same_thread=False)
            # A cache: losing the last updates on a power cut is fine, an fsync per commit is not.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            version = self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if version != (str(FINGERPRINT_VERSION),):
                self._db.execute("DELETE FROM files")
            self._db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("version", str(FINGERPRINT_VERSION)), ("root", str(self.root))],
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise SimilarityError(f"cannot open the index {str(self.db_path)!r}: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> SimilarityIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        """Number of fingerprinted images."""
        return self._db.execute("SELECT COUNT(*) FROM files WHERE error IS NULL").fetchone()[0]

    def errors(self) -> list[tuple[str, str]]:
        """``(relative path, reason)`` of the indexed files that could not be read."""
        query = "SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path"
        return self._db.execute(query).fetchall()

    def _scan(self) -> tuple[dict[str, tuple[int, int]], list[tuple[str, str]]]:
        """Image files below the root with (size, mtime_ns), and folders that cannot be listed.

        Hidden files and folders (a leading ``.``) are left out; links to files are followed,
        links to folders are not.
        """
        found: dict[str, tuple[int, int]] = {}
        problems: list[tuple[str, str]] = []
        suffixes = set(SUPPORTED_SUFFIXES)
        folders = [(str(self.root), "")]  # (path, path relative to the root with a final "/")
        while folders:
            folder, prefix = folders.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = list(listing)
            except OSError as exc:
                problems.append((prefix[:-1] or ".", exc.strerror or str(exc)))
                continue
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                try:
                    if entry.is_dir():
                        if not entry.is_symlink():
                            folders.append((entry.path, prefix + name + "/"))
                        continue
                    if os.path.splitext(name)[1].lower() not in suffixes:
                        continue
                    info = entry.stat()
                except OSError as exc:
                    problems.append((prefix + name, exc.strerror or str(exc)))
                    continue
                if stat.S_ISREG(info.st_mode):
                    found[prefix + name] = (info.st_size, info.st_mtime_ns)
        return found, problems

    def update(
        self,
        *,
        progress: Callable[[int, int, str], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        workers: int | None = None,
    ) -> IndexUpdate:
        """Bring the index up to date with the folder, reading only new and changed files.

        Files are decoded and fingerprinted on ``workers`` threads and stored, in path
        order, by the calling thread: the index is the same whatever the number of workers.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(done, total, path)`` after each file stored, where ``total``
            is the number of files that need reading and ``path`` is relative to the root.
        cancel : callable, optional
            Polled before each file is stored; when it returns True the update stops,
            keeping what it has stored (e.g. ``threading.Event().is_set``). Files that
            other threads were reading meanwhile are read again next time.
        workers : int, optional
            Threads reading files; :func:`default_workers` by default. With 1, files are
            read on the calling thread.

        Returns
        -------
        IndexUpdate

        Raises
        ------
        SimilarityError
            ``workers`` is less than 1.
        """
        workers = default_workers() if workers is None else workers
        if workers < 1:
            raise SimilarityError(f"workers must be at least 1, got {workers}")
        start = time.perf_counter()
        rows = self._db.execute("SELECT path, size, mtime_ns FROM files")
        known = {path: (size, mtime_ns) for path, size, mtime_ns in rows}
        found, problems = self._scan()
        removed = [p for p in known if p not in found]
        todo = sorted(p for p, stamp in found.items() if known.get(p) != stamp)
        done, cancelled = 0, False
        pool = ThreadPoolExecutor(workers, "measurer-index") if workers > 1 else None
        ahead = 2 * workers if pool else 1  # files being read, including the one stored next
        pending: deque[Future] = deque()
        try:
            self._db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in removed])
            for relative in todo:
                if cancel is not None and cancel():
                    cancelled = True
                    break
                for name in todo[done + len(pending) : done + ahead]:
                    path = self.root / name
                    pending.append(pool.submit(_columns, path) if pool else _now(_columns, path))
                self._db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (relative, *found[relative], *pending.popleft().result()),
                )
                done += 1
                if progress is not None:
                    progress(done, len(todo), relative)
                if done % 200 == 0:
                    self._db.commit()
        finally:
            if pool is not None:  # reads not started are dropped, running ones awaited
                pool.shutdown(cancel_futures=True)
            self._db.commit()
            if removed or done:
                self._arrays = None
        added = sum(p not in known for p in todo[:done])
        return IndexUpdate(
            root=self.root,
            images=len(found),
            added=added,
            changed=done - added,
            removed=len(removed),
            errors=tuple(sorted(problems + self.errors())),
            seconds=time.perf_counter() - start,
            cancelled=cancelled,
        )

    def fingerprints(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row ids (ascending), hashes and histograms of every fingerprint, as arrays.

        Returns
        -------
        ids : ndarray of int64, shape (K,)
        hashes : ndarray of uint8, shape (K, HASH_BYTES)
        cdfs : ndarray of uint8, shape (K, 4, HIST_BINS)
            Read-only; kept in memory until the next :meth:`update` changes the index.
        """
        if self._arrays is None:
            rows = self._db.execute(
                "SELECT rowid, hashes, cdfs FROM files WHERE error IS NULL ORDER BY rowid"
            ).fetchall()
            self._arrays = (
                np.array([r[0] for r in rows], dtype=np.int64),
                np.frombuffer(b"".join(r[1] for r in rows), np.uint8).reshape(-1, fp.HASH_BYTES),
                np.frombuffer(b"".join(r[2] for r in rows), np.uint8).reshape(-1, 4, fp.HIST_BINS),
            )
        return self._arrays

    def _column(self, column: str, ids: Sequence[int]) -> list:
        found: dict[int, object] = {}
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT rowid, {column} FROM files WHERE rowid IN ({marks})"
            found.update(self._db.execute(query, chunk).fetchall())
        return [found[int(i)] for i in ids]

    def paths(self, ids: Sequence[int]) -> list[str]:
        """Paths (relative to the root, with ``/``) of the rows ``ids``, in that order."""
        return self._column("path", ids)

    def thumbnails(self, ids: Sequence[int]) -> np.ndarray:
        """SSIM thumbnails of the rows ``ids``: uint8, shape (len(ids), THUMB_SIZE, THUMB_SIZE)."""
        side = fp.THUMB_SIZE
        joined = b"".join(self._column("thumbnail", ids))
        return np.frombuffer(joined, np.uint8).reshape(-1, side, side)

    def thumbnail_chunks(self, size: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (row ids, thumbnails), ``size`` rows at a time, by ascending row id."""
        cursor = self._db.execute(
            "SELECT rowid, thumbnail FROM files WHERE error IS NULL ORDER BY rowid"
        )
        side = fp.THUMB_SIZE
        while rows := cursor.fetchmany(size):
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            yield ids, np.frombuffer(b"".join(r[1] for r in rows), np.uint8).reshape(-1, side, side)

    def row_id(self, path: str | os.PathLike[str]) -> int | None:
        """Row id of the fingerprint of a file, None if it is not (readably) indexed."""
        try:
            relative = Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None
        row = self._db.execute(
            "SELECT rowid FROM files WHERE path = ? AND error IS NULL", (relative,)
        ).fetchone()
        return None if row is None else row[0]
