"""One base exception and a shallow tree named by who is at fault.

The CLI maps these to exit statuses and the web layer to HTTP status codes, so the core never has
to know about either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SkkError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(SkkError):
    """The caller's data breaks a domain rule (level, job code, NIK, number, ...)."""


class NotFound(SkkError):
    """A record does not exist, or belongs to another agency."""


class Conflict(SkkError):
    """A duplicate, or a state change the rules refuse."""


class UnreadableInput(SkkError):
    """A file the caller named cannot be read, or holds no QR code."""


class ConfigurationError(SkkError):
    """The operator's setup is missing something: schema, passphrase, pepper, a setting."""


class StorageUnavailable(SkkError):
    """The database does not answer; never turned into a verification verdict."""


class TooManyAttempts(SkkError):
    """A guessing or rate limit was reached; ``retry_after`` seconds until a retry may pass."""

    def __init__(
        self, message: str, *, field: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RowProblem:
    """One problem of a list (a cohort, a crew roster): line, column (as the file or the JSON
    member names it) and a message that never holds a NIK."""

    line: int
    column: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The API's error object."""
        return {"line": self.line, "column": self.column, "message": self.message}
