"""Erasing a data subject: a dry-run plan first, a typed confirmation, then the erase job.

Erasure cannot be undone, so the dialog makes the lead look before acting: "Show the plan"
runs ``plan_erasure`` (it changes nothing) and lists the items, rationales and notes that will
be blanked, the earlier exports that contained the subject and the backup files that still hold
it. Only then, and only after the subject id is typed again exactly, does "Erase" run
``erase_subject`` on the database worker. Closing before that leaves the project untouched.
The report repeats what cannot be recalled — stale exports and backups — with their paths.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.progress import CancelToken
from reviewdesk.services.erasure import ErasurePlan, ErasureReport, erase_subject, plan_erasure
from reviewdesk.services.project import Project
from reviewdesk.ui import tasks
from reviewdesk.ui.dashboards.tables import set_primary_enabled
from reviewdesk.ui.dialogs.job_dialog import JobDialog
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import job_progress_widgets, role_label

SHOWN_ITEMS = 50


def describe_plan(plan: ErasurePlan, done: bool = False) -> list[str]:
    """The plan (or, after the fact, what was erased) as lines for the dialog."""
    will = "Erased" if done else "Will erase"
    lines = [f"Subject {plan.subject}"]
    if plan.items:
        lines.append(
            f"{will} the texts of {len(plan.items)} item(s): prompts, both responses, "
            f"{plan.rationales} judge rationale(s) and {plan.notes} reviewer note(s)."
        )
        for key, _sha in plan.items[:SHOWN_ITEMS]:
            lines.append(f"  • {key}")
        if len(plan.items) > SHOWN_ITEMS:
            lines.append(f"  … and {len(plan.items) - SHOWN_ITEMS} more")
    else:
        lines.append("Nothing new to erase: every item of this subject is erased already.")
    if plan.already_erased:
        lines.append(f"Already erased earlier: {', '.join(plan.already_erased[:SHOWN_ITEMS])}")
    lines.append(
        "Kept: ids, models, slices, verdicts, labels and every content hash, so statistics "
        "stay reproducible and the audit chain still verifies."
    )
    lines.append("")
    if plan.exports:
        lines.append(
            f"Earlier exports that contained the subject ({len(plan.exports)}) — they cannot be "
            "recalled; delete or replace these files:"
        )
        for x in plan.exports:
            stale = " (already marked stale)" if x.already_stale else ""
            lines.append(f"  • #{x.export_id} {x.kind}, {x.created_at}: {x.path}{stale}")
    else:
        lines.append("No earlier export contained the subject.")
    if plan.backups:
        lines.append("Backup copies of the project beside it still hold the subject's data:")
        lines.extend(f"  • {path}" for path in plan.backups)
    else:
        lines.append("No backup copies of the project were found beside it.")
    return lines


class EraseDialog(JobDialog):
    """Plan, confirm by typing the subject id, erase, report."""

    PROGRESS_MAX_CHARS = 60

    def __init__(self, ops: Ops, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eraseDialog")
        self.setWindowTitle(f"Erase a data subject — {project.name}")
        self.resize(820, 640)
        self._ops = ops
        self._project = project
        self.plan: ErasurePlan | None = None
        self.report: ErasureReport | None = None
        self._task: tasks.Task | None = None
        self._planning = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(role_label("Erase a data subject", "title"))
        intro = role_label(
            "Removes the subject's prompts, responses, judge rationales and reviewer notes from "
            "this project and from the file's free pages, and records a tombstone in the audit "
            "log. This cannot be undone. Start with the plan: it changes nothing.",
            "muted",
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        row = QHBoxLayout()
        self.subject_edit = QLineEdit()
        self.subject_edit.setObjectName("subjectId")
        self.subject_edit.setPlaceholderText("The subject_id given on import, e.g. cust-4411")
        self.subject_edit.textChanged.connect(self._on_subject_changed)
        self.subject_edit.returnPressed.connect(self.show_plan)
        self.plan_button = QPushButton("Show the plan")
        self.plan_button.setObjectName("planErasure")
        self.plan_button.clicked.connect(self.show_plan)
        row.addWidget(self.subject_edit, 1)
        row.addWidget(self.plan_button)
        form.addRow("Subject ID", row)
        layout.addLayout(form)
        layout.addWidget(role_label("PLAN (DRY RUN)", "caption"))
        self.plan_view = QPlainTextEdit()
        self.plan_view.setObjectName("erasurePlan")
        self.plan_view.setReadOnly(True)
        self.plan_view.setPlaceholderText("The plan appears here. Nothing is erased yet.")
        layout.addWidget(self.plan_view, 1)

        self.confirm_box = QFrame()
        self.confirm_box.setObjectName("erasureConfirm")
        self.confirm_box.setProperty("role", "banner")
        confirm_layout = QVBoxLayout(self.confirm_box)
        confirm_layout.setContentsMargins(12, 10, 12, 10)
        self.confirm_label = QLabel()
        self.confirm_label.setWordWrap(True)
        confirm_layout.addWidget(self.confirm_label)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setObjectName("confirmSubject")
        self.confirm_edit.setPlaceholderText("Type the subject ID to confirm")
        self.confirm_edit.textChanged.connect(self._update_buttons)
        confirm_layout.addWidget(self.confirm_edit)
        self.confirm_box.hide()
        layout.addWidget(self.confirm_box)

        bottom = QHBoxLayout()
        self.progress, self.progress_label = job_progress_widgets()
        bottom.addWidget(self.progress_label)
        bottom.addWidget(self.progress, 1)
        bottom.addStretch(0)
        self.close_button = QPushButton("Cancel")
        self.close_button.clicked.connect(self.reject)
        self.erase_button = QPushButton("Erase")
        self.erase_button.setObjectName("eraseButton")
        self.erase_button.setProperty("role", "primary")
        self.erase_button.clicked.connect(self.erase)
        bottom.addWidget(self.close_button)
        bottom.addWidget(self.erase_button)
        layout.addLayout(bottom)
        self._update_buttons()

    # ------------------------------------------------------------------ plan

    def subject(self) -> str:
        return self.subject_edit.text().strip()

    def _on_subject_changed(self) -> None:
        if self.plan is not None and self.plan.subject != self.subject():
            self.plan = None  # a plan is for one subject: changing it asks for a new plan
            self.plan_view.clear()
            self.confirm_box.hide()
            self.confirm_edit.clear()
        self._update_buttons()

    def show_plan(self) -> None:
        subject = self.subject()
        if not subject or self.running:
            return
        self._planning = True
        self.plan = None
        self.plan_view.setPlainText("Planning…")
        self._update_buttons()
        self._ops.call(
            plan_erasure,
            self._project,
            subject,
            on_done=self._show_plan,
            on_error=self._plan_failed,
            owner=self,
        )

    def _show_plan(self, plan: ErasurePlan) -> None:
        self._planning = False
        if plan.subject != self.subject():
            self._update_buttons()
            return
        self.plan = plan
        self.plan_view.setPlainText("\n".join(describe_plan(plan)))
        if plan.items:
            self.confirm_label.setText(
                f"To erase {len(plan.items)} item(s) of {plan.subject} for good, type the "
                "subject ID again:"
            )
            self.confirm_box.show()
            self.confirm_edit.clear()
            self.confirm_edit.setFocus()
        else:
            self.confirm_box.hide()
        self._update_buttons()

    def _plan_failed(self, error: BaseException) -> bool:
        self._planning = False
        self._update_buttons()
        if isinstance(error, UserError):
            self.plan_view.setPlainText(str(error))
            return True
        return False

    # ------------------------------------------------------------------ erase

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def confirmed(self) -> bool:
        """A plan for this subject exists and the lead typed the subject ID exactly."""
        return (
            self.plan is not None
            and bool(self.plan.items)
            and self.plan.subject == self.subject()
            and self.confirm_edit.text() == self.plan.subject
        )

    def _update_buttons(self) -> None:
        self.plan_button.setEnabled(
            bool(self.subject()) and not self.running and not self._planning
        )
        set_primary_enabled(
            self.erase_button, self.confirmed and not self.running and self.report is None
        )
        self.subject_edit.setEnabled(not self.running and self.report is None)

    def erase(self) -> None:
        if not self.confirmed or self.running:
            return
        project = self._project
        subject = self.subject()

        def job(_cancel: CancelToken):  # type: ignore[no-untyped-def]
            return erase_subject(project, subject, actor="lead")

        self.progress.show()
        self.progress.setRange(0, 0)
        self.close_button.setEnabled(False)  # erasure cannot stop halfway
        self.confirm_edit.setEnabled(False)
        self._task = self._ops.job(
            job,
            on_progress=self._on_progress,
            on_done=self._on_erased,
            on_error=self._on_failed,
            changes=lambda report: report.changes,
            owner=self,
        )
        self._update_buttons()

    def _finish(self) -> None:
        self._task = None
        self.progress.hide()
        self.progress_label.setText("")
        self.close_button.setEnabled(True)

    def _on_erased(self, report: ErasureReport) -> None:
        self._finish()
        self.report = report
        self.confirm_box.hide()
        self.close_button.setText("Close")
        lines = [
            f"Erased. Tombstone: audit record #{report.audit_record_id}."
            if report.audit_record_id is not None
            else "Nothing new was erased.",
            "The file's free pages and write-ahead log were purged."
            if report.purged
            else "The file could not be purged completely (another process had it open); "
            "erase again later to finish.",
            "",
            *describe_plan(report.plan, done=True),
        ]
        self.plan_view.setPlainText("\n".join(lines))
        self._update_buttons()

    def _on_failed(self, error: BaseException) -> bool:
        self._finish()
        self._update_buttons()
        if isinstance(error, UserError):
            self.plan_view.setPlainText(f"Not erased: {error}")
            return True
        return False

    def reject(self) -> None:
        if self._task is not None:
            return  # an erasure in progress cannot be interrupted; it finishes quickly
        super().reject()
