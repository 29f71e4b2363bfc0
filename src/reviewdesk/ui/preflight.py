"""``python -m reviewdesk.ui.preflight``: can Qt open a window on this desktop? (``make demo``)

Qt aborts the whole process (no exception) when its platform plugin cannot load, which on a
fresh Linux machine usually means missing xcb libraries. So the check loads the platform in a
child process, and only this parent explains what to install. Exit 0 when a window can open,
1 with instructions otherwise. It never imports Qt itself.
"""

from __future__ import annotations

import os
import subprocess
import sys

#: What the xcb platform plugin of PySide6 needs beyond a desktop's usual libraries.
DEBIAN_PACKAGES = (
    "libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 "
    "libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1"
)
PROBE = (
    "import sys\n"
    "from PySide6.QtWidgets import QApplication\n"
    "app = QApplication(sys.argv[:1])\n"
    "print(app.platformName())\n"
)
TIMEOUT_S = 30


def probe(platform: str | None) -> subprocess.CompletedProcess[str]:
    """Start a QApplication in a child process (with ``platform`` forced when given)."""
    env = dict(os.environ)
    if platform is not None:
        env["QT_QPA_PLATFORM"] = platform
    env.setdefault("QT_DEBUG_PLUGINS", "0")
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _say(text: str) -> None:
    sys.stdout.write(text.rstrip() + "\n")


def main() -> int:
    try:
        import PySide6  # noqa: F401 - only whether it is installed
    except ImportError:
        _say(
            "reviewdesk: PySide6 is not installed in this environment; run `make demo` again "
            "or `pip install -e .`."
        )
        return 1
    forced = os.environ.get("QT_QPA_PLATFORM")
    if sys.platform.startswith("linux") and not forced:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            _say(
                "reviewdesk: no graphical display found (neither DISPLAY nor WAYLAND_DISPLAY "
                "is set).\nRun it from a desktop session, over `ssh -X`, or under a virtual "
                'screen: xvfb-run -s "-screen 0 1920x1080x24" make demo\n'
                "The command line works without a display: reviewdesk demo --no-gui"
            )
            return 1
        platform = (
            "wayland"
            if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY")
            else "xcb"
        )
        result = probe(platform)
        if result.returncode != 0 and platform == "wayland":
            platform, result = "xcb", probe("xcb")
        code, message = diagnose(result.returncode, result.stdout, result.stderr, platform)
        _say(message)
        return code
    result = probe(None)
    if result.returncode != 0:
        _say("reviewdesk: Qt could not start on this system. Qt said:\n" + _tail(result.stderr))
        return 1
    _say(f"reviewdesk: Qt can open windows here ({result.stdout.strip()}).")
    return 0


def diagnose(returncode: int, stdout: str, stderr: str, platform: str) -> tuple[int, str]:
    """Exit code and advice for the probe's outcome on a Linux desktop."""
    if returncode == 0:
        return 0, f"reviewdesk: Qt can open windows here ({stdout.strip() or platform})."
    if "could not connect to display" in stderr:
        return 1, (
            f"reviewdesk: cannot connect to the display {os.environ.get('DISPLAY')!r}. Is the X "
            "server running, and may this user use it (xhost, ssh -X)?\nQt said:\n" + _tail(stderr)
        )
    return 1, (
        f"reviewdesk: Qt cannot open a window on this desktop (the {platform} platform plugin "
        "did not load).\nOn Debian or Ubuntu, install the libraries it needs:\n"
        f"    sudo apt-get install {DEBIAN_PACKAGES}\n"
        "then run `make demo` again. Qt said:\n" + _tail(stderr)
    )


def _tail(text: str, lines: int = 8) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(f"    {line}" for line in kept) or "    (no message)"


if __name__ == "__main__":
    sys.exit(main())
