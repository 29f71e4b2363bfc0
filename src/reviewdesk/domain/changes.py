"""What a mutation changed, so views refresh only what they show (ARCHITECTURE.md §4.6)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    items: bool = False
    judgments: bool = False
    queue: bool = False
    labels: bool = False
    reviewers: bool = False
    settings: bool = False
    exports: bool = False
    initiator: object | None = None

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            items=self.items or other.items,
            judgments=self.judgments or other.judgments,
            queue=self.queue or other.queue,
            labels=self.labels or other.labels,
            reviewers=self.reviewers or other.reviewers,
            settings=self.settings or other.settings,
            exports=self.exports or other.exports,
            initiator=self.initiator or other.initiator,
        )
