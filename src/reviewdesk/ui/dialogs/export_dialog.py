"""The lead's export dialog: audited preference set, CSV, and gate inputs (SPEC §7).

Each export is the service's generator job on the database worker (``Ops.job``): ~10 Hz
progress, Cancel wired to its token, files written under temporary names and renamed only when
the whole set is written and recorded — so a canceled export leaves no file and no record. The
result panel says what was written (counts, dropped items per reason, the manifest and every
file's SHA-256), which is what a release owner copies into a ticket.

Including LLM-judge preferences is off by default and, when ticked, a warning says plainly that
those pairs are synthetic: the audit file marks them, but a training set mixing them silently
with human preferences is exactly what SPEC §7 forbids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.errors import CanceledError, UserError
from reviewdesk.domain.progress import CancelToken
from reviewdesk.services.csv_export import CsvExport, export_csv
from reviewdesk.services.gate_inputs import DEFAULT_N_BOOT, ExportReport, export_gate_inputs
from reviewdesk.services.preferences import (
    MANIFEST_FILE,
    PreferenceExport,
    PreferenceOptions,
    export_preferences,
)
from reviewdesk.services.project import Project
from reviewdesk.services.status import get_status
from reviewdesk.ui import tasks
from reviewdesk.ui.dashboards.tables import set_primary_enabled
from reviewdesk.ui.dialogs.job_dialog import JobDialog
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import job_progress_widgets, role_label

KINDS = ("preferences", "csv", "gates")
DROP_WORDS = {
    "conflicting_human_labels": "human labels conflict (not adjudicated)",
    "no_human_label": "no human label",
    "tie_or_both_bad": "tie or both bad (never a pair)",
    "adjudicated_tie_or_both_bad": "adjudicated as tie or both bad",
    "erased": "erased subject",
    "conflicting_llm_judges": "LLM judges disagree",
    "llm_not_unanimous": "LLM judges not unanimous",
    "llm_tie_or_both_bad": "LLM judges call it a tie or both bad",
    "chat_prompt_needs_conversational": "chat prompt (needs the conversational format)",
    "prompt_not_ending_with_user": "chat prompt does not end with a user message",
}


def _path_row(edit: QLineEdit, browse: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setSpacing(8)
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


class ExportDialog(JobDialog):
    """Export the open project: preference set, CSV, or gate inputs."""

    PROGRESS_MAX_CHARS = 60

    export_finished = Signal(object)  # PreferenceExport | CsvExport | ExportReport

    def __init__(
        self, ops: Ops, project: Project, parent: QWidget | None = None, kind: str = "preferences"
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(f"Export — {project.name}")
        self.resize(860, 660)
        self._ops = ops
        self._project = project
        self._task: tasks.Task | None = None
        self.outcome: PreferenceExport | CsvExport | ExportReport | None = None
        base = project.path.parent
        stem = project.path.stem

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(12)
        layout.addWidget(role_label("Export", "title"))
        intro = role_label(
            "Every export is recorded in the project with the items it contained (so erasing a "
            "subject later lists it) and in the audit log with its files' SHA-256.",
            "muted",
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("exportKinds")
        layout.addWidget(self.tabs)

        # ---- preference set
        pref = QWidget()
        form = QFormLayout(pref)
        form.setContentsMargins(14, 14, 14, 10)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        self.pref_dir = QLineEdit(str(base / f"{stem}-preferences"))
        self.pref_dir.setObjectName("preferencesFolder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._choose_folder(self.pref_dir))
        form.addRow("Output folder", _path_row(self.pref_dir, browse))
        fmt_box = QHBoxLayout()
        self.standard = QRadioButton("Standard (prompt, chosen, rejected as text)")
        self.conversational = QRadioButton("Conversational (message lists)")
        self.standard.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.standard)
        group.addButton(self.conversational)
        fmt_box.addWidget(self.standard)
        fmt_box.addWidget(self.conversational)
        fmt_box.addStretch(1)
        form.addRow("TRL format", fmt_box)
        self.strict = QCheckBox(
            "Strict: a tie or both-bad label beside decisive ones is a conflict"
        )
        form.addRow("", self.strict)
        self.include_llm = QCheckBox("Also include pairs decided by LLM judges")
        self.include_llm.setObjectName("includeLlm")
        self.include_llm.toggled.connect(self._on_include_llm)
        form.addRow("", self.include_llm)
        self.llm_warning = QFrame()
        self.llm_warning.setObjectName("syntheticWarning")
        self.llm_warning.setProperty("role", "banner")
        warn_layout = QHBoxLayout(self.llm_warning)
        warn_layout.setContentsMargins(12, 8, 12, 8)
        warn = QLabel(
            "Synthetic preferences: pairs decided by LLM judges are not human judgments. They "
            "are marked source “llm” in preferences.audit.jsonl and counted apart in the "
            "manifest — keep them out of a human-preference training set unless you mean it."
        )
        warn.setWordWrap(True)
        warn_layout.addWidget(warn)
        self.llm_warning.hide()
        form.addRow("", self.llm_warning)
        note = role_label(
            "Human labels only by default; ties and both-bad never become pairs; items whose "
            "human labels conflict are left out unless adjudicated.",
            "muted",
        )
        note.setWordWrap(True)
        form.addRow("", note)
        self.tabs.addTab(pref, "Preference set")

        # ---- CSV
        csv_page = QWidget()
        form = QFormLayout(csv_page)
        form.setContentsMargins(14, 14, 14, 10)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        self.csv_dir = QLineEdit(str(base / f"{stem}-csv"))
        self.csv_dir.setObjectName("csvFolder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._choose_folder(self.csv_dir))
        form.addRow("Output folder", _path_row(self.csv_dir, browse))
        note = role_label(
            "labels.csv (every label event, retractions and skips included) and items.csv. "
            "UTF-8 with BOM; cells that a spreadsheet would run as formulas are neutralized.",
            "muted",
        )
        note.setWordWrap(True)
        form.addRow("", note)
        self.tabs.addTab(csv_page, "CSV")

        # ---- gate inputs
        gates = QWidget()
        form = QFormLayout(gates)
        form.setContentsMargins(14, 14, 14, 10)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        self.gates_file = QLineEdit(str(base / f"{stem}-gate-inputs.json"))
        self.gates_file.setObjectName("gatesFile")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_gates_file)
        form.addRow("Output file", _path_row(self.gates_file, browse))
        self.candidate = QComboBox()
        self.candidate.setObjectName("candidateModel")
        self.baseline = QComboBox()
        self.baseline.setObjectName("baselineModel")
        form.addRow("Candidate", self.candidate)
        form.addRow("Baseline", self.baseline)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_000_000_000)
        self.seed.setSpecialValueText("project seed")
        form.addRow("Seed", self.seed)
        self.n_boot = QSpinBox()
        self.n_boot.setRange(100, 100_000)
        self.n_boot.setSingleStep(500)
        self.n_boot.setValue(DEFAULT_N_BOOT)
        form.addRow("Bootstrap replicates", self.n_boot)
        note = role_label(
            "reviewdesk.gate_inputs/v1 with a .records.jsonl and a .records.csv beside it. The "
            "same project state, seed and replicates give a byte-identical file (apart from "
            "generated_at).",
            "muted",
        )
        note.setWordWrap(True)
        form.addRow("", note)
        self.tabs.addTab(gates, "Gate inputs")
        self.tabs.setCurrentIndex(KINDS.index(kind) if kind in KINDS else 0)

        layout.addWidget(role_label("RESULT", "caption"))
        self.report_view = QPlainTextEdit()
        self.report_view.setObjectName("exportReport")
        self.report_view.setReadOnly(True)
        self.report_view.setPlaceholderText("The files written and their checksums appear here.")
        layout.addWidget(self.report_view, 1)
        bottom = QHBoxLayout()
        self.progress, self.progress_label = job_progress_widgets()
        bottom.addWidget(self.progress_label)
        bottom.addWidget(self.progress, 1)
        bottom.addStretch(0)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self._cancel_or_close)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("exportButton")
        self.export_button.setProperty("role", "primary")
        self.export_button.clicked.connect(self.start_export)
        bottom.addWidget(self.close_button)
        bottom.addWidget(self.export_button)
        layout.addLayout(bottom)
        self.models_loaded = False
        ops.call(get_status, project, on_done=self._set_models, owner=self)

    # ------------------------------------------------------------------ inputs

    def _set_models(self, status: dict[str, Any]) -> None:
        models = list(status.get("models") or [])
        for combo, chosen in (
            (self.candidate, status.get("candidate")),
            (self.baseline, status.get("baseline")),
        ):
            combo.clear()
            for model in models:
                combo.addItem(model)
            if isinstance(chosen, str) and chosen in models:
                combo.setCurrentText(chosen)
        self.models_loaded = True

    def _choose_folder(self, edit: QLineEdit) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the output folder", edit.text())
        if path:
            edit.setText(path)

    def _choose_gates_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Gate inputs file", self.gates_file.text(), "JSON (*.json)"
        )
        if path:
            self.gates_file.setText(path)

    def _on_include_llm(self, checked: bool) -> None:
        self.llm_warning.setVisible(checked)

    def set_kind(self, kind: str) -> None:
        self.tabs.setCurrentIndex(KINDS.index(kind))

    @property
    def kind(self) -> str:
        return KINDS[self.tabs.currentIndex()]

    # ------------------------------------------------------------------ export

    @property
    def running(self) -> bool:
        return self._task is not None

    def start_export(self) -> None:
        if self.running:
            return
        project = self._project
        kind = self.kind
        if kind == "preferences":
            folder = Path(self.pref_dir.text().strip())
            options = PreferenceOptions(
                conversational=self.conversational.isChecked(),
                include_llm=self.include_llm.isChecked(),
                strict=self.strict.isChecked(),
            )

            def job(cancel: CancelToken):  # type: ignore[no-untyped-def]
                return export_preferences(project, folder, options, cancel=cancel)

        elif kind == "csv":
            folder = Path(self.csv_dir.text().strip())

            def job(cancel: CancelToken):  # type: ignore[no-untyped-def]
                return export_csv(project, folder, cancel=cancel)

        else:
            target = Path(self.gates_file.text().strip())
            candidate = self.candidate.currentText() or None
            baseline = self.baseline.currentText() or None
            seed = self.seed.value() or None
            n_boot = self.n_boot.value()

            def job(cancel: CancelToken):  # type: ignore[no-untyped-def]
                return export_gate_inputs(
                    project,
                    target,
                    candidate=candidate,
                    baseline=baseline,
                    seed=seed,
                    n_boot=n_boot,
                    cancel=cancel,
                )

        self._set_running(True)
        self.report_view.setPlainText("Exporting…")
        self._task = self._ops.job(
            job,
            on_progress=self._on_progress,
            on_done=self._on_done,
            on_error=self._on_failed,
            changes=lambda result: result.changes,
            owner=self,
        )

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.progress.setRange(0, 0)
        set_primary_enabled(self.export_button, not running)
        self.tabs.setEnabled(not running)
        self.close_button.setText("Cancel" if running else "Close")
        if not running:
            self.progress_label.setText("")

    def _on_done(self, result: PreferenceExport | CsvExport | ExportReport) -> None:
        self._task = None
        self._set_running(False)
        self.outcome = result
        self.report_view.setPlainText("\n".join(self.describe(result)))
        self.export_finished.emit(result)

    def _on_failed(self, error: BaseException) -> bool:
        self._task = None
        self._set_running(False)
        if isinstance(error, CanceledError):
            self.report_view.setPlainText("Canceled. Nothing was written or recorded.")
            return True
        if isinstance(error, UserError):
            self.report_view.setPlainText(f"Not exported: {error}")
            return True
        return False

    @staticmethod
    def describe(result: PreferenceExport | CsvExport | ExportReport) -> list[str]:
        """The result panel's lines: what was written, counts, drops and checksums."""
        lines: list[str] = []
        if isinstance(result, PreferenceExport):
            sources = ", ".join(f"{n:,} {s}" for s, n in result.pairs_by_source.items() if n)
            lines.append(
                f"Wrote {result.pairs:,} preference pairs from {result.items:,} items "
                f"({sources or 'none'})."
            )
            if result.pairs_by_source.get("llm"):
                lines.append(
                    f"  {result.pairs_by_source['llm']:,} of them are SYNTHETIC (decided by LLM "
                    "judges, marked source “llm”)."
                )
            lines.append("Dropped:")
            if result.dropped:
                for reason, n in result.dropped.items():
                    lines.append(f"  {n:>7,}  {DROP_WORDS.get(reason, reason.replace('_', ' '))}")
            else:
                lines.append("        0  nothing")
            lines.append(f"Manifest: {result.directory / MANIFEST_FILE}")
            folder = result.directory
        elif isinstance(result, CsvExport):
            rows = ", ".join(f"{name} {n:,} rows" for name, n in result.rows.items())
            lines.append(f"Wrote {rows}.")
            folder = result.directory
        else:
            statuses = ", ".join(
                f"{n:,} {s.replace('_', ' ')}" for s, n in sorted(result.by_status.items())
            )
            lines.append(f"Wrote {result.records:,} gate-input records ({statuses}).")
            lines.append(f"Snapshot content hash: {result.content_sha256 or '—'}")
            folder = result.path.parent
        lines.append(f"Folder: {folder}")
        lines.append("Files (SHA-256):")
        for name, sha in result.files.items():
            lines.append(f"  {name}  {sha}")
        lines.append(f"Recorded as export #{result.export_id} in the project and the audit log.")
        return lines

    def reject(self) -> None:
        if self._task is not None:
            self.cancel()  # closing while exporting cancels; nothing is written or recorded
            return
        super().reject()


__all__ = ["ExportDialog"]
