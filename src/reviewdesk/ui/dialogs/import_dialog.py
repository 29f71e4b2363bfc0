"""The lead's import dialog: file and format, a preview, the validation report, progress, cancel.

The preview reads only the first records (on the shared pool: it never touches the project);
the import itself is the service's generator job on the database worker, with ~10 Hz progress
and Cancel wired to its token. Imports are all-or-nothing unless "skip invalid records" is on,
so a canceled or invalid import leaves the project exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.errors import CanceledError, InvalidInputError, UserError
from reviewdesk.domain.progress import CancelToken
from reviewdesk.services.import_preview import ImportPreview, preview_import
from reviewdesk.services.importing import ImportOptions, ImportReport, import_file
from reviewdesk.services.project import Project
from reviewdesk.services.queue import QueueBuildReport, build_queue
from reviewdesk.ui import tasks
from reviewdesk.ui.dialogs.job_dialog import JobDialog
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import job_progress_widgets, role_label

FORMATS = (
    ("auto", "Detect from the content"),
    ("native", "reviewdesk native (JSON Lines)"),
    ("alpaca_eval", "AlpacaEval annotations"),
    ("arena", "Chatbot Arena battles"),
    ("mt_bench", "MT-Bench pairwise judgments"),
)
PREVIEW_COLUMNS = ("Line", "Item", "Prompt", "Model A", "Model B", "Judges")


class ImportDialog(JobDialog):
    """Import one file into the open project."""

    import_finished = Signal(object)  # ImportReport

    def __init__(self, ops: Ops, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle(f"Import results — {project.name}")
        self.resize(940, 680)
        self._ops = ops
        self._project = project
        self._task: tasks.Task | None = None
        self._building = False
        self._preview_token = 0
        self.report: ImportReport | None = None
        self.preview: ImportPreview | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(12)
        layout.addWidget(role_label("Import results", "title"))
        intro = role_label(
            "Items, judge verdicts and labels collected elsewhere. Invalid records stop the "
            "whole import unless you choose to skip them; importing the same file twice adds "
            "nothing.",
            "muted",
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(8)
        file_row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("importPath")
        self.path_edit.setPlaceholderText("A .jsonl or .json file")
        self.path_edit.editingFinished.connect(self.refresh_preview)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(browse)
        form.addRow("File", file_row)
        self.format_combo = QComboBox()
        for value, words in FORMATS:
            self.format_combo.addItem(words, value)
        self.format_combo.currentIndexChanged.connect(self._on_format)
        form.addRow("Format", self.format_combo)
        self.judge_edit = QLineEdit()
        self.judge_edit.setPlaceholderText("Optional: name the judge (overrides the file)")
        form.addRow("Judge", self.judge_edit)
        self.questions_edit = QLineEdit()
        self.questions_edit.setPlaceholderText("question.jsonl")
        self.answers_edit = QLineEdit()
        self.answers_edit.setPlaceholderText("model_answer/ folder or answers .jsonl")
        self.questions_label = QLabel("Questions")
        self.answers_label = QLabel("Answers")
        form.addRow(self.questions_label, self.questions_edit)
        form.addRow(self.answers_label, self.answers_edit)
        self.as_labels = QCheckBox("The votes are human labels, not judge verdicts")
        form.addRow("", self.as_labels)
        self.skip_bad = QCheckBox("Skip invalid records (they are written to a .rejects.jsonl)")
        form.addRow("", self.skip_bad)
        self.build_after = QCheckBox("Build the queue afterwards")
        self.build_after.setChecked(True)
        form.addRow("", self.build_after)
        layout.addLayout(form)

        split = QSplitter(Qt.Orientation.Vertical)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        self.preview_label = role_label("PREVIEW", "caption")
        preview_layout.addWidget(self.preview_label)
        self.preview_table = QTableWidget(0, len(PREVIEW_COLUMNS))
        self.preview_table.setObjectName("importPreview")
        self.preview_table.setHorizontalHeaderLabels(list(PREVIEW_COLUMNS))
        self.preview_table.verticalHeader().hide()
        self.preview_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_table.setAlternatingRowColors(True)
        self.preview_table.setShowGrid(False)
        header = self.preview_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        preview_layout.addWidget(self.preview_table)
        report_box = QWidget()
        report_layout = QVBoxLayout(report_box)
        report_layout.setContentsMargins(0, 0, 0, 0)
        report_layout.addWidget(role_label("VALIDATION AND RESULT", "caption"))
        self.report_view = QPlainTextEdit()
        self.report_view.setObjectName("importReport")
        self.report_view.setReadOnly(True)
        self.report_view.setPlaceholderText("Choose a file to see its first records here.")
        report_layout.addWidget(self.report_view)
        split.addWidget(preview_box)
        split.addWidget(report_box)
        split.setSizes([300, 170])
        layout.addWidget(split, 1)

        bottom = QHBoxLayout()
        self.progress, self.progress_label = job_progress_widgets()
        bottom.addWidget(self.progress_label)
        bottom.addWidget(self.progress, 1)
        bottom.addStretch(0)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(self._cancel_or_close)
        self.import_button = QPushButton("Import")
        self.import_button.setProperty("role", "primary")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.import_button)
        layout.addLayout(bottom)
        self._on_format()

    # ------------------------------------------------------------------ inputs

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a file to import", "", "Eval results (*.jsonl *.json);;All files (*)"
        )
        if path:
            self.set_path(Path(path))

    def set_path(self, path: Path) -> None:
        self.path_edit.setText(str(path))
        self.refresh_preview()

    def set_format(self, value: str) -> None:
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(value)))

    def _on_format(self) -> None:
        fmt = self.format_combo.currentData()
        mt_bench = fmt == "mt_bench"
        for widget in (
            self.questions_edit,
            self.answers_edit,
            self.questions_label,
            self.answers_label,
        ):
            widget.setVisible(mt_bench)
        self.as_labels.setVisible(fmt == "arena")
        self.refresh_preview()

    def _options(self) -> ImportOptions:
        questions = self.questions_edit.text().strip()
        answers = self.answers_edit.text().strip()
        fmt = self.format_combo.currentData()
        return ImportOptions(
            judge=self.judge_edit.text().strip() or None,
            as_labels=self.as_labels.isChecked() and fmt == "arena",
            questions=Path(questions) if questions and fmt == "mt_bench" else None,
            answers=Path(answers) if answers and fmt == "mt_bench" else None,
        )

    def _path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text) if text else None

    # ------------------------------------------------------------------ preview

    def refresh_preview(self) -> None:
        path = self._path()
        self._preview_token += 1
        token = self._preview_token
        if path is None:
            self.import_button.setEnabled(False)
            return
        self.preview_label.setText("PREVIEW — reading…")
        self._ops.background(
            preview_import,
            path,
            self.format_combo.currentData(),
            self._options(),
            on_done=lambda preview: self._show_preview(token, preview),
            on_error=lambda error: self._preview_failed(token, error),
            owner=self,
        )

    def _show_preview(self, token: int, preview: ImportPreview) -> None:
        if token != self._preview_token:
            return
        self.preview = preview
        self.preview_table.setRowCount(len(preview.records))
        for row, record in enumerate(preview.records):
            values = (
                str(record.line),
                record.item_id,
                record.prompt,
                record.model_a,
                record.model_b,
                record.judges,
            )
            for column, value in enumerate(values):
                self.preview_table.setItem(row, column, QTableWidgetItem(value))
        more = " (first records)" if preview.more else ""
        self.preview_label.setText(f"PREVIEW — detected format: {preview.format}{more}")
        lines = []
        if preview.problems:
            lines.append(f"Problems in the first records ({len(preview.problems)}):")
            lines.extend(f"  {p}" for p in preview.problems)
            if not self.skip_bad.isChecked():
                lines.append("Fix them, or tick “Skip invalid records”, before importing.")
        if preview.warnings:
            lines.append("Warnings:")
            lines.extend(f"  {w}" for w in preview.warnings)
        if not lines:
            lines.append(f"The first {len(preview.records)} records are valid.")
        self.report_view.setPlainText("\n".join(lines))
        self.import_button.setEnabled(self._task is None)

    def _preview_failed(self, token: int, error: BaseException) -> bool:
        if token != self._preview_token:
            return True
        if not isinstance(error, UserError):
            return False
        self.preview_table.setRowCount(0)
        self.preview_label.setText("PREVIEW")
        self.report_view.setPlainText(str(error))
        self.import_button.setEnabled(False)
        return True

    # ------------------------------------------------------------------ import

    def start_import(self) -> None:
        path = self._path()
        if path is None or self.running:
            return
        fmt = self.format_combo.currentData()
        options = self._options()
        skip_bad = self.skip_bad.isChecked()
        project = self._project

        def job(cancel: CancelToken):  # type: ignore[no-untyped-def]
            return import_file(project, path, fmt, options, skip_bad=skip_bad, cancel=cancel)

        self._set_running(True)
        self.report_view.setPlainText(f"Importing {path.name}…")
        self._task = self._ops.job(
            job,
            on_progress=self._on_progress,
            on_done=self._on_imported,
            on_error=self._on_import_failed,
            changes=Changes(items=True, judgments=True, labels=True, queue=True),
            owner=self,
        )

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.progress.setRange(0, 0)
        self.import_button.setEnabled(not running)
        self.cancel_button.setText("Cancel" if running else "Close")
        if not running:
            self.progress_label.setText("")

    def _on_imported(self, report: ImportReport) -> None:
        self._task = None
        self.report = report
        lines = [report.summary()]
        lines.extend(report.conflicts[:50])
        lines.extend(report.warnings[:50])
        self.report_view.setPlainText("\n".join(lines))
        self.import_finished.emit(report)
        if self.build_after.isChecked():
            self._building = True
            self.progress_label.setText("Building the queue…")
            self._ops.call(
                build_queue,
                self._project,
                on_done=self._on_queue_built,
                on_error=self._on_queue_failed,
                changes=Changes(queue=True),
                owner=self,
            )
        else:
            self._set_running(False)

    def _on_queue_built(self, report: QueueBuildReport) -> None:
        self._building = False
        self._set_running(False)
        self.report_view.appendPlainText(report.summary())

    def _on_queue_failed(self, error: BaseException) -> bool:
        self._building = False
        self._set_running(False)
        if isinstance(error, UserError):
            self.report_view.appendPlainText(str(error))
            return True
        return False

    def _on_import_failed(self, error: BaseException) -> bool:
        self._task = None
        self._set_running(False)
        if isinstance(error, CanceledError):
            self.report_view.setPlainText("Canceled. The project is unchanged.")
            return True
        if isinstance(error, InvalidInputError):
            lines = [f"{error.total} invalid record(s); nothing was imported.", ""]
            lines.extend(str(p) for p in error.problems)
            more = error.total - len(error.problems)
            if more > 0:
                lines.append(f"… and {more} more")
            lines.append("")
            lines.append("Fix the file, or tick “Skip invalid records” to import the rest.")
            self.report_view.setPlainText("\n".join(lines))
            return True
        if isinstance(error, UserError):
            self.report_view.setPlainText(str(error))
            return True
        return False

    @property
    def running(self) -> bool:
        """An import or the queue build after it is in progress."""
        return self._task is not None or self._building

    def reject(self) -> None:
        if self._task is not None:
            self.cancel()  # closing while importing cancels; the project stays unchanged
            return
        super().reject()
