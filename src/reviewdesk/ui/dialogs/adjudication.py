"""Blind adjudication for the lead: settle items whose human labels conflict (SPEC §7).

A conflict is shown the way a reviewer sees a pair — the prompt and two responses, sides drawn
per (project seed, item, adjudicator), rendered inert by the review window's own panels — and
nothing else: not the models, not the judges, not who labelled what or what they chose (the
service's ``Pair`` does not even carry it). The decision (left, right, tie, both bad; keys 1–4)
is stored as an ``adjudication`` label event with its audit record, and the next conflict
follows. Items the adjudicator labelled themselves are left to someone else.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.model import Pair, ScreenChoice
from reviewdesk.services.adjudication import (
    AdjudicationReceipt,
    AdjudicationServed,
    answer_adjudication,
    serve_adjudication,
)
from reviewdesk.services.project import Project
from reviewdesk.ui import theme
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.review.markdown_view import build_document, build_transcript
from reviewdesk.ui.review.panels import TextPanel
from reviewdesk.ui.widgets import role_label

CHOICES = (
    (ScreenChoice.LEFT, "Left better", "1"),
    (ScreenChoice.RIGHT, "Right better", "2"),
    (ScreenChoice.TIE, "Tie", "3"),
    (ScreenChoice.BOTH_BAD, "Both bad", "4"),
)


class AdjudicationDialog(QDialog):
    """Decide conflicting items one by one, blind."""

    def __init__(
        self,
        ops: Ops,
        project: Project,
        parent: QWidget | None = None,
        *,
        adjudicator: str = "lead",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("adjudicationDialog")
        self.setWindowTitle("Adjudicate conflicts")
        self.resize(1180, 780)
        self._ops = ops
        self._project = project
        self.served: AdjudicationServed | None = None
        self.pair: Pair | None = None
        self.decided = 0
        self._busy = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(role_label("Adjudicate conflicts", "title"))
        self.status = role_label("Loading…", "muted")
        self.status.setObjectName("adjudicationStatus")
        titles.addWidget(self.status)
        head.addLayout(titles, 1)
        head.addWidget(role_label("Adjudicator", "muted"))
        self.adjudicator = QLineEdit(adjudicator)
        self.adjudicator.setObjectName("adjudicatorName")
        self.adjudicator.setFixedWidth(180)
        self.adjudicator.editingFinished.connect(self.load_next)
        head.addWidget(self.adjudicator)
        layout.addLayout(head)
        note = role_label(
            "Human labels on this item disagree. Decide as a reviewer would: which response is "
            "better? Sides are shuffled; who labelled it and what they chose are not shown.",
            "muted",
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        split = QSplitter(Qt.Orientation.Vertical)
        self.prompt_panel = TextPanel("promptPanel", "PROMPT")
        responses = QSplitter(Qt.Orientation.Horizontal)
        self.left_panel = TextPanel("leftPanel", "LEFT")
        self.right_panel = TextPanel("rightPanel", "RIGHT")
        responses.addWidget(self.left_panel)
        responses.addWidget(self.right_panel)
        split.addWidget(self.prompt_panel)
        split.addWidget(responses)
        split.setSizes([170, 480])
        self.pages = QStackedWidget()
        self.pages.addWidget(split)
        self.empty = role_label("", "subtitle")
        self.empty.setObjectName("adjudicationEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages.addWidget(self.empty)
        layout.addWidget(self.pages, 1)
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("adjudicationNote")
        self.note_edit.setPlaceholderText("Optional note (kept with the decision)")
        layout.addWidget(self.note_edit)
        buttons = QHBoxLayout()
        self.choice_buttons: dict[ScreenChoice, QPushButton] = {}
        for choice, words, key in CHOICES:
            button = QPushButton(f"[{key}]  {words}")
            button.setObjectName(f"adjudicate_{choice.value}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, ch=choice: self.decide(ch))
            buttons.addWidget(button, 1)
            self.choice_buttons[choice] = button
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(lambda ch=choice: self._key(ch))
        layout.addLayout(buttons)
        bottom = QHBoxLayout()
        self.message = role_label("", "muted")
        bottom.addWidget(self.message, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self._set_enabled(False)
        # keys 1–4 decide; they must not land in the name or note field on opening
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.adjudicator.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.note_edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.load_next()

    def who(self) -> str:
        return self.adjudicator.text().strip()

    def _set_enabled(self, enabled: bool) -> None:
        for button in self.choice_buttons.values():
            button.setEnabled(enabled)

    @property
    def busy(self) -> bool:
        return self._busy

    def load_next(self) -> None:
        """Serve the adjudicator's next open conflict (the same one until it is decided)."""
        name = self.who()
        if not name or self._busy:
            return
        self._busy = True
        self._set_enabled(False)
        self._ops.call(
            serve_adjudication,
            self._project,
            name,
            on_done=self._show,
            on_error=self._failed,
            owner=self,
        )

    def _show(self, served: AdjudicationServed) -> None:
        self._busy = False
        self.served = served
        self.pair = served.pair
        own = (
            f" ({served.own} more that you labelled yourself are left to someone else)"
            if served.own
            else ""
        )
        if served.pair is None:
            for panel in (self.prompt_panel, self.left_panel, self.right_panel):
                panel.clear()
            self.status.setText(f"No open conflicts for you{own}. Decided here: {self.decided}.")
            self.empty.setText(
                "Nothing to adjudicate: every item whose human labels conflict has been "
                f"decided{own}."
            )
            self.pages.setCurrentWidget(self.empty)
            self._set_enabled(False)
            return
        self.pages.setCurrentIndex(0)
        self.status.setText(
            f"{served.remaining} open conflict(s){own}. Decided here: {self.decided}."
        )
        colors = theme.current()
        pair = served.pair
        prompt = (
            build_transcript(pair.messages, colors)
            if pair.messages is not None
            else build_document(pair.prompt or "", colors)
        )
        for panel, (doc, prepared) in (
            (self.prompt_panel, prompt),
            (self.left_panel, build_document(pair.left, colors)),
            (self.right_panel, build_document(pair.right, colors)),
        ):
            panel.show_document(doc, prepared)
        self.note_edit.clear()
        self._set_enabled(True)
        if not self.adjudicator.hasFocus():
            self.setFocus()

    def _failed(self, error: BaseException) -> bool:
        self._busy = False
        if isinstance(error, UserError):
            self.message.setText(str(error))
            self._set_enabled(self.pair is not None)
            return True
        return False

    def _key(self, choice: ScreenChoice) -> None:
        if self.note_edit.hasFocus() or self.adjudicator.hasFocus():
            return  # typing a note or a name: digits are text
        self.decide(choice)

    def decide(self, choice: ScreenChoice) -> None:
        pair = self.pair
        if pair is None or self._busy:
            return
        self._busy = True
        self._set_enabled(False)
        self._ops.call(
            answer_adjudication,
            self._project,
            self.who(),
            pair.handle,
            choice,
            note=self.note_edit.text().strip() or None,
            on_done=self._decided,
            on_error=self._failed,
            changes=Changes(labels=True),
            owner=self,
        )

    def _decided(self, receipt: AdjudicationReceipt) -> None:
        self._busy = False
        self.decided += 1
        words = {c: w for c, w, _k in CHOICES}[receipt.choice]
        self.message.setText(f"Saved: {words}.")
        self.load_next()
