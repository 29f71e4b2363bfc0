"""The audit log viewer pages through the chain, verifies it, and finds a tampered record;
the erasure dialog plans first, needs the subject typed, and changes nothing on cancel."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from reviewdesk.services.audit_log import summarize
from reviewdesk.ui.dialogs.audit_log import AuditLogDialog
from reviewdesk.ui.dialogs.erase_dialog import EraseDialog
from reviewdesk.ui.main_window import MainWindow, Mode
from tests.ui.dashboard_fixtures import audit_rows, small_project

__all__ = ["small_project"]


def open_lead(qtbot: Any, window: MainWindow, path: Path) -> None:
    window.open_project(path, Mode.LEAD)
    qtbot.waitUntil(
        lambda: window.project_page is not None and window.project_page.status is not None,
        timeout=10_000,
    )


def tamper(path: Path, statement: str, params: tuple[Any, ...]) -> None:
    """Change the file as someone holding it would: the append-only triggers dropped first."""
    con = sqlite3.connect(path)
    try:
        for trigger in ("audit_record_no_update", "audit_record_no_delete"):
            con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        con.execute(statement, params)
        con.commit()
    finally:
        con.close()


def test_audit_viewer_pages_verifies_and_finds_tampering(
    qtbot: Any, window: MainWindow, small_project: Path
) -> None:
    records = audit_rows(small_project)
    assert [k for _, k in records[:3]] == ["create", "import", "queue_build"]
    open_lead(qtbot, window, small_project)
    window.project_page.tool_buttons["audit"].click()
    dialog = window.findChildren(AuditLogDialog)[0]
    qtbot.waitUntil(lambda: dialog.page is not None)
    total = dialog.page.total
    assert total == len(records)
    # paging with a small page
    dialog.page_size = 2
    dialog.load(0)
    qtbot.waitUntil(lambda: dialog.page.page_size == 2)
    assert dialog.table.model.rowCount() == 2
    assert dialog.page_label.text().startswith(f"Page 1 of {(total + 1) // 2}")
    assert not dialog.prev_button.isEnabled()
    assert dialog.next_button.isEnabled()
    dialog.next_button.click()
    qtbot.waitUntil(lambda: dialog.page.offset == 2)
    first = dialog.table.model.row_values(0)
    assert first[0] == records[2][0]
    assert first[2] == "queue_build"
    assert first[4].startswith("queue built: added")
    dialog.table.view.selectRow(0)
    assert "record_sha256" in dialog.detail.toPlainText()
    # filter by kind
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("import"))
    qtbot.waitUntil(lambda: dialog.page.kind == "import")
    assert dialog.table.model.row_values(0)[4].startswith("imported small-release-input.jsonl")
    # verify: OK
    dialog.verify()
    qtbot.waitUntil(lambda: not dialog.verifying, timeout=20_000)
    assert dialog.report is not None
    assert dialog.report.ok
    assert dialog.result_label.text().startswith("Chain OK.")
    # tamper with the import record's payload: verification names it
    import_id = next(i for i, k in records if k == "import")
    tamper(
        small_project,
        "UPDATE audit_record SET payload = replace(payload, 'small-release', 'other') WHERE id = ?",
        (import_id,),
    )
    dialog.verify()
    qtbot.waitUntil(lambda: not dialog.verifying, timeout=20_000)
    assert dialog.report is not None
    assert not dialog.report.ok
    assert dialog.report.broken.record_id == import_id
    assert "BROKEN" in dialog.result_label.text()
    assert dialog.highlight_id == import_id
    qtbot.waitUntil(lambda: dialog.page.kind is None and not dialog.loading)
    ids = [e.id for e in dialog.page.entries]
    assert import_id in ids  # jumped to the page that holds it
    row = ids.index(import_id)
    assert f"record {import_id} · import" in dialog.detail.toPlainText()
    tint = dialog.table.model.data(dialog.table.model.index(row, 0), 8)  # BackgroundRole
    assert tint is not None
    dialog.reject()


def test_summaries_never_fail() -> None:
    assert summarize("import", "not json") == "(payload is not valid JSON)"
    assert summarize("label", '{"event_id": 12}') == "label event #12 recorded"
    assert summarize("unknown_kind", '{"a": 1, "b": [1, 2]}') == "a 1, b 2 entries"
    assert summarize(
        "monitor",
        '{"action": "lift_quarantine", "population": "human", '
        '"window": "count-1", "why": "relabelled"}',
    ).endswith("why: relabelled")


def item_text(path: Path, key: str) -> str | None:
    with sqlite3.connect(path) as con:
        row = con.execute("SELECT prompt FROM item WHERE item_key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def test_erasure_needs_the_plan_and_the_typed_subject(
    qtbot: Any, window: MainWindow, small_project: Path
) -> None:
    open_lead(qtbot, window, small_project)
    before = item_text(small_project, "exp-001")
    assert before
    window.project_page.tool_buttons["erase"].click()
    dialog = window.findChildren(EraseDialog)[0]
    assert not dialog.erase_button.isEnabled()
    dialog.subject_edit.setText("cust-1")
    assert not dialog.erase_button.isEnabled()  # no plan yet
    dialog.plan_button.click()
    qtbot.waitUntil(lambda: dialog.plan is not None)
    plan_text = dialog.plan_view.toPlainText()
    assert "Will erase the texts of 6 item(s)" in plan_text
    assert "exp-001" in plan_text
    assert "No earlier export contained the subject." in plan_text
    assert dialog.confirm_box.isVisible()
    assert not dialog.erase_button.isEnabled()
    dialog.confirm_edit.setText("cust-2")  # a different subject is not a confirmation
    assert not dialog.erase_button.isEnabled()
    dialog.confirm_edit.setText("cust-1")
    assert dialog.erase_button.isEnabled()
    dialog.subject_edit.setText("cust-3")  # changing the subject drops the plan
    assert dialog.plan is None
    assert not dialog.erase_button.isEnabled()
    dialog.reject()  # cancel: nothing changes
    assert item_text(small_project, "exp-001") == before
    with sqlite3.connect(small_project) as con:
        assert (
            con.execute("SELECT count(*) FROM audit_record WHERE kind='erase'").fetchone()[0] == 0
        )

    # now for real, after an export that contained the subject
    export_dir = small_project.parent / "before-erasure"
    from reviewdesk.domain.progress import run_to_completion
    from reviewdesk.services.csv_export import export_csv
    from reviewdesk.ui import tasks

    tasks.submit(lambda: run_to_completion(export_csv(window.opened.project, export_dir)))
    qtbot.waitUntil(lambda: tasks.pending_tasks() == 0, timeout=10_000)
    window.project_page.tool_buttons["erase"].click()
    dialog = next(d for d in window.findChildren(EraseDialog) if d.isVisible())
    dialog.subject_edit.setText("cust-1")
    dialog.show_plan()
    qtbot.waitUntil(lambda: dialog.plan is not None)
    assert str(export_dir.resolve()) in dialog.plan_view.toPlainText()
    dialog.confirm_edit.setText("cust-1")
    dialog.erase_button.click()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=20_000)
    report = dialog.plan_view.toPlainText()
    assert report.startswith("Erased. Tombstone: audit record #")
    assert "Earlier exports that contained the subject (1)" in report
    assert str(export_dir.resolve()) in report
    assert item_text(small_project, "exp-001") in ("", None)
    assert item_text(small_project, "exp-002") == "Prompt of exp-002: what should on-call do?"
    assert not dialog.erase_button.isEnabled()
    dialog.reject()
