"""run_task: results and errors on the GUI thread, Cancel drops results, progress in the dialog."""

import threading

import pytest
import shiboken6
from PySide6.QtCore import Qt, QThread, QThreadPool
from PySide6.QtWidgets import QMessageBox, QWidget

from measurer.gui import workers
from measurer.gui.workers import Debouncer, run_task

TIMEOUT_MS = 5000


@pytest.fixture
def window(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    # No test may leave a worker running into the next one, nor a handle behind.
    assert QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
    qtbot.waitUntil(lambda: not workers._active, timeout=TIMEOUT_MS)


def test_result_is_delivered_on_the_gui_thread(qtbot, window):
    gui_thread = QThread.currentThread()
    seen = {}

    def work(a, b, *, progress, cancelled):
        seen["worker_thread"] = QThread.currentThread()
        return a * b

    def on_done(result):
        seen["result"] = result
        seen["done_thread"] = QThread.currentThread()

    handle = run_task(window, "Multiplying", work, 6, 7, on_done=on_done)
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=TIMEOUT_MS)
    assert seen["result"] == 42
    assert seen["done_thread"] is gui_thread
    assert seen["worker_thread"] is not gui_thread


def test_error_is_delivered_as_a_message(qtbot, window):
    errors, results = [], []

    def work(*, progress, cancelled):
        raise ValueError("the mask is empty")

    handle = run_task(window, "Detecting", work, on_done=results.append, on_error=errors.append)
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=TIMEOUT_MS)
    assert errors == ["the mask is empty"]
    assert results == []


def test_unexpected_error_names_its_type(qtbot, window):
    errors = []

    def work(*, progress, cancelled):
        return {}["missing"]

    handle = run_task(window, "Loading", work, on_done=lambda r: None, on_error=errors.append)
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=TIMEOUT_MS)
    assert errors == ["KeyError: 'missing'"]


def test_error_without_handler_shows_a_message_box(qtbot, window, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args: shown.append(args[1:3]))

    def work(*, progress, cancelled):
        raise OSError("cannot read image.tif")

    handle = run_task(window, "Opening", work, on_done=lambda r: None)
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=TIMEOUT_MS)
    assert shown == [("Opening", "cannot read image.tif")]


def test_progress_reaches_the_dialog_and_cancel_drops_the_result(qtbot, window):
    reported = threading.Event()
    stop_seen = threading.Event()
    results, errors = [], []

    def work(*, progress, cancelled):
        progress(0.25, "page 1 of 4")
        reported.set()
        while not cancelled():
            QThread.msleep(5)
        stop_seen.set()
        return "partial"

    handle = run_task(
        window, "Analysing", work, on_done=results.append, on_error=errors.append, show_after_ms=0
    )
    assert reported.wait(TIMEOUT_MS / 1000)
    qtbot.waitUntil(lambda: handle.dialog is not None and handle.dialog.value() == 250)
    dialog = handle.dialog
    assert dialog.isVisible()
    assert dialog.labelText() == "page 1 of 4"
    assert dialog.windowTitle() == "Analysing"

    dialog.cancel_button.click()
    assert handle.is_cancelled()
    assert dialog.labelText() == "Cancelling…"
    assert not dialog.cancel_button.isEnabled()
    assert dialog.isVisible()  # stays up until the task has stopped
    assert stop_seen.wait(TIMEOUT_MS / 1000)
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=TIMEOUT_MS)
    qtbot.wait(20)  # let any stray queued call arrive
    assert results == [] and errors == []
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()


def test_dialog_does_not_appear_for_a_quick_task(qtbot, window):
    results = []
    handle = run_task(
        window,
        "Quick",
        lambda *, progress, cancelled: 1,
        on_done=results.append,
        show_after_ms=60_000,
    )
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=TIMEOUT_MS)
    assert results == [1]
    assert handle.dialog is None


def test_cancel_from_code_drops_an_error_too(qtbot, window):
    started = threading.Event()
    errors = []

    def work(*, progress, cancelled):
        started.set()
        while not cancelled():
            QThread.msleep(5)
        raise RuntimeError("interrupted")

    handle = run_task(window, "Work", work, on_done=lambda r: None, on_error=errors.append)
    assert started.wait(TIMEOUT_MS / 1000)
    handle.cancel()
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=TIMEOUT_MS)
    assert errors == []


def test_frequent_progress_is_coalesced(qtbot, window):
    done, emitted = [], []
    go, looped = threading.Event(), threading.Event()

    def work(*, progress, cancelled):
        go.wait(TIMEOUT_MS / 1000)
        for i in range(20000):
            progress((i + 1) / 20000)
        looped.set()
        return "ok"

    handle = run_task(window, "Many steps", work, on_done=done.append, show_after_ms=0)
    # Count the queued notifications the worker posts (a direct connection runs in the worker).
    handle._progressed.connect(lambda: emitted.append(1), Qt.ConnectionType.DirectConnection)
    go.set()
    # This thread handles no events until the loop is over, so the first notification stays
    # pending: the other 19,999 calls post none.
    assert looped.wait(TIMEOUT_MS / 1000)
    assert len(emitted) == 1
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=TIMEOUT_MS)
    assert done == ["ok"]


def test_debouncer_calls_once_after_the_last_trigger(qtbot):
    calls = []
    debouncer = Debouncer(30, lambda: calls.append(1))
    for _ in range(5):
        debouncer.trigger()
    assert debouncer.is_pending()
    qtbot.waitUntil(lambda: calls == [1], timeout=TIMEOUT_MS)
    assert not debouncer.is_pending()
    qtbot.wait(60)
    assert calls == [1]


def test_debouncer_flush_and_cancel(qtbot):
    calls = []
    debouncer = Debouncer(10_000, lambda: calls.append(1))
    debouncer.flush()
    assert calls == []  # nothing pending, nothing to do
    debouncer.trigger()
    debouncer.flush()
    assert calls == [1]
    debouncer.trigger()
    debouncer.cancel()
    assert not debouncer.is_pending()
    assert calls == [1]
