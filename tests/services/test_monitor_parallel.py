"""The monitor's windows shared with a helper process (``services.monitor_parallel``): the same
results as in process, whatever happens to the helper, and never a process left behind."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from reviewdesk.domain.errors import CanceledError, UserError
from reviewdesk.domain.progress import CancelToken, Job, run_to_completion
from reviewdesk.services import monitor as svc
from reviewdesk.services import monitor_parallel as mp
from reviewdesk.services.project import open_project
from reviewdesk.services.samples import SampleManifest, build_sample_project
from reviewdesk.stats.monitor import MonitorRun, WindowEval, WindowTask, run_monitor, run_windows
from tests.conftest import REPO

SAMPLE = REPO / "sample_projects" / "labeler-drift"


@pytest.fixture(scope="module")
def drift(tmp_path_factory: pytest.TempPathFactory) -> svc.LoadedMonitorData:
    path = tmp_path_factory.mktemp("drift") / "labeler-drift.reviewdesk"
    run_to_completion(build_sample_project(SampleManifest.load(SAMPLE), path)).close()
    with open_project(path) as project:
        return svc.load_monitor_data(project)


def _run(
    loaded: svc.LoadedMonitorData, runner: object, n_boot: int = 100
) -> tuple[MonitorRun, list[WindowTask]]:
    tasks: list[WindowTask] = []

    def capture(task: WindowTask, cancel: CancelToken | None = None) -> Job[list[WindowEval]]:
        tasks.append(task)
        return (yield from runner(task, cancel))  # type: ignore[operator]

    config = replace(svc.MonitorSettings().config(seed=7), n_boot=n_boot)
    run = run_to_completion(
        run_monitor(loaded.data, svc.MonitorSettings().alarm_windows, config, runner=capture)
    )
    return run, tasks


@pytest.fixture(scope="module")
def in_process(drift: svc.LoadedMonitorData) -> tuple[MonitorRun, list[WindowTask]]:
    return _run(drift, run_windows)


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> Iterator[None]:
    yield
    assert multiprocessing.active_children() == []


def _records(run: MonitorRun) -> list[dict[str, object]]:
    return [r.to_dict() for r in svc.monitor_records(run)]


def test_the_helper_changes_no_digit(
    drift: svc.LoadedMonitorData,
    in_process: tuple[MonitorRun, list[WindowTask]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(mp.WORKERS_ENV, "1")
    caplog.set_level(logging.DEBUG, logger=mp.__name__)
    run, tasks = _run(drift, mp.parallel_windows)
    assert [t.population for t in tasks] == ["human", "judge:judge-terse", "judge:judge-verbose"]
    assert _records(run) == _records(in_process[0])
    shares = [r.getMessage() for r in caplog.records if "helper computed" in r.getMessage()]
    assert len(shares) == 3, shares
    assert all(" 0 of " not in s for s in shares), shares  # the helper did take windows


def test_small_runs_and_workers_0_stay_in_process(
    in_process: tuple[MonitorRun, list[WindowTask]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = in_process[1][0]
    expected = run_to_completion(run_windows(task))
    caplog.set_level(logging.DEBUG, logger=mp.__name__)
    monkeypatch.delenv(mp.WORKERS_ENV, raising=False)
    monkeypatch.setattr(mp, "PARALLEL_MIN_WINDOWS", len(task) + 1)
    assert run_to_completion(mp.parallel_windows(task)) == expected
    monkeypatch.setattr(mp, "PARALLEL_MIN_WINDOWS", 2)
    monkeypatch.setenv(mp.WORKERS_ENV, "0")
    assert run_to_completion(mp.parallel_windows(task)) == expected
    assert not [r for r in caplog.records if "helper computed" in r.getMessage()]
    monkeypatch.setenv(mp.WORKERS_ENV, "2")
    with pytest.raises(UserError, match="REVIEWDESK_MONITOR_WORKERS must be 0"):
        run_to_completion(mp.parallel_windows(task))


def test_a_killed_helper_leaves_the_work_to_this_process(
    in_process: tuple[MonitorRun, list[WindowTask]], monkeypatch: pytest.MonkeyPatch
) -> None:
    task = in_process[1][0]
    expected = run_to_completion(run_windows(task))
    monkeypatch.setenv(mp.WORKERS_ENV, "1")
    job = mp.parallel_windows(task)
    next(job)
    (child,) = multiprocessing.active_children()
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join(5)
    assert run_to_completion(job) == expected


def test_cancel_stops_the_helper(
    in_process: tuple[MonitorRun, list[WindowTask]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(mp.WORKERS_ENV, "1")
    cancel = CancelToken()
    job = mp.parallel_windows(in_process[1][0], cancel)
    next(job)
    assert len(multiprocessing.active_children()) == 1
    cancel.cancel()
    with pytest.raises(CanceledError):
        next(job)
    # the autouse fixture checks that no process is left


def test_a_failing_window_fails_here_with_its_own_error(
    in_process: tuple[MonitorRun, list[WindowTask]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper fails on the last window first; this process then reaches the same window
    and raises the real error (not a message relayed from the helper)."""
    task = in_process[1][0]
    broken = replace(task, labels=(*task.labels[:-1], np.array([10**9], dtype=np.int64)))
    monkeypatch.setenv(mp.WORKERS_ENV, "1")
    started = time.perf_counter()
    with pytest.raises(IndexError):
        run_to_completion(mp.parallel_windows(broken))
    assert time.perf_counter() - started < 60


def test_the_export_uses_the_helper_and_gives_the_same_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from reviewdesk.services.gate_inputs import build_gate_inputs

    caplog.set_level(logging.DEBUG, logger=mp.__name__)
    path = tmp_path / "drift.reviewdesk"
    run_to_completion(build_sample_project(SampleManifest.load(SAMPLE), path)).close()
    docs = []
    for workers in ("0", "1"):
        monkeypatch.setenv(mp.WORKERS_ENV, workers)
        monkeypatch.setenv("REVIEWDESK_HOME", str(tmp_path / f"home-{workers}"))  # cold, both
        svc._caches.clear()
        with open_project(path) as project:
            result = run_to_completion(build_gate_inputs(project, n_boot=100))
        doc = dict(result.document)
        doc.pop("generated_at")
        docs.append(doc)
    assert docs[0] == docs[1]
    assert any(r["estimand"] == "monitor" for r in docs[0]["records"])
    assert docs[0]["config"]["monitor_bootstrap"]["B"] == 100
    assert [r for r in caplog.records if "helper computed" in r.getMessage()]


def test_the_helper_loads_no_storage_and_no_qt() -> None:
    """The helper runs the module of its entry point: it must stay light (no SQLAlchemy, Qt or
    plotting), so it starts in a fraction of a second and never opens a window."""
    probe = (
        "import sys, reviewdesk.services.monitor_parallel\n"
        "heavy = ('sqlalchemy', 'PySide6', 'pyqtgraph', 'shiboken6')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ the estimates helper


def _document(path: Path) -> dict[str, object]:
    from reviewdesk.services.gate_inputs import build_gate_inputs

    svc._caches.clear()
    with open_project(path) as project:
        result = run_to_completion(build_gate_inputs(project, n_boot=100))
    doc = dict(result.document)
    doc.pop("generated_at")
    return doc


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release sample: its monitor quarantines nothing, so the helper's records are used."""
    path = tmp_path_factory.mktemp("release") / "release.reviewdesk"
    manifest = SampleManifest.load(REPO / "sample_projects" / "incident-bot-release")
    run_to_completion(build_sample_project(manifest, path)).close()
    return path


def test_the_estimates_helper_gives_the_same_document(
    release: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from reviewdesk.services import estimates_helper

    caplog.set_level(logging.DEBUG, logger=estimates_helper.__name__)
    monkeypatch.setenv(mp.WORKERS_ENV, "0")
    alone = _document(release)
    assert not caplog.records
    monkeypatch.setenv(mp.WORKERS_ENV, "1")
    helped = _document(release)
    assert helped == alone
    assert any("computed alongside the monitor" in r.getMessage() for r in caplog.records)
    assert len(alone["records"]) > 50  # type: ignore[arg-type]


def test_a_killed_estimates_helper_leaves_the_work_to_this_process(
    release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewdesk.services.gate_inputs import build_gate_inputs

    monkeypatch.setenv(mp.WORKERS_ENV, "0")
    alone = _document(release)
    monkeypatch.setenv(mp.WORKERS_ENV, "1")
    svc._caches.clear()
    with open_project(release) as project:
        job = build_gate_inputs(project, n_boot=100)
        next(job)  # the helper has started
        (child,) = [c for c in multiprocessing.active_children() if "estimates" in c.name]
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(5)
        doc = dict(run_to_completion(job).document)
    doc.pop("generated_at")
    assert doc == alone


def test_small_projects_compute_their_estimates_in_process(
    release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewdesk.services import estimates_helper
    from reviewdesk.services.gate_inputs import build_gate_inputs

    monkeypatch.delenv(mp.WORKERS_ENV, raising=False)
    assert release.stat().st_size < estimates_helper.HELPER_MIN_PROJECT_BYTES
    with open_project(release) as project:
        job = build_gate_inputs(project, n_boot=100)
        next(job)
        assert not [c for c in multiprocessing.active_children() if "estimates" in c.name]
        run_to_completion(job)
