"""File actions of the main window: open, recent, samples, sessions, autosave, export."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from measurer.gui.autosave import Autosaver
from measurer.gui.opening import (
    OpenedImage,
    checksum_for_gui,
    make_document,
    neighbour,
    read_for_gui,
)
from measurer.gui.workers import run_task
from measurer.io import session as sessions

if TYPE_CHECKING:
    from measurer.gui.main_window import MainWindow

MAX_RECENT = 10
FILTERS = {
    "csv": "CSV (*.csv)",
    "json": "JSON (*.json)",
    "xlsx": "Excel workbook (*.xlsx)",
}


class FileActions(QtCore.QObject):
    """Everything that reads or writes files for the main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.recent_menu: QtWidgets.QMenu | None = None
        self.autosaver = Autosaver(self)
        self.autosaver.failed.connect(lambda message: window.status.showMessage(message, 8000))
        self._loading = None

    # --- opening -------------------------------------------------------------------------

    def open_dialog(self) -> None:
        """File → Open."""
        from measurer.io.images import SUPPORTED_SUFFIXES

        pattern = " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES)
        start = str(self.window.current_path().parent) if self.window.current_path() else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, "Open image", start, f"Images ({pattern});;All files (*)"
        )
        if path:
            self.open_image(path)

    def open_image(self, path: str, *, carry_calibration: bool = False) -> None:
        """Read an image off the GUI thread, then show it with its session, if any."""
        if not self.maybe_save():
            return
        self.flush_autosave()
        carried = (
            self.window.document.calibration if carry_calibration and self.window.document else None
        )
        self._loading = run_task(
            self.window,
            f"Opening {Path(path).name}",
            read_for_gui,
            path,
            on_done=lambda opened: self._on_opened(opened, carried),
            on_error=lambda message: self.show_error("Cannot open the image", message),
        )

    def _on_opened(self, opened: OpenedImage | None, carried) -> None:
        if opened is None:
            return
        document = make_document(opened, carried)
        self._restore_session(document)
        self.autosaver.set_document(document)
        self.window.set_document(document, opened.image)
        if document.checksum is None:
            self._start_checksum(document)
        self.add_recent(str(opened.image.path))
        notes = "; ".join(opened.image.info.notes)
        message = f"Opened {opened.image.path.name}: {opened.image.width}×{opened.image.height}"
        message += f", {opened.image.pages} pages" if opened.image.pages > 1 else ""
        self.window.status.showMessage(message + (f" ({notes})" if notes else ""), 10000)

    def _start_checksum(self, document) -> None:
        """Compute the checksum that binds a future session to this image, in the background."""

        def done(checksum: str) -> None:
            if document.checksum is None:
                document.checksum = checksum

        run_task(
            self.window,
            "Checking the file",
            checksum_for_gui,
            document.path,
            on_done=done,
            on_error=lambda message: None,
            show_after_ms=None,
        )

    def _restore_session(self, document) -> None:
        """Load the sidecar, or a newer autosave if the user wants it back."""
        sidecar = sessions.session_path(document.path)
        autosave = sessions.find_autosave(document.path)
        source = sidecar if sidecar.exists() else None
        if autosave is not None and (
            source is None or autosave.stat().st_mtime > source.stat().st_mtime
        ):
            answer = QtWidgets.QMessageBox.question(
                self.window,
                "Unsaved work found",
                f"measurer found unsaved changes to {document.path.name} from a previous run "
                "(it may have closed unexpectedly).\n\nRestore them?",
                QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
                QtWidgets.QMessageBox.StandardButton.Yes,
            )
            if answer == QtWidgets.QMessageBox.StandardButton.Yes:
                source = autosave
            else:
                sessions.remove_autosave(document.path)
        if source is None:
            return
        try:
            sessions.load_session(source, document)
        except sessions.SessionError as exc:
            self.show_error(
                "The saved session could not be restored",
                f"{exc}\n\nThe image opens without it; the file is left as it is.",
            )
            return
        if source == autosave:
            document.history.mark_dirty()  # restored from an autosave: not saved yet
        self.window.status.showMessage(f"Restored measurements from {source.name}", 8000)

    def step_image(self, step: int) -> None:
        """Open the next or previous image of the folder, keeping the tool and calibration."""
        current = self.window.current_path()
        if current is None:
            return
        target = neighbour(current, step)
        if target is None:
            self.window.status.showMessage("No more images in this folder", 4000)
            return
        self.open_image(str(target), carry_calibration=True)

    def samples(self) -> dict[str, Path]:
        """The bundled sample images by name."""
        from measurer.io.samples import sample_paths

        return sample_paths()

    # --- recent files --------------------------------------------------------------------

    def recent(self) -> list[str]:
        """Recently opened images, newest first."""
        value = self.window.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def add_recent(self, path: str) -> None:
        """Put ``path`` at the top of the recent files."""
        items = [path] + [p for p in self.recent() if p != path]
        self.window.settings.setValue("recent", items[:MAX_RECENT])
        self.update_recent_menu()

    def update_recent_menu(self) -> None:
        """Refill File → Open recent."""
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        for path in self.recent():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_image(p))
        self.recent_menu.setEnabled(bool(self.recent()))

    # --- saving --------------------------------------------------------------------------

    def save_session(self) -> bool:
        """Save the sidecar beside the image; removes the autosave."""
        document = self.window.document
        if document is None or document.path is None:
            return False
        if document.checksum is None:  # the background checksum has not finished yet
            from measurer.io.images import file_checksum

            document.checksum = file_checksum(document.path)
        try:
            sessions.save_session(document)
        except sessions.SessionError as exc:
            if not sessions.session_path(document.path).exists() or not self._confirm_replace(
                str(exc)
            ):
                self.show_error("The session could not be saved", str(exc))
                return False
            try:
                sessions.save_session(document, overwrite_damaged=True)
            except (sessions.SessionError, OSError) as again:
                self.show_error("The session could not be saved", str(again))
                return False
        except OSError as exc:
            self.show_error("The session could not be saved", str(exc))
            return False
        self.autosaver.discard()
        self.window.status.showMessage(f"Saved {sessions.session_path(document.path).name}", 5000)
        return True

    def _confirm_replace(self, problem: str) -> bool:
        """Ask before replacing a sidecar that cannot be read; it is kept as a copy."""
        answer = QtWidgets.QMessageBox.question(
            self.window,
            "Replace the saved session?",
            f"{problem}\n\nReplace it with the current measurements? "
            "The old file is kept beside it, renamed to *.damaged-<time>.json.",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.Cancel,
            QtWidgets.QMessageBox.StandardButton.Cancel,
        )
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def maybe_save(self) -> bool:
        """Ask what to do with unsaved changes; False means the user cancelled."""
        document = self.window.document
        if document is None or not document.is_modified:
            return True
        answer = QtWidgets.QMessageBox.question(
            self.window,
            "Unsaved changes",
            f"Save the measurements of {document.image_name} before closing it?",
            QtWidgets.QMessageBox.StandardButton.Save
            | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel,
            QtWidgets.QMessageBox.StandardButton.Save,
        )
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            return self.save_session()
        if answer == QtWidgets.QMessageBox.StandardButton.Discard:
            self.autosaver.discard()
            return True
        return False

    def schedule_autosave(self) -> None:
        """Write the autosave a moment after the last edit (off the GUI thread)."""
        self.autosaver.schedule()

    def flush_autosave(self) -> None:
        """Write a pending autosave now (before closing or switching images)."""
        self.autosaver.flush()

    # --- export --------------------------------------------------------------------------

    def export_measurements(self, fmt: str) -> None:
        """Export the table as CSV, JSON or XLSX."""
        path = self.ask_save_path("Export measurements", f"measurements.{fmt}", FILTERS[fmt])
        if path:
            self.write_measurements(path)

    def ask_save_path(self, title: str, suffix: str, file_filter: str) -> str:
        """A file name beside the image, ``IMAGE-STEM_SUFFIX`` proposed; empty if cancelled."""
        document = self.window.document
        if document is None:
            return ""
        stem = document.path.stem if document.path else "image"
        folder = document.path.parent if document.path else Path.cwd()
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, title, str(folder / f"{stem}_{suffix}"), file_filter
        )
        return path

    def write_measurements(self, path: str) -> bool:
        """Write the table to ``path`` (format from the extension)."""
        from measurer.io.tables import write_table

        try:
            write_table(path, self.window.document.measurements)
        except (ValueError, OSError) as exc:
            self.show_error("The measurements could not be exported", str(exc))
            return False
        self.window.status.showMessage(f"Exported {Path(path).name}", 5000)
        return True

    def export_view(self) -> None:
        """Export the image with its overlays at full resolution as PNG."""
        path = self.ask_save_path("Export image with overlays", "annotated.png", "PNG (*.png)")
        if path:
            self.write_view(path)

    def write_view(self, path: str) -> bool:
        """Render the image and overlays at full resolution to ``path``."""
        from measurer.gui.export_view import render_full_resolution

        try:
            render_full_resolution(self.window.canvas, path)
        except (ValueError, OSError) as exc:
            self.show_error("The image could not be exported", str(exc))
            return False
        self.window.status.showMessage(f"Exported {Path(path).name}", 5000)
        return True

    def show_error(self, title: str, message: str) -> None:
        with contextlib.suppress(RuntimeError):
            QtWidgets.QMessageBox.critical(self.window, title, message)
