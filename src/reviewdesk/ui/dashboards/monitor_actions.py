"""The "why" prompt of the lead's monitor actions (acknowledge, lift quarantine, freeze).

Each action is recorded in the audit chain with who took it and why, and a lifted quarantine
travels into every later export's ``config.quarantine_overrides`` (STATISTICS.md §7.6), so the
prompt insists on a reason before OK is enabled.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.ui.widgets import plain_buttons, role_label


class WhyDialog(QDialog):
    """Asks who takes a logged action and why (and, to acknowledge, which statistic)."""

    def __init__(
        self,
        title: str,
        explanation: str,
        *,
        ok_text: str,
        statistics: Sequence[str] = (),
        need_reason: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("whyDialog")
        self.setWindowTitle(title)
        self.resize(520, 320)
        self.need_reason = need_reason
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(10)
        layout.addWidget(role_label(title, "section"))
        text = role_label(explanation, "muted")
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.statistic = QComboBox()
        for name in statistics:
            self.statistic.addItem(name)
        if statistics:
            form.addRow("Statistic", self.statistic)
        self.actor = QLineEdit("lead")
        self.actor.setPlaceholderText("Your name, as recorded in the audit log")
        form.addRow("Taken by", self.actor)
        self.why = QPlainTextEdit()
        self.why.setPlaceholderText("Why? (recorded in the audit log and in later exports)")
        self.why.setMaximumHeight(110)
        if need_reason:
            form.addRow("Why", self.why)
        else:
            self.why.hide()
        layout.addLayout(form)
        self.buttons = plain_buttons(
            QDialogButtonBox(
                QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            )
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.why.textChanged.connect(self._update)
        self.actor.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        has_reason = bool(self.why.toPlainText().strip()) or not self.need_reason
        self.ok_button.setEnabled(has_reason and bool(self.actor.text().strip()))

    def reason(self) -> str:
        return self.why.toPlainText().strip()

    def who(self) -> str:
        return self.actor.text().strip()

    def chosen_statistic(self) -> str:
        return self.statistic.currentText()
