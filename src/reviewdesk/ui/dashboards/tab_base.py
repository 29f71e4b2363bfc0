"""What every dashboard tab shares: its cards, loading and empty states, and the splitter grid.

A tab receives the whole :class:`~reviewdesk.services.dashboards.DashboardData` and feeds its
cards; it never computes statistics (those come from the service, off the UI thread) beyond
picking and formatting what it shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QTabWidget, QVBoxLayout, QWidget

from reviewdesk.services.dashboards import CategorySeries, DashboardData
from reviewdesk.ui.dashboards.plot_kit import ChartCard
from reviewdesk.ui.dashboards.tables import TableCard
from reviewdesk.ui.ops import Ops

NO_LABELS = "No human labels yet: import labels or review some pairs, then refresh."


def day(ts: float) -> str:
    """A Unix time as a UTC date (``2026-01-05``); ``—`` when unknown."""
    if not math.isfinite(ts):
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def minute(ts: float) -> str:
    if not math.isfinite(ts):
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def ok_only(column: Any) -> tuple[list[float], list[float], list[float]]:
    """A series column for a plot: windows whose status is not ``ok`` become gaps (their
    numbers stay in the tables), so an estimate below the minimum evidence is never drawn."""
    keep = [s == "ok" for s in column.status]
    return (
        [v if k else math.nan for v, k in zip(column.estimate, keep, strict=True)],
        [v if k else math.nan for v, k in zip(column.ci_low, keep, strict=True)],
        [v if k else math.nan for v, k in zip(column.ci_high, keep, strict=True)],
    )


def all_not_ok(series: Sequence[CategorySeries]) -> bool:
    """No category of any series has an ``ok`` number (everything is hollow)."""
    return not any(
        st == "ok" and v == v for s in series for v, st in zip(s.estimate, s.status, strict=True)
    )


NOT_OK_NOTICE = (
    "Insufficient evidence: no estimate here is ok (too few items, or quarantined); "
    "hollow dots are for reference only."
)


def interval(series: CategorySeries, k: int) -> tuple[float, float, float]:
    return (series.estimate[k], series.ci_low[k], series.ci_high[k])


def row_of(series: CategorySeries, label: str) -> int | None:
    try:
        return series.labels.index(label)
    except ValueError:
        return None


class DashboardTab(QWidget):
    """Base of the six tabs (see module docstring)."""

    title = ""

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.chart_cards: list[ChartCard] = []
        self.table_cards: list[TableCard] = []
        self.data: DashboardData | None = None
        self._pending = False
        self.on_message: Callable[[str], None] | None = None

    # ---- building

    def chart(self, card: ChartCard) -> ChartCard:
        card.on_save_error = self._say
        self.chart_cards.append(card)
        return card

    def table(self, card: TableCard) -> TableCard:
        card.on_message = self._say
        self.table_cards.append(card)
        return card

    def _say(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)

    @staticmethod
    def row(widgets: Sequence[QWidget], stretches: Sequence[int] | None = None) -> QWidget:
        holder = QWidget()
        layout = QHBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        for n, widget in enumerate(widgets):
            layout.addWidget(widget, (stretches or [1] * len(widgets))[n])
        return holder

    @staticmethod
    def table_tabs(cards: Sequence[TableCard]) -> QTabWidget:
        """Several wide tables in one full-width place (each keeps its Copy/Export buttons)."""
        tabs = QTabWidget()
        tabs.setObjectName("tableTabs")
        tabs.setDocumentMode(True)
        tabs.tabBar().setDrawBase(False)
        for card in cards:
            tabs.addTab(card, card.title)
        return tabs

    def stack_rows(self, rows: Sequence[QWidget], sizes: Sequence[int]) -> None:
        """The tab's rows in a vertical splitter (the lead can give tables more room)."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(8)
        for widget in rows:
            splitter.addWidget(widget)
        splitter.setSizes(list(sizes))
        for n, size in enumerate(sizes):
            splitter.setStretchFactor(n, size)
        layout.addWidget(splitter)
        self.splitter = splitter

    # ---- states

    def set_loading(self, message: str) -> None:
        for card in self.chart_cards:
            card.set_empty(message)

    def set_data(self, data: DashboardData) -> None:
        """Take a new result; render now if the tab is on screen, else when it is shown.

        Building a tab's plots is the UI thread's biggest cost after a refresh, so hidden tabs
        wait until the lead looks at them (one tab at a time keeps every stall short).
        """
        self.data = data
        self._pending = True
        if self.isVisible():
            self.ensure_rendered()

    def ensure_rendered(self) -> None:
        if self._pending and self.data is not None:
            self._pending = False
            self.show_data(self.data)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.ensure_rendered()

    def show_data(self, data: DashboardData) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def states(self) -> dict[str, Any]:
        """What each chart shows (for tests and the smoke screenshots)."""
        return {card.title: card.empty_message or "chart" for card in self.chart_cards}
