"""The monitor's windows computed by two processes at once.

A cold monitor run (no cached windows: ``export gates`` in CI, a first dashboard refresh) is
thousands of independent window bootstraps, about 10 ms each at B = 2000, and nearly all of them
hold the GIL (drawing is the only part numpy runs without it), so threads do not help. On a
machine with two or more cores, :func:`parallel_windows` starts one ``spawn``ed child that
computes the windows from the last one backwards while this process computes them from the
first one forwards; they meet in the middle, whichever is faster taking more.

Why it is built this way:

- Each window's result depends only on its own labels, the baseline and the configuration (its
  bootstrap has its own seed; :class:`~reviewdesk.stats.monitor.WindowTask`), so who computes it
  does not change a digit: the run is the same as :func:`~reviewdesk.stats.monitor.run_windows`.
- The child is only a helper. If it cannot start, dies or fails, this process computes what is
  left itself (a deterministic error then happens here too, with its real traceback). At the
  meeting point both may compute the same window once; the first result is kept.
- The child sends each window as it is done and stops when the parent closes the pipe; the
  parent stops and reaps it however the run ends (done, canceled, failed): no process is left.
- The child runs OpenBLAS with one thread: each process then has one core, instead of two
  processes' BLAS threads spinning on two cores.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.io.parallel import (
    ONE_BLAS_THREAD,
    helper_child_body,
    starting_child,
    stop_child,
    usable_cores,
)
from reviewdesk.stats.monitor import WindowEval, WindowTask, run_windows

log = logging.getLogger(__name__)

WORKERS_ENV = "REVIEWDESK_MONITOR_WORKERS"
#: Fewer uncached windows than this are computed in process (a child costs ≈ 0.4 s to start).
PARALLEL_MIN_WINDOWS = 64

_WINDOW, _ERROR = 0, 1


def forced_helpers() -> bool | None:
    """``REVIEWDESK_MONITOR_WORKERS``: False (``0``, no helper processes), True (``1``, always
    one where there is work for it), None (unset: each helper decides by size and cores)."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if not raw:
        return None
    if raw not in ("0", "1"):
        raise UserError(
            f"{WORKERS_ENV} must be 0 (the monitor's work in process) or 1 (also in helper "
            f"processes), not {raw!r}"
        )
    return raw == "1"


def _use_child(n_windows: int) -> bool:
    forced = forced_helpers()
    if forced is not None:
        return forced and n_windows >= 2
    return n_windows >= PARALLEL_MIN_WINDOWS and usable_cores() >= 2


def parallel_windows(task: WindowTask, cancel: CancelToken | None = None) -> Job[list[WindowEval]]:
    """A :data:`~reviewdesk.stats.monitor.WindowRunner`: the task's windows, shared with a child
    process where that pays (``REVIEWDESK_MONITOR_WORKERS``: ``0`` never, ``1`` always)."""
    if not _use_child(len(task)):
        return (yield from run_windows(task, cancel))
    n = len(task)
    results: list[WindowEval | None] = [None] * n
    with _Helper(task) as helper:
        low = n  # the child has sent every window from ``low`` on
        done = from_helper = 0
        for j in range(n):
            for k, ev in helper.received():
                if results[k] is None:
                    results[k] = ev
                    done += 1
                    from_helper += 1
                low = min(low, k)
            if j >= low:
                break
            if cancel is not None:
                cancel.check()
            if results[j] is None:
                results[j] = task.evaluate(j, cancel)
                done += 1
            yield Progress(done, n, f"Monitor: {task.population}, window {task.windows[j].id}")
    log.debug("monitor %s: the helper computed %d of %d windows", task.population, from_helper, n)
    missing = [j for j, ev in enumerate(results) if ev is None]
    if missing:  # pragma: no cover - the loop above leaves none; a guard, not a path
        raise RuntimeError(f"monitor windows {missing[:5]} were computed by neither process")
    yield Progress(n, n, f"Monitor: {task.population}")
    return [ev for ev in results if ev is not None]


class _Helper:
    """The child computing windows from the end; a context manager that always reaps it."""

    def __init__(self, task: WindowTask) -> None:
        self._conn: Connection | None = None
        self._process: Any = None
        ctx = multiprocessing.get_context("spawn")
        conn, child_conn = ctx.Pipe(duplex=False)
        process = ctx.Process(
            target=_child_main,
            args=(child_conn, task),
            name=f"reviewdesk-monitor {task.population}",
            daemon=True,
        )
        try:
            with starting_child(ONE_BLAS_THREAD):
                process.start()
        except (OSError, RuntimeError, pickle.PicklingError) as exc:
            log.warning("monitor: no helper process (%s); computing every window here", exc)
            conn.close()
            return
        finally:
            child_conn.close()  # only the child holds its end: its exit is seen at once
        self._conn, self._process = conn, process

    def received(self) -> Iterator[tuple[int, WindowEval]]:
        """The windows the child has sent so far (never waits); nothing once it has gone."""
        conn = self._conn
        if conn is None:
            return
        try:
            while conn.poll(0):
                tag, payload = pickle.loads(conn.recv_bytes())
                if tag == _WINDOW:
                    yield payload
                else:
                    log.warning("monitor helper failed; computing the rest here:\n%s", payload)
                    self.close()
                    return
        except (EOFError, OSError, pickle.UnpicklingError):
            self.close()  # it died: the parent computes what is left

    def close(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            conn.close()  # a child sending its next window sees the pipe closed and exits
        if process is not None:
            stop_child(process)

    def __enter__(self) -> _Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _child_main(conn: Connection, task: WindowTask) -> None:
    """The child: windows from the last one backwards, each sent when done."""
    with helper_child_body(conn, _ERROR):
        for j in range(len(task) - 1, -1, -1):
            conn.send_bytes(pickle.dumps((_WINDOW, (j, task.evaluate(j)))))
