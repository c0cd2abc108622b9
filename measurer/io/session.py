"""Session sidecars: a document's annotations, calibration and analysis steps beside its image.

``cells.tif`` gets ``cells.tif.measurer.json``, a JSON object with ``"schema": 1``::

    {"schema": 1, "app": "measurer", "app_version": "0.1.0", "saved_at": "2025-...Z",
     "image": {"name": "cells.tif", "checksum": "sha256:...", "page": 0},
     "calibration": {...}, "class_names": {"0": "nucleus"},
     "annotations": [...], "steps": [...], "view_state": {...}}

Measurements are not stored: they are recomputed from the annotations on load. The checksum binds
the sidecar to its image, so a sidecar is never applied to another image (a renamed image keeps
its sidecar working when the sidecar is renamed with it).

A damaged sidecar, one from a newer measurer or one for another image is never overwritten
silently: :func:`save_session` refuses, and with ``overwrite_damaged=True`` moves it aside to
``*.damaged-<timestamp>.json`` first (it is never deleted).

Autosaves have the same content. They live beside the image as a hidden
``.cells.tif.measurer.autosave.json`` or, when the image's folder is not writable, in the user's
data folder (see :func:`user_data_dir`) under a name derived from the image's full path.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from measurer import __version__
from measurer.core.annotations import Annotation
from measurer.core.commands import AnalysisStep
from measurer.core.document import Document
from measurer.io.atomic import atomic_write_text
from measurer.io.images import file_checksum
from measurer.io.session_parse import (
    SCHEMA,
    STEP_PARAMETERS,
    SessionData,
    SessionError,
    parse_session,
)

SUFFIX = ".measurer.json"
AUTOSAVE_SUFFIX = ".measurer.autosave.json"


def session_path(image_path: str | os.PathLike) -> Path:
    """The sidecar of an image: ``cells.tif`` -> ``cells.tif.measurer.json`` in the same folder."""
    image_path = Path(image_path)
    return image_path.with_name(image_path.name + SUFFIX)


def user_data_dir() -> Path:
    """measurer's folder for user data (autosaves of images in read-only folders).

    ``$MEASURER_DATA_DIR`` when set; else ``%LOCALAPPDATA%\\measurer`` on Windows,
    ``~/Library/Application Support/measurer`` on macOS, ``$XDG_DATA_HOME/measurer`` (default
    ``~/.local/share/measurer``) elsewhere.
    """
    if os.environ.get("MEASURER_DATA_DIR"):
        return Path(os.environ["MEASURER_DATA_DIR"])
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "measurer"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "measurer"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "measurer"


def _autosave_candidates(image_path: str | os.PathLike) -> tuple[Path, Path]:
    """Beside the image, and in the user's data folder."""
    image_path = Path(image_path).absolute()
    beside = image_path.with_name(f".{image_path.name}{AUTOSAVE_SUFFIX}")
    key = hashlib.sha256(str(image_path).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    elsewhere = user_data_dir() / "autosave" / f"{key}-{image_path.name}{AUTOSAVE_SUFFIX}"
    return beside, elsewhere


def autosave_path(image_path: str | os.PathLike) -> Path:
    """Where the autosave of an image goes: beside it if its folder is writable, else elsewhere."""
    beside, elsewhere = _autosave_candidates(image_path)
    return beside if os.access(beside.parent, os.W_OK) else elsewhere


def find_autosave(image_path: str | os.PathLike) -> Path | None:
    """The newest existing autosave of an image (in either place), or None."""
    found = [p for p in _autosave_candidates(image_path) if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _plain(value: Any, where: str) -> Any:
    """``value`` with JSON types only: numpy values unwrapped, tuples as lists, NaN as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return _plain(value.tolist(), where)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    raise SessionError(f"cannot store a {type(value).__name__} in a session ({where})")


def snapshot(document: Document) -> SessionData:
    """The document's session state as it is now; cheap (annotations are immutable).

    Take it on the GUI thread and serialise it on a worker (:func:`write_autosave` with
    ``data``, or :func:`session_text`): that takes a while for a large document (about 1 s for
    10,000 polygons of 20 vertices and 100,000 points).
    """
    return SessionData(
        schema=SCHEMA,
        app_version=__version__,
        saved_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        image_name=document.image_name,
        checksum=document.checksum,
        page=document.page,
        calibration=document.calibration,
        class_names=dict(document.class_names),
        annotations=list(document.annotations.values()),
        steps=list(document.steps),
        view_state=copy.deepcopy(document.view_state),
    )


def _annotation_dict(annotation: Annotation, steps: dict[str, AnalysisStep]) -> dict[str, Any]:
    # Vertices are finite floats already; only the analysis parameters may hold numpy values.
    data = annotation.to_dict()
    step = steps.get(annotation.provenance.analysis or "")
    if step is not None and annotation.provenance.parameters is step.parameters:
        # A detection's shapes share their step's parameters: write them once, with the step
        # (per shape, a grid of 900 cells with per-cell scores would write 900² values).
        data["provenance"] = {**data["provenance"], "parameters": STEP_PARAMETERS}
    else:
        data["provenance"] = _plain(data["provenance"], f"annotation {annotation.id}")
    return data


def session_text(data: SessionData) -> str:
    """The session file's text, one annotation and one step per line (readable, diffable)."""
    content = {
        "schema": data.schema,
        "app": "measurer",
        "app_version": data.app_version,
        "saved_at": data.saved_at,
        "image": {"name": data.image_name, "checksum": data.checksum, "page": data.page},
        "calibration": data.calibration.to_dict(),
        "class_names": {str(k): v for k, v in sorted(data.class_names.items())},
        "annotations": [
            _annotation_dict(a, {s.analysis: s for s in data.steps}) for a in data.annotations
        ],
        "steps": [_plain(s.to_dict(), f"step {s.analysis}") for s in data.steps],
        "view_state": _plain(data.view_state, "view state"),
    }
    lines = []
    for key, value in content.items():
        if key in ("annotations", "steps") and value:
            items = ",\n".join("  " + _dumps(item) for item in value)
            lines.append(f'"{key}": [\n{items}\n ]')
        else:
            lines.append(f"{_dumps(key)}: {_dumps(value)}")
    return "{\n " + ",\n ".join(lines) + "\n}\n"


def session_json(document: Document) -> str:
    """The session file's text of a document: ``session_text(snapshot(document))``."""
    return session_text(snapshot(document))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def save_session(
    document: Document, path: str | os.PathLike | None = None, *, overwrite_damaged: bool = False
) -> Path:
    """Write a document's session atomically and mark the document saved.

    Parameters
    ----------
    document : Document
    path : str or PathLike, optional
        Default: the sidecar beside the document's image (:func:`session_path`).
    overwrite_damaged : bool
        An existing file that is not a readable session of this image (damaged, from a newer
        measurer, or for another image) makes the save fail with :class:`SessionError`. With
        True it is moved aside to ``*.damaged-<timestamp>.json`` and the session is written.

    Returns
    -------
    Path
        The session file. The image's autosave, if any, is removed.
    """
    if path is None and document.path is None:
        raise SessionError("the document has no image file: give the session file's path")
    target = Path(path) if path is not None else session_path(document.path)
    text = session_json(document)
    if target.exists():
        problem = _existing_problem(target, document)
        if problem and not overwrite_damaged:
            raise SessionError(f"not saved, the existing file was left as it is: {problem}")
        if problem:
            move_aside(target)
    atomic_write_text(target, text)
    document.mark_saved()
    if document.path is not None:
        remove_autosave(document.path)
    return target


def _existing_problem(path: Path, document: Document) -> str | None:
    """Why the session file at ``path`` must not be overwritten, or None."""
    try:
        _check_image(read_session(path), document, path)
    except SessionError as exc:
        return str(exc)
    return None


def move_aside(path: str | os.PathLike) -> Path:
    """Rename a file to ``<name>.damaged-<timestamp>.json`` beside it; returns the new path."""
    path = Path(path)
    stem = path.name.removesuffix(".json")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        extra = f"-{attempt}" if attempt else ""
        aside = path.with_name(f"{stem}.damaged-{stamp}{extra}.json")
        if not aside.exists():
            os.replace(path, aside)
            return aside
    raise SessionError(f"cannot move {path.name} aside: too many damaged copies")


def write_autosave(document: Document, data: SessionData | None = None) -> Path:
    """Write the document's autosave (see :func:`autosave_path`); returns its path.

    With ``data``, a :func:`snapshot` taken on the GUI thread, this can run on a worker thread:
    it then reads nothing from the document but its path.
    """
    if document.path is None:
        raise SessionError("the document has no image file, so it has no autosave")
    path = autosave_path(document.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, session_text(data or snapshot(document)))


def remove_autosave(image_path: str | os.PathLike) -> None:
    """Delete the autosave of an image, wherever it is (nothing happens if there is none)."""
    for path in _autosave_candidates(image_path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def read_session(path: str | os.PathLike) -> SessionData:
    """Read and validate a session (or autosave) file without touching any document.

    Raises
    ------
    SessionError
        If the file cannot be read, is not valid JSON, was written by a newer measurer, or has a
        malformed part; the message names the file and the reason.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SessionError(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SessionError(f"{path.name} is damaged: not UTF-8 text") from exc
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SessionError(f"{path.name} is damaged: not valid JSON ({exc})") from exc
    try:
        return parse_session(raw)
    except SessionError as exc:
        raise SessionError(f"{path.name}: {exc}") from exc


def _check_image(data: SessionData, document: Document, path: Path) -> None:
    """Refuse a session (read from ``path``) whose checksum is not the document's image's."""
    expected = document.checksum
    if expected is None and document.path is not None and document.path.is_file():
        expected = file_checksum(document.path)
    if data.checksum is not None and expected is not None and data.checksum != expected:
        name = data.image_name or "another image"
        raise SessionError(
            f"{path.name} belongs to another image ({name}, {data.checksum[:19]}...), "
            f"not to {document.image_name or 'this image'}"
        )


def load_session(path: str | os.PathLike, document: Document) -> SessionData:
    """Read a session file and put its state on the document.

    Everything is validated before the document is touched: on :class:`SessionError` the document
    is unchanged. The document's history is cleared and its measurements are recomputed. The page
    is returned (``data.page``) but not switched: that needs the image, so the caller does it
    with ``document.set_page``.
    """
    path = Path(path)
    data = read_session(path)
    _check_image(data, document, path)
    document.load_state(
        calibration=data.calibration,
        annotations=data.annotations,
        class_names=data.class_names,
        steps=data.steps,
        view_state=data.view_state,
    )
    return data
