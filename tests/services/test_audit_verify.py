"""``audit verify`` detects tampering with any single record, label event, judgment or item text.

One project with every kind of record (imports with judgments and imported labels, a queue, in-app
labels and an undo, an adjudication, exports, an erasure) is built once; each case copies it,
changes it with raw ``sqlite3`` the way someone holding the file could (append-only triggers
dropped first), and checks that verification names the record that vouches for the change.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reviewdesk.domain.errors import AuditVerificationError
from reviewdesk.domain.model import ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.adjudication import answer_adjudication, serve_adjudication
from reviewdesk.services.audit import AuditReport, verify_audit
from reviewdesk.services.csv_export import export_csv
from reviewdesk.services.erasure import erase_subject
from reviewdesk.services.importing import import_file
from reviewdesk.services.preferences import PreferenceOptions, export_preferences
from tests.conftest import write_jsonl
from tests.services.export_support import (
    copy_project,
    in_app_project,
    label_in_app,
    reopen,
    scenario_records,
    tamper,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("audit")
    path = tmp / "template.reviewdesk"
    with in_app_project(path, tmp) as project:
        records = scenario_records()
        for r in records:
            r["subject_id"] = "cust-9" if r["item_id"] in ("pair-b", "ties") else "cust-1"
            if r["item_id"] == "pair-b":  # erased with a note: checked through its redacted hash
                r["labels"][0].update(note="a note about cust-9", dwell_ms=4242)
        run_to_completion(import_file(project, write_jsonl(tmp / "more.jsonl", records)))
        served = serve_adjudication(project, "lead-adj")
        assert served.pair is not None
        answer_adjudication(project, "lead-adj", served.pair.handle, ScreenChoice.LEFT)
        run_to_completion(export_preferences(project, tmp / "prefs", PreferenceOptions()))
        run_to_completion(export_csv(project, tmp / "csv"))
        run_to_completion(erase_subject(project, "cust-9"))
        label_in_app(project, "rev-3", [ScreenChoice.LEFT])  # the newest record is a label
    return path


def verify(path: Path, anchors: tuple[str, ...] = ()) -> AuditReport:
    with reopen(path) as project:
        return run_to_completion(verify_audit(project, anchors=anchors))


def scalar(path: Path, sql: str) -> object:
    with sqlite3.connect(path) as con:
        value = con.execute(sql).fetchone()[0]
    con.close()
    return value


def test_untouched_project_verifies(template: Path, tmp_path: Path) -> None:
    path = copy_project(template, tmp_path / "p.reviewdesk")
    report = verify(path)
    assert report.ok, report.summary()
    assert report.erased_items == 2
    assert {
        "create",
        "import",
        "queue_build",
        "label",
        "undo",
        "adjudicate",
        "export",
        "erase",
    } <= set(report.kinds)
    assert report.summary().startswith("audit chain ok:")
    head = str(scalar(path, "SELECT record_sha256 FROM audit_record ORDER BY id DESC LIMIT 1"))
    assert report.head_sha256 == head
    assert verify(path, anchors=(head,)).ok


FIRST_HUMAN = "(SELECT min(id) FROM label_event WHERE provenance = 'human' AND kind = 'label')"
FIRST_IMPORTED = "(SELECT min(id) FROM label_event WHERE provenance = 'import')"
ERASED_NOTE_EVENT = (
    "(SELECT e.id FROM label_event e JOIN item i ON i.id = e.item_id "
    "WHERE i.erased_at IS NOT NULL AND e.provenance = 'import' AND e.dwell_ms = 4242)"
)
LIVE_ITEM = "(SELECT id FROM item WHERE item_key = 'pair-a')"
CODE_ONLY_ITEM = "(SELECT id FROM item WHERE item_key = 'code-only')"

CASES = {
    # the audit records themselves
    "record payload edited": (
        [
            "UPDATE audit_record SET payload = replace(payload, '\"overlap\":2', '\"overlap\":3') "
            "WHERE kind = 'queue_build'"
        ],
        "queue_build",
        "no longer matches its hash",
    ),
    "record actor edited": (
        ["UPDATE audit_record SET actor = 'someone' WHERE kind = 'adjudicate'"],
        "adjudicate",
        "no longer matches its hash",
    ),
    "record deleted": (
        ["DELETE FROM audit_record WHERE kind = 'queue_build'"],
        None,
        "link to the previous record",
    ),
    "newest record deleted": (
        ["DELETE FROM audit_record WHERE id = (SELECT max(id) FROM audit_record)"],
        None,
        "has no audit record",
    ),
    "record inserted": (
        [
            "UPDATE audit_record SET id = id + 1000 WHERE id > 3",
            "INSERT INTO audit_record SELECT 4, kind, created_at, actor, payload, content_sha256, "
            "prev_sha256, record_sha256 FROM audit_record WHERE id = 1004",
        ],
        None,
        "link to the previous record",
    ),
    "records reordered": (
        [
            "UPDATE audit_record SET id = -1 WHERE id = 5",
            "UPDATE audit_record SET id = 5 WHERE id = 6",
            "UPDATE audit_record SET id = 6 WHERE id = -1",
        ],
        None,
        "link to the previous record",
    ),
    # in-app label events
    "label choice changed": (
        [f"UPDATE label_event SET choice = 'tie' WHERE id = {FIRST_HUMAN}"],
        "label",
        "no longer matches its content hash",
    ),
    "label flag set": (
        [f"UPDATE label_event SET flagged = 1 WHERE id = {FIRST_HUMAN}"],
        "label",
        "no longer matches its content hash",
    ),
    "label note rewritten": (
        [f"UPDATE label_event SET note = 'edited' WHERE id = {FIRST_HUMAN}"],
        "label",
        "no longer matches its content hash",
    ),
    "label deleted": (
        [
            f"DELETE FROM label_current WHERE event_id = {FIRST_HUMAN}",
            f"DELETE FROM label_event WHERE id = {FIRST_HUMAN}",
        ],
        "label",
        "is missing",
    ),
    "label with its hash recomputed": (
        [
            f"UPDATE label_event SET content_sha256 = 'x' || substr(content_sha256, 2) "
            f"WHERE id = {FIRST_HUMAN}"
        ],
        "label",
        "content hash",
    ),
    "adjudication changed": (
        [
            "UPDATE label_event SET choice = CASE choice WHEN 'A' THEN 'B' ELSE 'A' END "
            "WHERE provenance = 'adjudication'"
        ],
        "adjudicate",
        "no longer matches its content hash",
    ),
    # imported labels, judgments and items: vouched for by their import record
    "imported label changed": (
        [f"UPDATE label_event SET dwell_ms = 1 WHERE id = {FIRST_IMPORTED}"],
        "import",
        "no longer matches its content hash",
    ),
    "imported label deleted": (
        [f"DELETE FROM label_event WHERE id = {FIRST_IMPORTED}"],
        "import",
        "labels of import",
    ),
    "judgment verdict changed": (
        ["UPDATE judgment SET verdict = 'tie' WHERE id = 1"],
        "import",
        "judgment 1 no longer matches",
    ),
    "judgment moved to another item": (
        [f"UPDATE judgment SET item_id = {CODE_ONLY_ITEM} WHERE id = 1"],
        "import",
        "judgments of import",
    ),
    "judgment deleted": (
        ["DELETE FROM judgment WHERE id = 2"],
        "import",
        "judgments of import",
    ),
    "prompt text changed": (
        ["UPDATE item SET prompt = prompt || '!' WHERE item_key = 'pair-a'"],
        "import",
        "item 'pair-a'",
    ),
    "response text changed": (
        [f"UPDATE response SET text = 'better' WHERE item_id = {LIVE_ITEM} AND slot = 'B'"],
        "import",
        "item 'pair-a'",
    ),
    "response model swapped": (
        [f"UPDATE response SET model = 'other' WHERE item_id = {LIVE_ITEM} AND slot = 'A'"],
        "import",
        "item 'pair-a'",
    ),
    "item hash rewritten with its text": (
        [
            "UPDATE item SET content_sha256 = 'x' || substr(content_sha256, 2) "
            "WHERE item_key = 'pair-a'"
        ],
        "import",
        "item 'pair-a'",
    ),
    "item deleted": (
        [
            f"DELETE FROM response WHERE item_id = {LIVE_ITEM}",
            f"DELETE FROM label_event WHERE item_id = {LIVE_ITEM}",
            f"DELETE FROM judgment WHERE item_id = {LIVE_ITEM}",
            f"DELETE FROM export_item WHERE item_id = {LIVE_ITEM}",
            f"DELETE FROM item WHERE id = {LIVE_ITEM}",
        ],
        "import",
        "of import",
    ),
    # exports
    "export file hash changed": (
        [
            'UPDATE export_record SET files = replace(files, \'"preferences.trl.jsonl":"\', '
            "'\"preferences.trl.jsonl\":\"0') WHERE kind = 'preferences'"
        ],
        "export",
        "file hashes were altered",
    ),
    "export item removed": (
        ["DELETE FROM export_item WHERE rowid = (SELECT min(rowid) FROM export_item)"],
        "export",
        "items of export",
    ),
    # erased rows are still checked, only without their text
    "erased label choice changed": (
        [f"UPDATE label_event SET choice = 'A' WHERE id = {ERASED_NOTE_EVENT}"],
        "import",
        "no longer matches its content hash",
    ),
    "erased item unmarked": (
        ["UPDATE item SET erased_at = NULL WHERE item_key = 'ties'"],
        "import",
        "item 'ties'",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_tampering_is_detected(template: Path, tmp_path: Path, case: str) -> None:
    statements, kind, problem = CASES[case]
    path = copy_project(template, tmp_path / "p.reviewdesk")
    tamper(path, *statements)
    report = verify(path)
    assert report.broken is not None, f"{case}: not detected"
    if kind is not None:
        assert report.broken.kind == kind, report.broken.message()
    assert problem in report.broken.problem, report.broken.message()
    message = report.broken.message()
    assert message.startswith(f"audit chain broken at record {report.broken.record_id} (")
    with pytest.raises(AuditVerificationError, match="audit chain broken at record"):
        report.raise_if_broken()


def test_rewritten_chain_is_caught_by_an_anchor(template: Path, tmp_path: Path) -> None:
    """Recomputing every hash after an edit defeats the chain alone, not a kept anchor."""
    path = copy_project(template, tmp_path / "p.reviewdesk")
    head = str(scalar(path, "SELECT record_sha256 FROM audit_record ORDER BY id DESC LIMIT 1"))
    from reviewdesk.domain.hashing import sha256_hex
    from reviewdesk.storage.repositories import GENESIS_SHA256, audit_content_sha256

    tamper(path, "UPDATE audit_record SET actor = 'mallory' WHERE kind = 'queue_build'")
    con = sqlite3.connect(path)
    prev = GENESIS_SHA256
    for rid, kind, created, actor, payload in con.execute(
        "SELECT id, kind, created_at, actor, payload FROM audit_record ORDER BY id"
    ).fetchall():
        content = audit_content_sha256(kind, created, actor, payload)
        record = sha256_hex(prev + content)
        con.execute(
            "UPDATE audit_record SET content_sha256 = ?, prev_sha256 = ?, record_sha256 = ? "
            "WHERE id = ?",
            (content, prev, record, rid),
        )
        prev = record
    con.commit()
    con.close()
    assert verify(path).ok  # the documented limit of a chain without a secret
    report = verify(path, anchors=(head,))
    assert report.broken is not None
    assert "anchor" in report.broken.problem
