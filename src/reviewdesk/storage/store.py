"""Opening and creating project files: the one door to a project's database.

``ProjectStore`` owns the engine of one file. It is opaque to the layers above: services ask it for
units of work and pass those to repository functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from reviewdesk.domain.clock import Clock
from reviewdesk.domain.errors import NotAProjectError, ProjectExistsError, ProjectNotFoundError
from reviewdesk.storage import repositories as repo
from reviewdesk.storage.backup import backup_file, backup_path_for
from reviewdesk.storage.engine import (
    APPLICATION_ID,
    DEFERRED_AUTOCHECKPOINT_PAGES,
    WalPolicy,
    make_engine,
    read_application_id,
    translated_errors,
)
from reviewdesk.storage.migrate import run_migrations, upgrade_with_backup
from reviewdesk.storage.unit_of_work import DEFAULT_LOCK_WAIT_S, UnitOfWork


class ProjectStore:
    """The database of one project file."""

    def __init__(
        self,
        path: Path,
        engine: Engine,
        migrated_backup: Path | None = None,
        wal: WalPolicy | None = None,
    ) -> None:
        self.path = path
        self.engine = engine
        #: Set when opening upgraded the schema: where the pre-upgrade copy was written.
        self.migrated_backup = migrated_backup
        self._wal = wal

    def read(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.path, write=False)

    def write(self, lock_wait: float = DEFAULT_LOCK_WAIT_S) -> UnitOfWork:
        return UnitOfWork(self.engine, self.path, write=True, lock_wait=lock_wait)

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (used before copying or erasing)."""
        with translated_errors(self.path), self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.rollback()

    def defer_checkpoints(self) -> None:
        """Let commits leave WAL checkpoints to :meth:`checkpoint_passive` (interactive labeling).

        Applies to connections from their next checkout. Commits still checkpoint past
        ``DEFERRED_AUTOCHECKPOINT_PAGES``, and closing the project checkpoints too.
        """
        if self._wal is not None:
            self._wal.autocheckpoint = DEFERRED_AUTOCHECKPOINT_PAGES

    def checkpoint_passive(self) -> int:
        """Copy what the WAL holds into the main file, without waiting for readers or writers.

        Returns how many WAL pages could not be copied yet (0 when the WAL is folded in).
        """
        raw = self.engine.raw_connection()
        try:
            with translated_errors(self.path):
                cursor = raw.cursor()
                row = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                cursor.close()
        finally:
            raw.close()
        if row is None or row[1] < 0:  # not in WAL mode
            return 0
        return max(0, int(row[1]) - int(row[2]))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_store(path: Path, settings: Mapping[str, Any], clock: Clock) -> ProjectStore:
    """Create a new project file with the current schema and initial settings."""
    if path.exists():
        raise ProjectExistsError(f"{path}: a file already exists there; choose another name")
    if not path.parent.exists():
        raise ProjectNotFoundError(f"{path.parent}: folder does not exist")
    wal = WalPolicy()
    engine = make_engine(path, wal)
    try:
        with translated_errors(path):
            run_migrations(engine)
        store = ProjectStore(path, engine, wal=wal)
        with store.write() as uow:
            repo.put_settings(uow.session, settings)
            repo.append_audit(
                uow.session, "create", "system", {"settings": dict(settings)}, clock.now()
            )
        return store
    except BaseException:
        engine.dispose()
        for leftover in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)
        raise


def open_store(path: Path, clock: Clock) -> ProjectStore:
    """Open an existing project, refusing unknown files and files from a newer schema.

    A file from an older schema is copied to a timestamped backup before it is upgraded.
    """
    if not path.exists():
        raise ProjectNotFoundError(f"{path}: no such project file")
    if path.is_dir():
        raise NotAProjectError(f"{path}: is a folder, not a project file")
    app_id = read_application_id(path)
    if app_id is None:
        raise NotAProjectError(f"{path}: not a reviewdesk project (not an SQLite database)")
    if app_id != APPLICATION_ID:
        raise NotAProjectError(f"{path}: not a reviewdesk project (an SQLite file of another app)")
    wal = WalPolicy()
    engine = make_engine(path, wal)
    try:
        with translated_errors(path):
            backup = upgrade_with_backup(
                engine,
                path,
                lambda: backup_file(path, backup_path_for(path, clock.now(), "pre-migration")),
            )
        return ProjectStore(path, engine, migrated_backup=backup, wal=wal)
    except BaseException:
        engine.dispose()
        raise
