"""Reference images for the grid mode of the colour objects panel.

Each cell of the grid can be matched against a few reference images (say, the same object facing
four directions): a cell whose best score reaches the minimum score is marked with a rectangle
(role ``"colors:cell:<row>:<col>"``) labelled with that reference's name, so the counts per
reference, *Set class…* and Delete work as for colour classes. References come from image files
(names from the file names; an alpha channel masks out transparent pixels) or from rectangles
selected on the current image (crops); their names are edited in the list. The score of each
marked cell is kept by the run's step (see :mod:`measurer.core.derived_colors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from measurer.core.annotations import Kind
from measurer.core.derived_colors import EMPTY, SCORES
from measurer.gui.panels.colors_shapes import cell_scores, match_cells
from measurer.gui.panels.match_panel import crop_rectangle

if TYPE_CHECKING:
    from measurer.gui.panels.colors_panel import ColorsPanel

_ICON = 24
_FILES = "Images (*.png *.tif *.tiff *.jpg *.jpeg *.bmp);;All files (*)"


@dataclass(frozen=True, eq=False)
class Reference:
    """A reference image (an alpha channel is kept: it masks pixels out) and its source."""

    pixels: np.ndarray
    source: dict[str, Any]  # {"file": path} or {"rectangle": id, "box": [r0, c0, r1, c1]}


def reference_icon(pixels: np.ndarray) -> QtGui.QIcon:
    """The reference stretched to 0-255 as an icon; transparent pixels are black."""
    values = np.asarray(pixels, dtype=np.float64)
    opaque = np.ones(values.shape[:2], bool)
    if values.ndim == 3 and values.shape[2] in (2, 4):
        values, opaque = values[..., :-1], values[..., -1] >= 0.5 * max(values[..., -1].max(), 1)
    if values.ndim == 2 or values.shape[2] == 1:
        values = values.reshape((*values.shape[:2], 1)).repeat(3, axis=2)
    shown = values[opaque] if opaque.any() else values.reshape(-1, 3)
    low, high = shown.min(), shown.max()
    scaled = np.clip((values - low) / (high - low), 0, 1) if high > low else values * 0
    rgb = np.ascontiguousarray((scaled * opaque[..., None] * 255).round().astype(np.uint8))
    height, width = rgb.shape[:2]
    fmt = QtGui.QImage.Format.Format_RGB888
    image = QtGui.QImage(rgb.data, width, height, rgb.strides[0], fmt).copy()
    return QtGui.QIcon(QtGui.QPixmap.fromImage(image))


class ReferencesBox(QtWidgets.QGroupBox):
    """The reference images of the grid, the minimum score, and the run that matches cells."""

    def __init__(self, panel: ColorsPanel) -> None:
        super().__init__("Match cells to reference images")
        self._panel = panel
        self.list = QtWidgets.QListWidget()
        self.list.setIconSize(QtCore.QSize(_ICON, _ICON))
        self.list.setFixedHeight(4 * (_ICON + 8))
        self.list.setToolTip("Double-click a name to edit it: names become the cells' classes")
        self.files_button = QtWidgets.QPushButton("References…")
        self.files_button.setToolTip(
            "Choose reference image files (no larger than a cell; transparent pixels are ignored)"
        )
        self.files_button.clicked.connect(self._choose_files)
        self.rectangles_button = QtWidgets.QPushButton("From selected rectangles")
        self.rectangles_button.setToolTip("Each selected rectangle's pixels become a reference")
        self.rectangles_button.clicked.connect(self.add_selected_rectangles)
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_current)
        # The best of several references scores about 0.5 on a textured empty cell.
        self.min_score = QtWidgets.QDoubleSpinBox(decimals=2, minimum=0, maximum=1, value=0.7)
        self.min_score.setSingleStep(0.05)
        self.min_score.setToolTip(
            "A cell is marked when its best normalised correlation (0-1) reaches this score"
        )
        self.run_button = QtWidgets.QPushButton("Match cells to references")
        self.run_button.clicked.connect(self.run)

        sources = QtWidgets.QHBoxLayout()
        sources.addWidget(self.files_button)
        sources.addWidget(self.rectangles_button)
        score = QtWidgets.QHBoxLayout()
        score.addWidget(QtWidgets.QLabel("Minimum score"))
        score.addWidget(self.min_score)
        score.addStretch(1)
        score.addWidget(self.remove_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(sources)
        layout.addLayout(score)
        layout.addWidget(self.run_button)

    # --- the references ------------------------------------------------------------------

    def add_files(self, paths: list[str]) -> bool:
        """Add each image file (its first page) as a reference named after the file."""
        from measurer.io.images import read_image

        problems = []
        for path in paths:
            try:
                pixels = np.array(read_image(path).page(0))
            except (ValueError, OSError) as exc:
                problems.append(f"{Path(path).name}: {exc}")
                continue
            self._add(Path(path).stem, Reference(pixels, {"file": str(path)}))
        if problems:
            self._fail("Cannot read the reference image " + "; ".join(problems))
        return not problems

    def add_selected_rectangles(self) -> bool:
        """Add the pixels inside each selected rectangle (named after its label) as a reference."""
        window = self._panel.window
        document = window.document
        selected = [document.annotations.get(i) for i in window.layer.selected] if document else []
        rectangles = [a for a in selected if a is not None and a.kind is Kind.RECTANGLE]
        if not rectangles:
            self._fail("Draw a rectangle around each reference object and select them first.")
            return False
        crops = []
        for rectangle in rectangles:
            try:
                crops.append(crop_rectangle(document.image, rectangle.vertices))
            except ValueError as exc:
                self._fail(f"Rectangle {rectangle.id}: {exc}")
                return False
        for rectangle, pixels in zip(rectangles, crops, strict=True):
            box = [round(float(v), 3) for v in np.sort(rectangle.vertices, axis=0).ravel()]
            source = {"rectangle": rectangle.id, "box": box}
            self._add(rectangle.label.strip() or "reference", Reference(pixels, source))
        return True

    def remove_current(self) -> None:
        """Remove the reference selected in the list."""
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)

    def named(self) -> dict[str, Reference]:
        """The references by their (edited) names; a readable ``ValueError`` when unusable."""
        if self.list.count() == 0:
            raise ValueError(
                "Add reference images first: References… (files) or From selected rectangles."
            )
        references: dict[str, Reference] = {}
        for row in range(self.list.count()):
            item = self.list.item(row)
            name = item.text().strip()
            if not name:
                raise ValueError(f"Reference {row + 1} has no name: double-click to name it.")
            if name == EMPTY:
                raise ValueError(f"{EMPTY!r} stands for empty cells: rename that reference.")
            if name in references:
                raise ValueError(f"Two references are named {name!r}: rename one.")
            references[name] = item.data(QtCore.Qt.ItemDataRole.UserRole)
        return references

    def _add(self, name: str, reference: Reference) -> None:
        taken = {self.list.item(row).text() for row in range(self.list.count())}
        unique, number = name, 2
        while unique in taken or unique == EMPTY:
            unique, number = f"{name} {number}", number + 1
        item = QtWidgets.QListWidgetItem(reference_icon(reference.pixels), unique)
        item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsEditable)
        item.setData(QtCore.Qt.ItemDataRole.UserRole, reference)
        shape = "×".join(str(n) for n in reference.pixels.shape[:2])
        alpha = reference.pixels.ndim == 3 and reference.pixels.shape[2] in (2, 4)
        item.setToolTip(f"{shape} px" + (", transparent pixels ignored" if alpha else ""))
        self.list.addItem(item)
        self.list.setCurrentItem(item)

    def _choose_files(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Reference images", "", _FILES)
        if paths:
            self.add_files(paths)

    # --- running -------------------------------------------------------------------------

    def run(self) -> bool:
        """Match every cell of the grid against the references, on a worker (one undo step)."""
        from measurer.analysis.colors import Grid

        panel = self._panel
        document, spec = panel.window.document, panel.grid_spec()
        if document is None or spec is None:
            self._fail("Open an image and lay the grid of cells first.")
            return False
        try:
            references = self.named()
        except ValueError as exc:
            self._fail(str(exc))
            return False
        parameters: dict[str, Any] = {
            "names": list(references),
            "grid": list(spec),
            "display": {},
            "min_score": self.min_score.value(),
            "references": [{"name": n, **r.source} for n, r in references.items()],
        }

        def to_shapes(output: tuple[Any, list]) -> list:
            # The scores are known only now: the run's step holds this very dict, and is
            # applied (with the shapes) right after.
            parameters[SCORES] = cell_scores(output[0])
            return output[1]

        return panel.run_detection(
            match_cells,
            document.image,
            Grid(spec[:2], spec[2:4], spec[4:]),
            {name: reference.pixels for name, reference in references.items()},
            parameters=parameters,
            to_shapes=to_shapes,
            min_score=self.min_score.value(),
        )

    def _fail(self, message: str) -> None:
        """Report through the panel: its status line, failed signal and an error box."""
        self._panel._fail(message)
