"""Stateful property test of blind review: labels, skips and undos by two reviewers.

Invariants after every step: nobody is served a pair they have labeled, the queue's label counts
equal the model's, and undo walks back exactly the reviewer's own latest labels.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from reviewdesk.domain.model import ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import create_project, open_project
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import (
    UNDO_DEPTH,
    ensure_reviewer,
    fetch_pairs,
    record_label,
    undo_last,
)
from tests.conftest import native_item, write_jsonl

REVIEWERS = ("r1", "r2")
N_ITEMS = 5
_TEMPLATE: Path | None = None


def template() -> Path:
    """One small project built once, copied for every example (creation runs migrations)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="reviewdesk-template-"))
        path = folder / "t.reviewdesk"
        records = [
            native_item(
                f"i{n}",
                judgments=[
                    {"judge": "j1", "kind": "llm", "verdict": "A"},
                    {"judge": "j2", "kind": "llm", "verdict": "B"},
                ],
            )
            for n in range(N_ITEMS)
        ]
        with create_project(path, seed=5) as project:
            run_to_completion(import_file(project, write_jsonl(folder / "in.jsonl", records)))
            build_queue(project, audit_rate=0.0, overlap=2)
            for name in REVIEWERS:
                ensure_reviewer(project, name)
        _TEMPLATE = path
    return _TEMPLATE


class Review(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="reviewdesk-prop-"))
        path = self.dir / "p.reviewdesk"
        shutil.copy(template(), path)
        self.project = open_project(path)
        # The model: every label event per reviewer as [entry, choice, retracted].
        self.events: dict[str, list[list[object]]] = {r: [] for r in REVIEWERS}

    @property
    def current(self) -> dict[tuple[str, str], str]:
        """Fold: the live label of (entry, reviewer) is its latest event not retracted."""
        out: dict[tuple[str, str], str] = {}
        for reviewer, events in self.events.items():
            for entry, choice, retracted in events:
                if not retracted:
                    out[(str(entry), reviewer)] = str(choice)
        return out

    def teardown(self) -> None:
        self.project.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(
        reviewer=st.sampled_from(REVIEWERS),
        choice=st.sampled_from(list(ScreenChoice)),
        edit=st.booleans(),
    )
    def label(self, reviewer: str, choice: ScreenChoice, edit: bool) -> None:
        mine = sorted(e for (e, r) in self.current if r == reviewer)
        if edit and mine:
            entry = mine[0]
            handle = f"{entry}.A"
        else:
            pairs, _ = fetch_pairs(self.project, reviewer, 1)
            if not pairs:
                return
            handle = pairs[0].handle
            entry = handle.split(".")[0]
        record_label(self.project, reviewer, handle, choice)
        self.events[reviewer].append([entry, choice.value, False])

    @rule(reviewer=st.sampled_from(REVIEWERS))
    def undo(self, reviewer: str) -> None:
        status = undo_last(self.project, reviewer)
        window = self.events[reviewer][-UNDO_DEPTH:]
        live = [e for e in window if not e[2]]
        assert status.undone == bool(live)
        if live:
            target = live[-1]
            target[2] = True
            assert status.restored_handle is not None
            assert status.restored_handle.startswith(f"{target[0]}.")

    @invariant()
    def served_pairs_are_new_to_the_reviewer(self) -> None:
        for reviewer in REVIEWERS:
            pairs, progress = fetch_pairs(self.project, reviewer, N_ITEMS)
            served = {p.handle.split(".")[0] for p in pairs}
            labeled = {e for (e, r), c in self.current.items() if r == reviewer and c != "skip"}
            assert not served & labeled
            assert progress.done == len(labeled)

    @invariant()
    def queue_counts_match(self) -> None:
        _pairs, progress = fetch_pairs(self.project, REVIEWERS[0], 1)
        per_entry: dict[str, int] = {}
        for (entry, _), choice in self.current.items():
            if choice != "skip":
                per_entry[entry] = per_entry.get(entry, 0) + 1
        assert progress.queue_done == sum(min(2, n) for n in per_entry.values())
        assert progress.queue_needed == 2 * N_ITEMS


Review.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReview = Review.TestCase
