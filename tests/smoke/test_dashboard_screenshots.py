"""Screenshots of the dashboards (every tab, light and dark, 1280×800 and 1920×1080) on the
labeler-drift sample, and of the export, gate-check, audit-log, erasure and adjudication
dialogs on the incident-bot-release sample. Saved to ``screenshots/`` for people to look at;
each must be non-blank."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.gate_inputs import export_gate_inputs
from reviewdesk.services.importing import import_file
from reviewdesk.services.preferences import export_preferences
from reviewdesk.services.project import Project, open_project
from reviewdesk.services.samples import SampleManifest, build_sample_project, sample_folder
from reviewdesk.ui.dashboards.dashboard_window import DashboardWindow
from reviewdesk.ui.dialogs.adjudication import AdjudicationDialog
from reviewdesk.ui.dialogs.audit_log import AuditLogDialog
from reviewdesk.ui.dialogs.erase_dialog import EraseDialog
from reviewdesk.ui.dialogs.export_dialog import ExportDialog
from reviewdesk.ui.dialogs.gate_check import GateCheckDialog
from reviewdesk.ui.ops import Ops
from tests.ui.dashboard_fixtures import drift_template
from tests.ui.screens import save, set_theme

__all__ = ["drift_template"]

pytestmark = pytest.mark.smoke

SIZES = {"1280x800": (1280, 800), "1920x1080": (1920, 1080)}


def settle(qtbot: Any, widget: QWidget, ms: int = 120) -> None:
    qtbot.waitExposed(widget)
    QApplication.processEvents()
    qtbot.wait(ms)


@pytest.fixture
def drift(drift_template: Path, tmp_path: Path) -> Iterator[Project]:
    target = tmp_path / "labeler-drift.reviewdesk"
    shutil.copyfile(drift_template, target)
    project = open_project(target)
    yield project
    project.close()


@pytest.fixture(scope="session")
def incident_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """incident-bot-release with a gate-inputs export and a preference export already made."""
    folder = tmp_path_factory.mktemp("incident")
    target = folder / "incident-bot-release.reviewdesk"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVIEWDESK_HOME", str(folder / "home"))
        manifest = SampleManifest.load(sample_folder("incident-bot-release"))
        project = run_to_completion(build_sample_project(manifest, target))
        try:  # the earlier review round's labels, as the sample's README imports them
            run_to_completion(import_file(project, manifest.folder / "review-round-1.jsonl"))
            run_to_completion(
                export_gate_inputs(project, folder / "exports" / "gate-inputs.json", n_boot=500)
            )
            run_to_completion(export_preferences(project, folder / "exports" / "preferences"))
        finally:
            project.close()
    with sqlite3.connect(target) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return target


@pytest.fixture
def incident(incident_template: Path, tmp_path: Path) -> Iterator[Project]:
    target = tmp_path / "incident-bot-release.reviewdesk"
    shutil.copyfile(incident_template, target)
    project = open_project(target)
    yield project
    project.close()


@pytest.mark.parametrize(
    ("theme_name", "size"),
    [("light", "1280x800"), ("dark", "1280x800"), ("light", "1920x1080")],
)
def test_dashboard_tabs(
    qtbot: Any, drift: Project, screenshot_dir: Path, theme_name: str, size: str
) -> None:
    set_theme(theme_name)
    dash = DashboardWindow(Ops(), drift)
    qtbot.addWidget(dash)
    dash.resize(*SIZES[size])
    dash.show()
    qtbot.waitUntil(lambda: dash.data is not None and not dash.running, timeout=120_000)
    names = ["agreement", "reviewers", "judges", "homogenization", "win-rates", "refusal"]
    for tab, name in zip(dash.all_tabs, names, strict=True):
        dash.tabs.setCurrentWidget(tab)
        settle(qtbot, dash)
        save(dash, screenshot_dir, f"dashboard-{name}-{theme_name}-{size}")
    homog = dash.homogenization_tab
    dash.tabs.setCurrentWidget(homog)
    homog.select("alarms")
    settle(qtbot, dash)
    save(dash, screenshot_dir, f"dashboard-homogenization-alarms-{theme_name}-{size}")
    bar = homog.scroll_area.verticalScrollBar()
    bar.setValue(bar.maximum())
    homog.window_table.view.selectRow(len(homog.current_series().window_ids) - 1)
    settle(qtbot, dash)
    save(dash, screenshot_dir, f"dashboard-homogenization-windows-{theme_name}-{size}")
    if theme_name == "light" and size == "1280x800":
        card = dash.agreement_tab.time_card
        dash.tabs.setCurrentWidget(dash.agreement_tab)
        settle(qtbot, dash)
        card.save_image(screenshot_dir / "chart-agreement-over-time.png")
        card.save_image(screenshot_dir / "chart-agreement-over-time.svg")
    dash.reject()


def test_export_and_gate_check_dialogs(
    qtbot: Any, incident: Project, incident_template: Path, screenshot_dir: Path, tmp_path: Path
) -> None:
    set_theme("light")
    ops = Ops()
    dialog = ExportDialog(ops, incident)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.models_loaded)
    dialog.pref_dir.setText(str(tmp_path / "preferences"))
    dialog.include_llm.setChecked(True)
    settle(qtbot, dialog)
    save(dialog, screenshot_dir, "export-dialog-synthetic-warning")
    dialog.include_llm.setChecked(False)
    dialog.start_export()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    settle(qtbot, dialog)
    save(dialog, screenshot_dir, "export-dialog-result")
    dialog.reject()

    check = GateCheckDialog(
        ops,
        inputs=incident_template.parent / "exports" / "gate-inputs.json",
        spec=sample_folder("incident-bot-release") / "gates.toml",
    )
    qtbot.addWidget(check)
    check.show()
    check.run_check()
    qtbot.waitUntil(lambda: check.scorecard is not None or check.error is not None)
    assert check.scorecard is not None, check.error
    settle(qtbot, check)
    save(check, screenshot_dir, "gate-check-scorecard")
    check.reject()


def test_audit_erasure_and_adjudication_dialogs(
    qtbot: Any, incident: Project, drift: Project, screenshot_dir: Path
) -> None:
    set_theme("light")
    ops = Ops()
    audit = AuditLogDialog(ops, incident)
    qtbot.addWidget(audit)
    audit.show()
    qtbot.waitUntil(lambda: audit.page is not None)
    audit.verify()
    qtbot.waitUntil(lambda: not audit.verifying, timeout=30_000)
    audit.table.view.selectRow(1)
    settle(qtbot, audit)
    save(audit, screenshot_dir, "audit-log-verified")
    con = sqlite3.connect(incident.path)
    try:
        con.execute("DROP TRIGGER IF EXISTS audit_record_no_update")
        con.execute("UPDATE audit_record SET actor = 'mallory' WHERE id = 3")
        con.commit()
    finally:
        con.close()
    audit.verify()
    qtbot.waitUntil(lambda: not audit.verifying and not audit.loading, timeout=30_000)
    settle(qtbot, audit)
    save(audit, screenshot_dir, "audit-log-broken")
    audit.reject()

    erase = EraseDialog(ops, incident)
    qtbot.addWidget(erase)
    erase.show()
    erase.subject_edit.setText("cust-2468")
    erase.show_plan()
    qtbot.waitUntil(lambda: erase.plan is not None)
    erase.confirm_edit.setText("cust-24")
    settle(qtbot, erase)
    save(erase, screenshot_dir, "erasure-dialog-plan")
    erase.reject()

    adjudicate = AdjudicationDialog(ops, drift)  # labeler-drift has many conflicting items
    qtbot.addWidget(adjudicate)
    adjudicate.show()
    qtbot.waitUntil(lambda: adjudicate.served is not None, timeout=10_000)
    settle(qtbot, adjudicate, 300)
    save(adjudicate, screenshot_dir, "adjudication-dialog")
    adjudicate.reject()
