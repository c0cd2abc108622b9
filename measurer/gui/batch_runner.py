"""Running ``measurer batch`` for the GUI: the same program the command line runs, as a child
process, with progress read from the batch's work folder.

The GUI imports no ``measurer.cli`` module (the front ends never import each other), so the
Batch dialog starts ``measurer batch`` (``python -m measurer batch``, or the frozen app's own
executable) and watches ``TABLE.csv.parts``: every image measured writes its part there the
moment it is done (see :mod:`measurer.io.batch`), which gives the count and the rate. A
separate process also keeps a crash on one image (out of memory) from taking the window down.
No Qt here: :func:`run_batch_program` runs on a worker thread through
:func:`measurer.gui.workers.run_task`.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from measurer.io.batch import summary
from measurer.io.batch_files import BatchError, errors_path, find_images, parts_folder

#: Exit codes of ``measurer batch``: some images failed; bad recipe or usage; interrupted.
EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 3, 2, 130
_PART = re.compile(r"[0-9a-f]{32}\.json")


@dataclass(frozen=True)
class BatchSpec:
    """What the Batch dialog asks ``measurer batch`` to do (its arguments)."""

    recipe: str
    inputs: tuple[str, ...]
    table: str
    xlsx: bool = False
    annotated: str | None = None
    jobs: int = 1
    force: bool = False

    def command(self) -> list[str]:
        """The command line that runs this batch."""
        frozen = getattr(sys, "frozen", False)
        program = [sys.executable] if frozen else [sys.executable, "-m", "measurer"]
        argv = [*program, "batch", self.recipe, *self.inputs, "--out", self.table]
        argv += ["--jobs", str(self.jobs)]
        argv += ["--xlsx"] if self.xlsx else []
        argv += ["--annotated", self.annotated] if self.annotated else []
        return argv + (["--force"] if self.force else [])


@dataclass(frozen=True)
class BatchSummary:
    """How a batch ended: ``images = measured + reused + failed`` unless ``cancelled``."""

    images: int
    measured: int
    reused: int
    failed: int
    table: Path
    errors: Path
    cancelled: bool = False

    def text(self) -> str:
        """One paragraph for the user."""
        if self.cancelled:
            return (
                f"Cancelled after {self.measured + self.failed} of {self.images} images. "
                "The images finished so far are kept: Run again to measure only the rest."
            )
        return summary(self.images, self.measured, self.reused, self.failed, self.errors) + "."


def _parts(folder: Path) -> dict[str, int]:
    """The parts in the work folder, by name, with their modification times."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return {}
    return {e.name: e.stat().st_mtime_ns for e in entries if _PART.fullmatch(e.name)}


def _count_rows(path: Path) -> int:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    except OSError:
        return 0


def _interrupt(process: subprocess.Popen) -> None:
    """Ask the batch to stop: on POSIX as Ctrl+C would (images being measured by worker
    processes are finished and kept), elsewhere by ending the process."""
    if os.name == "posix":
        process.send_signal(signal.SIGINT)
    else:
        process.terminate()


def run_batch_program(
    spec: BatchSpec,
    *,
    progress: Callable[..., None],
    cancelled: Callable[[], bool],
    stop: threading.Event | None = None,
    poll: float = 0.2,
) -> BatchSummary:
    """Run ``measurer batch`` as ``spec`` says and wait for it, reporting progress.

    ``progress(fraction, text)`` gets the count and rate; ``cancelled()`` or ``stop`` ask the
    batch to stop (the summary then says ``cancelled``).

    Raises
    ------
    BatchError
        No images, or the program refused the recipe or the arguments (its message).
    """
    table = Path(spec.table)
    skip = [parts_folder(table), *([spec.annotated] if spec.annotated else [])]
    images = find_images(list(spec.inputs), skip=skip)
    folder = parts_folder(table)
    before = {} if spec.force else _parts(folder)
    total = len(images)
    process = subprocess.Popen(
        spec.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    start, interrupted = time.perf_counter(), False
    while process.poll() is None:
        if not interrupted and (cancelled() or (stop is not None and stop.is_set())):
            _interrupt(process)
            interrupted = True
        now = _parts(folder)
        new = sum(1 for name, mtime in now.items() if before.get(name) != mtime)
        kept = min(len(before), total)
        rate = new / max(time.perf_counter() - start, 1e-9)
        done = min(kept + new, total)
        progress(done / max(total, 1), f"{done} of {total} images, {rate:.2f} images/s")
        time.sleep(poll)
    reader.join(timeout=5)
    code = process.returncode
    if code not in (0, EXIT_SOME_FAILED) and not interrupted:
        message = next((m.strip() for m in reversed(lines) if m.strip()), f"exit code {code}")
        raise BatchError(message.removeprefix("measurer: error: "))
    now = _parts(folder)
    new = sum(1 for name, mtime in now.items() if before.get(name) != mtime)
    failed = 0 if interrupted else _count_rows(errors_path(table))
    return BatchSummary(
        images=total,
        measured=new - failed,
        reused=total - new if not interrupted else len(before),
        failed=failed,
        table=table,
        errors=errors_path(table),
        cancelled=interrupted,
    )
