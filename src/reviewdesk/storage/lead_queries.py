"""Read-only queries behind the lead's queue overview and the reviewer's reveal-after-submit.

Kept apart from ``repositories`` because only these two GUI features need them; both return
plain values, never rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviewdesk.storage.orm import ItemRow, QueueEntryRow, ResponseRow


def item_models(session: Session, item_id: int) -> dict[str, str]:
    """Slot (``"A"``/``"B"``) → model name of one item."""
    rows = session.execute(
        select(ResponseRow.slot, ResponseRow.model).where(ResponseRow.item_id == item_id)
    )
    return {str(slot): str(model) for slot, model in rows.all()}


@dataclass(frozen=True)
class EntryGroup:
    """Queue entries sharing a stratum, disagreement mask and slice set, with their label counts."""

    reason: str
    reasons_mask: int
    slices: dict[str, str]
    entries: int
    labels_needed: int
    labels_done: int


def queue_entry_groups(session: Session) -> list[EntryGroup]:
    """Queue entries grouped by (stratum, reasons mask, slices): small even for a large queue."""
    done = func.min(QueueEntryRow.label_count, QueueEntryRow.labels_needed)
    rows = session.execute(
        select(
            QueueEntryRow.reason,
            QueueEntryRow.reasons,
            ItemRow.slices,
            func.count(),
            func.coalesce(func.sum(QueueEntryRow.labels_needed), 0),
            func.coalesce(func.sum(done), 0),
        )
        .join(ItemRow, ItemRow.id == QueueEntryRow.item_id)
        .where(ItemRow.erased_at.is_(None))
        .group_by(QueueEntryRow.reason, QueueEntryRow.reasons, ItemRow.slices)
    )
    return [
        EntryGroup(reason, int(mask or 0), json.loads(slices or "{}"), int(n), int(need), int(got))
        for reason, mask, slices, n, need, got in rows
    ]
