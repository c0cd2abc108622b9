"""Drawing 100,000 landmarks (and, separately, 10,000 blob outlines) of a masks run in the main
window, and the frame time of panning over them, against panning the same image with no
annotations, measured in the same run (offscreen).

Each case analyses a synthetic mask of small blobs (a grid of discs of random radius), turns
the result into annotations as the Masks panel does (on a worker in the app: timed apart), then
times *apply -> items ready*: the undoable ApplyDetection (table rows, derived rows, the batched
canvas items, the panel's overlay) up to the first repaint. Panning frames move the view round
the image centre, repaint the viewport and process events; zoomed in (about 1,000 blobs in view)
and with the whole image in view.

Run: python bench/bench_landmarks.py [--frames N]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6 import QtCore, QtWidgets

from measurer.core.annotations import Kind
from measurer.core.commands import AnalysisStep, ApplyDetection
from measurer.core.document import Document
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.masks_panel import MasksPanel
from measurer.gui.panels.masks_shapes import MaskOptions, analyse_masks

PITCH = 10  # pixels between blob centres


def blob_grid(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """A mask with rows x cols discs of radius 2.5-4 px on a PITCH grid (no two touch)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((rows * PITCH, cols * PITCH), np.uint8)
    r, c = np.mgrid[-5:5, -5:5]
    radii = rng.uniform(2.5, 4.0, (rows, cols))
    for i in range(rows):
        for j in range(cols):
            mask[i * PITCH : (i + 1) * PITCH, j * PITCH : (j + 1) * PITCH] |= (
                r**2 + c**2 <= radii[i, j] ** 2
            ).astype(np.uint8) * 255
    return mask


def settle(app: QtWidgets.QApplication, window: MainWindow) -> None:
    window.canvas.viewport().repaint()
    app.processEvents()


def pan_frames(app, window: MainWindow, frames: int, width: float) -> list[float]:
    """Per-frame seconds: move the view (its centre circles the image centre at a fifth of the
    view's width, 20 frames a turn), repaint, process events."""
    viewbox = window.canvas.viewbox
    rows, cols = window.document.image.shape[:2]
    height = width * viewbox.height() / viewbox.width()
    times = []
    for k in range(frames):
        start = time.perf_counter()
        angle = 2 * math.pi * k / 20
        x = cols / 2 + width / 5 * math.cos(angle) - width / 2
        y = rows / 2 + width / 5 * math.sin(angle) - height / 2
        viewbox.setRange(QtCore.QRectF(x, y, width, height), padding=0)
        settle(app, window)
        times.append(time.perf_counter() - start)
    return times


def report(name: str, times: list[float], baseline: float | None = None) -> float:
    median = statistics.median(times)
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    ratio = f"  {median / baseline:5.2f}x baseline" if baseline else ""
    print(f"  {name:38s} median {median * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms{ratio}")
    return median


def case(app, window, title, mask, options, kinds, frames) -> None:
    print(f"{title}: mask {mask.shape[1]} x {mask.shape[0]} px")
    window.set_document(Document(mask))
    settle(app, window)
    zoomed = 40 * PITCH * window.canvas.viewbox.width() / window.canvas.viewbox.height()
    whole = float(mask.shape[1])
    base_in = report("no annotations, zoomed in", pan_frames(app, window, frames, zoomed))
    base_out = report("no annotations, whole image", pan_frames(app, window, frames, whole))

    start = time.perf_counter()
    outcome = analyse_masks(mask, None, options)
    shapes = [s for s in outcome.shapes if s.kind in kinds]
    analysed = time.perf_counter() - start
    counts = {kind: sum(s.kind is kind for s in shapes) for kind in (Kind.POINTS, Kind.POLYGON)}
    print(
        f"  analysis + annotations (worker)        {analysed:6.2f} s   "
        f"{counts[Kind.POINTS]} landmarks, {counts[Kind.POLYGON]} outlines"
    )
    step = AnalysisStep("masks", options.parameters())
    start = time.perf_counter()
    window.controller.apply(ApplyDetection(step, shapes))
    applied = time.perf_counter() - start
    settle(app, window)
    ready = time.perf_counter() - start
    print(f"  apply -> items ready                   {ready:6.2f} s   (apply {applied:.2f} s)")
    print(
        f"  canvas: {len(window.layer.items)} item(s) of their own, "
        f"{len(window.canvas.overlay_group.childItems())} overlay children; "
        f"table {len(window.document.measurements)} rows"
    )
    report("with them, zoomed in", pan_frames(app, window, frames, zoomed), base_in)
    report("with them, whole image", pan_frames(app, window, frames, whole), base_out)
    start = time.perf_counter()
    window.undo()
    settle(app, window)
    print(f"  undo -> items gone                     {time.perf_counter() - start:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    app = QtWidgets.QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        settings = QtCore.QSettings(f"{folder}/settings.ini", QtCore.QSettings.Format.IniFormat)
        window = MainWindow(settings)
        window.add_analysis_panel(MasksPanel)
        window.resize(1600, 1000)
        window.show()
        app.processEvents()
        extremes = ("leftmost", "rightmost", "topmost", "deepest")
        case(
            app,
            window,
            "landmarks: 25,000 blobs x 4 extreme points",
            blob_grid(100, 250),
            MaskOptions(landmarks=extremes),
            {Kind.POINTS},
            args.frames,
        )
        case(
            app,
            window,
            "outlines: 10,000 blobs",
            blob_grid(100, 100, seed=1),
            MaskOptions(landmarks=()),
            {Kind.POLYGON},
            args.frames,
        )
        window.document.history.mark_clean()
        window.close()
    app.quit()


if __name__ == "__main__":
    main()
