"""Autosave: a snapshot taken on the GUI thread, written on a worker, debounced after edits."""

from __future__ import annotations

import threading

from PySide6 import QtCore

from measurer.core.document import Document
from measurer.gui.workers import Debouncer
from measurer.io import session as sessions

DELAY_MS = 1500


class Autosaver(QtCore.QObject):
    """Keeps ``IMAGE.measurer.autosave.json`` up to date while a document has unsaved edits."""

    failed = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None, delay_ms: int = DELAY_MS) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self._debouncer = Debouncer(delay_ms, self._write_in_background, self)
        self._lock = threading.Lock()
        self._generation = 0

    def set_document(self, document: Document | None) -> None:
        """Follow another document (a pending autosave of the previous one is written first)."""
        self.flush()
        self.document = document

    def schedule(self) -> None:
        """An edit happened: write a moment after the last one."""
        if self._wanted():
            self._debouncer.trigger()

    def flush(self) -> None:
        """Write a pending autosave now, on this thread (before closing or switching images)."""
        if self._debouncer.is_pending():
            self._debouncer.cancel()
            if self._wanted():
                self._write(self.document, sessions.snapshot(self.document), self._generation)

    def discard(self) -> None:
        """The document was saved or its changes dropped: remove the autosave for good."""
        self._debouncer.cancel()
        with self._lock:
            self._generation += 1  # a write already queued must not bring it back
            if self.document is not None and self.document.path is not None:
                sessions.remove_autosave(self.document.path)

    def _wanted(self) -> bool:
        doc = self.document
        return doc is not None and doc.path is not None and doc.is_modified

    def _write_in_background(self) -> None:
        if not self._wanted():
            return
        document, data, generation = (
            self.document,
            sessions.snapshot(self.document),
            self._generation,
        )
        QtCore.QThreadPool.globalInstance().start(lambda: self._write(document, data, generation))

    def _write(self, document: Document, data, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            try:
                sessions.write_autosave(document, data)
            except (sessions.SessionError, OSError) as exc:
                self.failed.emit(f"Autosave failed: {exc}")
