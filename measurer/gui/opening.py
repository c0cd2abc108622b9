"""Opening images: reading off the GUI thread, sessions and autosaves, folder navigation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from measurer.core.calibration import Calibration
from measurer.core.document import Document
from measurer.io.images import SUPPORTED_SUFFIXES, ImageFile, file_checksum, read_image
from measurer.io.session import find_autosave, session_path


@dataclass
class OpenedImage:
    """What the worker hands back to the GUI thread."""

    image: ImageFile
    checksum: str | None


def has_saved_work(path: str | Path) -> bool:
    """True when a session or an autosave waits for this image."""
    return session_path(path).exists() or find_autosave(path) is not None


def read_for_gui(path: str, *, progress, cancelled) -> OpenedImage | None:
    """Read an image (runs on a worker thread).

    The checksum is computed here only when a session must be checked against the image;
    otherwise later, in the background (see :func:`checksum_for_gui`), so opening stays quick.
    """
    progress(0.1, f"Reading {Path(path).name}…")
    image = read_image(path)
    if cancelled():
        return None
    checksum = None
    if has_saved_work(path):
        progress(0.7, "Checking the file against its saved session…")
        checksum = file_checksum(path)
    return OpenedImage(image, checksum)


def checksum_for_gui(path: str | Path, *, progress, cancelled) -> str:
    """The image file's checksum, for a worker thread."""
    return file_checksum(path)


def make_document(opened: OpenedImage, carried: Calibration | None = None) -> Document:
    """A document for a freshly read image.

    ``carried`` is the calibration of the previous image in the same folder: it is kept when
    the new image has no calibration of its own, so a series is measured in one unit.
    """
    calibration = opened.image.calibration
    if not calibration.is_calibrated and carried is not None and carried.is_calibrated:
        calibration = carried
    return Document(
        opened.image.page(0),
        path=opened.image.path,
        checksum=opened.checksum,
        calibration=calibration,
    )


def folder_images(path: Path) -> list[Path]:
    """The images in the same folder as ``path``, sorted by name (case-insensitive)."""
    suffixes = {s.lower() for s in SUPPORTED_SUFFIXES}
    try:
        entries = [p for p in path.parent.iterdir() if p.is_file() and p.suffix.lower() in suffixes]
    except OSError:
        return [path]
    return sorted(entries, key=lambda p: p.name.lower())


def neighbour(path: Path, step: int) -> Path | None:
    """The next (``step=1``) or previous (``-1``) image in the folder, or None at the ends."""
    images = folder_images(path)
    try:
        index = images.index(path)
    except ValueError:
        return None
    target = index + step
    return images[target] if 0 <= target < len(images) else None
