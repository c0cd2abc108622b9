"""Frame time of panning a 20000x20000 8-bit image in the canvas (memory-mapped TIFF), against
panning a 2048x2048 image held in memory, measured in the same run.

Each frame moves the view by a tenth of its width, lets the canvas fetch the visible window
(as its debounce timer would) and repaints the viewport.

Run: python bench/bench_pan.py [--frames N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import tifffile
from PySide6 import QtCore, QtWidgets

from measurer.gui.canvas.view import CanvasWidget
from measurer.io.images import read_image


def pan_frames(canvas: CanvasWidget, frames: int, zoom_px: float) -> list[float]:
    """Per-frame seconds: move the view, update the detail window, repaint."""
    app = QtWidgets.QApplication.instance()
    rows, cols = canvas.display.data.shape[:2]
    width = canvas.viewbox.width() * zoom_px
    height = canvas.viewbox.height() * zoom_px
    x, y = cols / 3, rows / 3
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        x += width / 10
        y += height / 20
        canvas.viewbox.setRange(QtCore.QRectF(x, y, width, height), padding=0)
        canvas.display._update_detail()
        canvas.viewport().repaint()
        app.processEvents()
        times.append(time.perf_counter() - start)
    return times


def report(name: str, times: list[float]) -> float:
    median = statistics.median(times)
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    print(f"{name:44s} median {median * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    app = QtWidgets.QApplication([])
    canvas = CanvasWidget()
    canvas.resize(1600, 1000)
    canvas.show()
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.tif"
        data = np.lib.format.open_memmap(Path(folder) / "tmp.npy", "w+", np.uint8, (20000, 20000))
        for r in range(0, 20000, 2000):
            data[r : r + 2000] = (np.arange(20000) % 251).astype(np.uint8)[None, :]
        tifffile.imwrite(big, data)
        del data
        small = np.random.default_rng(0).integers(0, 255, (2048, 2048), dtype=np.uint8)

        canvas.set_image(small)
        base_1 = report(
            "2048x2048 in memory, 1 image px / screen px", pan_frames(canvas, args.frames, 1)
        )
        image = read_image(big)
        print(f"20000x20000 read as {type(image.data).__name__}")
        start = time.perf_counter()
        canvas.set_image(image.page(0))
        app.processEvents()
        print(f"showing it (overview) took {time.perf_counter() - start:.2f} s")
        big_1 = report(
            "20000x20000 memmap, 1 image px / screen px", pan_frames(canvas, args.frames, 1)
        )
        big_4 = report(
            "20000x20000 memmap, 4 image px / screen px", pan_frames(canvas, args.frames, 4)
        )
        big_20 = report(
            "20000x20000 memmap, whole width (overview)", pan_frames(canvas, args.frames, 12)
        )
        print(
            f"ratio big / small at 1:1: {big_1 / base_1:.2f}x; at 4:1 {big_4 / base_1:.2f}x; "
            f"overview {big_20 / base_1:.2f}x"
        )
        del image
    canvas.close()
    app.quit()


if __name__ == "__main__":
    main()
