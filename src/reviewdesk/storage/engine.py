"""Engine, SQLite pragmas and error translation: every SQLite-specific setting lives here.

Durability: WAL with ``synchronous=FULL`` — each commit is fsynced, so a label that the UI has
shown as saved survives a crash *or a power loss* (SPEC §5; ``NORMAL`` would survive only a process
crash). Writers start with ``BEGIN IMMEDIATE`` so two transactions never deadlock while both try to
become the writer (ARCHITECTURE.md §4.9).
"""

from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc

from reviewdesk.domain.errors import (
    DiskFullError,
    NotAProjectError,
    ProjectLockedError,
    ProjectReadOnlyError,
    StorageIOError,
)

#: ``PRAGMA application_id`` of a reviewdesk project: "RVDK".
APPLICATION_ID = 0x5256444B
BUSY_TIMEOUT_MS = 5000

PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    "synchronous=FULL",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
    "temp_store=MEMORY",
)

#: Set by a write unit of work so the ``begin`` listener emits ``BEGIN IMMEDIATE``.
WRITING: contextvars.ContextVar[bool] = contextvars.ContextVar("reviewdesk_writing", default=False)

#: SQLite's default: a commit that takes the WAL past this many pages checkpoints right away.
AUTOCHECKPOINT_PAGES = 1000
#: While a reviewer labels, commits leave the checkpoint to the GUI, which folds the WAL into the
#: main file while the reviewer reads (a checkpoint writes and fsyncs the main file: a spike of
#: tens of milliseconds in the key-press path). Past this many pages (about 80 MB) a commit
#: checkpoints anyway, so the WAL stays bounded if nobody does. Durability is unchanged: every
#: commit is fsynced in the WAL (``synchronous=FULL``).
DEFERRED_AUTOCHECKPOINT_PAGES = 20_000


class WalPolicy:
    """When commits checkpoint the WAL; applied to each pooled connection as it is checked out."""

    def __init__(self) -> None:
        self.autocheckpoint = AUTOCHECKPOINT_PAGES


def make_engine(path: Path, wal: WalPolicy | None = None) -> Engine:
    """An engine for one project file, with the pragmas and our own transaction control."""
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        for pragma in PRAGMAS:
            dbapi_conn.execute(f"PRAGMA {pragma}")
        record.info["wal_autocheckpoint"] = AUTOCHECKPOINT_PAGES

    if wal is not None:

        @event.listens_for(engine, "checkout")
        def _on_checkout(dbapi_conn: sqlite3.Connection, record: Any, _proxy: Any) -> None:
            pages = wal.autocheckpoint
            if record.info.get("wal_autocheckpoint") != pages:
                dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
                record.info["wal_autocheckpoint"] = pages

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if WRITING.get() else "BEGIN")

    return engine


def read_application_id(path: Path) -> int | None:
    """The file's application id, or None when it is not an SQLite database at all."""
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError:
        return None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return None
    return int.from_bytes(header[68:72], "big")


def is_locked_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text


@contextmanager
def translated_errors(path: Path) -> Iterator[None]:
    """Turn database failures the user can act on into ``UserError``s with plain messages."""
    try:
        yield
    except (sa_exc.DBAPIError, sqlite3.Error) as exc:
        translated = translate(exc, path)
        if translated is exc:
            raise
        raise translated from exc


def translate(exc: BaseException, path: Path) -> BaseException:
    """The ``UserError`` for a database failure the user can act on, else ``exc`` itself.

    Every message names the project file and says that the change was not saved: SQLite rolls
    the statement (and our unit of work the whole transaction) back before the message is shown.
    """
    text = str(getattr(exc, "orig", exc)).lower()
    if is_locked_error(exc):
        return ProjectLockedError(
            f"{path}: another reviewdesk process is writing to this project; try again shortly"
        )
    if "disk is full" in text or "database or disk is full" in text:
        return DiskFullError(
            f"{path}: the disk is full; the last change was not saved "
            "(free some space and try again)"
        )
    if "disk i/o error" in text:
        return StorageIOError(
            f"{path}: the disk reported an input/output error; the last change was not saved "
            "(check the disk, or the network share the project is on, then try again)"
        )
    if "readonly" in text or "read-only" in text:
        return ProjectReadOnlyError(
            f"{path}: the project file or its folder is read-only; the change was not saved "
            "(reviewdesk can only read this project; copy it somewhere writable to change it)"
        )
    if "unable to open database" in text:
        return ProjectReadOnlyError(
            f"{path}: cannot open the project file: reviewdesk must be able to read it and to "
            f"create {path.name}-wal and {path.name}-shm in its folder (check the permissions, "
            "or copy the project to a writable folder)"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return NotAProjectError(f"{path}: the file is damaged or not a reviewdesk project")
    return exc
