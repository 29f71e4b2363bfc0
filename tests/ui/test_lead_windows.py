"""The lead's windows: import dialog (preview, validation report, progress, cancel), queue
overview, settings (project settings, key map, theme) and the start page."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication

from reviewdesk.services.project import create_project
from reviewdesk.services.queue_overview import OverviewRow
from reviewdesk.services.recent import list_recent_projects, remember_project
from reviewdesk.services.ui_settings import load_ui_settings
from reviewdesk.ui import crash
from reviewdesk.ui.lead.overview_model import OverviewModel
from reviewdesk.ui.main_window import MainWindow, Mode
from tests.conftest import write_jsonl
from tests.ui.support import build_project, judged, open_for_review, send_key


def closed(widget: Any) -> bool:
    """A dialog that deletes itself on close counts as closed once it is gone."""
    return not shiboken6.isValid(widget) or not widget.isVisible()


def open_lead(qtbot: Any, window: MainWindow, path: Path) -> None:
    window.open_project(path, Mode.LEAD)
    qtbot.waitUntil(
        lambda: window.project_page is not None and window.project_page.status is not None,
        timeout=10_000,
    )


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    path = tmp_path / "lead.reviewdesk"
    create_project(path, seed=3).close()
    return path


def test_import_dialog_preview_import_and_queue(
    qtbot: Any, window: MainWindow, empty_project: Path, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "items.jsonl", [judged(f"imp-{n}") for n in range(30)])
    open_lead(qtbot, window, empty_project)
    assert window.windowTitle() == "reviewdesk — lead (lead)"
    dialog = window.open_import()
    assert dialog is not None
    dialog.set_path(source)
    qtbot.waitUntil(lambda: dialog.preview is not None)
    assert dialog.preview.format == "native"
    assert dialog.preview_table.rowCount() == 20
    assert dialog.preview.more
    assert dialog.preview_table.item(0, 1).text() == "imp-0"
    assert "valid" in dialog.report_view.toPlainText()
    dialog.start_import()
    qtbot.waitUntil(
        lambda: not dialog.running and "queue:" in dialog.report_view.toPlainText(), timeout=10_000
    )
    assert dialog.report is not None
    assert dialog.report.items_added == 30
    qtbot.waitUntil(lambda: window.project_page.status["queue"]["total"] == 30)
    # Importing the same file again adds nothing.
    dialog.start_import()
    qtbot.waitUntil(
        lambda: not dialog.running and dialog.report.items_existing == 30, timeout=10_000
    )
    dialog.reject()


def test_import_dialog_reports_invalid_records_and_changes_nothing(
    qtbot: Any, window: MainWindow, empty_project: Path, tmp_path: Path
) -> None:
    good = [judged(f"ok-{n}") for n in range(3)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "".join(json.dumps(r) + "\n" for r in good) + '{"item_id": "", "prompt": 5}\n',
        encoding="utf-8",
    )
    open_lead(qtbot, window, empty_project)
    dialog = window.open_import()
    dialog.set_format("native")
    dialog.set_path(bad)
    qtbot.waitUntil(lambda: dialog.preview is not None)
    assert "Problems in the first records" in dialog.report_view.toPlainText()
    assert "bad.jsonl:4" in dialog.report_view.toPlainText()
    dialog.start_import()
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    report = dialog.report_view.toPlainText()
    assert "nothing was imported" in report
    assert "bad.jsonl:4" in report
    with sqlite3.connect(empty_project) as con:
        assert con.execute("SELECT count(*) FROM item").fetchone()[0] == 0
    # Skipping bad records imports the rest.
    dialog.skip_bad.setChecked(True)
    dialog.start_import()
    qtbot.waitUntil(lambda: not dialog.running and dialog.report is not None, timeout=10_000)
    assert dialog.report.items_added == 3
    assert dialog.report.rejected == 1
    dialog.reject()


def test_import_can_be_canceled(
    qtbot: Any, window: MainWindow, empty_project: Path, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "many.jsonl", [judged(f"c-{n}") for n in range(6000)])
    open_lead(qtbot, window, empty_project)
    dialog = window.open_import()
    dialog.set_path(source)
    qtbot.waitUntil(lambda: dialog.preview is not None)
    dialog.build_after.setChecked(False)
    dialog.start_import()
    assert dialog.running
    assert dialog.cancel_button.text() == "Cancel"
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=20_000)
    # The token is checked at every progress step, the first one before any record is read.
    assert "Canceled. The project is unchanged." in dialog.report_view.toPlainText()
    with sqlite3.connect(empty_project) as con:
        assert con.execute("SELECT count(*) FROM item").fetchone()[0] == 0
    dialog.reject()


def test_queue_overview_counts_by_reason_and_slice(
    qtbot: Any, qtmodeltester: Any, window: MainWindow, tmp_path: Path
) -> None:
    records = [
        judged(f"q-{n}", slices={"category": "billing" if n % 2 else "incident"}) for n in range(6)
    ]
    path = build_project(tmp_path, records)
    open_lead(qtbot, window, path)
    dialog = window.open_queue_overview()
    qtbot.waitUntil(lambda: dialog.loaded is not None)
    overview = dialog.loaded
    assert overview.total.entries == 6
    assert overview.total.labels_needed == 12
    assert {r.group: r.entries for r in overview.by_stratum} == {"contested": 6}
    assert {r.group: r.entries for r in overview.by_reason}["judge_split"] == 6
    slices = {r.group: r.entries for r in overview.by_slice}
    assert slices["category=billing"] == 3
    assert slices["category=incident"] == 3
    for model in dialog.models.values():
        qtmodeltester.check(model)
    assert dialog.models["slice"].rowCount() == len(overview.by_slice)
    dialog.reject()


def test_overview_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = OverviewModel([OverviewRow("a", 3, 1, 6), OverviewRow("b", 0, 0, 0)])
    qtmodeltester.check(model)
    model.set_rows([OverviewRow("c", 1, 1, 1)])
    qtmodeltester.check(model)


def test_settings_change_project_settings_keymap_and_theme(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = build_project(tmp_path, [judged(f"s-{n}") for n in range(4)])
    open_lead(qtbot, window, path)
    dialog = window.open_settings()
    qtbot.waitUntil(lambda: dialog._loaded is not None)
    assert dialog.tabs.tabText(0) == "Project"
    dialog.reveal.setChecked(True)
    dialog.overlap.setValue(3)
    dialog.candidate.setCurrentIndex(dialog.candidate.findData("sft-2026-11"))
    dialog.baseline.setCurrentIndex(dialog.baseline.findData("base-2026-10"))
    # A duplicate key is refused; a clean remap is saved.
    dialog.keys.set_keys("review.flag", "1")
    assert dialog.keys.problem_list()
    dialog.save()
    qtbot.waitUntil(lambda: bool(crash.shown_user_errors))
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "userErrorDialog":
            widget.close()
    dialog.keys.set_keys("review.flag", "G")
    dialog.save()
    qtbot.waitUntil(lambda: closed(dialog), timeout=10_000)
    with sqlite3.connect(path) as con:
        settings = dict(con.execute("SELECT key, value FROM setting").fetchall())
        entries = con.execute("SELECT DISTINCT labels_needed FROM queue_entry").fetchall()
    assert json.loads(settings["reveal_after_submit"]) is True
    assert json.loads(settings["overlap"]) == 3
    assert json.loads(settings["candidate"]) == "sft-2026-11"
    assert entries == [(3,)]  # the queue was rebuilt with the new overlap
    assert load_ui_settings().keymap()["review.flag"] == ("G",)
    assert window.keymap["review.flag"] == ("G",)
    # The remapped key works in review mode, the old one no longer does.
    window.project_page.review_requested.emit()
    from reviewdesk.ui.dialogs.reviewer_dialog import ReviewerDialog

    qtbot.waitUntil(lambda: window.findChild(ReviewerDialog) is not None)
    reviewer = window.findChild(ReviewerDialog)
    reviewer.name_edit.setText("rev-keys")
    reviewer.accept()
    qtbot.waitUntil(lambda: window.controller is not None and window.controller.state == "showing")
    window.controller.settle_s = 0.0
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    send_key(window, "F")
    assert not window.controller.pair_state.flagged
    send_key(window, "G")
    assert window.controller.pair_state.flagged
    assert window.controller.reveal_allowed
    assert "G" in window.review_view.footer.flag_button.text()


def test_theme_follows_the_choice(qtbot: Any, window: MainWindow) -> None:
    from reviewdesk.ui import theme

    dialog = window.open_settings()
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == ["Keys", "Appearance"]
    for button in dialog.theme_group.buttons():
        button.setChecked(button.property("theme") == "dark")
    dialog.save()
    qtbot.waitUntil(lambda: closed(dialog))
    assert theme.manager().name == "dark"
    assert load_ui_settings().theme == "dark"
    assert "#17191d" in QApplication.instance().styleSheet()


def test_start_page_lists_recent_projects_and_opens_them(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = build_project(tmp_path, [judged("r-1")], name="recent-one")
    remember_project(path)
    remember_project(tmp_path / "gone.reviewdesk")
    window.close_to_start()
    rows = window.start_page.rows
    assert [r.findChild(type(window.start_page.status), "recentName").text() for r in rows] == [
        "gone",
        "recent-one",
    ]
    rows[1].review_clicked.emit(path)
    from reviewdesk.ui.dialogs.reviewer_dialog import ReviewerDialog

    qtbot.waitUntil(lambda: window.findChild(ReviewerDialog) is not None)
    dialog = window.findChild(ReviewerDialog)
    dialog.reject()  # nobody chose a profile: back to the start page, project closed
    qtbot.waitUntil(lambda: window.opened is None)
    assert window.mode is Mode.START
    assert list_recent_projects()[0].path == path.resolve()


def test_opening_a_broken_file_shows_a_plain_error(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.reviewdesk"
    junk.write_text("not a database", encoding="utf-8")
    window.open_project(junk, Mode.REVIEW)
    qtbot.waitUntil(lambda: bool(crash.shown_user_errors))
    assert "not a reviewdesk project" in crash.shown_user_errors[-1]
    assert window.mode is Mode.START
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "userErrorDialog":
            widget.close()


def test_demo_opens_in_review_mode(qtbot: Any, window: MainWindow) -> None:
    from reviewdesk.ui.dialogs.reviewer_dialog import ReviewerDialog

    window.open_demo()
    qtbot.waitUntil(lambda: window.findChild(ReviewerDialog) is not None, timeout=30_000)
    dialog = window.findChild(ReviewerDialog)  # the reviewer is chosen explicitly, even here
    dialog.name_edit.setText("rev-demo")
    dialog.accept()
    qtbot.waitUntil(lambda: window.controller is not None, timeout=10_000)
    qtbot.waitUntil(lambda: window.controller.state == "showing", timeout=10_000)
    assert window.windowTitle() == "reviewdesk — incident-bot-release"


def test_every_key_is_bound_once(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    from PySide6.QtGui import QAction, QShortcut

    path = build_project(tmp_path, [judged("k")])
    open_for_review(qtbot, window, path, "rev-k")
    seen: dict[str, str] = {}
    for shortcut in window.findChildren(QShortcut):
        if not shortcut.isEnabled():
            continue
        key = shortcut.key().toString()
        assert key not in seen, f"{key} bound twice"
        seen[key] = "shortcut"
    for action in window.findChildren(QAction):
        if not action.isEnabled():
            continue
        for sequence in action.shortcuts():
            key = sequence.toString()
            assert key not in seen, f"{key} bound twice"
            seen[key] = action.text()
    for key in ("1", "A", "Left", "Space", "Ctrl+Z", "Backspace", "?", "Ctrl+F", "D"):
        assert key in seen
    assert all(not s.autoRepeat() for s in window.findChildren(QShortcut))


def test_startup_without_saved_settings_uses_defaults(isolated_home: Path) -> None:
    assert load_ui_settings().keymap()["review.choose_left"] == ("1", "A", "Left")
    (isolated_home / "ui-settings.json").write_text('{"keymap": {"review.flag": ["1"]}}')
    with pytest.raises(Exception, match="bound to both"):
        load_ui_settings()
