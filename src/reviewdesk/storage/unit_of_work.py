"""Units of work: one service call, one transaction, one thread.

A write unit of work begins with ``BEGIN IMMEDIATE`` (through ``engine.WRITING``). If another
process holds the write lock longer than SQLite's busy timeout, we keep retrying up to
``lock_wait`` seconds before telling the user, so short contention (two reviewers labeling the same
project) never surfaces as "database is locked".
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from reviewdesk.domain.errors import ProjectLockedError
from reviewdesk.storage.engine import WRITING, is_locked_error, translate

DEFAULT_LOCK_WAIT_S = 60.0


class UnitOfWork:
    """``with UnitOfWork(engine, path, write=True) as uow: ...`` commits on success."""

    def __init__(
        self, engine: Engine, path: Path, *, write: bool, lock_wait: float = DEFAULT_LOCK_WAIT_S
    ) -> None:
        self._engine = engine
        self.path = path
        self.write = write
        self._lock_wait = lock_wait
        self.session: Session = Session(engine, expire_on_commit=False, autoflush=False)

    def __enter__(self) -> UnitOfWork:
        token = WRITING.set(self.write)
        try:
            deadline = time.monotonic() + self._lock_wait
            while True:
                try:
                    self.session.connection()  # emits BEGIN [IMMEDIATE] now, not lazily
                    break
                except sa_exc.OperationalError as exc:
                    self.session.rollback()
                    if not is_locked_error(exc):
                        self.session.close()
                        translated = translate(exc, self.path)
                        if translated is exc:
                            raise
                        raise translated from exc
                    if time.monotonic() >= deadline:
                        self.session.close()
                        raise ProjectLockedError(
                            f"{self.path}: another process has been writing to this project "
                            f"for over {self._lock_wait:.0f} s; try again when it has finished"
                        ) from exc
                    time.sleep(0.05)
        finally:
            WRITING.reset(token)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self.write:
                try:
                    self.session.commit()
                except (sa_exc.DBAPIError, sqlite3.Error) as err:
                    self.session.rollback()
                    translated = translate(err, self.path)
                    if translated is err:
                        raise
                    raise translated from err
            else:
                self.session.rollback()
        finally:
            self.session.close()
        # A statement of the body failed (disk full, read-only file, ...): the transaction is
        # rolled back above, and the user gets the plain message instead of a driver error.
        if isinstance(exc, sa_exc.DBAPIError | sqlite3.Error):
            translated = translate(exc, self.path)
            if translated is not exc:
                raise translated from exc
