"""The Similar images panel: index a folder, then find the images that look like the current one.

Indexing and searching run on a worker (``run_task``, see :mod:`.similar_tasks`). The panel
shows their progress and a Cancel button itself rather than a modal dialog, so that the window
stays usable while a large folder is indexed. The query is the current image, or the selected
rectangle's part of it; ``docs/measurements/similarity.md`` says what the percentages mean.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets

from measurer.gui.panels.similar_results import SimilarResults
from measurer.gui.panels.similar_tasks import (
    METHODS,
    CurrentJob,
    IndexOutcome,
    Job,
    SearchOutcome,
    find_similar,
    index_folder,
    make_query,
    selected_rectangle,
)
from measurer.gui.workers import run_task

if TYPE_CHECKING:
    from measurer.gui.main_window import MainWindow

#: Where the chosen folder is remembered in the window's settings.
SETTINGS_KEY = "similar/folder"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class SimilarPanel(QtWidgets.QWidget):
    """Index a folder and list its images that look like the current image (or a part of it).

    Signals
    -------
    indexed(object)
        An :class:`IndexOutcome`, after Index (also when cancelled: ``update.cancelled``).
    searched(object)
        The list of ``SimilarImage`` results of Find similar, best first.
    failed(str)
        A readable reason (also shown to the user).
    """

    title = "Similar images"
    analysis = "similar"

    indexed = QtCore.Signal(object)
    searched = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.folder: Path | None = None
        self.unreadable: list[tuple[str, str]] = []
        self._current = CurrentJob()
        QtCore.QCoreApplication.instance().aboutToQuit.connect(self._current.stop)
        self.destroyed.connect(self._current.stop)

        self.folder_label = QtWidgets.QLabel("No folder chosen")
        self.folder_label.setMinimumWidth(60)
        self.choose_button = QtWidgets.QPushButton("Choose…")
        self.choose_button.clicked.connect(self.choose_folder)
        self.index_button = QtWidgets.QPushButton("Index")
        self.index_button.setToolTip(
            "Build or update the folder's index (only new and changed files are read)"
        )
        self.index_button.clicked.connect(self.index)
        self.index_status = QtWidgets.QLabel("")
        self.index_status.setWordWrap(True)
        self.unreadable_button = QtWidgets.QPushButton("Unreadable…")
        self.unreadable_button.setEnabled(False)
        self.unreadable_button.clicked.connect(self.show_unreadable)
        self.query_label = QtWidgets.QLabel("")
        self.query_label.setWordWrap(True)
        self.method = QtWidgets.QComboBox()
        for name, tip in METHODS.items():
            self.method.addItem(name, name)
            self.method.setItemData(
                self.method.count() - 1, tip, QtCore.Qt.ItemDataRole.ToolTipRole
            )
        self.method.setToolTip("How images are compared (docs: similarity)")
        self.find_button = QtWidgets.QPushButton("Find similar")
        self.find_button.clicked.connect(self.find_similar)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(False)
        self.progress_label = QtWidgets.QLabel("")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.results = SimilarResults()
        self.results.open_requested.connect(self.open_result)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        self._layout()

        self._poll = QtCore.QTimer(self, interval=100)
        self._poll.timeout.connect(self._show_progress)
        self._show_busy(False)
        window.document_changed.connect(self._update_query_label)
        window.layer.selection_changed.connect(self._update_query_label)
        saved = window.settings.value(SETTINGS_KEY, "")
        if saved and Path(str(saved)).is_dir():
            self._show_folder(Path(str(saved)))
        self._update_query_label()

    def _layout(self) -> None:
        folder_row = QtWidgets.QHBoxLayout()
        folder_row.addWidget(QtWidgets.QLabel("Folder:"))
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.choose_button)
        index_row = QtWidgets.QHBoxLayout()
        index_row.addWidget(self.index_button)
        index_row.addWidget(self.index_status, 1)
        index_row.addWidget(self.unreadable_button)
        find_row = QtWidgets.QHBoxLayout()
        find_row.addWidget(QtWidgets.QLabel("Method"))
        find_row.addWidget(self.method)
        find_row.addStretch(1)
        find_row.addWidget(self.find_button)
        progress_row = QtWidgets.QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(folder_row)
        layout.addLayout(index_row)
        layout.addWidget(self.query_label)
        layout.addLayout(find_row)
        layout.addLayout(progress_row)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)

    # --- the folder ----------------------------------------------------------------------------

    def choose_folder(self) -> bool:
        """Ask for the folder to search; True when one was chosen."""
        current = self.window.current_path()
        start = self.folder or (current.parent if current is not None else None)
        path = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Folder of images to search", str(start or "")
        )
        if not path:
            return False
        self.set_folder(path)
        return True

    def set_folder(self, path: str | Path) -> None:
        """Search this folder from now on (remembered in the settings)."""
        self.window.settings.setValue(SETTINGS_KEY, str(path))
        self._show_folder(Path(path))
        self.results.clear()
        self.status.setText("")

    def _show_folder(self, folder: Path) -> None:
        self.folder = folder
        self._elide_folder()
        self.folder_label.setToolTip(str(folder))
        self.index_status.setText("Press Index to build or update its index.")
        self._set_unreadable([])

    def _elide_folder(self) -> None:
        if self.folder is not None:
            metrics = self.folder_label.fontMetrics()
            width = max(self.folder_label.width(), 120)
            elided = metrics.elidedText(
                str(self.folder), QtCore.Qt.TextElideMode.ElideMiddle, width
            )
            self.folder_label.setText(elided)

    def resizeEvent(self, event) -> None:
        """Keep the folder's path elided to the label's width."""
        super().resizeEvent(event)
        self._elide_folder()

    def _set_unreadable(self, errors: list[tuple[str, str]]) -> None:
        self.unreadable = list(errors)
        self.unreadable_button.setEnabled(bool(errors))

    def show_unreadable(self) -> QtWidgets.QDialog:
        """A window listing the files (and folders) that could not be read, with the reasons."""
        dialog = QtWidgets.QDialog(self)
        dialog.setWindowTitle("Unreadable files")
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        text = QtWidgets.QPlainTextEdit("\n".join(f"{p}: {r}" for p, r in self.unreadable))
        text.setReadOnly(True)
        text.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.close)
        layout = QtWidgets.QVBoxLayout(dialog)
        intro = f"These could not be read below {self.folder} and are left out of the search:"
        layout.addWidget(QtWidgets.QLabel(intro))
        layout.addWidget(text, 1)
        layout.addWidget(buttons)
        dialog.text = text
        dialog.resize(560, 300)
        dialog.show()
        return dialog

    # --- indexing and searching ----------------------------------------------------------------

    def index(self) -> bool:
        """Build or update the folder's index on a worker; False when nothing was started."""
        if self.is_busy() or (self.folder is None and not self.choose_folder()):
            return False
        self._start(index_folder, self.folder, title="Indexing", on_done=self._on_indexed)
        return True

    def find_similar(self) -> bool:
        """Search the folder with the current image or selected rectangle; False if not started."""
        document = self.window.document
        if self.is_busy():
            return False
        if document is None:
            self._fail("Open an image first: it is what the search looks for.")
            return False
        if self.folder is None and not self.choose_folder():
            return False
        try:
            query, description = make_query(document, self.window.layer.selected)
        except ValueError as exc:
            self._fail(str(exc))
            return False
        method = self.method.currentData()
        self.results.clear()
        self.status.setText(f"Searching with {description} ({method})…")

        def done(outcome: SearchOutcome) -> None:
            self._on_searched(outcome, description, method)

        self._start(
            find_similar, self.folder, query, method, title="Finding similar images", on_done=done
        )
        return True

    def cancel(self) -> None:
        """Stop the running index update or search (what was indexed so far is kept)."""
        if self._current.job is not None:
            self._current.stop()
            self.progress_label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def is_busy(self) -> bool:
        """True while indexing or searching."""
        return self._current.job is not None

    def _start(self, function: Any, *args: Any, title: str, on_done: Any) -> None:
        job = Job()
        self._current.job = job

        def done(outcome: Any) -> None:
            self._finish(job)
            on_done(outcome)

        def failed(message: str) -> None:
            self._finish(job)
            self.index_status.setText(previous)
            self._fail(message)

        previous = self.index_status.text()
        self.index_status.setText("Updating the index…")
        self._show_busy(True)
        self._show_progress()
        run_task(
            self.window, title, function, *args, job,
            on_done=done, on_error=failed, show_after_ms=None,
        )  # fmt: skip

    def _finish(self, job: Job) -> None:
        if self._current.job is job:
            self._current.job = None
        self._show_busy(False)

    def _show_busy(self, busy: bool) -> None:
        for widget in (self.choose_button, self.index_button, self.find_button, self.method):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        for widget in (self.progress, self.cancel_button, self.progress_label):
            widget.setVisible(busy)
        if busy:
            self._poll.start()
        else:
            self._poll.stop()

    def _show_progress(self) -> None:
        job = self._current.job
        if job is None or job.stop.is_set():
            return
        fraction, text = job.latest
        if fraction is None:
            self.progress.setRange(0, 0)  # busy indicator
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * min(max(fraction, 0.0), 1.0)))
        self.progress_label.setText(
            self.progress_label.fontMetrics().elidedText(
                text, QtCore.Qt.TextElideMode.ElideMiddle, max(self.width() - 20, 100)
            )
        )

    def _show_index(self, outcome: IndexOutcome) -> None:
        update = outcome.update
        text = f"{_plural(outcome.indexed, 'image')} indexed, {len(update.errors)} unreadable"
        if update.cancelled:
            text = f"Indexing cancelled: {text} so far. Index again to finish."
        self.index_status.setText(text)
        self._set_unreadable(list(update.errors))

    def _on_indexed(self, outcome: IndexOutcome) -> None:
        self._show_index(outcome)
        update = outcome.update
        if not update.cancelled:
            read = update.added + update.changed
            self.status.setText(
                f"Index up to date: {_plural(read, 'file')} read, {update.removed} removed, "
                f"in {update.seconds:.1f} s."
            )
        self.indexed.emit(outcome)

    def _on_searched(self, outcome: SearchOutcome, description: str, method: str) -> None:
        self._show_index(outcome.index)
        if outcome.results is None:
            self.status.setText("Search cancelled.")
            return
        self.results.set_results(outcome.results, outcome.thumbnails)
        self.status.setText(
            f"Searched {_plural(outcome.index.indexed, 'image')} with {description} ({method})."
        )
        self.searched.emit(outcome.results)

    def open_result(self, path: Path) -> None:
        """Open a result in the main window."""
        self.window.files.open_image(str(path))

    def _update_query_label(self, *args: Any) -> None:
        rectangle = selected_rectangle(self.window.document, self.window.layer.selected)
        if self.window.document is None:
            text = "Open an image to search with it."
        elif rectangle is not None:
            text = "Query: the selected rectangle of the image."
        else:
            text = "Query: the whole image (select one rectangle to search with that part)."
        self.query_label.setText(text)

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        self.failed.emit(message)
        QtWidgets.QMessageBox.critical(self.window, self.title, message)
