"""The header (progress, timer, pace, reviewer) and footer (choices, note, flag, undo, saved
state) of the review window.

Both only display what the controller reports and turn clicks into action ids, so mouse and
keyboard go through exactly the same path (``ReviewView.trigger``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.model import ReviewProgress, ScreenChoice
from reviewdesk.services.review import MAX_NOTE_CHARS
from reviewdesk.ui import theme
from reviewdesk.ui.widgets import ChoiceButton, OpaqueStyledWidget, key_text

CHOICE_WORDS = {
    "review.choose_left": ("Left better", "choose-left"),
    "review.choose_right": ("Right better", "choose-right"),
    "review.choose_tie": ("Tie", "tie"),
    "review.choose_both_bad": ("Both bad", "both-bad"),
    "review.skip": ("Skip", "skip"),
}
SAVED_WORDS = {
    ScreenChoice.LEFT: "Left better",
    ScreenChoice.RIGHT: "Right better",
    ScreenChoice.TIE: "Tie",
    ScreenChoice.BOTH_BAD: "Both bad",
    ScreenChoice.SKIP: "Skipped",
}


class ReviewHeader(OpaqueStyledWidget):
    """Opaque (see ``OpaqueStyledWidget``): its labels change with every pair."""

    help_requested = Signal()
    switch_reviewer_requested = Signal()
    end_session_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewHeader")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 10, 14, 10)
        layout.setSpacing(10)
        progress_box = QVBoxLayout()
        progress_box.setSpacing(5)
        self.progress_label = QLabel("Loading…")
        self.progress_label.setObjectName("progressLabel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("reviewProgress")
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedWidth(180)
        self.progress_bar.setAccessibleName("Your progress")
        progress_box.addWidget(self.progress_label)
        progress_box.addWidget(self.progress_bar)
        layout.addLayout(progress_box)
        layout.addSpacing(12)
        self.queue_label = QLabel("")
        self.queue_label.setObjectName("queueLabel")
        self.timer_label = QLabel("")
        self.timer_label.setObjectName("timerLabel")
        self.pace_label = QLabel("")
        self.pace_label.setObjectName("paceLabel")
        for n, label in enumerate((self.queue_label, self.timer_label, self.pace_label)):
            if n:
                dot = QLabel("·")
                dot.setObjectName("headerDot")
                layout.addWidget(dot)
            layout.addWidget(label)
        layout.addStretch(1)
        self.help_button = QToolButton()
        self.help_button.setObjectName("helpButton")
        self.help_button.setText("Keys")
        self.help_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.help_button.setProperty("role", "flat")
        self.help_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.help_button.setAccessibleName("Keyboard shortcuts")
        self.help_button.clicked.connect(self.help_requested)
        layout.addWidget(self.help_button)
        self.reviewer_button = QToolButton()
        self.reviewer_button.setObjectName("reviewerButton")
        self.reviewer_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reviewer_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.reviewer_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        menu = QMenu(self.reviewer_button)
        self.switch_action = QAction("Switch reviewer…", menu)
        self.switch_action.triggered.connect(self.switch_reviewer_requested)
        self.end_action = QAction("End session", menu)
        self.end_action.triggered.connect(self.end_session_requested)
        menu.addAction(self.switch_action)
        menu.addSeparator()
        menu.addAction(self.end_action)
        self.reviewer_button.setMenu(menu)
        layout.addWidget(self.reviewer_button)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        manager = theme.manager()
        self.help_button.setIcon(manager.icon("keyboard"))
        self.reviewer_button.setIcon(manager.icon("reviewer"))
        self.switch_action.setIcon(manager.icon("reviewer"))
        self.end_action.setIcon(manager.icon("leave"))

    def set_reviewer(self, name: str) -> None:
        self.reviewer_button.setText(f"{name}  ▾")
        self.reviewer_button.setAccessibleName(f"Reviewer {name}")

    def set_help_key(self, key: str) -> None:
        self.help_button.setText(f"Keys  {key_text(key)}" if key else "Keys")

    def set_progress(self, progress: ReviewProgress) -> None:
        total = progress.done + progress.remaining
        self.progress_label.setText(f"{progress.done:,} / {total:,} done")
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(progress.done)
        self.queue_label.setText(f"queue {progress.queue_fraction:.0%}")

    def set_timer(self, seconds: float | None) -> None:
        if seconds is None:
            self.timer_label.setText("no pair on screen")
            return
        whole = int(seconds)
        text = f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"
        self.timer_label.setText(f"{text} on this pair")

    def set_pace(self, text: str) -> None:
        self.pace_label.setText(text)


class NoteEdit(QLineEdit):
    """The inline note box: Enter or Esc hands the keyboard back to the review keys."""

    finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noteEdit")
        self.setMaxLength(MAX_NOTE_CHARS)
        self.setClearButtonEnabled(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setAccessibleName("Note on this pair")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finished.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class ReviewFooter(OpaqueStyledWidget):
    """Opaque (see ``OpaqueStyledWidget``): the saved state changes with every label."""

    action_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewFooter")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 12, 20, 12)
        outer.setSpacing(10)
        row = QHBoxLayout()
        row.setSpacing(10)
        self.choice_buttons: dict[str, ChoiceButton] = {}
        for action_id, (words, _icon) in CHOICE_WORDS.items():
            button = ChoiceButton(words, "")
            button.clicked.connect(lambda _c=False, a=action_id: self.action_clicked.emit(a))
            self.choice_buttons[action_id] = button
            row.addWidget(button)
        outer.addLayout(row)
        tools = QHBoxLayout()
        tools.setSpacing(8)
        self.note_edit = NoteEdit()
        self.note_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.note_edit.setMinimumWidth(320)
        tools.addWidget(self.note_edit, 3)
        self.flag_button = self._tool("Flag", "review.flag", checkable=True)
        self.undo_button = self._tool("Undo", "review.undo")
        self.reveal_button = self._tool("Reveal sources", "review.reveal")
        self.reveal_button.hide()
        for tool in (self.flag_button, self.undo_button, self.reveal_button):
            tools.addWidget(tool)
        tools.addStretch(1)
        self.notice_label = QLabel()
        self.notice_label.setObjectName("paceNotice")
        self.notice_label.hide()
        self.reveal_label = QLabel()
        self.reveal_label.setObjectName("revealLabel")
        self.reveal_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.reveal_label.hide()
        self.save_label = QLabel("")
        self.save_label.setObjectName("saveState")
        tools.addWidget(self.notice_label)
        tools.addWidget(self.reveal_label)
        tools.addWidget(self.save_label)
        outer.addLayout(tools)
        self._keys: dict[str, str] = {}
        self.refresh_icons()

    def _tool(self, words: str, action_id: str, checkable: bool = False) -> QPushButton:
        button = QPushButton(words)
        button.setProperty("role", "flat")
        button.setCheckable(checkable)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setAccessibleName(words)
        button.clicked.connect(lambda _c=False: self.action_clicked.emit(action_id))
        return button

    def refresh_icons(self) -> None:
        manager = theme.manager()
        for action_id, (_words, icon) in CHOICE_WORDS.items():
            self.choice_buttons[action_id].set_icon(manager.icon(icon))
        self.flag_button.setIcon(manager.icon("flag"))
        self.undo_button.setIcon(manager.icon("undo"))
        self.reveal_button.setIcon(manager.icon("reveal"))

    def set_keys(self, first_key: dict[str, str]) -> None:
        """Show the live key map on the buttons (first key of each action)."""
        self._keys = dict(first_key)
        for action_id, button in self.choice_buttons.items():
            button.set_key(first_key.get(action_id, ""))
        note_key = first_key.get("review.note")
        hint = f"Note ({key_text(note_key)})" if note_key else "Note"
        self.note_edit.setPlaceholderText(f"{hint}: optional; Enter or Esc to return to the keys")
        for tool, words, action_id in (
            (self.flag_button, "Flag", "review.flag"),
            (self.undo_button, "Undo", "review.undo"),
            (self.reveal_button, "Reveal sources", "review.reveal"),
        ):
            key = first_key.get(action_id)
            tool.setText(f"{words}  {key_text(key)}" if key else words)

    def set_choices_enabled(self, enabled: bool) -> None:
        for button in self.choice_buttons.values():
            button.setEnabled(enabled)
        self.flag_button.setEnabled(enabled)

    def set_save_state(self, state: str, text: str) -> None:
        if self.save_label.property("state") != state:  # re-polish only when the style changes
            self.save_label.setProperty("state", state)
            self.save_label.style().unpolish(self.save_label)
            self.save_label.style().polish(self.save_label)
        self.save_label.setText(text)

    def show_notice(self, text: str) -> None:
        self.notice_label.setText(text)
        self.notice_label.setVisible(bool(text))
