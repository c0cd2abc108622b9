"""Render the application icon from resources/icon.svg into measurer/resources/.

Usage::

    python resources/make_icon.py [OUTPUT_DIR]

Writes ``icon.png`` (256×256) and ``icon-64.png`` (64×64) with Qt's SVG renderer, offscreen.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "icon.svg"
DEFAULT_OUTPUT = HERE.parent / "measurer" / "resources"
SIZES = {"icon.png": 256, "icon-64.png": 64}


def render(source: Path, output: Path) -> list[Path]:
    """Render ``source`` at every size in :data:`SIZES` into ``output``; return the files."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"{source}: not a valid SVG file")
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, size in SIZES.items():
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = output / name
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"{path}: could not write the PNG file")
        written.append(path)
    del app
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    for path in render(SOURCE, args.output):
        print(path)


if __name__ == "__main__":
    main()
