"""Building the review queue from disagreements plus a random audit sample (SPEC §4).

Rebuilding is idempotent: existing entries and their labels are kept, new items are added, and
every draw is a BLAKE2b function of the project seed and the item key, so the same project and
rate always give the same queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.model import Panel, QueueReason
from reviewdesk.queueing.disagreement import mask_to_reasons
from reviewdesk.queueing.policy import (
    contested_priority,
    in_audit_sample,
    interleaved_priority,
    order_key,
)
from reviewdesk.services.project import Project
from reviewdesk.storage import repositories as repo


@dataclass(frozen=True)
class QueueBuildReport:
    added: dict[str, int]
    total: int
    overlap: int
    audit_rate: float
    raised_labels_needed: int

    def summary(self) -> str:
        added = ", ".join(f"{n} {reason}" for reason, n in self.added.items() if n) or "nothing new"
        return (
            f"queue: added {added}; {self.total} entries in all, each needing {self.overlap} "
            f"labels (audit rate {self.audit_rate:g})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "total": self.total,
            "overlap": self.overlap,
            "audit_rate": self.audit_rate,
            "raised_labels_needed": self.raised_labels_needed,
        }


_PANEL_REASON = {
    Panel.ANCHOR.value: QueueReason.ANCHOR,
    Panel.CONTROL_POSITIVE.value: QueueReason.CONTROL,
    Panel.CONTROL_NEGATIVE.value: QueueReason.CONTROL,
}


def build_queue(
    project: Project,
    *,
    audit_rate: float | None = None,
    overlap: int | None = None,
    actor: str = "lead",
) -> QueueBuildReport:
    settings = project.settings()
    rate = settings.audit_rate if audit_rate is None else audit_rate
    need = settings.overlap if overlap is None else overlap
    if not 0.0 <= rate <= 1.0:
        raise UserError(f"--audit-rate must be between 0 and 1 (got {rate:g})")
    if need < 1:
        raise UserError(f"--overlap must be at least 1 (got {need})")
    now = project.clock.now()
    seed = settings.seed
    added = {reason.value: 0 for reason in QueueReason}
    with project.store.write() as uow:
        session = uow.session
        build_id = repo.add_queue_build(session, {"audit_rate": rate, "overlap": need}, {}, now)
        queued = repo.queued_item_ids(session)
        candidates = repo.list_queue_candidates(session)
        rows: list[dict[str, Any]] = []

        def entry(
            item_id: int,
            key: str,
            reason: QueueReason,
            mask: int,
            base: float,
            priority: float,
            pi: float | None,
        ) -> None:
            rows.append(
                {
                    "item_id": item_id,
                    "round": 0,
                    "reason": reason.value,
                    "reasons": mask,
                    "base_priority": base,
                    "priority": priority,
                    "order_key": order_key(seed, key),
                    "labels_needed": need,
                    "label_count": 0,
                    "inclusion_prob": pi,
                    "build_id": build_id,
                    "created_at": to_iso(now),
                }
            )
            added[reason.value] += 1

        for c in candidates:
            if c.item_id in queued or c.panel is not None or not c.reasons:
                continue
            base = contested_priority(mask_to_reasons(c.reasons), c.slices, settings.slice_weights)
            # Contested items are a census stratum: each is queued, inclusion probability 1.
            entry(c.item_id, c.item_key, QueueReason.CONTESTED, c.reasons, base, base, 1.0)
        contested = sorted(repo.contested_priorities(session) + [r["base_priority"] for r in rows])
        for c in candidates:
            if c.item_id in queued or (c.reasons and c.panel is None):
                continue
            if c.panel is not None:
                reason = _PANEL_REASON[c.panel]
                pi = None
            elif in_audit_sample(seed, c.item_key, rate):
                reason, pi = QueueReason.AUDIT, rate
            else:
                continue
            priority = interleaved_priority(seed, c.item_key, contested)
            entry(c.item_id, c.item_key, reason, c.reasons, 0.0, priority, pi)
        repo.insert_queue_entries(session, rows)
        raised = repo.raise_queue_requirements(session, need, rate)
        total = repo.count_queue_entries(session)
        report = QueueBuildReport(
            added=added, total=total, overlap=need, audit_rate=rate, raised_labels_needed=raised
        )
        repo.set_queue_build_counts(session, build_id, report.to_json())
        repo.put_settings(session, {"overlap": need, "audit_rate": rate})
        repo.append_audit(
            session, "queue_build", actor, {"build_id": build_id, **report.to_json()}, now
        )
    return report
