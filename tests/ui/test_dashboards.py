"""The lead's dashboards on the labeler-drift sample: what the plots got, what they show, that
the refresh stays off the UI thread, degenerate projects, saving charts and exporting tables."""

from __future__ import annotations

import ast
import csv
import itertools
import math
import sqlite3
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication, QImage

from reviewdesk.services import dashboards as dash_service
from reviewdesk.services.dashboards import DashboardOptions
from reviewdesk.services.project import create_project, open_project
from reviewdesk.ui import theme
from reviewdesk.ui.dashboards import dashboard_window
from reviewdesk.ui.dashboards.dashboard_window import DashboardWindow
from reviewdesk.ui.dashboards.tables import Column, TableCard
from reviewdesk.ui.main_window import MainWindow, Mode
from reviewdesk.ui.ops import Ops
from tests.ui.dashboard_fixtures import (
    TEST_DASHBOARD_B,
    build_with_roles,
    drift_project,
    drift_template,
    labelled_items,
)

__all__ = ["drift_project", "drift_template"]

SRC = Path(__file__).resolve().parents[2] / "src" / "reviewdesk"
OPTIONS = DashboardOptions(n_boot=TEST_DASHBOARD_B)


@pytest.fixture
def fast_options(monkeypatch: pytest.MonkeyPatch) -> DashboardOptions:
    """Windows opened from the project page use a lower B (the code path is the same)."""
    monkeypatch.setattr(dashboard_window, "DashboardOptions", lambda: OPTIONS)
    return OPTIONS


def open_dashboards(qtbot: Any, window: MainWindow, path: Path) -> DashboardWindow:
    """Open ``path`` as the lead and its dashboards from the project page; wait for the data."""
    window.open_project(path, Mode.LEAD)
    qtbot.waitUntil(lambda: window.project_page is not None, timeout=10_000)
    page = window.project_page
    assert page is not None
    page.tool_buttons["dashboards"].click()
    found = window.findChildren(DashboardWindow)
    assert len(found) == 1
    dash = found[0]
    assert dash.options == OPTIONS
    qtbot.waitUntil(lambda: dash.data is not None and not dash.running, timeout=60_000)
    return dash


def test_dashboards_show_the_drift_alarms(
    qtbot: Any, window: MainWindow, drift_project: Path, fast_options: DashboardOptions
) -> None:
    dash = open_dashboards(qtbot, window, drift_project)
    data = dash.data
    assert data is not None
    human = data.monitor.dashboard["human"]
    weeks = dict(zip(human.window_ids, human.quarantined, strict=True))
    # README: the homogenization alarm quarantines weeks 9–12; the drift alarm fires in 7–8
    assert [w for w, q in weeks.items() if q] == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]
    drift = [w for w, v in zip(human.window_ids, human.drift_alarm, strict=True) if v == 1.0]
    assert drift == ["2026-W08", "2026-W09"]
    assert human.baseline.window_ids == ("2026-W02", "2026-W03", "2026-W04", "2026-W05")
    assert dash.banner.isVisible()
    assert "Homogenization alarm" in dash.banner_label.text()
    assert "rev-ana" in dash.banner_label.text()

    # Agreement: the curves got the DTO's numbers, the shaded bands are the quarantined weeks
    tab = dash.agreement_tab
    plot = tab.time_plot
    _x, y = plot.curves["alpha_ordinal"].getData()
    expected = data.agreement.columns["alpha_ordinal"].estimate
    assert len(y) == len(expected) == 12
    assert all(math.isclose(a, b) for a, b in zip(y, expected, strict=True))
    assert plot.spans["quarantined"].window_count == 4
    assert plot.spans["baseline"].window_count == 4
    rise = data.agreement.columns["alpha_ordinal"].estimate
    assert max(rise[-3:]) > data.agreement.baseline["alpha_ordinal"]  # agreement climbs
    assert not tab.time_card.is_empty
    assert tab.week_table.model.rowCount() == 12

    # Homogenization: weekly and alarm windows, alarm bands counted from the DTO
    homog = dash.homogenization_tab
    dash.tabs.setCurrentWidget(homog)
    homog.ensure_rendered()
    alarm_weeks = sum(1 for v in human.homogenization_alarm if v == 1.0)
    assert homog.panels["H2"].spans["homogenization"].window_count == alarm_weeks == 4
    assert homog.panels["H2"].spans["drift"].window_count == 2
    homog.select("alarms")
    alarms = data.monitor.alarms["human"]
    n_alarm = sum(1 for v in alarms.homogenization_alarm if v == 1.0)
    assert n_alarm >= 20  # README: every window from count-00005800 on
    assert homog.panels["H3"].spans["homogenization"].window_count == n_alarm
    assert homog.strip.counts["fires"] > 0
    assert homog.window_table.model.rowCount() == len(alarms.window_ids)
    # the quarantined alarm windows name the four drifting reviewers
    named = {n for row in alarms.named_labelers for n in row}
    assert {"rev-ana", "rev-ben", "rev-chen", "rev-dara"} <= named
    assert not homog.lift_button.isEnabled()  # nothing selected
    last = len(alarms.window_ids) - 1
    homog.window_table.view.selectRow(last)
    assert homog.lift_button.isEnabled() == alarms.quarantined[last]
    homog.select("dashboard")
    assert not homog.lift_button.isEnabled()  # weekly windows: no actions

    # Reviewers, judges, win rates, refusal
    dash.tabs.setCurrentWidget(dash.reviewers_tab)
    assert dash.reviewers_tab.heatmap.matrix.shape == (6, 6)
    assert dash.reviewers_tab.reviewer_table.model.rowCount() == 6
    dash.tabs.setCurrentWidget(dash.judges_tab)
    assert dash.judges_tab.judge_names == ("judge-terse", "judge-verbose")
    dash.tabs.setCurrentWidget(dash.win_rates_tab)
    statuses = {row[-1] for row in dash.win_rates_tab.cwr_table.model.export_rows()}
    assert statuses == {"quarantined"}  # gates fail closed on the house style's labels
    dash.tabs.setCurrentWidget(dash.refusal_tab)
    refusal = dash.refusal_tab
    assert not refusal.cards["over_refusal_rate"].is_empty
    assert "Undefined" in (refusal.cards["under_refusal_rate"].empty_message or "")

    # Dark theme re-colors the existing items
    theme.manager().apply("dark")
    QGuiApplication.processEvents()
    bg = dash.agreement_tab.time_card.layout_widget.backgroundBrush().color().name()
    assert bg == theme.current()["surface"]

    # Lifting a quarantine asks why, is logged, and the refreshed dashboards show it lifted
    dash.tabs.setCurrentWidget(homog)
    homog.select("alarms")
    homog.window_table.view.selectRow(last)
    window_id = alarms.window_ids[last]
    prompt = homog.lift()
    assert prompt is not None
    assert not prompt.ok_button.isEnabled()  # no reason, no action
    prompt.why.setPlainText("rev-ana and rev-ben relabelled the window after retraining")
    assert prompt.ok_button.isEnabled()
    with qtbot.waitSignal(dash.refreshed, timeout=60_000):
        prompt.accept()
    lifted = dash.data.monitor.alarms["human"]
    assert not lifted.quarantined[lifted.window_ids.index(window_id)]
    with sqlite3.connect(drift_project) as con:
        payload = con.execute(
            "SELECT payload FROM audit_record WHERE kind = 'monitor' ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
    assert "lift_quarantine" in payload
    assert window_id in payload
    assert "relabelled the window" in payload
    dash.reject()


def test_dashboards_are_lead_only(
    qtbot: Any, window: MainWindow, drift_project: Path, fast_options: DashboardOptions
) -> None:
    """Never reachable from review mode; an open dashboard closes when reviewing starts."""
    dash = open_dashboards(qtbot, window, drift_project)
    assert dash.isVisible()
    window.start_review("rev-lead-test")
    qtbot.waitUntil(lambda: window.mode is Mode.REVIEW, timeout=10_000)
    qtbot.waitUntil(lambda: not window.findChildren(DashboardWindow), timeout=5000)
    for opener in (
        window.open_dashboards,
        window.open_export,
        window.open_gate_check,
        window.open_adjudication,
        window.open_audit_log,
        window.open_erasure,
    ):
        assert opener() is None
    assert window.project_page is None  # the only place the buttons live


def test_refresh_runs_off_the_ui_thread(
    qtbot: Any, drift_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UI thread keeps ticking during a full (uncached) refresh; it only plots."""
    threads: list[bool] = []
    real = dash_service.refresh_dashboards

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return (yield from real(*args, **kwargs))

    monkeypatch.setattr("reviewdesk.ui.dashboards.dashboard_window.refresh_dashboards", recording)
    project = open_project(drift_project)
    try:
        ops = Ops()
        dash = DashboardWindow(
            ops,
            project,
            options=DashboardOptions(n_boot=TEST_DASHBOARD_B, use_cache=False),
            auto_refresh=False,
        )
        qtbot.addWidget(dash)
        dash.resize(1280, 800)
        dash.show()
        qtbot.waitExposed(dash)
        beats: list[float] = []
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda: beats.append(time.perf_counter()))
        timer.start()
        with qtbot.waitSignal(dash.refreshed, timeout=60_000):
            started = time.perf_counter()
            dash.refresh()
        finished = time.perf_counter()
        timer.stop()
        assert threads == [False]  # the generator ran on the database worker
        during = [t for t in beats if started <= t <= finished]
        gaps = [b - a for a, b in itertools.pairwise(during)]
        assert len(during) > 20, "the UI thread did not tick during the refresh"
        # the render of the visible tab is the only UI-thread work; nothing near a second
        assert max(gaps) < 0.5, f"UI thread stalled {max(gaps) * 1000:.0f} ms"
        assert dash.render_seconds < 0.5
    finally:
        project.close()


def test_degenerate_projects_say_insufficient_data(qtbot: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty.reviewdesk"
    create_project(empty, candidate="sft-2026-11", baseline="base-2026-10").close()
    few = build_with_roles(tmp_path, labelled_items(3), "few")
    for path, expect in ((empty, "No human labels"), (few, "Insufficient")):
        project = open_project(path)
        try:
            dash = DashboardWindow(Ops(), project, options=OPTIONS)
            qtbot.addWidget(dash)
            dash.resize(1280, 800)
            dash.show()
            qtbot.waitUntil(lambda d=dash: d.data is not None and not d.running, timeout=30_000)
            messages = []
            for tab in dash.all_tabs:
                dash.tabs.setCurrentWidget(tab)
                tab.ensure_rendered()
                messages.extend(card.empty_message or card.notice for card in tab.chart_cards)
            # never a flat line: every chart without enough evidence says so
            missing = [
                (tab.title, card.title)
                for tab in dash.all_tabs
                for card in tab.chart_cards
                if not (card.empty_message or card.notice)
            ]
            assert not missing, (path.name, missing)
            assert any(expect in m for m in messages), messages
            dash.reject()
        finally:
            project.close()


def test_charts_save_as_png_and_svg(
    qtbot: Any,
    window: MainWindow,
    drift_project: Path,
    tmp_path: Path,
    fast_options: DashboardOptions,
) -> None:
    dash = open_dashboards(qtbot, window, drift_project)
    for card in (dash.agreement_tab.time_card, dash.agreement_tab.slice_card):
        png = card.save_image(tmp_path / f"{card.title}.png")
        image = QImage(str(png))
        assert not image.isNull()
        assert image.width() >= card.layout_widget.width() - 2
        svg = card.save_image(tmp_path / f"{card.title}.svg")
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")
        assert svg.stat().st_size > 5000  # curves, axes and text, not an empty frame
    dash.reject()


def test_tables_copy_and_export_neutralize_formulas(
    qtbot: Any, qtmodeltester: Any, tmp_path: Path
) -> None:
    card = TableCard(
        "Hostile",
        (Column("Name"), Column("Value", "float"), Column("Estimate", "interval")),
        Ops(),
    )
    qtbot.addWidget(card)
    card.set_rows(
        [
            ('=HYPERLINK("http://x")', -0.5, (0.25, -0.1, 0.6)),
            ("+cmd|' /C calc'!A0", 1.5, (float("nan"), float("nan"), float("nan"))),
            ("@SUM(A1)", 2.0, (0.5, 0.4, 0.6)),
            ("-2+3", 0.0, (0.1, 0.0, 0.2)),
        ]
    )
    qtmodeltester.check(card.model)
    assert card.model.data(card.model.index(0, 1)) == "\u22120.500"
    text = card.copy_to_clipboard()
    assert QGuiApplication.clipboard().text() == text
    lines = text.splitlines()
    assert lines[0] == "Name\tValue\tEstimate\tEstimate CI low\tEstimate CI high"
    assert lines[1].startswith('"\'=HYPERLINK(""http://x"")"\t-0.5\t0.25\t-0.1\t0.6')
    assert lines[2].startswith("'+cmd")
    assert lines[2].endswith("\t1.5\t\t\t")  # NaN is an empty cell, not "nan"
    assert lines[3].startswith("'@SUM")
    assert lines[4].startswith("'-2+3\t0.0")
    target = tmp_path / "table.csv"
    card.export_csv(target)
    qtbot.waitUntil(lambda: card.last_export == target, timeout=5000)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[0] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+cmd|' /C calc'!A0",
        "'@SUM(A1)",
        "'-2+3",
    ]
    assert rows[1][1] == "-0.5"  # numbers stay numbers


def test_pyqtgraph_only_in_dashboards_and_after_pyside6() -> None:
    """ARCHITECTURE.md §4.15: only dashboard modules import pyqtgraph, always after PySide6."""
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "pyqtgraph" not in source:
            continue
        tree = ast.parse(source)
        imports = [
            (node.lineno, name)
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        ]
        pg_lines = [line for line, name in imports if name.split(".")[0] == "pyqtgraph"]
        if not pg_lines:
            continue
        rel = path.relative_to(SRC).as_posix()
        assert rel.startswith("ui/dashboards/"), f"{rel} imports pyqtgraph"
        qt_lines = [line for line, name in imports if name.split(".")[0] == "PySide6"]
        assert qt_lines, f"{rel}: pyqtgraph without PySide6"
        assert min(qt_lines) < min(pg_lines), f"{rel}: pyqtgraph before PySide6"
