"""Long work off the GUI thread, with a progress dialog and Cancel; a debouncer for autosave.

``run_task`` runs ``fn(*args, progress=..., cancelled=...)`` on the global ``QThreadPool``. The
worker reports to a :class:`TaskHandle` that lives on the GUI thread; its signals cross threads
through queued connections, so ``on_done`` and ``on_error`` always run on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressBar, QProgressDialog, QPushButton, QWidget

_log = logging.getLogger(__name__)

#: Resolution of the progress bar (fractions are shown to 0.1 %).
_STEPS = 1000


class _ProgressDialog(QProgressDialog):
    """A progress dialog that stays open on Cancel, Esc or close until the task has stopped."""

    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(title, "", 0, 0, parent)
        self.cancel_button = QPushButton("Cancel")
        self.setCancelButton(self.cancel_button)
        # Progress goes to the bar directly: QProgressDialog.setValue() runs processEvents() when
        # modal, which would deliver the task's result in the middle of a progress update.
        self.bar = QProgressBar()
        self.setBar(self.bar)
        # QProgressDialog hides itself on Cancel; the task needs it to say "Cancelling…" instead.
        self.canceled.disconnect(self.cancel)
        self.canceled.connect(self.cancel_requested)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumDuration(0)
        self.setMinimumWidth(360)

    def reject(self) -> None:
        """Esc asks the task to stop rather than hiding the dialog."""
        self.cancel_requested.emit()

    def closeEvent(self, event) -> None:
        """Closing the window asks the task to stop; the dialog goes when the task has."""
        event.ignore()
        self.cancel_requested.emit()


class TaskHandle(QObject):
    """A running task: cancel it or ask whether it is still running.

    It lives on the GUI thread; the worker emits its private signals from the pool thread.
    """

    _progressed = Signal()
    _finished = Signal(object)
    _failed = Signal(str)

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None,
        show_after_ms: int | None,
    ) -> None:
        # Owned by the application, not the window: the worker may still emit after the window
        # is gone, and the handle must outlive it until the result has been delivered.
        super().__init__(QCoreApplication.instance())
        self._window = parent
        self._title = title
        self._on_done = on_done
        self._on_error = on_error
        self._cancel = threading.Event()
        self._running = True
        self._lock = threading.Lock()
        self._latest: tuple[float, str] = (0.0, "")
        self._has_progress = False
        self._progress_pending = False
        self.dialog: _ProgressDialog | None = None
        conn = Qt.ConnectionType.QueuedConnection
        self._progressed.connect(self._show_progress, conn)
        self._finished.connect(self._deliver_result, conn)
        self._failed.connect(self._deliver_error, conn)
        self._timer = QTimer(self, singleShot=True, interval=max(0, show_after_ms or 0))
        self._timer.timeout.connect(self._open_dialog)
        if show_after_ms is not None:  # None: the caller shows progress itself
            self._timer.start()

    # --- public ------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Ask the task to stop; its result, or its error, will be dropped."""
        if not self._running or self._cancel.is_set():
            return
        self._cancel.set()
        self._show_cancelling()

    def is_running(self) -> bool:
        """True until the task's result or error has been delivered (or dropped)."""
        return self._running

    def is_cancelled(self) -> bool:
        """True once Cancel was pressed or :meth:`cancel` called."""
        return self._cancel.is_set()

    # --- called from the worker thread -------------------------------------------------------

    def _report_progress(self, fraction: float, text: str = "") -> None:
        # Only the latest value matters: one queued signal at a time, so a worker that reports
        # on every row cannot flood the GUI thread's event queue.
        with self._lock:
            self._latest = (float(fraction), str(text))
            self._has_progress = True
            if self._progress_pending:
                return
            self._progress_pending = True
        self._progressed.emit()

    def _work(self, fn: Callable[..., Any], args: tuple) -> None:
        try:
            result = fn(*args, progress=self._report_progress, cancelled=self._cancel.is_set)
        except Exception as exc:  # any failure becomes a message; the app stays up
            if not self._cancel.is_set():
                _log.error("task %r failed", self._title, exc_info=True)
            self._failed.emit(_message(exc))
        else:
            self._finished.emit(result)

    # --- GUI thread --------------------------------------------------------------------------

    @Slot()
    def _open_dialog(self) -> None:
        if not self._running or not self._window_alive():
            return
        self.dialog = _ProgressDialog(self._title, self._window)
        self.dialog.cancel_requested.connect(self.cancel)
        if self._cancel.is_set():
            self._show_cancelling()
        elif self._has_progress:
            self._apply_progress()
        self.dialog.show()

    def _show_cancelling(self) -> None:
        if self._dialog_alive():
            self.dialog.setLabelText("Cancelling…")
            self.dialog.cancel_button.setEnabled(False)

    @Slot()
    def _show_progress(self) -> None:
        with self._lock:
            self._progress_pending = False
        if self._dialog_alive() and not self._cancel.is_set():
            self._apply_progress()

    def _apply_progress(self) -> None:
        fraction, text = self._latest
        self.dialog.bar.setMaximum(_STEPS)
        self.dialog.bar.setValue(round(min(max(fraction, 0.0), 1.0) * _STEPS))
        self.dialog.setLabelText(text or self._title)

    @Slot(object)
    def _deliver_result(self, result: Any) -> None:
        if self._finish():
            self._on_done(result)

    @Slot(str)
    def _deliver_error(self, message: str) -> None:
        if not self._finish():
            return
        if self._on_error is not None:
            self._on_error(message)
        else:
            QMessageBox.critical(self._window, self._title, message)

    def _finish(self) -> bool:
        """Close the dialog and forget the task; True when the outcome should be delivered."""
        self._running = False
        self._timer.stop()
        if self._dialog_alive():
            self.dialog.hide()
            self.dialog.deleteLater()
        self.dialog = None
        _active.discard(self)
        self.deleteLater()
        return not self._cancel.is_set() and self._window_alive()

    def _window_alive(self) -> bool:
        return self._window is None or shiboken6.isValid(self._window)

    def _dialog_alive(self) -> bool:
        return self.dialog is not None and shiboken6.isValid(self.dialog)


#: Handles of running tasks, so Python keeps them until their outcome has been delivered.
_active: set[TaskHandle] = set()


def _message(exc: Exception) -> str:
    """A readable one-line message: the text of expected errors, the type for unexpected ones."""
    text = str(exc).strip()
    if isinstance(exc, ValueError | OSError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_task(
    parent: QWidget | None,
    title: str,
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None],
    on_error: Callable[[str], None] | None = None,
    show_after_ms: int | None = 300,
) -> TaskHandle:
    """Run ``fn(*args, progress=..., cancelled=...)`` on the thread pool.

    ``progress(fraction, text="")`` may be called from the worker; ``cancelled()`` returns True
    once the user pressed Cancel. A progress dialog, modal to ``parent``'s window, appears if
    the task is still running after ``show_after_ms`` (never with None: the caller shows the
    progress itself). ``on_done(result)`` or
    ``on_error(message)`` runs on the GUI thread; without ``on_error`` a failure is shown in a
    message box. A cancelled task's outcome is dropped, and so is the outcome of a task whose
    ``parent`` has been destroyed meanwhile.
    """
    handle = TaskHandle(parent, title, on_done, on_error, show_after_ms)
    _active.add(handle)
    QThreadPool.globalInstance().start(lambda: handle._work(fn, args))
    return handle


class Debouncer(QObject):
    """Calls ``callback`` once, ``delay_ms`` after the last :meth:`trigger` (e.g. autosave)."""

    def __init__(
        self, delay_ms: int, callback: Callable[[], Any], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._callback = callback
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self._fire)

    def trigger(self) -> None:
        """(Re)start the delay."""
        self._timer.start()

    def is_pending(self) -> bool:
        """True while a call is waiting for the delay to pass."""
        return self._timer.isActive()

    def flush(self) -> None:
        """Call now if a call is pending (e.g. before closing)."""
        if self._timer.isActive():
            self._timer.stop()
            self._callback()

    def cancel(self) -> None:
        """Forget a pending call."""
        self._timer.stop()

    @Slot()
    def _fire(self) -> None:
        self._callback()
