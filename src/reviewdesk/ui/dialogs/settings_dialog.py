"""Settings: the project's (overlap, audit rate, candidate/baseline, reveal-after-submit), the
user's key map, and the theme.

Project settings show model names, so the project tab exists only when the lead opened the
dialog from the project page; from the start page only keys and appearance are offered. The key
map is validated as it is typed (unknown keys, a key bound twice) and cannot be saved broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.keymap import ACTIONS, DEFAULT_KEYMAP, validate_keymap
from reviewdesk.services.project import Project, ProjectSettings, update_settings
from reviewdesk.services.queue import build_queue
from reviewdesk.services.status import get_status
from reviewdesk.services.ui_settings import THEMES, save_keymap, save_theme
from reviewdesk.ui import crash
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import plain_buttons, role_label

NOT_SET = "(not set)"


def load_project_settings(project: Project) -> tuple[ProjectSettings, list[str]]:
    """Worker side: the settings and the models the candidate/baseline may be chosen from."""
    return project.settings(), list(get_status(project)["models"])


def save_project_settings(project: Project, changes: dict[str, Any], rebuild: bool) -> str:
    """Worker side: store the changes (audited) and rebuild the queue if asked."""
    update_settings(project, **changes)
    if rebuild:
        return build_queue(project).summary()
    return "Settings saved."


def parse_keys(text: str) -> tuple[str, ...]:
    """``"1, A, Left"`` → ``("1", "A", "Left")``; a lone ``,`` key is written ``Comma``."""
    return tuple(k.strip().replace("Comma", ",") for k in text.split(",") if k.strip())


class KeymapEditor(QWidget):
    """A table of every action and its keys, with live validation."""

    def __init__(
        self, keymap: Mapping[str, tuple[str, ...]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        hint = role_label(
            "Type keys separated by commas, e.g. “1, A, Left” or “Ctrl+Z, Backspace”. "
            "A key can do only one thing.",
            "muted",
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table = QTableWidget(len(ACTIONS), 3)
        self.table.setObjectName("keymapTable")
        self.table.setHorizontalHeaderLabels(["Group", "Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(2, 200)
        for row, action in enumerate(ACTIONS):
            for column, text in enumerate((action.group, action.label)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
            keys = QTableWidgetItem(", ".join(keymap.get(action.id, ())))
            keys.setData(Qt.ItemDataRole.UserRole, action.id)
            self.table.setItem(row, 2, keys)
        self.table.itemChanged.connect(self._validate)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.problems = QLabel("")
        self.problems.setObjectName("keymapProblems")
        self.problems.setWordWrap(True)
        self.problems.setProperty("role", "muted")
        bottom.addWidget(self.problems, 1)
        reset = QPushButton("Restore defaults")
        reset.clicked.connect(lambda: self.set_keymap(DEFAULT_KEYMAP))
        bottom.addWidget(reset)
        layout.addLayout(bottom)
        self._validate()

    def _key_items(self) -> list[tuple[str, QTableWidgetItem]]:
        """(action id, editable keys cell) for every row."""
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 2)
            assert item is not None
            out.append((str(item.data(Qt.ItemDataRole.UserRole)), item))
        return out

    def keymap(self) -> dict[str, tuple[str, ...]]:
        return {action_id: parse_keys(item.text()) for action_id, item in self._key_items()}

    def set_keymap(self, keymap: Mapping[str, tuple[str, ...]]) -> None:
        for action_id, item in self._key_items():
            item.setText(", ".join(keymap.get(action_id, ())))

    def set_keys(self, action_id: str, keys: str) -> None:
        for owner, item in self._key_items():
            if owner == action_id:
                item.setText(keys)

    def problem_list(self) -> list[str]:
        return validate_keymap(self.keymap())

    def _validate(self, *_args: object) -> None:
        problems = self.problem_list()
        self.problems.setText("; ".join(problems) if problems else "No conflicts.")


class SettingsDialog(QDialog):
    keymap_saved = Signal(object)  # dict[str, tuple[str, ...]]
    theme_saved = Signal(str)
    project_saved = Signal()

    def __init__(
        self,
        ops: Ops,
        keymap: Mapping[str, tuple[str, ...]],
        theme_preference: str,
        project: Project | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings" if project is None else f"Settings — {project.name}")
        self.resize(760, 600)
        self._ops = ops
        self._project = project
        self._loaded: ProjectSettings | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(12)
        layout.addWidget(role_label("Settings", "title"))
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        if project is not None:
            self.tabs.addTab(self._project_tab(), "Project")
        self.keys = KeymapEditor(keymap)
        self.tabs.addTab(self.keys, "Keys")
        self.tabs.addTab(self._appearance_tab(theme_preference), "Appearance")
        buttons = plain_buttons(
            QDialogButtonBox(
                QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
            )
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setProperty("role", "primary")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if project is not None:
            ops.call(load_project_settings, project, on_done=self._show_project, owner=self)

    # ------------------------------------------------------------------ tabs

    def _project_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(16, 16, 16, 16)
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(10)
        self.overlap = QSpinBox()
        self.overlap.setRange(1, 20)
        self.overlap.setMinimumWidth(120)
        self.overlap.setMaximumWidth(160)
        form.addRow("Labels per item (overlap)", self.overlap)
        self.audit_rate = QDoubleSpinBox()
        self.audit_rate.setRange(0.0, 1.0)
        self.audit_rate.setSingleStep(0.01)
        self.audit_rate.setDecimals(3)
        self.audit_rate.setMinimumWidth(120)
        self.audit_rate.setMaximumWidth(160)
        form.addRow("Audit sample rate", self.audit_rate)
        self.candidate = QComboBox()
        self.baseline = QComboBox()
        form.addRow("Candidate model", self.candidate)
        form.addRow("Baseline model", self.baseline)
        self.reveal = QCheckBox("Allow reviewers to reveal the sources after labeling a pair")
        form.addRow("Reveal after submit", self.reveal)
        note = role_label(
            "Off by default. Each reveal is written to the audit log. Revealing can bias a "
            "reviewer's later labels; use it for training sessions, not for release evidence.",
            "muted",
        )
        note.setWordWrap(True)
        form.addRow("", note)
        self.rebuild = QCheckBox("Apply overlap and audit rate to the queue now (rebuild)")
        self.rebuild.setChecked(True)
        form.addRow("", self.rebuild)
        self.project_note = role_label("Loading…", "muted")
        form.addRow("", self.project_note)
        return page

    def _appearance_tab(self, preference: str) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(QLabel("Theme"))
        self.theme_group = QButtonGroup(page)
        words = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
        for name in THEMES:
            button = QRadioButton(words[name])
            button.setProperty("theme", name)
            button.setChecked(name == preference)
            self.theme_group.addButton(button)
            layout.addWidget(button)
        layout.addStretch(1)
        return page

    def _show_project(self, loaded: tuple[ProjectSettings, list[str]]) -> None:
        settings, models = loaded
        self._loaded = settings
        self.overlap.setValue(settings.overlap)
        self.audit_rate.setValue(settings.audit_rate)
        for combo, value in (
            (self.candidate, settings.candidate),
            (self.baseline, settings.baseline),
        ):
            combo.clear()
            combo.addItem(NOT_SET, None)
            for model in models:
                combo.addItem(model, model)
            if value is not None and combo.findData(value) < 0:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self.reveal.setChecked(settings.reveal_after_submit)
        self.project_note.setText("")

    # ------------------------------------------------------------------ save

    def selected_theme(self) -> str:
        button = self.theme_group.checkedButton()
        return str(button.property("theme")) if button is not None else "system"

    def project_changes(self) -> dict[str, Any]:
        if self._project is None or self._loaded is None:
            return {}
        wanted = {
            "overlap": self.overlap.value(),
            "audit_rate": round(self.audit_rate.value(), 6),
            "candidate": self.candidate.currentData(),
            "baseline": self.baseline.currentData(),
            "reveal_after_submit": self.reveal.isChecked(),
        }
        return {k: v for k, v in wanted.items() if getattr(self._loaded, k) != v}

    def save(self) -> None:
        problems = self.keys.problem_list()
        if problems:
            self.tabs.setCurrentWidget(self.keys)
            crash.show_user_error("The key map has problems:\n" + "\n".join(problems), self)
            return
        try:
            saved = save_keymap(self.keys.keymap())
            save_theme(self.selected_theme())
        except UserError as exc:
            crash.show_user_error(str(exc), self)
            return
        self.keymap_saved.emit(saved.keymap())
        self.theme_saved.emit(self.selected_theme())
        changes = self.project_changes()
        if not changes or self._project is None:
            self.accept()
            return
        rebuild = self.rebuild.isChecked() and bool({"overlap", "audit_rate"} & set(changes))
        self._ops.call(
            save_project_settings,
            self._project,
            changes,
            rebuild,
            on_done=lambda _summary: self._project_saved(),
            changes=Changes(settings=True, queue=rebuild),
            owner=self,
        )

    def _project_saved(self) -> None:
        self.project_saved.emit()
        self.accept()
