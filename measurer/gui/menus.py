"""Menus, the tool bar and their shortcuts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtGui, QtWidgets

from measurer.gui.canvas.tools import Tool

if TYPE_CHECKING:
    from measurer.gui.main_window import MainWindow

#: Tool, menu text, shortcut, tool tip.
TOOLS = [
    (
        Tool.NAVIGATE,
        "&Navigate / edit",
        "N",
        "Pan with the mouse, zoom with the wheel, drag items to edit",
    ),
    (Tool.POINT, "&Point counter", "P", "Click to count points; keys 1–9 choose the class"),
    (Tool.LINE, "&Line", "L", "Drag a line; Shift snaps to 0/45/90°"),
    (Tool.POLYLINE, "Pol&yline", "Y", "Click each vertex; double-click or Enter to finish"),
    (Tool.ANGLE, "&Angle", "A", "Click arm, vertex, arm"),
    (Tool.RECTANGLE, "&Rectangle", "R", "Drag a rectangle"),
    (Tool.ELLIPSE, "&Ellipse", "E", "Drag the ellipse's bounding box"),
    (Tool.POLYGON, "Poly&gon", "G", "Click each vertex; double-click or Enter to close"),
    (Tool.FREEHAND, "&Freehand", "F", "Drag along the outline"),
    (
        Tool.PROFILE,
        "Line pro&file",
        "K",
        "Drag a line to plot the values along it (band width in the tool bar)",
    ),
]


def _action(
    window, text: str, slot=None, shortcut=None, *, checkable: bool = False
) -> QtGui.QAction:
    action = QtGui.QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QtGui.QKeySequence(shortcut))
    if slot is not None:
        action.triggered.connect(lambda checked=False: slot())
    action.setCheckable(checkable)
    return action


def build_menus(window: MainWindow) -> dict[str, QtGui.QAction]:
    """Create every menu and the tool bar; returns the actions by name."""
    actions: dict[str, QtGui.QAction] = {}
    bar = window.menuBar()
    files = window.files
    keys = QtGui.QKeySequence.StandardKey

    menu = bar.addMenu("&File")
    actions["open"] = _action(window, "&Open image…", files.open_dialog, keys.Open)
    menu.addAction(actions["open"])
    files.recent_menu = menu.addMenu("Open &recent")
    files.update_recent_menu()
    samples = menu.addMenu("Open &sample")
    for name, path in files.samples().items():
        action = _action(window, name, lambda p=path: files.open_image(str(p)))
        samples.addAction(action)
    actions["file.next"] = _action(
        window, "&Next image in folder", lambda: files.step_image(1), "PgDown"
    )
    actions["file.prev"] = _action(
        window, "&Previous image in folder", lambda: files.step_image(-1), "PgUp"
    )
    menu.addActions([actions["file.next"], actions["file.prev"]])
    menu.addSeparator()
    actions["file.save"] = _action(window, "&Save session", files.save_session, keys.Save)
    menu.addAction(actions["file.save"])
    actions["file.import.rois"] = _action(
        window, "&Import ImageJ ROIs…", window.interop.import_rois_dialog
    )
    menu.addAction(actions["file.import.rois"])
    export = menu.addMenu("&Export")
    for fmt in ("csv", "json", "xlsx"):
        actions[f"file.export.{fmt}"] = _action(
            window, f"Measurements as {fmt.upper()}…", lambda f=fmt: files.export_measurements(f)
        )
        export.addAction(actions[f"file.export.{fmt}"])
    actions["file.export.profile"] = _action(
        window, "Profile values as CSV…", window.profile.export_values
    )
    actions["file.export.view"] = _action(window, "Image with overlays as PNG…", files.export_view)
    export.addActions([actions["file.export.profile"], actions["file.export.view"]])
    for fmt, text in (("tif", "ImageJ TIFF"), ("svg", "SVG (vector overlays)")):
        actions[f"file.export.figure.{fmt}"] = _action(
            window,
            f"Image with overlays as {text}…",
            lambda f=fmt: window.interop.export_figure_dialog(f),
        )
        export.addAction(actions[f"file.export.figure.{fmt}"])
    actions["file.export.tiff"] = _action(
        window, "Image as calibrated TIFF (for Fiji)…", window.interop.export_image_tiff_dialog
    )
    export.addAction(actions["file.export.tiff"])
    export.addSeparator()
    actions["file.export.rois"] = _action(window, "ImageJ ROIs…", window.interop.export_rois_dialog)
    export.addAction(actions["file.export.rois"])
    actions["file.batch"] = _action(window, "&Batch…", lambda: _open_batch(window))
    actions["file.save_recipe"] = _action(
        window, "Save analysis as &recipe…", lambda: _save_recipe(window)
    )
    menu.addActions([actions["file.save_recipe"], actions["file.batch"]])
    menu.addSeparator()
    menu.addAction(_action(window, "&Quit", window.close, keys.Quit))

    menu = bar.addMenu("&Edit")
    actions["edit.undo"] = _action(window, "&Undo", window.undo, keys.Undo)
    actions["edit.redo"] = _action(window, "&Redo", window.redo, "Ctrl+Shift+Z")
    menu.addActions([actions["edit.undo"], actions["edit.redo"]])
    history = menu.addMenu("&History")
    history.aboutToShow.connect(lambda: _fill_history(window, history))
    menu.addSeparator()
    actions["edit.delete"] = _action(
        window, "&Delete selected", window.delete_selection, keys.Delete
    )
    actions["edit.relabel"] = _action(window, "Re&label selected…", window.relabel_selection, "F2")
    menu.addActions([actions["edit.delete"], actions["edit.relabel"]])
    classes = menu.addMenu("Change &class of selected points")
    for index in range(9):
        classes.addAction(
            _action(
                window, f"Class {index + 1}", lambda i=index: window.change_class_of_selection(i)
            )
        )

    menu = bar.addMenu("&View")
    actions["view.fit"] = _action(window, "&Fit to window", window.canvas.fit, "Ctrl+0")
    actions["view.one"] = _action(
        window, "&Actual pixels (1:1)", window.canvas.one_to_one, "Ctrl+Alt+0"
    )
    actions["view.in"] = _action(window, "Zoom &in", lambda: window.canvas.zoom(1.25), keys.ZoomIn)
    actions["view.out"] = _action(
        window, "Zoom &out", lambda: window.canvas.zoom(0.8), keys.ZoomOut
    )
    actions["view.auto"] = _action(
        window, "Auto &contrast", lambda: _auto_contrast(window), "Ctrl+Shift+C"
    )
    actions["view.overlays"] = _action(window, "Show &overlays", None, "H", checkable=True)
    actions["view.overlays"].setChecked(True)
    actions["view.overlays"].toggled.connect(window.canvas.set_overlays_visible)
    actions["view.aspect"] = _action(window, "Physical pixel &aspect", None, checkable=True)
    actions["view.aspect"].setToolTip(
        "Show calibrated pixels as wide and tall as they are (e.g. OCT B-scans), instead of square"
    )
    actions["view.aspect"].setChecked(window.settings.value("view/physical_aspect", False, bool))
    actions["view.aspect"].toggled.connect(window.show_physical_aspect)
    names = ("view.fit", "view.one", "view.in", "view.out", "view.auto", "view.overlays")
    for name in (*names, "view.aspect"):
        menu.addAction(actions[name])
    luts = menu.addMenu("&Lookup table")
    for name in ("grey", "inverted", "viridis", "inferno", "magma", "cividis"):
        luts.addAction(_action(window, name, lambda n=name: _set_lut(window, n)))
    menu.addSeparator()
    for dock in (window.table_dock, window.histogram_dock, window.profile_dock):
        menu.addAction(dock.toggleViewAction())

    menu = bar.addMenu("&Tools")
    toolbar = window.addToolBar("Tools")
    toolbar.setObjectName("Tools")
    group = QtGui.QActionGroup(window)
    for tool, text, shortcut, tip in TOOLS:
        action = _action(window, text, lambda t=tool: window.set_tool(t), shortcut, checkable=True)
        action.setToolTip(f"{tip} ({shortcut})")
        action.setStatusTip(tip)
        group.addAction(action)
        menu.addAction(action)
        toolbar.addAction(action)
        actions[f"tool.{tool.value}"] = action
    toolbar.addSeparator()
    toolbar.addWidget(QtWidgets.QLabel(" Band width "))
    band = QtWidgets.QSpinBox()
    band.setRange(1, 500)
    band.setSuffix(" px")
    band.setToolTip("Width of the band averaged across a line profile")
    band.valueChanged.connect(
        lambda value: setattr(window.controller, "profile_width", float(value))
    )
    toolbar.addWidget(band)
    window.band_width = band

    menu = bar.addMenu("&Measure")
    actions["measure.scale"] = _action(
        window, "Set &scale…", window.measure.set_scale, "Ctrl+Shift+S"
    )
    actions["measure.scalebar"] = _action(
        window, "Scale &bar overlay…", window.measure.edit_scale_bar
    )
    menu.addActions([actions["measure.scale"], actions["measure.scalebar"]])

    window.analyze_menu = bar.addMenu("&Analyze")

    menu = bar.addMenu("&Help")
    menu.addAction(_action(window, "Quick &guide", window.measure.show_guide, keys.HelpContents))
    menu.addAction(_action(window, "&Measurement definitions", window.measure.show_definitions))
    menu.addAction(_action(window, "&About measurer", window.measure.show_about))
    return actions


def _open_batch(window: MainWindow) -> None:
    """File → Batch: imported on use, to keep start-up quick."""
    from measurer.gui.dialogs.batch_dialog import BatchDialog

    BatchDialog(window).show()


def _save_recipe(window: MainWindow) -> None:
    """File → Save analysis as recipe."""
    from measurer.gui.dialogs.recipe_saving import save_recipe_as

    save_recipe_as(window)


def _fill_history(window: MainWindow, menu: QtWidgets.QMenu) -> None:
    """List the commands; the undone ones are greyed."""
    menu.clear()
    if window.document is None or not window.document.history.texts():
        menu.addAction("(no edits yet)").setEnabled(False)
        return
    history = window.document.history
    for index, text in enumerate(history.texts()):
        action = menu.addAction(f"{index + 1}. {text}")
        action.setEnabled(index < history.index)


def _auto_contrast(window: MainWindow) -> None:
    """Stretch the levels between the 0.35th and 99.65th percentiles (like ImageJ's Auto)."""
    import numpy as np

    data = window.canvas.display.item.image
    if data is None:
        return
    step_r, step_c = max(1, data.shape[0] // 512), max(1, data.shape[1] // 512)
    sample = np.asarray(data[::step_r, ::step_c], dtype=float)
    low, high = np.percentile(sample, [0.35, 99.65])
    window.histogram.setLevels(float(low), float(high) if high > low else float(low) + 1)


def _set_lut(window: MainWindow, name: str) -> None:
    """Apply a lookup table to a greyscale image."""
    import pyqtgraph as pg

    if name in ("grey", "inverted"):
        colours = [(0, 0, 0), (255, 255, 255)]
        if name == "inverted":
            colours.reverse()
        cmap = pg.ColorMap([0.0, 1.0], colours)
    else:
        cmap = pg.colormap.get(name)
    window.histogram.gradient.setColorMap(cmap)
