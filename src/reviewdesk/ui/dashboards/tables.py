"""Tables beside the charts: a thin model over plain rows, and a card with Copy and Export CSV.

napari-style: the data stay plain tuples; the model only formats them. Each column keeps its
raw values for the clipboard and CSV (numbers as numbers, an interval as three columns), while
the view shows them formatted ("0.412 [0.351, 0.470]", "38%"). Copy and export go through
``services.table_export``, which neutralizes formula-like cells the way the CSV exports do.
No pyqtgraph here, so dialogs outside the dashboards (the gate check) can use the card too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.errors import UserError
from reviewdesk.services.table_export import table_tsv, write_table_csv
from reviewdesk.ui import theme
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import role_label

Index = QModelIndex | QPersistentModelIndex
MINUS = "\u2212"
STATUS_TOKENS = {
    "quarantined": "danger",
    "insufficient_data": "warning",
    "undefined": "faint",
    "missing": "faint",
    "fail": "danger",
    "FAIL": "danger",
    "pass": "success",
    "PASS": "success",
}


@dataclass(frozen=True)
class Column:
    """One column: header, kind (``text``, ``int``, ``float``, ``pct``, ``interval``,
    ``status``, ``bool``), digits for numbers and a header tooltip."""

    header: str
    kind: str = "text"
    digits: int = 3
    tip: str = ""
    stretch: bool = False

    @property
    def export_headers(self) -> tuple[str, ...]:
        if self.kind == "interval":
            return (self.header, f"{self.header} CI low", f"{self.header} CI high")
        return (self.header,)


def _num(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text.replace("-", MINUS) if text.startswith("-") else text


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def format_cell(column: Column, value: Any) -> str:
    """The display text of one cell ("—" for a missing or undefined number)."""
    kind = column.kind
    if value is None:
        return "—"
    if kind == "int":
        return f"{int(value):,}" if _finite(value) else "—"
    if kind == "float":
        return _num(float(value), column.digits) if _finite(value) else "—"
    if kind == "pct":
        return f"{100.0 * float(value):.{max(0, column.digits - 2)}f}%" if _finite(value) else "—"
    if kind == "interval":
        est, lo, hi = value
        if not _finite(est):
            return "—"
        text = _num(float(est), column.digits)
        if _finite(lo) and _finite(hi):
            text += f"  [{_num(float(lo), column.digits)}, {_num(float(hi), column.digits)}]"
        return text
    if kind == "bool":
        return "yes" if value else ""
    if kind == "status":
        return str(value).replace("_", " ")
    return str(value)


def export_cells(column: Column, value: Any) -> list[object]:
    """The raw values of one cell for TSV/CSV (numbers stay numbers; NaN is empty)."""
    if column.kind == "interval":
        est, lo, hi = value if value is not None else (None, None, None)
        return [v if _finite(v) else None for v in (est, lo, hi)]
    if column.kind in ("int", "float", "pct"):
        return [value if _finite(value) else None]
    if column.kind == "bool":
        return [bool(value)]
    return [value]


class RowsModel(QAbstractTableModel):
    """Plain rows formatted by their columns; optional tooltips and row tints per row."""

    def __init__(self, columns: Sequence[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: list[tuple[Any, ...]] = []
        self._tips: list[str] = []
        self._tints: list[str | None] = []

    def set_rows(
        self,
        rows: Sequence[Sequence[Any]],
        tooltips: Sequence[str] | None = None,
        tints: Sequence[str | None] | None = None,
    ) -> None:
        self.beginResetModel()
        self._rows = [tuple(r) for r in rows]
        self._tips = list(tooltips) if tooltips is not None else [""] * len(self._rows)
        self._tints = list(tints) if tints is not None else [None] * len(self._rows)
        self.endResetModel()

    def row_values(self, row: int) -> tuple[Any, ...]:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = self.columns[index.column()]
        value = self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return format_cell(column, value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.kind in ("int", "float", "pct", "interval"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = self._tips[index.row()]
            return tip or None
        if role == Qt.ItemDataRole.ForegroundRole and column.kind == "status":
            token = STATUS_TOKENS.get(str(value))
            return QBrush(QColor(theme.current()[token])) if token else None
        if role == Qt.ItemDataRole.BackgroundRole:
            tint = self._tints[index.row()]
            return QBrush(QColor(theme.current()[tint])) if tint else None
        if role == Qt.ItemDataRole.UserRole:
            return value
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].header
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section].tip or None
        return None

    # ---- export

    def export_header(self) -> list[str]:
        return [h for c in self.columns for h in c.export_headers]

    def export_rows(self, rows: Sequence[int] | None = None) -> list[list[object]]:
        chosen = range(len(self._rows)) if rows is None else rows
        out = []
        for r in chosen:
            cells: list[object] = []
            for column, value in zip(self.columns, self._rows[r], strict=True):
                cells.extend(export_cells(column, value))
            out.append(cells)
        return out


BANNER_TOKENS = {
    "ok": ("success_soft", "success"),
    "warning": ("warning_soft", "warning"),
    "danger": ("danger_soft", "danger"),
}


def paint_banner(frame: QFrame, kind: str) -> None:
    """Color a banner frame by verdict (OK green, broken or failing red) from the theme."""
    soft, strong = BANNER_TOKENS[kind]
    c = theme.current()
    frame.setStyleSheet(
        f"QFrame#{frame.objectName()} {{ background: {c[soft]}; border: 1px solid {c[strong]};"
        " border-radius: 8px; }"
        f" QFrame#{frame.objectName()} QLabel {{ color: {c['text']}; }}"
    )


def set_primary_enabled(button: QAbstractButton, enabled: bool) -> None:
    """Enable a primary button, or show it as an ordinary disabled one: the stylesheet gives
    primary buttons no disabled look, and an accent-colored button reads as clickable."""
    button.setEnabled(enabled)
    role = "primary" if enabled else None
    if button.property("role") != role:
        button.setProperty("role", role)
        button.style().unpolish(button)
        button.style().polish(button)


def make_table_view(model: RowsModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(26)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setResizeContentsPrecision(200)  # a long table must not measure every row
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setHighlightSections(False)
    for n, column in enumerate(model.columns):
        if column.stretch:
            header.setSectionResizeMode(n, QHeaderView.ResizeMode.Stretch)
    if not any(c.stretch for c in model.columns):
        header.setStretchLastSection(True)
    return view


class TableCard(QFrame):
    """A titled table with "Copy" (TSV to the clipboard) and "Export CSV…"."""

    def __init__(
        self,
        title: str,
        columns: Sequence[Column],
        ops: Ops | None = None,
        parent: QWidget | None = None,
        *,
        file_stem: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.setObjectName("tableCard")
        self.title = title
        self._ops = ops
        self.file_stem = file_stem or "".join(
            ch if ch.isalnum() else "-" for ch in title.lower()
        ).strip("-")
        self.model = RowsModel(columns, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(6)
        head = QHBoxLayout()
        head.addWidget(role_label(title, "section"))
        head.addStretch(1)
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setProperty("role", "flat")
        self.copy_button.setToolTip("Copy the selected rows (or the whole table) as TSV")
        self.copy_button.clicked.connect(lambda: self.copy_to_clipboard())
        self.csv_button = QToolButton()
        self.csv_button.setText("Export CSV…")
        self.csv_button.setProperty("role", "flat")
        self.csv_button.setToolTip("Save the whole table as a CSV file")
        self.csv_button.clicked.connect(self.choose_and_export)
        head.addWidget(self.copy_button)
        head.addWidget(self.csv_button)
        layout.addLayout(head)
        self.view = make_table_view(self.model)
        layout.addWidget(self.view, 1)
        self.last_export: Path | None = None
        self.on_message: Callable[[str], None] | None = None

    def set_rows(
        self,
        rows: Sequence[Sequence[Any]],
        tooltips: Sequence[str] | None = None,
        tints: Sequence[str | None] | None = None,
    ) -> None:
        self.model.set_rows(rows, tooltips, tints)
        has_rows = self.model.rowCount() > 0
        self.copy_button.setEnabled(has_rows)
        self.csv_button.setEnabled(has_rows)

    def _say(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)

    def selected_rows(self) -> list[int]:
        selection = self.view.selectionModel()
        if selection is None:
            return []
        return sorted({index.row() for index in selection.selectedRows()})

    def copy_to_clipboard(self, selection_only: bool | None = None) -> str:
        """Copy as TSV: the selected rows if any are selected, else the whole table."""
        rows = self.selected_rows()
        if selection_only is False or not rows:
            rows = list(range(self.model.rowCount()))
        text = table_tsv(self.model.export_header(), self.model.export_rows(rows))
        QGuiApplication.clipboard().setText(text)
        self._say(f"Copied {len(rows)} row(s) of “{self.title}”.")
        return text

    def choose_and_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export “{self.title}”", f"{self.file_stem}.csv", "CSV file (*.csv)"
        )
        if path:
            if not path.lower().endswith(".csv"):
                path += ".csv"
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> None:
        """Write the whole table to ``path`` off the UI thread (``last_export`` when done)."""
        header = self.model.export_header()
        rows = self.model.export_rows()

        def done(written: Path) -> None:
            self.last_export = written
            self._say(f"Saved {len(rows)} row(s) to {written}.")

        def failed(error: BaseException) -> bool:
            if isinstance(error, UserError):
                self._say(str(error))
                return True
            return False

        if self._ops is None:
            done(write_table_csv(path, header, rows))
            return
        self._ops.background(
            write_table_csv, path, header, rows, on_done=done, on_error=failed, owner=self
        )
