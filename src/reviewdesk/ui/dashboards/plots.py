"""The dashboards' chart types, each built once and fed with arrays (ARCHITECTURE.md §4.14).

- :class:`TimeSeriesPlot`: statistics over windows on a date axis, each with its CI band, an
  optional baseline line, threshold lines and shaded alarm/quarantine windows;
- :class:`CategoryPlot`: dot-and-whisker estimates per category (slice, model, judge,
  reviewer), several series side by side, hollow dots where the evidence is not ``ok``;
- :class:`HeatmapPlot`: a reviewer × reviewer matrix with a labelled color bar;
- :class:`StateStrip`: per window and row (alarm, drift, H1…H5, quarantine) a colored cell.

Plots never query anything; the tabs hand them plain tuples from the dashboard DTOs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

# isort: split
import pyqtgraph as pg  # after PySide6 (ARCHITECTURE.md §4.15)

from reviewdesk.ui.dashboards.plot_kit import (
    BandItem,
    CategoryAxis,
    ChartCard,
    OffsetDateAxis,
    SpansItem,
    axis_font,
    color,
    colors,
    pen,
    restrain,
    series_color,
    set_axis_label,
    set_title,
    style_legend,
    style_plot,
)

Triple = tuple[Sequence[float], Sequence[float], Sequence[float]]
NOT_OK_STATUSES = ("insufficient_data", "quarantined", "undefined", "missing")


def _arr(values: Sequence[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class Series:
    """A curve of a :class:`TimeSeriesPlot`: key, legend label, palette index, dash."""

    key: str
    label: str
    color: int
    dashed: bool = False
    band: bool = True


@dataclass(frozen=True)
class Reference:
    """A horizontal reference line (threshold, chance level) with its label."""

    value: float
    label: str
    token: str = "warning"


class _Legend:
    """A horizontal legend in its own layout row below a plot (never covers the data)."""

    def __init__(
        self, layout: Any, row: int, col: int, col_span: int = 1, columns: int = 6
    ) -> None:
        self.item = pg.LegendItem(colCount=columns, horSpacing=16, verSpacing=-6)
        layout.addItem(self.item, row, col, 1, col_span)
        self.entries: list[tuple[Any, str]] = []

    def add(self, item: Any, label: str) -> None:
        self.entries.append((item, label))
        self.item.addItem(item, label)

    def restyle(self) -> None:
        style_legend(self.item)
        self.item.setPen(pg.mkPen(None))
        self.item.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        for _sample, label in self.item.items:
            label.setText(label.text, color=colors()["text"], size="11px")


class TimeSeriesPlot:
    """Statistics over windows on a UTC date axis (see module docstring)."""

    def __init__(
        self,
        card: ChartCard,
        row: int,
        col: int,
        *,
        title: str | None,
        y_label: str,
        series: Sequence[Series],
        references: Sequence[Reference] = (),
        spans: Sequence[tuple[str, str, int]] = (),
        legend: bool = True,
        y_range: tuple[float, float] | None = None,
        baseline_lines: bool = True,
        legend_columns: int = 6,
    ) -> None:
        self.card = card
        layout = card.layout_widget
        self.axis = OffsetDateAxis()
        self.plot: pg.PlotItem = layout.addPlot(
            row=row, col=col, axisItems={"bottom": self.axis}, enableMenu=False
        )
        restrain(self.plot)
        self.title = title
        self.y_label = y_label
        self.specs = tuple(series)
        self.references = tuple(references)
        self.span_specs = tuple(spans)
        self.y_range = y_range
        self.spans: dict[str, SpansItem] = {}
        for name, _token, _alpha in self.span_specs:
            item = SpansItem()
            self.plot.addItem(item)
            self.spans[name] = item
        self.bands: dict[str, BandItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.baselines: dict[str, pg.InfiniteLine] = {}
        for spec in self.specs:
            if spec.band:
                band = BandItem()
                band.setZValue(-10)
                self.plot.addItem(band)
                self.bands[spec.key] = band
            curve = pg.PlotDataItem(connect="finite", symbol="o", symbolSize=5)
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            self.plot.addItem(curve)
            self.curves[spec.key] = curve
            if baseline_lines:
                line = pg.InfiniteLine(angle=0, movable=False)
                line.setVisible(False)
                self.plot.addItem(line, ignoreBounds=True)
                self.baselines[spec.key] = line
        self.reference_lines: list[pg.InfiniteLine] = []
        for ref in self.references:
            line = pg.InfiniteLine(
                pos=ref.value,
                angle=0,
                movable=False,
                label=ref.label,
                labelOpts={"position": 0.99, "anchors": [(1, 1), (1, 1)]},
            )
            self.plot.addItem(line)
            self.reference_lines.append(line)
        self.note = pg.TextItem(anchor=(0.5, 0.5))
        self.note.setVisible(False)
        self.plot.addItem(self.note, ignoreBounds=True)
        self.empty_note = "not evaluable in these windows"
        self.legend: _Legend | None = None
        if legend:
            self.legend = _Legend(layout, row + 1, col, columns=legend_columns)
            for spec in self.specs:
                self.legend.add(self.curves[spec.key], spec.label)
            if self.baselines:
                sample = pg.PlotDataItem()
                self._baseline_sample = sample
                self.legend.add(sample, "baseline (dashed)")
        card.on_restyle(self.restyle)

    # ---- styling

    def restyle(self) -> None:
        c = colors()
        style_plot(self.plot)
        set_axis_label(self.plot, "left", self.y_label)
        if self.title:
            set_title(self.plot, self.title)
        for name, token, alpha in self.span_specs:
            self.spans[name].setBrush(color(token, alpha))
        for spec in self.specs:
            col = series_color(spec.color)
            style = Qt.PenStyle.DashLine if spec.dashed else Qt.PenStyle.SolidLine
            curve = self.curves[spec.key]
            curve.setPen(pen(col, 2.0, style))
            curve.setSymbolPen(pen(col, 1.2))
            curve.setSymbolBrush(QBrush(col))
            if spec.key in self.bands:
                self.bands[spec.key].setBrush(series_color(spec.color, 48))
            if spec.key in self.baselines:
                self.baselines[spec.key].setPen(
                    pen(series_color(spec.color, 200), 1.2, Qt.PenStyle.DashLine)
                )
        if self.baselines and hasattr(self, "_baseline_sample"):
            self._baseline_sample.setPen(pen(QColor(c["muted"]), 1.2, Qt.PenStyle.DashLine))
        for ref, line in zip(self.references, self.reference_lines, strict=True):
            line.setPen(pen(color(ref.token), 1.3, Qt.PenStyle.DotLine))
            if line.label is not None:
                line.label.setColor(color(ref.token))
                line.label.setFont(axis_font())
        self.note.setColor(color("faint"))
        self.note.setFont(axis_font())
        if self.legend is not None:
            self.legend.restyle()

    # ---- data

    def set_data(
        self,
        x: Sequence[float],
        values: Mapping[str, Triple],
        *,
        origin: float,
        baselines: Mapping[str, float] | None = None,
        spans: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
        x_range: tuple[float, float] | None = None,
    ) -> bool:
        """Feed the curves (x in Unix seconds); returns whether anything finite was drawn."""
        self.axis.set_origin(origin)
        xs = _arr(x) - origin
        drawn = False
        for spec in self.specs:
            est, lo, hi = values.get(spec.key, ((), (), ()))
            e = _arr(est) if len(est) else np.full(xs.size, np.nan)
            if np.isfinite(e).any():
                self.curves[spec.key].setData(xs, e, connect="finite")
            else:  # all-NaN data would make pyqtgraph take nanmin of nothing
                self.curves[spec.key].setData(np.zeros(0), np.zeros(0))
            if spec.key in self.bands:
                lo_a = _arr(lo) if len(lo) else np.full(xs.size, np.nan)
                hi_a = _arr(hi) if len(hi) else np.full(xs.size, np.nan)
                self.bands[spec.key].setData(xs, lo_a, hi_a)
            drawn = drawn or bool(np.isfinite(e).any())
            line = self.baselines.get(spec.key)
            if line is not None:
                value = (baselines or {}).get(spec.key, math.nan)
                line.setVisible(math.isfinite(value))
                if math.isfinite(value):
                    line.setValue(value)
        for name, item in self.spans.items():
            starts, ends = (spans or {}).get(name, ((), ()))
            item.setData(_arr(starts) - origin, _arr(ends) - origin)
        if x_range is not None:
            self.plot.setXRange(x_range[0] - origin, x_range[1] - origin, padding=0.02)
        elif xs.size:
            self.plot.enableAutoRange(axis="x")
        self.note.setVisible(not drawn)
        for line in self.reference_lines:  # a threshold without data would read as a value
            line.setVisible(drawn)
        if not drawn:  # one plot of several: say so inside it, never draw a flat line
            self.note.setText(self.empty_note)
            mid = (x_range[0] + x_range[1]) / 2.0 - origin if x_range else 0.0
            self.note.setPos(mid, 0.0)
            self.plot.setYRange(-1.0, 1.0, padding=0)
        elif self.y_range is not None:
            self.plot.setYRange(*self.y_range, padding=0.02)
        else:
            self.plot.enableAutoRange(axis="y")
        return drawn


class CategoryPlot:
    """Horizontal dot-and-whisker chart: categories down the left axis, values across.

    Several series share the rows, slightly offset. A dot is filled when its record is ``ok``
    and hollow otherwise (insufficient data, quarantined); categories without a number get no
    dot — the table beside the chart says why.
    """

    OFFSETS: ClassVar[dict[int, tuple[float, ...]]] = {
        1: (0.0,),
        2: (-0.17, 0.17),
        3: (-0.22, 0.0, 0.22),
        4: (-0.27, -0.09, 0.09, 0.27),
    }

    def __init__(
        self,
        card: ChartCard,
        row: int,
        col: int,
        *,
        title: str | None,
        x_label: str,
        series: Sequence[Series],
        references: Sequence[Reference] = (),
        x_range: tuple[float, float | None] | None = None,
        legend: bool = True,
        max_chars: int = 28,
    ) -> None:
        self.card = card
        layout = card.layout_widget
        self.axis = CategoryAxis("left", max_chars=max_chars)
        self.plot: pg.PlotItem = layout.addPlot(
            row=row, col=col, axisItems={"left": self.axis}, enableMenu=False
        )
        restrain(self.plot)
        self.plot.invertY(True)
        self.title = title
        self.x_label = x_label
        self.specs = tuple(series)
        self.references = tuple(references)
        self.x_range = x_range
        self.whiskers: dict[str, pg.ErrorBarItem] = {}
        self.dots: dict[str, pg.ScatterPlotItem] = {}
        for spec in self.specs:
            bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.14)
            self.plot.addItem(bars)
            self.whiskers[spec.key] = bars
            dots = pg.ScatterPlotItem(size=8, symbol="o")
            self.plot.addItem(dots)
            self.dots[spec.key] = dots
        self.reference_lines: list[pg.InfiniteLine] = []
        for ref in self.references:
            line = pg.InfiniteLine(
                pos=ref.value,
                angle=90,
                movable=False,
                label=ref.label,
                labelOpts={"position": 0.01, "anchors": [(0, 0), (0, 0)]},
            )
            self.plot.addItem(line)
            self.reference_lines.append(line)
        self.legend: _Legend | None = None
        self._hollow_sample = pg.ScatterPlotItem(size=8, symbol="o")
        if legend:
            self.legend = _Legend(layout, row + 1, col)
            for spec in self.specs:
                self.legend.add(self.dots[spec.key], spec.label)
            self.legend.add(self._hollow_sample, "hollow: evidence not ok")
        self.labels: tuple[str, ...] = ()
        self.last_statuses: dict[str, tuple[str, ...]] = {}
        card.on_restyle(self.restyle)

    def restyle(self) -> None:
        style_plot(self.plot, grid=False)
        self.plot.showGrid(x=True, y=False, alpha=0.3)
        set_axis_label(self.plot, "bottom", self.x_label)
        if self.title:
            set_title(self.plot, self.title)
        for spec in self.specs:
            self.whiskers[spec.key].setData(pen=pen(series_color(spec.color), 1.6))
        for ref, line in zip(self.references, self.reference_lines, strict=True):
            line.setPen(pen(color(ref.token), 1.3, Qt.PenStyle.DashLine))
            if line.label is not None:
                line.label.setColor(color(ref.token))
                line.label.setFont(axis_font())
        self._hollow_sample.setPen(pen(color("muted"), 1.4))
        self._hollow_sample.setBrush(QBrush(color("surface")))
        if self.legend is not None:
            self.legend.restyle()
        if self.labels:
            self._repaint_dots()

    def set_data(self, labels: Sequence[str], series: Mapping[str, Any]) -> bool:
        """``series``: key → an object with ``estimate``, ``ci_low``, ``ci_high``, ``status``
        aligned with ``labels``. Returns whether any estimate was drawn."""
        self.labels = tuple(labels)
        self._series = dict(series)
        self.axis.set_names(self.labels)
        return self._repaint_dots()

    def _repaint_dots(self) -> bool:
        n = len(self.labels)
        offsets = self.OFFSETS.get(len(self.specs), self.OFFSETS[4])
        drawn = False
        surface = QBrush(color("surface"))
        for k, spec in enumerate(self.specs):
            data = self._series.get(spec.key)
            col = series_color(spec.color)
            if data is None or n == 0:
                self.dots[spec.key].setData(x=[], y=[])
                self.whiskers[spec.key].setData(x=np.zeros(0), y=np.zeros(0))
                continue
            est = _arr(data.estimate)
            lo = _arr(data.ci_low)
            hi = _arr(data.ci_high)
            status = tuple(data.status)
            self.last_statuses[spec.key] = status
            y = np.arange(n, dtype=np.float64) + offsets[min(k, len(offsets) - 1)]
            ok = np.isfinite(est)
            drawn = drawn or bool(ok.any())
            brushes = [
                QBrush(col) if s not in NOT_OK_STATUSES else surface
                for s, good in zip(status, ok, strict=True)
                if good
            ]
            self.dots[spec.key].setData(
                x=est[ok], y=y[ok], brush=brushes, pen=pen(col, 1.6), size=8
            )
            whisk = ok & np.isfinite(lo) & np.isfinite(hi)
            self.whiskers[spec.key].setData(
                x=est[whisk],
                y=y[whisk],
                left=(est - lo)[whisk],
                right=(hi - est)[whisk],
                beam=0.14,
                pen=pen(col, 1.6),
            )
        # an empty band above the first row holds the reference lines' labels
        top = -1.25 if self.references else -0.6
        self.plot.setYRange(top, max(0.6, n - 0.4), padding=0)
        if self.x_range is not None and self.x_range[1] is not None:
            self.plot.setXRange(self.x_range[0], self.x_range[1], padding=0.02)
        elif self.x_range is not None:  # from a fixed start to just past the widest interval
            highs = [
                v
                for data in self._series.values()
                for v in (*data.ci_high, *data.estimate)
                if math.isfinite(v)
            ]
            top = max(highs, default=1.0)
            self.plot.setXRange(
                self.x_range[0], max(top * 1.12, self.x_range[0] + 0.05), padding=0.02
            )
        else:
            self.plot.enableAutoRange(axis="x")
        return drawn


class HeatmapPlot:
    """A square matrix (reviewer × reviewer) with cell values and a labelled color bar."""

    MAX_CELL_TEXT = 16

    def __init__(
        self,
        card: ChartCard,
        *,
        bar_label: str,
        levels: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        self.card = card
        layout = card.layout_widget
        self.left = CategoryAxis("left", max_chars=14, numbered=True)
        self.bottom = CategoryAxis("bottom", numbered=True)
        self.plot: pg.PlotItem = layout.addPlot(
            row=0, col=0, axisItems={"left": self.left, "bottom": self.bottom}, enableMenu=False
        )
        restrain(self.plot)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.levels = levels
        self.bar = pg.ColorBarItem(
            values=levels,
            colorMap=pg.colormap.get("viridis"),
            label=bar_label,
            interactive=False,
            colorMapMenu=False,
            width=14,
        )
        self.bar.setImageItem(self.image, insert_in=self.plot)
        self.texts: list[pg.TextItem] = []
        self.matrix = np.zeros((0, 0))
        card.on_restyle(self.restyle)

    def restyle(self) -> None:
        style_plot(self.plot, grid=False)
        axis = self.bar.axis
        axis.enableAutoSIPrefix(False)
        axis.setPen(pen(color("border_strong"), 1.0))
        axis.setTextPen(color("muted"))
        axis.setTickFont(axis_font())
        axis.setLabel(axis.labelText, color=colors()["muted"], **{"font-size": "12px"})
        self._color_texts()

    def set_data(self, names: Sequence[str], matrix: Sequence[Sequence[float]]) -> bool:
        m = np.asarray(matrix, dtype=np.float64).reshape(len(names), len(names))
        self.matrix = m
        self.left.set_names(names)
        self.bottom.set_names(names)
        self.image.setImage(m, levels=self.levels, autoLevels=False)
        self.image.setRect(-0.5, -0.5, len(names), len(names))
        for item in self.texts:
            item.setVisible(False)
        if len(names) <= self.MAX_CELL_TEXT:
            needed = len(names) * len(names)
            while len(self.texts) < needed:
                text = pg.TextItem(anchor=(0.5, 0.5))
                text.setFont(axis_font())
                self.plot.addItem(text)
                self.texts.append(text)
            for i in range(len(names)):
                for j in range(len(names)):
                    item = self.texts[i * len(names) + j]
                    value = m[i, j]
                    item.setText("" if not math.isfinite(value) else f"{value:.2f}")
                    item.setPos(j, i)
                    item.setVisible(math.isfinite(value))
        self._color_texts()
        n = len(names)
        self.plot.setXRange(-0.5, n - 0.5, padding=0)
        self.plot.setYRange(-0.5, n - 0.5, padding=0)
        return bool(np.isfinite(m).any())

    def _color_texts(self) -> None:
        cmap = pg.colormap.get("viridis")
        n = self.matrix.shape[0]
        lo, hi = self.levels
        for k, item in enumerate(self.texts):
            if not item.isVisible() or n == 0 or k >= n * n:
                continue
            value = self.matrix[k // n, k % n]
            frac = min(1.0, max(0.0, (value - lo) / (hi - lo)))
            bg = cmap.map(frac, mode="qcolor")
            light = 0.299 * bg.redF() + 0.587 * bg.greenF() + 0.114 * bg.blueF() > 0.55
            item.setColor(QColor("#111111") if light else QColor("#ffffff"))


class StateStrip:
    """Rows of window states: firing (danger), quiet, undetermined, plus row labels."""

    STATES = (
        ("fires", "danger", 225, "fires"),
        ("quiet", "success", 110, "quiet"),
        ("unknown", "border", 255, "not evaluable"),
    )

    def __init__(self, card: ChartCard, row: int, col: int, *, rows: Sequence[str]) -> None:
        self.card = card
        layout = card.layout_widget
        self.axis = OffsetDateAxis()
        self.left = CategoryAxis("left", max_chars=24)
        self.plot: pg.PlotItem = layout.addPlot(
            row=row,
            col=col,
            axisItems={"bottom": self.axis, "left": self.left},
            enableMenu=False,
        )
        restrain(self.plot)
        self.plot.invertY(True)
        self.rows = tuple(rows)
        self.left.set_names(self.rows)
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.legend = _Legend(layout, row + 1, col)
        self.samples: dict[str, pg.ScatterPlotItem] = {}
        for state, _token, _alpha, words in self.STATES:
            bars = pg.BarGraphItem(x0=[], x1=[], y0=[], height=[], pen=None)
            self.plot.addItem(bars)
            self.bars[state] = bars
            sample = pg.ScatterPlotItem(symbol="s", size=11)
            self.samples[state] = sample
            self.legend.add(sample, words)
        self.counts: dict[str, int] = {}
        card.on_restyle(self.restyle)

    def restyle(self) -> None:
        style_plot(self.plot, grid=False)
        for state, token, alpha, _words in self.STATES:
            self.bars[state].setOpts(brush=QBrush(color(token, alpha)), pen=None)
            self.samples[state].setBrush(QBrush(color(token, alpha)))
            self.samples[state].setPen(None)
        self.legend.restyle()

    def set_data(
        self,
        edges: Sequence[float],
        states: Mapping[str, Sequence[float]],
        *,
        origin: float,
    ) -> None:
        """``edges``: n+1 tile boundaries (Unix seconds); ``states[row]``: 1 fires, 0 quiet,
        NaN undetermined, per window."""
        self.axis.set_origin(origin)
        e = _arr(edges) - origin
        collected: dict[str, tuple[list[float], list[float], list[float]]] = {
            s: ([], [], []) for s, _t, _a, _w in self.STATES
        }
        for r, name in enumerate(self.rows):
            values = _arr(states.get(name, ()))
            for k, v in enumerate(values):
                if k + 1 >= e.size:
                    break
                state = "unknown" if not math.isfinite(v) else ("fires" if v >= 0.5 else "quiet")
                x0s, x1s, y0s = collected[state]
                x0s.append(float(e[k]))
                x1s.append(float(e[k + 1]))
                y0s.append(r - 0.36)
        for state, (x0s, x1s, y0s) in collected.items():
            self.bars[state].setOpts(x0=x0s, x1=x1s, y0=y0s, height=[0.72] * len(x0s))
            self.counts[state] = len(x0s)
        self.plot.setYRange(-0.6, len(self.rows) - 0.4, padding=0)
        if e.size:
            self.plot.setXRange(float(e[0]), float(e[-1]), padding=0.01)
