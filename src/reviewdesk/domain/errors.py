"""The two error families (ARCHITECTURE.md §4.11).

A ``UserError`` is something the user can fix and gets a plain message (a dialog in the GUI, exit
code 1 in the CLI). Anything else is a bug. Storage converts database exceptions into these, so no
other layer needs SQLAlchemy to catch one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


def brief(value: Any, limit: int = 40) -> str:
    """A short JSON rendering of a bad value for a message (a user's file may hold megabytes
    where a short value belongs; the message must stay one readable line)."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class UserError(Exception):
    """An error the user can act on; its message is shown as is."""


class ProjectNotFoundError(UserError):
    """The project file does not exist."""


class ProjectExistsError(UserError):
    """``init`` would overwrite an existing project."""


class ProjectTooNewError(UserError):
    """The file was written by a newer reviewdesk whose schema this build does not know."""


class NotAProjectError(UserError):
    """The file is not a reviewdesk project (or is corrupt)."""


class ProjectLockedError(UserError):
    """Another process holds the write lock for longer than we are willing to wait."""


class ProjectReadOnlyError(UserError):
    """The file or its folder cannot be written."""


class DiskFullError(UserError):
    """The disk is full; the write was rolled back."""


class StorageIOError(UserError):
    """The operating system reported an I/O error on the project file; the write was rolled back."""


class AuditVerificationError(UserError):
    """The audit chain does not verify."""


class CanceledError(UserError):
    """The user canceled a long operation; nothing was changed."""

    def __init__(self, message: str = "canceled; the project is unchanged") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Problem:
    """One problem with one record of an input file, as ``file:line: field: message``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class InvalidInputError(UserError):
    """An input file has invalid records; nothing was imported.

    ``problems`` holds the first problems (at most ``shown``), ``total`` counts all of them.
    """

    shown = 100

    def __init__(self, file: str, problems: list[Problem], total: int) -> None:
        self.file = file
        self.problems = problems[: self.shown]
        self.total = total
        lines = [str(p) for p in self.problems]
        more = total - len(self.problems)
        head = f"{file}: {total} invalid record{'s' if total != 1 else ''}; nothing was imported"
        tail = [f"... and {more} more"] if more > 0 else []
        super().__init__("\n".join([head, *lines, *tail]))
