"""GUI tests run offscreen, with settings kept in the test's temporary folder."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture
def settings(tmp_path):
    """A QSettings in INI format inside tmp_path: tests never touch the user's settings."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def no_blocking_message_boxes(monkeypatch):
    """Message boxes never block a test run: questions answer Discard, the rest are recorded.

    Tests that care about a dialog patch it themselves (their patch wins over this one).
    """
    from PySide6.QtWidgets import QMessageBox

    shown = []

    def record(kind, answer):
        def show(parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return answer

        return show

    monkeypatch.setattr(
        QMessageBox, "question", record("question", QMessageBox.StandardButton.Discard)
    )
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind, record(kind, QMessageBox.StandardButton.Ok))
    return shown


@pytest.fixture
def main_window(qtbot, settings, no_blocking_message_boxes):
    """A shown 1000 x 800 main window; ``window.shown`` lists the message boxes it showed, as
    ``(kind, title, text)``."""
    from measurer.gui.main_window import MainWindow

    win = MainWindow(settings)
    win.shown = no_blocking_message_boxes
    qtbot.addWidget(win)
    win.resize(1000, 800)
    win.show()
    qtbot.waitExposed(win)
    return win
