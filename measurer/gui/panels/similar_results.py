"""The result grid of the Similar images panel: thumbnails with their similarity, filtered live.

Thumbnails are made on a worker thread as numpy arrays
(:func:`~measurer.gui.panels.similar_tasks.make_thumbnail`) and turned into pixmaps on the GUI
thread (:func:`to_pixmap`). The threshold slider only hides and shows items: the search ran
once, with no minimum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.gui.panels.similar_tasks import THUMBNAIL_SIZE

#: Default smallest similarity shown, in percent (fingerprints.DEFAULT_THRESHOLD).
DEFAULT_THRESHOLD = 70


def to_pixmap(rgb: np.ndarray | None, size: int = THUMBNAIL_SIZE) -> QtGui.QPixmap:
    """A ``size`` × ``size`` pixmap of an RGB uint8 thumbnail, centred (GUI thread only).

    Every icon has the same size, or the grid lays out its items' texts wrongly; None gives
    a grey "unreadable" tile.
    """
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    if rgb is None:
        painter.fillRect(pixmap.rect(), QtGui.QColor(90, 90, 90))
        painter.setPen(QtGui.QColor(230, 230, 230))
        painter.drawText(pixmap.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, "unreadable")
    else:
        rgb = np.ascontiguousarray(rgb)
        rows, cols = rgb.shape[:2]
        image = QtGui.QImage(
            rgb.data, cols, rows, rgb.strides[0], QtGui.QImage.Format.Format_RGB888
        )
        painter.drawImage((size - cols) // 2, (size - rows) // 2, image)
    painter.end()
    return pixmap


def describe_scores(result: Any) -> str:
    """Tooltip of a result: its path, score, the part scores and the matched region."""
    parts = ", ".join(f"{name} {value:.0f} %" for name, value in result.scores.items())
    lines = [str(result.path), f"{result.score:.1f} % similar ({parts})"]
    if result.region is not None:
        lines.append("Outlined: where the query lies in this image")
    return "\n".join(lines)


class SimilarResults(QtWidgets.QWidget):
    """Threshold slider, thumbnail grid and a count of the results shown.

    Signals
    -------
    open_requested(object)
        The Path of a result the user double-clicked (or pressed Enter on).
    """

    open_requested = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: list[Any] = []
        self.threshold = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.threshold.setRange(0, 100)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setTickInterval(10)
        self.threshold.setTickPosition(QtWidgets.QSlider.TickPosition.TicksBelow)
        self.threshold.setToolTip("Show only the results at least this similar (no new search)")
        self.threshold_label = QtWidgets.QLabel()
        self.threshold_label.setMinimumWidth(
            QtGui.QFontMetrics(self.font()).horizontalAdvance("≥ 100 %")
        )
        self.list = QtWidgets.QListWidget()
        self.list.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.list.setIconSize(QtCore.QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.list.setGridSize(QtCore.QSize(THUMBNAIL_SIZE + 16, THUMBNAIL_SIZE + 44))
        self.list.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.list.setMovement(QtWidgets.QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)
        self.list.setToolTip("Double-click a result to open it")
        self.summary = QtWidgets.QLabel("")
        self.summary.setWordWrap(True)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Show"))
        row.addWidget(self.threshold, 1)
        row.addWidget(self.threshold_label)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.summary)
        self.threshold.valueChanged.connect(self._apply_threshold)
        self.list.itemActivated.connect(self._on_activated)
        self._apply_threshold()

    def set_results(self, results: list[Any], thumbnails: list[np.ndarray | None]) -> None:
        """Show search results (best first) with their thumbnails, filtered by the threshold."""
        self.list.clear()
        self.results = list(results)
        for number, (result, thumbnail) in enumerate(zip(results, thumbnails, strict=True)):
            item = QtWidgets.QListWidgetItem(
                QtGui.QIcon(to_pixmap(thumbnail)), f"{result.score:.1f} %\n{result.path.name}"
            )
            item.setData(QtCore.Qt.ItemDataRole.UserRole, number)
            item.setToolTip(describe_scores(result))
            self.list.addItem(item)
        self._apply_threshold()

    def clear(self) -> None:
        """Forget the results."""
        self.set_results([], [])

    def _apply_threshold(self) -> None:
        threshold = self.threshold.value()
        self.threshold_label.setText(f"≥ {threshold} %")
        shown = 0
        for i in range(self.list.count()):
            item = self.list.item(i)
            hidden = self.results[item.data(QtCore.Qt.ItemDataRole.UserRole)].score < threshold
            item.setHidden(hidden)
            shown += not hidden
        if not self.results:
            self.summary.setText("")
        elif shown:
            self.summary.setText(
                f"{shown} of the {len(self.results)} closest images are at least "
                f"{threshold} % similar. Double-click one to open it."
            )
        else:
            self.summary.setText(
                f"None of the {len(self.results)} closest images is at least {threshold} % "
                "similar; lower the threshold to see them."
            )

    def _on_activated(self, item: QtWidgets.QListWidgetItem) -> None:
        result = self.results[item.data(QtCore.Qt.ItemDataRole.UserRole)]
        self.open_requested.emit(Path(result.path))
