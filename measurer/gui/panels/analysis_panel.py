"""The base of every analysis panel: run off the GUI thread, then apply the result as one command.

A panel collects its options, calls :meth:`AnalysisPanel.run_detection` with a pure function of
``measurer.analysis`` and a converter from its result to annotations, and the rest is shared:
asking before discarding hand corrections, a progress dialog with Cancel, dropping a result
computed for an older state of the document, and one undoable ``ApplyDetection``.

Panel modules import their analysis modules inside methods, not at the top, so that the main
window starts quickly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets

from measurer.core.annotations import Annotation
from measurer.core.commands import AnalysisStep, ApplyDetection, has_corrections, previous_results
from measurer.gui.workers import run_task

if TYPE_CHECKING:
    from measurer.gui.main_window import MainWindow


class AnalysisPanel(QtWidgets.QWidget):
    """A dock panel that runs one analysis on the current image.

    Subclasses set ``title`` (the dock's title and the Analyze menu entry) and ``analysis``
    (the name recorded in provenance, steps and sessions), and build their own form.

    Signals
    -------
    finished(object)
        The analysis result, after it was applied to the document.
    failed(str)
        A readable reason (also shown to the user).
    """

    title = "Analysis"
    analysis = "analysis"

    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        self._task = None

    def run_detection(
        self,
        function: Callable[..., Any],
        *args: Any,
        parameters: dict[str, Any],
        to_shapes: Callable[[Any], list[Annotation]],
        **kwargs: Any,
    ) -> bool:
        """Run ``function(*args, **kwargs)`` on a worker; apply ``to_shapes(result)`` when done.

        Returns False when nothing was started (no image, or the user kept the corrections).
        """
        document = self.window.document
        if document is None:
            self._fail("Open an image first.")
            return False
        if not self.confirm_discard():
            return False
        revision = document.revision
        step = AnalysisStep(self.analysis, parameters)

        def work(*work_args, progress, cancelled):
            progress(0.05, f"Running {self.title.lower()}…")
            return function(*work_args, **kwargs)

        def done(result: Any) -> None:
            if self.window.document is not document or document.revision != revision:
                self._fail("The image changed while the analysis ran; run it again.")
                return
            try:
                shapes = to_shapes(result)
            except ValueError as exc:
                self._fail(str(exc))
                return
            if self.window.controller.apply(ApplyDetection(step, shapes)):
                self.status.setText(self.describe(result))
                self.finished.emit(result)

        self.status.setText("Running…")
        self._task = run_task(
            self.window, self.title, work, *args, on_done=done, on_error=self._fail
        )
        return True

    def confirm_discard(self) -> bool:
        """Ask before a re-run discards hand corrections of the previous run."""
        document = self.window.document
        previous = previous_results(document, self.analysis)
        if not has_corrections(previous):
            return True
        answer = QtWidgets.QMessageBox.question(
            self.window,
            f"Run {self.title.lower()} again?",
            "Running the analysis again replaces its results, including the ones you corrected "
            "by hand. (Undo brings them back.)\n\nRun it again?",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.Cancel,
            QtWidgets.QMessageBox.StandardButton.Cancel,
        )
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def describe(self, result: Any) -> str:
        """One line about a result for the panel's status (subclasses say more)."""
        return "Done."

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        self.failed.emit(message)
        QtWidgets.QMessageBox.critical(self.window, self.title, message)
