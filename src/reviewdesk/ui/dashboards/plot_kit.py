"""The pyqtgraph kit of the dashboards: styling, a few graphics items, chart cards and saving.

pyqtgraph is imported here and in the other ``ui/dashboards`` modules only, always after
PySide6 (so it binds to PySide6), and only once the lead opens the dashboards (ARCHITECTURE.md
§4.15). The habits of §1 and §4.14 live here:

- **restraint** (Orange3): no context menus, no mouse zoom or pan, no auto-range button — a
  dashboard is read, not explored, and a dragged axis would misstate the evidence;
- **colors from the active palette** (light and dark): semantic colors come from the theme's
  tokens (alarm = ``danger``, drift = ``warning``, baseline = ``muted``), series colors from a
  colorblind-safe categorical set per theme, and every card re-styles on ``theme_changed``;
- **items created once**: cards build their curves, bands and reference lines up front and are
  fed with ``setData``; :class:`BandItem` (CI bands with gaps) and :class:`SpansItem` (shaded
  windows) take arrays too, so a refresh never rebuilds the scene;
- **time** on a :class:`OffsetDateAxis`: a ``DateAxisItem`` in UTC whose plotted x values are
  seconds *since an origin*. Unix seconds (~1.7e9) cannot be stored to the second in the six
  significant digits Qt's SVG generator writes (pyqtgraph issue #2661), so data are shifted by the
  first window's start and the axis adds it back when it labels ticks.

Saving: PNG through ``pyqtgraph.exporters.ImageExporter`` at the on-screen size (scaled up,
its legend text does not scale with the axes, so the picture would no longer match). SVG
through Qt's own ``QSvgGenerator`` rendering the chart's scene: pyqtgraph 0.14.0's
``SVGExporter`` cannot parse the closed paths ("… Z") Qt 6 writes and raises (pyqtgraph issue
#3495, fixed upstream after 0.14.0); the scene rendered by Qt is the same picture, as vectors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

# isort: split
# pyqtgraph after PySide6 (ARCHITECTURE.md §4.15), so it binds to the binding already loaded.
import pyqtgraph as pg
import pyqtgraph.exporters  # registers ImageExporter on pg.exporters

from reviewdesk.domain.errors import UserError
from reviewdesk.ui import theme
from reviewdesk.ui.widgets import role_label

#: Anything iterable of floats: tuples from the DTOs or numpy arrays.
Floats = Sequence[float] | NDArray[np.float64]

pg.setConfigOptions(antialias=True, leftButtonPan=False, imageAxisOrder="row-major")

#: Colorblind-safe categorical colors (Okabe–Ito order), tuned per theme for contrast.
SERIES_COLORS = {
    "light": ("#2f5fc4", "#d55e00", "#009e73", "#a64ca6", "#cc9a00", "#0072b2", "#6b7280"),
    "dark": ("#7aa5ff", "#ff9a4d", "#3fd0a2", "#d58fd5", "#f0c94a", "#56b4e9", "#a0a8b2"),
}
AXIS_PX = 11
LABEL_PX = 12


def colors() -> dict[str, str]:
    """The active theme's color tokens."""
    return theme.current()


def color(token: str, alpha: int | None = None) -> QColor:
    c = QColor(colors()[token])
    if alpha is not None:
        c.setAlpha(alpha)
    return c


def series_color(index: int, alpha: int | None = None) -> QColor:
    palette = SERIES_COLORS.get(theme.manager().name, SERIES_COLORS["light"])
    c = QColor(palette[index % len(palette)])
    if alpha is not None:
        c.setAlpha(alpha)
    return c


def axis_font() -> QFont:
    font = QFont(theme.ui_font())
    font.setPixelSize(AXIS_PX)
    return font


def pen(c: QColor, width: float = 1.6, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    p = QPen(c)
    p.setWidthF(width)
    p.setStyle(style)
    p.setCosmetic(True)
    return p


def finite(values: Sequence[float]) -> bool:
    return any(isinstance(v, float | int) and math.isfinite(v) for v in values)


# --------------------------------------------------------------------------------------------
# Axes
# --------------------------------------------------------------------------------------------


DAY_S = 86400.0
WEEK_S = 7 * DAY_S
MIN_TICK_PX = 64


class OffsetDateAxis(pg.DateAxisItem):  # type: ignore[misc]
    """A UTC date axis for x values stored as seconds since ``origin`` (see module docstring).

    Spans of ten days to about a year — what the monitor's windows cover — get one tick per
    Monday (or every 2nd, 4th … Monday, so labels stay apart), labelled like ``Jan 12``: the
    ISO weeks the windows are made of. Other spans use ``DateAxisItem``'s own levels.
    """

    def __init__(self, orientation: str = "bottom", **kwargs: Any) -> None:
        super().__init__(orientation=orientation, utcOffset=0, **kwargs)
        self.origin = 0.0
        self._week_mode = False

    def set_origin(self, origin: float) -> None:
        self.origin = float(origin)
        self.picture = None
        self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:
        lo, hi = minVal + self.origin, maxVal + self.origin
        span = hi - lo
        if 10 * DAY_S <= span <= 400 * DAY_S and size > 0:
            px_per_week = size * WEEK_S / span
            stride = next((k for k in (1, 2, 4, 8, 13, 26) if k * px_per_week >= MIN_TICK_PX), 52)
            first_day = math.ceil(lo / DAY_S)
            first_monday = first_day + (-(first_day + 3)) % 7  # 1970-01-01 was a Thursday
            values = []
            day_ = first_monday
            while day_ * DAY_S <= hi:
                values.append(day_ * DAY_S - self.origin)
                day_ += 7 * stride
            self._week_mode = True
            return [(stride * WEEK_S, values)]
        self._week_mode = False
        levels = super().tickValues(lo, hi, size)
        return [(spacing, [v - self.origin for v in values]) for spacing, values in levels]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self._week_mode:
            out = []
            for v in values:
                d = datetime.fromtimestamp(v + self.origin, UTC)
                out.append(f"{d:%b} {d.day}")
            return out
        return super().tickStrings([v + self.origin for v in values], scale, spacing)


class CategoryAxis(pg.AxisItem):  # type: ignore[misc]
    """An axis labelling integer positions 0…n−1 with names (for dot plots and heatmaps)."""

    def __init__(
        self, orientation: str, max_chars: int = 28, numbered: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(orientation=orientation, **kwargs)
        self._names: list[str] = []
        self.max_chars = max_chars
        #: Label positions 1…n (a matrix's columns), or "1  name" on a vertical axis.
        self.numbered = numbered

    def set_names(self, names: Sequence[str]) -> None:
        short = [self._short(n) for n in names]
        if self.numbered and self.orientation in ("left", "right"):
            short = [f"{k + 1}  {n}" for k, n in enumerate(short)]
        elif self.numbered:
            short = [str(k + 1) for k in range(len(short))]
        self._names = short
        self.setTicks([list(enumerate(self._names)), []])
        if self.orientation in ("left", "right"):
            metrics = QFontMetrics(self.style.get("tickFont") or axis_font())
            widest = max((metrics.horizontalAdvance(n) for n in self._names), default=20)
            self.setWidth(min(260, widest + 14))

    def _short(self, name: str) -> str:
        return name if len(name) <= self.max_chars else name[: self.max_chars - 1] + "…"


# --------------------------------------------------------------------------------------------
# Graphics items fed with arrays
# --------------------------------------------------------------------------------------------


class BandItem(pg.GraphicsObject):  # type: ignore[misc]
    """A filled interval band (CI) over x, with gaps where a bound is NaN."""

    def __init__(self, brush: QBrush | QColor | None = None) -> None:
        super().__init__()
        self._path = QPainterPath()
        self._brush = QBrush(brush if brush is not None else QColor(0, 0, 0, 40))
        self._bounds: tuple[float, float, float, float] | None = None

    def setBrush(self, brush: QBrush | QColor) -> None:
        self._brush = QBrush(brush)
        self.update()

    def setData(self, x: Floats, low: Floats, high: Floats) -> None:
        self.prepareGeometryChange()
        path = QPainterPath()
        run: list[tuple[float, float, float]] = []
        xs_all: list[float] = []
        ys_all: list[float] = []

        def flush() -> None:
            if len(run) >= 2:
                path.moveTo(run[0][0], run[0][2])
                for px, _lo, hi in run[1:]:
                    path.lineTo(px, hi)
                for px, lo, _hi in reversed(run):
                    path.lineTo(px, lo)
                path.closeSubpath()
            elif len(run) == 1:  # a single point: a thin bar so it is still visible
                px, lo, hi = run[0]
                path.addRect(QRectF(px, lo, 0.0, hi - lo))
            run.clear()

        for px, lo, hi in zip(x, low, high, strict=True):
            if math.isfinite(px) and math.isfinite(lo) and math.isfinite(hi):
                run.append((px, lo, hi))
                xs_all.append(px)
                ys_all.extend((lo, hi))
            else:
                flush()
        flush()
        self._path = path
        self._bounds = (min(xs_all), max(xs_all), min(ys_all), max(ys_all)) if xs_all else None
        self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None) -> Any:
        if self._bounds is None:
            return (None, None)
        return self._bounds[0:2] if ax == 0 else self._bounds[2:4]

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect()

    def paint(self, p: QPainter, *_args: Any) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._brush)
        p.drawPath(self._path)


class SpansItem(pg.GraphicsObject):  # type: ignore[misc]
    """Shaded x intervals over the full height of the view (alarm or quarantined windows).

    ``setData`` takes one interval per window; overlapping ones (count windows overlap) are
    drawn as their union. ``window_count`` is the number of windows given (tests read it).
    """

    def __init__(self, brush: QColor | None = None) -> None:
        super().__init__()
        self._brush = QBrush(brush if brush is not None else QColor(255, 0, 0, 40))
        self._spans: list[tuple[float, float]] = []
        self.window_count = 0
        self.setZValue(-100)

    def setBrush(self, brush: QColor) -> None:
        self._brush = QBrush(brush)
        self.update()

    def setData(self, starts: Floats, ends: Floats) -> None:
        self.prepareGeometryChange()
        pairs = sorted(
            (float(a), float(b))
            for a, b in zip(starts, ends, strict=True)
            if math.isfinite(a) and math.isfinite(b)
        )
        self.window_count = len(pairs)
        merged: list[list[float]] = []
        for a, b in pairs:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self._spans = [(a, b) for a, b in merged]
        self.update()

    @property
    def span_count(self) -> int:
        """Bands drawn (overlapping windows merged)."""
        return len(self._spans)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None) -> Any:
        return (None, None)  # never widens the view

    def _y_range(self) -> tuple[float, float]:
        view = self.getViewBox()
        if view is None:
            return (0.0, 1.0)
        rect = view.viewRect()
        return rect.top(), rect.bottom()

    def boundingRect(self) -> QRectF:
        if not self._spans:
            return QRectF()
        top, bottom = self._y_range()
        return QRectF(
            self._spans[0][0], top, self._spans[-1][1] - self._spans[0][0], bottom - top
        ).normalized()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()
        self.update()

    def paint(self, p: QPainter, *_args: Any) -> None:
        top, bottom = self._y_range()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._brush)
        for a, b in self._spans:
            p.drawRect(QRectF(QPointF(a, top), QPointF(b, bottom)).normalized())


# --------------------------------------------------------------------------------------------
# Plot styling
# --------------------------------------------------------------------------------------------


def restrain(plot: pg.PlotItem) -> None:
    """Menus, mouse interaction and the auto-range button off (see module docstring)."""
    plot.setMenuEnabled(False)
    plot.hideButtons()
    view = plot.getViewBox()
    view.setMouseEnabled(x=False, y=False)
    view.setMenuEnabled(False)
    plot.setDefaultPadding(0.04)


def style_plot(plot: pg.PlotItem, *, grid: bool = True) -> None:
    """Axis, text and grid colors from the active theme."""
    c = colors()
    text = QColor(c["muted"])
    font = axis_font()
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)  # "(x0.001)" on a rate axis misleads
        axis.setPen(pen(QColor(c["border_strong"]), 1.0))
        axis.setTextPen(text)
        axis.setTickFont(font)
        axis.setStyle(tickTextOffset=4, tickLength=-4)
        label_style = {"color": c["muted"], "font-size": f"{LABEL_PX}px"}
        if axis.labelText:
            axis.setLabel(axis.labelText, axis.labelUnits, **label_style)
        axis.labelStyle = label_style
    if grid:
        plot.showGrid(x=False, y=True, alpha=0.35)
    title = plot.titleLabel
    if title.text:
        title.setText(title.text, color=c["text"], size=f"{LABEL_PX + 1}px", bold=True)


def set_axis_label(plot: pg.PlotItem, side: str, text: str, units: str | None = None) -> None:
    c = colors()
    plot.getAxis(side).setLabel(text, units=units, color=c["muted"], **{"font-size": "12px"})


def set_title(plot: pg.PlotItem, text: str) -> None:
    c = colors()
    plot.setTitle(text, color=c["text"], size=f"{LABEL_PX + 1}px", bold=True)


def make_legend(plot: pg.PlotItem, columns: int = 1) -> pg.LegendItem:
    legend = plot.addLegend(offset=(8, 6), colCount=columns, verSpacing=-4, horSpacing=14)
    style_legend(legend)
    return legend


def style_legend(legend: pg.LegendItem) -> None:
    c = colors()
    legend.setBrush(QBrush(color("surface", 225)))
    legend.setPen(pen(QColor(c["border"]), 1.0))
    legend.setLabelTextColor(QColor(c["text"]))
    legend.setLabelTextSize(f"{AXIS_PX}px")


# --------------------------------------------------------------------------------------------
# Chart cards: a titled frame holding one graphics layout, an empty state and a save menu
# --------------------------------------------------------------------------------------------


class ChartCard(QFrame):
    """A card with a title, a caption, one pyqtgraph layout and "Save as PNG/SVG".

    Subclasses build their plots in ``__init__`` (:attr:`layout_widget` is the canvas) and
    feed them in their own ``set_…`` methods; :meth:`set_empty` swaps the canvas for a plain
    message, so insufficient data never shows as a flat or misleading line.
    """

    def __init__(self, title: str, caption: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.setObjectName("chartCard")
        self.title = title
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 10, 14, 10)
        outer.setSpacing(4)
        head = QHBoxLayout()
        head.setSpacing(8)
        self.title_label = role_label(title, "section")
        head.addWidget(self.title_label)
        head.addStretch(1)
        self.save_button = QToolButton()
        self.save_button.setText("Save…")
        self.save_button.setProperty("role", "flat")
        self.save_button.setToolTip("Save this chart as a PNG or SVG image")
        self.save_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.save_button)
        menu.addAction("Save as PNG…", lambda: self.choose_and_save("png"))
        menu.addAction("Save as SVG…", lambda: self.choose_and_save("svg"))
        self.save_button.setMenu(menu)
        head.addWidget(self.save_button)
        outer.addLayout(head)
        self.caption = role_label(caption, "muted")
        self.caption.setWordWrap(True)
        self.caption.setVisible(bool(caption))
        outer.addWidget(self.caption)
        self.notice_label = QLabel()
        self.notice_label.setObjectName("chartNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.hide()
        outer.addWidget(self.notice_label)
        self.notice: str | None = None
        self.stack = QStackedWidget()
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setObjectName("chartCanvas")
        self.layout_widget.ci.setContentsMargins(2, 2, 8, 2)
        self.layout_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.layout_widget.setMinimumSize(QSize(200, 140))
        self.stack.addWidget(self.layout_widget)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("chartEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setProperty("role", "muted")
        self.stack.addWidget(self.empty_label)
        outer.addWidget(self.stack, 1)
        self.empty_message: str | None = None
        self.on_save_error: Callable[[str], None] | None = None
        self._restyle_hooks: list[Callable[[], None]] = []
        theme.manager().theme_changed.connect(self._on_theme_changed)
        self._apply_background()

    # ---- state

    @property
    def is_empty(self) -> bool:
        return self.empty_message is not None

    def set_empty(self, message: str) -> None:
        """Show ``message`` instead of the chart (insufficient data, undefined, loading)."""
        self.empty_message = message
        self.set_notice(None)
        self.empty_label.setText(message)
        self.stack.setCurrentWidget(self.empty_label)
        self.save_button.setEnabled(False)

    def set_filled(self) -> None:
        self.empty_message = None
        self.stack.setCurrentWidget(self.layout_widget)
        self.save_button.setEnabled(True)

    def set_notice(self, text: str | None) -> None:
        """A warning line above the chart (e.g. every estimate is below its minimum)."""
        self.notice = text
        self.notice_label.setText(text or "")
        self.notice_label.setVisible(bool(text))
        self.notice_label.setStyleSheet(f"color: {colors()['warning']};")

    def reset(self) -> None:
        """Remove every plot (a tab whose curves depend on the project rebuilds them)."""
        self._restyle_hooks.clear()
        self.layout_widget.clear()

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self.caption.setVisible(bool(text))

    # ---- theme

    def on_restyle(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` now and whenever the theme changes (re-color items built once)."""
        self._restyle_hooks.append(hook)
        hook()

    def _on_theme_changed(self, _name: str) -> None:
        self._apply_background()
        self.set_notice(self.notice)
        for hook in self._restyle_hooks:
            hook()

    def _apply_background(self) -> None:
        self.layout_widget.setBackground(color("surface"))

    # ---- saving

    def choose_and_save(self, fmt: str) -> None:
        name = "".join(ch if ch.isalnum() else "-" for ch in self.title.lower()).strip("-")
        filters = "PNG image (*.png)" if fmt == "png" else "SVG image (*.svg)"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Save “{self.title}”", f"{name}.{fmt}", filters
        )
        if not path:
            return
        if not path.lower().endswith(f".{fmt}"):
            path += f".{fmt}"
        try:
            self.save_image(Path(path))
        except UserError as exc:
            if self.on_save_error is not None:
                self.on_save_error(str(exc))

    def save_image(self, path: Path) -> Path:
        """Write the chart to ``path`` as PNG or SVG (by suffix); returns the path."""
        path = Path(path)
        suffix = path.suffix.lower()
        if self.is_empty:
            raise UserError("this chart has no data to save")
        if suffix == ".png":
            save_png(self.layout_widget, path)
        elif suffix == ".svg":
            save_svg(self.layout_widget, path, self.title)
        else:
            raise UserError(f"{path.name}: save charts as .png or .svg")
        return path


def save_png(widget: pg.GraphicsLayoutWidget, path: Path, scale: float = 1.0) -> None:
    exporter = pg.exporters.ImageExporter(widget.scene())
    exporter.parameters()["width"] = int(max(1, widget.width()) * scale)
    exporter.parameters()["background"] = color("surface")
    exporter.parameters()["antialias"] = True
    try:
        ok = exporter.export(str(path))
    except OSError as exc:
        raise UserError(f"{path}: cannot write the image ({exc})") from exc
    if ok is False or not path.exists():
        raise UserError(f"{path}: cannot write the image")


def save_svg(widget: pg.GraphicsLayoutWidget, path: Path, title: str) -> None:
    view = widget.viewport().rect()
    source = widget.mapToScene(view).boundingRect()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(view.width(), view.height()))
    generator.setViewBox(QRectF(0, 0, view.width(), view.height()))
    generator.setTitle(title)
    generator.setDescription("reviewdesk dashboard chart")
    painter = QPainter()
    if not painter.begin(generator):
        raise UserError(f"{path}: cannot write the image")
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        target = QRectF(0, 0, view.width(), view.height())
        painter.fillRect(target, color("surface"))
        widget.scene().render(painter, target, source)
    finally:
        painter.end()
    if not path.exists() or path.stat().st_size == 0:
        raise UserError(f"{path}: cannot write the image")
