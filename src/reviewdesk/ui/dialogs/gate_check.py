"""Gate check: a TOML gate spec against a gate-inputs file, as a release scorecard (SPEC §7).

The check reads two files and touches no project, so it runs on the shared pool
(``Ops.background``), never on the UI thread. The scorecard lists every gate with its verdict,
its worst slice and why (``services.gating`` makes the reasons specific: an effect, the estimate
itself, or an interval too wide at this n), and every matched slice beneath. Both tables copy as
TSV and export as CSV; the spec's pass-through tables (budget, rollback artifact) are shown as
written. Invalid files are reported with the file and field, as on the command line.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.errors import UserError
from reviewdesk.services.gating import Scorecard, check_gates
from reviewdesk.ui.dashboards.tables import (
    Column,
    TableCard,
    paint_banner,
    set_primary_enabled,
)
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import role_label


def _slice_text(pattern: dict[str, str]) -> str:
    if not pattern:
        return "{} (whole project)"
    return ", ".join(f"{k}={v}" for k, v in sorted(pattern.items()))


class GateCheckDialog(QDialog):
    """Pick gate inputs and a gate spec; show the scorecard."""

    def __init__(
        self,
        ops: Ops,
        parent: QWidget | None = None,
        *,
        inputs: Path | None = None,
        spec: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("gateCheckDialog")
        self.setWindowTitle("Gate check")
        self.resize(1120, 820)
        self._ops = ops
        self.scorecard: Scorecard | None = None
        self.error: str | None = None
        self._token = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(role_label("Gate check", "title"))
        intro = role_label(
            "Every matched slice must pass on its own; missing, insufficient or quarantined "
            "evidence fails (STATISTICS.md §8.4). Slices are never averaged.",
            "muted",
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        self.inputs_edit = QLineEdit(str(inputs) if inputs else "")
        self.inputs_edit.setObjectName("gateInputsPath")
        self.inputs_edit.setPlaceholderText("gate-inputs.json (Export → Gate inputs)")
        browse_inputs = QPushButton("Browse…")
        browse_inputs.clicked.connect(self._choose_inputs)
        row = QHBoxLayout()
        row.addWidget(self.inputs_edit, 1)
        row.addWidget(browse_inputs)
        form.addRow("Gate inputs", row)
        self.spec_edit = QLineEdit(str(spec) if spec else "")
        self.spec_edit.setObjectName("gateSpecPath")
        self.spec_edit.setPlaceholderText("gates.toml")
        browse_spec = QPushButton("Browse…")
        browse_spec.clicked.connect(self._choose_spec)
        row = QHBoxLayout()
        row.addWidget(self.spec_edit, 1)
        row.addWidget(browse_spec)
        form.addRow("Gate spec", row)
        self.candidate_edit = QLineEdit()
        self.candidate_edit.setPlaceholderText("Optional: the release under evaluation")
        form.addRow("Candidate", self.candidate_edit)
        layout.addLayout(form)
        run_row = QHBoxLayout()
        self.verdict = QFrame()
        self.verdict.setObjectName("gateVerdict")
        self.verdict.setProperty("role", "banner")
        verdict_layout = QVBoxLayout(self.verdict)
        verdict_layout.setContentsMargins(12, 8, 12, 8)
        self.verdict_label = QLabel()
        self.verdict_label.setObjectName("gateVerdictText")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextFormat(Qt.TextFormat.PlainText)
        verdict_layout.addWidget(self.verdict_label)
        self.verdict.hide()
        run_row.addWidget(self.verdict, 1)
        self.check_button = QPushButton("Check gates")
        self.check_button.setObjectName("checkGates")
        self.check_button.setProperty("role", "primary")
        self.check_button.clicked.connect(self.run_check)
        run_row.addWidget(self.check_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(run_row)
        split = QSplitter(Qt.Orientation.Vertical)
        self.gates_table = TableCard(
            "Gates",
            (
                Column("Gate"),
                Column("Result", "status"),
                Column("Slices passing"),
                Column("Worst slice"),
                Column("Why", stretch=True),
                Column("Requirement"),
            ),
            ops,
            file_stem="scorecard-gates",
        )
        self.slices_table = TableCard(
            "Every matched slice",
            (
                Column("Gate"),
                Column("Requirement"),
                Column("Slice"),
                Column("Evidence", "status"),
                Column("Items"),
                Column("Bound"),
                Column("Result", "status"),
                Column("Why"),
            ),
            ops,
            file_stem="scorecard-slices",
        )
        self.extra = QPlainTextEdit()
        self.extra.setObjectName("gatePassthrough")
        self.extra.setReadOnly(True)
        self.extra.setPlaceholderText("Budget and rollback tables of the spec appear here.")
        split.addWidget(self.gates_table)
        split.addWidget(self.slices_table)
        split.addWidget(self.extra)
        split.setSizes([330, 230, 80])
        layout.addWidget(split, 1)
        bottom = QHBoxLayout()
        self.message = role_label("", "muted")
        bottom.addWidget(self.message, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        for card in (self.gates_table, self.slices_table):
            card.on_message = self.message.setText

    def _choose_inputs(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Gate inputs", self.inputs_edit.text(), "Gate inputs (*.json);;All files (*)"
        )
        if path:
            self.inputs_edit.setText(path)

    def _choose_spec(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Gate spec", self.spec_edit.text(), "Gate spec (*.toml);;All files (*)"
        )
        if path:
            self.spec_edit.setText(path)

    def run_check(self) -> None:
        inputs = self.inputs_edit.text().strip()
        spec = self.spec_edit.text().strip()
        if not inputs or not spec:
            self._show_error("Choose a gate-inputs file and a gate spec.")
            return
        self._token += 1
        token = self._token
        self.scorecard = None
        self.error = None
        set_primary_enabled(self.check_button, False)
        self.message.setText("Checking…")
        self._ops.background(
            check_gates,
            Path(inputs),
            Path(spec),
            self.candidate_edit.text().strip() or None,
            on_done=lambda card: self._show(token, card),
            on_error=lambda error: self._failed(token, error),
            owner=self,
        )

    def _failed(self, token: int, error: BaseException) -> bool:
        if token != self._token:
            return True
        set_primary_enabled(self.check_button, True)
        if isinstance(error, UserError):
            self._show_error(str(error))
            return True
        return False

    def _show_error(self, text: str) -> None:
        self.error = text
        self.message.setText("")
        self.verdict.show()
        paint_banner(self.verdict, "warning")
        self.verdict_label.setText(f"Invalid input — no verdict: {text}")
        self.gates_table.set_rows([])
        self.slices_table.set_rows([])

    def _show(self, token: int, card: Scorecard) -> None:
        if token != self._token:
            return
        set_primary_enabled(self.check_button, True)
        self.scorecard = card
        self.message.setText("")
        n_pass = sum(1 for g in card.gates if g.passed)
        verdict = "RELEASE PASSES" if card.passed else "RELEASE FAILS"
        lines = [
            f"{verdict}: {card.candidate or '(no candidate named)'} — {n_pass} of "
            f"{len(card.gates)} gates pass"
        ]
        if card.hypothesis:
            lines.append(f"Hypothesis: {card.hypothesis}")
        failing = [g for g in card.gates if not g.passed]
        if failing:
            first = failing[0]
            where = first.worst.slice_label() if first.worst is not None else "no matching record"
            lines.append(f"First failing gate: {first.gate.label} — worst slice {where}")
        self.verdict_label.setText("\n".join(lines))
        paint_banner(self.verdict, "ok" if card.passed else "danger")
        self.verdict.show()
        gate_rows = []
        tints: list[str | None] = []
        for g in card.gates:
            need = g.gate.require.describe()
            if g.gate.min_n_items:
                need += f", n_items >= {g.gate.min_n_items}"
            worst = g.worst.slice_label() if g.worst is not None else "—"
            gate_rows.append(
                (
                    g.gate.label,
                    "pass" if g.passed else "FAIL",
                    f"{len(g.checks) - len(g.failing)} of {len(g.checks)}",
                    worst,
                    g.reason,
                    f"{_slice_text(g.gate.pattern())}: {need}",
                )
            )
            tints.append(None if g.passed else "danger_soft")
        self.gates_table.set_rows(gate_rows, [f"{r[5]}\n{r[4]}" for r in gate_rows], tints)
        slice_rows = card.table_rows()
        self.slices_table.set_rows(
            slice_rows,
            [r[-1] for r in slice_rows],
            [None if r[6] == "pass" else "danger_soft" for r in slice_rows],
        )
        extra = dict(card.passthrough)
        self.extra.setPlainText(
            json.dumps(extra, indent=2, ensure_ascii=False, default=str) if extra else ""
        )
