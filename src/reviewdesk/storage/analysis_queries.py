"""Read-only, streaming reads behind the statistics (gate inputs, ``stats``).

A computation over a project needs every current label, item and judgment, but only a few
columns of each, and it must not hold ORM rows (ARCHITECTURE.md §4.1) or the whole table as
Python objects. So each reader here streams one table in primary-key order, ``chunk`` rows at a
time, and yields the chunk as plain column lists. Categorical text columns arrive already coded
as small integers by a SQL ``CASE`` (the code tables below), so the services turn a chunk into
numpy arrays without a Python loop per row. Queries use SQLAlchemy Core constructs only, so they
run unchanged on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from reviewdesk.storage.orm import (
    AuditRecordRow,
    ItemRow,
    JudgeRow,
    JudgmentRow,
    LabelEventRow,
    QueueEntryRow,
    ResponseRow,
    ReviewerRow,
)

CHUNK_ROWS = 20_000
"""Rows per streamed chunk: bounds the Python objects alive at once to a few MB."""

MISSING = -1
"""Code of a NULL or unknown value in every coded column."""

SLOT_CODES: Mapping[str, int] = {"A": 0, "B": 1}
CHOICE_CODES: Mapping[str, int] = {"A": 0, "B": 1, "tie": 2, "both_bad": 3, "skip": 4}
REFUSAL_CODES: Mapping[str, int] = {
    "full_compliance": 0,
    "partial_refusal": 1,
    "full_refusal": 2,
}
PROVENANCE_CODES: Mapping[str, int] = {"human": 0, "import": 1, "adjudication": 2}
EVENT_KIND_CODES: Mapping[str, int] = {"label": 0, "retract": 1}
ORDER_CODES: Mapping[str, int] = {"AB": 0, "BA": 1, "unknown": 2}
VERDICT_CODES: Mapping[str, int] = {"A": 0, "B": 1, "tie": 2, "both_bad": 3}
EXPECTED_CODES: Mapping[str, int] = {"answer": 0, "refuse": 1}
STRATUM_CODES: Mapping[str, int] = {"contested": 0, "audit": 1, "anchor": 2, "control": 3}
PANEL_CODES: Mapping[str, int] = {"anchor": 0, "control_positive": 1, "control_negative": 2}

#: Audit kinds that change nothing an analysis reads: an export, a reveal after submit and a new
#: reviewer profile. The content hash of a snapshot is the newest record of any other kind.
NON_CONTENT_AUDIT_KINDS = ("export", "reveal", "reviewer")


def _coded(column: Any, codes: Mapping[str, int]) -> ColumnElement[int]:
    """``CASE column WHEN 'x' THEN 0 ... ELSE -1 END``: NULL and unknown text become ``MISSING``."""
    return case(codes, value=column, else_=MISSING)


def _stream(
    session: Session, stmt: Select[*tuple[Any, ...]], chunk: int
) -> Iterator[list[list[Any]]]:
    """Execute ``stmt`` in the session's transaction and yield chunks as lists of columns.

    The statement is compiled by the connection's dialect and run on the driver cursor, so the
    rows skip SQLAlchemy's per-row result processing (a third of the read time on 100k labels);
    every selected column is a plain integer, float or text value that needs none.
    """
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                break
            yield [list(col) for col in zip(*rows, strict=True)]
    finally:
        cursor.close()


@dataclass(frozen=True)
class ItemChunk:
    """Items in id order with what every statistic needs about them.

    ``entry_reason``/``entry_inclusion_prob`` come from the item's first-round queue entry (coded
    by ``STRATUM_CODES``; ``MISSING`` without an entry). ``len_a``/``len_b`` are the responses'
    character counts (kept through erasure).
    """

    id: list[int]
    slices: list[str]
    expected: list[int]
    panel: list[int]
    reasons: list[int]
    model_a: list[str]
    model_b: list[str]
    len_a: list[int]
    len_b: list[int]
    entry_reason: list[int]
    entry_inclusion_prob: list[float | None]


def iter_items(session: Session, chunk: int = CHUNK_ROWS) -> Iterator[ItemChunk]:
    """Every item (erased ones too: their labels and lengths remain) in id order."""
    a = aliased(ResponseRow)
    b = aliased(ResponseRow)
    stmt = (
        select(
            ItemRow.id,
            ItemRow.slices,
            _coded(ItemRow.expected_behavior, EXPECTED_CODES),
            _coded(ItemRow.panel, PANEL_CODES),
            func.coalesce(ItemRow.reasons, 0),
            a.model,
            b.model,
            a.char_len,
            b.char_len,
            _coded(QueueEntryRow.reason, STRATUM_CODES),
            QueueEntryRow.inclusion_prob,
        )
        .join(a, and_(a.item_id == ItemRow.id, a.slot == "A"))
        .join(b, and_(b.item_id == ItemRow.id, b.slot == "B"))
        .outerjoin(
            QueueEntryRow, and_(QueueEntryRow.item_id == ItemRow.id, QueueEntryRow.round == 0)
        )
        .order_by(ItemRow.id)
    )
    for cols in _stream(session, stmt, chunk):
        yield ItemChunk(*cols)


@dataclass(frozen=True)
class LabelEventChunk:
    """Label events in id order, coded (``labeled_at`` stays text: it only orders imports)."""

    id: list[int]
    item_id: list[int]
    entry_id: list[int]  # MISSING for imported and adjudication events
    reviewer_id: list[int]
    provenance: list[int]
    kind: list[int]
    left_slot: list[int]
    choice: list[int]
    refusal_a: list[int]
    refusal_b: list[int]
    retracts_id: list[int]  # MISSING unless kind is retract
    labeled_at: list[str]


def iter_label_events(session: Session, chunk: int = CHUNK_ROWS) -> Iterator[LabelEventChunk]:
    """The whole label-event log (labels, skips, retractions, adjudications) in id order."""
    stmt = select(
        LabelEventRow.id,
        LabelEventRow.item_id,
        func.coalesce(LabelEventRow.entry_id, MISSING),
        LabelEventRow.reviewer_id,
        _coded(LabelEventRow.provenance, PROVENANCE_CODES),
        _coded(LabelEventRow.kind, EVENT_KIND_CODES),
        _coded(LabelEventRow.left_slot, SLOT_CODES),
        _coded(LabelEventRow.choice, CHOICE_CODES),
        _coded(LabelEventRow.refusal_a, REFUSAL_CODES),
        _coded(LabelEventRow.refusal_b, REFUSAL_CODES),
        func.coalesce(LabelEventRow.retracts_id, MISSING),
        LabelEventRow.labeled_at,
    ).order_by(LabelEventRow.id)
    for cols in _stream(session, stmt, chunk):
        yield LabelEventChunk(*cols)


@dataclass(frozen=True)
class JudgmentChunk:
    """Judgments in id order: verdicts coded, per-slot scores as given (NULL → ``None``)."""

    item_id: list[int]
    judge_id: list[int]
    order: list[int]
    verdict: list[int]
    score_a: list[float | None]
    score_b: list[float | None]


def iter_judgments(session: Session, chunk: int = CHUNK_ROWS) -> Iterator[JudgmentChunk]:
    stmt = select(
        JudgmentRow.item_id,
        JudgmentRow.judge_id,
        _coded(JudgmentRow.display_order, ORDER_CODES),
        _coded(JudgmentRow.verdict, VERDICT_CODES),
        JudgmentRow.score_a,
        JudgmentRow.score_b,
    ).order_by(JudgmentRow.id)
    for cols in _stream(session, stmt, chunk):
        yield JudgmentChunk(*cols)


def list_judges(session: Session) -> list[tuple[int, str, str]]:
    """(id, name, kind) of every judge, by id."""
    rows = session.execute(select(JudgeRow.id, JudgeRow.name, JudgeRow.kind).order_by(JudgeRow.id))
    return [(int(i), str(n), str(k)) for i, n, k in rows]


def list_reviewers(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every reviewer (profiles and imported labelers), by id."""
    rows = session.execute(select(ReviewerRow.id, ReviewerRow.name).order_by(ReviewerRow.id))
    return [(int(i), str(n)) for i, n in rows]


def count_items(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(ItemRow)).scalar_one())


def count_label_events(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(LabelEventRow)).scalar_one())


@dataclass(frozen=True)
class AnalysisSnapshot:
    """What an analysis saw (STATISTICS.md §8.1 ``snapshot``).

    ``content_sha256`` is the ``record_sha256`` of the newest audit record that can change what
    an analysis reads (any kind but :data:`NON_CONTENT_AUDIT_KINDS`); the chain makes it cover
    every import, label, undo, queue build and setting before it. Exports append audit records
    themselves, so the plain chain head would change with every export of the same data.
    """

    content_sha256: str | None
    content_audit_id: int | None
    label_count: int
    last_event_id: int | None


def analysis_snapshot(
    session: Session, non_content_kinds: Sequence[str] = NON_CONTENT_AUDIT_KINDS
) -> AnalysisSnapshot:
    head = session.execute(
        select(AuditRecordRow.id, AuditRecordRow.record_sha256)
        .where(AuditRecordRow.kind.not_in(list(non_content_kinds)))
        .order_by(AuditRecordRow.id.desc())
        .limit(1)
    ).first()
    count, last = session.execute(select(func.count(), func.max(LabelEventRow.id))).one()
    return AnalysisSnapshot(
        None if head is None else str(head[1]),
        None if head is None else int(head[0]),
        int(count),
        None if last is None else int(last),
    )
