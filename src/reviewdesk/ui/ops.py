"""Operations: service calls run on the database worker, results and changes back on the UI thread.

Anki-style: a view never calls a service directly. It asks ``Ops`` to run one on the worker;
the result (or error) comes back through the task's queued signals, and a mutation announces
what it changed on the one app-wide ``changes_applied`` signal, so every view refreshes only
what it shows (ARCHITECTURE.md §4.6). Errors nobody handles go to ``crash.report_error``:
a plain dialog for a ``UserError``, the crash dialog for a bug.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.ui import crash, tasks


class Ops(QObject):
    """Runs operations for one main window and broadcasts their ``Changes``."""

    changes_applied = Signal(object)

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__()
        self._parent_widget = parent_widget

    def set_parent_widget(self, widget: QWidget | None) -> None:
        """Where error dialogs are centered."""
        self._parent_widget = widget

    def _wire(
        self,
        task: tasks.Task,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], bool | None] | None,
        changes: Changes | Callable[[Any], Changes | None] | None,
        owner: QObject | None = None,
    ) -> tasks.Task:
        def gone() -> bool:
            return owner is not None and not shiboken6.isValid(owner)

        def done(result: object) -> None:
            if on_done is not None and not gone():
                on_done(result)
            applied = changes(result) if callable(changes) else changes
            if applied is not None:
                self.changes_applied.emit(applied)

        def failed(error: object) -> None:
            assert isinstance(error, BaseException)
            if gone():
                on_error_ = None  # the window that asked is closed; still report bugs
            else:
                on_error_ = on_error
            if on_error_ is not None and on_error_(error):
                return  # the caller handled it
            if gone() and isinstance(error, UserError):
                return
            crash.report_error(error, self._parent_widget)

        task.done.connect(done)
        task.failed.connect(failed)
        return task

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], bool | None] | None = None,
        changes: Changes | Callable[[Any], Changes | None] | None = None,
        owner: QObject | None = None,
        **kwargs: Any,
    ) -> tasks.Task:
        """Run ``fn`` on the database worker.

        ``on_error`` returns True when it has dealt with the error; otherwise the error is shown.
        With ``owner`` (a dialog that may close first), callbacks are skipped once it is gone.
        """
        return self._wire(tasks.submit(fn, *args, **kwargs), on_done, on_error, changes, owner)

    def job(
        self,
        make_job: Callable[[CancelToken], Job[Any]],
        *,
        on_progress: Callable[[Progress], None] | None = None,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], bool | None] | None = None,
        changes: Changes | Callable[[Any], Changes | None] | None = None,
        owner: QObject | None = None,
    ) -> tasks.Task:
        """Run a generator job on the database worker with ~10 Hz progress and cancel."""
        task = tasks.submit_job(make_job)
        if on_progress is not None:
            task.progressed.connect(
                lambda p: (
                    None if owner is not None and not shiboken6.isValid(owner) else on_progress(p)
                )
            )
        return self._wire(task, on_done, on_error, changes, owner)

    def background(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], bool | None] | None = None,
        owner: QObject | None = None,
        **kwargs: Any,
    ) -> tasks.Task:
        """Run work that never touches a project file (reading an input file, ...) off the UI."""
        return self._wire(
            tasks.submit_background(fn, *args, **kwargs), on_done, on_error, None, owner
        )
