"""Choosing who is reviewing: an existing local profile or a new one.

Switching reviewer is always this explicit dialog, never a silent default, because every label
is attributed to the profile chosen here.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.services.review import MAX_NAME_CHARS
from reviewdesk.ui.widgets import plain_buttons, role_label


class ReviewerDialog(QDialog):
    """Pick a profile from the list or type a new name; ``name()`` is the choice."""

    def __init__(
        self, profiles: Sequence[str], current: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reviewerDialog")
        self.setWindowTitle("Who is reviewing?")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(role_label("Who is reviewing?", "title"))
        hint = role_label(
            "Labels are recorded under this profile. Choose yours, or type a new name.", "muted"
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.list = QListWidget()
        self.list.addItems(list(profiles))
        self.list.setVisible(bool(profiles))
        self.list.currentTextChanged.connect(self._on_pick)
        self.list.itemDoubleClicked.connect(lambda _item: self._accept_if_valid())
        layout.addWidget(self.list)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("reviewerName")
        self.name_edit.setPlaceholderText("New profile name, e.g. rev-07")
        self.name_edit.setMaxLength(MAX_NAME_CHARS)
        self.name_edit.textChanged.connect(self._update)
        layout.addWidget(QLabel("Profile"))
        layout.addWidget(self.name_edit)
        self.buttons = plain_buttons(
            QDialogButtonBox(
                QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            )
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start reviewing")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setProperty("role", "primary")
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        if current and current in profiles:
            matches = self.list.findItems(current, Qt.MatchFlag.MatchExactly)
            if matches:
                self.list.setCurrentItem(matches[0])
        self._update()
        self.name_edit.setFocus()

    def _on_pick(self, text: str) -> None:
        if text:
            self.name_edit.setText(text)

    def name(self) -> str:
        return self.name_edit.text().strip()

    def _update(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.name()))

    def _accept_if_valid(self) -> None:
        if self.name():
            self.accept()
