"""The gate-input estimates (STATISTICS.md §2–§6) computed by a second process while this one
runs the homogenization monitor.

The estimates must leave out the labels the monitor quarantines (§7.6), so in one process they
wait for the monitor. But a quarantine is the exception: usually it is empty, and then the
estimates of the unquarantined data are the answer. So on a machine with two or more cores an
export starts a ``spawn``ed helper first thing (it imports the statistics while this process
reads the project), hands it the arrays read in the export's snapshot, and runs the monitor
meanwhile. With an empty quarantine the helper's records are used; otherwise they are dropped and
the estimates are computed here on the quarantined data, as before.

Like the monitor's window helper (``services.monitor_parallel``), it is only a helper: if it
cannot start, dies or fails, this process computes the records itself, with the same seeds and
so the same numbers; it is stopped and reaped however the export ends.
``REVIEWDESK_MONITOR_WORKERS=0`` (no helper processes for the monitor's work) turns it off too.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from reviewdesk.io.parallel import (
    ONE_BLAS_THREAD,
    helper_child_body,
    starting_child,
    stop_child,
    usable_cores,
)
from reviewdesk.services.monitor_parallel import forced_helpers
from reviewdesk.stats.records import MetricRecord

log = logging.getLogger(__name__)

_OK, _ERROR = 0, 1
#: Smaller project files compute their estimates in process (decided before anything is read).
HELPER_MIN_PROJECT_BYTES = 16 * 1024 * 1024


class EstimatesHelper:
    """A child process that computes one set of estimates on request."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe(duplex=True)
        self._process: Any = ctx.Process(
            target=_child_main, args=(child_conn,), name="reviewdesk-estimates", daemon=True
        )
        self._reply: Any = None
        try:
            with starting_child(ONE_BLAS_THREAD):
                self._process.start()
        except BaseException:
            self._conn.close()
            raise
        finally:
            child_conn.close()

    def submit(self, request: tuple[Any, ...]) -> None:
        """Ask for ``gate_inputs.estimates_for(*request)`` (a helper that has gone is ignored)."""
        with contextlib.suppress(OSError, ValueError):
            self._conn.send_bytes(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))

    def ready(self) -> bool:
        """True once the records (or the helper's failure) can be taken without waiting."""
        if self._reply is not None:
            return True
        try:
            if not self._conn.poll(0):
                return False
            self._reply = pickle.loads(self._conn.recv_bytes())
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            self._reply = (_ERROR, "the helper process ended without an answer")
        return True

    def wait(self, seconds: float) -> None:
        with contextlib.suppress(EOFError, OSError, ValueError):
            self._conn.poll(seconds)

    def result(self) -> list[MetricRecord] | None:
        """The helper's records, or None when it failed (the caller computes them then)."""
        tag, payload = self._reply
        if tag == _OK:
            records: list[MetricRecord] = payload
            log.debug("estimates helper: %d records computed alongside the monitor", len(records))
            return records
        log.warning("estimates helper failed; computing the records here:\n%s", payload)
        return None

    def close(self) -> None:
        self._conn.close()
        if self._process.pid is not None:
            stop_child(self._process)


def _pays(project_bytes: int) -> bool:
    forced = forced_helpers()
    if forced is not None:
        return forced
    return project_bytes >= HELPER_MIN_PROJECT_BYTES and usable_cores() >= 2


@contextlib.contextmanager
def estimates_helper(wanted: bool, project_bytes: int) -> Iterator[EstimatesHelper | None]:
    """A started helper when ``wanted`` and it pays, else None.

    It pays on ≥ 2 cores for a project file of ``HELPER_MIN_PROJECT_BYTES`` or more (the
    helper's start, ≈ 1.2 s of the other core, is more than a small project's estimates cost);
    ``REVIEWDESK_MONITOR_WORKERS`` ``0``/``1`` switches it off/on whatever the size.
    """
    helper = None
    if wanted and _pays(project_bytes):
        try:
            helper = EstimatesHelper()
        except (OSError, RuntimeError) as exc:
            log.warning("no estimates helper (%s); computing the records in this process", exc)
    try:
        yield helper
    finally:
        if helper is not None:
            helper.close()


def _child_main(conn: Connection) -> None:
    """The helper: import the statistics, wait for one request, send its records."""
    with helper_child_body(conn, _ERROR):
        from reviewdesk.services.gate_inputs import estimates_for

        request = pickle.loads(conn.recv_bytes())
        records = estimates_for(*request)
        conn.send_bytes(pickle.dumps((_OK, records), protocol=pickle.HIGHEST_PROTOCOL))
