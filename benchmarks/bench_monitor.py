"""Homogenization monitor refresh on 100k human labels (STATISTICS.md §7, §9).

A generated history (``tests/stats/monitor_histories.py``): 43 weekly windows, six labelers,
60 anchors re-served four times a week, 1,000 new ordinary items a week with two labels each,
positive and negative controls, two LLM judges in both orders — 99,760 human labels on 44,780
items, with a house-style ramp in the last third. The monitor runs the way a dashboard refresh
does, as a generator in a worker (it yields ``Progress``; nothing here touches a UI thread),
with the services' runner (a helper process computes half of the uncached windows on ≥ 2 cores):

- ``monitor-weekly``: the dashboard windows (ISO weeks), every population, B = 1000;
- ``monitor-count``: the alarm windows (last 500 labels, step 100: ~1,000 windows × 3
  populations), B = 1000, cold (empty cache);
- ``monitor-incremental``: both again after one more week of labels arrives, with the cache of the
  previous refresh (what the GUI and ``export gates`` see after each review session).

The reference, measured in the same run, is a plain numpy pass over the same arrays: per count
window one ``bincount`` of the item × value counts and the point α from the coincidence matrix —
the least a monitor must do per window, without any interval.

BLAS threads are pinned to one unless ``OPENBLAS_NUM_THREADS`` is set: the monitor's matrix
products are small, and on a shared two-core machine a second BLAS thread only adds contention.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time

import numpy as np
from tests.stats.monitor_histories import HistoryShape, simulate_history

from benchmarks.common import machine, report
from reviewdesk.domain.progress import Job, Progress
from reviewdesk.services.monitor_parallel import WORKERS_ENV, parallel_windows
from reviewdesk.stats.agreement import alpha_from_coincidences, coincidence_features
from reviewdesk.stats.monitor import (
    CalendarWeeks,
    CountWindows,
    MonitorConfig,
    MonitorInput,
    MonitorRun,
    build_windows,
    label_table,
    run_monitor,
)

SHAPE = HistoryShape(n_windows=43, ordinary=1000, positive=24, negative=16)


def drive(job: Job[MonitorRun]) -> tuple[MonitorRun, int]:
    """Run a monitor job as a worker would, counting the progress reports it yields."""
    updates = 0
    while True:
        try:
            update: Progress = next(job)
            updates += 1
            del update
        except StopIteration as stop:
            return stop.value, updates


def reference(data: MonitorInput) -> float:
    """Per count window: item × value counts and the point α (no bootstrap, no indicators)."""
    start = time.perf_counter()
    humans = data.humans
    for w in build_windows(CountWindows(), humans.time, humans.label_id):
        items, local = np.unique(humans.item[w.labels], return_inverse=True)
        cols = np.rint(humans.value[w.labels]).astype(np.int64) + 1
        counts = np.bincount(local * 3 + cols, minlength=items.size * 3).reshape(-1, 3)
        pairable = counts[counts.sum(axis=1) >= 2]
        coincidences = coincidence_features(pairable).sum(axis=0).reshape(3, 3)
        alpha_from_coincidences(coincidences, "ordinal", (-1, 0, 1))
    return time.perf_counter() - start


def without_last_week(data: MonitorInput) -> MonitorInput:
    h = data.humans
    keep = h.time < h.time.max() - 7 * 86400 + 1
    first = label_table(
        item=h.item[keep],
        labeler=h.labeler[keep],
        value=h.value[keep],
        orientation=h.orientation[keep],
        labelers=h.labelers,
        time=h.time[keep],
        label_id=h.label_id[keep],
    )
    return MonitorInput(data.items, first, data.judges)


def main() -> None:
    data = simulate_history(20261121, "house_style", start=30, shape=SHAPE)
    n = data.humans.n
    print(f"# monitor benchmark on {machine()}")
    print(
        f"# {n:,} human labels on {data.items.n:,} items, {len(data.judges)} judges, "
        f"BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}"
    )
    ref = min(reference(data) for _ in range(2))
    config = MonitorConfig(seed=1)
    cache: dict[str, object] = {}
    earlier = without_last_week(data)
    # the refresh before the last week (fills the cache) is not timed
    for spec in (CountWindows(), CalendarWeeks()):
        drive(run_monitor(earlier, spec, config, cache=cache, runner=parallel_windows))
    start = time.perf_counter()
    weekly, updates = drive(run_monitor(data, CalendarWeeks(), config, runner=parallel_windows))
    weekly_s = time.perf_counter() - start
    report(
        "monitor-weekly",
        f"{weekly_s:.1f} s for {len(weekly.windows)} weekly windows × {len(weekly.populations)} "
        f"populations, cold ({updates} progress reports)",
        None,
        "off the UI thread (generator in a worker)",
        None,
    )
    start = time.perf_counter()
    count, updates = drive(run_monitor(data, CountWindows(), config, runner=parallel_windows))
    count_s = time.perf_counter() - start
    report(
        "monitor-count",
        f"{count_s:.1f} s for {len(count.windows)} count windows × {len(count.populations)} "
        f"populations, cold; reference numpy pass {ref:.2f} s",
        count_s / ref,
        "off the UI thread (generator in a worker)",
        None,
    )
    os.environ[WORKERS_ENV] = "0"
    try:
        start = time.perf_counter()
        drive(run_monitor(data, CountWindows(), config, runner=parallel_windows))
        single_s = time.perf_counter() - start
    finally:
        del os.environ[WORKERS_ENV]
    report(
        "monitor-count-one-process",
        f"{single_s:.1f} s for the same, cold, without the helper process ({WORKERS_ENV}=0)",
        single_s / ref,
        "(comparison)",
        None,
    )
    start = time.perf_counter()
    for spec in (CountWindows(), CalendarWeeks()):
        drive(run_monitor(data, spec, config, cache=cache, runner=parallel_windows))
    inc_s = time.perf_counter() - start
    report(
        "monitor-incremental",
        f"{inc_s:.2f} s for both window definitions after one more week of labels "
        f"({n - earlier.humans.n:,} labels), warm cache",
        inc_s / ref,
        "interactive refresh",
        None,
    )


if __name__ == "__main__":
    main()
