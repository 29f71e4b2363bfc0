"""Untrusted responses render inert: no script, no fetch, no link opened, no frozen window.

A local HTTP server records every request it gets; responses point images, frames and style
sheets at it. After rendering, clicking and copying, it must have seen nothing. A 2 MB single
line must render within a time bound while a timer keeps firing.
"""

from __future__ import annotations

import http.server
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from reviewdesk.ui.main_window import MainWindow
from reviewdesk.ui.review.display_text import MAX_RENDER_CHARS, full_view_text, prepare
from reviewdesk.ui.review.markdown_view import build_document
from tests.ui.support import build_project, judged, label_rows, open_for_review, send_key

RENDER_BOUND_S = 3.0


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def spy_server() -> Iterator[tuple[str, list[str]]]:
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def opened_urls() -> Iterator[list[str]]:
    """Any URL Qt tries to open (a clicked link) lands here instead of a browser."""
    seen: list[str] = []

    class Catcher(QObject):
        @Slot(QUrl)
        def handle(self, url: QUrl) -> None:
            seen.append(url.toString())

    catcher = Catcher()
    schemes = ("http", "https", "javascript", "file", "data", "mailto")
    for scheme in schemes:
        QDesktopServices.setUrlHandler(scheme, catcher, "handle")  # type: ignore[call-overload]
    yield seen
    for scheme in schemes:
        QDesktopServices.unsetUrlHandler(scheme)


def hostile(base: str) -> str:
    return "\n\n".join(
        [
            "Here is the fix. <script>alert('pwned')</script>",
            f'<img src="{base}/img-tag.png" onerror="alert(1)">',
            f"![tracking pixel]({base}/md-image.png)",
            "![local file](file:///etc/passwd)",
            "[click me](javascript:alert(document.cookie))",
            f"[docs]({base}/link-target)",
            f'<iframe src="{base}/frame"></iframe>',
            f'<link rel="stylesheet" href="{base}/style.css">',
            f'<style>@import url("{base}/import.css");</style>',
            f'<a href="{base}/anchor" style="background:url({base}/bg.png)">styled</a>',
            '```html\n<script src="https://example.invalid/x.js"></script>\n```',
        ]
    )


def test_hostile_markup_is_inert(
    qtbot: Any,
    window: MainWindow,
    tmp_path: Path,
    spy_server: tuple[str, list[str]],
    opened_urls: list[str],
) -> None:
    base, requests = spy_server
    path = build_project(
        tmp_path,
        [
            judged(
                "h1",
                prompt=f"<script>alert(1)</script> ![p]({base}/prompt.png)",
                text_a=hostile(base),
                text_b=hostile(base) + "\n\nsecond",
            )
        ],
        overlap=1,
    )
    controller = open_for_review(qtbot, window, path, "rev-x")
    view = window.review_view
    QApplication.processEvents()
    window.repaint()
    left = view.left_panel.view
    text = left.document().toPlainText()
    assert "<script>alert('pwned')</script>" in text  # shown as text, never run
    assert "[image not loaded: tracking pixel]" in text
    assert "[image not loaded: local file]" in text
    assert "\ufffc" not in text  # no image objects left in the document
    html = left.document().toHtml()
    assert "<img" not in html
    assert "<iframe" not in html.lower().replace("&lt;iframe", "")
    # Click every word of the link lines; nothing may be opened.
    for panel in (view.left_panel, view.right_panel, view.prompt_panel):
        doc_view = panel.view
        for y in range(5, doc_view.viewport().height(), 12):
            for x in range(5, doc_view.viewport().width(), 40):
                qtbot.mouseClick(doc_view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    left.copy_all_action.trigger()
    QApplication.processEvents()
    time.sleep(0.3)  # give a (wrongly) started fetch time to arrive
    QApplication.processEvents()
    assert requests == []
    assert opened_urls == []
    send_key(window, "1")
    qtbot.waitUntil(lambda: len(label_rows(path)) == 1)
    qtbot.waitUntil(lambda: controller.state == "done")
    assert requests == []


def test_two_megabyte_line_renders_fast_and_the_window_stays_responsive(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    # Responses are capped at 1 MiB by the importer (SPEC §3.1); the prompt carries the 2 MB line.
    huge = "x" * (1024 * 1024)
    path = build_project(
        tmp_path,
        [judged("big", text_a=huge, text_b="short answer", prompt="y" * (2 * 1024 * 1024))],
        overlap=1,
    )
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    started = time.perf_counter()
    try:
        controller = open_for_review(qtbot, window, path, "rev-big")
        window.repaint()
        elapsed = time.perf_counter() - started
        assert controller.state == "showing"
        assert elapsed < RENDER_BOUND_S, f"rendering took {elapsed:.1f} s"
        view = window.review_view
        big_left = controller.pair.left == huge
        big, small = (
            (view.left_panel, view.right_panel) if big_left else (view.right_panel, view.left_panel)
        )
        assert big.banner.isVisible()
        assert "1,048,576" in big.banner.label.text()
        assert view.prompt_panel.banner.isVisible()
        assert "2,097,152" in view.prompt_panel.banner.label.text()
        assert not small.banner.isVisible()
        # Scrolling through the capped text and repainting stays quick.
        bar = big.view.verticalScrollBar()
        t0 = time.perf_counter()
        for value in range(0, bar.maximum(), max(1, bar.maximum() // 10)):
            bar.setValue(value)
            big.view.viewport().repaint()
        assert time.perf_counter() - t0 < RENDER_BOUND_S
        # The event loop keeps turning: the timer fires while we wait.
        before = len(ticks)
        qtbot.wait(200)
        assert len(ticks) - before >= 3
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert max(gaps) < RENDER_BOUND_S
        # "Show full text" opens the plain viewer, which stays responsive too.
        from reviewdesk.ui.dialogs.full_text_dialog import FullTextDialog

        t0 = time.perf_counter()
        big.banner.button.click()
        dialog = view.findChild(FullTextDialog)
        assert dialog is not None
        dialog.repaint()
        assert time.perf_counter() - t0 < RENDER_BOUND_S
        assert len(dialog.editor.toPlainText().replace("\n", "")) == len(huge)
        dialog.reject()
        send_key(window, "3")
        qtbot.waitUntil(lambda: controller.state == "done")
    finally:
        timer.stop()


def test_display_caps() -> None:
    prepared = prepare("word " * 50_000)
    assert prepared.elided
    assert prepared.shown_chars <= MAX_RENDER_CHARS
    assert prepare("short").text == "short"
    assert not prepare("short").elided
    assert "\u200b" in prepare("z" * 1000).text  # long runs get break opportunities
    assert full_view_text("a" * 5000).count("\n") == 2
    colors = {"muted": "#777777", "code_bg": "#eeeeee"}
    t0 = time.perf_counter()
    doc, prepared = build_document("q" * 2_000_000, colors)
    assert time.perf_counter() - t0 < 1.0
    assert prepared.total_chars == 2_000_000
    # An open code fence cut by the cap is closed, so the rest is not swallowed as code.
    text = "```\n" + "code line\n" * 10_000
    assert prepare(text).text.rstrip().endswith("```")
    del doc
