"""Shared GUI test helpers: real projects built through the services, key presses, waits.

Used by ``tests/ui`` and ``tests/smoke`` (each conftest imports the fixtures from here).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QStandardPaths, Qt, QThreadPool
from PySide6.QtGui import QGuiApplication, QImage, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import create_project
from reviewdesk.services.queue import build_queue
from reviewdesk.ui import crash, gui_thread_gc, tasks, theme
from reviewdesk.ui.main_window import MainWindow, Mode
from reviewdesk.ui.review.review_controller import PREFETCH_DEPTH
from tests.conftest import native_item, write_jsonl

#: Offscreen rendering only warns that it cannot propagate size hints to a window manager.
QT_NOISE = ("This plugin does not support propagateSizeHints",)


def mark_qt_items(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if (
            f"{os.sep}tests{os.sep}ui{os.sep}" in path
            or f"{os.sep}tests{os.sep}smoke{os.sep}" in path
        ):
            item.add_marker(pytest.mark.qt_log_ignore(*QT_NOISE))


def judged(
    item_id: str, *, judges: tuple[str, str] = ("judge-a", "judge-b"), **kw: Any
) -> dict[str, Any]:
    """A contested native item: two judges split A/B (so it lands in the queue)."""
    return native_item(
        item_id,
        judgments=[
            {"judge": judges[0], "kind": "llm", "verdict": "A", "rationale": f"{judges[0]} says A"},
            {"judge": judges[1], "kind": "llm", "verdict": "B", "rationale": f"{judges[1]} says B"},
        ],
        **kw,
    )


def build_project(
    folder: Path,
    records: list[dict[str, Any]],
    *,
    name: str = "review-test",
    overlap: int = 2,
    reveal: bool = False,
    seed: int = 7,
) -> Path:
    """A real project file with ``records`` imported and every contested item queued."""
    path = folder / f"{name}.reviewdesk"
    source = write_jsonl(folder / f"{name}-input.jsonl", records)
    with create_project(path, seed=seed) as project:
        run_to_completion(import_file(project, source))
        build_queue(project, audit_rate=0.0, overlap=overlap)
        if reveal:
            from reviewdesk.services.project import update_settings

            update_settings(project, reveal_after_submit=True)
    return path


def label_rows(path: Path) -> list[sqlite3.Row]:
    """Every in-app label event, oldest first, with the reviewer's name."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(
            "SELECT e.*, r.name AS reviewer FROM label_event e "
            "JOIN reviewer r ON r.id = e.reviewer_id "
            "WHERE e.provenance = 'human' ORDER BY e.id"
        ).fetchall()
    finally:
        con.close()


def send_key(widget: QWidget, key: str, *, autorepeat: bool = False) -> None:
    """Press and release one key combination as a user would (shortcuts see it first)."""
    sequence = QKeySequence(key)
    combo = sequence[0]
    qt_key = combo.key()
    modifiers = combo.keyboardModifiers()
    text = "" if modifiers & ~Qt.KeyboardModifier.ShiftModifier else _text_for(key)
    target = QApplication.focusWidget() or widget
    press = QKeyEvent(QEvent.Type.KeyPress, qt_key, modifiers, text, autorepeat)
    QApplication.sendEvent(target, press)
    release = QKeyEvent(QEvent.Type.KeyRelease, qt_key, modifiers, text, autorepeat)
    QApplication.sendEvent(QApplication.focusWidget() or widget, release)


def _text_for(key: str) -> str:
    named = {"Space": " ", "Backspace": "\b", "Left": "", "Right": "", "Escape": "\x1b"}
    if key in named:
        return named[key]
    return key.lower() if len(key) == 1 else ""


@pytest.fixture(autouse=True)
def _qt_environment(qapp: QApplication) -> Iterator[None]:
    """Isolated Qt paths, a known theme, no leftover bug reports, and cyclic garbage collected
    on the GUI thread as in the application (``ui.app.resume_gc``)."""
    gui_thread_gc.install(qapp)
    QStandardPaths.setTestModeEnabled(True)
    theme.manager().apply("light")
    crash.reported_bugs.clear()
    crash.shown_user_errors.clear()
    yield
    bugs = list(crash.reported_bugs)
    crash.reported_bugs.clear()
    assert not bugs, f"the GUI reported a bug: {bugs!r}"


@pytest.fixture(autouse=True)
def _no_dangling_workers(qtbot: Any) -> Iterator[None]:
    yield
    for pool in (QThreadPool.globalInstance(), tasks.db_pool()):
        if not pool.waitForDone(5000):
            pytest.fail("worker still running at teardown; wait for it with qtbot.waitUntil")
    qtbot.waitUntil(lambda: tasks.pending_tasks() == 0, timeout=5000)


@pytest.fixture
def window(qtbot: Any) -> Iterator[MainWindow]:
    """The real main window, shown, exposed and active; shut down cleanly afterwards."""
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    yield win
    win.shutdown()
    win.close()


def open_for_review(qtbot: Any, win: MainWindow, path: Path, reviewer: str) -> Any:
    """Open ``path`` as ``reviewer`` and wait until the first pair (or "done") is shown."""
    win.open_project(path, Mode.REVIEW, reviewer=reviewer)
    qtbot.waitUntil(lambda: win.controller is not None, timeout=10_000)
    controller = win.controller
    controller.settle_s = 0.0  # tests press keys at machine speed; the guard has its own test
    qtbot.waitUntil(lambda: controller.state in ("showing", "done"), timeout=10_000)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    return controller


# ------------------------------------------------------------------ showcase content

_LEFT = """1. **Acknowledge the page** and open an incident channel so everyone knows you are on it.
2. Check the deploy log for the last hour:
   ```bash
   kubectl -n payments rollout history deployment/checkout-api
   ```
3. Look at the p99 latency panel in Grafana and compare p50, p95 and p99.
4. If a deploy lines up with the spike, consider scaling up to absorb the load:
   ```bash
   kubectl -n payments scale deployment/checkout-api --replicas=24
   ```
5. Post an update in the channel every 15–30 minutes.

**Also worth doing:** write everything down as you go; the postmortem will be much easier."""

_RIGHT = """- **Assess:** p99 jumped to 2.9 s right after `v7.10.8` shipped, so the release is \
the prime suspect rather than load or the database.
- **Act:** roll back now and investigate afterwards; say in `#inc-checkout` that you are rolling \
back so nobody ships on top of it.
  ```bash
  kubectl -n payments rollout undo deployment/checkout-api
  kubectl -n payments rollout status deployment/checkout-api --timeout=5m
  ```
- **Verify:** p99 should drop below 0.5 s within a few minutes of the rollout finishing; if it \
does not, page the checkout owner and check upstream dependencies in the traces."""

_PROMPT = (
    "The pager fired at 03:12 UTC for `checkout-api` p99 latency: 2.9 s against a 0.5 s SLO. "
    "Error rate is under 1%. We shipped v7.10.8 forty minutes before the alert. "
    "What do I do first?"
)


def showcase_records(n: int = 12) -> list[dict[str, Any]]:
    """Realistic incident-bot pairs for screenshots (English, Markdown with code blocks)."""
    records = []
    for i in range(n):
        records.append(
            judged(
                f"show-{i:02d}",
                prompt=_PROMPT if i == 0 else f"{_PROMPT} (variant {i})",
                text_a=_LEFT,
                text_b=_RIGHT,
                a="incident-bot-2026-10",
                b="incident-bot-sft-2026-11",
                slices={"category": ["incident_triage", "billing", "ops"][i % 3], "language": "en"},
            )
        )
    return records


def settled_review(qtbot: Any, window: MainWindow) -> None:
    """Wait until the review window shows a pair with nothing in flight: the prefetch filled,
    no fetch or task pending, the next pair prepared."""
    controller, view = window.controller, window.review_view
    assert controller is not None
    assert view is not None
    qtbot.waitUntil(
        lambda: (
            controller.state == "showing"
            and len(controller.ready) >= min(PREFETCH_DEPTH, 1)
            and not controller._fetching
            and tasks.pending_tasks() == 0
            and not view._prepare_timer.isActive()
        ),
        timeout=10_000,
    )


def screen_image(window: MainWindow) -> QImage:
    """What the screen shows of ``window`` (its real pixels, not a fresh ``grab``)."""
    QApplication.processEvents()
    return QGuiApplication.primaryScreen().grabWindow(window.winId()).toImage()
