"""The lead's queue overview: entries and label progress by stratum, reason and slice (SPEC §5).

This is lead-only information (why an item is queued is exactly what reviewers must not see),
so the GUI shows it only outside review mode.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reviewdesk.domain.model import DisagreementReason, QueueReason
from reviewdesk.queueing.disagreement import mask_to_reasons
from reviewdesk.services.project import Project
from reviewdesk.storage.lead_queries import queue_entry_groups


@dataclass(frozen=True)
class OverviewRow:
    """One line of the overview: a group name and its counts."""

    group: str
    entries: int
    labels_needed: int
    labels_done: int

    @property
    def fraction_done(self) -> float:
        return self.labels_done / self.labels_needed if self.labels_needed else 1.0


@dataclass(frozen=True)
class QueueOverview:
    total: OverviewRow
    by_stratum: list[OverviewRow]
    by_reason: list[OverviewRow]
    by_slice: list[OverviewRow]


class _Tally:
    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(self, key: str, entries: int, needed: int, done: int) -> None:
        row = self.counts[key]
        row[0] += entries
        row[1] += needed
        row[2] += done

    def rows(self, order: list[str] | None = None) -> list[OverviewRow]:
        keys = order if order is not None else sorted(self.counts)
        return [OverviewRow(k, *self.counts[k]) for k in keys if k in self.counts]


def queue_overview(project: Project) -> QueueOverview:
    """Counts of queue entries and labels, by stratum, by disagreement reason and by slice.

    An entry with several reasons counts under each of them, and an entry counts under each of
    its ``key=value`` slices, so those sections do not add up to the total (the total row does).
    """
    with project.store.read() as uow:
        groups = queue_entry_groups(uow.session)
    total = _Tally()
    strata = _Tally()
    reasons = _Tally()
    slices = _Tally()
    for g in groups:
        counts = (g.entries, g.labels_needed, g.labels_done)
        total.add("all entries", *counts)
        strata.add(g.reason, *counts)
        for reason in mask_to_reasons(g.reasons_mask):
            reasons.add(reason.value, *counts)
        if not g.reasons_mask:
            reasons.add("none (uncontested)", *counts)
        for key, value in sorted(g.slices.items()):
            slices.add(f"{key}={value}", *counts)
    total_rows = total.rows()
    return QueueOverview(
        total=total_rows[0] if total_rows else OverviewRow("all entries", 0, 0, 0),
        by_stratum=strata.rows([r.value for r in QueueReason]),
        by_reason=reasons.rows([r.value for r in DisagreementReason] + ["none (uncontested)"]),
        by_slice=slices.rows(),
    )
