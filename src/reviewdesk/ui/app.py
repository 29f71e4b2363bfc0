"""The Qt application: setup, ``run_gui`` (for ``reviewdesk gui``/``demo``), the ``reviewdesk-gui``
entry point and ``--smoke-test``.

``run_gui`` owns the one ``QApplication``: theme from the system color scheme (re-applied when
it changes), the crash hook, the main window, and an orderly quit that lets every pending write
finish before the project is closed.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from reviewdesk.domain.errors import UserError
from reviewdesk.ui import crash, gui_thread_gc, resources, tasks, theme
from reviewdesk.ui.main_window import MainWindow, Mode
from reviewdesk.ui.review.review_view import ReviewView

SMOKE_TIMEOUT_S = 60
#: ``--smoke-test`` reviews as ``--reviewer`` or as this profile (created if needed).
SMOKE_REVIEWER = "smoke-test"


def ensure_app(argv: list[str] | None = None) -> QApplication:
    """The process's ``QApplication`` (created once), themed and with the app icon."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or ["reviewdesk"])
        app.setApplicationName("reviewdesk")
        app.setOrganizationName("reviewdesk")
        app.setDesktopFileName("reviewdesk")
    assert isinstance(app, QApplication)
    app.setWindowIcon(resources.app_icon())
    return app


def apply_theme(preference: str = "system") -> None:
    manager = theme.manager()
    manager.apply(preference)
    manager.follow_system()


def fit_to_screen(window: MainWindow) -> None:
    """A comfortable first size: 1280×800 where it fits, up to 85 % of larger screens."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None:
        return
    area = screen.availableGeometry()
    width = min(area.width(), max(1280, min(1680, int(area.width() * 0.85))))
    height = min(area.height(), max(800, min(1050, int(area.height() * 0.85))))
    window.resize(width, height)
    window.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)


def pause_gc() -> None:
    """Pause the cyclic garbage collector for the start-up (see :func:`resume_gc`).

    Start-up creates a few hundred thousand objects that live as long as the process (modules,
    classes, Qt wrappers, the window) and almost no garbage; collecting while they are created
    only walks them again and again (tens of milliseconds before the first pair).
    """
    gc.disable()


def resume_gc(app: QApplication) -> None:
    """End :func:`pause_gc`: freeze what the start-up created, then collect on the GUI thread.

    Frozen objects are left out of every later collection (they stay alive anyway), which also
    keeps full collections during a review session shorter. Collections then run on the GUI
    thread only (:mod:`reviewdesk.ui.gui_thread_gc`): never in a worker, where freeing Qt
    objects can deadlock the application.
    """
    gc.freeze()
    gui_thread_gc.install(app)


def run_gui(
    project: Path | None = None, reviewer: str | None = None, smoke_test: bool = False
) -> int:
    """Open the application (at ``project`` for review when given); returns the exit code.

    The garbage collector is paused (:func:`pause_gc`, also by ``reviewdesk gui`` before it
    imports this module) until the window is built; from then on it collects on the GUI thread
    (:func:`resume_gc`), before any event loop.
    """
    if smoke_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    pause_gc()
    try:
        app = ensure_app(sys.argv[:1])
    except BaseException:
        gc.enable()
        raise
    try:
        crash.install_excepthook()
        window = MainWindow()
        apply_theme(window.theme_preference)
    finally:
        resume_gc(app)
    if smoke_test:
        return _smoke_test(app, window, project, reviewer)
    fit_to_screen(window)
    window.show()
    if project is not None:
        window.open_project(Path(project), Mode.REVIEW, reviewer=reviewer)
    try:
        code = app.exec()
    finally:
        window.shutdown()
        tasks.wait_idle(10_000)
    return int(code)


def _blank(image: QImage) -> bool:
    """True when a rendering has (almost) one color: nothing was drawn."""
    small = image.scaled(64, 40)
    colors = {small.pixel(x, y) for x in range(small.width()) for y in range(small.height())}
    return len(colors) < 4


def _smoke_test(
    app: QApplication, window: MainWindow, project: Path | None, reviewer: str | None
) -> int:
    """Open a project to its first pair offscreen, render it, print one line, exit."""
    started = time.perf_counter()
    if project is None:
        from reviewdesk.services.demo import build_demo_project

        project = build_demo_project()
    outcome: dict[str, object] = {}
    loop = QEventLoop()

    def on_review(view: ReviewView) -> None:
        controller = view.controller
        assert controller is not None

        def shown(_pair: object) -> None:
            image = window.grab().toImage()
            outcome["ms"] = (time.perf_counter() - started) * 1000
            outcome["blank"] = _blank(image)
            outcome["size"] = f"{image.width()}x{image.height()}"
            loop.quit()

        def state(name: str) -> None:
            if name == "done":
                outcome["error"] = "the queue has no pair for this reviewer"
                loop.quit()

        controller.pair_shown.connect(shown)
        controller.state_changed.connect(state)

    def failed() -> None:
        outcome.setdefault("error", f"no pair within {SMOKE_TIMEOUT_S} s")
        loop.quit()

    window.review_started.connect(on_review)
    window.resize(1280, 800)
    window.show()
    window.open_project(Path(project), Mode.REVIEW, reviewer=reviewer or SMOKE_REVIEWER)
    QTimer.singleShot(SMOKE_TIMEOUT_S * 1000, failed)
    loop.exec()
    error = (
        outcome.get("error")
        or (crash.reported_bugs and repr(crash.reported_bugs[0]))
        or (crash.shown_user_errors and crash.shown_user_errors[0])
    )
    if not error and outcome.get("blank"):
        error = "the window rendered blank"
    if not error:  # report first; closing (pending writes, the project) comes after
        sys.stdout.write(
            f"reviewdesk gui smoke test ok: first pair rendered in {outcome['ms']:.0f} ms "
            f"({outcome['size']}, {theme.manager().name} theme)\n"
        )
        sys.stdout.flush()
    window.shutdown()
    window.close()
    tasks.wait_idle(30_000)
    app.processEvents()  # deliver the last results before the interpreter winds down
    if error:
        sys.stderr.write(f"reviewdesk gui smoke test failed: {error}\n")
        return 1
    return 0


def entry_point() -> None:
    """``reviewdesk-gui [PROJECT] [--reviewer NAME]``: the windowed launcher (no console)."""
    parser = argparse.ArgumentParser(prog="reviewdesk-gui")
    parser.add_argument("project", nargs="?", type=Path)
    parser.add_argument("--reviewer")
    parser.add_argument("--smoke-test", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        sys.exit(run_gui(args.project, args.reviewer, args.smoke_test))
    except UserError as exc:
        sys.stderr.write(f"reviewdesk: {exc}\n")
        sys.exit(1)
