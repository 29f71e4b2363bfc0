"""Creating an empty project: where to put the file, and optionally the two models compared."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.services.project import PROJECT_SUFFIX
from reviewdesk.ui.widgets import plain_buttons, role_label


class NewProjectDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newProjectDialog")
        self.setWindowTitle("New project")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(12)
        layout.addWidget(role_label("New project", "title"))
        hint = role_label(
            "A project is one file holding items, judgments, the queue and every label. "
            "You can import results into it next.",
            "muted",
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        form = QFormLayout()
        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(f"release-review{PROJECT_SUFFIX}")
        self.path_edit.textChanged.connect(self._update)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        self.candidate = QLineEdit()
        self.candidate.setPlaceholderText("optional: the model under evaluation")
        self.baseline = QLineEdit()
        self.baseline.setPlaceholderText("optional: the model it is compared with")
        form.addRow("Candidate", self.candidate)
        form.addRow("Baseline", self.baseline)
        layout.addLayout(form)
        self.buttons = plain_buttons(
            QDialogButtonBox(
                QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            )
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setProperty("role", "primary")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "New project", "", f"reviewdesk projects (*{PROJECT_SUFFIX})"
        )
        if path:
            self.path_edit.setText(path)

    def path(self) -> Path:
        path = Path(self.path_edit.text().strip()).expanduser()
        return path if path.suffix == PROJECT_SUFFIX else path.with_name(path.name + PROJECT_SUFFIX)

    def candidate_model(self) -> str | None:
        return self.candidate.text().strip() or None

    def baseline_model(self) -> str | None:
        return self.baseline.text().strip() or None

    def _update(self) -> None:
        ok = bool(self.path_edit.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
