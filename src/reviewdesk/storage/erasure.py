"""Storage side of erasing a data subject: finding their rows, blanking texts, purging the file.

Blanking rows is not enough for SQLite: old page images survive in the WAL until a checkpoint,
and deleted or shrunk content survives on free pages and in unused parts of pages. So erasure
turns on ``secure_delete`` (freed content is overwritten with zeros), checkpoints the WAL into
the main file and truncates it, rebuilds the file with ``VACUUM`` (no free pages are left), and
checkpoints again. Everything SQLite-specific sits behind a dialect check in this module.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reviewdesk.domain.hashing import LABEL_EVENT_FIELDS
from reviewdesk.storage.engine import BUSY_TIMEOUT_MS, is_locked_error

_CHUNK = 500
#: How long a purge waits for other connections to finish reading before giving up.
PURGE_WAIT_MS = 1000


def _in_chunks(session: Session, sql: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    conn = session.connection()
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        out.extend(conn.exec_driver_sql(sql.format(ids=",".join("?" * len(chunk))), tuple(chunk)))
    return out


@dataclass(frozen=True)
class SubjectItem:
    id: int
    key: str
    content_sha256: str
    erased_at: str | None


def subject_items(session: Session, subject_id: str) -> list[SubjectItem]:
    rows = session.connection().exec_driver_sql(
        "SELECT id, item_key, content_sha256, erased_at FROM item WHERE subject_id = ? ORDER BY id",
        (subject_id,),
    )
    return [SubjectItem(*row) for row in rows]


def judgments_with_rationale(session: Session, item_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(id, content_sha256, judge kind, verdict, probability_b, score_a, score_b, refusal_a,
    refusal_b, rationale) of the judgments on these items that carry a rationale."""
    return _in_chunks(
        session,
        "SELECT j.id, j.content_sha256, g.kind, j.verdict, j.probability_b, j.score_a, "
        "j.score_b, j.refusal_a, j.refusal_b, j.rationale FROM judgment j "
        "JOIN judge g ON g.id = j.judge_id "
        "WHERE j.rationale IS NOT NULL AND j.item_id IN ({ids}) ORDER BY j.id",
        item_ids,
    )


def label_events_with_note(session: Session, item_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(id, content_sha256, created_at, *LABEL_EVENT_FIELDS values) of the events on these items
    that carry a note (``flagged`` as stored, 0/1)."""
    hashed = ", ".join(
        {"item": "i.item_key", "reviewer": "r.name"}.get(n, f"e.{n}") for n in LABEL_EVENT_FIELDS
    )
    return _in_chunks(
        session,
        f"SELECT e.id, e.content_sha256, e.created_at, {hashed} FROM label_event e "
        "JOIN item i ON i.id = e.item_id JOIN reviewer r ON r.id = e.reviewer_id "
        "WHERE e.note IS NOT NULL AND e.item_id IN ({ids}) ORDER BY e.id",
        item_ids,
    )


@dataclass(frozen=True)
class ExportRef:
    id: int
    kind: str
    path: str
    created_at: str
    stale_reason: str | None


def exports_containing(session: Session, item_ids: Sequence[int]) -> list[ExportRef]:
    rows = _in_chunks(
        session,
        "SELECT DISTINCT x.id, x.kind, x.path, x.created_at, x.stale_reason "
        "FROM export_record x JOIN export_item ei ON ei.export_id = x.id "
        "WHERE ei.item_id IN ({ids})",
        item_ids,
    )
    return sorted((ExportRef(*row) for row in rows), key=lambda x: x.id)


def enable_secure_delete(session: Session) -> None:
    """Zero freed content for the rest of this connection's life (SQLite only)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")


def blank_subject_rows(session: Session, item_ids: Sequence[int], erased_at: str) -> None:
    """Blank every text of these items; keep ids, models, slices and all content hashes.

    Prompts keep their shape (a text prompt becomes ``''``, a chat ``[]``) so readers that expect
    exactly one of the two still work. Label notes may change despite the append-only trigger,
    which exempts ``note`` for exactly this purpose.
    """
    conn = session.connection()
    for start in range(0, len(item_ids), _CHUNK):
        chunk = tuple(item_ids[start : start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        conn.exec_driver_sql(
            "UPDATE item SET prompt = CASE WHEN prompt IS NULL THEN NULL ELSE '' END, "
            "messages = CASE WHEN messages IS NULL THEN NULL ELSE '[]' END, meta = NULL, "
            f"erased_at = ? WHERE id IN ({marks})",
            (erased_at, *chunk),
        )
        conn.exec_driver_sql(f"UPDATE response SET text = '' WHERE item_id IN ({marks})", chunk)
        conn.exec_driver_sql(
            f"UPDATE judgment SET rationale = NULL WHERE rationale IS NOT NULL "
            f"AND item_id IN ({marks})",
            chunk,
        )
        conn.exec_driver_sql(
            f"UPDATE label_event SET note = NULL WHERE note IS NOT NULL AND item_id IN ({marks})",
            chunk,
        )


def mark_exports_stale(session: Session, export_ids: Sequence[int], reason: str) -> None:
    if export_ids:
        session.connection().exec_driver_sql(
            "UPDATE export_record SET stale_reason = ? WHERE id = ?",
            [(reason, export_id) for export_id in export_ids],
        )


@dataclass(frozen=True)
class PurgeResult:
    """Whether the file was purged: False when another connection kept the WAL in use."""

    complete: bool
    wal_frames_left: int


def purge_free_space(engine: Engine) -> PurgeResult:
    """Checkpoint + truncate the WAL, VACUUM, checkpoint + truncate again (SQLite only).

    Runs outside any transaction (VACUUM refuses to run inside one), on a raw connection whose
    ``secure_delete`` is on so that the pages VACUUM frees are zeroed as well. A checkpoint
    cannot truncate the WAL while another connection reads an older snapshot; it waits briefly
    (``PURGE_WAIT_MS``) and then reports the purge incomplete instead of failing, since the rows
    are already blanked and running the erasure again finishes the job.
    """
    if engine.dialect.name != "sqlite":
        return PurgeResult(True, 0)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {PURGE_WAIT_MS}")
            cursor.execute("PRAGMA secure_delete = ON")
            busy, frames = _checkpoint(cursor)
            if busy == 0:
                cursor.execute("VACUUM")
                busy, frames = _checkpoint(cursor)
        except sqlite3.OperationalError as exc:
            if not is_locked_error(exc):
                raise
            busy, frames = 1, -1  # another process is writing: purge on the next run
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        raw.close()
    return PurgeResult(complete=busy == 0 and frames == 0, wal_frames_left=frames)


def _checkpoint(cursor: Any) -> tuple[int, int]:
    """(busy, frames left in the WAL) after a TRUNCATE checkpoint."""
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    row = cursor.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])
