"""Reads and small writes behind the homogenization monitor and its instrumentation.

STATISTICS.md §7: the monitor needs every current human label (in-app labels folded from the
event log, plus imported labels), the items they are on (panel, control metadata, both
responses) and the LLM judges' verdicts on those items; the instrumentation marks anchor items,
queues anchor rounds and adds control items. Everything returns plain tuples and frozen records.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.orm import Session, aliased

from reviewdesk.storage.orm import (
    ItemRow,
    JudgeRow,
    JudgmentRow,
    LabelCurrentRow,
    LabelEventRow,
    QueueEntryRow,
    ResponseRow,
    ReviewerRow,
)

_CHUNK = 500


def _chunks(values: Sequence[int], size: int = _CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


@dataclass(frozen=True)
class MonitorLabel:
    """One current human label: event id, item, reviewer, canonical choice, shown side, time."""

    event_id: int
    item_id: int
    reviewer: str
    choice: str
    left_slot: str | None
    labeled_at: str
    queue_reason: str | None


def _driver_rows(session: Session, stmt: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Run a Core ``select`` on the driver cursor in the session's transaction.

    Skips SQLAlchemy's per-row result processing (as ``analysis_queries`` does): the monitor reads
    every current label and verdict of a project, and every selected column is a plain integer
    or text value that needs none.
    """
    conn = session.connection()
    # ``IN`` lists are rendered as one placeholder per value ("post-compile" expansion)
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _driver_rows_for_ids(
    session: Session, make: Callable[[list[int]], Select[*tuple[Any, ...]]], item_ids: Sequence[int]
) -> list[tuple[Any, ...]]:
    """Rows of ``make(chunk)`` for every chunk of ``item_ids`` (sorted, distinct), on the driver.

    ``make`` builds a ``select`` with ``… IN chunk``; it is compiled once per chunk length with
    negative placeholders (never an item id) that are then replaced by the chunk's ids, instead
    of compiling tens of statements with five hundred parameters each.
    """
    conn = session.connection()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    shapes: dict[int, tuple[str, list[Any]]] = {}
    out: list[tuple[Any, ...]] = []
    try:
        for chunk in _chunks(sorted(set(item_ids))):
            shape = shapes.get(len(chunk))
            if shape is None:
                placeholders = [-(k + 1) for k in range(len(chunk))]
                compiled = make(placeholders).compile(
                    dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
                )
                names = compiled.positiontup or []
                template = [compiled.params[name] for name in names]
                found = sorted(v for v in template if type(v) is int and v < 0)
                if found != sorted(placeholders):  # pragma: no cover - another parameter style
                    raise AssertionError("unexpected parameters in a monitor query")
                shape = (str(compiled), template)
                shapes[len(chunk)] = shape
            sql, template = shape
            params = tuple(chunk[-v - 1] if type(v) is int and v < 0 else v for v in template)
            cursor.execute(sql, params)
            out += cursor.fetchall()
    finally:
        cursor.close()
    return out


def _human_label_selects() -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    in_app = (
        select(
            LabelEventRow.id,
            LabelEventRow.item_id,
            ReviewerRow.name,
            LabelEventRow.choice,
            LabelEventRow.left_slot,
            LabelEventRow.labeled_at,
            LabelEventRow.queue_reason,
        )
        .join(LabelCurrentRow, LabelCurrentRow.event_id == LabelEventRow.id)
        .join(ReviewerRow, ReviewerRow.id == LabelEventRow.reviewer_id)
        .join(ItemRow, ItemRow.id == LabelEventRow.item_id)
        .where(LabelCurrentRow.choice != "skip", ItemRow.erased_at.is_(None))
    )
    retraction = aliased(LabelEventRow)
    imported = (
        select(
            LabelEventRow.id,
            LabelEventRow.item_id,
            ReviewerRow.name,
            LabelEventRow.choice,
            LabelEventRow.left_slot,
            LabelEventRow.labeled_at,
            LabelEventRow.queue_reason,
        )
        .join(ReviewerRow, ReviewerRow.id == LabelEventRow.reviewer_id)
        .join(ItemRow, ItemRow.id == LabelEventRow.item_id)
        .where(
            LabelEventRow.provenance == "import",
            LabelEventRow.kind == "label",
            LabelEventRow.choice != "skip",
            ItemRow.erased_at.is_(None),
            ~select(retraction.id).where(retraction.retracts_id == LabelEventRow.id).exists(),
        )
    )
    return in_app, imported


def current_human_labels(session: Session) -> list[MonitorLabel]:
    """Current labels of reviewers (folded) and imported human labels, skips excluded.

    Adjudications are not labeler labels and are left out; so are labels on erased items.
    """
    in_app, imported = _human_label_selects()
    rows = list(session.execute(in_app)) + list(session.execute(imported))
    rows.sort(key=lambda r: r[0])
    return [
        MonitorLabel(int(e), int(i), str(r), str(c), s, str(t), q) for e, i, r, c, s, t, q in rows
    ]


@dataclass(frozen=True)
class HumanLabelColumns:
    """:func:`current_human_labels` as columns (same rows, same event-id order)."""

    event_id: list[int]
    item_id: list[int]
    reviewer: list[str]
    choice: list[str]
    left_slot: list[str | None]
    labeled_at: list[str]

    def __len__(self) -> int:
        return len(self.event_id)


def current_human_label_columns(session: Session) -> HumanLabelColumns:
    """The rows of :func:`current_human_labels` as plain column lists (no object per label).

    Read on the driver cursor (no autoflush): for read transactions, as the monitor's load.
    """
    in_app, imported = _human_label_selects()
    rows = _driver_rows(session, in_app) + _driver_rows(session, imported)
    rows.sort(key=lambda r: r[0])  # event ids are unique: the same order as the row objects
    if not rows:
        return HumanLabelColumns([], [], [], [], [], [])
    e, i, r, c, s, t, _ = (list(col) for col in zip(*rows, strict=True))
    return HumanLabelColumns(e, i, r, c, s, t)


@dataclass(frozen=True)
class MonitorItem:
    """An item as the monitor sees it: panel, metadata and both responses."""

    item_id: int
    item_key: str
    panel: str | None
    meta: dict[str, Any]
    model_a: str
    model_b: str
    text_a: str
    text_b: str


def monitor_items(session: Session, item_ids: Sequence[int]) -> dict[int, MonitorItem]:
    resp_a = aliased(ResponseRow)
    resp_b = aliased(ResponseRow)
    out: dict[int, MonitorItem] = {}
    for chunk in _chunks(sorted(set(item_ids))):
        rows = session.execute(
            select(
                ItemRow.id,
                ItemRow.item_key,
                ItemRow.panel,
                ItemRow.meta,
                resp_a.model,
                resp_b.model,
                resp_a.text,
                resp_b.text,
            )
            .join(resp_a, and_(resp_a.item_id == ItemRow.id, resp_a.slot == "A"))
            .join(resp_b, and_(resp_b.item_id == ItemRow.id, resp_b.slot == "B"))
            .where(ItemRow.id.in_(chunk))
        )
        for item_id, key, panel, meta, model_a, model_b, text_a, text_b in rows:
            out[item_id] = MonitorItem(
                item_id,
                key,
                panel,
                json.loads(meta) if meta else {},
                model_a,
                model_b,
                text_a,
                text_b,
            )
    return out


@dataclass(frozen=True)
class MonitorItemFacts:
    """An item as the monitor's load needs it, without its texts (columns in item-id order).

    ``content_sha256`` (the import digest over prompt, models and both texts) and the texts'
    character counts identify the texts, so their style counts can be cached by content and the
    texts read only for items not seen before (:func:`response_texts`).
    """

    item_id: list[int]
    item_key: list[str]
    panel: list[str | None]
    meta: list[str | None]
    model_a: list[str]
    model_b: list[str]
    content_sha256: list[str]
    len_a: list[int]
    len_b: list[int]


def monitor_item_facts(session: Session, item_ids: Sequence[int]) -> MonitorItemFacts:
    """The items of :func:`monitor_items` (those with both responses), texts left out."""
    resp_a = aliased(ResponseRow)
    resp_b = aliased(ResponseRow)

    def make(chunk: list[int]) -> Select[*tuple[Any, ...]]:
        return (
            select(
                ItemRow.id,
                ItemRow.item_key,
                ItemRow.panel,
                ItemRow.meta,
                resp_a.model,
                resp_b.model,
                ItemRow.content_sha256,
                resp_a.char_len,
                resp_b.char_len,
            )
            .join(resp_a, and_(resp_a.item_id == ItemRow.id, resp_a.slot == "A"))
            .join(resp_b, and_(resp_b.item_id == ItemRow.id, resp_b.slot == "B"))
            .where(ItemRow.id.in_(chunk))
        )

    rows = _driver_rows_for_ids(session, make, item_ids)
    rows.sort(key=lambda r: r[0])
    if not rows:
        return MonitorItemFacts([], [], [], [], [], [], [], [], [])
    return MonitorItemFacts(*(list(col) for col in zip(*rows, strict=True)))


def response_texts(session: Session, item_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """item id → (text of slot A, text of slot B) for these items (both responses present)."""
    resp_a = aliased(ResponseRow)
    resp_b = aliased(ResponseRow)

    def make(chunk: list[int]) -> Select[*tuple[Any, ...]]:
        return (
            select(resp_a.item_id, resp_a.text, resp_b.text)
            .join(resp_b, and_(resp_b.item_id == resp_a.item_id, resp_b.slot == "B"))
            .where(resp_a.slot == "A", resp_a.item_id.in_(chunk))
        )

    return {
        int(item_id): (text_a, text_b)
        for item_id, text_a, text_b in _driver_rows_for_ids(session, make, item_ids)
    }


@dataclass(frozen=True)
class MonitorVerdict:
    item_id: int
    judge: str
    order: str
    verdict: str


def _llm_verdict_select(chunk: list[int]) -> Select[*tuple[Any, ...]]:
    return (
        select(JudgmentRow.item_id, JudgeRow.name, JudgmentRow.display_order, JudgmentRow.verdict)
        .join(JudgeRow, JudgeRow.id == JudgmentRow.judge_id)
        .where(
            JudgmentRow.item_id.in_(chunk),
            JudgeRow.kind == "llm",
            JudgmentRow.verdict.is_not(None),
        )
    )


def llm_verdicts(session: Session, item_ids: Sequence[int]) -> list[MonitorVerdict]:
    """Verdicts of ``llm`` judges on these items (refusal-only judgments have none)."""
    out: list[MonitorVerdict] = []
    for chunk in _chunks(sorted(set(item_ids))):
        rows = session.execute(_llm_verdict_select(chunk))
        out.extend(MonitorVerdict(int(i), str(j), str(o), str(v)) for i, j, o, v in rows)
    return out


# ---------------------------------------------------------------------------------- instrumentation


def items_with_panel(session: Session, panel: str) -> list[tuple[int, str]]:
    """(id, key) of the non-erased items of one panel, in id order."""
    rows = session.execute(
        select(ItemRow.id, ItemRow.item_key)
        .where(ItemRow.panel == panel, ItemRow.erased_at.is_(None))
        .order_by(ItemRow.id)
    )
    return [(int(i), str(k)) for i, k in rows]


def set_panel(session: Session, item_ids: Sequence[int], panel: str | None) -> int:
    """Mark items as part of a panel (only items without a panel); returns how many changed."""
    changed = 0
    for chunk in _chunks(list(item_ids)):
        result = session.execute(
            update(ItemRow)
            .where(ItemRow.id.in_(chunk), ItemRow.panel.is_(None))
            .values(panel=panel)
        )
        changed += int(getattr(result, "rowcount", 0) or 0)
    return changed


def round_entry_items(session: Session, round_: int) -> set[int]:
    """Items that already have a queue entry in this round."""
    return set(
        session.execute(select(QueueEntryRow.item_id).where(QueueEntryRow.round == round_))
        .scalars()
        .all()
    )


@dataclass(frozen=True)
class ControlSource:
    """An item a control can be made from: prompt, both responses, slices."""

    item_id: int
    item_key: str
    prompt: str | None
    messages: str | None
    slices: str
    expected_behavior: str | None
    subject_id: str | None
    model_a: str
    model_b: str
    text_a: str
    text_b: str


def control_sources(session: Session) -> list[ControlSource]:
    """Non-panel, non-erased items with no queue entry (reviewers have not seen their texts)."""
    resp_a = aliased(ResponseRow)
    resp_b = aliased(ResponseRow)
    queued = select(QueueEntryRow.item_id).where(QueueEntryRow.item_id == ItemRow.id)
    rows = session.execute(
        select(
            ItemRow.id,
            ItemRow.item_key,
            ItemRow.prompt,
            ItemRow.messages,
            ItemRow.slices,
            ItemRow.expected_behavior,
            ItemRow.subject_id,
            resp_a.model,
            resp_b.model,
            resp_a.text,
            resp_b.text,
        )
        .join(resp_a, and_(resp_a.item_id == ItemRow.id, resp_a.slot == "A"))
        .join(resp_b, and_(resp_b.item_id == ItemRow.id, resp_b.slot == "B"))
        .where(ItemRow.panel.is_(None), ItemRow.erased_at.is_(None), ~queued.exists())
        .order_by(ItemRow.id)
    )
    return [ControlSource(*row) for row in rows]


def existing_control_sources(session: Session) -> set[str]:
    """Source keys of the controls already generated (from their metadata)."""
    out: set[str] = set()
    rows = session.execute(
        select(ItemRow.meta).where(
            ItemRow.panel.in_(["control_positive", "control_negative"]), ItemRow.meta.is_not(None)
        )
    ).scalars()
    for meta in rows:
        if meta is None:
            continue
        control = json.loads(meta).get("control") or {}
        if isinstance(control, dict) and control.get("source"):
            out.add(str(control["source"]))
    return out


def count_entries_by_reason(session: Session) -> dict[str, int]:
    return {
        str(reason): int(n)
        for reason, n in session.execute(
            select(QueueEntryRow.reason, func.count()).group_by(QueueEntryRow.reason)
        )
    }


def llm_verdict_rows(session: Session, item_ids: Sequence[int]) -> list[tuple[int, str, str, str]]:
    """The rows of :func:`llm_verdicts` as (item id, judge, order, verdict) tuples, same order."""
    return _driver_rows_for_ids(session, _llm_verdict_select, item_ids)
