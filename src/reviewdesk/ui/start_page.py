"""The start page: open a project to review or to manage, create one, or open the demo.

Opening a project for review and opening it as the lead are separate buttons on purpose: the
lead's pages show model and judge names, so a reviewer never lands there by default.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from reviewdesk import __version__
from reviewdesk.services.recent import RecentProject
from reviewdesk.ui import theme
from reviewdesk.ui.widgets import role_label


class ActionTile(QPushButton):
    """A large start-page button: icon, title and one line of explanation."""

    def __init__(self, icon: str, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("actionTile")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(title)
        self._icon_name = icon
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(14)
        self.icon_label = QLabel()
        self.icon_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addWidget(self.icon_label, 0, Qt.AlignmentFlag.AlignTop)
        words = QVBoxLayout()
        words.setSpacing(3)
        head = role_label(title, "section")
        body = role_label(text, "muted")
        body.setWordWrap(True)
        for label in (head, body):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            words.addWidget(label)
        layout.addLayout(words, 1)
        self.refresh_icon()
        self.setMinimumHeight(86)

    def refresh_icon(self) -> None:
        self.icon_label.setPixmap(theme.manager().icon(self._icon_name, "accent").pixmap(28, 28))


class RecentRow(QFrame):
    """One recent project with its two ways in."""

    review_clicked = Signal(object)
    manage_clicked = Signal(object)

    def __init__(self, recent: RecentProject, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recentRow")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 10, 12, 10)
        layout.setSpacing(12)
        icon = QLabel()
        icon.setPixmap(theme.manager().icon("project").pixmap(22, 22))
        layout.addWidget(icon)
        words = QVBoxLayout()
        words.setSpacing(2)
        name = QLabel(recent.name)
        name.setObjectName("recentName")
        where = QLabel(str(recent.path) + ("" if recent.exists else "  (not found)"))
        where.setObjectName("recentPath")
        words.addWidget(name)
        words.addWidget(where)
        layout.addLayout(words, 1)
        review = QPushButton("Review")
        review.setProperty("role", "primary")
        review.setEnabled(recent.exists)
        review.clicked.connect(lambda: self.review_clicked.emit(recent.path))
        manage = QPushButton("Manage")
        manage.setToolTip("Open as the lead: imports, queue, settings (shows model names)")
        manage.setEnabled(recent.exists)
        manage.clicked.connect(lambda: self.manage_clicked.emit(recent.path))
        layout.addWidget(review)
        layout.addWidget(manage)


class StartPage(QWidget):
    open_requested = Signal()
    new_requested = Signal()
    demo_requested = Signal()
    review_requested = Signal(object)  # Path
    manage_requested = Signal(object)  # Path
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("startPage")
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addStretch(1)
        column = QWidget()
        column.setMaximumWidth(880)
        column.setMinimumWidth(560)
        column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(24, 48, 24, 24)
        layout.setSpacing(10)
        brand = QHBoxLayout()
        brand.setSpacing(14)
        self.logo = QLabel()
        self.logo.setPixmap(theme.manager().icon("app", "accent").pixmap(52, 52))
        brand.addWidget(self.logo)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(role_label("reviewdesk", "hero"))
        titles.addWidget(
            role_label("Blind pairwise review of the items where LLM judges disagree.", "subtitle")
        )
        brand.addLayout(titles, 1)
        layout.addLayout(brand)
        layout.addSpacing(22)
        tiles = QHBoxLayout()
        tiles.setSpacing(12)
        self.open_tile = ActionTile("open", "Open project…", "Review or manage a .reviewdesk file.")
        self.new_tile = ActionTile("new", "New project…", "Start an empty project, then import.")
        self.demo_tile = ActionTile(
            "demo", "Open the demo", "An incident-bot release with a ready review queue."
        )
        self.open_tile.clicked.connect(self.open_requested)
        self.new_tile.clicked.connect(self.new_requested)
        self.demo_tile.clicked.connect(self.demo_requested)
        for tile in (self.open_tile, self.new_tile, self.demo_tile):
            tiles.addWidget(tile)
        layout.addLayout(tiles)
        layout.addSpacing(22)
        layout.addWidget(role_label("RECENT PROJECTS", "caption"))
        self.recent_box = QVBoxLayout()
        self.recent_box.setContentsMargins(0, 0, 0, 0)
        self.recent_box.setSpacing(8)
        recent_host = QWidget()
        recent_host.setObjectName("recentHost")
        recent_host.setLayout(self.recent_box)
        scroll = QScrollArea()
        scroll.setWidget(recent_host)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setStyleSheet(
            "QScrollArea { background: transparent; border: none; }"
            " QWidget#recentHost { background: transparent; }"
        )
        scroll.viewport().setAutoFillBackground(False)
        layout.addWidget(scroll, 1)
        foot = QHBoxLayout()
        self.status = role_label("", "muted")
        self.status.setObjectName("startStatus")
        foot.addWidget(self.status, 1)
        settings = QPushButton("Keys and appearance…")
        settings.setProperty("role", "flat")
        settings.clicked.connect(self.settings_requested)
        foot.addWidget(settings)
        foot.addWidget(role_label(f"v{__version__}", "muted"))
        layout.addLayout(foot)
        outer.addWidget(column, 4)
        outer.addStretch(1)
        self.rows: list[RecentRow] = []
        theme.manager().theme_changed.connect(self._refresh_icons)

    def _refresh_icons(self, _name: str = "") -> None:
        self.logo.setPixmap(theme.manager().icon("app", "accent").pixmap(52, 52))
        for tile in (self.open_tile, self.new_tile, self.demo_tile):
            tile.refresh_icon()

    def set_recent(self, recent: Sequence[RecentProject]) -> None:
        while self.recent_box.count():
            item = self.recent_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        self.rows = []
        if not recent:
            empty = role_label("No recent projects yet. Open one, or start with the demo.", "muted")
            self.recent_box.addWidget(empty)
        for entry in recent:
            row = RecentRow(entry)
            row.review_clicked.connect(self.review_requested)
            row.manage_clicked.connect(self.manage_requested)
            self.rows.append(row)
            self.recent_box.addWidget(row)
        self.recent_box.addStretch(1)

    def set_busy(self, text: str) -> None:
        self.status.setText(text)
        for tile in (self.open_tile, self.new_tile, self.demo_tile):
            tile.setEnabled(not text)
