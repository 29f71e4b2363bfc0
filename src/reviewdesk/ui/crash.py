"""The two error families in the GUI (ARCHITECTURE.md §4.11).

A ``UserError`` is something the user can fix: it gets a plain warning dialog with its message.
Anything else is a bug: it is logged with its traceback to ``paths.log_file()`` and shown in the
crash dialog, which names the log file. Both dialogs are non-blocking (``open()``), so an error on
the worker never stalls the event loop, and ``reported_bugs`` lets tests fail on any bug.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.errors import UserError
from reviewdesk.ui.widgets import plain_buttons

log = logging.getLogger("reviewdesk.ui")

#: Every bug reported in this process (tests assert it stays empty).
reported_bugs: list[BaseException] = []
#: Every user error shown in this process (tests inspect it).
shown_user_errors: list[str] = []

_logging_ready = False


def setup_logging() -> str:
    """Log to the user's log file (once); returns its path for the crash dialog."""
    global _logging_ready
    from reviewdesk.services.paths import log_file

    path = log_file()
    if not _logging_ready:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger("reviewdesk")
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        _logging_ready = True
    return str(path)


def log_path_text() -> str:
    try:
        from reviewdesk.services.paths import log_file

        return str(log_file())
    except Exception:  # noqa: BLE001 - the dialog must appear even if the data folder is broken
        return "(the log file could not be created)"


class CrashDialog(QDialog):
    """Tells the user a bug happened, that saved labels are safe, and where the details are."""

    def __init__(self, details: str, log_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle("reviewdesk — unexpected error")
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.resize(720, 460)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        head = QLabel(
            "<b>reviewdesk ran into a bug.</b><br>Every label already shown as saved is safely "
            "on disk. You can keep working; if this happens again, please send the details "
            "below to the maintainers."
        )
        head.setWordWrap(True)
        layout.addWidget(head)
        where = QLabel(f"The details were also written to:<br><code>{log_path}</code>")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where.setWordWrap(True)
        layout.addWidget(where)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setObjectName("crashDetails")
        layout.addWidget(self.details, 1)
        buttons = plain_buttons(QDialogButtonBox(QDialogButtonBox.StandardButton.Close))
        copy = QPushButton("Copy details")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def show_user_error(message: str, parent: QWidget | None = None, title: str = "reviewdesk") -> None:
    """A plain, non-blocking warning with a message the user can act on."""
    shown_user_errors.append(message)
    box = QMessageBox(parent or _active_window())
    box.setObjectName("userErrorDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(message)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def report_error(error: BaseException, parent: QWidget | None = None) -> None:
    """Route an error from anywhere in the GUI to the right dialog."""
    if isinstance(error, UserError):
        show_user_error(str(error), parent)
        return
    report_bug(error, parent)


def report_bug(error: BaseException, parent: QWidget | None = None) -> None:
    reported_bugs.append(error)
    details = _format(error)
    log.error("unexpected error in the GUI:\n%s", details)
    if QApplication.instance() is None:
        sys.stderr.write(details)
        return
    dialog = CrashDialog(details, log_path_text(), parent or _active_window())
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


def _active_window() -> QWidget | None:
    app = QApplication.instance()
    return app.activeWindow() if isinstance(app, QApplication) else None


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        app = QApplication.instance()
        if app is not None:
            app.quit()
        return
    if exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    report_error(exc)


def install_excepthook() -> None:
    """Send exceptions raised in Qt slots and event handlers to the error dialogs."""
    setup_logging()
    sys.excepthook = _excepthook
