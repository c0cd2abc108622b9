"""Files of a batch: finding the images, where annotated images go, and the work folder.

The work folder ``TABLE.csv.parts`` beside the table keeps one JSON file per image: its
absolute ``path``, the ``size`` and ``mtime_ns`` it had when measured, and its rows column by
column (``count`` rows; ``columns``: the names in order of first appearance; ``values``: one
list per column, ``null`` where a row has no value) or its ``error``; ``batch.json`` holds the
fingerprint of the recipe they come from. See :mod:`measurer.io.batch` for how they make a batch
resumable.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measurer.io.atomic import atomic_write_bytes
from measurer.io.images import SUPPORTED_SUFFIXES

_MANIFEST = "batch.json"


class BatchError(ValueError):
    """A batch that cannot start: no images, bad inputs, unreachable scheduler."""


@dataclass(frozen=True)
class Outcome:
    """What became of one image: its rows, or the error that stopped it."""

    path: str
    rows: list[dict] | None = None
    error: str | None = None


def errors_path(table: str | os.PathLike[str]) -> Path:
    """``TABLE.errors.csv`` beside ``TABLE.csv``."""
    table = Path(table)
    return table.with_name(f"{table.stem}.errors{table.suffix}")


def parts_folder(table: str | os.PathLike[str]) -> Path:
    """The work folder ``TABLE.csv.parts`` beside the table."""
    table = Path(table)
    return table.with_name(f"{table.name}.parts")


def _folder_images(folder: Path, skip: set[str]) -> list[Path]:
    """Image files below ``folder`` (by suffix), sorted, hidden names and ``skip`` left out."""
    found: list[Path] = []
    if os.path.abspath(folder) in skip:
        return found
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and os.path.abspath(Path(root, d)) not in skip
        )
        found += [
            Path(root, name)
            for name in sorted(files)
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES
        ]
    return found


def find_images(
    inputs: Sequence[str], *, skip: Iterable[str | os.PathLike[str]] = ()
) -> list[Path]:
    """Image files named by ``inputs``: files, folders (recursively) and glob patterns.

    A file is taken as given; folders and patterns contribute files with a suffix of
    :data:`~measurer.io.images.SUPPORTED_SUFFIXES` (any case), in sorted order, without hidden
    files or the folders in ``skip``. A file named twice is kept once, where it first appears.

    Raises
    ------
    BatchError
        An input that is neither an existing file or folder nor a pattern matching something,
        or no image at all.
    """
    skip_set = {os.path.abspath(s) for s in skip}
    found: list[Path] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            found += _folder_images(path, skip_set)
        elif path.exists():
            found.append(path)
        elif re.search(r"[*?[]", text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            if not matches:
                raise BatchError(f"no file matches {text!r}")
            for match in matches:
                if match.is_dir():
                    found += _folder_images(match, skip_set)
                elif match.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append(match)
        else:
            raise BatchError(f"{text!r}: no such file or folder")
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.abspath(path), path)
    if not unique:
        raise BatchError("no images found in " + ", ".join(repr(str(t)) for t in inputs))
    return list(unique.values())


def annotated_paths(images: Sequence[Path], folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Where each image's annotated PNG goes: ``folder`` mirrors the images' common folder.

    ``a/b/x.tif`` becomes ``folder/b/x.png`` when ``a`` is the common folder; when two images
    would share a name (``x.tif`` and ``x.png``), both keep their suffix (``x.tif.png``).
    """
    absolute = [os.path.abspath(p) for p in images]
    root = os.path.commonpath([os.path.dirname(p) for p in absolute])
    relative = [Path(os.path.relpath(p, root)) for p in absolute]
    stems = [r.with_suffix(".png") for r in relative]
    counts: dict[Path, int] = {}
    for stem in stems:
        counts[stem] = counts.get(stem, 0) + 1
    return {
        path: Path(folder, stem if counts[stem] == 1 else rel.with_name(rel.name + ".png"))
        for path, rel, stem in zip(absolute, relative, stems, strict=True)
    }


def file_stat(path: str) -> tuple[int, int] | None:
    """``(size, modification time in ns)`` of a file, or None when it cannot be read."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def _json_value(value: Any) -> Any:
    """numpy scalars as Python numbers (``default`` of :func:`json.dumps`)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} in a table")


class WorkFolder:
    """The work folder of a batch: one JSON part per image, named by a hash of its absolute
    path; emptied when opened with ``force`` or for another ``fingerprint`` (recipe)."""

    def __init__(
        self, folder: Path, fingerprint: str, *, force: bool, log: Callable[[str], None]
    ) -> None:
        self.folder = folder
        manifest = folder / _MANIFEST
        kept = None
        with contextlib.suppress(OSError, ValueError):
            kept = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint")
        if folder.is_dir() and (force or kept != fingerprint):
            if not force:
                log(f"the recipe differs from the one of the results in {folder}: starting over")
            for part in folder.glob("*.json"):
                part.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"fingerprint": fingerprint}, ensure_ascii=True)
        atomic_write_bytes(manifest, data.encode())

    def file(self, path: str) -> Path:
        """The part file of the image at ``path`` (absolute)."""
        digest = hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()
        return self.folder / f"{digest[:32]}.json"

    def read(self, path: str) -> tuple[Outcome, tuple[int, int] | None] | None:
        """The kept outcome of ``path`` (absolute) and the ``(size, mtime_ns)`` it was measured
        at, or None when its part is missing, unreadable or not one this module writes."""
        with contextlib.suppress(OSError, ValueError, TypeError, LookupError):
            data = json.loads(self.file(path).read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("path") != path:
                return None
            stat = None if data["size"] is None else (data["size"], data["mtime_ns"])
            if "error" in data:
                return Outcome(path, error=str(data["error"])), stat
            count, names, values = data["count"], data["columns"], data["values"]
            if len(names) != len(values) or any(len(v) != count for v in values):
                return None
            rows = [dict(zip(names, r, strict=True)) for r in zip(*values, strict=True)]
            return Outcome(path, rows=rows if names else [{} for _ in range(count)]), stat
        return None


def by_column(rows: list[dict]) -> tuple[list[str], list[list[Any]]]:
    """Rows as column names in order of first appearance and one list of values per column
    (None where a row has no value)."""
    names = list(dict.fromkeys(itertools.chain.from_iterable(rows)))
    return names, [[row.get(name) for row in rows] for name in names]


def write_part(
    file: Path,
    outcome: Outcome,
    stat: tuple[int, int] | None,
    columns: tuple[list[str], list[list[Any]]] | None = None,
) -> None:
    """Keep an image's outcome with the size and modification time it was measured at.

    ``columns`` is :func:`by_column` of the outcome's rows when the caller has it already.
    Atomic (a temporary file renamed over the part) but not synced to disk: a part lost or
    damaged by a system crash is unreadable, and its image is measured again.
    """
    data: dict[str, Any] = {"path": outcome.path, "size": None, "mtime_ns": None}
    if stat is not None:
        data["size"], data["mtime_ns"] = stat
    if outcome.error is None:
        rows = outcome.rows or []
        data["count"] = len(rows)
        data["columns"], data["values"] = columns or by_column(rows)
    else:
        data["error"] = outcome.error
    text = json.dumps(data, ensure_ascii=False, default=_json_value)
    temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, file)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
