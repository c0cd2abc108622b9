"""Starting the GUI: the QApplication, the icon, the main window."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets


def create_app(argv: Sequence[str] = ()) -> QtWidgets.QApplication:
    """The application object (reused when one exists, as in tests)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([sys.argv[0], *argv])
    app.setApplicationName("measurer")
    app.setOrganizationName("measurer")
    app.setApplicationDisplayName("measurer")
    app.setDesktopFileName("measurer")  # matches packaging/measurer.desktop (Wayland icons)
    from measurer.io.samples import icon_path

    icon = icon_path()
    if icon.exists():
        app.setWindowIcon(QtGui.QIcon(str(icon)))
    return app


def run_app(images: Sequence[str] = ()) -> int:
    """Open the main window with ``images`` (the first is shown) and run until it closes.

    With the environment variable ``MEASURER_QUIT_AFTER_MS=N`` the app quits by itself, with exit
    code 0, N milliseconds after the window is shown: a start-up smoke test for builds such as
    ``packaging/check.sh``.
    """
    quit_after = os.environ.get("MEASURER_QUIT_AFTER_MS")
    if quit_after is not None and not (quit_after.isascii() and quit_after.isdigit()):
        print(
            f"measurer: error: MEASURER_QUIT_AFTER_MS must be a whole number of milliseconds, "
            f"not {quit_after!r}",
            file=sys.stderr,
        )
        return 2
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
        and not os.environ.get("QT_QPA_PLATFORM")
    ):
        print(
            "measurer: error: no display found (DISPLAY is not set); "
            "run on a desktop, or set QT_QPA_PLATFORM=offscreen for headless use",
            file=sys.stderr,
        )
        return 2
    app = create_app()
    from measurer.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if images:
        QtCore.QTimer.singleShot(0, lambda: window.open_paths(list(images)))
    if quit_after is not None:
        QtCore.QTimer.singleShot(int(quit_after), app.quit)
    return app.exec()
