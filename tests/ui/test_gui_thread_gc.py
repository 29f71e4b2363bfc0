"""Cyclic garbage is collected on the GUI thread only (``ui.gui_thread_gc``): a worker that
makes cycles never runs a collection, so Qt objects in cycles are never freed off the GUI
thread (with PySide that can deadlock the application)."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from reviewdesk.ui import gui_thread_gc, tasks


class _Cycle:
    def __init__(self) -> None:
        self.me = self
        self.qt: QObject | None = None


def _make_cycles(n: int) -> int:
    for _ in range(n):
        _Cycle()
    return n


def test_a_workers_cycles_are_collected_on_the_gui_thread(qtbot: Any) -> None:
    gui = threading.get_ident()
    threads: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            threads.append(threading.get_ident())

    assert gui_thread_gc.installed()  # tests install it as the application does
    assert not gc.isenabled()
    # a Qt object in a cycle, dropped on the GUI thread: freed later, by a collection
    holder = _Cycle()
    holder.qt = QObject()
    qt_ref = weakref.ref(holder.qt)
    del holder
    before = gui_thread_gc.collections()
    gc.callbacks.append(watch)
    try:
        task = tasks.submit(_make_cycles, 200_000)  # far over the young threshold (700)
        qtbot.waitUntil(lambda: task.finished, timeout=20_000)
        qtbot.waitUntil(lambda: qt_ref() is None, timeout=5_000)
    finally:
        gc.callbacks.remove(watch)
    assert threads, "no collection ran"
    assert set(threads) == {gui}
    assert gui_thread_gc.collections() > before


def test_paused_jobs_collect_nothing_until_they_end(qtbot: Any) -> None:
    collector = gui_thread_gc._collector
    assert collector is not None
    with gui_thread_gc.paused():
        _make_cycles(5_000)
        assert gc.get_count()[0] > gc.get_threshold()[0]
        assert collector.collect_due() is None
        with gui_thread_gc.paused():  # pauses nest
            pass
        assert collector.collect_due() is None
    _make_cycles(5_000)
    assert collector.collect_due() is not None
    assert not gc.isenabled()  # the GUI thread still does the collecting


def test_the_app_entry_installs_it() -> None:
    """``run_gui`` builds the window with collection paused, then hands it to the GUI thread."""
    from reviewdesk.ui import app

    app.pause_gc()
    assert not gc.isenabled()
    app.resume_gc(QApplication.instance())  # type: ignore[arg-type]
    assert gui_thread_gc.installed()
    assert not gc.isenabled()
