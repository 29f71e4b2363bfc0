"""Read-only queries behind the preference and CSV exports and adjudication.

They return plain tuples and frozen records, never rows. Per-item reads take chunks of ids (the
services stream the project in chunks, so memory stays bounded however large it is); the CSV
readers stream whole tables in id order through the driver cursor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

_CHUNK = 500  # bound on parameters per IN (...) query


def _in_chunks(
    session: Session, sql: str, ids: Sequence[int], params: Sequence[Any] = ()
) -> Iterator[tuple[Any, ...]]:
    """Run ``sql`` (with one ``{ids}`` placeholder for the IN list) over chunks of ``ids``."""
    conn = session.connection()
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        yield from conn.exec_driver_sql(sql.format(ids=marks), (*params, *chunk))


def _stream(session: Session, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` as the cursor delivers them (no buffering of the whole result)."""
    yield from session.connection().exec_driver_sql(sql, tuple(params))


def item_ids(session: Session) -> list[int]:
    """Every item id in ascending order (erased items included; callers decide)."""
    return [row[0] for row in _stream(session, "SELECT id FROM item ORDER BY id")]


@dataclass(frozen=True)
class ExportItem:
    id: int
    key: str
    prompt: str | None
    messages: list[list[str]] | None
    slices: dict[str, str]
    expected_behavior: str | None
    panel: str | None
    reasons: int
    content_sha256: str
    erased: bool
    model_a: str
    text_a: str
    model_b: str
    text_b: str


def items_for_export(session: Session, ids: Sequence[int]) -> dict[int, ExportItem]:
    sql = (
        "SELECT i.id, i.item_key, i.prompt, i.messages, i.slices, i.expected_behavior, i.panel, "
        "i.reasons, i.content_sha256, i.erased_at IS NOT NULL, a.model, a.text, b.model, b.text "
        "FROM item i JOIN response a ON a.item_id = i.id AND a.slot = 'A' "
        "JOIN response b ON b.item_id = i.id AND b.slot = 'B' WHERE i.id IN ({ids})"
    )
    out: dict[int, ExportItem] = {}
    for row in _in_chunks(session, sql, ids):
        (item_id, key, prompt, messages, slices, expected, panel, reasons, digest, erased) = row[
            :10
        ]
        out[item_id] = ExportItem(
            item_id,
            key,
            prompt,
            None if messages is None else json.loads(messages),
            json.loads(slices or "{}"),
            expected,
            panel,
            int(reasons or 0),
            digest,
            bool(erased),
            *row[10:],
        )
    return out


@dataclass(frozen=True)
class JudgmentView:
    item_id: int
    judge: str
    kind: str
    order: str
    verdict: str | None
    probability_b: float | None
    score_a: float | None
    score_b: float | None
    refusal_a: str | None
    refusal_b: str | None


def judgments_for_export(session: Session, ids: Sequence[int]) -> list[JudgmentView]:
    sql = (
        "SELECT j.item_id, g.name, g.kind, j.display_order, j.verdict, j.probability_b, "
        "j.score_a, j.score_b, j.refusal_a, j.refusal_b FROM judgment j "
        "JOIN judge g ON g.id = j.judge_id WHERE j.item_id IN ({ids}) ORDER BY j.id"
    )
    return [JudgmentView(*row) for row in _in_chunks(session, sql, ids)]


#: Label-event columns every export reads, in ``LabelEventView`` order.
_EVENT_SELECT = (
    "SELECT e.id, e.item_id, e.entry_id, r.name, e.provenance, e.kind, e.screen_choice, "
    "e.left_slot, e.choice, e.refusal_a, e.refusal_b, e.tags, e.note, e.flagged, e.dwell_ms, "
    "e.queue_reason, e.inclusion_prob, e.labeled_at, e.created_at, e.retracts_id, "
    "e.content_sha256, i.item_key, "
    "EXISTS (SELECT 1 FROM label_event x WHERE x.retracts_id = e.id) "
    "FROM label_event e JOIN reviewer r ON r.id = e.reviewer_id JOIN item i ON i.id = e.item_id "
)


@dataclass(frozen=True)
class LabelEventView:
    """One label event as exports and adjudication see it (``retracted``: a later undo)."""

    id: int
    item_id: int
    entry_id: int | None
    reviewer: str
    provenance: str
    kind: str
    screen_choice: str | None
    left_slot: str | None
    choice: str | None
    refusal_a: str | None
    refusal_b: str | None
    tags: str | None
    note: str | None
    flagged: bool
    dwell_ms: int | None
    queue_reason: str | None
    inclusion_prob: float | None
    labeled_at: str
    created_at: str
    retracts_id: int | None
    content_sha256: str
    item_key: str
    retracted: bool


def _event(row: tuple[Any, ...]) -> LabelEventView:
    values = list(row)
    values[13] = bool(values[13])
    values[22] = bool(values[22])
    return LabelEventView(*values)


def label_events_for_items(session: Session, ids: Sequence[int]) -> list[LabelEventView]:
    """All label events (labels, skips, retractions) on these items, in id order."""
    rows = _in_chunks(session, _EVENT_SELECT + "WHERE e.item_id IN ({ids})", ids)
    return sorted((_event(row) for row in rows), key=lambda e: e.id)


def iter_label_events(session: Session) -> Iterator[LabelEventView]:
    """Every label event in id order, streamed (the CSV export)."""
    for row in _stream(session, _EVENT_SELECT + "ORDER BY e.id"):
        yield _event(row)


def count_label_events(session: Session) -> int:
    return int(next(_stream(session, "SELECT count(*) FROM label_event"))[0])


@dataclass(frozen=True)
class EntryView:
    reason: str
    inclusion_prob: float | None
    labels_needed: int
    label_count: int


def queue_entries_for(session: Session, ids: Sequence[int]) -> dict[int, EntryView]:
    """item id → its (first-round) queue entry, for the items that have one."""
    sql = (
        "SELECT item_id, reason, inclusion_prob, labels_needed, label_count FROM queue_entry "
        "WHERE round = 0 AND item_id IN ({ids})"
    )
    return {row[0]: EntryView(*row[1:]) for row in _in_chunks(session, sql, ids)}


@dataclass(frozen=True)
class Snapshot:
    """What an export saw: how many label events, the last one's id, and the audit head."""

    label_events: int
    last_event_id: int | None
    audit_records: int
    audit_head_sha256: str | None


def snapshot(session: Session) -> Snapshot:
    events, last = next(_stream(session, "SELECT count(*), max(id) FROM label_event"))
    records = next(_stream(session, "SELECT count(*) FROM audit_record"))[0]
    head = next(
        _stream(session, "SELECT record_sha256 FROM audit_record ORDER BY id DESC LIMIT 1"),
        (None,),
    )[0]
    return Snapshot(int(events), last, int(records), head)


def distinct_slice_keys(session: Session) -> list[str]:
    """Every slice dimension used by any item (the CSV gets one column per dimension)."""
    keys: set[str] = set()
    for (slices,) in _stream(session, "SELECT DISTINCT slices FROM item"):
        keys.update(json.loads(slices or "{}"))
    return sorted(keys)


def conflict_candidates(session: Session) -> list[int]:
    """Items where human labels ever chose both A and B (a superset of current conflicts)."""
    sql = (
        "SELECT item_id FROM label_event WHERE kind = 'label' "
        "AND provenance IN ('human', 'import') AND choice IN ('A', 'B') "
        "GROUP BY item_id HAVING count(DISTINCT choice) = 2 ORDER BY item_id"
    )
    return [row[0] for row in _stream(session, sql)]
