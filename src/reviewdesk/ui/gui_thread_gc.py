"""Python's cyclic garbage collector, run on the GUI thread only.

CPython collects reference cycles in whichever thread crosses the allocation threshold, and in
this application that is often a worker (an export, a dashboard refresh, a prefetch). A cycle
that holds Qt wrappers (a closed dialog and the lambdas connected to it) then has its C++ objects
destroyed off the GUI thread. Qt forbids that, and with PySide it can deadlock: the worker, inside
a ``QObject`` destructor with the GIL held, waits for a Qt lock that the GUI thread holds while it
waits for the GIL to run a queued slot. (Seen once in the test suite: both threads stopped, the
GUI thread delivering an export's progress, the worker in the middle of reading the project.)

So while the application runs, automatic collection is off and a timer on the GUI thread
collects with the generation thresholds the interpreter itself uses. Reference counting still
frees all other garbage at once; only cycles wait for the next tick (a quarter of a second).
Long jobs that would trigger many full collections pause it (:func:`paused`), as before.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: Milliseconds between two checks of the collector's counts.
INTERVAL_MS = 250
#: Seconds between two full (generation 2) collections at least.
FULL_MIN_SECONDS = 30.0

_lock = threading.Lock()
_pauses = 0
_collector: _Collector | None = None


class _Collector(QObject):
    """A timer on the GUI thread that runs the collections the interpreter would have run."""

    def __init__(self, parent: QObject, interval_ms: int) -> None:
        super().__init__(parent)
        self.collections = 0  # for tests and diagnostics
        self._last_full = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> int | None:
        """The interpreter's rule: once the youngest generation is over its threshold, collect
        the oldest generation that is over its own; returns it (None: nothing was due, or a job
        has paused collection). Full collections come at most every ``FULL_MIN_SECONDS``: the
        interpreter limits them by the share of long-lived objects, which Python does not expose.
        """
        if _pauses:
            return None
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if not thresholds[0] or counts[0] <= thresholds[0]:
            return None
        due = 0
        if counts[1] > thresholds[1]:
            due = 1
        now = time.monotonic()
        if counts[2] > thresholds[2] and now - self._last_full >= FULL_MIN_SECONDS:
            due = 2
            self._last_full = now
        gc.collect(due)
        self.collections += 1
        return due


def install(app: QCoreApplication, interval_ms: int = INTERVAL_MS) -> None:
    """Collect on ``app``'s thread from now on (idempotent; call it on the GUI thread)."""
    global _collector
    with _lock:
        if _collector is None:
            _collector = _Collector(app, interval_ms)
        gc.disable()


def installed() -> bool:
    return _collector is not None


def collections() -> int:
    """Collections the GUI thread has run (0 before :func:`install`)."""
    return 0 if _collector is None else _collector.collections


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside this block (from any thread; pauses nest).

    When the last pause ends, what was allocated meanwhile is filed under the oldest generation
    without a scan (freeze, then unfreeze): a job's results would otherwise make the first young
    collection afterwards walk all of them at once. Without :func:`install` (a command-line
    run, a test without the GUI), automatic collection is switched off and on again instead.
    """
    global _pauses
    with _lock:
        _pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0:
                gc.freeze()
                gc.unfreeze()
                if _collector is None:
                    gc.enable()
