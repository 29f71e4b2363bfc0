"""The audit log viewer: pages of the chain with a readable summary, and "Verify chain".

Pages come from ``services.audit_log`` (one read each, on the database worker); the raw payload
of the selected record shows below the table. "Verify chain" runs ``audit verify`` as a job
with progress and Cancel; a broken chain names its first broken record, and the viewer jumps to
the page holding it and highlights the row, so the lead sees what was tampered with.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.errors import CanceledError, UserError
from reviewdesk.domain.progress import CancelToken, Progress
from reviewdesk.services.audit import AuditReport, verify_audit
from reviewdesk.services.audit_log import (
    DEFAULT_PAGE_SIZE,
    AuditEntry,
    AuditPage,
    read_audit_page,
)
from reviewdesk.services.project import Project
from reviewdesk.ui import tasks
from reviewdesk.ui.dashboards.tables import (
    Column,
    TableCard,
    paint_banner,
    set_primary_enabled,
)
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import role_label

ALL_KINDS = "All kinds"


class AuditLogDialog(QDialog):
    """Browse the audit chain page by page and verify it."""

    def __init__(
        self,
        ops: Ops,
        project: Project,
        parent: QWidget | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("auditLogDialog")
        self.setWindowTitle(f"Audit log — {project.name}")
        self.resize(1100, 720)
        self._ops = ops
        self._project = project
        self.page_size = page_size
        self.page: AuditPage | None = None
        self.report: AuditReport | None = None
        self.highlight_id: int | None = None
        self._verify_task: tasks.Task | None = None
        self._loading = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(role_label("Audit log", "title"))
        intro = role_label(
            "Every import, queue build, label, undo, reveal, export, erasure and monitor action "
            "appends a record whose hash covers the one before it. Verifying recomputes the "
            "chain and every row it vouches for.",
            "muted",
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Kind"))
        self.kind_combo = QComboBox()
        self.kind_combo.setMinimumWidth(170)
        self.kind_combo.addItem(ALL_KINDS, None)
        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        controls.addWidget(self.kind_combo)
        controls.addSpacing(12)
        self.first_button = QPushButton("First")
        self.prev_button = QPushButton("Previous")
        self.next_button = QPushButton("Next")
        self.last_button = QPushButton("Last")
        self.first_button.clicked.connect(lambda: self.load(0))
        self.prev_button.clicked.connect(lambda: self.load(self._offset() - self.page_size))
        self.next_button.clicked.connect(lambda: self.load(self._offset() + self.page_size))
        self.last_button.clicked.connect(self._last)
        for button in (self.first_button, self.prev_button, self.next_button, self.last_button):
            controls.addWidget(button)
        self.page_label = role_label("", "muted")
        controls.addWidget(self.page_label)
        controls.addStretch(1)
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.setObjectName("verifyChain")
        self.verify_button.setProperty("role", "primary")
        self.verify_button.clicked.connect(self.verify)
        controls.addWidget(self.verify_button)
        layout.addLayout(controls)

        self.result_box = QFrame()
        self.result_box.setObjectName("verifyResult")
        self.result_box.setProperty("role", "banner")
        result_layout = QHBoxLayout(self.result_box)
        result_layout.setContentsMargins(12, 8, 12, 8)
        self.result_label = QLabel()
        self.result_label.setObjectName("verifyResultText")
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        result_layout.addWidget(self.result_label, 1)
        self.result_box.hide()
        layout.addWidget(self.result_box)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress_label = role_label("", "muted")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_verify)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.progress_box.hide()
        layout.addWidget(self.progress_box)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = TableCard(
            "Records",
            (
                Column("#", "int"),
                Column("Time (UTC)"),
                Column("Kind"),
                Column("Actor"),
                Column("What happened"),
            ),
            ops,
            file_stem="audit-log-page",
        )
        self.table.view.selectionModel().selectionChanged.connect(self._show_detail)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("auditDetail")
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("Select a record to see its payload and hash.")
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setSizes([470, 140])
        layout.addWidget(split, 1)
        bottom = QHBoxLayout()
        self.message = role_label("", "muted")
        self.table.on_message = self.message.setText
        bottom.addWidget(self.message, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self._update_buttons()
        self.load(0)

    # ------------------------------------------------------------------ paging

    @property
    def loading(self) -> bool:
        return self._loading > 0

    def _offset(self) -> int:
        return self.page.offset if self.page is not None else 0

    def _kind(self) -> str | None:
        data = self.kind_combo.currentData()
        return str(data) if data else None

    def _on_kind(self) -> None:
        if self.page is not None:
            self.load(0)

    def _last(self) -> None:
        if self.page is not None:
            self.load((self.page.pages - 1) * self.page_size)

    def load(self, offset: int, containing: int | None = None) -> None:
        """Show the page at ``offset`` (or the page holding record ``containing``)."""
        self._loading += 1
        self._ops.call(
            read_audit_page,
            self._project,
            offset=max(0, offset),
            page_size=self.page_size,
            kind=self._kind(),
            containing=containing,
            on_done=self._show_page,
            on_error=self._load_failed,
            owner=self,
        )

    def _load_failed(self, error: BaseException) -> bool:
        self._loading -= 1
        if isinstance(error, UserError):
            self.message.setText(str(error))
            return True
        return False

    def _show_page(self, page: AuditPage) -> None:
        self._loading -= 1
        self.page = page
        kinds = [self.kind_combo.itemData(i) for i in range(self.kind_combo.count())]
        if set(kinds[1:]) != set(page.kinds):
            current = self._kind()
            self.kind_combo.blockSignals(True)
            self.kind_combo.clear()
            self.kind_combo.addItem(ALL_KINDS, None)
            for kind in page.kinds:
                self.kind_combo.addItem(kind, kind)
            index = self.kind_combo.findData(current) if current else 0
            self.kind_combo.setCurrentIndex(max(0, index))
            self.kind_combo.blockSignals(False)
        rows = [
            (e.id, e.created_at.replace("T", " ").rstrip("Z"), e.kind, e.actor, e.summary)
            for e in page.entries
        ]
        tints = ["danger_soft" if e.id == self.highlight_id else None for e in page.entries]
        self.table.set_rows(rows, [e.summary for e in page.entries], tints)
        first = page.offset + 1 if page.total else 0
        last = page.offset + len(page.entries)
        self.page_label.setText(
            f"Page {page.page + 1} of {page.pages} · records {first:,}–{last:,} of {page.total:,}"
        )
        if self.highlight_id is not None:
            for row, entry in enumerate(page.entries):
                if entry.id == self.highlight_id:
                    # tinted, not selected: a selection color would hide the tint
                    self.table.view.clearSelection()
                    self.table.view.scrollTo(self.table.model.index(row, 0))
                    self._describe(entry)
        self._update_buttons()

    def _update_buttons(self) -> None:
        page = self.page
        has_prev = page is not None and page.offset > 0
        has_next = page is not None and page.offset + page.page_size < page.total
        self.first_button.setEnabled(has_prev)
        self.prev_button.setEnabled(has_prev)
        self.next_button.setEnabled(has_next)
        self.last_button.setEnabled(has_next)

    def _show_detail(self, *_args: object) -> None:
        rows = self.table.selected_rows()
        if not rows or self.page is None or rows[0] >= len(self.page.entries):
            self.detail.clear()
            return
        self._describe(self.page.entries[rows[0]])

    def _describe(self, entry: AuditEntry) -> None:
        try:
            payload = json.dumps(json.loads(entry.payload), indent=2, ensure_ascii=False)
        except ValueError:
            payload = entry.payload
        self.detail.setPlainText(
            f"record {entry.id} · {entry.kind} · {entry.actor} · {entry.created_at}\n"
            f"record_sha256 {entry.record_sha256}\n\n{payload}"
        )

    # ------------------------------------------------------------------ verify

    @property
    def verifying(self) -> bool:
        return self._verify_task is not None

    def verify(self) -> None:
        if self._verify_task is not None:
            return
        project = self._project

        def job(cancel: CancelToken):  # type: ignore[no-untyped-def]
            return verify_audit(project, cancel=cancel)

        self.report = None
        self.result_box.hide()
        self.progress_box.show()
        self.progress.setRange(0, 0)
        set_primary_enabled(self.verify_button, False)
        self._verify_task = self._ops.job(
            job,
            on_progress=self._on_progress,
            on_done=self._on_verified,
            on_error=self._on_verify_failed,
            owner=self,
        )

    def cancel_verify(self) -> None:
        if self._verify_task is not None:
            self._verify_task.cancel()
            self.progress_label.setText("Canceling…")

    def _on_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * (progress.fraction or 0)))
        self.progress_label.setText(progress.label[:60])

    def _verify_done(self) -> None:
        self._verify_task = None
        self.progress_box.hide()
        set_primary_enabled(self.verify_button, True)

    def _on_verified(self, report: AuditReport) -> None:
        self._verify_done()
        self.report = report
        self.result_box.show()
        if report.ok:
            paint_banner(self.result_box, "ok")
            self.highlight_id = None
            self.result_label.setText(f"Chain OK. {report.summary()}")
            self.load(self._offset())
            return
        broken = report.broken
        assert broken is not None
        paint_banner(self.result_box, "danger")
        self.result_label.setText(f"Chain BROKEN. {broken.message()}")
        self.highlight_id = broken.record_id
        if broken.record_id is not None:
            self.kind_combo.blockSignals(True)
            self.kind_combo.setCurrentIndex(0)
            self.kind_combo.blockSignals(False)
            self.load(0, containing=broken.record_id)

    def _on_verify_failed(self, error: BaseException) -> bool:
        self._verify_done()
        if isinstance(error, CanceledError):
            paint_banner(self.result_box, "warning")
            self.result_box.show()
            self.result_label.setText("Verification canceled.")
            return True
        if isinstance(error, UserError):
            paint_banner(self.result_box, "warning")
            self.result_box.show()
            self.result_label.setText(str(error))
            return True
        return False

    def reject(self) -> None:
        if self._verify_task is not None:
            self._verify_task.cancel()
        super().reject()
