"""The colour objects panel: objects of each colour class, or the occupancy of a grid of cells.

Classes are found automatically (k) or taken from sample pixels the user clicks on the image;
the background is learned from the image border or, for a field filled to its edges (stained
tissue), from colours clicked the same way (free mode only: grid cells have their own borders).
Objects become outlines along pixel edges (role ``"colors:<class>:<i>"``); in grid mode each
occupied cell becomes a rectangle (role ``"colors:cell:<row>:<col>"``). The label of each shape
is its class: *Set class…* changes it, Delete removes the shape, and the counts per class
(:mod:`measurer.core.derived_colors`) follow every edit. Grid cells can instead be matched
against reference images (:mod:`measurer.gui.panels.colors_references`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.core.annotations import Kind
from measurer.core.commands import Command, Macro, ReplaceAnnotation
from measurer.core.derived_colors import (
    ANALYSIS,
    EMPTY,
    class_counts,
    class_names,
    is_color_shape,
)
from measurer.core.style import CLASS_COLOURS
from measurer.gui.canvas.tools import Tool
from measurer.gui.panels.analysis_panel import AnalysisPanel
from measurer.gui.panels.colors_overlay import ClassBands, GridOverlay
from measurer.gui.panels.colors_references import ReferencesBox
from measurer.gui.panels.colors_shapes import (
    PickedClass,
    classify_cells,
    colour_text,
    display_colour,
    find_objects,
    sample_colour,
)

if TYPE_CHECKING:
    from measurer.core.document import Document
    from measurer.gui.main_window import MainWindow


class ColorsPanel(AnalysisPanel):
    """Colour classes (automatic or picked), objects or grid cells, corrected by clicking."""

    title = "Colour objects"
    analysis = ANALYSIS

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._document: Document | None = None
        self.picked: list[PickedClass] = []

        self.automatic = QtWidgets.QRadioButton("Automatic classes")
        self.automatic.setChecked(True)
        self.k = QtWidgets.QSpinBox(minimum=1, maximum=12, value=3)
        self.from_picks = QtWidgets.QRadioButton("Classes from picked colours")
        self.class_list = QtWidgets.QListWidget()
        self.class_list.setMaximumHeight(90)
        self.pick_button = QtWidgets.QPushButton("Pick class colour")
        self.pick_button.setCheckable(True)
        self.pick_button.setToolTip(
            "Then click a pixel of the class on the image (the median of its 3×3 neighbourhood "
            "is taken) and name the class"
        )
        self.pick_button.toggled.connect(self._on_pick_toggled)
        self.remove_class_button = QtWidgets.QPushButton("Remove class")
        self.remove_class_button.clicked.connect(self._remove_class)
        automatic = QtWidgets.QHBoxLayout()
        automatic.addWidget(self.automatic)
        automatic.addWidget(self.k)
        picks = QtWidgets.QHBoxLayout()
        picks.addWidget(self.pick_button)
        picks.addWidget(self.remove_class_button)

        self.background: list[PickedClass] = []
        self.background_mode = QtWidgets.QComboBox()
        self.background_mode.addItems(["image border", "picked colours"])
        self.background_mode.setToolTip(
            "Learn the background from the image border, or use colours picked on the image "
            "(for a field filled to its edges, such as stained tissue)"
        )
        self.pick_background_button = QtWidgets.QPushButton("Pick background colour")
        self.pick_background_button.setCheckable(True)
        self.pick_background_button.toggled.connect(self._on_pick_background_toggled)
        self.clear_background_button = QtWidgets.QPushButton("Clear")
        self.clear_background_button.clicked.connect(self._clear_background)
        self.background_label = QtWidgets.QLabel("")

        self.min_area = QtWidgets.QSpinBox(minimum=1, maximum=100_000_000, value=20, suffix=" px")
        self.min_area.setToolTip("Smallest object (or object in a cell), in pixels")
        self.smoothing = QtWidgets.QDoubleSpinBox(decimals=1, minimum=0, maximum=20, value=1.5)
        self.smoothing.setSuffix(" px")
        self.smoothing.setToolTip("Gaussian smoothing before the colours are compared")
        options = QtWidgets.QFormLayout()
        options.addRow("Minimum area", self.min_area)
        options.addRow("Smoothing", self.smoothing)
        options.addRow("Background", self.background_mode)
        options.addRow(self.pick_background_button, self.clear_background_button)
        options.addRow(self.background_label)

        self.grid_box = self._grid_group()
        self.run_button = QtWidgets.QPushButton("Find colour objects")
        self.run_button.clicked.connect(self.run)
        self.counts_label = QtWidgets.QLabel("Counts: –")
        self.counts_label.setWordWrap(True)
        self.set_class_button = QtWidgets.QPushButton("Set class…")
        self.set_class_button.clicked.connect(self.set_class_of_selection)
        hint = QtWidgets.QLabel(
            "Click an object or a cell to select it; Set class… changes its class, "
            "Delete removes it."
        )
        hint.setWordWrap(True)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(automatic)
        layout.addWidget(self.from_picks)
        layout.addWidget(self.class_list)
        layout.addLayout(picks)
        layout.addLayout(options)
        layout.addWidget(self.grid_box)
        layout.addWidget(self.run_button)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.set_class_button)
        layout.addWidget(hint)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.grid_overlay = GridOverlay(window.canvas.overlay_group)
        self.bands = ClassBands(window.canvas.overlay_group)
        self._show_grid()
        window.canvas.viewbox.background_clicked.connect(self._on_canvas_clicked)
        window.document_changed.connect(self._follow)
        if window.document is not None:
            self._follow(window.document)

    def _grid_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Grid of cells")
        box.setCheckable(True)
        box.setChecked(False)
        self.origin_x, self.origin_y, self.cell_width, self.cell_height = (
            QtWidgets.QDoubleSpinBox(decimals=2, minimum=low, maximum=1e6, value=value)
            for low, value in ((0, 0), (0, 0), (3, 40), (3, 40))
        )
        self.grid_rows, self.grid_cols = (
            QtWidgets.QSpinBox(minimum=1, maximum=10_000, value=3) for _ in range(2)
        )
        self.fit_grid_button = QtWidgets.QPushButton("Fit to selected rectangle")
        self.fit_grid_button.setToolTip("The rectangle's pixels become the rows × columns cells")
        self.fit_grid_button.clicked.connect(self.fit_grid_to_selection)
        form = QtWidgets.QFormLayout(box)
        for label, first, second in (
            ("First cell x, y (px)", self.origin_x, self.origin_y),
            ("Cell width, height (px)", self.cell_width, self.cell_height),
            ("Rows, columns", self.grid_rows, self.grid_cols),
        ):
            pair = QtWidgets.QHBoxLayout()
            pair.addWidget(first)
            pair.addWidget(second)
            form.addRow(label, pair)
            for spin in (first, second):
                spin.valueChanged.connect(self._show_grid)
        form.addRow(self.fit_grid_button)
        self.references = ReferencesBox(self)
        form.addRow(self.references)
        box.toggled.connect(self._show_grid)
        return box

    # --- options -------------------------------------------------------------------------

    def grid_spec(self) -> tuple[float, float, float, float, int, int] | None:
        """``(top, left, cell height, cell width, rows, cols)`` in grid mode, else None."""
        if not self.grid_box.isChecked():
            return None
        return (
            self.origin_y.value(),
            self.origin_x.value(),
            self.cell_height.value(),
            self.cell_width.value(),
            self.grid_rows.value(),
            self.grid_cols.value(),
        )

    def fit_grid_to_selection(self) -> bool:
        """Lay the grid's rows × columns cells over the selected rectangle."""
        document = self.window.document
        selected = [document.annotations[i] for i in self.window.layer.selected] if document else []
        rectangle = next((a for a in selected if a.kind is Kind.RECTANGLE), None)
        if rectangle is None:
            self._fail("Draw a rectangle over the whole grid and select it first.")
            return False
        (top, left), (bottom, right) = np.sort(rectangle.vertices, axis=0)
        self.origin_y.setValue(math.ceil(top))
        self.origin_x.setValue(math.ceil(left))
        self.cell_height.setValue((bottom - top) / self.grid_rows.value())
        self.cell_width.setValue((right - left) / self.grid_cols.value())
        self.grid_box.setChecked(True)
        return True

    def _show_grid(self, *_: Any) -> None:
        self.grid_overlay.show_grid(self.grid_spec())
        grid = self.grid_box.isChecked()
        self.run_button.setText("Classify cells" if grid else "Find colour objects")
        if grid:  # cells are judged against their own borders
            self.pick_background_button.setChecked(False)
        for widget in (self.background_mode, self.pick_background_button):
            widget.setEnabled(not grid)

    # --- picking class colours -----------------------------------------------------------

    def _on_pick_toggled(self, checked: bool) -> None:
        if checked:
            self.pick_background_button.setChecked(False)
            self.from_picks.setChecked(True)
            self.window.set_tool(Tool.NAVIGATE)  # clicks on the image reach the panel
            self.status.setText("Click a pixel of the class on the image.")

    def _on_pick_background_toggled(self, checked: bool) -> None:
        if checked:
            self.pick_button.setChecked(False)
            self.background_mode.setCurrentIndex(1)
            self.window.set_tool(Tool.NAVIGATE)
            self.status.setText("Click a pixel of the background on the image.")

    def _on_canvas_clicked(self, scene_pos: QtCore.QPointF) -> None:
        point = self.window.canvas.viewbox.mapSceneToView(scene_pos)
        if self.pick_button.isChecked():
            self.pick_at(point.y(), point.x())
        elif self.pick_background_button.isChecked():
            self.pick_background_at(point.y(), point.x())

    def _sample(self, row: float, col: float) -> tuple[float, float, float] | None:
        """The colour at ``(row, col)`` of the image (3×3 median), or None outside it."""
        document = self.window.document
        value = None if document is None else sample_colour(document.image, row, col)
        if document is not None and value is None:
            self.status.setText("Click inside the image.")
        return value

    def pick_at(self, row: float, col: float) -> bool:
        """Record the colour at ``(row, col)`` as a class, named by the user."""
        value = self._sample(row, col)
        if value is None:
            return False
        image = self.window.document.image
        shown = colour_text(value)
        name, ok = QtWidgets.QInputDialog.getText(
            self,
            "Class colour",
            f"Name of the class of colour ({shown}):",
            text=f"class {len(self.picked) + 1}",
        )
        name = name.strip()
        if not ok or not name:
            return False
        self.picked = [p for p in self.picked if p.name != name]
        self.picked.append(PickedClass(name, value, display_colour(value, image)))
        self._show_picked()
        self.status.setText(f"Class {name!r}: ({shown}).")
        return True

    def pick_background_at(self, row: float, col: float) -> bool:
        """Add the colour at ``(row, col)`` to the background colours."""
        value = self._sample(row, col)
        if value is None:
            return False
        display = display_colour(value, self.window.document.image)
        self.background.append(PickedClass("background", value, display))
        self.background_mode.setCurrentIndex(1)
        self._show_background()
        self.status.setText(f"Background colour ({colour_text(value)}).")
        return True

    def _clear_background(self) -> None:
        self.background = []
        self._show_background()

    def _show_background(self) -> None:
        swatch = "<span style='color: rgb{}'>■</span> ({})"
        shown = [swatch.format(p.display, colour_text(p.value)) for p in self.background]
        self.background_label.setText(", ".join(shown))

    def _remove_class(self) -> None:
        row = self.class_list.currentRow()
        if 0 <= row < len(self.picked):
            del self.picked[row]
            self._show_picked()

    def _show_picked(self) -> None:
        self.class_list.clear()
        for picked in self.picked:
            swatch = QtGui.QPixmap(14, 14)
            swatch.fill(QtGui.QColor(*picked.display))
            text = f"{picked.name}  ({colour_text(picked.value)})"
            self.class_list.addItem(QtWidgets.QListWidgetItem(QtGui.QIcon(swatch), text))

    # --- running -------------------------------------------------------------------------

    def run(self) -> bool:
        """Find the objects of each class, or classify the grid's cells, on a worker."""
        document = self.window.document
        if document is None:
            self._fail("Open an image first.")
            return False
        options: dict[str, Any] = {
            "min_area": self.min_area.value(),
            "smoothing": self.smoothing.value(),
        }
        display: dict[str, list[int]] = {}
        if self.automatic.isChecked():
            options["k"] = self.k.value()
            names = [f"c{i}" for i in range(self.k.value())]
        elif self.picked:
            options["classes"] = {p.name: p.value for p in self.picked}
            names = [p.name for p in self.picked]
            display = {p.name: list(p.display) for p in self.picked}
        else:
            self._fail("Pick a colour for each class first: Pick class colour, then click.")
            return False
        spec = self.grid_spec()
        if spec is None and self.background_mode.currentIndex() == 1:
            if not self.background:
                self._fail("Pick a background colour first: Pick background colour, then click.")
                return False
            options["background"] = [p.value for p in self.background]
        parameters = {**options, "names": names, "grid": None if spec is None else list(spec)}
        parameters["display"] = display  # picked classes are drawn in their own colour
        if "classes" in options:  # JSON-ready for sessions
            parameters["classes"] = {n: list(v) for n, v in options["classes"].items()}
        if "background" in options:
            parameters["background"] = [list(v) for v in options["background"]]
        self.pick_button.setChecked(False)
        self.pick_background_button.setChecked(False)
        if spec is None:
            function, args = find_objects, (document.image,)
        else:
            from measurer.analysis.colors import Grid

            args = (document.image, Grid(spec[:2], spec[2:4], spec[4:]))
            function = classify_cells
        return self.run_detection(
            function, *args, parameters=parameters, to_shapes=lambda out: out[1], **options
        )

    def describe(self, output: Any) -> str:
        """What was found, per class."""
        result, shapes = output
        cells = getattr(result, "cells", None)
        what = "objects" if cells is None else "occupied cells"
        if cells and cells[0].score is not None:
            what = "cells matching a reference"
        counts = ", ".join(f"{name}: {n}" for name, n in result.counts.items())
        return f"{len(shapes)} {what} ({counts})."

    # --- corrections ---------------------------------------------------------------------

    def set_class_of_selection(self) -> bool:
        """Ask for a class and give it to the selected objects or cells (one undo step)."""
        document = self.window.document
        step = self._step()
        selected = [document.annotations[i] for i in self.window.layer.selected] if document else []
        shapes = [a for a in selected if is_color_shape(a)]
        if step is None or not shapes:
            self._fail("Select an object or a cell first: click it on the image.")
            return False
        names = class_names(list(document.annotations.values()), step.parameters)
        if step.parameters.get("grid") and EMPTY not in names:
            names.append(EMPTY)
        current = names.index(shapes[0].label) if shapes[0].label in names else 0
        name, ok = QtWidgets.QInputDialog.getItem(self, "Set class", "Class:", names, current, True)
        name = name.strip()
        if not ok or not name:
            return False
        commands: list[Command] = [
            ReplaceAnnotation(
                shape,
                replace(shape, label=name, provenance=shape.provenance.corrected()),
                "set class",
            )
            for shape in shapes
            if shape.label != name
        ]
        if not commands:
            return False
        command = commands[0] if len(commands) == 1 else Macro(commands, "set class")
        return self.window.controller.apply(command)

    # --- following the document ----------------------------------------------------------

    def _step(self):
        document = self.window.document
        if document is None:
            return None
        return next((s for s in document.steps if s.analysis == ANALYSIS), None)

    def _follow(self, document: Document) -> None:
        if self._document is not None:
            self._document.measurements_changed.disconnect(self._show_results)
        self._document = document
        document.measurements_changed.connect(self._show_results)
        self._show_results()

    def _show_results(self, *_: Any) -> None:
        """Counts per class in the panel and a band in the class colour along each shape."""
        step = self._step()
        if step is None:
            self.counts_label.setText("Counts: –")
            self.bands.clear()
            return
        shapes = [a for a in self._document.annotations.values() if is_color_shape(a)]
        counts = class_counts(shapes, step.parameters)
        names = [n for n in counts if n != EMPTY]
        display = step.parameters.get("display") or {}
        colours = {
            n: tuple(display.get(n, CLASS_COLOURS[i % len(CLASS_COLOURS)]))
            for i, n in enumerate(names)
        }
        self.bands.show_classes({n: [s for s in shapes if s.label == n] for n in names}, colours)
        parts = [f"<span style='color: rgb{colours[n]}'>■</span> {n}: {counts[n]}" for n in names]
        if EMPTY in counts:
            parts.append(f"{EMPTY}: {counts[EMPTY]}")
        self.counts_label.setText("Counts: " + ", ".join(parts))
