"""``measurer batch RECIPE INPUT... --out TABLE.csv``: apply a recipe to many images.

The engine is :func:`measurer.io.batch.run_batch` (its docstring describes the tables, the
work folder that makes reruns resume, and the Dask option); each image is measured by
:class:`measurer.cli.batch_task.ImageTask`. Exit codes: 0 when every image was measured, 3
when some failed (they are listed in ``TABLE.errors.csv``), 2 for a bad recipe or usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from measurer.cli.errors import CliError

#: Exit code when some images could not be measured.
EXIT_SOME_FAILED = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``batch`` subcommand."""
    parser = subparsers.add_parser(
        "batch",
        help="apply a recipe to many images: one table, an errors table, resumable",
        description="Measure every image named by INPUT (files, folders searched recursively "
        "for image files, or glob patterns such as 'data/**/*.tif') as RECIPE says (see "
        "`measurer recipe`), and write one table with the image's path first on every row, "
        "and TABLE.errors.csv (path, error) listing the images that could not be measured. "
        "Results are kept per image in TABLE.csv.parts/ as they come, so running the same "
        "command again, e.g. after an interruption, measures only new, changed and failed "
        "images. Exit code 0 when every image was measured, 3 when some failed, 2 for a bad "
        "recipe or usage.",
    )
    parser.add_argument("recipe", metavar="RECIPE", help="recipe file (JSON)")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image, folder or pattern")
    parser.add_argument(
        "--out", required=True, metavar="TABLE.csv", help="the table (.csv, .tsv, .json, .xlsx)"
    )
    parser.add_argument("--xlsx", action="store_true", help="also write the table as TABLE.xlsx")
    parser.add_argument(
        "--annotated", metavar="DIR", help="also write each image annotated, as PNG, into DIR"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes on this machine (default: one per CPU; 1 measures in this process)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster, e.g. tcp://host:8786 (needs dask[distributed]; "
        "the workers must see the images at the same paths)",
    )
    parser.add_argument(
        "--force", action="store_true", help="measure every image again, ignoring kept results"
    )
    parser.set_defaults(func=run)


class BatchProgress:
    """``progress(done, total, failed)``: a bar with count and rate on a terminal, otherwise a
    line every ``every`` seconds (for log files)."""

    def __init__(self, stream: TextIO, every: float = 10.0) -> None:
        from measurer.cli.index import ProgressBar

        self.stream, self.every = stream, every
        self.bar = ProgressBar(stream, "measuring") if stream.isatty() else None
        self.start = self.shown = time.perf_counter()

    def __call__(self, done: int, total: int, failed: int) -> None:
        if self.bar is not None:
            self.bar(done, total, "")
            return
        now = time.perf_counter()
        if now - self.shown >= self.every and done < total:
            self.shown = now
            rate = done / max(now - self.start, 1e-9)
            self.stream.write(
                f"measurer batch: {done}/{total} images, {rate:.2f} images/s, {failed} failed\n"
            )
            self.stream.flush()

    def finish(self) -> None:
        """End the bar's line, if one was drawn."""
        if self.bar is not None:
            self.bar.finish()


def _task(path: str):
    """The recipe at ``path`` as an ImageTask, and the fingerprint of what it computes."""
    from measurer.cli.batch_task import ImageTask
    from measurer.cli.recipe import recipe_args
    from measurer.io.recipes import RecipeError, read_recipe

    try:
        recipe = read_recipe(path)
        args = recipe_args(recipe, base=Path(path).parent)
    except RecipeError as exc:
        message = str(exc)
        raise CliError(message if message.startswith(f"{path}:") else f"{path}: {message}") from exc
    options = {k: v for k, v in vars(args).items() if k != "func"}
    what = {"analysis": recipe.analysis, "options": options, **recipe.calibration.to_dict()}
    fingerprint = json.dumps(what, sort_keys=True, default=str)
    return ImageTask(recipe.analysis, args, recipe.calibration), fingerprint


def _check_outputs(args: argparse.Namespace) -> None:
    from measurer.io.tables import XLSX_MISSING, ExportError, export_format

    try:
        export_format(args.out)
    except ExportError as exc:
        raise CliError(f"--out: {exc}") from exc
    folder = Path(args.out).parent
    if not folder.is_dir():
        raise CliError(f"--out: the folder {str(folder)!r} does not exist")
    if args.xlsx:
        try:
            import openpyxl  # noqa: F401
        except ImportError as exc:
            raise CliError(XLSX_MISSING) from exc
    if args.jobs is not None and args.jobs < 1:
        raise CliError(f"--jobs must be at least 1, got {args.jobs}")
    if args.scheduler is not None:
        from measurer.io.batch import DASK_MISSING

        try:
            import distributed  # noqa: F401
        except ImportError as exc:
            raise CliError(DASK_MISSING) from exc


def run(args: argparse.Namespace) -> int:
    """Run the batch; the exit code says whether every image was measured."""
    from measurer.io.allocator import keep_image_buffers
    from measurer.io.batch import run_batch, summary
    from measurer.io.batch_files import BatchError, find_images, parts_folder

    task, fingerprint = _task(args.recipe)
    _check_outputs(args)
    keep_image_buffers()  # this process measures the images with --jobs 1
    skip = [parts_folder(args.out), *([args.annotated] if args.annotated else [])]
    progress = BatchProgress(sys.stderr)

    def log(message: str) -> None:
        print(f"measurer batch: {message}", file=sys.stderr)

    try:
        images = find_images(args.inputs, skip=skip)
        result = run_batch(
            images,
            task,
            args.out,
            fingerprint=fingerprint,
            annotated=args.annotated,
            xlsx=args.xlsx,
            jobs=args.jobs or os.cpu_count() or 1,
            scheduler=args.scheduler,
            force=args.force,
            progress=progress,
            log=log,
        )
    except BatchError as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot write the results: {exc}") from exc
    finally:
        progress.finish()
    done = summary(result.images, result.measured, result.reused, result.failed, result.errors)
    rows = f"{result.rows} row" if result.rows == 1 else f"{result.rows} rows"
    log(f"{done}; {rows} in {result.table}")
    return 0 if result.complete else EXIT_SOME_FAILED
