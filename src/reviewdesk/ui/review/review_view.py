"""The blind pairwise review window (SPEC §5): prompt, two responses, keys, and nothing else.

The view renders what ``ReviewController`` reports and turns keys and clicks into action ids;
the controller owns the flow. Pure presentation work stays here: building inert documents for
the prefetched pairs ahead of time (so advancing only swaps documents), find and diff
highlights, the responsive side-by-side/stacked layout, the dwell timer display.

Blinding: every string this view shows is generic or comes from the pair's prompt and response
texts. It never receives model, judge, item, queue or other reviewers' information, and the
pair's handle and slot never reach a widget.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.model import Pair, ReviewProgress
from reviewdesk.ui import theme
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.review.display_text import Prepared
from reviewdesk.ui.review.markdown_view import InertDocument, build_document, build_transcript
from reviewdesk.ui.review.panels import ResponsePanel, TextPanel
from reviewdesk.ui.review.review_chrome import SAVED_WORDS, ReviewFooter, ReviewHeader
from reviewdesk.ui.review.review_controller import (
    REFUSALS,
    PairState,
    ReviewController,
    SavedLabel,
    Side,
    State,
)
from reviewdesk.ui.shortcuts import ShortcutBinder
from reviewdesk.ui.widgets import key_text, role_label

if TYPE_CHECKING:  # imported when first used: not needed to show the first pair
    from reviewdesk.ui.dialogs.cheat_sheet import CheatSheet
    from reviewdesk.ui.review.text_diff import WordDiff

#: Below this window width the two responses are stacked instead of side by side.
STACK_BELOW_PX = 1000
NOTICE_MS = 7000
SAVING_HINT_MS = 250
#: Upcoming pairs' documents are built this long after a pair appeared, one per turn.
PREPARE_DELAY_MS = 40
#: The prompt panel shrinks only when this many prompts in a row fit in less (see _fit_prompt).
PROMPT_SHRINK_AFTER = 8
#: Documents prepared ahead: the pairs the controller has prefetched.
VIEW_ACTIONS = frozenset({"review.note", "review.find", "review.diff", "app.help"})


@dataclass
class PairDocs:
    prompt: tuple[InertDocument, Prepared]
    left: tuple[InertDocument, Prepared]
    right: tuple[InertDocument, Prepared]


def build_pair_docs(pair: Pair, colors: dict[str, str]) -> PairDocs:
    if pair.messages is not None:
        prompt = build_transcript(pair.messages, colors)
    else:
        prompt = build_document(pair.prompt or "", colors)
    return PairDocs(prompt, build_document(pair.left, colors), build_document(pair.right, colors))


class FindBar(QWidget):
    """Ctrl+F: find in the prompt and both responses; Enter for the next match, Esc to close."""

    changed = Signal(str)
    step = Signal(int)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 6, 14, 6)
        layout.setSpacing(8)
        self.edit = _FindEdit()
        self.edit.setObjectName("findEdit")
        self.edit.setPlaceholderText("Find in the prompt and both responses")
        self.edit.setAccessibleName("Find text")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self.changed)
        self.edit.stepped.connect(self.step)
        self.edit.escaped.connect(self.closed)
        self.count = QLabel("")
        self.count.setObjectName("findCount")
        self.prev_button = QToolButton()
        self.prev_button.setAccessibleName("Previous match")
        self.prev_button.clicked.connect(lambda: self.step.emit(-1))
        self.next_button = QToolButton()
        self.next_button.setAccessibleName("Next match")
        self.next_button.clicked.connect(lambda: self.step.emit(1))
        self.close_button = QToolButton()
        self.close_button.setAccessibleName("Close find")
        self.close_button.clicked.connect(self.closed)
        for button in (self.prev_button, self.next_button, self.close_button):
            button.setProperty("role", "flat")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.prev_button)
        layout.addWidget(self.next_button)
        layout.addWidget(self.close_button)
        self.refresh_icons()
        self.hide()

    def refresh_icons(self) -> None:
        manager = theme.manager()
        self.prev_button.setIcon(manager.icon("arrow-up"))
        self.next_button.setIcon(manager.icon("arrow-down"))
        self.close_button.setIcon(manager.icon("close"))


class _FindEdit(QLineEdit):
    stepped = Signal(int)
    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            self.stepped.emit(-1 if shift else 1)
            return
        super().keyPressEvent(event)


class MessagePage(QWidget):
    """The calm screen shown when there is no pair: loading, or all done."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        self.icon = QLabel()
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = role_label("", "title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = role_label("", "subtitle")
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        layout.addWidget(self.icon)
        layout.addSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addSpacing(16)
        row = QHBoxLayout()
        row.addStretch(1)
        self.refresh_button = QPushButton("Check for new pairs")
        self.undo_button = QPushButton("Undo the last label")
        self.end_button = QPushButton("End session")
        for button in (self.refresh_button, self.undo_button, self.end_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(3)

    def show_loading(self) -> None:
        self.icon.clear()
        self.title.setText("Loading the next pair…")
        self.text.setText("")
        for button in (self.refresh_button, self.undo_button, self.end_button):
            button.hide()

    def show_done(self, progress: ReviewProgress | None, labeled_now: int) -> None:
        self.icon.setPixmap(theme.manager().icon("check", "success").pixmap(56, 56))
        self.title.setText("All done")
        done = ""
        if progress is not None:
            done = f"{progress.done:,} label{'s' if progress.done != 1 else ''} in all"
        session = f"{labeled_now} this session" if labeled_now else ""
        summary = " · ".join(p for p in (done, session) if p)
        self.text.setText(
            "Nothing is waiting for you in this queue right now. Thank you!"
            + (f"\n{summary}." if summary else "")
        )
        for button in (self.refresh_button, self.undo_button, self.end_button):
            button.show()


class ReviewView(QWidget):
    """The review surface of the main window (one per reviewer session)."""

    end_session_requested = Signal()
    switch_reviewer_requested = Signal()

    def __init__(
        self, ops: Ops, keymap: Mapping[str, tuple[str, ...]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reviewView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._ops = ops
        self.keymap: dict[str, tuple[str, ...]] = dict(keymap)
        self.controller: ReviewController | None = None
        self._docs: dict[str, PairDocs] = {}
        self._shown: PairDocs | None = None
        self._upcoming: list[Pair] = []
        self._diff_on = False
        self._diff_token = 0
        self._matches: list[tuple[TextPanel, int]] = []
        self._match_index = -1
        self._stacked = False
        self.last_diff: WordDiff | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.header = ReviewHeader()
        self.header.help_requested.connect(lambda: self.trigger("app.help"))
        self.header.switch_reviewer_requested.connect(self.switch_reviewer_requested)
        self.header.end_session_requested.connect(self.end_session_requested)
        outer.addWidget(self.header)
        self.find_bar = FindBar()
        self.find_bar.changed.connect(self._on_find_changed)
        self.find_bar.step.connect(self._on_find_step)
        self.find_bar.closed.connect(self.close_find)
        outer.addWidget(self.find_bar)

        self.pages = QStackedWidget()
        outer.addWidget(self.pages, 1)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(18, 14, 18, 14)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(12)
        self.prompt_panel = TextPanel("promptPanel", "PROMPT")
        self.prompt_panel.set_accessible_name("Prompt")
        self.prompt_panel.setMinimumHeight(90)
        self.left_panel = ResponsePanel("leftPanel", "LEFT")
        self.left_panel.set_accessible_name("Left response")
        self.right_panel = ResponsePanel("rightPanel", "RIGHT")
        self.right_panel.set_accessible_name("Right response")
        for panel, title in (
            (self.prompt_panel, "Prompt"),
            (self.left_panel, "Left response"),
            (self.right_panel, "Right response"),
        ):
            panel.full_text_requested.connect(lambda p=panel, t=title: self._show_full_text(p, t))
        self.left_panel.refusal_clicked.connect(lambda r: self._refusal_clicked(Side.LEFT, r))
        self.right_panel.refusal_clicked.connect(lambda r: self._refusal_clicked(Side.RIGHT, r))
        self.responses = QSplitter(Qt.Orientation.Horizontal)
        self.responses.setObjectName("responses")
        self.responses.setChildrenCollapsible(False)
        self.responses.setHandleWidth(14)
        self.responses.addWidget(self.left_panel)
        self.responses.addWidget(self.right_panel)
        self.splitter.addWidget(self.prompt_panel)
        self.splitter.addWidget(self.responses)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        self._prompt_fixed_by_user = False
        self._prompt_fits: deque[int] = deque(maxlen=PROMPT_SHRINK_AFTER)
        body_layout.addWidget(self.splitter)
        self.pages.addWidget(body)
        self.message_page = MessagePage()
        self.message_page.refresh_button.clicked.connect(self._refresh)
        self.message_page.undo_button.clicked.connect(lambda: self.trigger("review.undo"))
        self.message_page.end_button.clicked.connect(self.end_session_requested)
        self.pages.addWidget(self.message_page)

        self.footer = ReviewFooter()
        self.footer.action_clicked.connect(self.trigger)
        self.footer.note_edit.textChanged.connect(self._on_note_changed)
        self.footer.note_edit.finished.connect(self.return_to_keys)
        outer.addWidget(self.footer)

        self.shortcuts = ShortcutBinder(self, self.trigger)
        self.apply_keymap(self.keymap)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_timer)
        # "Saving…" appears only when a write is slow: a normal commit takes milliseconds, and
        # flashing the word would cost a relayout and repaint on every single label.
        self._saving_timer = QTimer(self)
        self._saving_timer.setSingleShot(True)
        self._saving_timer.setInterval(SAVING_HINT_MS)
        self._saving_timer.timeout.connect(lambda: self.footer.set_save_state("saving", "Saving…"))
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(lambda: self.footer.show_notice(""))
        self._prepare_timer = QTimer(self)
        self._prepare_timer.setSingleShot(True)
        self._prepare_timer.setInterval(PREPARE_DELAY_MS)  # after the new pair is painted
        self._prepare_timer.timeout.connect(self._prepare_next)
        theme.manager().theme_changed.connect(self._on_theme_changed)
        self.message_page.show_loading()
        self.pages.setCurrentWidget(self.message_page)

    # ------------------------------------------------------------------ setup

    def attach(self, controller: ReviewController) -> None:
        """Render ``controller``'s session (one controller per reviewer session)."""
        self.controller = controller
        controller.state_changed.connect(self._on_state)
        controller.pair_shown.connect(self._on_pair_shown)
        controller.pair_state_changed.connect(self._on_pair_state)
        controller.upcoming_changed.connect(self._on_upcoming)
        controller.progress_changed.connect(self.header.set_progress)
        controller.label_saved.connect(self._on_saved)
        controller.notice.connect(self._on_notice)
        controller.revealed.connect(self._on_revealed)
        controller.reveal_available.connect(self.footer.reveal_button.setVisible)
        self.header.set_reviewer(controller.reviewer)
        self.header.set_pace(controller.pace.describe())

    def apply_keymap(self, keymap: Mapping[str, tuple[str, ...]]) -> None:
        """Bind the live key map and show it on the buttons and panel titles."""
        self.keymap = dict(keymap)
        self.shortcuts.bind(self.keymap, ("review.", "app.help"))
        first = {action: keys[0] for action, keys in self.keymap.items() if keys}
        self.footer.set_keys(first)
        self.header.set_help_key(first.get("app.help", ""))
        for panel, side in ((self.left_panel, Side.LEFT), (self.right_panel, Side.RIGHT)):
            keys = {r: first.get(a, "") for a, (s, r) in REFUSALS.items() if s is side}
            panel.refusal.set_keys(keys)
        choose_left = self.keymap.get("review.choose_left", ())
        choose_right = self.keymap.get("review.choose_right", ())
        self.left_panel.set_hint("  ".join(key_text(k) for k in choose_left))
        self.right_panel.set_hint("  ".join(key_text(k) for k in choose_right))

    def shutdown(self) -> None:
        """Stop timers and drop documents; the session is over."""
        self._tick.stop()
        self._saving_timer.stop()
        self._notice_timer.stop()
        self._prepare_timer.stop()
        self.shortcuts.clear()
        if self.controller is not None:
            self.controller.shutdown()
        with contextlib.suppress(RuntimeError, TypeError):
            theme.manager().theme_changed.disconnect(self._on_theme_changed)

    # ------------------------------------------------------------------ actions

    def trigger(self, action_id: str) -> bool:
        """One entry point for keys and clicks: view actions here, the rest to the controller."""
        controller = self.controller
        if controller is None:
            return False
        if action_id == "app.help":
            self.show_cheat_sheet()
            return True
        if action_id == "review.find":
            self.open_find()
            return True
        if action_id == "review.diff":
            if controller.state is State.SHOWING:
                self.toggle_diff()
                return True
            return False
        if action_id == "review.note":
            if controller.state is State.SHOWING:
                self.footer.note_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return True
            return False
        return controller.handle(action_id)

    def return_to_keys(self) -> None:
        """Give the keyboard back to the review keys (after the note or find box)."""
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_cheat_sheet(self) -> CheatSheet:
        from reviewdesk.ui.dialogs.cheat_sheet import CheatSheet

        sheet = CheatSheet(self.keymap, self, help_keys=self.keymap.get("app.help", ("?",)))
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.open()
        return sheet

    def set_window_active(self, active: bool) -> None:
        if self.controller is not None:
            self.controller.set_window_active(active)

    def _refusal_clicked(self, side: Side, refusal: object) -> None:
        for action_id, (s, r) in REFUSALS.items():
            if s is side and r is refusal:
                self.trigger(action_id)

    def _refresh(self) -> None:
        if self.controller is not None:
            self.controller.refresh()

    # ------------------------------------------------------------------ controller signals

    def _on_state(self, state: str) -> None:
        self.footer.set_choices_enabled(state in (State.SHOWING.value, State.SAVING.value))
        if state == State.SAVING.value:
            self._saving_timer.start()
            return
        self._saving_timer.stop()
        if self.footer.save_label.property("state") == "saving":
            self.footer.set_save_state("", "")  # an undo (or a failed save) is over
        if state == State.LOADING.value:
            self.message_page.show_loading()
            self.pages.setCurrentWidget(self.message_page)
            self.header.set_timer(None)
        elif state == State.DONE.value:
            controller = self.controller
            self.message_page.show_done(
                controller.progress if controller else None,
                controller.pace.count if controller else 0,
            )
            self.pages.setCurrentWidget(self.message_page)
            self.header.set_timer(None)
            for panel in (self.prompt_panel, self.left_panel, self.right_panel):
                panel.clear()
            self._shown = None
            self.return_to_keys()

    def _on_pair_shown(self, pair: Pair) -> None:
        docs = self._docs.pop(pair.handle, None) or self._build(pair)
        self.prompt_panel.set_title("CONVERSATION" if pair.messages is not None else "PROMPT")
        self.prompt_panel.show_document(*docs.prompt)
        self.left_panel.show_document(*docs.left)
        self.right_panel.show_document(*docs.right)
        self._shown = docs  # keep the documents alive while they are on screen
        self.pages.setCurrentIndex(0)
        self._fit_prompt(shown=True)
        self.footer.note_edit.blockSignals(True)
        self.footer.note_edit.clear()
        self.footer.note_edit.blockSignals(False)
        self.footer.reveal_label.hide()
        focus = QApplication.focusWidget()
        if focus is not self.find_bar.edit and focus is not self:
            self.return_to_keys()  # e.g. the note box had the keyboard when a button was clicked
        self._matches, self._match_index = [], -1
        if self.find_bar.isVisible() and self.find_bar.edit.text():
            self._on_find_changed(self.find_bar.edit.text())
        if self._diff_on:
            self._request_diff()
        self._update_timer()

    def _on_pair_state(self, state: PairState) -> None:
        self.left_panel.refusal.set_value(state.refusal_left)
        self.right_panel.refusal.set_value(state.refusal_right)
        self.footer.flag_button.setChecked(state.flagged)

    def _on_upcoming(self, pairs: list[Pair]) -> None:
        self._upcoming = list(pairs)
        wanted = {p.handle for p in pairs}
        for handle in [h for h in self._docs if h not in wanted]:
            del self._docs[handle]
        self._prepare_timer.start()

    def _on_saved(self, saved: SavedLabel) -> None:
        words = SAVED_WORDS[saved.choice]
        self.footer.set_save_state("saved", f"✓ Saved · {words}")
        self.footer.reveal_label.hide()
        if self.controller is not None:
            self.header.set_pace(self.controller.pace.describe())

    def _on_notice(self, kind: str, text: str) -> None:
        if kind == "error":
            self.footer.set_save_state("error", text)
            return
        self.footer.show_notice(text)
        self._notice_timer.start(NOTICE_MS)

    def _on_revealed(self, revealed: object) -> None:
        left = getattr(revealed, "left_model", "?")
        right = getattr(revealed, "right_model", "?")
        self.footer.reveal_label.setText(f"Last pair: left was {left} · right was {right}")
        self.footer.reveal_label.show()

    def _on_note_changed(self, text: str) -> None:
        if self.controller is not None:
            self.controller.set_note(text)

    # ------------------------------------------------------------------ documents

    def _panels(self) -> tuple[TextPanel, TextPanel, TextPanel]:
        return (self.prompt_panel, self.left_panel, self.right_panel)

    def _build(self, pair: Pair) -> PairDocs:
        docs = build_pair_docs(pair, theme.current())
        for (doc, _prepared), panel in zip(
            (docs.prompt, docs.left, docs.right), self._panels(), strict=True
        ):
            doc.setTextWidth(panel.wrap_width())
            doc.documentLayout().documentSize()  # lay out now, while the reviewer reads
        return docs

    def _prepare_next(self) -> None:
        """Build one upcoming pair's documents per event-loop turn (never a long stall).

        The next pair's documents are also staged in the panels' hidden views, so that showing
        it after the next label is a flip, with no layout between the key press and the paint.
        """
        for n, pair in enumerate(self._upcoming):
            docs = self._docs.get(pair.handle)
            if docs is None:
                self._docs[pair.handle] = self._build(pair)
                self._prepare_timer.start()
                return
            if n == 0:
                heights = self._heights_after(docs.prompt[0])
                for (doc, _prepared), panel, height in zip(
                    (docs.prompt, docs.left, docs.right), self._panels(), heights, strict=True
                ):
                    if not panel.is_staged(doc):
                        # one panel per turn: lay out and render it ahead
                        panel.stage(doc, height)
                        self._prepare_timer.start()
                        return

    def _heights_after(self, prompt: QTextDocument) -> tuple[int, int, int]:
        """The text views' heights once a pair with this prompt is shown (see _fit_prompt).

        Showing a prompt that needs more (or less) room than the one on screen resizes the
        panels; the staged views are rendered at their coming heights, so that their first
        paint is a copy even then. 0 where no height can be foreseen (the stacked layout
        shares the change between the responses) and where nothing changes.
        """
        plan = self._prompt_plan(prompt, shown=True)
        if plan is None:
            return (0, 0, 0)
        sizes, _fit, size = plan
        change = size - sizes[0] if abs(sizes[0] - size) > 2 else 0
        if change == 0:
            return (0, 0, 0)
        prompt_height = self.prompt_panel.view.viewport().height() + change
        if self._stacked:
            return (prompt_height, 0, 0)
        return (
            prompt_height,
            self.left_panel.view.viewport().height() - change,
            self.right_panel.view.viewport().height() - change,
        )

    def _unstage(self) -> None:
        for panel in self._panels():
            panel.unstage()

    def _on_theme_changed(self, _name: str) -> None:
        self._docs.clear()
        self._unstage()
        self.header.refresh_icons()
        self.footer.refresh_icons()
        self.find_bar.refresh_icons()
        controller = self.controller
        if controller is not None and controller.pair is not None:
            self._on_pair_shown(controller.pair)
            self._on_pair_state(controller.pair_state)
        self._prepare_timer.start()

    def _show_full_text(self, panel: TextPanel, title: str) -> None:
        controller = self.controller
        if controller is None or controller.pair is None:
            return
        pair = controller.pair
        if panel is self.left_panel:
            text = pair.left
        elif panel is self.right_panel:
            text = pair.right
        elif pair.messages is not None:
            text = "\n\n".join(f"[{m.role.value}]\n{m.content}" for m in pair.messages)
        else:
            text = pair.prompt or ""
        from reviewdesk.ui.dialogs.full_text_dialog import FullTextDialog

        dialog = FullTextDialog(f"Full text — {title}", text, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # ------------------------------------------------------------------ find

    def open_find(self) -> None:
        self.find_bar.show()
        self.find_bar.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.find_bar.edit.selectAll()

    def close_find(self) -> None:
        self.find_bar.edit.clear()
        self.find_bar.hide()
        for panel in (self.prompt_panel, self.left_panel, self.right_panel):
            panel.set_find("", QColor())
        self.return_to_keys()

    def _on_find_changed(self, text: str) -> None:
        color = QColor(theme.current()["find_bg"])
        self._matches = []
        for panel in (self.prompt_panel, self.left_panel, self.right_panel):
            for position in panel.set_find(text, color):
                self._matches.append((panel, position))
        self._match_index = -1
        n = len(self._matches)
        self.find_bar.count.setText("" if not text else f"{n} match{'es' if n != 1 else ''}")

    def _on_find_step(self, direction: int) -> None:
        if not self._matches:
            return
        self._match_index = (self._match_index + direction) % len(self._matches)
        panel, position = self._matches[self._match_index]
        panel.scroll_to(position)
        self.find_bar.count.setText(f"{self._match_index + 1} of {len(self._matches)}")

    # ------------------------------------------------------------------ diff

    def toggle_diff(self) -> None:
        self._diff_on = not self._diff_on
        if self._diff_on:
            self._request_diff()
        else:
            self._diff_token += 1
            self.left_panel.clear_diff()
            self.right_panel.clear_diff()
            self.last_diff = None

    def _request_diff(self) -> None:
        self._diff_token += 1
        token = self._diff_token
        left, right = self.left_panel.plain_text(), self.right_panel.plain_text()
        from reviewdesk.ui.review.text_diff import word_diff

        self._ops.background(
            word_diff, left, right, on_done=lambda diff: self._apply_diff(token, diff), owner=self
        )

    def _apply_diff(self, token: int, diff: WordDiff) -> None:
        if token != self._diff_token or not self._diff_on:
            return
        color = QColor(theme.current()["diff_bg"])
        self.left_panel.set_diff(diff.left, color)
        self.right_panel.set_diff(diff.right, color)
        self.last_diff = diff
        if diff.truncated:
            self._on_notice("info", "Long texts: differences are highlighted in the first part.")

    # ------------------------------------------------------------------ layout and timer

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        stacked = self.width() < STACK_BELOW_PX
        if stacked != self._stacked:
            self._stacked = stacked
            self.responses.setOrientation(
                Qt.Orientation.Vertical if stacked else Qt.Orientation.Horizontal
            )
            self._docs.clear()  # prepared for the other width
            self._unstage()
            self._prepare_timer.start()
        self._equalize_responses()
        self._fit_prompt()

    def _equalize_responses(self) -> None:
        total = sum(self.responses.sizes())
        if total > 0:
            self.responses.setSizes([total // 2, total - total // 2])

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self._prompt_fixed_by_user = True

    def _fit_prompt(self, shown: bool = False) -> None:
        """Give the prompt the height it needs (up to 35 %), the responses the rest.

        The panel grows at once for a longer prompt but shrinks only when the last
        ``PROMPT_SHRINK_AFTER`` prompts (``shown``: a new pair) all fit in less: a calm layout,
        and moving the panels would repaint the whole window between a key press and the
        next pair.
        """
        plan = self._prompt_plan(self.prompt_panel.view.document(), shown)
        if plan is None:
            return
        sizes, fit, prompt = plan
        if shown:
            self._prompt_fits.append(fit)
        if abs(sizes[0] - prompt) > 2:
            self.splitter.setSizes([prompt, sum(sizes) - prompt])

    def _prompt_plan(self, doc: QTextDocument, shown: bool) -> tuple[list[int], int, int] | None:
        """What _fit_prompt decides for a prompt ``doc``: (splitter sizes, fit, prompt size).

        None when the prompt panel is left alone. Changes nothing, so it can also foresee the
        sizes for the next pair (``_heights_after``).
        """
        if self._prompt_fixed_by_user:
            return None
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if total <= 0:
            return None
        panel = self.prompt_panel
        chrome = panel.height() - panel.view.viewport().height()
        wanted = int(doc.size().height()) + max(chrome, 60) + 6
        cap = int(total * 0.35)
        fit = max(panel.minimumHeight(), min(wanted, cap))
        fits = [*self._prompt_fits, fit] if shown else list(self._prompt_fits)
        recent = max(fits[-PROMPT_SHRINK_AFTER:], default=fit)
        return sizes, fit, max(fit, min(sizes[0], recent, cap))

    @property
    def stacked(self) -> bool:
        return self._stacked

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self._tick.start()

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().hideEvent(event)
        self._tick.stop()

    def _update_timer(self) -> None:
        controller = self.controller
        if controller is None or controller.state is not State.SHOWING:
            return
        self.header.set_timer(controller.dwell.elapsed_s())
