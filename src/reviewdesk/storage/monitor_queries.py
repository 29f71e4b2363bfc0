"""Reads and small writes behind the homogenization monitor and its instrumentation.

STATISTICS.md §7: the monitor needs every current human label (in-app labels folded from the
event log, plus imported labels), the items they are on (panel, control metadata, both
responses) and the LLM judges' verdicts on those items; the instrumentation marks anchor items,
queues anchor rounds and adds control items. Everything returns plain tuples and frozen records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, update
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


def current_human_labels(session: Session) -> list[MonitorLabel]:
    """Current labels of reviewers (folded) and imported human labels, skips excluded.

    Adjudications are not labeler labels and are left out; so are labels on erased items.
    """
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
    rows = list(session.execute(in_app)) + list(session.execute(imported))
    rows.sort(key=lambda r: r[0])
    return [
        MonitorLabel(int(e), int(i), str(r), str(c), s, str(t), q) for e, i, r, c, s, t, q in rows
    ]


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
class MonitorVerdict:
    item_id: int
    judge: str
    order: str
    verdict: str


def llm_verdicts(session: Session, item_ids: Sequence[int]) -> list[MonitorVerdict]:
    """Verdicts of ``llm`` judges on these items (refusal-only judgments have none)."""
    out: list[MonitorVerdict] = []
    for chunk in _chunks(sorted(set(item_ids))):
        rows = session.execute(
            select(
                JudgmentRow.item_id, JudgeRow.name, JudgmentRow.display_order, JudgmentRow.verdict
            )
            .join(JudgeRow, JudgeRow.id == JudgmentRow.judge_id)
            .where(
                JudgmentRow.item_id.in_(chunk),
                JudgeRow.kind == "llm",
                JudgmentRow.verdict.is_not(None),
            )
        )
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
