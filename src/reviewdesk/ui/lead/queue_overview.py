"""The lead's queue overview: entries and labels by stratum, disagreement reason and slice.

Lead-only: why an item is queued is exactly what reviewers must not know, so this window is
reachable from the lead's project page only, never from review mode.
"""

from __future__ import annotations

import contextlib

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.changes import Changes
from reviewdesk.services.project import Project
from reviewdesk.services.queue_overview import QueueOverview, queue_overview
from reviewdesk.ui.lead.overview_model import OverviewModel
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import plain_buttons, role_label


def _table(model: OverviewModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.verticalHeader().hide()
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSortingEnabled(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, 5):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return view


class QueueOverviewDialog(QDialog):
    def __init__(self, ops: Ops, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueOverview")
        self.setWindowTitle(f"Queue overview — {project.name}")
        self.resize(760, 560)
        self._ops = ops
        self._project = project
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(role_label("Queue overview", "title"))
        self.summary = role_label("Counting…", "muted")
        layout.addWidget(self.summary)
        note = role_label(
            "An entry with several disagreement reasons or slices counts under each of them.",
            "muted",
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.models = {name: OverviewModel() for name in ("stratum", "reason", "slice")}
        tabs = QTabWidget()
        tabs.addTab(_table(self.models["stratum"]), "By stratum")
        tabs.addTab(_table(self.models["reason"]), "By disagreement reason")
        tabs.addTab(_table(self.models["slice"]), "By slice")
        layout.addWidget(tabs, 1)
        row = QHBoxLayout()
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        row.addWidget(refresh)
        row.addStretch(1)
        buttons = plain_buttons(QDialogButtonBox(QDialogButtonBox.StandardButton.Close))
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        layout.addLayout(row)
        ops.changes_applied.connect(self._on_changes)
        self.loaded: QueueOverview | None = None
        self.refresh()

    def refresh(self) -> None:
        self._ops.call(queue_overview, self._project, on_done=self._show, owner=self)

    def _on_changes(self, changes: Changes) -> None:
        if self.isVisible() and (changes.queue or changes.labels or changes.items):
            self.refresh()

    def _show(self, overview: QueueOverview) -> None:
        self.loaded = overview
        total = overview.total
        self.summary.setText(
            f"{total.entries:,} entries · {total.labels_done:,} of {total.labels_needed:,} "
            f"labels done ({total.fraction_done:.0%})"
        )
        self.models["stratum"].set_rows(overview.by_stratum)
        self.models["reason"].set_rows(overview.by_reason)
        self.models["slice"].set_rows(overview.by_slice)

    def done(self, result: int) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            self._ops.changes_applied.disconnect(self._on_changes)
        super().done(result)
