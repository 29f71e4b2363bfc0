"""What a new pair costs to paint, and that the cheaper paint draws exactly the same picture.

Showing the next pair flips the panels' views without a layout pass, repaints only the texts,
their scroll bars and the labels that changed (never the window, page, splitters or cards behind
them), and stays a copy of the render made ahead when the panels are resized for a prompt that
needs more or less room. Each of these paints the same pixels as the plain, see-through way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication, QScrollBar, QSplitter, QWidget

from reviewdesk.domain.model import Pair, Slot
from reviewdesk.ui import theme
from reviewdesk.ui.main_window import MainWindow
from reviewdesk.ui.review import markdown_view
from reviewdesk.ui.review.markdown_view import InertMarkdownView
from reviewdesk.ui.review.panels import TextPanel
from reviewdesk.ui.review.review_chrome import ReviewFooter, ReviewHeader
from reviewdesk.ui.review.review_view import PROMPT_SHRINK_AFTER, ReviewView
from reviewdesk.ui.widgets import OpaqueStyledWidget
from tests.ui.support import (
    build_project,
    judged,
    open_for_review,
    screen_image,
    send_key,
    settled_review,
    showcase_records,
)

LONG_ANSWER = "\n\n".join(
    f"Step {k}: check the deploy log, then the latency panel, then roll back." for k in range(40)
)


class _Events(QObject):
    """Records which widgets get paint and layout events while ``on``."""

    def __init__(self) -> None:
        super().__init__()
        self.on = False
        self.painted: list[QWidget] = []
        self.laid_out: list[QWidget] = []

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self.on and isinstance(obj, QWidget):
            if event.type() == QEvent.Type.Paint:
                self.painted.append(obj)
            elif event.type() == QEvent.Type.LayoutRequest:
                self.laid_out.append(obj)
        return False


def test_next_pair_repaints_only_texts_scroll_bars_and_changed_labels(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    records = [
        judged(
            f"paint-{n:02d}",
            prompt=f"Which answer handles incident {n} better?",
            text_a=a,
            text_b=b,
        )
        for n, (a, b) in enumerate([(LONG_ANSWER, "Roll back now.")] * 10)
    ]
    path = build_project(tmp_path, records, overlap=1)
    open_for_review(qtbot, window, path, "rev-paint")
    view = window.review_view
    assert view is not None
    events = _Events()
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(events)
    try:
        checked = 0
        for _ in range(4):
            settled_review(qtbot, window)
            before, sizes = window.controller.pair, view.splitter.sizes()  # type: ignore[union-attr]
            events.painted.clear()
            events.laid_out.clear()
            events.on = True
            send_key(window, "1")
            qtbot.waitUntil(lambda b=before: window.controller.pair is not b, timeout=10_000)  # type: ignore[union-attr]
            QApplication.processEvents()
            events.on = False
            if view.splitter.sizes() != sizes:
                continue  # the prompt panel was resized: then everything below moves
            checked += 1
            behind = (MainWindow, ReviewView, TextPanel, QSplitter)
            assert not [w for w in events.painted if isinstance(w, behind)], "painted behind"
            assert not [w for w in events.laid_out if isinstance(w, (TextPanel, QSplitter))]
            assert any(isinstance(w.parentWidget(), InertMarkdownView) for w in events.painted)
    finally:
        app.removeEventFilter(events)
    assert checked >= 2


def _see_through(monkeypatch: Any) -> None:
    """The plain way: scroll bars and bars transparent, Qt paints what is behind them."""

    def plain_bar(self: QScrollBar, event: QPaintEvent) -> None:
        QScrollBar.paintEvent(self, event)

    def plain_bar_event(self: QScrollBar, event: QEvent) -> bool:
        return QScrollBar.event(self, event)

    def plain_widget_event(self: QWidget, event: QEvent) -> bool:
        return QWidget.event(self, event)

    def plain_widget(self: QWidget, event: QPaintEvent) -> None:
        QWidget.paintEvent(self, event)

    monkeypatch.setattr(markdown_view._OpaqueScrollBar, "paintEvent", plain_bar)
    monkeypatch.setattr(markdown_view._OpaqueScrollBar, "event", plain_bar_event)
    monkeypatch.setattr(OpaqueStyledWidget, "paintEvent", plain_widget)
    monkeypatch.setattr(OpaqueStyledWidget, "event", plain_widget_event)


def _opaque_widgets(window: MainWindow) -> list[QWidget]:
    found: list[QWidget] = [*window.findChildren(ReviewHeader), *window.findChildren(ReviewFooter)]
    found += [v.verticalScrollBar() for v in window.findChildren(InertMarkdownView)]
    return found


def test_opaque_scroll_bars_and_bars_paint_what_the_see_through_ones_did(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: Any
) -> None:
    records = [judged(f"bar-{n}", text_a=LONG_ANSWER, text_b=LONG_ANSWER) for n in range(3)]
    path = build_project(tmp_path, records, overlap=1)
    open_for_review(qtbot, window, path, "rev-bars")
    settled_review(qtbot, window)
    assert window.review_view is not None
    window.review_view._tick.stop()  # the dwell time label would change between two grabs
    for name in ("dark", "light"):
        theme.manager().apply(name)
        settled_review(qtbot, window)
        widgets = _opaque_widgets(window)
        assert widgets
        assert all(w.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent) for w in widgets)
        window.repaint()
        opaque = screen_image(window)
        with monkeypatch.context() as patch:
            _see_through(patch)
            for widget in widgets:
                widget.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
            window.repaint()
            plain = screen_image(window)
            for widget in widgets:
                widget.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        assert opaque == plain, name


def _staged(view: ReviewView, pair: Pair) -> bool:
    docs = view._docs.get(pair.handle)
    return docs is not None and all(
        panel.is_staged(doc)
        for panel, (doc, _prepared) in zip(
            view._panels(), (docs.prompt, docs.left, docs.right), strict=True
        )
    )


def _pair(n: int, prompt_lines: int) -> Pair:
    prompt = "\n\n".join(f"Line {k} of prompt {n}." for k in range(prompt_lines))
    return Pair(f"8{n:05d}.A", prompt, None, LONG_ANSWER, LONG_ANSWER + " (B)", Slot.A)


def test_resized_panels_still_show_the_render_made_ahead(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: Any
) -> None:
    first_paints: list[bool] = []
    real_paint = InertMarkdownView.paintEvent

    def paint(self: InertMarkdownView, event: Any) -> None:
        if self._rendered is not None and not self._rendering:
            first_paints.append(
                self._rendered_key == self._render_key()
                and self.viewport().height() <= self._rendered_height
            )
        real_paint(self, event)

    monkeypatch.setattr(InertMarkdownView, "paintEvent", paint)
    path = build_project(tmp_path, showcase_records(2), overlap=1)
    open_for_review(qtbot, window, path, "rev-resize")
    view = window.review_view
    assert view is not None
    settled_review(qtbot, window)
    view._tick.stop()  # the dwell time label would change between two screen grabs
    # short, tall (the prompt panel grows), then short ones until it shrinks again
    lines = [1, 6] + [1] * PROMPT_SHRINK_AFTER
    pairs = [_pair(n, k) for n, k in enumerate(lines)]
    view._on_pair_shown(pairs[0])
    changes = 0
    for pair in pairs[1:]:
        view._on_upcoming([pair])
        qtbot.waitUntil(lambda p=pair: _staged(view, p), timeout=5_000)
        QApplication.processEvents()
        sizes = view.splitter.sizes()
        first_paints.clear()
        view._on_pair_shown(pair)
        shown = screen_image(window)
        if view.splitter.sizes() != sizes:
            changes += 1
            assert first_paints == [True, True, True], first_paints  # copies, not text layout
        window.repaint()
        assert screen_image(window) == shown  # the copies are what a plain repaint draws
    assert changes == 2  # it grew once and shrank once
