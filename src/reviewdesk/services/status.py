"""What is in a project: counts for ``status`` and the lead's queue overview."""

from __future__ import annotations

from typing import Any

from reviewdesk.domain.model import DisagreementReason, QueueReason
from reviewdesk.queueing.disagreement import REASON_BITS
from reviewdesk.services.project import Project
from reviewdesk.storage import repositories as repo

STATUS_SCHEMA = "reviewdesk.status/v1"


def get_status(project: Project) -> dict[str, Any]:
    """The ``reviewdesk.status/v1`` document (SPEC §8)."""
    settings = project.settings()
    with project.store.read() as uow:
        counts = repo.status_counts(uow.session, list(REASON_BITS.values()))
        reviewers = repo.list_reviewers(uow.session)
    return {
        "schema": STATUS_SCHEMA,
        "project": project.name,
        "items": counts.items,
        "judgments": counts.judgments,
        "judges": counts.judges,
        "models": counts.models,
        "candidate": settings.candidate,
        "baseline": settings.baseline,
        "contested": counts.contested,
        "contested_by_reason": {
            reason.value: counts.contested_by_bit[REASON_BITS[reason]]
            for reason in DisagreementReason
        },
        "queue": {
            "total": counts.queue_total,
            "by_reason": {r.value: counts.queue_by_reason.get(r.value, 0) for r in QueueReason},
            "labels_needed": counts.labels_needed,
            "labels_done": counts.labels_done,
        },
        "labels": {
            "human": counts.labels_in_app + counts.labels_imported,
            "in_app": counts.labels_in_app,
            "imported": counts.labels_imported,
            "reviewers": counts.reviewers_with_labels,
        },
        "reviewer_profiles": [name for name, kind in reviewers if kind == "human"],
        "settings": {
            "overlap": settings.overlap,
            "audit_rate": settings.audit_rate,
            "seed": settings.seed,
        },
    }
