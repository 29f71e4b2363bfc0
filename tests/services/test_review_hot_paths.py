"""The label write and progress paths made fast for large projects keep their meaning.

- progress counts from three indexed counts equal the plain definition (labels, skips, other
  reviewers, erased items);
- the GUI's commit leaves WAL checkpoints to ``checkpoint_idle`` and stays durable;
- the raw-SQL label write keeps the fold, the entry's label count and the audit chain right.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.model import ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.audit import verify_audit
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import Project, create_project
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import (
    checkpoint_idle,
    commit_label,
    ensure_reviewer,
    next_pairs,
    record_label,
    review_progress,
    undo_last,
)
from reviewdesk.storage.engine import AUTOCHECKPOINT_PAGES, DEFERRED_AUTOCHECKPOINT_PAGES
from tests.conftest import native_item, write_jsonl


def _llm(judge: str, verdict: str) -> dict[str, Any]:
    return {"judge": judge, "kind": "llm", "verdict": verdict}


def _project(path: Path, tmp: Path, clock: FixedClock, n: int = 30) -> Project:
    records = [
        native_item(f"split-{k:02d}", judgments=[_llm("j1", "A"), _llm("j2", "B")])
        for k in range(n)
    ]
    project = create_project(path, seed=5, clock=clock)
    run_to_completion(import_file(project, write_jsonl(tmp / "in.jsonl", records)))
    build_queue(project, audit_rate=0.0, overlap=2)
    return project


def _naive_progress(path: Path, reviewer: str) -> tuple[int, int, int, int]:
    """The definitions, written as plainly as possible (one join per waiting entry)."""
    with closing(sqlite3.connect(path)) as con:
        rid = con.execute("SELECT id FROM reviewer WHERE name = ?", (reviewer,)).fetchone()[0]
        done = con.execute(
            "SELECT count(*) FROM label_current WHERE reviewer_id = ? AND choice != 'skip'",
            (rid,),
        ).fetchone()[0]
        remaining = con.execute(
            "SELECT count(*) FROM queue_entry q JOIN item i ON i.id = q.item_id "
            "WHERE q.label_count < q.labels_needed AND i.erased_at IS NULL AND NOT EXISTS ("
            "SELECT 1 FROM label_current c WHERE c.entry_id = q.id AND c.reviewer_id = ? "
            "AND c.choice != 'skip')",
            (rid,),
        ).fetchone()[0]
        queue_done, needed = con.execute(
            "SELECT sum(min(label_count, labels_needed)), sum(labels_needed) FROM queue_entry"
        ).fetchone()
    return done, remaining, queue_done, needed


def test_progress_counts_match_their_definition(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with _project(project_path, tmp_path, clock) as project:
        for name in ("ann", "bob", "cy"):
            ensure_reviewer(project, name)
        # ann labels 6 and skips 2; bob labels 5 (some overlap, some entries complete); cy skips
        ann = next_pairs(project, "ann", 8)
        for pair in ann[:6]:
            record_label(project, "ann", pair.handle, ScreenChoice.LEFT)
        for pair in ann[6:]:
            record_label(project, "ann", pair.handle, ScreenChoice.SKIP)
        for pair in next_pairs(project, "bob", 5):
            record_label(project, "bob", pair.handle, ScreenChoice.TIE)
        record_label(project, "cy", next_pairs(project, "cy", 1)[0].handle, ScreenChoice.SKIP)
        undo_last(project, "bob")  # a retraction: bob's last label is no longer current
    # erase two items' content the way erasure marks them (one labelled by ann, one not)
    with closing(sqlite3.connect(project_path)) as con, con:
        labelled = con.execute(
            "SELECT q.item_id FROM label_current c JOIN queue_entry q ON q.id = c.entry_id "
            "JOIN reviewer r ON r.id = c.reviewer_id WHERE r.name = 'ann' AND c.choice != 'skip' "
            "LIMIT 1"
        ).fetchone()[0]
        untouched = con.execute(
            "SELECT q.item_id FROM queue_entry q WHERE q.label_count = 0 LIMIT 1"
        ).fetchone()[0]
        con.executemany(
            "UPDATE item SET erased_at = '2026-11-22T00:00:00Z' WHERE id = ?",
            [(labelled,), (untouched,)],
        )
    with create_project_opened(project_path, clock) as project:
        for name in ("ann", "bob", "cy"):
            progress = review_progress(project, name)
            got = (progress.done, progress.remaining, progress.queue_done, progress.queue_needed)
            assert got == _naive_progress(project_path, name), name


def create_project_opened(path: Path, clock: FixedClock) -> Project:
    from reviewdesk.services.project import open_project

    return open_project(path, clock=clock)


def _wal_pages(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def test_gui_commits_defer_checkpoints_and_stay_durable(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with _project(project_path, tmp_path, clock) as project:
        ensure_reviewer(project, "ann")
        assert project.store._wal is not None
        assert project.store._wal.autocheckpoint == AUTOCHECKPOINT_PAGES
        pairs = next_pairs(project, "ann", 10)
        for pair in pairs:
            commit_label(project, "ann", pair.handle, ScreenChoice.RIGHT, dwell_ms=900)
        assert project.store._wal.autocheckpoint == DEFERRED_AUTOCHECKPOINT_PAGES
        # committed (another connection sees every label) although nothing was checkpointed
        with closing(sqlite3.connect(project_path)) as con, con:
            rows = con.execute(
                "SELECT count(*) FROM label_event WHERE provenance = 'human'"
            ).fetchone()[0]
            mode = con.execute("PRAGMA journal_mode").fetchone()[0]
        assert rows == 10
        assert mode == "wal"
        assert _wal_pages(project_path) > 0
        assert checkpoint_idle(project) == 0  # folded in, nothing left
    assert verify_audit_ok(project_path)


def verify_audit_ok(path: Path) -> bool:
    from reviewdesk.services.project import open_project

    with open_project(path) as project:
        report = run_to_completion(verify_audit(project))
    return bool(report.ok)


def test_fast_label_write_keeps_fold_count_and_chain(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with _project(project_path, tmp_path, clock, n=4) as project:
        for name in ("ann", "bob"):
            ensure_reviewer(project, name)
        handle = next_pairs(project, "ann", 1)[0].handle
        commit_label(project, "ann", handle, ScreenChoice.LEFT)
        commit_label(project, "ann", handle, ScreenChoice.TIE)  # an edit: a new event
        commit_label(project, "ann", handle, ScreenChoice.SKIP)  # the fold's latest: a skip
        with closing(sqlite3.connect(project_path)) as con, con:
            entry = int(handle.split(".")[0])
            current = con.execute(
                "SELECT c.choice, q.label_count FROM label_current c "
                "JOIN queue_entry q ON q.id = c.entry_id WHERE c.entry_id = ?",
                (entry,),
            ).fetchall()
        assert current == [("skip", 0)]
        undo_last(project, "ann")  # retracts the skip: the tie is current again
        with closing(sqlite3.connect(project_path)) as con, con:
            current = con.execute(
                "SELECT c.choice, q.label_count FROM label_current c "
                "JOIN queue_entry q ON q.id = c.entry_id WHERE c.entry_id = ?",
                (entry,),
            ).fetchall()
            kinds = [
                k
                for (k,) in con.execute(
                    "SELECT kind FROM audit_record WHERE kind IN ('label', 'undo') ORDER BY id"
                )
            ]
        assert current == [("tie", 1)]
        assert kinds == ["label", "label", "label", "undo"]
    assert verify_audit_ok(project_path)
