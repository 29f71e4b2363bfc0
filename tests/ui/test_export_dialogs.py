"""Export dialogs through the real services: preference set, CSV, gate inputs, then a gate
check on the exported file; blind adjudication of conflicting labels."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPlainTextEdit, QWidget

from reviewdesk.domain.model import ScreenChoice
from reviewdesk.ui.dialogs.adjudication import AdjudicationDialog
from reviewdesk.ui.dialogs.export_dialog import ExportDialog
from reviewdesk.ui.dialogs.gate_check import GateCheckDialog
from reviewdesk.ui.main_window import MainWindow, Mode
from tests.ui.dashboard_fixtures import (
    BASELINE,
    CANDIDATE,
    build_with_roles,
    conflicting_items,
    small_project,
)
from tests.ui.support import send_key

__all__ = ["small_project"]


def open_lead(qtbot: Any, window: MainWindow, path: Path) -> None:
    window.open_project(path, Mode.LEAD)
    qtbot.waitUntil(
        lambda: window.project_page is not None and window.project_page.status is not None,
        timeout=10_000,
    )


def run_export(qtbot: Any, dialog: ExportDialog) -> Any:
    dialog.start_export()
    assert dialog.running
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    return dialog.outcome


def test_preference_export_with_synthetic_warning(
    qtbot: Any, window: MainWindow, small_project: Path, tmp_path: Path
) -> None:
    open_lead(qtbot, window, small_project)
    window.project_page.tool_buttons["export"].click()
    dialog = window.findChildren(ExportDialog)[0]
    qtbot.waitUntil(lambda: dialog.models_loaded)
    assert dialog.kind == "preferences"
    assert not dialog.llm_warning.isVisible()
    dialog.include_llm.setChecked(True)
    assert dialog.llm_warning.isVisible()
    assert "Synthetic" in dialog.llm_warning.findChild(QLabel).text()
    dialog.include_llm.setChecked(False)
    folder = tmp_path / "prefs"
    dialog.pref_dir.setText(str(folder))
    result = run_export(qtbot, dialog)
    assert result is not None, dialog.report_view.toPlainText()
    names = {p.name for p in folder.iterdir()}
    assert {"preferences.trl.jsonl", "preferences.audit.jsonl", "manifest.json"} <= names
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    report = dialog.report_view.toPlainText()
    assert f"Wrote {result.pairs:,} preference pairs" in report
    assert f"Manifest: {folder / 'manifest.json'}" in report
    assert "Dropped:" in report
    for name, sha in result.files.items():
        assert f"{name}  {sha}" in report
    assert manifest["files"]["preferences.trl.jsonl"]["sha256"] == result.files[
        "preferences.trl.jsonl"
    ] or result.files["preferences.trl.jsonl"] in json.dumps(manifest)
    lines = (folder / "preferences.trl.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == result.pairs == 24  # every item: two agreeing human labels
    assert set(json.loads(lines[0])) == {"id", "prompt", "chosen", "rejected"}
    dialog.reject()


def test_csv_and_gate_inputs_exports_then_gate_check(
    qtbot: Any, window: MainWindow, small_project: Path, tmp_path: Path
) -> None:
    open_lead(qtbot, window, small_project)
    dialog = window.open_export("csv")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.models_loaded)
    dialog.csv_dir.setText(str(tmp_path / "csv"))
    result = run_export(qtbot, dialog)
    assert set(result.rows) == {"labels.csv", "items.csv"}
    assert (tmp_path / "csv" / "labels.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "labels.csv" in dialog.report_view.toPlainText()

    dialog.set_kind("gates")
    assert dialog.candidate.currentText() == CANDIDATE
    assert dialog.baseline.currentText() == BASELINE
    target = tmp_path / "gates" / "gate-inputs.json"
    dialog.gates_file.setText(str(target))
    dialog.n_boot.setValue(100)
    result = run_export(qtbot, dialog)
    assert target.exists(), dialog.report_view.toPlainText()
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["schema"] == "reviewdesk.gate_inputs/v1"
    assert document["config"]["bootstrap"]["B"] == 100
    assert f"Wrote {result.records:,} gate-input records" in dialog.report_view.toPlainText()
    dialog.reject()

    spec = tmp_path / "gates.toml"
    spec.write_text(
        'hypothesis = "The candidate wins contested items"\n'
        "[[gates]]\n"
        'metric = "cwr"\n'
        'estimand = "contested_queue"\n'
        'slice = { category = "*" }\n'
        'require = { bound = "ci_low", op = ">=", value = 0.5 }\n'
        "min_n_items = 5\n"
        "[budget]\n"
        "gpu_hours = 12\n",
        encoding="utf-8",
    )
    window.project_page.tool_buttons["gates"].click()
    check = window.findChildren(GateCheckDialog)[0]
    check.inputs_edit.setText(str(target))
    check.spec_edit.setText(str(spec))
    check.run_check()
    qtbot.waitUntil(lambda: check.scorecard is not None or check.error is not None, timeout=10_000)
    card = check.scorecard
    assert card is not None, check.error
    text = check.verdict_label.text()
    assert ("RELEASE PASSES" if card.passed else "RELEASE FAILS") in text
    assert "The candidate wins contested items" in text
    assert check.gates_table.model.rowCount() == 1
    gate_row = check.gates_table.model.row_values(0)
    assert gate_row[3] != "—"  # the worst slice is named
    assert gate_row[4]  # and why
    slices = {r[2].replace(" (worst)", "") for r in card.table_rows()}
    assert slices == {"category=billing", "category=incident"}
    assert check.slices_table.model.rowCount() == 2
    assert "gpu_hours" in check.extra.toPlainText()
    # an invalid spec gives the file and field, and no verdict
    spec.write_text('[[gates]]\nmetric = "cwr"\n', encoding="utf-8")
    check.run_check()
    qtbot.waitUntil(lambda: check.error is not None, timeout=10_000)
    assert str(spec) in check.error
    assert "no verdict" in check.verdict_label.text()
    assert check.gates_table.model.rowCount() == 0
    check.reject()


def test_export_cancel_writes_nothing(
    qtbot: Any, window: MainWindow, small_project: Path, tmp_path: Path
) -> None:
    open_lead(qtbot, window, small_project)
    dialog = window.open_export("gates")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.models_loaded)
    target = tmp_path / "canceled" / "gate-inputs.json"
    dialog.gates_file.setText(str(target))
    dialog.start_export()
    dialog.cancel()  # the job checks its token before it writes anything
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert "Canceled" in dialog.report_view.toPlainText()
    assert not target.exists()
    with sqlite3.connect(small_project) as con:
        assert con.execute("SELECT count(*) FROM export_record").fetchone()[0] == 0
    dialog.reject()


def _visible_texts(root: QWidget) -> str:
    """Everything a person could read on the dialog: texts, tooltips, accessible names."""
    parts = [root.windowTitle()]
    for widget in [root, *root.findChildren(QWidget)]:
        parts.extend((widget.toolTip(), widget.accessibleName(), widget.statusTip()))
        if isinstance(widget, QLabel | QAbstractButton):
            parts.append(widget.text())
        elif isinstance(widget, QLineEdit):
            parts.extend((widget.text(), widget.placeholderText()))
        elif isinstance(widget, QPlainTextEdit):
            parts.append(widget.toPlainText())
    for panel in (root.prompt_panel, root.left_panel, root.right_panel):  # type: ignore[attr-defined]
        parts.append(panel.plain_text())
    return "\n".join(parts)


def test_adjudication_is_blind_and_records_an_adjudication_event(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = build_with_roles(tmp_path, conflicting_items(3), "conflicts")
    open_lead(qtbot, window, path)
    window.project_page.tool_buttons["adjudicate"].click()
    dialog = window.findChildren(AdjudicationDialog)[0]
    qtbot.waitUntil(lambda: dialog.pair is not None, timeout=10_000)
    assert dialog.served is not None
    assert dialog.served.remaining == 3
    seen = _visible_texts(dialog)
    assert "Conflict prompt" in seen  # the pair is shown…
    for secret in ("rev-alpha", "rev-beta", CANDIDATE, BASELINE, "judge-a", "conf-"):
        assert secret not in seen, secret  # …but nothing about who labelled or produced it
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    send_key(dialog, "1")
    qtbot.waitUntil(lambda: dialog.decided == 1 and not dialog.busy, timeout=10_000)
    dialog.decide(ScreenChoice.BOTH_BAD)
    qtbot.waitUntil(lambda: dialog.decided == 2 and not dialog.busy, timeout=10_000)
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT e.screen_choice, r.name FROM label_event e "
            "JOIN reviewer r ON r.id = e.reviewer_id WHERE e.provenance = 'adjudication' "
            "ORDER BY e.id"
        ).fetchall()
        kinds = [k for (k,) in con.execute("SELECT kind FROM audit_record ORDER BY id")]
    assert rows == [("left", "lead"), ("both_bad", "lead")]
    assert kinds.count("adjudicate") == 2
    assert dialog.served.remaining == 1
    seen = _visible_texts(dialog)
    for secret in ("rev-alpha", "rev-beta", CANDIDATE, BASELINE):
        assert secret not in seen, secret
    dialog.reject()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())
