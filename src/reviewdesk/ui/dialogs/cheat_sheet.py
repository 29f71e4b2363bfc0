"""The ``?`` cheat sheet, generated from the live key map (never a hand-written list)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.keymap import ACTIONS
from reviewdesk.ui.widgets import KeyCap, plain_buttons, role_label

NOTES = (
    "Keys do nothing while you type in the note or find box; Esc or Enter gives them back.",
    "Holding a key down counts once. A label is saved before the next pair appears.",
)


def _group_card(group: str, rows: list[tuple[str, tuple[str, ...]]]) -> QFrame:
    card = QFrame()
    card.setProperty("role", "card")
    layout = QGridLayout(card)
    layout.setContentsMargins(16, 12, 16, 14)
    layout.setHorizontalSpacing(14)
    layout.setVerticalSpacing(7)
    layout.addWidget(role_label(group.upper(), "caption"), 0, 0, 1, 2)
    for row, (label, keys) in enumerate(rows, start=1):
        text = QLabel(label)
        layout.addWidget(text, row, 0)
        caps = QWidget()
        caps_layout = QHBoxLayout(caps)
        caps_layout.setContentsMargins(0, 0, 0, 0)
        caps_layout.setSpacing(4)
        caps_layout.addStretch(1)
        if keys:
            for key in keys:
                caps_layout.addWidget(KeyCap(key))
        else:
            caps_layout.addWidget(role_label("not bound", "muted"))
        layout.addWidget(caps, row, 1)
    layout.setColumnStretch(0, 1)
    return card


class CheatSheet(QDialog):
    """Every review action and its keys, grouped as in the key map."""

    def __init__(
        self,
        keymap: Mapping[str, tuple[str, ...]],
        parent: QWidget | None = None,
        help_keys: tuple[str, ...] = ("?",),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("cheatSheet")
        self.setWindowTitle("Keyboard shortcuts")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(22, 20, 22, 16)
        outer.setSpacing(14)
        outer.addWidget(role_label("Keyboard shortcuts", "title"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(14)
        groups: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for action in ACTIONS:
            groups.setdefault(action.group, []).append(
                (action.label, tuple(keymap.get(action.id, ())))
            )
        for n, (group, rows) in enumerate(groups.items()):
            grid.addWidget(_group_card(group, rows), n // 2, n % 2, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(grid)
        for note in NOTES:
            label = role_label(note, "muted")
            label.setWordWrap(True)
            outer.addWidget(label)
        buttons = plain_buttons(QDialogButtonBox(QDialogButtonBox.StandardButton.Close))
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        for key in help_keys:  # the key that opened the sheet also closes it
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(self.reject)
