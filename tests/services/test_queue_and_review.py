"""Queue building and the review services, in process on real project files."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.model import RefusalClass, ScreenChoice, Slot
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import Project, create_project, update_settings
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import (
    UNDO_DEPTH,
    ensure_reviewer,
    fetch_pairs,
    pair_for_handle,
    record_label,
    undo_last,
)
from tests.conftest import native_item, write_jsonl


def llm(judge: str, verdict: str, **extra: Any) -> dict[str, Any]:
    return {"judge": judge, "kind": "llm", "verdict": verdict, **extra}


def make_project(path: Path, tmp: Path, clock: FixedClock, n_plain: int = 60) -> Project:
    """10 judge splits, 10 tie splits and ``n_plain`` uncontested items."""
    records = []
    for n in range(10):
        records.append(native_item(f"split-{n}", judgments=[llm("j1", "A"), llm("j2", "B")]))
    for n in range(10):
        records.append(native_item(f"tie-{n}", judgments=[llm("j1", "A"), llm("j2", "tie")]))
    for n in range(n_plain):
        records.append(native_item(f"plain-{n}", judgments=[llm("j1", "A"), llm("j2", "A")]))
    project = create_project(path, seed=99, clock=clock)
    run_to_completion(import_file(project, write_jsonl(tmp / "in.jsonl", records)))
    return project


def entries(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as con:
        return con.execute(
            "SELECT i.item_key, e.reason, e.priority, e.inclusion_prob, e.labels_needed "
            "FROM queue_entry e JOIN item i ON i.id = e.item_id ORDER BY i.item_key"
        ).fetchall()


def test_queue_strata_and_inclusion_probabilities(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock, n_plain=400) as project:
        report = build_queue(project, audit_rate=0.1, overlap=2)
        assert report.added["contested"] == 20
        rows = entries(project_path)
        audit = [r for r in rows if r[1] == "audit"]
        assert 20 <= len(audit) <= 65  # about 40 of 400
        assert all(r[3] == 0.1 for r in audit)
        assert all(r[3] == 1.0 for r in rows if r[1] == "contested")
        priorities = {r[0]: r[2] for r in rows}
        assert all(priorities[f"split-{n}"] == 1.0 for n in range(10))
        assert all(priorities[f"tie-{n}"] == 0.5 for n in range(10))
        assert {r[2] for r in audit} <= {1.0, 0.5}  # drawn from the contested priorities
        # A higher rate adds items and raises what existing audit draws were eligible for.
        report = build_queue(project, audit_rate=0.2, overlap=3)
        assert report.added["contested"] == 0
        assert report.added["audit"] > 0
        assert report.raised_labels_needed == len(rows)
        rows2 = entries(project_path)
        assert {r[0] for r in audit} <= {r[0] for r in rows2 if r[1] == "audit"}
        assert all(r[3] == 0.2 and r[4] == 3 for r in rows2 if r[1] == "audit")
        settings = project.settings()
        assert (settings.audit_rate, settings.overlap) == (0.2, 3)


def test_queue_build_rejects_bad_parameters(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock) as project:
        with pytest.raises(UserError, match="audit-rate"):
            build_queue(project, audit_rate=1.5)
        with pytest.raises(UserError, match="overlap"):
            build_queue(project, overlap=0)


def test_serving_order_priority_then_fewest_labels(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock, n_plain=0) as project:
        build_queue(project, audit_rate=0.0, overlap=2)
        for name in ("r1", "r2"):
            ensure_reviewer(project, name)
        pairs, progress = fetch_pairs(project, "r1", 20)
        assert progress.remaining == 20
        assert progress.queue_needed == 40
        texts = [p.left + p.right for p in pairs]
        # All judge splits (priority 1.0) come before any tie split (0.5).
        first_ten = texts[:10]
        assert all("split-" in t for t in first_ten)
        assert all("tie-" in t for t in texts[10:])
        # r1 labels the first three; r2 then sees the unlabeled splits before the labeled ones.
        for pair in pairs[:3]:
            record_label(project, "r1", pair.handle, ScreenChoice.LEFT)
        r2_pairs, _ = fetch_pairs(project, "r2", 10)
        labeled = {p.left + p.right for p in pairs[:3]}
        labeled_swapped = {p.right + p.left for p in pairs[:3]}
        order = [p.left + p.right in labeled_swapped for p in r2_pairs]
        assert order == [False] * 7 + [True] * 3
        assert not labeled & {p.left + p.right for p in r2_pairs}  # shown the other way round


def test_skip_defers_and_does_not_count(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock, n_plain=0) as project:
        build_queue(project, audit_rate=0.0, overlap=1)
        ensure_reviewer(project, "r1")
        pairs, _ = fetch_pairs(project, "r1", 20)
        receipt = record_label(project, "r1", pairs[0].handle, ScreenChoice.SKIP)
        assert receipt.progress.done == 0
        assert receipt.progress.remaining == 20
        again, _ = fetch_pairs(project, "r1", 20)
        assert again[-1].handle == pairs[0].handle  # the skipped pair comes last
        assert [p.handle for p in again[:19]] == [p.handle for p in pairs[1:]]


def test_edit_and_undo_depth(project_path: Path, tmp_path: Path, clock: FixedClock) -> None:
    with make_project(project_path, tmp_path, clock, n_plain=0) as project:
        build_queue(project, audit_rate=0.0, overlap=1)
        ensure_reviewer(project, "r1")
        pairs, _ = fetch_pairs(project, "r1", 20)
        handles = []
        for pair in pairs[: UNDO_DEPTH + 2]:
            clock.advance(5)
            record_label(
                project,
                "r1",
                pair.handle,
                ScreenChoice.RIGHT,
                refusal_left=RefusalClass.FULL_REFUSAL,
                dwell_ms=4200,
                note="looked fine",
            )
            handles.append(pair.handle)
        # Editing the last label is a new event; the count does not change.
        receipt = record_label(project, "r1", handles[-1], ScreenChoice.TIE)
        assert receipt.progress.done == UNDO_DEPTH + 2
        undone = undo_last(project, "r1")  # undoes the edit: back to RIGHT, still labeled
        assert undone.undone
        assert undone.restored_handle == handles[-1]
        assert fetch_pairs(project, "r1", 1)[1].done == UNDO_DEPTH + 2
        results = [undo_last(project, "r1") for _ in range(UNDO_DEPTH)]
        assert all(r.undone for r in results[: UNDO_DEPTH - 1])
        assert not results[-1].undone
        assert "last 10" in results[-1].message
        assert [r.restored_handle for r in results[: UNDO_DEPTH - 1]] == handles[::-1][
            : UNDO_DEPTH - 1
        ]
        assert fetch_pairs(project, "r1", 1)[1].done == 3
        with sqlite3.connect(project_path) as con:
            kinds = [r[0] for r in con.execute("SELECT kind FROM label_event ORDER BY id")]
            audit = [r[0] for r in con.execute("SELECT kind FROM audit_record ORDER BY id")]
        assert kinds.count("label") == UNDO_DEPTH + 3
        assert kinds.count("retract") == UNDO_DEPTH
        assert audit.count("label") == UNDO_DEPTH + 3
        assert audit.count("undo") == UNDO_DEPTH


def test_refusal_and_side_are_stored_canonically(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock, n_plain=0) as project:
        build_queue(project, audit_rate=0.0, overlap=2)
        for name in ("r1", "r2"):
            ensure_reviewer(project, name)
        pair = fetch_pairs(project, "r1", 1)[0][0]
        record_label(
            project,
            "r1",
            pair.handle,
            ScreenChoice.LEFT,
            refusal_left=RefusalClass.FULL_COMPLIANCE,
            refusal_right=RefusalClass.FULL_REFUSAL,
        )
        with sqlite3.connect(project_path) as con:
            left, choice, ref_a, ref_b = con.execute(
                "SELECT left_slot, choice, refusal_a, refusal_b FROM label_event"
            ).fetchone()
        assert left == pair.left_slot.value
        assert choice == pair.left_slot.value
        expected = {pair.left_slot: "full_compliance", pair.left_slot.other: "full_refusal"}
        assert (ref_a, ref_b) == (expected[Slot.A], expected[Slot.B])
        assert pair_for_handle(project, pair.handle) == pair


def test_unknown_reviewer_and_bad_handles(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock, n_plain=0) as project:
        build_queue(project)
        with pytest.raises(UserError, match="no reviewer profile"):
            fetch_pairs(project, "ghost", 1)
        ensure_reviewer(project, "r1")
        with pytest.raises(UserError, match="no longer valid"):
            record_label(project, "r1", "garbage", ScreenChoice.LEFT)
        with pytest.raises(UserError, match="no longer in the queue"):
            record_label(project, "r1", "99999.A", ScreenChoice.LEFT)
        with pytest.raises(UserError, match="one line"):
            ensure_reviewer(project, "two\nlines")


def test_settings_are_validated_and_audited(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock, n_plain=0) as project:
        updated = update_settings(project, candidate="sft", baseline="base", overlap=3)
        assert (updated.candidate, project.settings().overlap) == ("sft", 3)
        with pytest.raises(UserError):
            update_settings(project, overlap=0)
        with pytest.raises(UserError):
            update_settings(project, colour="blue")
        with sqlite3.connect(project_path) as con:
            assert (
                con.execute("SELECT count(*) FROM audit_record WHERE kind='settings'").fetchone()[0]
                == 1
            )
