"""The lead's page for one project: what is in it, and the lead's tools.

This page names models and judges (it is the lead's view of the evidence), so the main window
shows it only when a project was opened with "Manage", never from review mode.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.changes import Changes
from reviewdesk.ui import theme
from reviewdesk.ui.widgets import role_label


class StatCard(QFrame):
    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(4)
        layout.addWidget(role_label(caption.upper(), "caption"))
        self.value = role_label("—", "title")
        self.detail = role_label("", "muted")
        self.detail.setWordWrap(True)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)
        layout.addStretch(1)

    def set(self, value: str, detail: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)


class ProjectPage(QWidget):
    review_requested = Signal()
    import_requested = Signal()
    build_queue_requested = Signal()
    overview_requested = Signal()
    settings_requested = Signal()
    close_requested = Signal()
    dashboards_requested = Signal()
    export_requested = Signal()
    gate_check_requested = Signal()
    audit_log_requested = Signal()
    erase_requested = Signal()
    adjudicate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("projectPage")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(36, 28, 36, 24)
        outer.setSpacing(14)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = role_label("", "hero")
        self.path = role_label("", "muted")
        self.path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        titles.addWidget(self.title)
        titles.addWidget(self.path)
        head.addLayout(titles, 1)
        self.review_button = QPushButton("Start reviewing")
        self.review_button.setProperty("role", "primary")
        self.review_button.clicked.connect(self.review_requested)
        head.addWidget(self.review_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(head)
        banner = QFrame()
        banner.setProperty("role", "banner")
        banner_layout = QHBoxLayout(banner)
        banner_layout.setContentsMargins(12, 8, 12, 8)
        self.banner_icon = QLabel()
        banner_layout.addWidget(self.banner_icon)
        banner_text = QLabel(
            "Lead view: this page shows model and judge names. Reviewers should open the "
            "project with “Review”, which never shows them."
        )
        banner_text.setWordWrap(True)
        banner_layout.addWidget(banner_text, 1)
        outer.addWidget(banner)
        tools = QHBoxLayout()
        tools.setSpacing(8)
        self.tool_buttons: dict[str, QPushButton] = {}
        for key, words, icon, signal in (
            ("import", "Import results…", "import", self.import_requested),
            ("build", "Build queue", "build", self.build_queue_requested),
            ("overview", "Queue overview", "queue", self.overview_requested),
            ("settings", "Settings…", "settings", self.settings_requested),
        ):
            button = QPushButton(words)
            button.setProperty("icon_name", icon)
            button.clicked.connect(signal)
            self.tool_buttons[key] = button
            tools.addWidget(button)
        tools.addStretch(1)
        close = QPushButton("Close project")
        close.setProperty("role", "flat")
        close.clicked.connect(self.close_requested)
        tools.addWidget(close)
        outer.addLayout(tools)
        evidence = QHBoxLayout()
        evidence.setSpacing(8)
        for key, words, icon, signal in (
            ("dashboards", "Dashboards", "diff", self.dashboards_requested),
            ("export", "Export…", "open", self.export_requested),
            ("gates", "Gate check…", "check", self.gate_check_requested),
            ("adjudicate", "Adjudicate conflicts…", "flag", self.adjudicate_requested),
            ("audit", "Audit log", "find", self.audit_log_requested),
            ("erase", "Erase a subject…", "close", self.erase_requested),
        ):
            button = QPushButton(words)
            button.setProperty("icon_name", icon)
            button.clicked.connect(signal)
            self.tool_buttons[key] = button
            evidence.addWidget(button)
        evidence.addStretch(1)
        outer.addLayout(evidence)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.cards = {
            "items": StatCard("Items"),
            "judgments": StatCard("Judgments"),
            "contested": StatCard("Contested"),
            "queue": StatCard("Queue"),
            "labels": StatCard("Human labels"),
            "models": StatCard("Models"),
        }
        for n, card in enumerate(self.cards.values()):
            grid.addWidget(card, n // 3, n % 3)
        outer.addLayout(grid)
        outer.addStretch(1)
        self.status: dict[str, Any] | None = None
        self.refresh_icons()
        theme.manager().theme_changed.connect(self._on_theme_changed)

    def _on_theme_changed(self, _name: str) -> None:
        self.refresh_icons()

    def refresh_icons(self) -> None:
        manager = theme.manager()
        for button in self.tool_buttons.values():
            button.setIcon(manager.icon(str(button.property("icon_name"))))
        self.banner_icon.setPixmap(manager.icon("warning", "warning").pixmap(20, 20))

    def set_project(self, name: str, path: str) -> None:
        self.title.setText(name)
        self.path.setText(path)

    def wants(self, changes: Changes) -> bool:
        return bool(
            changes.items
            or changes.judgments
            or changes.queue
            or changes.labels
            or changes.settings
            or changes.reviewers
        )

    def clear(self) -> None:
        """Forget everything shown (before review mode: no hidden widget may keep names)."""
        self.status = None
        for card in self.cards.values():
            card.set("—", "")

    def set_status(self, s: dict[str, Any]) -> None:
        self.status = s
        q = s["queue"]
        reasons = ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in s["contested_by_reason"].items()
        )
        strata = ", ".join(f"{k} {v}" for k, v in q["by_reason"].items() if v)
        self.cards["items"].set(f"{s['items']:,}")
        self.cards["judgments"].set(
            f"{s['judgments']:,}",
            f"from {len(s['judges'])} judges: {', '.join(s['judges']) or '—'}",
        )
        self.cards["contested"].set(f"{s['contested']:,}", reasons)
        done, needed = q["labels_done"], q["labels_needed"]
        share = f"{done / needed:.0%}" if needed else "—"
        self.cards["queue"].set(
            f"{q['total']:,} entries",
            f"{strata or 'not built yet'}; {done:,} / {needed:,} labels ({share})",
        )
        labels = s["labels"]
        self.cards["labels"].set(
            f"{labels['human']:,}",
            f"{labels['in_app']:,} in the app, {labels['imported']:,} imported; "
            f"{labels['reviewers']} reviewers",
        )
        roles = f"candidate {s.get('candidate') or '—'} · baseline {s.get('baseline') or '—'}"
        self.cards["models"].set(f"{len(s['models'])}", f"{', '.join(s['models']) or '—'}\n{roles}")
        self.review_button.setEnabled(q["total"] > 0)
