"""Time from process start to the main window shown with an image, against a bare pyqtgraph
ImageView window showing the same image (goal: at most 1.3x), measured in the same run.

Run: python bench/bench_startup.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEASURER = r"""
import sys
from PySide6 import QtCore
from measurer.gui.app import create_app
from measurer.gui.main_window import MainWindow
app = create_app()
settings = QtCore.QSettings(sys.argv[2], QtCore.QSettings.Format.IniFormat)
window = MainWindow(settings)
window.show()
window.open_paths([sys.argv[1]])
def check():
    if window.document is not None:
        window.canvas.viewport().repaint()
        print("READY", flush=True)
        app.quit()
    else:
        QtCore.QTimer.singleShot(1, check)
check()
app.exec()
"""

BARE = r"""
import sys
import numpy as np
import pyqtgraph as pg
import tifffile
from PySide6 import QtWidgets
pg.setConfigOptions(imageAxisOrder="row-major")
app = QtWidgets.QApplication([])
view = pg.ImageView()
view.setImage(tifffile.imread(sys.argv[1]))
view.show()
app.processEvents()
view.ui.graphicsView.viewport().repaint()
print("READY", flush=True)
"""


def time_to_ready(code: str, *args: str) -> float:
    """Seconds from launching a Python process to its READY line."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "READY":
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError("the process ended without showing the image")
    process.wait()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import numpy as np
    import tifffile

    with tempfile.TemporaryDirectory() as folder:
        image = Path(folder) / "image.tif"
        rng = np.random.default_rng(0)
        tifffile.imwrite(image, rng.integers(0, 4096, (2048, 2048), dtype=np.uint16))
        settings = str(Path(folder) / "settings.ini")
        time_to_ready(BARE, str(image))  # warm the file cache
        ours, bare = [], []
        for _ in range(args.repeat):
            bare.append(time_to_ready(BARE, str(image)))
            ours.append(time_to_ready(MEASURER, str(image), settings))
    m, b = statistics.median(ours), statistics.median(bare)
    print(f"bare pyqtgraph ImageView : median {b:.3f} s over {args.repeat} runs")
    print(f"measurer main window     : median {m:.3f} s over {args.repeat} runs")
    print(f"ratio measurer / bare    : {m / b:.2f}x (goal <= 1.3x)")


if __name__ == "__main__":
    main()
