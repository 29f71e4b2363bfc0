"""Schema versions: create new files, refuse files from the future, back up, then upgrade.

The revision chain is known here without importing Alembic (``KNOWN_REVISIONS``, checked against
the scripts by a test), so opening an up-to-date project stays fast; Alembic is loaded only to
create or upgrade a file. Migration scripts are package data found through importlib.resources.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from reviewdesk.domain.errors import NotAProjectError, ProjectTooNewError
from reviewdesk.storage.engine import APPLICATION_ID, WRITING

#: Every revision this build knows, oldest first. The last one is the head.
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002")
HEAD = KNOWN_REVISIONS[-1]


def current_revision(conn: Connection) -> str | None:
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
    ).first()
    if not exists:
        return None
    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def check_revision(path: Path, revision: str | None) -> bool:
    """True when the file needs an upgrade; raises when it cannot be opened by this build."""
    if revision is None:
        raise NotAProjectError(f"{path}: not a reviewdesk project (no schema version)")
    if revision not in KNOWN_REVISIONS:
        raise ProjectTooNewError(
            f"{path}: this project was saved by a newer reviewdesk (schema {revision}; this "
            f"version knows up to {HEAD}); update reviewdesk to open it"
        )
    return revision != HEAD


def run_migrations(engine: Engine, target: str = HEAD) -> None:
    """Upgrade (or create) the schema in one transaction: an interruption changes nothing."""
    from alembic import command
    from alembic.config import Config

    scripts = resources.files("reviewdesk.storage") / "migrations"
    with resources.as_file(scripts) as location:
        config = Config()
        config.set_main_option("script_location", str(location))
        token = WRITING.set(True)
        try:
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, target)
                conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        finally:
            WRITING.reset(token)


def revision_chain() -> list[str]:
    """The revisions of the migration scripts, oldest first (for tests and diagnostics)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    scripts = resources.files("reviewdesk.storage") / "migrations"
    with resources.as_file(scripts) as location:
        config = Config()
        config.set_main_option("script_location", str(location))
        directory = ScriptDirectory.from_config(config)
        return [s.revision for s in reversed(list(directory.walk_revisions()))]


def read_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        revision = current_revision(conn)
        conn.rollback()
        return revision


def upgrade_with_backup(engine: Engine, path: Path, make_backup: Callable[[], Path]) -> Path | None:
    """Back up, then upgrade, when the file is behind; returns the backup path if one was made."""
    revision = read_revision(engine)
    if not check_revision(path, revision):
        return None
    backup = make_backup()
    try:
        run_migrations(engine)
    except BaseException:
        # The upgrade is one transaction, so the file is as it was and the copy is not needed;
        # keeping it would leave one more backup beside the file at every failed attempt (a
        # read-only file, a full disk).
        backup.unlink(missing_ok=True)
        raise
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD
        conn.rollback()
    return backup


def schema_objects(conn: Connection) -> list[tuple[str, str, str]]:
    """(type, name, sql) of every schema object, for comparing files in tests."""
    rows = conn.execute(
        text("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
    )
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]
