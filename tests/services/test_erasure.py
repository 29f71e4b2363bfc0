"""Erasing a data subject: their texts leave the project, its free pages and its WAL.

A random marker is planted in everything of the subject that holds free text (prompt, chat
messages, both responses — one long enough for overflow pages —, a judge's rationale, an imported
label's note, an in-app reviewer note and the item's extra metadata). After erasure the marker's
bytes, in UTF-8 and UTF-16, must be nowhere in the project file, its ``-wal`` or its ``-shm``,
while the audit chain still verifies and everyone else's data is untouched.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.model import ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.audit import verify_audit
from reviewdesk.services.csv_export import export_csv
from reviewdesk.services.erasure import erase_subject
from reviewdesk.services.preferences import PreferenceOptions, export_preferences
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import ensure_reviewer, fetch_pairs, record_label
from tests.conftest import native_item
from tests.services.export_support import SPLIT, build, chat_item, label, llm


def records(marker: str, other: str) -> list[dict[str, Any]]:
    def subject_items(subject: str, mark: str) -> list[dict[str, Any]]:
        return [
            native_item(
                f"{subject}-1",
                prompt=f"My account {mark} was charged twice",
                text_a=f"Refund issued to {mark}.",
                text_b=("Long answer. " * 400) + mark + (" more" * 400),
                judgments=[llm("j1", "A", rationale=f"A names {mark}"), llm("j2", "B")],
                labels=[label("ext-1", "A", note=f"saw {mark}"), label("ext-2", "A")],
                subject_id=subject,
                ticket=f"ticket of {mark}",
            ),
            chat_item(
                f"{subject}-2",
                [{"role": "user", "content": f"Hi, I am {mark}"}],
                judgments=SPLIT,
                subject_id=subject,
            ),
        ]

    filler = [native_item(f"filler-{n}", judgments=SPLIT) for n in range(6)]
    return subject_items("victim", marker) + subject_items("bystander", other) + filler


def marker_bytes(marker: str) -> list[bytes]:
    return [marker.encode("utf-8"), marker.encode("utf-16-le"), marker.encode("utf-16-be")]


def files_of(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def found_in_files(path: Path, marker: str) -> list[str]:
    hits = []
    for file in files_of(path):
        data = file.read_bytes()
        hits += [f"{file.name}:{m!r}" for m in marker_bytes(marker) if m in data]
    return hits


@pytest.fixture
def marked(tmp_path: Path) -> tuple[Path, str, str]:
    marker, other = secrets.token_hex(16), secrets.token_hex(16)
    path = tmp_path / "p.reviewdesk"
    with build(path, tmp_path, records(marker, other)) as project:
        build_queue(project, overlap=2)
        ensure_reviewer(project, "rev-1")
        pairs, _ = fetch_pairs(project, "rev-1", 10)
        for pair in pairs:
            record_label(
                project, "rev-1", pair.handle, ScreenChoice.LEFT, note=f"rev-1 on {pair.left[:40]}"
            )
        run_to_completion(export_preferences(project, tmp_path / "prefs", PreferenceOptions()))
        run_to_completion(export_csv(project, tmp_path / "csv"))
    return path, marker, other


def test_marker_is_gone_from_every_byte_and_the_chain_verifies(
    marked: tuple[Path, str, str], tmp_path: Path
) -> None:
    path, marker, other = marked
    assert found_in_files(path, marker), "the marker must be on disk before erasure"
    backup = tmp_path / "p.pre-migration-20261101T000000Z.reviewdesk.bak"
    backup.write_bytes(b"old copy")
    from tests.services.export_support import reopen

    with reopen(path) as project:
        report = run_to_completion(erase_subject(project, "victim"))
        assert report.purged
        assert found_in_files(path, marker) == []  # while the project is still open
        verified = run_to_completion(verify_audit(project))
        assert verified.ok, verified.summary()
        assert verified.erased_items == 2
    assert found_in_files(path, marker) == []
    assert [key for key, _ in report.plan.items] == ["victim-1", "victim-2"]
    assert report.plan.rationales == 2  # its own and the split judges' on victim-2
    assert report.plan.notes == 3  # the imported note and rev-1's notes on both items
    assert {x.kind for x in report.plan.exports} == {"preferences", "csv"}
    assert {Path(x.path) for x in report.plan.exports} == {
        (tmp_path / "prefs").resolve(),
        (tmp_path / "csv").resolve(),
    }
    assert report.plan.backups == (backup,)
    with sqlite3.connect(path) as con:
        stale = con.execute("SELECT stale_reason FROM export_record ORDER BY id").fetchall()
        assert all(r[0] and "erased subject" in r[0] for r in stale)
        bystander = con.execute(
            "SELECT i.prompt, i.meta, r.text FROM item i JOIN response r ON r.item_id = i.id "
            "WHERE i.item_key = 'bystander-1' AND r.slot = 'A'"
        ).fetchone()
        assert all(other in text for text in bystander)
        assert con.execute(
            "SELECT count(*) FROM judgment WHERE rationale LIKE ?", (f"%{other}%",)
        ).fetchone() == (1,)
        erased = con.execute(
            "SELECT prompt, messages, meta, erased_at, content_sha256 FROM item "
            "WHERE subject_id = 'victim' ORDER BY id"
        ).fetchall()
        tombstone = con.execute("SELECT payload FROM audit_record WHERE kind = 'erase'").fetchone()
    con.close()
    assert [(p, m, meta) for p, m, meta, _, _ in erased] == [("", None, None), (None, "[]", None)]
    assert all(row[3] for row in erased)
    assert marker not in tombstone[0]
    assert all(row[4] in tombstone[0] for row in erased)  # hashes kept, texts gone


def test_dry_run_changes_nothing(marked: tuple[Path, str, str]) -> None:
    path, marker, _ = marked
    from tests.services.export_support import reopen

    def state() -> tuple[Any, ...]:
        with sqlite3.connect(path) as con:
            out = (
                con.execute("SELECT count(*) FROM audit_record").fetchone(),
                con.execute("SELECT group_concat(prompt) FROM item").fetchone(),
                con.execute("SELECT group_concat(stale_reason) FROM export_record").fetchone(),
            )
        con.close()
        return out

    before = state()
    with reopen(path) as project:
        report = run_to_completion(erase_subject(project, "victim", dry_run=True))
    assert report.dry_run
    assert report.audit_record_id is None
    assert len(report.plan.items) == 2
    assert len(report.plan.exports) == 2
    assert state() == before
    assert found_in_files(path, marker)


def test_unknown_subject_and_rerun(marked: tuple[Path, str, str]) -> None:
    path, _, _ = marked
    from tests.services.export_support import reopen

    with reopen(path) as project:
        with pytest.raises(UserError, match="no items with subject ID 'nobody'"):
            run_to_completion(erase_subject(project, "nobody"))
        first = run_to_completion(erase_subject(project, "victim"))
        again = run_to_completion(erase_subject(project, "victim"))
        assert first.audit_record_id is not None
        assert again.audit_record_id is None  # nothing new to erase: no second tombstone
        assert again.plan.items == ()
        assert again.plan.already_erased == ("victim-1", "victim-2")
        assert all(x.already_stale for x in again.plan.exports)
        assert again.purged
        after = run_to_completion(
            export_preferences(project, path.parent / "after", PreferenceOptions())
        )
        assert after.dropped["erased"] == 2
        assert run_to_completion(verify_audit(project)).ok


def test_a_reader_elsewhere_defers_the_purge_until_the_next_run(
    marked: tuple[Path, str, str],
) -> None:
    """Another process reading an old snapshot keeps the WAL: erasure says so, a rerun purges."""
    path, marker, _ = marked
    from tests.services.export_support import reopen

    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM item").fetchone()
        with reopen(path) as project:
            first = run_to_completion(erase_subject(project, "victim"))
            assert first.audit_record_id is not None
            assert not first.purged
    finally:
        reader.close()
    with reopen(path) as project:
        again = run_to_completion(erase_subject(project, "victim"))
        assert again.purged
        assert run_to_completion(verify_audit(project)).ok
    assert found_in_files(path, marker) == []
