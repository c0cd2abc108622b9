"""Errors that end a command with one readable line and a non-zero exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A user-facing failure: printed as one line on stderr, no traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code
