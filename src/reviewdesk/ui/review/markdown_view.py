"""Inert rendering of untrusted Markdown: no HTML, no scripts, no resources, no network.

Responses come from models and eval files, so they are hostile input as far as the GUI is
concerned. Rendering goes through ``QTextDocument.setMarkdown`` with ``MarkdownNoHTML`` (raw HTML
shows as literal text), ``loadResource`` returns nothing for every URL (so ``file:`` and ``http:``
images are never read), image references become a visible ``[image: …]`` note, and links are
neither clickable nor followed. Qt's text engine runs no scripts at all. Size caps come from
``display_text``, so a megabyte-long line cannot freeze the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, QUrl
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextFrameFormat,
    QTextOption,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QMenu,
    QScrollBar,
    QTextBrowser,
    QTextEdit,
    QWidget,
)

from reviewdesk.domain.model import Message
from reviewdesk.ui.review.display_text import MAX_RENDER_CHARS, Prepared, prepare, strip_breaks

MARKDOWN = QTextDocument.MarkdownFeature.MarkdownDialectGitHub | (
    QTextDocument.MarkdownFeature.MarkdownNoHTML
)
BODY_PX = 15
CODE_PX = 13
LINE_HEIGHT = 135  # percent

ROLE_TITLES = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}


class InertDocument(QTextDocument):
    """A text document that never loads a resource, whatever the markup asks for."""

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        return None


def body_font() -> QFont:
    font = QFont(QGuiApplication.font())
    font.setPixelSize(BODY_PX)
    return font


def code_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPixelSize(CODE_PX)
    return font


def _replace_images(doc: QTextDocument, colors: dict[str, str]) -> None:
    """Turn every image reference into an italic note, so nothing is ever loaded or drawn."""
    images: list[tuple[int, int, str]] = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fmt.isImageFormat():
                image = fmt.toImageFormat()
                alt = str(image.property(QTextFormat.Property.ImageAltText) or "").strip()
                label = alt or image.name() or "image"
                images.append((fragment.position(), fragment.length(), label))
            it += 1
        block = block.next()
    if not images:
        return
    note = QTextCharFormat()
    note.setFontItalic(True)
    note.setForeground(QColor(colors["muted"]))
    cursor = QTextCursor(doc)
    for position, length, label in reversed(images):
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(f"[image not loaded: {label[:200]}]", note)


def _is_code(block: object) -> bool:
    return bool(block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence))  # type: ignore[attr-defined]


def _style_blocks(doc: QTextDocument, colors: dict[str, str]) -> None:
    """Comfortable line height for prose; code blocks in monospace inside a padded card.

    Consecutive code lines (one block each, as the Markdown importer makes them) are moved into
    one ``QTextFrame`` with a background and padding; they wrap instead of being clipped, since
    the view never scrolls sideways.
    """
    code_bg = QColor(colors["code_bg"])
    mono = code_font()
    cursor = QTextCursor(doc)
    cursor.beginEditBlock()
    groups: list[tuple[int, int, int]] = []  # (start, end, indent) of consecutive code blocks
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        new = QTextBlockFormat(fmt)
        if _is_code(block):
            new.setNonBreakableLines(False)
            new.setLineHeight(100, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
            new.setTopMargin(0)
            new.setBottomMargin(0)
            new.setLeftMargin(0)
            new.setIndent(0)
            end = block.position() + block.length() - 1
            if groups and groups[-1][1] == block.position() - 1:
                groups[-1] = (groups[-1][0], end, groups[-1][2])
            else:
                groups.append((block.position(), end, fmt.indent()))
            cursor.setPosition(block.position())
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            char = QTextCharFormat()
            char.setFont(mono, QTextCharFormat.FontPropertiesInheritanceBehavior.FontPropertiesAll)
            cursor.mergeCharFormat(char)
        else:
            new.setLineHeight(
                LINE_HEIGHT, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value
            )
            prev = block.previous()
            if block.textList() is None and prev.isValid() and prev.textList() is not None:
                new.setTopMargin(max(new.topMargin(), 10))  # air between a list and a paragraph
        cursor.setPosition(block.position())
        cursor.setBlockFormat(new)
        if not _is_code(block):
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().fontFixedPitch():
                    inline = QTextCharFormat()
                    inline.setBackground(code_bg)
                    inline.setFont(
                        mono, QTextCharFormat.FontPropertiesInheritanceBehavior.FontPropertiesAll
                    )
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(
                        fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
                    )
                    cursor.mergeCharFormat(inline)
                it += 1
        block = block.next()
    indent_px = doc.indentWidth()
    for start, end, indent in reversed(groups):
        frame = QTextFrameFormat()
        frame.setBackground(code_bg)
        frame.setPadding(9)
        frame.setBorder(0)
        frame.setTopMargin(6)
        frame.setBottomMargin(6)
        frame.setLeftMargin(indent * indent_px)
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertFrame(frame)  # moves the selected blocks into the frame
    if groups:
        # The frame boundaries get empty layout blocks of a full line each; fold them away.
        root = doc.rootFrame()
        block = doc.begin()
        while block.isValid():
            if block.length() == 1 and QTextCursor(block).currentFrame() == root:
                fold = block.blockFormat()
                fold.setLineHeight(0, QTextBlockFormat.LineHeightTypes.FixedHeight.value)
                cursor.setPosition(block.position())
                cursor.setBlockFormat(fold)
            block = block.next()
    cursor.endEditBlock()


def _new_document(colors: dict[str, str]) -> InertDocument:
    doc = InertDocument()
    doc.setDefaultFont(body_font())
    doc.setDocumentMargin(2)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(option)
    doc.setUndoRedoEnabled(False)
    return doc


def build_document(text: str, colors: dict[str, str]) -> tuple[InertDocument, Prepared]:
    """An inert document for one untrusted Markdown text, capped for fast layout."""
    prepared = prepare(text)
    doc = _new_document(colors)
    doc.setMarkdown(prepared.text, MARKDOWN)
    _replace_images(doc, colors)
    _style_blocks(doc, colors)
    return doc, prepared


def build_transcript(
    messages: Sequence[Message], colors: dict[str, str]
) -> tuple[InertDocument, Prepared]:
    """A chat transcript: each message under its role, the content rendered like a response."""
    doc = _new_document(colors)
    cursor = QTextCursor(doc)
    total = shown = 0
    role_fmt = QTextCharFormat()
    role_fmt.setFontWeight(QFont.Weight.Bold)
    role_fmt.setFontLetterSpacing(108)
    role_fmt.setForeground(QColor(colors["faint"]))
    small = body_font()
    small.setPixelSize(11)
    role_fmt.setFont(
        small, QTextCharFormat.FontPropertiesInheritanceBehavior.FontPropertiesSpecifiedOnly
    )
    for n, message in enumerate(messages):
        # Later messages get what is left of the budget (at least a little each).
        part = prepare(message.content, max_chars=max(2_000, MAX_RENDER_CHARS - shown))
        total += part.total_chars
        shown += part.shown_chars
        if n:
            cursor.insertBlock()
        heading = QTextBlockFormat()
        heading.setTopMargin(14 if n else 0)
        cursor.setBlockFormat(heading)
        cursor.insertText(ROLE_TITLES.get(message.role.value, message.role.value).upper(), role_fmt)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        cursor.insertMarkdown(part.text, MARKDOWN)
    _replace_images(doc, colors)
    _style_blocks(doc, colors)
    return doc, Prepared(text="", total_chars=total, shown_chars=shown)


class _OpaqueScrollBar(QScrollBar):
    """The view's vertical scroll bar, painted on the color that is behind it anyway.

    The style sheet draws the bar on a transparent track, so for Qt the bar is see-through:
    whenever it changes (every new pair: another length, or a flip to the other view) Qt would
    paint the window, the page, the splitters and the panel card behind it first. The track is
    always over the text's background (the panel's surface color), so filling it with that
    color gives the same pixels, and Qt then paints the bar alone.
    """

    def __init__(self, background: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self._background = background  # the viewport: its palette has the text's background
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() in (QEvent.Type.Polish, QEvent.Type.StyleChange):
            # Polishing with the style sheet clears the flag (the rule's track is transparent).
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        return handled

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        viewport = self._background
        painter.fillRect(event.rect(), viewport.palette().color(viewport.backgroundRole()))
        painter.end()
        super().paintEvent(event)


class InertMarkdownView(QTextBrowser):
    """A read-only, unfocusable view of an inert document with its own copy actions.

    It never takes keyboard focus, so review keys always reach the review window; text can
    still be selected with the mouse and copied from the context menu (without the invisible
    break characters).

    Text wraps at a fixed width: the view's width less a vertical scroll bar, whether or not
    the bar is shown. So a document is laid out once per width: a bar that appears or goes
    when the panel's height changes (the prompt panel is fitted to each prompt) only adjusts
    the bar, where wrapping at the viewport's width would lay the whole document out again.

    A view can also be rendered ahead (:meth:`prerender`, while it is hidden behind the one on
    screen): its first paint after it is shown is then a copy of that image, provided nothing
    that shapes the picture has changed since (document, width, scrolling, selection,
    highlights, palette) and the view is no taller than the image; anything else is painted as
    usual. The height may shrink: text is laid out at a fixed width and drawn from the top, so
    a shorter view shows the top of the same picture, pixel for pixel (the responses get
    shorter when the next prompt needs more room).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("markdownView")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setLineWrapMode(QTextEdit.LineWrapMode.FixedPixelWidth)
        self.setLineWrapColumnOrWidth(self.wrap_width())
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)
        self.copy_action = QAction("Copy", self)
        self.copy_action.triggered.connect(self.copy_selection)
        self.copy_all_action = QAction("Copy all text", self)
        self.copy_all_action.triggered.connect(self.copy_all)
        self._placeholder = InertDocument(self)
        self._shown: QTextDocument = self._placeholder  # keeps the shown document alive
        self.setDocument(self._placeholder)
        # The viewport paints its own background (paintEvent), and so does the scroll bar, so
        # Qt need not repaint the panel, splitters, page and window behind them whenever the
        # text changes.
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setVerticalScrollBar(_OpaqueScrollBar(self.viewport()))
        self._highlights = 0  # bumped by every setExtraSelections (part of the render key)
        self._rendered: QPixmap | None = None
        self._rendered_key: tuple[Any, ...] | None = None
        self._rendered_height = 0  # of the viewport when it was rendered
        self._rendering = False

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        return None

    def wrap_width(self) -> int:
        """Where text wraps: the width left beside a vertical scroll bar."""
        bar = self.verticalScrollBar().sizeHint().width()
        return max(40, self.width() - 2 * self.frameWidth() - bar)

    def resizeEvent(self, event: Any) -> None:
        width = self.wrap_width()
        if width != self.lineWrapColumnOrWidth():
            self.setLineWrapColumnOrWidth(width)  # lays the document out at the new width
        super().resizeEvent(event)

    def setExtraSelections(self, selections: Sequence[QTextEdit.ExtraSelection]) -> None:
        self._highlights += 1
        super().setExtraSelections(selections)

    def _render_key(self) -> tuple[Any, ...]:
        """Everything the picture of the viewport depends on, but its height (class notes)."""
        viewport = self.viewport()
        return (
            self._shown,
            self.document() is self._shown,
            viewport.width(),
            viewport.devicePixelRatioF(),
            self.lineWrapColumnOrWidth(),
            self.verticalScrollBar().value(),
            self.horizontalScrollBar().value(),
            self.textCursor().hasSelection(),
            self._highlights,
            viewport.palette().cacheKey(),
            self.isEnabled(),
            self.isActiveWindow(),
        )

    def prerender(self, height: int = 0) -> None:
        """Render the viewport now, for its first paint once shown (see the class notes).

        ``height``: render a hidden view at least this tall (in viewport pixels), when it is
        about to get taller (the next prompt needs less room than this one), so that its first
        paint at the new height is a copy too. The view keeps its size.
        """
        self._rendered = None
        viewport = self.viewport()
        size = self.size()
        grow = height - viewport.height() if not self.isVisible() else 0
        if grow > 0:
            self._resize_hidden(QSize(size.width(), size.height() + grow))
        self._rendering = True
        try:
            image = viewport.grab()
            key, rendered_height = self._render_key(), viewport.height()
        finally:
            self._rendering = False
            if grow > 0:
                self._resize_hidden(size)
        self._rendered, self._rendered_key = image, key
        self._rendered_height = rendered_height

    def _resize_hidden(self, size: QSize) -> None:
        """Resize a hidden view now (Qt would hold the resize event back until it is shown)."""
        old = self.size()
        self.resize(size)
        self.setAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent, False)
        QApplication.sendEvent(self, QResizeEvent(size, old))

    def paintEvent(self, event: QPaintEvent) -> None:
        viewport = self.viewport()
        painter = QPainter(viewport)
        rendered, self._rendered = self._rendered, None  # good for one paint at most
        if (
            rendered is not None
            and not self._rendering
            and viewport.height() <= self._rendered_height
            and self._rendered_key == self._render_key()
        ):
            painter.setClipRegion(event.region())
            painter.drawPixmap(0, 0, rendered)
            painter.end()
            return
        painter.fillRect(event.rect(), viewport.palette().color(viewport.backgroundRole()))
        painter.end()
        super().paintEvent(event)

    def show_document(self, doc: QTextDocument) -> None:
        """Show a prebuilt document (laid out here, at this view's wrap width)."""
        self._set(doc)
        self.verticalScrollBar().setValue(0)

    def clear_document(self) -> None:
        self._set(self._placeholder)

    def _set(self, doc: QTextDocument) -> None:
        self._rendered = None
        old = self.document()
        self._shown = doc
        self.setDocument(doc)
        if old is not doc and old is not self._placeholder and old.parent() is None:
            # PySide's setDocument makes the view the owner of the document's wrapper, so
            # every document ever shown would stay alive as long as the view (a leak of a few
            # hundred KB per pair). Hand it back: our own references decide its lifetime.
            old.setParent(None)

    def copy_selection(self) -> None:
        text = self.textCursor().selectedText().replace("\u2029", "\n")
        if text:
            QGuiApplication.clipboard().setText(strip_breaks(text))

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(strip_breaks(self.document().toPlainText()))

    def _show_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        self.copy_action.setEnabled(self.textCursor().hasSelection())
        menu.addAction(self.copy_action)
        menu.addAction(self.copy_all_action)
        menu.popup(self.mapToGlobal(pos))
