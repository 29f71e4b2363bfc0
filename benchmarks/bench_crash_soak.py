"""Crash soak: many more SIGKILL trials than the test suite runs (SPEC §9 durability).

The suite kills a labeling child 20 times through the CLI and 20 times through the real review
window (``tests/reliability``). This runs the same tests with ``TRIALS`` trials each (default
100; ``BENCH_CRASH_TRIALS=N``, or 30 with ``BENCH_QUICK=1``) and prints how many passed: every
acknowledged label present, ``PRAGMA integrity_check`` clean, derived counts equal to the log.

The figure is the trials run and failed, and the wall time per trial. The reference, measured in
the same run, is a fresh interpreter that imports the CLI and exits (each CLI trial starts one
child; GUI trials fork from a warm server, so they cost less than it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import machine, quick, report

REPO = Path(__file__).resolve().parents[1]
TRIALS = int(os.environ.get("BENCH_CRASH_TRIALS", "30" if quick() else "100"))
SUITES = {
    "cli": (
        "REVIEWDESK_CLI_CRASH_TRIALS",
        "tests/reliability/test_crash_and_concurrency.py",
        "sigkill",
    ),
    "gui": ("REVIEWDESK_GUI_CRASH_TRIALS", "tests/reliability/test_gui_crash.py", "sigkill"),
}


def interpreter_start() -> float:
    """Seconds for ``python -c 'import reviewdesk.cli.main'`` (best of three)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import reviewdesk.cli.main"], check=True, cwd=REPO)
        times.append(time.perf_counter() - started)
    return min(times)


def soak(kind: str) -> None:
    variable, path, selector = SUITES[kind]
    env = dict(os.environ, **{variable: str(TRIALS)}, QT_QPA_PLATFORM="offscreen")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", path, "-k", selector],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    passed = int(m.group(1)) if (m := re.search(r"(\d+) passed", tail)) else 0
    failed = int(m.group(1)) if (m := re.search(r"(\d+) failed", tail)) else 0
    reference = interpreter_start()
    per_trial = elapsed / max(1, passed + failed)
    report(
        f"crash-soak-{kind}",
        f"{passed} of {passed + failed} SIGKILL trials kept every acknowledged label "
        f"({failed} failed; {per_trial:.2f} s per trial; reference: interpreter + CLI import "
        f"{reference:.2f} s)",
        per_trial / reference,
        "every trial passes",
        failed == 0 and passed > 0,
    )
    if failed or done.returncode not in (0,):
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", flush=True)


def main() -> None:
    print(f"# crash soak on {machine()}; {TRIALS} trials each", flush=True)
    for kind in SUITES:
        soak(kind)


if __name__ == "__main__":
    main()
