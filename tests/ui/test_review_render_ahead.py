"""The review window's fast path from a key press to the next pair, and what it must not change.

The next pair's documents are laid out and rendered in hidden views while the reviewer reads,
so showing it is a flip; the picture must be exactly what a plain repaint draws. Documents of
pairs already seen are released (PySide would otherwise keep every one alive), the prompt
panel does not jump with every prompt, and the controller folds the WAL in while the reviewer
reads.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

import reviewdesk.ui.review.review_controller as review_controller
from reviewdesk.domain.model import Pair, Slot
from reviewdesk.ui.main_window import MainWindow
from reviewdesk.ui.review.markdown_view import InertDocument, InertMarkdownView
from reviewdesk.ui.review.review_controller import CHECKPOINT_EVERY
from reviewdesk.ui.review.review_view import PROMPT_SHRINK_AFTER
from tests.ui.support import (
    build_project,
    open_for_review,
    screen_image,
    send_key,
    settled_review,
    showcase_records,
)


def test_next_pair_is_a_flip_painted_exactly_as_a_repaint_would(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: Any
) -> None:
    copies: list[bool] = []
    real_paint = InertMarkdownView.paintEvent

    def paint(self: InertMarkdownView, event: Any) -> None:
        if self._rendered is not None and not self._rendering:
            copies.append(self._rendered_key == self._render_key())
        real_paint(self, event)

    monkeypatch.setattr(InertMarkdownView, "paintEvent", paint)
    path = build_project(tmp_path, showcase_records(8), overlap=1)
    open_for_review(qtbot, window, path, "rev-flip")
    view = window.review_view
    assert view is not None
    panels = (view.prompt_panel, view.left_panel, view.right_panel)
    for _ in range(4):
        settled_review(qtbot, window)
        staged = [panel._back() for panel in panels]
        assert all(view_._rendered is not None for view_ in staged), "not rendered ahead"
        before = window.controller.pair  # type: ignore[union-attr]
        send_key(window, "1")
        qtbot.waitUntil(lambda b=before: window.controller.pair is not b, timeout=10_000)  # type: ignore[union-attr]
        shown = screen_image(window)
        assert [panel.view for panel in panels] == staged  # flipped in, not laid out again
        window.repaint()
        assert screen_image(window) == shown  # the prerendered picture is what a repaint draws
    assert copies.count(True) >= 9, copies  # the first paints were copies of the renders


def test_shown_documents_are_released(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    path = build_project(tmp_path, showcase_records(30), overlap=1)
    open_for_review(qtbot, window, path, "rev-memory")
    counts = []
    for n in range(24):
        settled_review(qtbot, window)
        send_key(window, "2")
        if n % 8 == 7:
            settled_review(qtbot, window)
            gc.collect()
            counts.append(sum(isinstance(o, InertDocument) for o in gc.get_objects()))
    # bounded by the panels' views and the prepared pairs, not by the pairs seen so far (each
    # pair shown would otherwise leave three documents behind: 24 per sample)
    assert counts[-1] - counts[0] <= 3, counts


def _pair(n: int, prompt_lines: int) -> Pair:
    prompt = "\n\n".join(f"Line {k} of prompt {n}." for k in range(prompt_lines))
    return Pair(f"9{n:05d}.A", prompt, None, f"left answer {n}", f"right answer {n}", Slot.A)


def test_prompt_panel_grows_at_once_and_shrinks_only_after_several_short_prompts(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = build_project(tmp_path, showcase_records(2), overlap=1)
    open_for_review(qtbot, window, path, "rev-prompt")
    view = window.review_view
    assert view is not None

    def show(pair: Pair) -> int:
        view._on_pair_shown(pair)
        QApplication.processEvents()
        return int(view.splitter.sizes()[0])

    short = show(_pair(1, 1))
    tall = show(_pair(2, 5))
    assert tall > short  # a longer prompt gets its room at once
    heights = [show(_pair(3 + k, 1)) for k in range(PROMPT_SHRINK_AFTER)]
    assert heights[:-1] == [tall] * (PROMPT_SHRINK_AFTER - 1)  # no jumping for a short one
    assert heights[-1] < tall  # but a run of short prompts gives the space back


def test_controller_checkpoints_while_the_reviewer_reads(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: Any
) -> None:
    calls: list[int] = []
    real = review_controller.checkpoint_idle

    def counted(project: Any) -> int:
        calls.append(1)
        return real(project)

    monkeypatch.setattr(review_controller, "checkpoint_idle", counted)
    path = build_project(tmp_path, showcase_records(CHECKPOINT_EVERY + 6), overlap=1)
    open_for_review(qtbot, window, path, "rev-wal")
    for _ in range(CHECKPOINT_EVERY + 2):
        settled_review(qtbot, window)
        send_key(window, "3")
    settled_review(qtbot, window)
    assert len(calls) == 1
