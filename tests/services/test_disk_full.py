"""A disk that fills up while importing, labeling and exporting: a clear message, nothing lost.

The disk is simulated with SQLite's own limit, ``PRAGMA max_page_count``, set by a listener this
test adds to the project's engine on every connection it hands out: once the file would need a
page past the limit, SQLite fails the statement with ``SQLITE_FULL`` ("database or disk is
full"), the error a full disk gives. Large notes and texts need overflow pages, and the free list
is checked to be empty, so the write that must fail does fail. ``tests/e2e/cli/test_small_disk.py``
fills a real (tmpfs) file system under the command line.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.errors import DiskFullError
from reviewdesk.domain.model import ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.audit import verify_audit
from reviewdesk.services.csv_export import export_csv
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import Project, create_project
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import commit_label, ensure_reviewer, fetch_pairs, record_label
from reviewdesk.services.status import get_status
from tests.conftest import native_item, write_jsonl

#: SQLite's largest max_page_count: "no limit".
NO_LIMIT = 4_294_967_294
BIG_NOTE = "n" * 6000  # more than a 4 KiB page holds: needs an overflow page


class PageLimit:
    """Caps the project file at ``pages`` pages on every connection the engine checks out."""

    def __init__(self, project: Project) -> None:
        self.engine = project.store.engine
        self.pages: int | None = None
        event.listen(self.engine, "checkout", self._apply)

    def _apply(self, dbapi_conn: sqlite3.Connection, _record: Any, _proxy: Any) -> None:
        limit = NO_LIMIT if self.pages is None else self.pages
        dbapi_conn.execute(f"PRAGMA max_page_count = {limit}").fetchone()

    def fill(self) -> int:
        """Make the disk full now: no page beyond the file's current size (none free inside)."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            pages = int(cursor.execute("PRAGMA page_count").fetchone()[0])
            free = int(cursor.execute("PRAGMA freelist_count").fetchone()[0])
            cursor.close()
        finally:
            raw.close()
        assert free == 0, "free pages inside the file would absorb the writes"
        self.pages = pages
        return pages

    def lift(self) -> None:
        self.pages = None


def llm(judge: str, verdict: str) -> dict[str, Any]:
    return {"judge": judge, "kind": "llm", "verdict": verdict}


def make_project(path: Path, tmp: Path, clock: FixedClock, contested: int = 30) -> Project:
    records = [
        native_item(f"split-{n}", judgments=[llm("j1", "A"), llm("j2", "B")])
        for n in range(contested)
    ]
    records += [
        native_item(f"plain-{n}", judgments=[llm("j1", "A"), llm("j2", "A")]) for n in range(10)
    ]
    project = create_project(path, seed=5, clock=clock)
    run_to_completion(import_file(project, write_jsonl(tmp / "first.jsonl", records)))
    build_queue(project, audit_rate=0.0, overlap=3)
    return project


def snapshot(project: Project) -> tuple[dict[str, Any], list[tuple[Any, ...]], str | None]:
    """What must not change: the counts, every label event and the audit chain's head."""
    report = run_to_completion(verify_audit(project))
    assert report.ok, report.summary()
    with closing(sqlite3.connect(project.path)) as con:
        events = con.execute("SELECT * FROM label_event ORDER BY id").fetchall()
    return get_status(project), events, report.head_sha256


def label_ids(path: Path) -> list[int]:
    with closing(sqlite3.connect(path)) as con:
        return [r[0] for r in con.execute("SELECT id FROM label_event ORDER BY id")]


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as con:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])


def assert_disk_full_message(error: DiskFullError, path: Path) -> None:
    message = str(error)
    assert message.startswith(f"{path}: the disk is full; the last change was not saved")
    assert "\n" not in message


def test_an_import_that_fills_the_disk_changes_nothing(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock) as project:
        limit = PageLimit(project)
        before = snapshot(project)
        big = [native_item(f"big-{n}", text_a="a" * 5000, text_b="b" * 5000) for n in range(40)]
        source = write_jsonl(tmp_path / "big.jsonl", big)
        limit.fill()
        with pytest.raises(DiskFullError) as info:
            run_to_completion(import_file(project, source))
        assert_disk_full_message(info.value, project_path)
        limit.lift()
        assert snapshot(project) == before
        assert integrity(project_path) == "ok"
        report = run_to_completion(import_file(project, source))  # space again: it goes in
        assert report.items_added == 40
        assert run_to_completion(verify_audit(project)).ok


def test_labels_until_the_disk_is_full_then_again(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock) as project:
        limit = PageLimit(project)
        reviewers = ["rev-a", "rev-b", "rev-c"]
        for name in reviewers:
            ensure_reviewer(project, name)
        acknowledged: list[int] = []
        failed: tuple[str, str] | None = None
        limit.pages = limit.fill() + 6  # room for a few labels with big notes
        for turn in range(60):
            reviewer = reviewers[turn % 3]
            pairs, _progress = fetch_pairs(project, reviewer, 1)
            assert pairs, "the queue ran out before the disk filled"
            try:
                receipt = record_label(
                    project, reviewer, pairs[0].handle, ScreenChoice.LEFT, note=BIG_NOTE
                )
            except DiskFullError as exc:
                assert_disk_full_message(exc, project_path)
                failed = (reviewer, pairs[0].handle)
                break
            acknowledged.append(receipt.event_id)
        assert failed is not None, "the disk never filled"
        assert len(acknowledged) >= 2
        # Every label acknowledged before is there; the one that failed is not.
        assert label_ids(project_path) == acknowledged
        before = snapshot(project)

        # The GUI's write (commit_label) fails the same way and changes nothing either.
        reviewer, handle = failed
        with pytest.raises(DiskFullError) as info:
            commit_label(project, reviewer, handle, ScreenChoice.RIGHT, note=BIG_NOTE)
        assert_disk_full_message(info.value, project_path)
        assert snapshot(project) == before

        # Space again: the same pair is still the reviewer's next, and labeling resumes.
        limit.lift()
        pairs, _progress = fetch_pairs(project, reviewer, 1)
        assert pairs[0].handle == handle
        receipt = record_label(project, reviewer, handle, ScreenChoice.LEFT, note=BIG_NOTE)
        event_id = commit_label(
            project,
            reviewers[0],
            fetch_pairs(project, reviewers[0], 1)[0][0].handle,
            ScreenChoice.TIE,
        )
        assert label_ids(project_path) == [*acknowledged, receipt.event_id, event_id]
        assert run_to_completion(verify_audit(project)).ok
        assert integrity(project_path) == "ok"


def test_an_export_whose_record_does_not_fit_leaves_no_files(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with make_project(project_path, tmp_path, clock, contested=600) as project:
        limit = PageLimit(project)
        before = snapshot(project)
        out = tmp_path / "export"
        limit.fill()  # the export's record lists 610 item ids: more than a page
        with pytest.raises(DiskFullError) as info:
            run_to_completion(export_csv(project, out))
        assert_disk_full_message(info.value, project_path)
        assert list(out.iterdir()) == []  # no file of an export the project does not know
        limit.lift()
        assert snapshot(project) == before
        run_to_completion(export_csv(project, out))
        assert sorted(p.name for p in out.iterdir()) == ["items.csv", "labels.csv"]
