"""The Homogenization tab: H1–H5 over windows with their thresholds, the alarm states, the
CUSUM paths, the quarantined windows, and the lead's logged actions (STATISTICS.md §7).

Two window definitions: the weekly windows the monitor reports for reading (the README's
week-by-week story) and the alarm windows (the last 500 labels, step 100) that the gates read
and the quarantine is computed from. Acknowledging an alarm and lifting a quarantine name an
alarm window, so those actions are offered in the alarm-window view only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.errors import UserError
from reviewdesk.services import monitor as monitor_service
from reviewdesk.services.dashboards import HUMAN_POPULATION, DashboardData, PopulationSeries
from reviewdesk.services.project import Project
from reviewdesk.ui.dashboards.monitor_actions import WhyDialog
from reviewdesk.ui.dashboards.plot_kit import ChartCard
from reviewdesk.ui.dashboards.plots import Reference, Series, StateStrip, TimeSeriesPlot
from reviewdesk.ui.dashboards.tab_base import DashboardTab, minute
from reviewdesk.ui.dashboards.tables import Column, TableCard
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import role_label

WINDOW_VIEWS = (
    ("dashboard", "Weekly (ISO weeks)"),
    ("alarms", "Alarm windows (500 labels, step 100)"),
)
STATE_ROWS = (
    "Homogenization alarm",
    "Drift alarm",
    "H1 anchor disagreement",
    "H2 tie collapse",
    "H3 judge capture",
    "H4 conformity",
    "H5 style dependence",
    "Quarantined",
)
ALARM_SPANS = (("homogenization", "danger", 45), ("drift", "warning", 70))
FIRES = {1.0: "fires", 0.0: "quiet"}
CUSUM_WORDS = {
    "h1_disagreement": "H1 anchor disagreement",
    "h2_anchor_tie_rate": "H2 anchor ties",
    "h5_beta_pos_up": "H5 position β ↑",
    "h5_beta_pos_down": "H5 position β ↓",
}


def cusum_label(key: str) -> str:
    """``h3_specificity:judge-x`` → ``H3 judge-x``: short enough for a legend."""
    if key.startswith("h3_specificity:"):
        return f"H3 {key.split(':', 1)[1]}"
    return CUSUM_WORDS.get(key, key)


def _state(value: float) -> str:
    return FIRES.get(value, "—") if math.isfinite(value) else "—"


def _x_of(series: PopulationSeries, view: str) -> list[float]:
    """Weekly windows at their middle; count windows at their last label."""
    if view == "dashboard":
        return [(a + b) / 2.0 for a, b in zip(series.window_start, series.window_end, strict=True)]
    return list(series.window_end)


def _edges(series: PopulationSeries, view: str) -> list[float]:
    """Tile boundaries for the state strip (no overlap, even for overlapping count windows)."""
    if not series.window_ids:
        return []
    if view == "dashboard":
        return [*series.window_start, series.window_end[-1]]
    x = list(series.window_end)
    if len(x) == 1:
        return [series.window_start[0], x[0]]
    mids = [(a + b) / 2.0 for a, b in itertools.pairwise(x)]
    return [x[0] - (mids[0] - x[0]), *mids, x[-1] + (x[-1] - mids[-1])]


class HomogenizationTab(DashboardTab):
    title = "Homogenization"
    refresh_requested = Signal()

    def __init__(self, ops: Ops, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.project = project
        self.view = "dashboard"
        self.population = HUMAN_POPULATION
        controls = QHBoxLayout()
        controls.setSpacing(8)
        controls.addWidget(QLabel("Population"))
        self.population_combo = QComboBox()
        self.population_combo.setMinimumWidth(200)
        self.population_combo.currentIndexChanged.connect(self._on_choice)
        controls.addWidget(self.population_combo)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Windows"))
        self.view_combo = QComboBox()
        for key, words in WINDOW_VIEWS:
            self.view_combo.addItem(words, key)
        self.view_combo.currentIndexChanged.connect(self._on_choice)
        controls.addWidget(self.view_combo)
        controls.addStretch(1)
        self.baseline_label = role_label("", "muted")
        controls.addWidget(self.baseline_label)

        self.panels_card = self.chart(ChartCard("Indicators H1–H5 and CUSUM"))
        self.panels_card.setMinimumHeight(640)
        self.strip_card = self.chart(
            ChartCard(
                "Alarm state by window",
                "Composite alarms, the indicators that feed them, and the windows whose labels "
                "are quarantined (they enter no estimate until fresh reviewers relabel).",
            )
        )
        self.strip_card.setMinimumHeight(260)
        self.strip = StateStrip(self.strip_card, 0, 0, rows=STATE_ROWS)
        self.window_table = self.table(
            TableCard(
                "Windows",
                (
                    Column("Window"),
                    Column("From"),
                    Column("To"),
                    Column("Labels", "int"),
                    Column("Homog.", tip="Homogenization alarm"),
                    Column("Drift"),
                    Column("H1"),
                    Column("H2"),
                    Column("H3"),
                    Column("H4"),
                    Column("H5"),
                    Column("Quarantined", "bool"),
                    Column("Named reviewers", stretch=True),
                    Column("Status", "status"),
                ),
                ops,
                file_stem="monitor-windows",
            )
        )
        self.window_table.view.selectionModel().selectionChanged.connect(self._update_actions)
        actions = QHBoxLayout()
        self.ack_button = QPushButton("Acknowledge alarm…")
        self.ack_button.clicked.connect(self.acknowledge)
        self.lift_button = QPushButton("Lift quarantine…")
        self.lift_button.clicked.connect(self.lift)
        self.freeze_button = QPushButton("Freeze baseline…")
        self.freeze_button.clicked.connect(self.freeze)
        self.action_hint = role_label("", "muted")
        self.action_hint.setWordWrap(True)
        for button in (self.ack_button, self.lift_button, self.freeze_button):
            actions.addWidget(button)
        actions.addWidget(self.action_hint, 1)
        self.window_table.setMinimumHeight(300)
        # Six panels, the state strip and the window table do not fit a 800-pixel screen at
        # a readable size: the tab scrolls, with the controls kept above the scroll area.
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 6, 0)
        content_layout.setSpacing(10)
        content_layout.addWidget(self.panels_card)
        content_layout.addWidget(self.strip_card)
        content_layout.addWidget(self.window_table)
        content_layout.addLayout(actions)
        scroll = QScrollArea()
        scroll.setObjectName("monitorScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        self.scroll_area = scroll
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 10)
        outer.setSpacing(8)
        outer.addLayout(controls)
        outer.addWidget(scroll, 1)
        self._panel_key: tuple[object, ...] | None = None
        self.panels: dict[str, TimeSeriesPlot] = {}
        self._updating = False
        self._update_actions()

    # ---- panels (rebuilt only when the set of judges or CUSUM statistics changes)

    def _build_panels(self, series: PopulationSeries, thresholds_key: tuple[float, ...]) -> None:
        judges = tuple(
            sorted(k.split(":", 1)[1] for k in series.columns if k.startswith("h3_kappa_gain:"))
        )
        cusum = tuple(sorted(series.cusum))
        key = (judges, cusum, thresholds_key)
        if key == self._panel_key:
            return
        self._panel_key = key
        self.panels_card.reset()
        th = series.thresholds
        spec = {
            "H1": {
                "title": "H1 anchor disagreement − baseline",
                "y_label": "D_w − D₀",
                "series": [Series("h1_diff", "D_w − D₀", 0)],
                "references": [Reference(th.get("h1_diff", -0.1), "fires below", "danger")],
            },
            "H2": {
                "title": "H2 anchor tie rate − baseline",
                "y_label": "τ_w − τ₀",
                "series": [Series("h2_tie_diff", "τ_w − τ₀", 1)],
                "references": [Reference(th.get("h2_tie_diff", -0.05), "fires below", "danger")],
            },
            "H3": {
                "title": "H3 judge capture: κ gain",
                "y_label": "κ_HJ,w − κ_HJ,0",
                "series": [Series(f"h3_kappa_gain:{j}", j, k + 2) for k, j in enumerate(judges)],
                "references": [Reference(th.get("h3_kappa_gain", 0.1), "fires above", "danger")],
            },
            "H4": {
                "title": "H4 consensus conformity",
                "y_label": "ā_w",
                "series": [Series("h4_conformity", "ā_w", 3)],
                "references": [],
            },
            "H5": {
                "title": "H5 length dependence β_len",
                "y_label": "β_len",
                "series": [Series("h5_beta_len", "β_len", 4)],
                "references": [],
            },
            "CUSUM": {
                "title": "CUSUM paths",
                "y_label": "S_w",
                "series": [
                    Series(f"cusum:{c}", cusum_label(c), k, band=False) for k, c in enumerate(cusum)
                ],
                "references": [Reference(th.get("cusum_h", 5.0), "alarm above h", "danger")],
            },
        }
        self.panels = {}
        for n, (name, opts) in enumerate(spec.items()):
            row, col = divmod(n, 3)
            self.panels[name] = TimeSeriesPlot(
                self.panels_card,
                2 * row,
                col,
                title=str(opts["title"]),
                y_label=str(opts["y_label"]),
                series=opts["series"],  # type: ignore[arg-type]
                references=opts["references"],  # type: ignore[arg-type]
                spans=ALARM_SPANS,
                legend=name in ("H3", "CUSUM"),
                baseline_lines=name in ("H4", "H5"),
                legend_columns=2,
            )
        # one legend row below the first row for the alarm colors is implied by the caption

    # ---- data

    def show_data(self, data: DashboardData) -> None:
        self._updating = True
        pops = sorted(data.monitor.dashboard, key=lambda p: (p != HUMAN_POPULATION, p))
        current = self.population_combo.currentData() or HUMAN_POPULATION
        self.population_combo.clear()
        for pop in pops:
            words = "Humans" if pop == HUMAN_POPULATION else pop.replace("judge:", "Judge ")
            self.population_combo.addItem(words, pop)
        if pops:
            self.population_combo.setCurrentIndex(max(0, self.population_combo.findData(current)))
        self._updating = False
        self._show()

    def _on_choice(self) -> None:
        if not self._updating and self.data is not None:
            self._show()

    def select(self, view: str, population: str = HUMAN_POPULATION) -> None:
        """Switch the view (``dashboard``/``alarms``) and population (tests, screenshots)."""
        self.ensure_rendered()
        self._updating = True
        self.view_combo.setCurrentIndex(max(0, self.view_combo.findData(view)))
        index = self.population_combo.findData(population)
        if index >= 0:
            self.population_combo.setCurrentIndex(index)
        self._updating = False
        self._show()

    def current_series(self) -> PopulationSeries | None:
        if self.data is None:
            return None
        return self.data.monitor_series(self.view, self.population)

    def _show(self) -> None:
        data = self.data
        if data is None:
            return
        self.view = self.view_combo.currentData() or "dashboard"
        self.population = self.population_combo.currentData() or HUMAN_POPULATION
        series = self.current_series()
        self._update_actions()
        if series is None or not series.window_ids:
            message = (
                "Insufficient data: the monitor has no window yet. Weekly windows need labels "
                "with a known display side; alarm windows need 500 human labels each."
            )
            self.panels_card.set_empty(message)
            self.strip_card.set_empty(message)
            self.window_table.set_rows([])
            self.baseline_label.setText("")
            return
        base = series.baseline
        ids = base.window_ids
        if not ids:
            where = "not yet"
        elif len(ids) <= 2:
            where = ", ".join(ids)
        else:
            where = f"{ids[0]} … {ids[-1]} ({len(ids)} windows)"
        self.baseline_label.setText(
            f"Baseline: {where}"
            + (" · frozen" if base.frozen else " · not frozen")
            + ("" if base.status == "ok" or not ids else f" — {base.status.replace('_', ' ')}")
        )
        self.baseline_label.setToolTip(base.reason or "")
        self._build_panels(series, tuple(sorted(series.thresholds.values())))
        means = data.monitor_baseline_means.get(self.view, {}).get(self.population, {})
        x = _x_of(series, self.view)
        origin = series.window_start[0]
        homog = [k for k, v in enumerate(series.homogenization_alarm) if v == 1.0]
        drift = [k for k, v in enumerate(series.drift_alarm) if v == 1.0]
        spans = {
            "homogenization": (
                [series.window_start[k] for k in homog],
                [series.window_end[k] for k in homog],
            ),
            "drift": (
                [series.window_start[k] for k in drift],
                [series.window_end[k] for k in drift],
            ),
        }
        values: dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]] = {
            k: (c.estimate, c.ci_low, c.ci_high) for k, c in series.columns.items()
        }
        for key, path in series.cusum.items():
            values[f"cusum:{key}"] = (path, (), ())
        h4_gain = series.thresholds.get("h4_conformity_gain", 0.1)
        baselines = {
            "h4_conformity": means.get("h4_conformity", math.nan) + h4_gain,
            "h5_beta_len": means.get("h5_beta_len", math.nan),
        }
        x_range = (series.window_start[0], series.window_end[-1])
        drawn = False
        for plot in self.panels.values():
            ok = plot.set_data(
                x, values, origin=origin, baselines=baselines, spans=spans, x_range=x_range
            )
            drawn = drawn or ok
        if drawn:
            self.panels_card.set_filled()
            self.panels_card.set_caption(
                "95% CIs as bands. Dotted: the firing threshold (STATISTICS.md §7.3). Dashed: "
                f"H4 at baseline + {h4_gain:g} (fires at or above it once the reviewers' spread "
                "has halved); H5 at the baseline windows' β (fires when the CI's low end is "
                f"more than {series.thresholds.get('h5_beta_len_gain', 0.25):g} above the "
                "baseline fit). Shaded red: homogenization alarm; amber: drift alarm. An empty "
                "panel could not be evaluated (anchors need ≥ 50 items with ≥ 3 labels)."
            )
        else:
            self.panels_card.set_empty(
                "Insufficient data: no indicator could be evaluated in any window "
                f"({series.alarm_status[-1].replace('_', ' ')})."
            )
        states = {
            "Homogenization alarm": series.homogenization_alarm,
            "Drift alarm": series.drift_alarm,
            "H1 anchor disagreement": series.components.get("H1", ()),
            "H2 tie collapse": series.components.get("H2", ()),
            "H3 judge capture": series.components.get("H3", ()),
            "H4 conformity": series.components.get("H4", ()),
            "H5 style dependence": series.components.get("H5", ()),
            "Quarantined": tuple(
                1.0 if q else (0.0 if math.isfinite(a) else math.nan)
                for q, a in zip(series.quarantined, series.homogenization_alarm, strict=True)
            ),
        }
        if any(math.isfinite(v) for row in states.values() for v in row):
            self.strip_card.set_filled()
            self.strip.set_data(_edges(series, self.view), states, origin=origin)
        else:
            self.strip_card.set_empty(
                "Not evaluable yet: no window has the labels, anchors and baseline the alarms "
                f"need ({series.alarm_status[-1].replace('_', ' ')})."
            )
        rows = []
        tints: list[str | None] = []
        for k, wid in enumerate(series.window_ids):
            comps = [
                _state(series.components.get(h, ())[k]) if series.components.get(h) else "—"
                for h in ("H1", "H2", "H3", "H4", "H5")
            ]
            rows.append(
                (
                    wid,
                    minute(series.window_start[k]),
                    minute(series.window_end[k]),
                    series.n_labels[k],
                    _state(series.homogenization_alarm[k]),
                    _state(series.drift_alarm[k]),
                    *comps,
                    series.quarantined[k],
                    ", ".join(series.named_labelers[k]),
                    "baseline" if series.in_baseline[k] else series.alarm_status[k],
                )
            )
            if series.quarantined[k]:
                tints.append("danger_soft")
            elif series.drift_alarm[k] == 1.0:
                tints.append("warning_soft")
            else:
                tints.append(None)
        self.window_table.set_rows(rows, tints=tints)
        self._update_actions()

    # ---- actions

    def selected_window(self) -> tuple[int, str] | None:
        rows = self.window_table.selected_rows()
        series = self.current_series()
        if not rows or series is None or rows[0] >= len(series.window_ids):
            return None
        return rows[0], series.window_ids[rows[0]]

    def _update_actions(self, *_args: object) -> None:
        alarms_view = self.view == "alarms"
        chosen = self.selected_window()
        series = self.current_series()
        quarantined = bool(chosen and series and series.quarantined[chosen[0]])
        self.ack_button.setEnabled(
            alarms_view and chosen is not None and bool(series and series.cusum)
        )
        self.lift_button.setEnabled(alarms_view and quarantined)
        self.freeze_button.setEnabled(self.data is not None)
        if not alarms_view:
            self.action_hint.setText(
                "Alarms are acknowledged and quarantines lifted on the alarm windows: switch "
                "“Windows” to see them."
            )
        elif chosen is None:
            self.action_hint.setText(
                "Select a window to acknowledge its alarm or lift its "
                "quarantine. Each action is logged with who and why."
            )
        else:
            self.action_hint.setText(f"Selected: {chosen[1]}")

    def _run(self, fn: object, *args: object, done_text: str, **kwargs: object) -> None:
        def done(_result: object) -> None:
            self._say(done_text)
            self.refresh_requested.emit()

        def failed(error: BaseException) -> bool:
            if isinstance(error, UserError):
                QMessageBox.warning(self, "Monitor", str(error))
                return True
            return False

        self.ops.call(
            fn,  # type: ignore[arg-type]
            *args,
            on_done=done,
            on_error=failed,
            changes=Changes(settings=True),
            owner=self,
            **kwargs,
        )

    def acknowledge(self) -> WhyDialog | None:
        chosen = self.selected_window()
        series = self.current_series()
        if chosen is None or series is None:
            return None
        dialog = WhyDialog(
            "Acknowledge alarm",
            f"Clears the latched CUSUM of the chosen statistic from window {chosen[1]} on "
            f"({self.population}). The alarm is recorded as acknowledged, by whom and why.",
            ok_text="Acknowledge",
            statistics=sorted(series.cusum),
            parent=self,
        )
        population = self.population

        def accepted() -> None:
            self._run(
                monitor_service.acknowledge_alarm,
                self.project,
                population,
                dialog.chosen_statistic(),
                chosen[1],
                actor=dialog.who(),
                why=dialog.reason(),
                done_text=f"Acknowledged {dialog.chosen_statistic()} from {chosen[1]}.",
            )

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def lift(self) -> WhyDialog | None:
        chosen = self.selected_window()
        if chosen is None:
            return None
        dialog = WhyDialog(
            "Lift quarantine",
            f"The labels of window {chosen[1]} ({self.population}) will enter estimates again. "
            "This is recorded with who and why, and listed in every later export "
            "(config.quarantine_overrides).",
            ok_text="Lift quarantine",
            parent=self,
        )
        population = self.population

        def accepted() -> None:
            self._run(
                monitor_service.lift_quarantine,
                self.project,
                population,
                chosen[1],
                actor=dialog.who(),
                why=dialog.reason(),
                done_text=f"Quarantine of {chosen[1]} lifted.",
            )

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def freeze(self) -> WhyDialog | None:
        dialog = WhyDialog(
            "Freeze baseline",
            "Freezes the current baseline windows of every population and the style-feature "
            "standardization, so later windows are always compared with them. Re-freezing "
            "makes a new version; the audit log keeps the old one.",
            ok_text="Freeze baseline",
            need_reason=False,
            parent=self,
        )

        def accepted() -> None:
            self._run(
                monitor_service.freeze_baseline,
                self.project,
                actor=dialog.who(),
                done_text="Baseline frozen.",
            )

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog
