"""The plain full-text viewer behind "Show full text" for capped responses.

A ``QPlainTextEdit`` lays out only the blocks on screen, so even megabytes stay responsive once
long lines are split into short blocks (``display_text.full_view_text``). Plain text only: the
full text is never rendered as Markdown.
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.ui.review.display_text import FULL_VIEW_LINE, full_view_text
from reviewdesk.ui.widgets import plain_buttons


class FullTextDialog(QDialog):
    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fullTextDialog")
        self.setWindowTitle(title)
        self.resize(900, 640)
        layout = QVBoxLayout(self)
        shown = full_view_text(text)
        note = QLabel(
            f"{len(text):,} characters, as plain text."
            + (
                f" Lines longer than {FULL_VIEW_LINE:,} characters are shown in pieces."
                if shown != text
                else ""
            )
        )
        note.setProperty("role", "muted")
        layout.addWidget(note)
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlainText(shown)
        layout.addWidget(self.editor, 1)
        buttons = plain_buttons(QDialogButtonBox(QDialogButtonBox.StandardButton.Close))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
