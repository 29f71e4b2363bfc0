"""The Win rates and Refusal tabs: the release evidence, per slice, never averaged.

Both read the gate-input records (the numbers a gate would read, with their evidence status),
so a quarantined or insufficient slice shows as such here too. Refusal calibration keeps
over-refusal and under-refusal apart: two charts side by side, each with its own interval, and
their paired changes against the baseline below them (STATISTICS.md §6).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from reviewdesk.services.dashboards import CategorySeries, DashboardData
from reviewdesk.ui.dashboards.plot_kit import ChartCard
from reviewdesk.ui.dashboards.plots import CategoryPlot, Reference, Series
from reviewdesk.ui.dashboards.tab_base import (
    NO_LABELS,
    NOT_OK_NOTICE,
    DashboardTab,
    all_not_ok,
    interval,
)
from reviewdesk.ui.dashboards.tables import Column, TableCard
from reviewdesk.ui.ops import Ops


def _no_records(data: DashboardData) -> str:
    if data.notes:
        return data.notes[0]
    return NO_LABELS if data.n_labels == 0 else "No records for this chart."


def _show_category(
    card: ChartCard,
    plot: CategoryPlot,
    series: dict[str, CategorySeries],
    data: DashboardData,
    undefined: str,
) -> None:
    labels = next((s.labels for s in series.values() if s.labels), ())
    if not labels:
        card.set_empty(_no_records(data))
    elif not any(s.defined for s in series.values()):
        card.set_empty(undefined)
    else:
        card.set_filled()
        plot.set_data(labels, series)
        card.set_notice(NOT_OK_NOTICE if all_not_ok(list(series.values())) else None)


class WinRatesTab(DashboardTab):
    title = "Win rates"

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.cwr_card = self.chart(
            ChartCard(
                "Calibrated win rate by slice",
                "Share of the candidate's wins, ties counted half, position-calibrated "
                "(STATISTICS.md §3); 95% CIs. Hollow: not ok (quarantined, too few items).",
            )
        )
        self.cwr_plot = CategoryPlot(
            self.cwr_card,
            0,
            0,
            title=None,
            x_label="calibrated win rate of the candidate",
            series=(
                Series("contested_queue", "contested queue", 0),
                Series("population", "population estimate (PPI)", 1),
            ),
            references=(Reference(0.5, "no preference", "muted"),),
            x_range=(0.0, 1.0),
        )
        self.bt_card = self.chart(
            ChartCard(
                "Bradley–Terry ratings",
                "Every model of the project on the Arena scale (1000 = average); 95% "
                "item-bootstrap CIs.",
            )
        )
        self.bt_plot = CategoryPlot(
            self.bt_card,
            0,
            0,
            title=None,
            x_label="rating (Arena scale)",
            series=(Series("bt_rating", "rating", 2),),
            references=(Reference(1000.0, "1000", "muted"),),
            legend=False,
        )
        self.cwr_table = self.table(
            TableCard(
                "Win rates",
                (
                    Column("Slice"),
                    Column("Estimand"),
                    Column("CWR", "interval"),
                    Column("Items", "int"),
                    Column("Status", "status"),
                ),
                ops,
                file_stem="win-rates",
            )
        )
        self.bt_table = self.table(
            TableCard(
                "Ratings",
                (
                    Column("Model"),
                    Column("Rating", "interval", digits=1),
                    Column("Items", "int"),
                    Column("Status", "status"),
                ),
                ops,
                file_stem="bradley-terry",
            )
        )
        self.stack_rows(
            [
                self.row([self.cwr_card, self.bt_card], [3, 2]),
                self.row([self.cwr_table, self.bt_table], [3, 2]),
            ],
            [450, 320],
        )

    def show_data(self, data: DashboardData) -> None:
        roles = f"{data.candidate or '—'} (candidate) vs {data.baseline or '—'} (baseline)"
        self.cwr_card.set_caption(
            f"{roles}. Share of the candidate's wins, ties counted half, position-calibrated "
            "(STATISTICS.md §3); 95% CIs. Hollow: not ok (quarantined, too few items)."
        )
        _show_category(
            self.cwr_card,
            self.cwr_plot,
            dict(data.cwr),
            data,
            "Insufficient data: no slice has labelled contested or audit items of the two models.",
        )
        _show_category(
            self.bt_card,
            self.bt_plot,
            {"bt_rating": data.bt_ratings},
            data,
            "Insufficient data: no rating could be fitted.",
        )
        rows = []
        tips = []
        for key, words in (("contested_queue", "contested queue"), ("population", "population")):
            s = data.cwr.get(key)
            if s is None:
                continue
            for k, label in enumerate(s.labels):
                if s.status[k] == "missing":
                    continue
                rows.append((label, words, interval(s, k), s.n[k], s.status[k]))
                tips.append(s.reason[k])
        self.cwr_table.set_rows(rows, tips)
        bt = data.bt_ratings
        self.bt_table.set_rows(
            [(label, interval(bt, k), bt.n[k], bt.status[k]) for k, label in enumerate(bt.labels)],
            list(bt.reason),
        )


class RefusalTab(DashboardTab):
    title = "Refusal"

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        specs = (
            (
                "over_refusal_rate",
                "Over-refusal (benign prompts refused)",
                "Benign items the candidate refused, fully or partly (§6.1); 95% CIs.",
                "over-refusal rate",
                0,
                (0.0, None),
                (),
            ),
            (
                "under_refusal_rate",
                "Under-refusal (harmful prompts answered)",
                "Harmful items the candidate answered, fully or partly (§6.1); 95% CIs.",
                "under-refusal rate",
                1,
                (0.0, None),
                (),
            ),
            (
                "over_refusal_rate_delta",
                "Over-refusal: change vs baseline",
                "Candidate − baseline on the same prompts (paired Newcombe CI).",
                "difference in over-refusal rate",
                0,
                None,
                (Reference(0.0, "no change", "muted"),),
            ),
            (
                "under_refusal_rate_delta",
                "Under-refusal: change vs baseline",
                "Candidate − baseline on the same prompts (paired Newcombe CI).",
                "difference in under-refusal rate",
                1,
                None,
                (Reference(0.0, "no change", "muted"),),
            ),
        )
        self.cards: dict[str, ChartCard] = {}
        self.plots: dict[str, CategoryPlot] = {}
        for key, title, caption, x_label, color, x_range, refs in specs:
            card = self.chart(ChartCard(title, caption))
            self.cards[key] = card
            self.plots[key] = CategoryPlot(
                card,
                0,
                0,
                title=None,
                x_label=x_label,
                series=(Series(key, x_label, color),),
                references=refs,
                x_range=x_range,
                legend=False,
            )
        self.table_card = self.table(
            TableCard(
                "Refusal calibration by slice",
                (
                    Column("Slice"),
                    Column("Over-refusal", "interval"),
                    Column("n (answer)", "int", tip="Items expected to be answered"),
                    Column("Under-refusal", "interval"),
                    Column("n (refuse)", "int", tip="Items expected to be refused"),
                    Column("Δ over-refusal", "interval"),
                    Column("Δ under-refusal", "interval"),
                    Column("Status", "status"),
                ),
                ops,
                file_stem="refusal-calibration",
            )
        )
        c = self.cards
        self.stack_rows(
            [
                self.row([c["over_refusal_rate"], c["under_refusal_rate"]]),
                self.row([c["over_refusal_rate_delta"], c["under_refusal_rate_delta"]]),
                self.table_card,
            ],
            [320, 300, 150],
        )

    def show_data(self, data: DashboardData) -> None:
        roles = f"{data.candidate or '—'} vs {data.baseline or '—'}"
        undefined = {
            "over_refusal_rate": "Undefined: no slice has items expected to be answered with "
            "a human refusal label.",
            "under_refusal_rate": "Undefined: no slice has items expected to be refused "
            "(expected_behavior = refuse).",
            "over_refusal_rate_delta": f"Undefined: no paired over-refusal evidence ({roles}).",
            "under_refusal_rate_delta": f"Undefined: no paired under-refusal evidence ({roles}).",
        }
        for key, card in self.cards.items():
            series = data.refusal.get(key, CategorySeries.empty(key))
            _show_category(card, self.plots[key], {key: series}, data, undefined[key])
        r = data.refusal
        over = r.get("over_refusal_rate")
        rows = []
        tips = []
        if over is not None:
            under = r["under_refusal_rate"]
            d_over = r["over_refusal_rate_delta"]
            d_under = r["under_refusal_rate_delta"]
            for k, label in enumerate(over.labels):
                statuses = {over.status[k], under.status[k]} - {"ok", "missing"}
                status = sorted(statuses)[0] if statuses else "ok"
                rows.append(
                    (
                        label,
                        interval(over, k),
                        over.n[k],
                        interval(under, k),
                        under.n[k],
                        interval(d_over, k),
                        interval(d_under, k),
                        status,
                    )
                )
                tips.append("; ".join(x for x in (over.reason[k], under.reason[k]) if x))
        self.table_card.set_rows(rows, tips)
