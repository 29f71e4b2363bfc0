"""Queries and writes over an open session. Rows never leave this module: callers get plain
values, tuples and domain objects.

Bulk paths (import, queue build) use Core ``insert`` with lists of parameter tuples so they run as
one ``executemany`` each; the interactive paths (serving, labeling) are a handful of indexed
statements each.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.hashing import canonical_json, sha256_hex
from reviewdesk.storage.orm import (
    AuditRecordRow,
    ExportItemRow,
    ExportRecordRow,
    ImportBatchRow,
    ItemRow,
    JudgeRow,
    JudgmentRow,
    LabelCurrentRow,
    LabelEventRow,
    QueueBuildRow,
    QueueEntryRow,
    ResponseRow,
    ReviewerRow,
    ServingRow,
    SettingRow,
)

GENESIS_SHA256 = "0" * 64

#: The session type services hold inside a unit of work (so they need not import SQLAlchemy).
DbSession = Session
_CHUNK = 500  # bound on parameters per IN (...) query


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _inserted_id(result: Any) -> int:
    """The primary key of a single-row Core insert (``CursorResult``, typed loosely by SA)."""
    key = cast("CursorResult[Any]", result).inserted_primary_key
    assert key is not None
    return int(key[0])


def table(row: type[Any]) -> Table:
    return row.__table__  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------- settings


def put_settings(session: Session, settings: Mapping[str, Any]) -> None:
    for key, value in settings.items():
        encoded = canonical_json(value)
        row = session.get(SettingRow, key)
        if row is None:
            session.add(SettingRow(key=key, value=encoded))
        else:
            row.value = encoded
    session.flush()


def get_settings(session: Session) -> dict[str, Any]:
    return {
        key: json.loads(value)
        for key, value in session.execute(select(SettingRow.key, SettingRow.value))
    }


# ---------------------------------------------------------------------------------- audit


def _raw(session: Session) -> Any:
    """The DBAPI connection under the session's transaction.

    For the few fixed statements on the interactive hot paths (a label is about ten of them,
    and SQLAlchemy's per-statement overhead would be most of its cost). Plain SQL with the
    driver's ``?`` parameters (pysqlite; the SQLite-only project file); the driver caches the
    prepared statements by their text.
    """
    return session.connection().connection.dbapi_connection


_AUDIT_HEAD_SQL = "SELECT record_sha256 FROM audit_record ORDER BY id DESC LIMIT 1"
_AUDIT_INSERT_SQL = (
    "INSERT INTO audit_record (kind, created_at, actor, payload, content_sha256, prev_sha256, "
    "record_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def append_audit(
    session: Session, kind: str, actor: str, payload: Mapping[str, Any], moment: datetime
) -> int:
    """Append one record to the hash chain and return its id.

    The chain head is read inside the caller's write transaction (``BEGIN IMMEDIATE``), so no
    other writer can append between the read and the insert.
    """
    raw = _raw(session)
    head = raw.execute(_AUDIT_HEAD_SQL).fetchone()
    prev = head[0] if head is not None and head[0] else GENESIS_SHA256
    created = to_iso(moment)
    body = canonical_json(dict(payload))
    content = audit_content_sha256(kind, created, actor, body)
    cursor = raw.execute(
        _AUDIT_INSERT_SQL,
        (kind, created, actor, body, content, prev, sha256_hex(prev + content)),
    )
    return int(cursor.lastrowid)


def audit_content_sha256(kind: str, created_at: str, actor: str, payload_json: str) -> str:
    return sha256_hex(
        canonical_json(
            {"kind": kind, "created_at": created_at, "actor": actor, "payload": payload_json}
        )
    )


@dataclass(frozen=True)
class AuditRecord:
    id: int
    kind: str
    created_at: str
    actor: str
    payload: str
    content_sha256: str
    prev_sha256: str
    record_sha256: str


def iter_audit(session: Session, after_id: int = 0, limit: int | None = None) -> list[AuditRecord]:
    query = (
        select(
            AuditRecordRow.id,
            AuditRecordRow.kind,
            AuditRecordRow.created_at,
            AuditRecordRow.actor,
            AuditRecordRow.payload,
            AuditRecordRow.content_sha256,
            AuditRecordRow.prev_sha256,
            AuditRecordRow.record_sha256,
        )
        .where(AuditRecordRow.id > after_id)
        .order_by(AuditRecordRow.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [AuditRecord(*row) for row in session.execute(query)]


# ---------------------------------------------------------------------------------- import


def add_import_batch(
    session: Session,
    path: str,
    file_sha256: str,
    fmt: str,
    options: Mapping[str, Any],
    moment: datetime,
) -> int:
    result = session.execute(
        insert(table(ImportBatchRow)).values(
            path=path,
            file_sha256=file_sha256,
            format=fmt,
            options=canonical_json(dict(options)),
            created_at=to_iso(moment),
            counts="{}",
        )
    )
    return _inserted_id(result)


def set_import_counts(session: Session, batch_id: int, counts: Mapping[str, int]) -> None:
    session.execute(
        update(table(ImportBatchRow))
        .where(table(ImportBatchRow).c.id == batch_id)
        .values(counts=canonical_json(dict(counts)))
    )


def next_ids(session: Session) -> tuple[int, int, int]:
    """The next free ids of items, responses and judgments (the import assigns ids itself so
    that rows of three tables can be inserted in three ``executemany`` calls)."""
    return tuple(  # type: ignore[return-value]
        int(session.execute(select(func.coalesce(func.max(row.id), 0))).scalar_one()) + 1
        for row in (ItemRow, ResponseRow, JudgmentRow)
    )


def next_label_event_id(session: Session) -> int:
    return int(
        session.execute(select(func.coalesce(func.max(LabelEventRow.id), 0))).scalar_one() + 1
    )


def insert_label_events(session: Session, values: list[dict[str, Any]]) -> None:
    """Many label events in one ``executemany`` (rows carry their pre-assigned ids)."""
    insert_many(session, LabelEventRow, values)


def find_items(session: Session, keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    """item_key → (id, content_sha256) for the keys already in the project."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(list(keys)):
        rows = session.execute(
            select(ItemRow.item_key, ItemRow.id, ItemRow.content_sha256).where(
                ItemRow.item_key.in_(chunk)
            )
        )
        for key, item_id, digest in rows:
            found[key] = (item_id, digest)
    return found


def insert_many(session: Session, row: type[Any], values: list[dict[str, Any]]) -> None:
    if values:
        session.execute(insert(table(row)), values)


def _insert_tuples(
    session: Session, row: type[Any], columns: Sequence[str], values: list[tuple[Any, ...]]
) -> None:
    """One ``executemany`` of plain tuples: the bulk path of imports (no per-row compilation)."""
    if values:
        sql = (
            f"INSERT INTO {row.__tablename__} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        session.connection().exec_driver_sql(sql, values)


ITEM_COLUMNS = (
    "id",
    "item_key",
    "prompt",
    "messages",
    "slices",
    "expected_behavior",
    "subject_id",
    "panel",
    "meta",
    "content_sha256",
    "reasons",
    "import_id",
    "created_at",
)
RESPONSE_COLUMNS = ("id", "item_id", "slot", "model", "text", "char_len")
JUDGMENT_COLUMNS = (
    "id",
    "item_id",
    "judge_id",
    "display_order",
    "verdict",
    "probability_b",
    "score_a",
    "score_b",
    "refusal_a",
    "refusal_b",
    "rationale",
    "content_sha256",
    "import_id",
)


def insert_items(session: Session, values: list[tuple[Any, ...]]) -> None:
    """Rows in ``ITEM_COLUMNS`` order."""
    _insert_tuples(session, ItemRow, ITEM_COLUMNS, values)


def insert_responses(session: Session, values: list[tuple[Any, ...]]) -> None:
    """Rows in ``RESPONSE_COLUMNS`` order."""
    _insert_tuples(session, ResponseRow, RESPONSE_COLUMNS, values)


def insert_judgments(session: Session, values: list[tuple[Any, ...]]) -> None:
    """Rows in ``JUDGMENT_COLUMNS`` order."""
    _insert_tuples(session, JudgmentRow, JUDGMENT_COLUMNS, values)


def mark_items_stale(session: Session, item_ids: Sequence[int], marker: int) -> None:
    if item_ids:
        session.connection().exec_driver_sql(
            "UPDATE item SET reasons = ? WHERE id = ?", [(marker, i) for i in item_ids]
        )


def stale_items(session: Session, marker: int, limit: int) -> list[int]:
    return list(
        session.execute(select(ItemRow.id).where(ItemRow.reasons == marker).limit(limit)).scalars()
    )


def get_or_create_judges(session: Session, judges: Mapping[str, str]) -> dict[str, tuple[int, str]]:
    """name → (id, kind), creating the missing ones with the given kind."""
    existing = {
        name: (judge_id, kind)
        for judge_id, name, kind in session.execute(
            select(JudgeRow.id, JudgeRow.name, JudgeRow.kind).where(JudgeRow.name.in_(list(judges)))
        )
    }
    missing = [{"name": n, "kind": k} for n, k in judges.items() if n not in existing]
    if missing:
        insert_many(session, JudgeRow, missing)
        return get_or_create_judges(session, judges)
    return existing


def existing_judgments(
    session: Session, item_ids: Sequence[int]
) -> dict[tuple[int, int, str], str]:
    """(item_id, judge_id, order) → content_sha256 of the judgments stored for these items."""
    found: dict[tuple[int, int, str], str] = {}
    for chunk in _chunks(list(item_ids)):
        rows = session.execute(
            select(
                JudgmentRow.item_id,
                JudgmentRow.judge_id,
                JudgmentRow.display_order,
                JudgmentRow.content_sha256,
            ).where(JudgmentRow.item_id.in_(chunk))
        )
        for item_id, judge_id, order, digest in rows:
            found[(item_id, judge_id, order)] = digest
    return found


def get_or_create_reviewers(
    session: Session, names: Iterable[str], kind: str, moment: datetime
) -> dict[str, int]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    found = dict(
        session.execute(
            select(ReviewerRow.name, ReviewerRow.id).where(ReviewerRow.name.in_(wanted))
        ).all()
    )
    missing = [
        {"name": n, "kind": kind, "created_at": to_iso(moment)} for n in wanted if n not in found
    ]
    if missing:
        insert_many(session, ReviewerRow, missing)
        found = dict(
            session.execute(
                select(ReviewerRow.name, ReviewerRow.id).where(ReviewerRow.name.in_(wanted))
            ).all()
        )
    return found


def get_reviewer_id(session: Session, name: str) -> int | None:
    row = _raw(session).execute("SELECT id FROM reviewer WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row[0])


def list_reviewers(session: Session) -> list[tuple[str, str]]:
    return [
        (name, kind)
        for name, kind in session.execute(
            select(ReviewerRow.name, ReviewerRow.kind).order_by(ReviewerRow.name)
        )
    ]


def existing_label_hashes(session: Session, item_ids: Sequence[int]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(list(item_ids)):
        found.update(
            session.execute(
                select(LabelEventRow.content_sha256).where(
                    LabelEventRow.item_id.in_(chunk), LabelEventRow.provenance == "import"
                )
            ).scalars()
        )
    return found


@dataclass(frozen=True)
class JudgmentFact:
    item_id: int
    judge: str
    order: str
    verdict: str | None
    probability_b: float | None


def judgments_for_items(session: Session, item_ids: Sequence[int]) -> list[JudgmentFact]:
    facts: list[JudgmentFact] = []
    for chunk in _chunks(list(item_ids)):
        rows = session.execute(
            select(
                JudgmentRow.item_id,
                JudgeRow.name,
                JudgmentRow.display_order,
                JudgmentRow.verdict,
                JudgmentRow.probability_b,
            )
            .join(JudgeRow, JudgeRow.id == JudgmentRow.judge_id)
            .where(JudgmentRow.item_id.in_(chunk))
        )
        facts.extend(JudgmentFact(*row) for row in rows)
    return facts


def set_item_reasons(session: Session, masks: Mapping[int, int]) -> None:
    if masks:
        session.execute(
            text("UPDATE item SET reasons = :mask WHERE id = :id"),
            [{"id": item_id, "mask": mask} for item_id, mask in masks.items()],
        )


# ---------------------------------------------------------------------------------- queue


@dataclass(frozen=True)
class QueueCandidate:
    item_id: int
    item_key: str
    reasons: int
    slices: dict[str, str]
    panel: str | None


def list_queue_candidates(session: Session) -> list[QueueCandidate]:
    rows = session.execute(
        select(ItemRow.id, ItemRow.item_key, ItemRow.reasons, ItemRow.slices, ItemRow.panel)
        .where(ItemRow.erased_at.is_(None))
        .order_by(ItemRow.id)
    )
    return [QueueCandidate(i, k, r, json.loads(s), p) for i, k, r, s, p in rows]


def queued_item_ids(session: Session, round_: int = 0) -> set[int]:
    return set(
        session.execute(
            select(QueueEntryRow.item_id).where(QueueEntryRow.round == round_)
        ).scalars()
    )


def contested_priorities(session: Session) -> list[float]:
    return sorted(
        session.execute(
            select(QueueEntryRow.base_priority).where(QueueEntryRow.reason == "contested")
        ).scalars()
    )


def add_queue_build(
    session: Session, params: Mapping[str, Any], counts: Mapping[str, Any], moment: datetime
) -> int:
    result = session.execute(
        insert(table(QueueBuildRow)).values(
            created_at=to_iso(moment),
            params=canonical_json(dict(params)),
            counts=canonical_json(dict(counts)),
        )
    )
    return _inserted_id(result)


def insert_queue_entries(session: Session, values: list[dict[str, Any]]) -> None:
    insert_many(session, QueueEntryRow, values)


def count_queue_entries(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(QueueEntryRow)).scalar_one())


def raise_queue_requirements(session: Session, labels_needed: int, audit_rate: float) -> int:
    """Raise (never lower) what existing entries need, when the lead asks for more.

    An audit entry's inclusion probability becomes the highest rate it was eligible under: with
    draws ``u < rate`` from a fixed hash, every item drawn at a lower rate is also drawn at the
    higher one. Returns how many entries now need more labels.
    """
    entries = table(QueueEntryRow)
    raised = cast(
        "CursorResult[Any]",
        session.execute(
            update(entries)
            .where(entries.c.labels_needed < labels_needed)
            .values(labels_needed=labels_needed)
        ),
    ).rowcount
    session.execute(
        update(entries)
        .where(entries.c.reason == "audit", entries.c.inclusion_prob < audit_rate)
        .values(inclusion_prob=audit_rate)
    )
    return int(raised or 0)


def set_queue_build_counts(session: Session, build_id: int, counts: Mapping[str, Any]) -> None:
    session.execute(
        update(table(QueueBuildRow))
        .where(table(QueueBuildRow).c.id == build_id)
        .values(counts=canonical_json(dict(counts)))
    )


# ---------------------------------------------------------------------------------- serving


@dataclass(frozen=True)
class EntryRef:
    entry_id: int
    item_id: int
    item_key: str
    label_count: int
    reason: str
    inclusion_prob: float | None
    round: int = 0  # 0 for the item's first entry; anchors get one more per re-served window


_ENTRY_COLUMNS = (
    QueueEntryRow.id,
    QueueEntryRow.item_id,
    ItemRow.item_key,
    QueueEntryRow.label_count,
    QueueEntryRow.reason,
    QueueEntryRow.inclusion_prob,
    QueueEntryRow.round,
)


def next_entries(
    session: Session, reviewer_id: int, limit: int, exclude: Sequence[int] = ()
) -> list[EntryRef]:
    """Entries still needing labels that the reviewer has not labeled or skipped, in serving order.

    ``exclude`` drops entries the caller already holds (the GUI's prefetched pairs).
    """
    labeled = select(LabelCurrentRow.entry_id).where(
        LabelCurrentRow.entry_id == QueueEntryRow.id, LabelCurrentRow.reviewer_id == reviewer_id
    )
    query = (
        select(*_ENTRY_COLUMNS)
        .join(ItemRow, ItemRow.id == QueueEntryRow.item_id)
        .where(QueueEntryRow.label_count < QueueEntryRow.labels_needed)
        .where(~labeled.exists())
        .where(ItemRow.erased_at.is_(None))
        .order_by(QueueEntryRow.priority.desc(), QueueEntryRow.label_count, QueueEntryRow.order_key)
        .limit(limit)
    )
    if exclude:
        query = query.where(QueueEntryRow.id.not_in(list(exclude)))
    entries = [EntryRef(*row) for row in session.execute(query)]
    if len(entries) < limit:
        # Then what the reviewer skipped, oldest skip first: skipping defers, it does not drop.
        skipped = (
            select(*_ENTRY_COLUMNS)
            .join(ItemRow, ItemRow.id == QueueEntryRow.item_id)
            .join(LabelCurrentRow, LabelCurrentRow.entry_id == QueueEntryRow.id)
            .where(LabelCurrentRow.reviewer_id == reviewer_id, LabelCurrentRow.choice == "skip")
            .where(QueueEntryRow.label_count < QueueEntryRow.labels_needed)
            .where(ItemRow.erased_at.is_(None))
            .order_by(LabelCurrentRow.event_id)
            .limit(limit - len(entries))
        )
        if exclude:
            skipped = skipped.where(QueueEntryRow.id.not_in(list(exclude)))
        entries.extend(EntryRef(*row) for row in session.execute(skipped))
    return entries


_ENTRY_SQL = (
    "SELECT q.id, q.item_id, i.item_key, q.label_count, q.reason, q.inclusion_prob, q.round "
    "FROM queue_entry q JOIN item i ON i.id = q.item_id WHERE q.id = ?"
)


def get_entry(session: Session, entry_id: int) -> EntryRef | None:
    row = _raw(session).execute(_ENTRY_SQL, (entry_id,)).fetchone()
    return None if row is None else EntryRef(*row)


@dataclass(frozen=True)
class ItemTexts:
    prompt: str | None
    messages: list[list[str]] | None
    text_a: str
    text_b: str


def item_texts(session: Session, item_ids: Sequence[int]) -> dict[int, ItemTexts]:
    out: dict[int, ItemTexts] = {}
    if not item_ids:
        return out
    prompts = {
        item_id: (prompt, messages)
        for item_id, prompt, messages in session.execute(
            select(ItemRow.id, ItemRow.prompt, ItemRow.messages).where(
                ItemRow.id.in_(list(item_ids))
            )
        )
    }
    texts: dict[tuple[int, str], str] = {
        (item_id, slot): body
        for item_id, slot, body in session.execute(
            select(ResponseRow.item_id, ResponseRow.slot, ResponseRow.text).where(
                ResponseRow.item_id.in_(list(item_ids))
            )
        )
    }
    for item_id, (prompt, messages) in prompts.items():
        out[item_id] = ItemTexts(
            prompt=prompt,
            messages=None if messages is None else json.loads(messages),
            text_a=texts.get((item_id, "A"), ""),
            text_b=texts.get((item_id, "B"), ""),
        )
    return out


def open_serving(session: Session, reviewer_id: int, entry_id: int) -> tuple[str, str] | None:
    """(token, left_slot) of an unanswered serving of this entry to this reviewer, if any."""
    row = session.execute(
        select(ServingRow.token, ServingRow.left_slot).where(
            ServingRow.reviewer_id == reviewer_id,
            ServingRow.entry_id == entry_id,
            ServingRow.answered_event_id.is_(None),
        )
    ).first()
    return None if row is None else (row[0], row[1])


def add_serving(
    session: Session, token: str, entry_id: int, reviewer_id: int, left_slot: str, moment: datetime
) -> None:
    session.execute(
        insert(table(ServingRow)).values(
            token=token,
            entry_id=entry_id,
            reviewer_id=reviewer_id,
            left_slot=left_slot,
            served_at=to_iso(moment),
        )
    )


@dataclass(frozen=True)
class Serving:
    token: str
    entry_id: int
    reviewer_id: int
    left_slot: str
    served_at: str
    answered_event_id: int | None


def get_serving(session: Session, token: str) -> Serving | None:
    row = session.execute(
        select(
            ServingRow.token,
            ServingRow.entry_id,
            ServingRow.reviewer_id,
            ServingRow.left_slot,
            ServingRow.served_at,
            ServingRow.answered_event_id,
        ).where(ServingRow.token == token)
    ).first()
    return None if row is None else Serving(*row)


def mark_served_answered(session: Session, token: str, event_id: int) -> None:
    session.execute(
        update(table(ServingRow))
        .where(table(ServingRow).c.token == token)
        .values(answered_event_id=event_id)
    )


# ---------------------------------------------------------------------------------- labels


@functools.lru_cache(maxsize=16)
def _insert_sql(table_name: str, columns: tuple[str, ...]) -> str:
    return (
        f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )


def insert_label_event(session: Session, values: Mapping[str, Any]) -> int:
    sql = _insert_sql(LabelEventRow.__tablename__, tuple(values))
    return int(_raw(session).execute(sql, tuple(values.values())).lastrowid)


@dataclass(frozen=True)
class EventFact:
    id: int
    kind: str
    entry_id: int | None
    choice: str | None
    retracts_id: int | None


_EVENTS_SQL = (
    "SELECT id, kind, entry_id, choice, retracts_id FROM label_event "
    "WHERE entry_id = ? AND reviewer_id = ? ORDER BY id"
)


def events_for(session: Session, entry_id: int, reviewer_id: int) -> list[EventFact]:
    rows = _raw(session).execute(_EVENTS_SQL, (entry_id, reviewer_id)).fetchall()
    return [EventFact(*row) for row in rows]


_CURRENT_UPSERT_SQL = (
    "INSERT INTO label_current (entry_id, reviewer_id, event_id, choice) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (entry_id, reviewer_id) "
    "DO UPDATE SET event_id = excluded.event_id, choice = excluded.choice"
)
_CURRENT_DELETE_SQL = "DELETE FROM label_current WHERE entry_id = ? AND reviewer_id = ?"
_ENTRY_COUNT_SQL = (
    "UPDATE queue_entry SET label_count = (SELECT count(*) FROM label_current "
    "WHERE entry_id = ? AND choice != 'skip') WHERE id = ?"
)


def set_current_label(
    session: Session, entry_id: int, reviewer_id: int, current: EventFact | None
) -> None:
    """Store the folded state of (entry, reviewer) and refresh the entry's label count."""
    raw = _raw(session)
    if current is None:
        raw.execute(_CURRENT_DELETE_SQL, (entry_id, reviewer_id))
    else:
        raw.execute(_CURRENT_UPSERT_SQL, (entry_id, reviewer_id, current.id, current.choice))
    raw.execute(_ENTRY_COUNT_SQL, (entry_id, entry_id))


def recent_label_events(session: Session, reviewer_id: int, limit: int) -> list[EventFact]:
    """The reviewer's latest in-app ``label`` events, newest first."""
    rows = session.execute(
        select(
            LabelEventRow.id,
            LabelEventRow.kind,
            LabelEventRow.entry_id,
            LabelEventRow.choice,
            LabelEventRow.retracts_id,
        )
        .where(
            LabelEventRow.reviewer_id == reviewer_id,
            LabelEventRow.kind == "label",
            LabelEventRow.provenance == "human",
        )
        .order_by(LabelEventRow.id.desc())
        .limit(limit)
    )
    return [EventFact(*row) for row in rows]


def event_left_slot(session: Session, event_id: int) -> str | None:
    return session.execute(
        select(LabelEventRow.left_slot).where(LabelEventRow.id == event_id)
    ).scalar()


def retracted_among(session: Session, event_ids: Sequence[int]) -> set[int]:
    if not event_ids:
        return set()
    targets = session.execute(
        select(LabelEventRow.retracts_id).where(LabelEventRow.retracts_id.in_(list(event_ids)))
    ).scalars()
    return {t for t in targets if t is not None}


_DONE_SQL = "SELECT count(*) FROM label_current WHERE reviewer_id = ? AND choice != 'skip'"
_NEEDING_SQL = "SELECT count(*) FROM queue_entry WHERE label_count < labels_needed"
_NEEDING_LABELED_SQL = (
    "SELECT count(*) FROM label_current c JOIN queue_entry q ON q.id = c.entry_id "
    "WHERE c.reviewer_id = ? AND c.choice != 'skip' AND q.label_count < q.labels_needed"
)
# CROSS JOIN: SQLite then loops over the erased items (the partial index, normally empty)
# instead of over every waiting entry with a lookup of its item.
_NEEDING_ERASED_SQL = (
    "SELECT count(*) FROM item i CROSS JOIN queue_entry q ON q.item_id = i.id "
    "WHERE i.erased_at IS NOT NULL AND q.label_count < q.labels_needed AND NOT EXISTS ("
    "SELECT 1 FROM label_current c WHERE c.entry_id = q.id AND c.reviewer_id = ? "
    "AND c.choice != 'skip')"
)


def reviewer_progress(session: Session, reviewer_id: int) -> tuple[int, int]:
    """(labels the reviewer has given in the queue, entries still waiting for them).

    Waiting: entries that still need labels, minus those the reviewer has labeled, minus those
    whose item was erased. Three counts over indexes (the serving index, the reviewer's current
    labels, the erased items) instead of one join from every waiting entry to its item, which
    read a page of the item table per entry (over a second at 1M items).
    """
    raw = _raw(session)
    done = raw.execute(_DONE_SQL, (reviewer_id,)).fetchone()[0]
    needing = raw.execute(_NEEDING_SQL).fetchone()[0]
    labeled = raw.execute(_NEEDING_LABELED_SQL, (reviewer_id,)).fetchone()[0]
    erased = raw.execute(_NEEDING_ERASED_SQL, (reviewer_id,)).fetchone()[0]
    return int(done), int(needing - labeled - erased)


def queue_totals(session: Session) -> tuple[int, int]:
    """(labels given toward the queue, labels the queue needs)."""
    done, needed = session.execute(
        select(
            func.coalesce(
                func.sum(func.min(QueueEntryRow.label_count, QueueEntryRow.labels_needed)), 0
            ),
            func.coalesce(func.sum(QueueEntryRow.labels_needed), 0),
        )
    ).one()
    return int(done), int(needed)


# ---------------------------------------------------------------------------------- status


@dataclass(frozen=True)
class StatusCounts:
    items: int
    judgments: int
    judges: list[str]
    models: list[str]
    contested: int
    contested_by_bit: dict[int, int]
    queue_total: int
    queue_by_reason: dict[str, int]
    labels_needed: int
    labels_done: int
    labels_in_app: int
    labels_imported: int
    reviewers_with_labels: int


def status_counts(session: Session, reason_bits: Sequence[int]) -> StatusCounts:
    items = session.execute(select(func.count()).select_from(ItemRow)).scalar_one()
    judgments = session.execute(select(func.count()).select_from(JudgmentRow)).scalar_one()
    judges = list(session.execute(select(JudgeRow.name).order_by(JudgeRow.name)).scalars())
    models = list(
        session.execute(select(ResponseRow.model).distinct().order_by(ResponseRow.model)).scalars()
    )
    contested = session.execute(select(func.count()).where(ItemRow.reasons != 0)).scalar_one()
    by_bit = {
        bit: int(
            session.execute(
                select(func.count()).where(ItemRow.reasons.op("&")(bit) != 0)
            ).scalar_one()
        )
        for bit in reason_bits
    }
    by_reason = dict(
        session.execute(
            select(QueueEntryRow.reason, func.count()).group_by(QueueEntryRow.reason)
        ).all()
    )
    done, needed = queue_totals(session)
    in_app = session.execute(
        select(func.count()).where(LabelCurrentRow.choice != "skip")
    ).scalar_one()
    imported = session.execute(
        select(func.count()).where(
            LabelEventRow.provenance == "import", LabelEventRow.kind == "label"
        )
    ).scalar_one()
    in_app_reviewers = set(
        session.execute(
            select(LabelCurrentRow.reviewer_id).where(LabelCurrentRow.choice != "skip").distinct()
        ).scalars()
    )
    import_reviewers = set(
        session.execute(
            select(LabelEventRow.reviewer_id).where(LabelEventRow.provenance == "import").distinct()
        ).scalars()
    )
    return StatusCounts(
        items=int(items),
        judgments=int(judgments),
        judges=judges,
        models=models,
        contested=int(contested),
        contested_by_bit=by_bit,
        queue_total=int(sum(by_reason.values())),
        queue_by_reason={str(k): int(v) for k, v in by_reason.items()},
        labels_needed=needed,
        labels_done=done,
        labels_in_app=int(in_app),
        labels_imported=int(imported),
        reviewers_with_labels=len(in_app_reviewers | import_reviewers),
    )


# ---------------------------------------------------------------------------------- exports


def record_export(
    session: Session,
    kind: str,
    path: str,
    params: Mapping[str, Any],
    files: Mapping[str, str],
    item_ids: Iterable[int],
    moment: datetime,
    actor: str = "lead",
) -> int:
    """Remember an export and the items it contained (erasure lists the exports it makes stale).

    Also appends its ``export`` audit record (files, item count and a digest of the item ids), so
    every kind of export — preferences, CSV, gate inputs — is in the chain and ``audit verify``
    can check the export tables against it. Callers must not append a second one.
    """
    ids = sorted(set(item_ids))
    export_id = _inserted_id(
        session.execute(
            insert(table(ExportRecordRow)).values(
                kind=kind,
                created_at=to_iso(moment),
                path=path,
                params=canonical_json(dict(params)),
                files=canonical_json(dict(files)),
                stale_reason=None,
            )
        )
    )
    rows = [(export_id, item_id) for item_id in ids]
    _insert_tuples(session, ExportItemRow, ("export_id", "item_id"), rows)
    append_audit(
        session,
        "export",
        actor,
        {
            "export_id": export_id,
            "kind": kind,
            "path": path,
            "params": dict(params),
            "files": dict(files),
            "items": len(ids),
            "items_sha256": export_items_sha256(ids),
        },
        moment,
    )
    return export_id


def export_items_sha256(item_ids: Iterable[int]) -> str:
    """Digest of an export's item ids in ascending order, one ``id\\n`` line each."""
    return sha256_hex("".join(f"{item_id}\n" for item_id in item_ids))
