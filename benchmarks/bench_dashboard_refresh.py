"""Dashboard refresh on 100k labels: wall time off the UI thread, and what the UI thread pays.

The project is the cached export-gates benchmark project (``bench_export_gates.build_project``:
20,000 items, 100,000 imported human labels from 12 labelers, two LLM judges, a code check,
a built queue). The real ``DashboardWindow`` runs offscreen and refreshes exactly as the lead's
"Refresh" does: ``services.dashboards.refresh_dashboards`` as a generator job on the database
worker (homogenization monitor over weekly and alarm windows, the gate-input records, weekly
agreement and judge–human κ, reviewer statistics), then the window renders the visible tab.

Printed figures:

- ``dashboard-refresh-cold``: the first refresh in a fresh process with an empty monitor cache
  (``REVIEWDESK_HOME`` is a temporary folder), from the click to the rendered result;
- ``dashboard-refresh-warm``: a second refresh after the data changed in no way the monitor's
  content-keyed window cache would notice (its per-window results are reused, the rest is
  recomputed — the dashboard's own snapshot cache is bypassed);
- ``dashboard-ui-stall``: the longest gap between ticks of a 5 ms ``QTimer`` on the UI thread
  while each refresh computed on the worker (how long the window could not repaint or take a
  click), then the UI thread's render of the result (``setData`` on items built once) and the
  time until its first paint. Targets: stall and render under 100 ms each.

The reference, measured in the same run, is a bare numpy pass over the same arrays: the
streamed read of the project into analysis arrays, then one ``bincount`` of item × value counts
and the point α over all items — the least any agreement dashboard must do.

BLAS threads are pinned to one (as in ``bench_monitor``) unless ``OPENBLAS_NUM_THREADS`` is set.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_export_gates import N_ITEMS, build_project
from benchmarks.common import machine, report


def reference(project_path: Path) -> float:
    """Read the project into arrays, then item × value counts and the point α."""
    from reviewdesk.domain.progress import run_to_completion
    from reviewdesk.services.analysis_data import read_analysis_data
    from reviewdesk.services.project import open_project
    from reviewdesk.stats.agreement import alpha_from_coincidences, coincidence_features

    with open_project(project_path) as project:
        start = time.perf_counter()
        with project.store.read() as uow:
            data = run_to_completion(read_analysis_data(uow.session))
        labels = data.labels
        value = np.where(labels.choice == 0, 0, np.where(labels.choice == 1, 2, 1))
        counts = np.bincount(labels.item * 3 + value, minlength=len(data.items) * 3).reshape(-1, 3)
        pairable = counts[counts.sum(axis=1) >= 2]
        o = coincidence_features(pairable).sum(axis=0).reshape(3, 3)
        alpha_from_coincidences(o, "ordinal", (-1, 0, 1))
        return time.perf_counter() - start


Run = tuple[float, float, float, float, dict[str, float]]


def run_refreshes(project_path: Path) -> list[Run]:
    """Per refresh: wall seconds, the longest UI-thread stall while the job computed, the UI
    thread's render of the result, the gap from the result's arrival to the next tick (render
    plus first paint), and the service's own timings."""
    from PySide6.QtCore import QEventLoop, QTimer

    from reviewdesk.services.dashboards import DashboardOptions
    from reviewdesk.services.project import open_project
    from reviewdesk.ui import app as app_module
    from reviewdesk.ui import gui_thread_gc, tasks, theme
    from reviewdesk.ui.dashboards.dashboard_window import DashboardWindow
    from reviewdesk.ui.ops import Ops

    app = app_module.ensure_app(["bench"])
    gui_thread_gc.install(app)  # as ``run_gui``: cyclic garbage collected on the GUI thread
    theme.manager().apply("light")
    results = []
    project = open_project(project_path)
    try:
        window = DashboardWindow(
            Ops(), project, options=DashboardOptions(use_cache=False), auto_refresh=False
        )
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        for _ in range(2):
            beats: list[float] = []
            arrived: list[float] = []
            timer = QTimer()
            timer.setInterval(5)
            timer.timeout.connect(lambda beats=beats: beats.append(time.perf_counter()))
            loop = QEventLoop()
            window.refreshed.connect(
                lambda _d, arrived=arrived: arrived.append(time.perf_counter())
            )
            window.refreshed.connect(loop.quit)
            window.refresh_failed.connect(loop.quit)
            timer.start()
            start = time.perf_counter()
            window.refresh()
            loop.exec()
            wall = time.perf_counter() - start
            app.processEvents()  # the first paint of the rendered tab
            painted = time.perf_counter()
            timer.stop()
            window.refreshed.disconnect()
            window.refresh_failed.disconnect(loop.quit)
            assert window.data is not None, "the refresh failed"
            assert arrived, "no result arrived"
            render_start = arrived[0] - window.render_seconds
            ticks = [start, *(b for b in beats if b < render_start), render_start]
            stall = max(b - a for a, b in itertools.pairwise(ticks))
            results.append(
                (
                    wall,
                    stall,
                    window.render_seconds,
                    painted - render_start,
                    dict(window.data.timings),
                )
            )
        window.reject()
        tasks.wait_idle(60_000)
        app.processEvents()
    finally:
        project.close()
    return results


def main() -> None:
    print(f"# dashboard-refresh benchmark on {machine()}")
    source = build_project()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["REVIEWDESK_HOME"] = str(Path(tmp) / "home")  # a cold monitor cache
        work = Path(tmp) / source.name
        shutil.copy(source, work)
        from reviewdesk.services.project import open_project

        with open_project(work) as project:
            settings = project.settings()
        print(
            f"# project: {N_ITEMS} items, 100000 labels; candidate {settings.candidate}, "
            f"baseline {settings.baseline}"
        )
        runs = run_refreshes(work)
        ref = min(reference(work) for _ in range(2))
    for name, (wall, stall, render, shown, timings) in zip(("cold", "warm"), runs, strict=True):
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
        report(
            f"dashboard-refresh-{name}",
            f"{wall:.2f} s from Refresh to rendered result ({parts}); reference (read into "
            f"arrays + item counts + point α) {ref:.2f} s",
            wall / ref,
            "off the UI thread, with progress",
            None,
        )
        report(
            f"dashboard-ui-stall-{name}",
            f"longest UI-thread gap {stall * 1000:.0f} ms while the job ran off the UI thread; "
            f"then render of the visible tab {render * 1000:.0f} ms on the UI thread "
            f"({shown * 1000:.0f} ms with its first paint)",
            None,
            "stall < 100 ms, render < 100 ms",
            stall < 0.1 and render < 0.1,
        )


if __name__ == "__main__":
    main()
