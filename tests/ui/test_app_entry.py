"""The ways in: ``reviewdesk gui --smoke-test`` (the installer's check) and the preflight of
``make demo``. Both run as real subprocesses with an isolated home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.ui.support import build_project, judged


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    environ.update({"REVIEWDESK_HOME": str(home), **env})
    return subprocess.run(
        [sys.executable, *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_smoke_test_opens_a_project_to_its_first_pair(tmp_path: Path) -> None:
    project = build_project(tmp_path, [judged(f"s-{n}") for n in range(3)], name="smoke")
    result = run(
        ["-m", "reviewdesk", "gui", str(project), "--smoke-test", "--reviewer", "rev-s"],
        tmp_path / "home",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("reviewdesk gui smoke test ok")


#: What review mode never needs before its first pair: the lead's windows and numbers, the
#: importers, and the heavy libraries only they use (imported when first opened).
NOT_FOR_REVIEW = (
    "pyqtgraph",
    "numpy",
    "krippendorff",
    "alembic",
    "rich",
    "reviewdesk.stats",
    "reviewdesk.io",
    "reviewdesk.ui.dashboards",
    "reviewdesk.ui.lead",
    "reviewdesk.ui.dialogs",
    "reviewdesk.services.dashboards",
    "reviewdesk.services.monitor",
    "reviewdesk.services.queue",
    "reviewdesk.services.status",
    "reviewdesk.services.gate_inputs",
)


def test_review_start_loads_no_lead_modules_and_storage_before_qt(tmp_path: Path) -> None:
    """Opening a project for review, to its first pair and closed again, in a fresh process."""
    project = build_project(tmp_path, [judged(f"m-{n}") for n in range(3)], name="modules")
    probe = (
        "import gc, sys\nfrom reviewdesk.cli.main import main\n"
        f"code = main(['gui', {str(project)!r}, '--smoke-test', '--reviewer', 'rev-m'])\n"
        "names = list(sys.modules)\n"
        f"loaded = [n for n in names if n.startswith({NOT_FOR_REVIEW!r})]\n"
        "from reviewdesk.ui import gui_thread_gc\n"
        "print(code, loaded, names.index('sqlalchemy') < names.index('PySide6'), gc.isenabled(),"
        " gui_thread_gc.installed())\n"
    )
    result = run(["-c", probe], tmp_path / "home")
    assert result.returncode == 0, result.stderr
    # PySide6 reads the source of every module imported after it (its ``__feature__`` hook):
    # the storage stack comes first (ui/__init__.py). The garbage collector, paused while the
    # GUI loads and builds its window, then collects on the GUI thread (automatic collection
    # stays off: it would run in whichever thread allocates).
    assert result.stdout.strip().splitlines()[-1] == "0 [] True False True"


def test_smoke_test_fails_clearly_on_an_empty_queue(tmp_path: Path) -> None:
    from reviewdesk.services.project import create_project

    project = tmp_path / "empty.reviewdesk"
    create_project(project, seed=1).close()
    result = run(["-m", "reviewdesk", "gui", str(project), "--smoke-test"], tmp_path / "home")
    assert result.returncode == 1
    assert "no pair for this reviewer" in result.stderr


def test_preflight_without_a_display_says_so(tmp_path: Path) -> None:
    result = run(["-m", "reviewdesk.ui.preflight"], tmp_path)
    if sys.platform.startswith("linux"):
        assert result.returncode == 1
        assert "no graphical display" in result.stdout


def test_preflight_names_the_packages_when_xcb_cannot_load() -> None:
    from reviewdesk.ui.preflight import DEBIAN_PACKAGES, diagnose

    stderr = (
        "qt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb "
        "platform plugin.\nThis application failed to start because no Qt platform plugin "
        "could be initialized.\n"
    )
    code, message = diagnose(-6, "", stderr, "xcb")  # Qt aborts: SIGABRT
    assert code == 1
    assert f"sudo apt-get install {DEBIAN_PACKAGES}" in message
    assert DEBIAN_PACKAGES.startswith("libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4")
    assert "xcb-cursor0" in message  # what Qt said is passed on
    assert diagnose(0, "xcb\n", "", "xcb") == (0, "reviewdesk: Qt can open windows here (xcb).")


def test_preflight_with_an_unreachable_display_does_not_crash(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        return
    result = run(["-m", "reviewdesk.ui.preflight"], tmp_path, DISPLAY=":87")
    assert result.returncode == 1
    assert "reviewdesk:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_preflight_with_a_forced_platform_passes(tmp_path: Path) -> None:
    result = run(["-m", "reviewdesk.ui.preflight"], tmp_path, QT_QPA_PLATFORM="offscreen")
    assert result.returncode == 0, result.stdout
    assert "offscreen" in result.stdout
