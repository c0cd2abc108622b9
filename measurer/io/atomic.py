"""Atomic file writes: a reader sees either the old file or the complete new one, never half.

The data goes to a temporary file in the same folder (same file system, so the final rename is
atomic), is flushed and synced to disk, then renamed over the target with :func:`os.replace`. If
anything fails the temporary file is removed and the old file is left untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Replace the file at ``path`` by ``data`` atomically.

    Parameters
    ----------
    path : str or PathLike
        The target. Its folder must exist. A symbolic link is followed (the file it points to is
        replaced, the link stays). An existing file keeps its permission bits; a new one gets the
        usual ones (0o666 minus the umask).
    data : bytes

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    OSError
        When the folder is missing or not writable, the disk is full, etc. The old file is intact
        and no temporary file is left behind.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    temporary, fd = _create_temporary(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(target.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Replace the file at ``path`` by ``text`` atomically (no newline translation).

    ``encoding="utf-8-sig"`` writes a byte-order mark first. See :func:`atomic_write_bytes`.
    """
    return atomic_write_bytes(path, text.encode(encoding))


def _create_temporary(target: Path) -> tuple[Path, int]:
    """A new hidden file beside ``target``, opened for writing; created with mode 0o666 & ~umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; best effort)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
