"""The one user-facing error type.

Everything a user can cause (bad arguments, a missing model, an unknown region) raises
:class:`EditloopError`. The CLI prints it as one line; the language server turns it into an
LSP error response with the same message; the extension shows it with "Show Logs".
"""

from __future__ import annotations


class EditloopError(Exception):
    """A problem the user can understand and act on. ``str(err)`` is the whole message."""

    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class NotFound(EditloopError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_found")


class InvalidArgument(EditloopError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_argument")
