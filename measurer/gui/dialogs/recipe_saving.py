"""File → Save analysis as recipe…: the last analysis run on the image, for ``measurer batch``.

The mapping from a panel's parameters to a subcommand's options is
:mod:`measurer.io.recipe_from_steps` (no Qt); this module asks where to save and says what
went wrong.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtWidgets

from measurer.io.recipe_from_steps import UnsupportedStep, save_step_recipe


def save_current_recipe(window, path: str | os.PathLike[str]) -> Path:
    """Save the last analysis run on ``window``'s document as the recipe ``path``.

    Raises
    ------
    UnsupportedStep
        No image, no analysis run yet, or one no recipe can express (the message says why).
    OSError
        The files cannot be written.
    """
    document = window.document
    if document is None:
        raise UnsupportedStep("Open an image and run an analysis first.")
    if not document.steps:
        raise UnsupportedStep("Run an analysis on the image first: the recipe repeats it.")
    step, image = document.steps[-1], document.image
    return save_step_recipe(path, step, document.calibration, image, image_path=document.path)


def save_recipe_as(window) -> Path | None:
    """Ask for a file and save the current analysis there; None if cancelled or refused."""
    path, _ = QtWidgets.QFileDialog.getSaveFileName(
        window, "Save analysis as recipe", "recipe.json", "Recipes (*.json)"
    )
    if not path:
        return None
    try:
        return save_current_recipe(window, path)
    except (ValueError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        QtWidgets.QMessageBox.warning(window, "Save analysis as recipe", reason)
        return None
