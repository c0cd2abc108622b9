"""The main window: canvas, tools, measurement table, calibration, sessions and export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.core.annotations import Kind
from measurer.core.document import Document
from measurer.core.style import value_text
from measurer.gui.canvas.layer import AnnotationLayer
from measurer.gui.canvas.tools import Tool
from measurer.gui.canvas.view import CanvasWidget
from measurer.gui.controller import DocumentController
from measurer.gui.files import FileActions
from measurer.gui.interop import InteropActions
from measurer.gui.measure_actions import MeasureActions
from measurer.gui.menus import build_menus
from measurer.gui.panels.measurements import MeasurementsPanel
from measurer.gui.panels.profile import ProfilePanel
from measurer.gui.panels.registry import panel_classes
from measurer.gui.status import StatusBar


class MainWindow(QtWidgets.QMainWindow):
    """One image at a time, measured by hand or by analyses, with its table."""

    document_changed = QtCore.Signal(object)

    def __init__(self, settings: QtCore.QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QtCore.QSettings()
        self.setWindowTitle("measurer")
        self.resize(1280, 860)
        self.setAcceptDrops(True)
        self.document: Document | None = None
        self.image_file = None
        self.controller = DocumentController()

        self.canvas = CanvasWidget(self)
        self.layer = AnnotationLayer(self.canvas.overlay_group)
        self.page_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.page_label = QtWidgets.QLabel()
        pages = QtWidgets.QHBoxLayout()
        pages.addWidget(QtWidgets.QLabel("Page"))
        pages.addWidget(self.page_slider, 1)
        pages.addWidget(self.page_label)
        self.page_bar = QtWidgets.QWidget()
        self.page_bar.setLayout(pages)
        self.page_bar.hide()
        central = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.canvas, 1)
        column.addWidget(self.page_bar)
        self.setCentralWidget(central)

        self.table = MeasurementsPanel()
        self.table_dock = self._dock(
            "Measurements", self.table, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.histogram = pg.HistogramLUTWidget(image=self.canvas.display.item)
        self.histogram_dock = self._dock(
            "Contrast", self.histogram, QtCore.Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.profile = ProfilePanel()
        self.profile_dock = self._dock(
            "Profile", self.profile, QtCore.Qt.DockWidgetArea.RightDockWidgetArea
        )

        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.files = FileActions(self)
        self.measure = MeasureActions(self)
        self.interop = InteropActions(self)
        self.actions_by_name = build_menus(self)
        self.analysis_panels: dict[str, QtWidgets.QWidget] = {}
        for panel_class in panel_classes():
            self.add_analysis_panel(panel_class, visible=False)
        self._wire()
        self.resizeDocks(
            [self.histogram_dock, self.profile_dock], [340, 340], QtCore.Qt.Orientation.Horizontal
        )
        self.resizeDocks(
            [self.histogram_dock, self.profile_dock], [160, 400], QtCore.Qt.Orientation.Vertical
        )
        self.resizeDocks([self.table_dock], [230], QtCore.Qt.Orientation.Vertical)
        self._set_enabled(False)
        self.set_tool(Tool.NAVIGATE)

    # --- building ----------------------------------------------------------------------------

    def _dock(self, title: str, widget: QtWidgets.QWidget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def add_analysis_panel(self, panel_class: type, *, visible: bool = True) -> QtWidgets.QWidget:
        """Dock an analysis panel (tabbed with the profile) and list it in the Analyze menu.

        The built-in panels start hidden, so the window opens uncluttered; the Analyze menu
        shows one as a tab.
        """
        panel = panel_class(self)
        dock = self._dock(panel.title, panel, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.profile_dock, dock)
        if visible:
            dock.raise_()
        else:
            dock.hide()
            self.profile_dock.raise_()
        action = self.analyze_menu.addAction(f"{panel.title}…")
        action.triggered.connect(lambda: (dock.show(), dock.raise_()))
        self.analysis_panels[panel.analysis] = panel
        return panel

    def _wire(self) -> None:
        tools = self.canvas.tools
        tools.shape_drawn.connect(self._on_shape_drawn)
        tools.point_clicked.connect(self.controller.add_point)
        tools.drawing_previewed.connect(self._on_drawing_previewed)
        self.layer.edit_requested.connect(self._on_edit_requested)
        self.layer.point_delete_requested.connect(self.controller.delete_point)
        self.layer.edit_previewed.connect(self._on_edit_previewed)
        self.layer.selection_changed.connect(self._on_canvas_selection)
        self.table.selection_changed.connect(self._on_table_selection)
        self.table.export_requested.connect(self.files.export_measurements)
        self.table.delete_requested.connect(self.delete_selection)
        self.controller.failed.connect(lambda message: self.status.showMessage(message, 6000))
        self.canvas.cursor_moved.connect(self._on_cursor_moved)
        self.canvas.viewbox.background_clicked.connect(self._on_background_clicked)
        self.page_slider.valueChanged.connect(self._on_page_changed)

    # --- the document ------------------------------------------------------------------------

    def set_document(self, document: Document, image_file=None) -> None:
        """Show a document (a newly opened image, or a restored session)."""
        if self.document is not None:
            self._disconnect(self.document)
        self.document = document
        self.image_file = image_file
        self.controller.set_document(document)
        self.canvas.set_image(document.image)
        self.layer.set_document(document)
        document.measurements_changed.connect(self._on_measurements_changed)
        document.calibration_changed.connect(self._on_calibration_changed)
        document.history_changed.connect(self._on_history_changed)
        document.annotations_changed.connect(self._on_annotations_changed)
        pages = image_file.pages if image_file is not None else 1
        self.page_bar.setVisible(pages > 1)
        self.page_slider.blockSignals(True)
        self.page_slider.setRange(0, pages - 1)
        self.page_slider.setValue(document.page)
        self.page_slider.blockSignals(False)
        self.page_label.setText(f"{document.page + 1} / {pages}")
        self._on_measurements_changed(document.measurements)
        self._on_calibration_changed(document.calibration)
        self._on_history_changed()
        self.profile.set_document(document)
        self.measure.follow_document()
        self._set_enabled(True)
        self.document_changed.emit(document)

    def _disconnect(self, document: Document) -> None:
        document.measurements_changed.disconnect(self._on_measurements_changed)
        document.calibration_changed.disconnect(self._on_calibration_changed)
        document.history_changed.disconnect(self._on_history_changed)
        document.annotations_changed.disconnect(self._on_annotations_changed)

    def _set_enabled(self, enabled: bool) -> None:
        for name, action in self.actions_by_name.items():
            if name.startswith(
                (
                    "tool.",
                    "edit.",
                    "view.",
                    "measure.",
                    "file.save",
                    "file.export",
                    "file.import",
                    "file.save_recipe",
                    "file.next",
                    "file.prev",
                )
            ):
                action.setEnabled(enabled)

    def open_paths(self, paths: list[str]) -> None:
        """Open the first of several images (the others are reachable with Next image)."""
        if paths:
            self.files.open_image(paths[0])

    # --- tools and edits ---------------------------------------------------------------------

    def set_tool(self, tool: Tool) -> None:
        """Choose the canvas tool."""
        self.canvas.set_tool(tool)
        self.layer.set_editable(tool is Tool.NAVIGATE)
        action = self.actions_by_name.get(f"tool.{tool.value}")
        if action is not None:
            action.setChecked(True)
        self.status.show_tool(tool)

    def set_point_class(self, index: int) -> None:
        """Keys 1–9: the class of the next counted point (and of the selected points)."""
        self.controller.point_class = index
        self.status.showMessage(f"Counting class {index + 1}", 3000)
        if self.canvas.tools.tool is not Tool.POINT:
            self.set_tool(Tool.POINT)

    def delete_selection(self) -> None:
        """Delete the selected annotations, or only the points of a point set whose rows alone
        are selected in the table (one undo step)."""
        points = self.table.selected_points()
        partial = {annotation_id for annotation_id, _ in points}
        whole = [i for i in self.layer.selected if i not in partial]
        if points:
            self.controller.delete_mixed(whole, points)
        else:
            self.controller.delete(whole)

    def relabel_selection(self) -> None:
        """Ask for a new label for the selected annotation."""
        if self.document is None or not self.layer.selected:
            return
        annotation = self.document.annotations[self.layer.selected[0]]
        text, ok = QtWidgets.QInputDialog.getText(self, "Label", "Label:", text=annotation.label)
        if ok:
            self.controller.relabel(annotation.id, text)

    def change_class_of_selection(self, index: int) -> None:
        """Give every point of the selected point sets another class."""
        if self.document is None:
            return
        for annotation_id in self.layer.selected:
            if self.document.annotations[annotation_id].kind is Kind.POINTS:
                self.controller.set_class(annotation_id, index)

    def undo(self) -> None:
        """Undo the last edit."""
        if self.document is not None and not self.canvas.tools.busy:
            self.document.undo()

    def redo(self) -> None:
        """Redo the last undone edit."""
        if self.document is not None:
            self.document.redo()

    def _on_shape_drawn(self, kind: Kind, vertices: np.ndarray) -> None:
        annotation_id = self.controller.add_shape(kind, vertices)
        if annotation_id is not None:
            self.layer.select([annotation_id])

    def _on_edit_requested(self, annotation_id: int, vertices: np.ndarray) -> None:
        if not self.controller.move(annotation_id, vertices):
            self.layer.revert(annotation_id)

    def _on_edit_previewed(self, annotation_id: int, vertices: np.ndarray) -> None:
        rows = self.controller.preview_rows(annotation_id, vertices)
        if rows:
            self.table.model.set_preview(annotation_id, rows)
            kind = self.document.annotations[annotation_id].kind
            self.layer.set_preview_text(annotation_id, value_text(rows[0], kind))

    def _on_drawing_previewed(self, kind: Kind, vertices: np.ndarray) -> None:
        from measurer.core.annotations import Annotation

        if self.document is None:
            return
        try:
            rows = self.controller.preview_rows_for(Annotation(0, kind, vertices))
        except ValueError:
            return
        if rows:
            self.status.showMessage(value_text(rows[0], kind), 2000)

    def _on_background_clicked(self, scene_pos) -> None:
        """A click beside every ordinary item: pick a batched detection, or clear the selection."""
        point = self.canvas.viewbox.mapSceneToView(scene_pos)
        tolerance = 6 * self.canvas.viewbox.viewPixelSize()[0]
        picked = self.layer.pick(point.y(), point.x(), tolerance)
        self.layer.select([picked] if picked is not None else [])

    def _on_canvas_selection(self, ids: list[int]) -> None:
        if set(ids) != set(self.table.selected_ids()):  # not the echo of a table selection,
            self.table.select_ids(ids)  # which may hold only some points of a set
        self.profile.show_annotation(ids[0] if ids else None)

    def _on_table_selection(self, ids: list[int]) -> None:
        self.layer.select(ids)
        self.profile.show_annotation(ids[0] if ids else None)

    # --- document events ---------------------------------------------------------------------

    def _on_measurements_changed(self, table) -> None:
        self.table.set_table(table)

    def _on_annotations_changed(self, ids: set[int]) -> None:
        if self.profile.annotation_id in ids:
            self.profile.show_annotation(self.profile.annotation_id)

    def _on_calibration_changed(self, calibration) -> None:
        self.status.show_calibration(calibration)
        self.measure.follow_document()
        self._show_aspect()

    def show_physical_aspect(self, physical: bool) -> None:
        """Show calibrated pixels at their physical aspect (or square); remembered."""
        self.settings.setValue("view/physical_aspect", physical)
        self._show_aspect()

    def _show_aspect(self) -> None:
        cal = None if self.document is None else self.document.calibration
        ratio = 1.0
        if (
            cal is not None
            and cal.is_calibrated
            and self.actions_by_name["view.aspect"].isChecked()
        ):
            ratio = cal.pixel_width / cal.pixel_height
        self.canvas.set_pixel_aspect(ratio)
        self.measure.scale_bar.set_display_aspect(ratio)

    def _on_history_changed(self) -> None:
        if self.document is None:
            return
        history = self.document.history
        undo, redo = self.actions_by_name["edit.undo"], self.actions_by_name["edit.redo"]
        undo.setEnabled(history.can_undo)
        redo.setEnabled(history.can_redo)
        undo.setText(f"&Undo {history.undo_text()}" if history.can_undo else "&Undo")
        redo.setText(f"&Redo {history.redo_text()}" if history.can_redo else "&Redo")
        name = self.document.image_name or "untitled"
        self.setWindowTitle(f"{name}[*] — measurer")
        self.setWindowModified(self.document.is_modified)
        self.files.schedule_autosave()

    def _on_cursor_moved(self, row: float, col: float) -> None:
        if self.document is not None and self.document.image is not None:
            self.status.show_cursor(row, col, self.document.image, self.document.calibration)

    def _on_page_changed(self, page: int) -> None:
        if self.document is None or self.image_file is None:
            return
        self.document.set_page(page, self.image_file.page(page))
        self.canvas.set_image(self.document.image, keep_view=True)
        self.page_label.setText(f"{page + 1} / {self.image_file.pages}")

    # --- window events -----------------------------------------------------------------------

    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:
        """Keys 1–9 choose the point class."""
        key = ev.key()
        if QtCore.Qt.Key.Key_1 <= key <= QtCore.Qt.Key.Key_9 and not ev.modifiers():
            index = key - QtCore.Qt.Key.Key_1
            if self.layer.selected:
                self.change_class_of_selection(index)
            self.set_point_class(index)
            return
        super().keyPressEvent(ev)

    def dragEnterEvent(self, ev: QtGui.QDragEnterEvent) -> None:
        """Accept dropped files."""
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev: QtGui.QDropEvent) -> None:
        """Open the first dropped file."""
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            ev.acceptProposedAction()

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        """Ask before losing unsaved changes."""
        if self.files.maybe_save():
            self.files.flush_autosave()
            self.settings.setValue("window/state", self.saveState())
            ev.accept()
        else:
            ev.ignore()

    def current_path(self) -> Path | None:
        """Path of the image shown, if any."""
        return self.document.path if self.document is not None else None
