"""The prompt panel and the two response panels of the review window.

Panels only render: they show a prepared document, the refusal class the controller reports,
and an elision banner with an explicit "show full text" action when a text was capped. Every
text on them is generic ("LEFT", "Complied"), never anything about where a response came from.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QResizeEvent, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.model import RefusalClass
from reviewdesk.ui.review.display_text import Prepared
from reviewdesk.ui.review.markdown_view import InertMarkdownView
from reviewdesk.ui.widgets import key_text

REFUSAL_WORDS = {
    RefusalClass.FULL_COMPLIANCE: "Complied",
    RefusalClass.PARTIAL_REFUSAL: "Partial refusal",
    RefusalClass.FULL_REFUSAL: "Full refusal",
}


class ElisionBanner(QFrame):
    """Says how much of a long text is shown and offers the full text in a plain viewer."""

    full_text_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("elisionBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton("Show full text")
        self.button.setProperty("role", "link")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.full_text_requested)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.hide()

    def show_for(self, prepared: Prepared) -> None:
        if not prepared.elided:
            self.hide()
            return
        self.label.setText(
            f"Long text: showing the first {prepared.shown_chars:,} of "
            f"{prepared.total_chars:,} characters."
        )
        self.show()


class ViewFlip(QWidget):
    """The views of one panel on top of each other, one shown; a flip shows another.

    Not a ``QStackedWidget``: switching a stacked widget's page shows and hides widgets inside
    its layout, which invalidates every layout up to the window, so the whole window was laid
    out again between a key press and the next pair (and the page re-enabled its updates, which
    repaints all of it). Here the views are positioned by hand, the container has no layout,
    and showing one view and hiding the other changes no size hint anywhere. Every view always
    has the container's geometry, and the container reports the size hints of its views, so the
    panel is laid out exactly as with a stacked widget around a single view.
    """

    def __init__(self, first: InertMarkdownView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._views = [first]
        self._current = first
        first.setParent(self)
        self.setSizePolicy(first.sizePolicy())

    def current(self) -> InertMarkdownView:
        return self._current

    def add(self, view: InertMarkdownView) -> None:
        """Add a hidden view (it gets the container's geometry, as every view here)."""
        view.setParent(self)
        view.hide()
        view.setGeometry(self.rect())
        self._views.append(view)

    def show_view(self, view: InertMarkdownView) -> None:
        """Show ``view`` instead of the current one (no layout; only the views repaint)."""
        if view is self._current:
            return
        old, self._current = self._current, view
        view.show()  # before hiding the old one: nothing behind the views is ever exposed
        old.hide()

    def sizeHint(self) -> QSize:
        return self._current.sizeHint()

    def minimumSizeHint(self) -> QSize:
        return self._current.minimumSizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        for view in self._views:
            view.setGeometry(self.rect())


class TextPanel(QFrame):
    """A titled card holding one inert document.

    Two views sit on top of each other (:class:`ViewFlip`): the one shown, and one holding the
    next pair's document (:meth:`stage`), laid out off screen while the reviewer reads. Showing
    a staged document is a flip between the two, with no layout on the way from a key press to
    the next pair.
    """

    full_text_requested = Signal()

    def __init__(self, object_name: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(18, 12, 12, 12)
        self.layout_.setSpacing(8)
        head = QHBoxLayout()
        head.setSpacing(8)
        self.title = QLabel(title)
        self.title.setObjectName("panelTitle")
        self.hint = QLabel()
        self.hint.setObjectName("panelTitle")
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.hint)
        self.layout_.addLayout(head)
        self.banner = ElisionBanner()
        self.banner.full_text_requested.connect(self.full_text_requested)
        self.layout_.addWidget(self.banner)
        self._front = InertMarkdownView()
        self._spare: InertMarkdownView | None = None  # the second view, made on first use
        self._accessible_name = ""
        self.flip = ViewFlip(self._front)
        # The stacked widget only frames the flip (a single page, never switched): the panel's
        # layout then sees the same item, with the same size hints, as it always has.
        self.views = QStackedWidget()
        self.views.addWidget(self.flip)
        self.layout_.addWidget(self.views, 1)
        self._staged: QTextDocument | None = None
        self.prepared: Prepared | None = None
        self._find: list[QTextEdit.ExtraSelection] = []
        self._diff: list[QTextEdit.ExtraSelection] = []

    @property
    def view(self) -> InertMarkdownView:
        """The view on screen."""
        return self.flip.current()

    def _views(self) -> tuple[InertMarkdownView, ...]:
        return (self._front,) if self._spare is None else (self._front, self._spare)

    def _back(self) -> InertMarkdownView:
        if self._spare is None:  # made after the first pair is on screen, not at start-up
            self._spare = InertMarkdownView()
            self._spare.setAccessibleName(self._accessible_name)
            self.flip.add(self._spare)
        return self._spare if self.flip.current() is self._front else self._front

    def set_accessible_name(self, name: str) -> None:
        self._accessible_name = name
        for view in self._views():
            view.setAccessibleName(name)

    def wrap_width(self) -> int:
        """The width documents are laid out at in this panel."""
        return self.view.lineWrapColumnOrWidth()

    def stage(self, doc: QTextDocument, height: int = 0) -> None:
        """Lay ``doc`` out and render it in the hidden view: showing it next is only a flip.

        ``height``: the view's height expected once ``doc`` is shown (the panels are resized
        for the next prompt), when it will be taller than now; see ``prerender``.
        """
        back = self._back()
        front = self.view
        if back.testAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent) or (
            back.size() != front.size()
        ):
            # Qt holds a hidden widget's resize event back until it is shown, i.e. until after
            # the key press; deliver it now, so the document is laid out at the right width.
            back.setGeometry(front.geometry())
            back.setAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent, False)
            QApplication.sendEvent(back, QResizeEvent(back.size(), QSize(-1, -1)))
        if back.document() is not doc:
            back.setExtraSelections([])
            back.show_document(doc)
        back.prerender(height)
        self._staged = doc

    def is_staged(self, doc: QTextDocument) -> bool:
        return self._staged is doc and self._spare is not None and self._back().document() is doc

    def unstage(self) -> None:
        """Forget the staged document (it was built for another theme or width)."""
        self._staged = None

    def set_title(self, title: str) -> None:
        self.title.setText(title)

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)

    def show_document(self, doc: QTextDocument, prepared: Prepared) -> None:
        self._find, self._diff = [], []
        if self.is_staged(doc):
            self.flip.show_view(self._back())  # laid out already: a flip
        else:
            self.view.setExtraSelections([])
            self.view.show_document(doc)
        self._staged = None
        self.prepared = prepared
        self.banner.show_for(prepared)

    def clear(self) -> None:
        self._find, self._diff = [], []
        self._staged = None
        for view in self._views():
            view.setExtraSelections([])
            view.clear_document()
        self.prepared = None
        self.banner.hide()

    def plain_text(self) -> str:
        return self.view.document().toPlainText()

    # ------------------------------------------------------------ highlights

    def _selection(self, start: int, end: int, color: QColor) -> QTextEdit.ExtraSelection:
        selection = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.view.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(color)
        selection.cursor = cursor
        selection.format = fmt
        return selection

    def set_find(self, needle: str, color: QColor, limit: int = 1000) -> list[int]:
        """Highlight every match of ``needle``; returns the match positions."""
        self._find = []
        positions: list[int] = []
        if needle:
            doc = self.view.document()
            cursor = doc.find(needle, 0)
            while not cursor.isNull() and len(positions) < limit:
                positions.append(cursor.selectionStart())
                self._find.append(
                    self._selection(cursor.selectionStart(), cursor.selectionEnd(), color)
                )
                cursor = doc.find(needle, cursor)
        self._apply()
        return positions

    def set_diff(self, spans: list[tuple[int, int]], color: QColor) -> None:
        limit = self.view.document().characterCount() - 1
        self._diff = [self._selection(s, min(e, limit), color) for s, e in spans if s < limit]
        self._apply()

    def clear_diff(self) -> None:
        self._diff = []
        self._apply()

    def scroll_to(self, position: int) -> None:
        cursor = QTextCursor(self.view.document())
        cursor.setPosition(position)
        self.view.setTextCursor(cursor)
        self.view.ensureCursorVisible()

    def _apply(self) -> None:
        self.view.setExtraSelections(self._diff + self._find)


class RefusalBar(QWidget):
    """Radio-style toggles for a response's refusal class (click again to clear)."""

    clicked = Signal(object)  # RefusalClass

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(6)
        caption = QLabel("Refusal")
        caption.setObjectName("refusalCaption")
        layout.addWidget(caption)
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)
        self.buttons: dict[RefusalClass, QPushButton] = {}
        for refusal, words in REFUSAL_WORDS.items():
            button = QPushButton(words)
            button.setProperty("role", "refusal")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setAccessibleName(f"Refusal class: {words}")
            button.clicked.connect(lambda _checked=False, r=refusal: self.clicked.emit(r))
            self.group.addButton(button)
            self.buttons[refusal] = button
            layout.addWidget(button)
        layout.addStretch(1)

    def set_value(self, value: RefusalClass | None) -> None:
        for refusal, button in self.buttons.items():
            button.setChecked(refusal is value)

    def set_keys(self, keys: dict[RefusalClass, str]) -> None:
        for refusal, button in self.buttons.items():
            key = keys.get(refusal, "")
            words = REFUSAL_WORDS[refusal]
            button.setText(f"{words}  {key_text(key)}" if key else words)


class ResponsePanel(TextPanel):
    """One response with its refusal toggles."""

    refusal_clicked = Signal(object)

    def __init__(self, object_name: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(object_name, title, parent)
        self.refusal = RefusalBar()
        self.refusal.clicked.connect(self.refusal_clicked)
        self.layout_.addWidget(self.refusal)
