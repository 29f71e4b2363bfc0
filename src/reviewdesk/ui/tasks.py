"""The one serialized database worker, and runners for calls and generator jobs on it.

Every call that touches a project file runs on ``db_pool()``, a ``QThreadPool`` with exactly one
thread, in submission order (ARCHITECTURE.md §4.3): SQLite sessions never cross threads, two
writes never race, and the UI thread never waits on the disk. Workers never touch widgets; they
hand results to a relay ``QObject`` that lives on the UI thread, through queued connections.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from reviewdesk.domain.progress import CancelToken, Job, Progress

log = logging.getLogger("reviewdesk.ui")

#: Progress reports are forwarded at most this often (seconds): about 10 Hz.
PROGRESS_INTERVAL_S = 0.1

_db_pool: QThreadPool | None = None
#: Tasks whose results have not been delivered yet; holding them keeps their relays alive.
_live: set[Task] = set()


def db_pool() -> QThreadPool:
    """The single-thread pool that owns all project-file access."""
    global _db_pool
    if _db_pool is None:
        _db_pool = QThreadPool()
        _db_pool.setObjectName("reviewdesk-db")
        _db_pool.setMaxThreadCount(1)
    return _db_pool


def pending_tasks() -> int:
    """Tasks submitted whose results have not reached the UI thread yet (for tests and quit)."""
    return len(_live)


class Task(QObject):
    """A call running on the database worker; ``done``/``failed`` arrive on the UI thread.

    Created on the UI thread, so its slots run there: the worker emits the private ``_*_raw``
    signals, which are connected to those slots with ``QueuedConnection``.
    """

    done = Signal(object)
    failed = Signal(object)
    progressed = Signal(object)

    _done_raw = Signal(object)
    _failed_raw = Signal(object)
    _progress_raw = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.finished = False
        self.cancel_token = CancelToken()
        queued = Qt.ConnectionType.QueuedConnection
        self._done_raw.connect(self._deliver_done, queued)
        self._failed_raw.connect(self._deliver_failed, queued)
        self._progress_raw.connect(self._deliver_progress, queued)

    def cancel(self) -> None:
        """Ask a job to stop at its next check; a plain call cannot be interrupted."""
        self.cancel_token.cancel()

    @Slot(object)
    def _deliver_done(self, result: object) -> None:
        self.finished = True
        _live.discard(self)
        self.done.emit(result)

    @Slot(object)
    def _deliver_failed(self, error: object) -> None:
        self.finished = True
        _live.discard(self)
        self.failed.emit(error)

    @Slot(object)
    def _deliver_progress(self, progress: object) -> None:
        if not self.finished:
            self.progressed.emit(progress)


def _send(signal: Any, value: object) -> None:
    """Emit from the worker; if the receiving task is gone (the app is quitting), drop it."""
    try:
        signal.emit(value)
    except RuntimeError:
        log.debug("result dropped: its task was deleted (the application is closing)")


class _CallRunnable(QRunnable):
    def __init__(
        self, task: Task, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    def run(self) -> None:
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the UI thread
            _send(self._task._failed_raw, exc)
        else:
            _send(self._task._done_raw, result)


class _JobRunnable(QRunnable):
    """Drives a generator job: throttled progress, cancel through the task's token."""

    def __init__(self, task: Task, make_job: Callable[[CancelToken], Job[Any]]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._make_job = make_job

    def run(self) -> None:
        task = self._task
        last = 0.0
        try:
            job = self._make_job(task.cancel_token)
            try:
                while True:
                    progress: Progress = next(job)
                    now = time.monotonic()
                    if now - last >= PROGRESS_INTERVAL_S:
                        last = now
                        _send(task._progress_raw, progress)
                    task.cancel_token.check()
            except StopIteration as stop:
                result = stop.value
            finally:
                job.close()  # closing a suspended generator rolls its transaction back
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the UI thread
            _send(task._failed_raw, exc)
        else:
            _send(task._done_raw, result)


def submit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
    """Run ``fn(*args, **kwargs)`` on the database worker, after everything submitted before."""
    task = Task()
    _live.add(task)
    db_pool().start(_CallRunnable(task, fn, args, kwargs))
    return task


def submit_job(make_job: Callable[[CancelToken], Job[Any]]) -> Task:
    """Run a generator job on the database worker; ``task.cancel()`` stops it between batches."""
    task = Task()
    _live.add(task)
    db_pool().start(_JobRunnable(task, make_job))
    return task


def submit_background(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
    """Run CPU or file work that never touches a project file on the shared pool."""
    task = Task()
    _live.add(task)
    QThreadPool.globalInstance().start(_CallRunnable(task, fn, args, kwargs))
    return task


def wait_idle(timeout_ms: int = 5000) -> bool:
    """Block until the worker is idle (used on quit, never during normal operation)."""
    ok = db_pool().waitForDone(timeout_ms)
    return bool(ok and QThreadPool.globalInstance().waitForDone(timeout_ms))
