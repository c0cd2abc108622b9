"""File → Batch…: apply a recipe to many images, with progress and Cancel; then the table opens.

The batch is ``measurer batch`` itself, run as a child process (see
:mod:`measurer.gui.batch_runner`): the same recipe checks, tables, errors table and resumable
work folder as on the command line. "Use the current analysis" first saves the last analysis
run on the open image as a recipe beside the table (``TABLE.recipe.json``).
"""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from measurer.gui.batch_runner import BatchSpec, BatchSummary, run_batch_program
from measurer.gui.workers import TaskHandle, run_task

_CURRENT = "Use the current analysis"


class BatchTableWindow(QtWidgets.QDialog):
    """A batch's table (CSV) in a sortable, read-only view."""

    def __init__(self, path: str | os.PathLike[str], parent: QtWidgets.QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Batch table — {Path(path).name}")
        self.model = QtGui.QStandardItemModel(self)
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
        if rows:
            self.model.setHorizontalHeaderLabels(rows[0])
        for row in rows[1:]:
            items = []
            for text in row:
                item = QtGui.QStandardItem(text)
                item.setEditable(False)
                try:
                    item.setData(float(text), QtCore.Qt.ItemDataRole.UserRole)
                except ValueError:
                    item.setData(text, QtCore.Qt.ItemDataRole.UserRole)
                items.append(item)
            self.model.appendRow(items)
        self.model.setSortRole(QtCore.Qt.ItemDataRole.UserRole)
        self.view = QtWidgets.QTableView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel(str(path)))
        layout.addWidget(self.view)
        self.resize(900, 500)

    def rows(self) -> list[dict[str, str]]:
        """The table's rows as the CSV has them."""
        headers = [self.model.headerData(c, QtCore.Qt.Orientation.Horizontal) for c in range(
            self.model.columnCount())]  # fmt: skip
        return [
            {h: self.model.item(r, c).text() for c, h in enumerate(headers)}
            for r in range(self.model.rowCount())
        ]


class BatchDialog(QtWidgets.QDialog):
    """Recipe, inputs and outputs of a batch; Run, progress with count and rate, Cancel."""

    finished_batch = QtCore.Signal(object)  # BatchSummary, or None when it failed
    progressed = QtCore.Signal(float, str)  # emitted from the worker thread (queued)

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Batch")
        self.handle: TaskHandle | None = None
        self.summary: BatchSummary | None = None
        self.table_window: BatchTableWindow | None = None
        self._stop = threading.Event()
        self.recipe = QtWidgets.QComboBox(editable=True)
        self.recipe.addItem(_CURRENT)
        self.recipe.setToolTip(
            "A recipe file (File → Save analysis as recipe…, or measurer recipe)"
        )
        self.inputs = QtWidgets.QListWidget()
        self.pattern = QtWidgets.QLineEdit(placeholderText="or type a glob, e.g. data/**/*.tif")
        self.pattern.returnPressed.connect(self._add_pattern)
        self.table = QtWidgets.QLineEdit(placeholderText="results.csv")
        self.xlsx = QtWidgets.QCheckBox("Also write XLSX")
        self.annotated = QtWidgets.QLineEdit(placeholderText="(none)")
        self.jobs = QtWidgets.QSpinBox(minimum=1, maximum=256, value=os.cpu_count() or 1)
        self.force = QtWidgets.QCheckBox("Force re-measure (ignore kept results)")
        self.bar = QtWidgets.QProgressBar(maximum=1000, textVisible=False)
        self.progress_label = QtWidgets.QLabel("")
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        self.run_button = QtWidgets.QPushButton("Run")
        self.cancel_button = QtWidgets.QPushButton("Cancel", enabled=False)
        self.close_button = QtWidgets.QPushButton("Close")
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self.progressed.connect(self._show_progress, QtCore.Qt.ConnectionType.QueuedConnection)
        self._layout()
        self.resize(560, 520)

    def _layout(self) -> None:
        def row(*widgets: QtWidgets.QWidget) -> QtWidgets.QHBoxLayout:
            box = QtWidgets.QHBoxLayout()
            for widget in widgets:
                box.addWidget(widget)
            return box

        def button(text: str, slot) -> QtWidgets.QPushButton:
            push = QtWidgets.QPushButton(text)
            push.clicked.connect(slot)
            return push

        form = QtWidgets.QFormLayout()
        form.addRow("Recipe", row(self.recipe, button("Choose…", self._choose_recipe)))
        buttons = row(
            button("Add files…", self._add_files),
            button("Add folder…", self._add_folder),
            button("Remove", self._remove_selected),
        )
        inputs = QtWidgets.QVBoxLayout()
        inputs.addWidget(self.inputs)
        inputs.addWidget(self.pattern)
        inputs.addLayout(buttons)
        form.addRow("Images", inputs)
        form.addRow("Table (CSV)", row(self.table, button("Choose…", self._choose_table)))
        form.addRow("", self.xlsx)
        form.addRow("Annotated images", row(self.annotated, button("Choose…", self._choose_dir)))
        form.addRow("Processes", self.jobs)
        form.addRow("", self.force)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.status)
        layout.addLayout(row(self.run_button, self.cancel_button, self.close_button))

    # --- fields --------------------------------------------------------------------------

    def set_inputs(self, inputs: list[str]) -> None:
        """Replace the list of files, folders and patterns."""
        self.inputs.clear()
        self.inputs.addItems([str(i) for i in inputs])

    def input_list(self) -> list[str]:
        """The files, folders and patterns to measure."""
        return [self.inputs.item(i).text() for i in range(self.inputs.count())]

    def _choose_recipe(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Recipe", "", "Recipes (*.json)")
        if path:
            self.recipe.setCurrentText(path)

    def _add_files(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Images")
        self.inputs.addItems(paths)

    def _add_folder(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder of images")
        if path:
            self.inputs.addItem(path)

    def _add_pattern(self) -> None:
        if self.pattern.text().strip():
            self.inputs.addItem(self.pattern.text().strip())
            self.pattern.clear()

    def _remove_selected(self) -> None:
        for item in self.inputs.selectedItems():
            self.inputs.takeItem(self.inputs.row(item))

    def _choose_table(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Table", "", "CSV (*.csv)")
        if path:
            self.table.setText(path)

    def _choose_dir(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for annotated images")
        if path:
            self.annotated.setText(path)

    # --- running -------------------------------------------------------------------------

    def _recipe_path(self, table: Path) -> str:
        """The recipe file; the current analysis is saved beside the table first."""
        text = self.recipe.currentText().strip()
        if text != _CURRENT:
            return text
        from measurer.gui.dialogs.recipe_saving import save_current_recipe

        return str(save_current_recipe(self.window, table.with_suffix(".recipe.json")))

    def spec(self) -> BatchSpec:
        """The batch as the fields say; ValueError with a readable message if incomplete."""
        table = self.table.text().strip()
        if not table:
            raise ValueError("Choose the table to write (a .csv file).")
        if Path(table).suffix.lower() != ".csv":
            raise ValueError("The table must be a .csv file (tick XLSX for a spreadsheet too).")
        if not self.input_list():
            raise ValueError("Add the images, folders or patterns to measure.")
        return BatchSpec(
            recipe=self._recipe_path(Path(table)),
            inputs=tuple(self.input_list()),
            table=table,
            xlsx=self.xlsx.isChecked(),
            annotated=self.annotated.text().strip() or None,
            jobs=self.jobs.value(),
            force=self.force.isChecked(),
        )

    def run(self) -> bool:
        """Start the batch on a worker; False (with the reason shown) if it cannot start."""
        if self.handle is not None and self.handle.is_running():
            return False
        try:
            spec = self.spec()
        except ValueError as exc:
            self._show_error(str(exc))
            return False
        self._stop.clear()
        self.summary = None
        self.bar.setValue(0)
        self.progress_label.setText("Starting…")
        self.status.setText("")
        self._set_running(True)
        self.handle = run_task(
            self, "Batch", self._work, spec,
            on_done=self._on_done, on_error=self._on_error, show_after_ms=None,
        )  # fmt: skip
        return True

    def _work(self, spec: BatchSpec, *, progress, cancelled) -> BatchSummary:
        """On the worker thread: the batch, its progress sent to this dialog."""
        return run_batch_program(
            spec, progress=lambda f, t="": self.progressed.emit(f, t), cancelled=cancelled,
            stop=self._stop,
        )  # fmt: skip

    def cancel(self) -> None:
        """Stop after the images being measured; what is done is kept for the next run."""
        if self.handle is not None and self.handle.is_running():
            self._stop.set()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")

    def _show_progress(self, fraction: float, text: str) -> None:
        if self._stop.is_set():
            return
        self.bar.setValue(round(min(max(fraction, 0.0), 1.0) * 1000))
        self.progress_label.setText(text)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _on_done(self, summary: BatchSummary) -> None:
        self._set_running(False)
        self.summary = summary
        self.progress_label.setText("")
        self.status.setText(summary.text())
        if not summary.cancelled:
            self.bar.setValue(1000)
            self.open_table(summary.table)
        self.finished_batch.emit(summary)

    def _on_error(self, message: str) -> None:
        self._set_running(False)
        self.progress_label.setText("")
        self._show_error(message)
        self.finished_batch.emit(None)

    def _show_error(self, message: str) -> None:
        self.status.setText(f"<b>Cannot run the batch:</b> {message}")
        QtWidgets.QMessageBox.warning(self, "Batch", message)

    def open_table(self, path: str | os.PathLike[str]) -> BatchTableWindow | None:
        """Show the batch's table in its own window."""
        try:
            self.table_window = BatchTableWindow(path, self.window)
        except OSError as exc:
            self._show_error(f"Cannot open the table {path}: {exc.strerror or exc}")
            return None
        self.table_window.show()
        return self.table_window

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Closing while a batch runs cancels it (what is done is kept)."""
        self.cancel()
        super().closeEvent(event)
