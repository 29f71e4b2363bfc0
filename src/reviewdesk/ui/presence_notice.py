"""The notice a window shows when its project is also open in other reviewdesk windows.

Working on one project from several windows at once is allowed and safe (every label is its own
transaction; ``services.presence`` says who else is there). The notice says what actually
happens, calmly, and never blocks: it sits above the page until dismissed and takes no focus, so
the review keys keep working.

What is true, and therefore what it says:

- Different reviewers each label a pair at most once, but a pair can be on screen in two windows
  at once (each window fetches its next pairs ahead), so now and then a pair gets one label more
  than the queue asks for.
- One reviewer in two windows gets the same pairs in the same order; a pair labeled in both
  keeps the later answer as that reviewer's label (both stay in the log), and Undo takes back
  the reviewer's latest label whichever window saved it.

Blinding: in review mode the notice never names another reviewer (tests/ui/test_blinding.py);
the lead, who sees every reviewer anyway, gets names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from reviewdesk.services.presence import PresenceRecord
from reviewdesk.ui import theme

ICON_PX = 18
ICON_GAP = 10


@dataclass(frozen=True)
class Notice:
    tone: str  # "info" or "warning"
    title: str
    body: str


def _windows(n: int) -> str:
    return "another reviewdesk window" if n == 1 else f"{n} other reviewdesk windows"


def describe(
    others: Sequence[PresenceRecord], mode: str, reviewer: str | None, host: str
) -> Notice | None:
    """What to tell the user of a window in ``mode`` (as ``reviewer``) about ``others``."""
    if not others:
        return None
    if mode == "review":
        return _for_reviewer(others, reviewer)
    return _for_lead(others, host)


def _for_reviewer(others: Sequence[PresenceRecord], reviewer: str | None) -> Notice:
    same = [r for r in others if r.reviewing and r.reviewer == reviewer]
    if same:
        where = "another window" if len(same) == 1 else f"{len(same)} other windows"
        return Notice(
            "warning",
            f"You are also reviewing this project in {where}",
            "Every window serves pairs from your one queue, so the same pair can appear in "
            "each. If you label it twice, your later answer counts (both stay in the log), and "
            "Undo takes back your latest label from any window. Reviewing in one window is "
            "simplest.",
        )
    if any(r.reviewing for r in others):
        body = (
            "Everyone can label at the same time, and every label is saved safely. A pair on "
            "screen in two windows at once may get one extra label."
        )
    else:
        body = "You can keep labeling as usual: every label is saved safely."
    return Notice("info", f"This project is also open in {_windows(len(others))}", body)


def _for_lead(others: Sequence[PresenceRecord], host: str) -> Notice:
    parts = []
    reviewing = Counter(r.reviewer for r in others if r.reviewing)
    for name, count in sorted(reviewing.items(), key=lambda kv: str(kv[0])):
        parts.append(f"{name} is reviewing" + (f" (in {count} windows)" if count > 1 else ""))
    leads = sum(1 for r in others if r.mode == "lead")
    if leads:
        parts.append("the lead view is open" + (f" in {leads} windows" if leads > 1 else ""))
    rest = len(others) - sum(reviewing.values()) - leads
    if rest:
        parts.append(f"{rest} more window{'s' if rest > 1 else ''}")
    hosts = sorted({r.host for r in others if r.host and r.host != host})
    elsewhere = f" Open on another computer: {', '.join(hosts)}." if hosts else ""
    there = "In the other window" if len(others) == 1 else "In the other windows"
    return Notice(
        "info",
        f"This project is also open in {_windows(len(others))}",
        f"{there}: {'; '.join(parts)}.{elsewhere} Everyone can work at the same time, and "
        "every label is saved safely; the counts on this page do not update as others label.",
    )


class PresenceBanner(QFrame):
    """A calm bar: icon, one bold line, one explaining line, "Got it".

    The window shows the bar's container while there is a notice (``wanted``).
    """

    wanted = Signal(bool)  # True with a notice, False once cleared or dismissed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("presenceNotice")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setProperty("tone", "info")
        self.notice: Notice | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 12, 14, 12)
        layout.setSpacing(12)
        words = QVBoxLayout()
        words.setSpacing(3)
        head = QHBoxLayout()
        head.setSpacing(ICON_GAP)
        self.icon = QLabel()
        self.icon.setObjectName("presenceIcon")
        self.icon.setFixedSize(QSize(ICON_PX, ICON_PX))
        self.title = QLabel()
        self.title.setObjectName("presenceTitle")
        head.addWidget(self.icon)
        head.addWidget(self.title, 1)
        self.body = QLabel()
        self.body.setObjectName("presenceBody")
        self.body.setWordWrap(True)
        for label in (self.title, self.body):  # reviewer names are typed by people: no markup
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setContentsMargins(ICON_PX + ICON_GAP, 0, 0, 0)  # under the title
        words.addLayout(head)
        words.addWidget(self.body)
        layout.addLayout(words, 1)
        self.dismiss_button = QPushButton("Got it")
        self.dismiss_button.setProperty("role", "flat")
        self.dismiss_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the review keys keep going
        self.dismiss_button.setAccessibleName("Dismiss this notice")
        self.dismiss_button.clicked.connect(self.clear)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignVCenter)
        theme.manager().theme_changed.connect(self._refresh_icon)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Take the height the wrapped text needs at this width (a tool bar would guess)."""
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        layout = self.layout()
        if layout is None:
            return
        needed = layout.totalHeightForWidth(self.width())
        if needed > 0 and needed != self.height():
            self.setFixedHeight(needed)

    def show_notice(self, notice: Notice | None) -> None:
        self.notice = notice
        if notice is None:
            self.wanted.emit(False)
            return
        if self.property("tone") != notice.tone:
            self.setProperty("tone", notice.tone)
            self.style().unpolish(self)
            self.style().polish(self)
        self.title.setText(notice.title)
        self.body.setText(notice.body)
        self.setAccessibleName(notice.title)
        self._refresh_icon()
        self._fit_height()
        self.wanted.emit(True)

    def clear(self) -> None:
        self.show_notice(None)

    def _refresh_icon(self, _name: str = "") -> None:
        notice = self.notice
        if notice is None:
            return
        name, token = ("warning", "warning") if notice.tone == "warning" else ("reviewer", "accent")
        self.icon.setPixmap(theme.manager().icon(name, token).pixmap(QSize(ICON_PX, ICON_PX)))
