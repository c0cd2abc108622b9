"""The canvas: the image with zoom, pan, contrast, and the drawing tools on top.

Large images stay fluid: an overview (every k-th pixel) is shown when zoomed out, and the visible
window alone is read at screen resolution when zoomed in, so a memory-mapped 20000×20000 image
is never read whole.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from measurer.gui.canvas.coords import image_rect
from measurer.gui.canvas.tools import DrawingTools, Tool

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

#: Images with more pixels than this are shown through an overview plus a detail window.
OVERVIEW_PIXELS = 4096 * 4096
#: Longest side of the overview.
OVERVIEW_SIDE = 4096


class CanvasViewBox(pg.ViewBox):
    """A view box that lets the current drawing tool take clicks and drags first."""

    background_clicked = QtCore.Signal(object)  # scene position of a click no item took

    def __init__(self) -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False)
        self.tools = DrawingTools(self)

    def mouseClickEvent(self, ev) -> None:
        """Give the click to the drawing tool, else pan/zoom behaviour."""
        if self.tools.click(ev):
            ev.accept()
        elif ev.button() == QtCore.Qt.MouseButton.LeftButton and self.tools.tool is Tool.NAVIGATE:
            ev.accept()
            self.background_clicked.emit(ev.scenePos())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:
        """Give the drag to the drawing tool, else pan."""
        if axis is None and self.tools.drag(ev):
            return
        super().mouseDragEvent(ev, axis)


class ImageDisplay(QtCore.QObject):
    """Shows an image array, through an overview and a detail window when it is large."""

    def __init__(self, viewbox: pg.ViewBox) -> None:
        super().__init__()
        self._viewbox = viewbox
        self.item = pg.ImageItem(axisOrder="row-major")
        self._detail = pg.ImageItem(axisOrder="row-major")
        self._detail.setZValue(1)
        self._detail.hide()
        for item in (self.item, self._detail):
            viewbox.addItem(item)
        self._data: np.ndarray | None = None
        self._step = 1
        self._fetched: tuple[int, int, int, int, int] | None = None
        self._timer = QtCore.QTimer(self, singleShot=True, interval=40)
        self._timer.timeout.connect(self._update_detail)
        viewbox.sigRangeChanged.connect(lambda *_: self._timer.start() if self._step > 1 else None)
        self.item.sigImageChanged.connect(self._copy_display_settings)

    @property
    def data(self) -> np.ndarray | None:
        """The full-resolution array shown (possibly memory-mapped)."""
        return self._data

    def set_image(self, data: np.ndarray, *, keep_levels: bool = False) -> None:
        """Show ``data`` ((rows, cols) or (rows, cols, 3|4)), full resolution or overview."""
        self._data = data
        rows, cols = data.shape[:2]
        self._step = 1
        if rows * cols > OVERVIEW_PIXELS:
            self._step = max(1, math.ceil(max(rows, cols) / OVERVIEW_SIDE))
        shown = data[:: self._step, :: self._step] if self._step > 1 else data
        levels = self.item.levels if keep_levels and self.item.image is not None else None
        self.item.setImage(np.asarray(shown), autoLevels=levels is None, levels=levels)
        self.item.setRect(QtCore.QRectF(*image_rect(data.shape)))
        self._detail.hide()
        self._fetched = None
        if self._step > 1:
            self._timer.start()

    def _copy_display_settings(self) -> None:
        self._detail.setLevels(self.item.levels)
        self._detail.setLookupTable(self.item.lut)

    def _update_detail(self) -> None:
        """Read only the visible window (plus a margin, so small pans read nothing), at about
        screen resolution."""
        if self._data is None or self._step == 1:
            return
        (x0, x1), (y0, y1) = self._viewbox.viewRange()
        rows, cols = self._data.shape[:2]
        c0, c1 = max(0, math.floor(x0)), min(cols, math.ceil(x1) + 1)
        r0, r1 = max(0, math.floor(y0)), min(rows, math.ceil(y1) + 1)
        width_px = max(1.0, self._viewbox.width())
        step = max(1, math.floor((c1 - c0) / width_px))
        if step >= self._step or c1 <= c0 or r1 <= r0:
            self._detail.hide()  # the overview is as sharp as the screen
            self._fetched = None
            return
        fetched = self._fetched
        if fetched is not None and fetched[4] == step and self._detail.isVisible():
            fr0, fr1, fc0, fc1, _ = fetched
            if fr0 <= r0 and r1 <= fr1 and fc0 <= c0 and c1 <= fc1:
                return
        margin_r, margin_c = (r1 - r0) // 2, (c1 - c0) // 2
        r0, r1 = max(0, r0 - margin_r), min(rows, r1 + margin_r)
        c0, c1 = max(0, c0 - margin_c), min(cols, c1 + margin_c)
        window = np.asarray(self._data[r0:r1:step, c0:c1:step])
        self._detail.setImage(window, autoLevels=False, levels=self.item.levels)
        self._detail.setLookupTable(self.item.lut)
        shown_rows = window.shape[0] * step
        shown_cols = window.shape[1] * step
        self._detail.setRect(QtCore.QRectF(c0 - 0.5, r0 - 0.5, shown_cols, shown_rows))
        self._detail.show()
        self._fetched = (r0, r0 + shown_rows, c0, c0 + shown_cols, step)


class CanvasWidget(pg.GraphicsView):
    """The image viewer with drawing tools; overlays live in ``overlay_group``."""

    cursor_moved = QtCore.Signal(float, float)  # row, col
    cancelled = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewbox = CanvasViewBox()
        self.setCentralItem(self.viewbox)
        self.display = ImageDisplay(self.viewbox)
        self.overlay_group = pg.ItemGroup()
        self.overlay_group.setZValue(10)
        self.viewbox.addItem(self.overlay_group, ignoreBounds=True)
        self.tools = self.viewbox.tools
        self.hint = QtWidgets.QLabel(
            "Open an image with File → Open (Ctrl+O), drop a file here,\n"
            "or try File → Open sample.",
            self,
        )
        self.hint.setStyleSheet("color: #bbb; font-size: 15px;")
        self.hint.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # the main window takes dropped files

    def set_image(self, data: np.ndarray, *, keep_view: bool = False) -> None:
        """Show a new image and fit it to the window (unless ``keep_view``)."""
        self.display.set_image(data, keep_levels=keep_view)
        self.hint.hide()
        if not keep_view:
            self.fit()

    def fit(self) -> None:
        """Zoom so the whole image fits the window."""
        if self.display.data is not None:
            x, y, w, h = image_rect(self.display.data.shape)
            self.viewbox.setRange(QtCore.QRectF(x, y, w, h), padding=0.02)

    def set_pixel_aspect(self, ratio: float) -> None:
        """Show each image pixel ``ratio`` times as wide on screen as it is tall (pixel width /
        pixel height for pixels at their physical aspect, 1 for square screen pixels), and fit
        the image again when the ratio changes."""
        if ratio != self.viewbox.state["aspectLocked"]:
            self.viewbox.setAspectLocked(True, ratio=ratio)
            self.fit()

    def one_to_one(self) -> None:
        """Zoom so one image pixel is one screen pixel, keeping the centre."""
        centre = self.viewbox.viewRect().center()
        width, height = self.viewbox.width(), self.viewbox.height()
        rect = QtCore.QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height)
        self.viewbox.setRange(rect, padding=0)

    def zoom(self, factor: float) -> None:
        """Zoom in (factor > 1) or out around the view's centre."""
        self.viewbox.scaleBy((1 / factor, 1 / factor))

    def set_tool(self, tool: Tool) -> None:
        """Choose the drawing tool (``Tool.NAVIGATE`` to pan and edit)."""
        self.tools.set_tool(tool)
        cursor = (
            QtCore.Qt.CursorShape.ArrowCursor
            if tool is Tool.NAVIGATE
            else QtCore.Qt.CursorShape.CrossCursor
        )
        self.setCursor(cursor)

    def set_overlays_visible(self, visible: bool) -> None:
        """Show or hide every annotation and overlay."""
        self.overlay_group.setVisible(visible)

    def resizeEvent(self, ev) -> None:
        """Keep the empty-canvas hint centred."""
        super().resizeEvent(ev)
        hint = getattr(self, "hint", None)  # pyqtgraph resizes once before __init__ ends
        if hint is not None:
            hint.setGeometry(self.rect())

    def keyPressEvent(self, ev) -> None:
        """Esc cancels the unfinished shape; Enter finishes a polyline or polygon."""
        if ev.key() == QtCore.Qt.Key.Key_Escape and self.tools.busy:
            self.tools.cancel()
            self.cancelled.emit()
        elif ev.key() in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter) and self.tools.busy:
            self.tools.finish()
        else:
            super().keyPressEvent(ev)

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        point = self.viewbox.mapSceneToView(scene_pos)
        self.cursor_moved.emit(point.y(), point.x())
        self.tools.hover(scene_pos)
