"""Small shared widgets: key caps, choice buttons, styled labels.

Styling lives in the stylesheet (``assets/styles/app.qss``); these classes only set the object
names and dynamic properties the stylesheet selects on.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOption,
    QWidget,
)

from reviewdesk.domain.progress import Progress

#: How key names read on caps (Qt's portable names are long or cryptic for some keys).
KEY_GLYPHS = {
    "Left": "←",
    "Right": "→",
    "Up": "↑",
    "Down": "↓",
    "Backspace": "⌫",
    "Space": "Space",
    "Escape": "Esc",
    "Enter": "Enter",
}


def key_text(key: str) -> str:
    """A key as shown on a cap: ``Left`` → ``←``; modifiers kept (``Ctrl+Z``)."""
    if "+" in key and key != "+":
        *mods, base = key.split("+")
        return "+".join([*mods, KEY_GLYPHS.get(base, base)])
    return KEY_GLYPHS.get(key, key)


def role_label(text: str, role: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setProperty("role", role)
    return label


def job_progress_widgets() -> tuple[QProgressBar, QLabel]:
    """The hidden progress bar and its muted label of a dialog that runs one job at a time."""
    bar = QProgressBar()
    bar.setTextVisible(False)
    bar.hide()
    return bar, role_label("", "muted")


def show_job_progress(
    bar: QProgressBar, label: QLabel, progress: Progress, max_chars: int | None = None
) -> None:
    """Show a job's progress: a fraction when the job knows its total, else a busy bar."""
    if progress.total:
        bar.setRange(0, 1000)
        bar.setValue(int(1000 * (progress.fraction or 0)))
    label.setText(progress.label if max_chars is None else progress.label[:max_chars])


class OpaqueStyledWidget(QWidget):
    """A bar whose style-sheet background (an opaque color, square corners) covers all of it.

    Qt does not know that a styled background is opaque, so whenever a label on the bar
    changes it paints the window, the page and everything else behind the label first. This
    widget paints its styled background itself and tells Qt it is opaque, which gives the same
    pixels and stops those repaints at the bar. Only for rules with an opaque background color
    and no rounded corners.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() in (QEvent.Type.Polish, QEvent.Type.StyleChange):
            # The style sheet may clear the flag when it polishes the widget.
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        return handled

    def paintEvent(self, event: QPaintEvent) -> None:
        # What Qt draws for a styled background, which it skips for an opaque widget.
        option = QStyleOption()
        option.initFrom(self)
        painter = QPainter(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, self)
        painter.end()


class KeyCap(QLabel):
    """A keyboard key drawn as a small cap."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(key_text(key), parent)
        self.setObjectName("keyCap")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def set_key(self, key: str) -> None:
        self.setText(key_text(key))
        self.setVisible(bool(key))


class ChoiceButton(QPushButton):
    """A footer button showing its key cap and its words: ``[1] Left better``.

    Buttons never take focus, so the keyboard stays with the review surface.
    """

    def __init__(
        self, text: str, key: str, icon: QIcon | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("choiceButton")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 7, 12, 7)
        layout.setSpacing(9)
        self.cap = KeyCap(key)
        self.icon_label = QLabel()
        self.icon_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.words = QLabel(text)
        self.words.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addWidget(self.cap)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.words, 1)
        self.setAccessibleName(text)
        if icon is not None:
            self.set_icon(icon)

    def set_icon(self, icon: QIcon) -> None:
        self.icon_label.setPixmap(icon.pixmap(QSize(18, 18)))

    def set_key(self, key: str) -> None:
        self.cap.set_key(key)

    def sizeHint(self) -> QSize:
        layout = self.layout()
        hint = layout.sizeHint() if layout is not None else super().sizeHint()
        return QSize(hint.width(), max(hint.height(), 40))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


def separator(vertical: bool = False) -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine if vertical else QFrame.Shape.HLine)
    line.setProperty("role", "separator")
    return line


def plain_buttons(box: QDialogButtonBox) -> QDialogButtonBox:
    """Drop the stock icons (floppy disk, red cross) from a dialog's buttons: calmer."""
    for button in box.buttons():
        button.setIcon(QIcon())
    return box
