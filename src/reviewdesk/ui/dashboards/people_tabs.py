"""The Agreement, Reviewers and Judges tabs: who agrees with whom, and how that moves."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QWidget

from reviewdesk.services.dashboards import HUMAN_POPULATION, MIN_WINDOW_LABELS, DashboardData
from reviewdesk.ui.dashboards.plot_kit import ChartCard
from reviewdesk.ui.dashboards.plots import (
    CategoryPlot,
    HeatmapPlot,
    Reference,
    Series,
    TimeSeriesPlot,
)
from reviewdesk.ui.dashboards.tab_base import (
    NO_LABELS,
    NOT_OK_NOTICE,
    DashboardTab,
    all_not_ok,
    day,
    interval,
    ok_only,
)
from reviewdesk.ui.dashboards.tables import Column, TableCard
from reviewdesk.ui.ops import Ops

AGREEMENT_SERIES = (
    Series("alpha_ordinal", "α ordinal", 0),
    Series("alpha_nominal", "α nominal", 1),
    Series("gwet_ac1", "Gwet's AC1", 2),
)


def _weeks_x(starts: tuple[float, ...], ends: tuple[float, ...]) -> list[float]:
    return [(a + b) / 2.0 for a, b in zip(starts, ends, strict=True)]


def _quarantine_spans(data: DashboardData) -> dict[str, tuple[list[float], list[float]]]:
    """Weekly windows the homogenization alarm quarantines, and the baseline weeks."""
    human = data.monitor.dashboard.get(HUMAN_POPULATION)
    if human is None:
        return {}
    q = [k for k, flag in enumerate(human.quarantined) if flag]
    b = [k for k, flag in enumerate(human.in_baseline) if flag]
    return {
        "quarantined": ([human.window_start[k] for k in q], [human.window_end[k] for k in q]),
        "baseline": ([human.window_start[k] for k in b], [human.window_end[k] for k in b]),
    }


class AgreementTab(DashboardTab):
    title = "Agreement"

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.time_card = self.chart(
            ChartCard(
                "Agreement over weekly windows",
                "Human labels on ordinary items and anchors (controls left out), by ISO week. "
                "Bands: 95% item-bootstrap CIs; dashed lines: the baseline weeks pooled; "
                "grey: baseline weeks; red: weeks in homogenization alarm (quarantined).",
            )
        )
        self.time_plot = TimeSeriesPlot(
            self.time_card,
            0,
            0,
            title=None,
            y_label="agreement (coefficient)",
            series=AGREEMENT_SERIES,
            spans=(("baseline", "border", 110), ("quarantined", "danger", 45)),
        )
        self.slice_card = self.chart(
            ChartCard(
                "Agreement by slice",
                "Whole project and each slice, ordinary items only (as exported). "
                "Hollow: the record is not ok (e.g. quarantined).",
            )
        )
        self.slice_plot = CategoryPlot(
            self.slice_card,
            0,
            0,
            title=None,
            x_label="agreement (coefficient)",
            series=(Series("alpha_ordinal", "α ordinal", 0), Series("gwet_ac1", "Gwet's AC1", 2)),
            references=(Reference(0.0, "chance", "muted"),),
        )
        self.week_table = self.table(
            TableCard(
                "Weekly windows",
                (
                    Column("Window"),
                    Column("From", tip="Monday of the ISO week (UTC)"),
                    Column("Labels", "int"),
                    Column("Items", "int"),
                    Column("α ordinal", "interval", digits=2),
                    Column("α nominal", "interval", digits=2),
                    Column("Gwet's AC1", "interval", digits=2),
                    Column("Monitor", "status"),
                ),
                ops,
                file_stem="agreement-weekly",
            )
        )
        self.slice_table = self.table(
            TableCard(
                "By slice",
                (
                    Column("Slice"),
                    Column("α ordinal", "interval", digits=2),
                    Column("α nominal", "interval", digits=2),
                    Column("Gwet's AC1", "interval", digits=2),
                    Column("Decisive % agree", "interval", digits=2),
                    Column("Items", "int"),
                    Column("Status", "status"),
                ),
                ops,
                file_stem="agreement-by-slice",
            )
        )
        self.stack_rows(
            [
                self.row([self.time_card, self.slice_card], [3, 2]),
                self.table_tabs([self.week_table, self.slice_table]),
            ],
            [470, 300],
        )

    def show_data(self, data: DashboardData) -> None:
        a = data.agreement
        if not a.window_ids:
            self.time_card.set_empty(
                NO_LABELS
                if data.n_labels == 0
                else "Insufficient data: no labelled weeks on watched items."
            )
        elif not a.defined:
            self.time_card.set_empty(
                f"Insufficient data: no week has {MIN_WINDOW_LABELS} labels on watched items "
                "with a defined agreement (STATISTICS.md §7.2; agreement needs items with at "
                "least two labels and more than one value). The table lists what there is."
            )
        else:
            self.time_card.set_filled()
            values = {k: ok_only(c) for k, c in a.columns.items()}
            spans = _quarantine_spans(data)
            self.time_plot.set_data(
                _weeks_x(a.window_start, a.window_end),
                values,
                origin=a.window_start[0],
                baselines=a.baseline,
                spans=spans,
                x_range=(a.window_start[0], a.window_end[-1]),
            )
        by = data.agreement_by_slice
        ordinal = by.get("alpha_ordinal")
        if ordinal is None or not ordinal.labels:
            self.slice_card.set_empty(
                "Agreement per slice is not available." if data.notes else NO_LABELS
            )
        elif not ordinal.defined:
            self.slice_card.set_empty("Insufficient data: α is undefined in every slice.")
        else:
            self.slice_card.set_filled()
            self.slice_plot.set_data(ordinal.labels, by)
            self.slice_card.set_notice(
                NOT_OK_NOTICE if all_not_ok([ordinal, by["gwet_ac1"]]) else None
            )
        human = data.monitor.dashboard.get(HUMAN_POPULATION)
        rows = []
        tints: list[str | None] = []
        for k, wid in enumerate(a.window_ids):
            state = "ok"
            tint = None
            if human is not None and wid in human.window_ids:
                m = human.window_ids.index(wid)
                if human.quarantined[m]:
                    state, tint = "quarantined", "danger_soft"
                elif human.in_baseline[m]:
                    state = "baseline"
                elif human.drift_alarm[m] == 1.0:
                    state, tint = "drift alarm", "warning_soft"
            cols = a.columns
            rows.append(
                (
                    wid,
                    day(a.window_start[k]),
                    a.n_labels[k],
                    a.n_items[k],
                    *(
                        (cols[m].estimate[k], cols[m].ci_low[k], cols[m].ci_high[k])
                        for m in ("alpha_ordinal", "alpha_nominal", "gwet_ac1")
                    ),
                    state,
                )
            )
            tints.append(tint)
        self.week_table.set_rows(rows, tints=tints)
        slice_rows = []
        tips = []
        if ordinal is not None:
            pct = by.get("pct_agreement_decisive")
            nominal = by["alpha_nominal"]
            ac1 = by["gwet_ac1"]
            for k, label in enumerate(ordinal.labels):
                slice_rows.append(
                    (
                        label,
                        interval(ordinal, k),
                        interval(nominal, k),
                        interval(ac1, k),
                        interval(pct, k) if pct is not None else None,
                        ordinal.n[k],
                        ordinal.status[k],
                    )
                )
                tips.append(ordinal.reason[k])
        self.slice_table.set_rows(slice_rows, tips)


class ReviewersTab(DashboardTab):
    title = "Reviewers"

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.matrix_card = self.chart(
            ChartCard(
                "Reviewer × reviewer agreement",
                "Cohen's κ on the ordinary items both reviewers labelled (columns numbered as "
                "the rows); blank: fewer than 10 shared items.",
            )
        )
        self.heatmap = HeatmapPlot(self.matrix_card, bar_label="Cohen's κ")
        self.bias_card = self.chart(
            ChartCard(
                "Position bias and ties",
                "P(chose left | decisive) with Wilson 95% CIs — about 0.5 without a side "
                "preference; tie rate on ordinary items. Hollow: fewer than 30 labels.",
            )
        )
        self.bias_plot = CategoryPlot(
            self.bias_card,
            0,
            0,
            title="P(left | decisive)",
            x_label="share of decisive labels choosing left",
            series=(Series("p_left", "P(left | decisive)", 0),),
            references=(Reference(0.5, "0.5", "muted"),),
            x_range=(0.25, 0.75),
            legend=False,
            max_chars=16,
        )
        self.tie_plot = CategoryPlot(
            self.bias_card,
            0,
            1,
            title="Tie rate",
            x_label="share of labels that are ties",
            series=(Series("tie_rate", "tie rate", 1),),
            x_range=(0.0, None),
            legend=False,
            max_chars=16,
        )
        self.reviewer_table = self.table(
            TableCard(
                "Reviewers",
                (
                    Column("Reviewer"),
                    Column("Labels", "int", tip="Current labels on ordinary items"),
                    Column("Decisive", "int", tip="Labels choosing a side, display side known"),
                    Column("P(left | decisive)", "interval", digits=2),
                    Column("Side bias", "bool", tip="n ≥ 30 and the Wilson CI excludes 0.5"),
                    Column("Tie rate", "interval", digits=2),
                    Column("Both bad", "pct", digits=3),
                    Column(
                        "Labels / hour",
                        "float",
                        digits=1,
                        tip="Labels per active hour; gaps over 30 minutes count as breaks",
                    ),
                    Column("Active hours", "float", digits=1),
                    Column("Median dwell (s)", "float", digits=1),
                ),
                ops,
                file_stem="reviewers",
            )
        )
        self.pair_table = self.table(
            TableCard(
                "Reviewer pairs",
                (
                    Column("Reviewer A"),
                    Column("Reviewer B"),
                    Column("Shared items", "int"),
                    Column("Agreement", "pct", digits=3),
                    Column("Cohen's κ", "float"),
                ),
                ops,
                file_stem="reviewer-pairs",
            )
        )
        self.stack_rows(
            [
                self.row([self.matrix_card, self.bias_card], [1, 1]),
                self.table_tabs([self.reviewer_table, self.pair_table]),
            ],
            [470, 300],
        )

    def show_data(self, data: DashboardData) -> None:
        r = data.reviewers
        pw = data.pairwise
        if not pw.names:
            self.matrix_card.set_empty(NO_LABELS)
        elif not pw.defined:
            self.matrix_card.set_empty(
                "Insufficient data: no two reviewers share 10 or more labelled items."
            )
        else:
            self.matrix_card.set_filled()
            self.heatmap.set_data(pw.names, pw.kappa)
        if not r.names:
            self.bias_card.set_empty(NO_LABELS)
        elif not (r.p_left.defined or r.tie_rate.defined):
            self.bias_card.set_empty("Insufficient data: no reviewer has labels on ordinary items.")
        else:
            self.bias_card.set_filled()
            self.bias_plot.set_data(r.names, {"p_left": r.p_left})
            self.tie_plot.set_data(r.names, {"tie_rate": r.tie_rate})
            self.bias_card.set_notice(NOT_OK_NOTICE if all_not_ok([r.p_left, r.tie_rate]) else None)
        rows = []
        tips = []
        tints: list[str | None] = []
        for k, name in enumerate(r.names):
            rows.append(
                (
                    name,
                    r.n_labels[k],
                    r.n_decisive[k],
                    interval(r.p_left, k),
                    r.flagged[k],
                    interval(r.tie_rate, k),
                    r.both_bad_rate[k],
                    r.labels_per_hour[k],
                    r.active_hours[k],
                    r.median_dwell_s[k],
                )
            )
            tips.append("; ".join(x for x in (r.p_left.reason[k], r.tie_rate.reason[k]) if x))
            tints.append("warning_soft" if r.flagged[k] else None)
        self.reviewer_table.set_rows(rows, tips, tints)
        pairs = []
        for i, a in enumerate(pw.names):
            for j in range(i + 1, len(pw.names)):
                shared = pw.shared[i][j]
                if shared:
                    pairs.append((a, pw.names[j], shared, pw.agreement[i][j], pw.kappa[i][j]))
        self.pair_table.set_rows(pairs)


class JudgesTab(DashboardTab):
    title = "Judges"

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.kappa_card = self.chart(
            ChartCard(
                "Judge versus humans over time",
                "Cohen's κ of each LLM judge's merged verdict with the human labels, per week; "
                "grey: κ of the humans with each other on the same items. Red: quarantined "
                "weeks.",
            )
        )
        self.kappa_plot: TimeSeriesPlot | None = None
        self.parity_card = self.chart(
            ChartCard(
                "Human-parity ratio over time",
                "κ judge–human ÷ κ human–human: 1 means the judge agrees with the humans as "
                "well as they agree with each other; far above 1 suggests capture (H3).",
            )
        )
        self.parity_plot: TimeSeriesPlot | None = None
        self.flip_card = self.chart(
            ChartCard(
                "Order effects (whole project)",
                "Flip rate: share of items whose verdict changes with the display order. "
                "P(left | decisive) of single-order verdicts: 0.5 without a side preference.",
            )
        )
        self.flip_plot = CategoryPlot(
            self.flip_card,
            0,
            0,
            title="Flip rate",
            x_label="share of items",
            series=(Series("judge_flip_rate", "flip rate", 3),),
            x_range=(0.0, None),
            legend=False,
            max_chars=18,
        )
        self.left_plot = CategoryPlot(
            self.flip_card,
            0,
            1,
            title="P(left | decisive)",
            x_label="share choosing left",
            series=(Series("p_left_decisive", "P(left | decisive)", 5),),
            references=(Reference(0.5, "0.5", "muted"),),
            x_range=(0.25, 0.75),
            legend=False,
            max_chars=18,
        )
        self.judge_table = self.table(
            TableCard(
                "Judges (whole project)",
                (
                    Column("Judge"),
                    Column("κ judge–human", "interval", digits=2),
                    Column("Parity ratio", "interval", digits=2),
                    Column("P(left | decisive)", "interval", digits=2),
                    Column("Flip rate", "interval", digits=2),
                    Column("Items", "int"),
                    Column("Status", "status"),
                ),
                ops,
                file_stem="judges",
            )
        )
        self.judge_names: tuple[str, ...] = ()
        self.stack_rows(
            [
                self.row([self.kappa_card, self.parity_card], [1, 1]),
                self.row([self.flip_card, self.judge_table], [2, 3]),
            ],
            [430, 330],
        )

    def _build_time_plots(self, names: tuple[str, ...]) -> None:
        """The curves depend on the project's judges: built once per set of judges."""
        if names == self.judge_names and self.kappa_plot is not None:
            return
        for card in (self.kappa_card, self.parity_card):
            card.reset()
        self.judge_names = names
        kappa_series = [Series(f"kappa_jh:{n}", n, k) for k, n in enumerate(names)]
        if names:
            kappa_series.append(
                Series(f"kappa_hh:{names[0]}", "humans with each other", 6, dashed=True, band=False)
            )
        self.kappa_plot = TimeSeriesPlot(
            self.kappa_card,
            0,
            0,
            title=None,
            y_label="Cohen's κ",
            series=kappa_series,
            spans=(("quarantined", "danger", 45),),
            baseline_lines=False,
        )
        self.parity_plot = TimeSeriesPlot(
            self.parity_card,
            0,
            0,
            title=None,
            y_label="parity ratio",
            series=[Series(f"parity_ratio:{n}", n, k) for k, n in enumerate(names)],
            references=(Reference(1.0, "parity", "muted"),),
            spans=(("quarantined", "danger", 45),),
            baseline_lines=False,
        )

    def show_data(self, data: DashboardData) -> None:
        w = data.judges_over_time
        names = tuple(sorted(k.split(":", 1)[1] for k in w.columns if k.startswith("kappa_jh:")))
        self._build_time_plots(names)
        assert self.kappa_plot is not None
        assert self.parity_plot is not None
        spans = {"quarantined": _quarantine_spans(data).get("quarantined", ([], []))}
        if not names:
            message = NO_LABELS if data.n_labels == 0 else "No LLM judge in this project."
            self.kappa_card.set_empty(message)
            self.parity_card.set_empty(message)
        elif not w.window_ids or not w.defined:
            message = (
                f"Insufficient data: judge–human κ needs weeks with {MIN_WINDOW_LABELS} labels "
                "on items that carry a judge verdict and at least two human labels."
            )
            self.kappa_card.set_empty(message)
            self.parity_card.set_empty(message)
        else:
            x = _weeks_x(w.window_start, w.window_end)
            values = {k: ok_only(c) for k, c in w.columns.items()}
            x_range = (w.window_start[0], w.window_end[-1])
            self.kappa_card.set_filled()
            self.kappa_plot.set_data(
                x, values, origin=w.window_start[0], spans=spans, x_range=x_range
            )
            if any(
                math.isfinite(v)
                for k, c in values.items()
                if k.startswith("parity_ratio:")
                for v in c[0]
            ):
                self.parity_card.set_filled()
                self.parity_plot.set_data(
                    x, values, origin=w.window_start[0], spans=spans, x_range=x_range
                )
            else:
                self.parity_card.set_empty(
                    "Undefined: the parity ratio needs κ human–human above 0 in a week."
                )
        j = data.judges
        flip = j.get("judge_flip_rate")
        left = j.get("p_left_decisive")
        if flip is None or not flip.labels:
            self.flip_card.set_empty(
                "No judge records (see the note above)."
                if data.notes
                else "No LLM judge judged items in both display orders."
            )
        elif not (flip.defined or (left is not None and left.defined)):
            self.flip_card.set_empty("Insufficient data: no judge saw items in both orders.")
        else:
            self.flip_card.set_filled()
            self.flip_plot.set_data(flip.labels, {"judge_flip_rate": flip})
            if left is not None:
                self.left_plot.set_data(left.labels, {"p_left_decisive": left})
            self.flip_card.set_notice(
                NOT_OK_NOTICE if all_not_ok([flip, *([left] if left else [])]) else None
            )
        rows = []
        tips = []
        kappa = j.get("judge_human_kappa")
        parity = j.get("human_parity_ratio")
        for k, name in enumerate(data.judge_names):
            if kappa is None or parity is None or left is None or flip is None:
                break
            rows.append(
                (
                    name,
                    interval(kappa, k),
                    interval(parity, k),
                    interval(left, k),
                    interval(flip, k),
                    kappa.n[k],
                    kappa.status[k],
                )
            )
            tips.append(kappa.reason[k])
        self.judge_table.set_rows(rows, tips)
