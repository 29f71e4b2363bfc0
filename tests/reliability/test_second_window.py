"""A second window on the same project is told what happens (SPEC §9; services/presence.py).

Opening a project that another reviewdesk window has open is allowed: both can label at once and
nothing is lost. The window that opens second shows a calm, non-blocking notice saying so. What
proves it here:

- the presence record is held by an OS lock: a child process holding one is seen, and once the
  child is killed with SIGKILL its record is gone at the next look (nothing stale, nothing to
  expire);
- the real window, next to a real GUI window labeling in another process, shows the right notice
  for another reviewer (never naming them: blinding), for the same reviewer, and for the lead;
  both windows label at once without losing a label or showing an error; after the other
  process is killed, reopening shows no notice;
- two windows in one process see each other too (locks are per open file), and the notice is
  rendered to PNGs (``screenshots/`` under ``make smoke``).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.services.presence import (
    WindowPresence,
    claim_presence,
    others_present,
    presence_folder,
)
from reviewdesk.ui import crash
from reviewdesk.ui.main_window import MainWindow, Mode
from tests.reliability.test_crash_and_concurrency import check_file
from tests.reliability.test_gui_crash import ForkServer, acknowledged, check_acknowledged
from tests.ui.screens import save, set_theme
from tests.ui.support import (
    QT_NOISE,
    _no_dangling_workers,
    _qt_environment,
    build_project,
    judged,
    label_rows,
    open_for_review,
    send_key,
    showcase_records,
    window,
)
from tests.ui.test_blinding import window_strings

__all__ = ["_no_dangling_workers", "_qt_environment", "window"]

pytestmark = [
    pytest.mark.qt_log_ignore(*QT_NOISE),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL and fork: POSIX only"),
]

REPO = Path(__file__).resolve().parents[2]
HOLDER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from reviewdesk.services.presence import claim_presence\n"
    "claim = claim_presence(Path(sys.argv[1]), 'review', 'rev-held')\n"
    "print('HELD' if claim is not None else 'NONE', flush=True)\n"
    "time.sleep(600)\n"
)


def test_a_record_is_seen_while_held_and_gone_after_sigkill(tmp_path: Path) -> None:
    project = tmp_path / "p.reviewdesk"
    project.touch()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(project)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "HELD"
        (other,) = others_present(project)
        assert (other.mode, other.reviewer, other.pid) == ("review", "rev-held", proc.pid)
        mine = claim_presence(project, "lead")
        assert mine is not None
        assert others_present(project, mine) == [other]
        # A second record in this very process is another window, and is seen as one.
        second = WindowPresence(project)
        seen = second.announce("review", "rev-b")
        assert sorted(r.reviewer or "" for r in seen) == ["", "rev-held"]
        assert len(others_present(project, mine)) == 2
        second.release()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    # The killed process never released its record: its lock went with it, so it is not reported
    # and is deleted on sight.
    assert others_present(project, mine) == []
    assert [p.name for p in presence_folder(project).iterdir()] == [mine.file.name]
    mine.release()
    assert not presence_folder(project).exists()  # the last one out leaves nothing behind


# ---------------------------------------------------------------------- two real processes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    fork_server = ForkServer(tmp_path_factory.mktemp("second-window"))
    yield fork_server
    fork_server.close()


def wait_presence(qtbot: Any, win: MainWindow, action: Any) -> list[Any]:
    """Run ``action`` and return the other windows the main window found when it checked."""
    with qtbot.waitSignal(win.presence_checked, timeout=10_000) as blocker:
        action()
    others: list[Any] = blocker.args[0]
    return others


def test_second_window_is_told_and_both_label_at_once(
    qtbot: Any, window: MainWindow, server: ForkServer, tmp_path: Path
) -> None:
    path = build_project(tmp_path, [judged(f"item-{n:03d}") for n in range(500)], overlap=2)
    seen: list[str] = []
    pid = server.start(path, "rev-a", seen)
    seen.append(server.expect("ACK", seen)[1])  # the other window is up and labeling

    # Another reviewer: told calmly, and never told who (blinding).
    others = wait_presence(qtbot, window, lambda: open_for_review(qtbot, window, path, "rev-b"))
    assert [(r.mode, r.reviewer, r.pid) for r in others] == [("review", "rev-a", pid)]
    banner = window.presence_banner
    assert window.presence_bar.isVisible()
    assert banner.notice is not None
    assert banner.notice.tone == "info"
    assert banner.title.text() == "This project is also open in another reviewdesk window"
    assert "every label is saved safely" in banner.body.text()
    assert "rev-a" not in "\n".join(s for s in window_strings(window) if s)
    # Keys still work with the notice up, and both windows label at once.
    controller = window.controller
    for n in range(12):
        before = controller.pair
        send_key(window, "1234"[n % 4])
        qtbot.waitUntil(
            lambda b=before: controller.state == "showing" and controller.pair is not b,
            timeout=10_000,
        )
    assert len([r for r in label_rows(path) if r["reviewer"] == "rev-b"]) == 12
    assert not crash.shown_user_errors  # no "database is locked", nothing at all
    banner.dismiss_button.click()
    assert not window.presence_bar.isVisible()
    window.close_to_start()

    # The same reviewer in two windows: a clear warning about what that means.
    open_for_review(qtbot, window, path, "rev-a")
    qtbot.waitUntil(window.presence_bar.isVisible, timeout=10_000)
    assert banner.notice is not None
    assert banner.notice.tone == "warning"
    assert banner.title.text() == "You are also reviewing this project in another window"
    assert "your later answer counts" in banner.body.text()
    window.close_to_start()

    # The lead sees who is there.
    wait_presence(qtbot, window, lambda: window.open_project(path, Mode.LEAD))
    assert window.presence_bar.isVisible()
    assert "In the other window: rev-a is reviewing" in banner.body.text()

    # The other process dies without a chance to clean up: no notice afterwards.
    assert os.WTERMSIG(server.kill(seen)) == signal.SIGKILL
    window.close_to_start()
    others = wait_presence(qtbot, window, lambda: open_for_review(qtbot, window, path, "rev-b"))
    assert others == []
    assert not window.presence_bar.isVisible()
    assert len(list(presence_folder(path).iterdir())) == 1  # only this window's record
    window.close_to_start()
    qtbot.waitUntil(lambda: not presence_folder(path).exists(), timeout=10_000)
    # Nothing the other window acknowledged was lost while both wrote.
    check_file(path, [])
    check_acknowledged(path, "rev-a", acknowledged(seen))


# ---------------------------------------------------------------------- two windows, one process


def screenshot_folder() -> Path:
    folder = Path(os.environ.get("REVIEWDESK_SCREENSHOTS", REPO / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def first_window(qtbot: Any) -> Iterator[MainWindow]:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    win.close()


def shoot(qtbot: Any, win: MainWindow, folder: Path, name: str) -> None:
    qtbot.wait(50)  # let the header settle, as the smoke screenshots do
    save(win, folder, name)


def two_windows_notices(
    qtbot: Any, first: MainWindow, second: MainWindow, project: Path, folder: Path | None
) -> None:
    open_for_review(qtbot, first, project, "rev-01")
    second.resize(1280, 800)
    for theme_name in ("light", "dark"):
        set_theme(theme_name)
        open_for_review(qtbot, second, project, "rev-02")
        qtbot.waitUntil(second.presence_bar.isVisible, timeout=10_000)
        assert "rev-01" not in "\n".join(s for s in window_strings(second) if s)
        if folder is not None:
            shoot(qtbot, second, folder, f"review-also-open-{theme_name}")
        second.close_to_start()
    set_theme("light")
    open_for_review(qtbot, second, project, "rev-01")
    qtbot.waitUntil(second.presence_bar.isVisible, timeout=10_000)
    assert second.presence_banner.notice is not None
    assert second.presence_banner.notice.tone == "warning"
    if folder is not None:
        shoot(qtbot, second, folder, "review-also-open-same-reviewer")
    second.close_to_start()
    second.open_project(project, Mode.LEAD)
    qtbot.waitUntil(second.presence_bar.isVisible, timeout=10_000)
    assert "In the other window: rev-01 is reviewing" in second.presence_banner.body.text()
    if folder is not None:
        shoot(qtbot, second, folder, "lead-also-open")
    # The first window closes: the second, opening again, is alone.
    first.close_to_start()
    second.close_to_start()
    others = wait_presence(qtbot, second, lambda: open_for_review(qtbot, second, project, "rev-02"))
    assert others == []
    assert not second.presence_bar.isVisible()


def test_two_windows_in_one_process_see_each_other(
    qtbot: Any, first_window: MainWindow, window: MainWindow, tmp_path: Path
) -> None:
    project = build_project(tmp_path, showcase_records(6), name="incident-bot-release")
    two_windows_notices(qtbot, first_window, window, project, None)


def test_the_first_window_learns_of_a_second_one_and_of_its_closing(
    qtbot: Any, first_window: MainWindow, window: MainWindow, tmp_path: Path
) -> None:
    """The periodic re-check tells the window that was there first, and only of changes."""
    from reviewdesk.ui.main_window import PRESENCE_RECHECK_MS

    assert (
        1_000 <= PRESENCE_RECHECK_MS <= 60_000
    )  # often enough to matter, rare enough to cost nothing
    project = build_project(tmp_path, showcase_records(6), name="incident-bot-release")
    open_for_review(qtbot, first_window, project, "rev-01")
    with qtbot.assertNotEmitted(first_window.presence_checked, wait=500):
        first_window.recheck_presence()  # alone, as when it opened: nothing new to say
    assert not first_window.presence_bar.isVisible()
    assert first_window._presence_timer.isActive()

    open_for_review(qtbot, window, project, "rev-02")
    others = wait_presence(qtbot, first_window, first_window.recheck_presence)
    assert [(o.mode, o.reviewer) for o in others] == [("review", "rev-02")]
    qtbot.waitUntil(first_window.presence_bar.isVisible, timeout=10_000)
    assert "rev-02" not in "\n".join(s for s in window_strings(first_window) if s)

    # Dismissed, it stays away while nothing changes (the re-check emits nothing new) ...
    first_window.presence_banner.dismiss_button.click()
    assert not first_window.presence_bar.isVisible()
    with qtbot.assertNotEmitted(first_window.presence_checked, wait=500):
        first_window.recheck_presence()
    assert not first_window.presence_bar.isVisible()

    # ... and once the other window closes, the first one is alone again.
    window.close_to_start()
    assert wait_presence(qtbot, first_window, first_window.recheck_presence) == []
    assert not first_window.presence_bar.isVisible()
    first_window.close_to_start()
    assert not first_window._presence_timer.isActive()


@pytest.mark.smoke
def test_also_open_notice_screenshots(
    qtbot: Any, first_window: MainWindow, window: MainWindow, tmp_path: Path
) -> None:
    project = build_project(tmp_path, showcase_records(6), name="incident-bot-release")
    two_windows_notices(qtbot, first_window, window, project, screenshot_folder())
