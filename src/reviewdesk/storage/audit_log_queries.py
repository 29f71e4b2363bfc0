"""Read-only paging over the audit chain for the lead's audit log viewer.

``audit verify`` walks the whole chain (``audit_queries``); a viewer needs one page at a time,
optionally of one kind, and must find the page that holds a given record (the first broken one).
Pages are addressed by offset within the filtered, id-ordered records: ``audit_record`` is
append-only, so an offset keeps pointing at the same records while the lead pages, and the
count and rank queries are cheap index scans even on hundreds of thousands of records. Kept
apart from ``repositories`` because only this GUI feature needs it; everything returned is a
plain value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from reviewdesk.storage.orm import AuditRecordRow


@dataclass(frozen=True)
class AuditLogRow:
    """One audit record as the viewer lists it (hashes included for the detail view)."""

    id: int
    kind: str
    created_at: str
    actor: str
    payload: str
    record_sha256: str


def _filtered(stmt: Select[Any], kind: str | None) -> Select[Any]:
    return stmt if kind is None else stmt.where(AuditRecordRow.kind == kind)


def count_records(session: Session, kind: str | None = None) -> int:
    """How many audit records there are (of ``kind``, when given)."""
    stmt = _filtered(select(func.count(AuditRecordRow.id)), kind)
    return int(session.execute(stmt).scalar_one())


def record_kinds(session: Session) -> list[str]:
    """The distinct record kinds present, sorted (for the viewer's filter)."""
    rows = session.execute(select(AuditRecordRow.kind).distinct().order_by(AuditRecordRow.kind))
    return [str(kind) for (kind,) in rows]


def rank_of(session: Session, record_id: int, kind: str | None = None) -> int:
    """The 0-based position of ``record_id`` among the (filtered) records in id order."""
    stmt = _filtered(
        select(func.count(AuditRecordRow.id)).where(AuditRecordRow.id < record_id), kind
    )
    return int(session.execute(stmt).scalar_one())


def page_of_records(
    session: Session, offset: int, limit: int, kind: str | None = None
) -> list[AuditLogRow]:
    """``limit`` records from ``offset`` on, in id order (of ``kind``, when given)."""
    stmt = select(
        AuditRecordRow.id,
        AuditRecordRow.kind,
        AuditRecordRow.created_at,
        AuditRecordRow.actor,
        AuditRecordRow.payload,
        AuditRecordRow.record_sha256,
    ).order_by(AuditRecordRow.id)
    if kind is not None:
        stmt = stmt.where(AuditRecordRow.kind == kind)
    stmt = stmt.offset(max(0, offset)).limit(max(0, limit))
    return [
        AuditLogRow(int(i), str(k), str(at), str(actor), str(payload), str(sha))
        for i, k, at, actor, payload, sha in session.execute(stmt)
    ]
