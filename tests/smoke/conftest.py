"""Screenshot smoke tests: under Xvfb when it is installed, offscreen otherwise.

``make smoke`` runs ``pytest -m smoke`` with ``QT_QPA_PLATFORM=offscreen``. When Xvfb exists and
only smoke tests run, a virtual 1920×1080 screen is started here (before the QApplication
exists) and Qt uses the real xcb platform on it, so fonts, styles and window sizes are what a
user sees. ``REVIEWDESK_SMOKE_OFFSCREEN=1`` forces offscreen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.ui.support import _no_dangling_workers, _qt_environment, mark_qt_items, window

__all__ = ["_no_dangling_workers", "_qt_environment", "window"]

REPO = Path(__file__).resolve().parents[2]
_xvfb: subprocess.Popen[bytes] | None = None


def _start_xvfb() -> str | None:
    global _xvfb
    binary = shutil.which("Xvfb")
    if binary is None or os.environ.get("REVIEWDESK_SMOKE_OFFSCREEN"):
        return None
    for number in range(73, 99):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(
            [binary, f":{number}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                _xvfb = proc
                return f":{number}"
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.kill()
    return None


def pytest_configure(config: pytest.Config) -> None:
    if (config.option.markexpr or "").strip() != "smoke":
        return
    display = _start_xvfb()
    if display is not None:
        os.environ["DISPLAY"] = display
        os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _xvfb is not None:
        _xvfb.terminate()
        _xvfb.wait(10)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_qt_items(items)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    folder = Path(os.environ.get("REVIEWDESK_SCREENSHOTS", REPO / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
