"""Batch runs: one measuring function over many image files, resumable, local or on a cluster.

:func:`run_batch` calls ``measure(path, annotated_path) -> rows`` once per image and writes one
combined table (column ``path`` first, then the union of the rows' columns in order of first
appearance) and an errors table beside it (``TABLE.errors.csv``: ``path``, ``error``). An image
whose ``measure`` raises is reported there and skipped; the batch goes on. An image measured
with no rows (a mask without blobs) has one row with its path only, so every image is in one
table or the other. Rows follow the order of the images, whatever order they finished in.

Resuming: each image's rows (or error) go to a JSON file in the work folder
``TABLE.csv.parts`` beside the table (see :mod:`measurer.io.batch_files`), written atomically
the moment the image is done, keyed by the image's absolute path, size and modification time.
A rerun reuses every part whose image is unchanged and was measured without error (and whose
annotated image exists, when asked for), so an interrupted batch resumes where it stopped;
failed images are tried again. The folder is kept after a complete run, so adding images and
running again measures only the new ones; it is emptied when the recipe changes
(``fingerprint``) or with ``force``.

Execution: in this process (``jobs=1``), in a pool of ``jobs`` spawned processes (a frozen
application must call :func:`multiprocessing.freeze_support` first), or on a Dask
distributed cluster (``scheduler="tcp://host:port"``, needs ``dask[distributed]``; its
workers must see the images and the annotated folder at the same paths). ``measure`` must be
picklable for the last two (a module-level function or an instance of a module-level class).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from measurer.io.allocator import keep_image_buffers
from measurer.io.batch_files import (
    BatchError,
    Outcome,
    WorkFolder,
    annotated_paths,
    by_column,
    errors_path,
    file_stat,
    parts_folder,
    write_part,
)
from measurer.io.tables import (
    csv_column_lines,
    csv_lines,
    csv_separator,
    export_format,
    write_csv_lines,
    write_rows,
)

Measure = Callable[[str, str | None], list[dict]]
Progress = Callable[[int, int, int], None]

#: Message when ``scheduler`` is given but Dask is missing.
DASK_MISSING = "--scheduler needs Dask distributed: pip install 'measurer[dask]'"


@dataclass(frozen=True)
class BatchResult:
    """Summary of a finished batch: ``images = measured + reused + failed``.

    ``measured`` counts the images measured in this run, ``reused`` those whose kept result
    from an earlier run was used, ``failed`` the images in the errors table.
    """

    images: int
    measured: int
    reused: int
    failed: int
    rows: int
    table: Path
    errors: Path
    xlsx: Path | None

    @property
    def complete(self) -> bool:
        """True when every image was measured without error."""
        return self.failed == 0


def summary(images: int, measured: int, reused: int, failed: int, errors: Path) -> str:
    """What became of a batch's images, for the user: ``"6 images: 4 measured, 2 failed (see
    ERRORS)"``."""
    kept = f", {reused} kept from an earlier run" if reused else ""
    failed_text = f", {failed} failed (see {errors})" if failed else ""
    noun = "image" if images == 1 else "images"
    return f"{images} {noun}: {measured} measured{kept}{failed_text}"


def error_message(exc: BaseException) -> str:
    """One line for the errors table: the message of expected failures, else the type too."""
    text = " ".join(str(exc).split())
    if isinstance(exc, MemoryError):
        return "not enough memory"
    if isinstance(exc, ValueError | OSError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def attempt(measure: Measure, path: str, annotated: str | None) -> Outcome:
    """Run ``measure`` on one image, turning any exception into an error outcome."""
    try:
        rows = measure(path, annotated)
    except Exception as exc:  # a bad image is reported and skipped; the batch goes on
        return Outcome(path, error=error_message(exc))
    return Outcome(path, rows=list(rows))


@dataclass(frozen=True)
class _Job:
    """One image to measure; with ``part``, the worker keeps the outcome there itself (and
    still returns it, so this process never reads back a part written in the same run); with
    a ``separator``, it also formats the image's lines of the CSV table (``shown`` is the
    image's path as the table gives it), so that the workers share that work too."""

    path: str
    shown: str
    annotated: str | None
    part: Path | None
    stat: tuple[int, int] | None
    separator: str | None


@dataclass(frozen=True)
class _Done:
    """An image's outcome and, if its job asked for them, its lines of the CSV table for the
    table's columns ``columns``."""

    outcome: Outcome
    columns: list[str] | None = None
    lines: str | None = None


def _run_job(measure: Measure, job: _Job) -> _Done:
    """Measure one image; write its part file and format its table lines if the job says so."""
    outcome = attempt(measure, job.path, job.annotated)
    columns = None if outcome.error is not None else by_column(outcome.rows or [])
    if job.part is not None:
        write_part(job.part, outcome, job.stat, columns)
    if job.separator is None or columns is None:
        return _Done(outcome)
    names, values = columns
    count = max(1, len(outcome.rows or []))
    lines = csv_column_lines([[job.shown] * count, *values], count, separator=job.separator)
    return _Done(outcome, ["path", *names], lines)


def _table_rows(shown: str, outcome: Outcome) -> list[dict]:
    """An image's rows in the combined table: its path first (one row with the path only when
    the image has no rows)."""
    return [{"path": shown, **row} for row in outcome.rows or [{}]]


def _worker_setup() -> None:
    """Worker initializer: one OpenCV thread per process (the processes share the cores) and
    freed image buffers kept for the next image."""
    keep_image_buffers()
    with contextlib.suppress(ImportError):
        import cv2

        cv2.setNumThreads(1)


def _process_context(measure: Measure):
    """How worker processes start: on Linux, forked from a server process that has imported
    the measuring code once (about 0.05 s sooner, and half the CPU, than each worker
    importing it); elsewhere, and in frozen applications, spawned (macOS frameworks that
    OpenCV loads are not safe to fork, as Python's own default there says).

    Never forked from this process: a fork of a process whose OpenCV thread pool has run can
    hang in the child (it does, in cv2.setNumThreads); the server only imports.
    """
    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    if getattr(sys, "frozen", False) or not sys.platform.startswith("linux") or not forkserver:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    module = getattr(measure, "__module__", None) or type(measure).__module__
    context.set_forkserver_preload([__name__, module, "cv2", "PIL.Image"])
    return context


def _run_processes(measure: Measure, jobs: list[_Job], processes: int, record) -> None:
    context = _process_context(measure)
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_worker_setup)
    try:
        futures = [pool.submit(_run_job, measure, job) for job in jobs]
        for future in as_completed(futures):
            record(future.result())
    except BrokenProcessPool as exc:
        pool.shutdown(wait=False, cancel_futures=True)
        raise BatchError(
            "a worker process ended abruptly (out of memory?); the results so far are kept: "
            "run the batch again, with fewer --jobs if it happens again"
        ) from exc
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _run_dask(measure: Measure, jobs: list[_Job], address: str, record) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise BatchError(DASK_MISSING) from exc
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BatchError(f"cannot connect to the Dask scheduler at {address}: {exc}") from exc
    try:
        futures = [client.submit(_run_job, measure, job, pure=False) for job in jobs]
        for future in dask_completed(futures, loop=client.loop):
            record(future.result())
    finally:
        client.close()


def run_batch(
    images: Sequence[str | os.PathLike[str]],
    measure: Measure,
    table: str | os.PathLike[str],
    *,
    fingerprint: str = "",
    annotated: str | os.PathLike[str] | None = None,
    xlsx: bool = False,
    jobs: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> BatchResult:
    """Measure every image, write the combined table and the errors table (see the module doc).

    Parameters
    ----------
    images : sequence of path
        In table order (see :func:`~measurer.io.batch_files.find_images`); written in the
        ``path`` column as given.
    measure : callable ``(path, annotated_path or None) -> list of dict``
        Rows of one image (scalar values); writes the annotated PNG when given a path. Any
        exception makes the image an error row: ``ValueError`` and ``OSError`` messages are
        shown as they are.
    table : path
        The combined table; its extension picks the format (see
        :func:`measurer.io.tables.write_rows`). The errors table and work folder go beside it.
    fingerprint : str
        Identifies what ``measure`` computes (the recipe): kept parts of another fingerprint
        are discarded.
    annotated : path, optional
        Folder for annotated PNGs (see :func:`~measurer.io.batch_files.annotated_paths`).
    xlsx : bool
        Also write the table as ``TABLE.xlsx``.
    jobs : int
        Processes on this machine; 1 measures in this process.
    scheduler : str, optional
        Address of a Dask distributed scheduler to run on instead.
    force : bool
        Measure every image again, ignoring kept parts.
    progress : callable ``(done, total, failed)``, optional
        Called after each image measured in this run (``total`` leaves out reused ones).
    log : callable ``(message)``, optional
        Receives notes for the user.

    Raises
    ------
    BatchError
        Dask missing or its scheduler unreachable, or a worker process killed (out of
        memory, for instance).
    OSError
        The table or work folder cannot be written.
    KeyboardInterrupt
        Passed on; the parts written so far are kept for the next run.
    """
    table = Path(table)
    shown = {os.path.abspath(p): str(p) for p in images}
    parts = WorkFolder(parts_folder(table), fingerprint, force=force, log=log or (lambda _: None))
    outputs = annotated_paths([Path(k) for k in shown], annotated) if annotated else {}
    outcomes: dict[str, Outcome] = {}  # kept from an earlier run, then measured in this one
    separator = csv_separator(table) if export_format(table) == "csv" else None
    todo = _jobs_todo(shown, parts, outputs, outcomes, separator, keep_here=scheduler is not None)
    stats = {job.path: job.stat for job in todo}
    formatted: dict[str, _Done] = {}
    counts = [0, 0]  # done, failed

    def record(done: _Done) -> None:
        outcome = done.outcome
        if scheduler is not None:  # measured on a Dask worker: kept here
            write_part(parts.file(outcome.path), outcome, stats[outcome.path])
        outcomes[outcome.path] = outcome
        if done.lines is not None:
            formatted[outcome.path] = done
        counts[0] += 1
        counts[1] += outcome.error is not None
        if progress is not None:
            progress(counts[0], len(todo), counts[1])

    if scheduler is not None and todo:
        _run_dask(measure, todo, scheduler, record)
    elif jobs > 1 and len(todo) > 1:
        _run_processes(measure, todo, min(jobs, len(todo)), record)
    else:
        for job in todo:
            record(_run_job(measure, job))
    return _combine(shown, outcomes, formatted, table, xlsx, measured=len(todo))


def _jobs_todo(
    shown: dict[str, str],
    parts: WorkFolder,
    outputs: dict[str, Path],
    kept: dict[str, Outcome],
    separator: str | None,
    *,
    keep_here: bool,
) -> list[_Job]:
    """The images without a usable kept result (or annotated image), as jobs; the usable
    kept results go into ``kept``."""
    todo = []
    for key, path in shown.items():
        stat = file_stat(key)
        part = parts.read(key)
        done = part is not None and part[0].error is None and stat is not None
        done = done and part[1] == stat
        if done and (key not in outputs or outputs[key].exists()):
            kept[key] = part[0]
            continue
        annotated = None
        if key in outputs:
            outputs[key].parent.mkdir(parents=True, exist_ok=True)
            annotated = str(outputs[key])
        part = None if keep_here else parts.file(key)
        todo.append(_Job(key, path, annotated, part, stat, separator))
    return todo


def _combine(
    shown: dict[str, str],
    outcomes: dict[str, Outcome],
    formatted: dict[str, _Done],
    table: Path,
    xlsx: bool,
    *,
    measured: int,
) -> BatchResult:
    """Write the combined table and the errors table from the outcomes, in image order; the
    CSV lines the workers formatted are used as they are when their columns are the table's."""
    columns: dict[str, None] = {"path": None}
    done: list[str] = []
    errors: list[dict] = []
    for key, path in shown.items():
        outcome = outcomes[key]
        if outcome.error is not None:
            errors.append({"path": path, "error": outcome.error})
        else:
            done.append(key)
            columns.update(dict.fromkeys(itertools.chain.from_iterable(outcome.rows or [])))
    names = list(columns)
    count = sum(max(1, len(outcomes[key].rows or [])) for key in done)
    is_csv = export_format(table) == "csv"
    if is_csv:
        separator = csv_separator(table)
        pieces = []
        for key in done:
            piece = formatted.get(key)
            if piece is not None and piece.columns == names:
                pieces.append(piece.lines)
            else:
                rows = _table_rows(shown[key], outcomes[key])
                pieces.append(csv_lines(names, rows, separator=separator))
        write_csv_lines(table, names, "".join(pieces), separator=separator)
    xlsx_path = None
    if xlsx or not is_csv:
        rows = [row for key in done for row in _table_rows(shown[key], outcomes[key])]
        if not is_csv:
            write_rows(table, names, rows)
        if xlsx and table.suffix.lower() != ".xlsx":
            xlsx_path = write_rows(table.with_suffix(".xlsx"), names, rows, format="xlsx")
    write_rows(errors_path(table), ["path", "error"], errors)
    return BatchResult(
        images=len(shown),
        measured=measured - len(errors),
        reused=len(shown) - measured,
        failed=len(errors),
        rows=count,
        table=table,
        errors=errors_path(table),
        xlsx=xlsx_path,
    )
