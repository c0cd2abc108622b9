"""Undo/redo history in pure Python (QUndoStack would pull Qt into the model)."""

from __future__ import annotations

from measurer.core.commands import Command


class History:
    """A list of applied commands and a cursor; commands past the cursor can be redone."""

    def __init__(self, limit: int = 1000) -> None:
        self._commands: list[Command] = []
        self._index = 0
        self._clean_index: int | None = 0
        self._limit = limit

    def push(self, command: Command) -> None:
        """Record a command that has just been done; drops anything that could be redone."""
        del self._commands[self._index :]
        if self._clean_index is not None and self._clean_index > self._index:
            self._clean_index = None  # the saved state can no longer be reached
        self._commands.append(command)
        if len(self._commands) > self._limit:
            self._commands.pop(0)
            if self._clean_index is not None:
                self._clean_index = self._clean_index - 1 if self._clean_index > 0 else None
        self._index = len(self._commands)

    @property
    def can_undo(self) -> bool:
        """True when there is a command to undo."""
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        """True when there is a command to redo."""
        return self._index < len(self._commands)

    def take_undo(self) -> Command:
        """Step back: the command to undo."""
        if not self.can_undo:
            raise IndexError("nothing to undo")
        self._index -= 1
        return self._commands[self._index]

    def take_redo(self) -> Command:
        """Step forward: the command to redo."""
        if not self.can_redo:
            raise IndexError("nothing to redo")
        self._index += 1
        return self._commands[self._index - 1]

    @property
    def index(self) -> int:
        """Number of commands currently applied."""
        return self._index

    def texts(self) -> list[str]:
        """Names of every command, oldest first (those after :attr:`index` are undone)."""
        return [c.text for c in self._commands]

    def undo_text(self) -> str | None:
        """Name of the command that undo would reverse."""
        return self._commands[self._index - 1].text if self.can_undo else None

    def redo_text(self) -> str | None:
        """Name of the command that redo would apply."""
        return self._commands[self._index].text if self.can_redo else None

    def mark_clean(self) -> None:
        """Remember the current state as saved."""
        self._clean_index = self._index

    def mark_dirty(self) -> None:
        """Forget the saved state (e.g. after restoring an autosave that was never saved)."""
        self._clean_index = None

    @property
    def is_clean(self) -> bool:
        """True when the state is the one last saved."""
        return self._clean_index == self._index

    def clear(self) -> None:
        """Forget every command (the current state counts as saved)."""
        self._commands.clear()
        self._index = 0
        self._clean_index = 0
