"""Resident memory of the GUI with the 1M-item project open (SPEC §9: ≤ 350 MB).

Run: ``python -m benchmarks.bench_memory``. A fresh process opens a copy of the shared large
project (``benchmarks/large_project.py``) in the real main window for review, waits for the
first pair, then labels pairs as fast as the window allows (waiting for the prefetch between
labels, as a reviewer's reading time would). Its resident set size (``psutil``) is sampled
after the first pair and after every 100 labels; the figure is the largest sample. Reference,
same run: a fresh process that imports PySide6 and paints one empty 1280×800 window.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import data_dir, machine, quick, report
from benchmarks.large_project import large_project
from benchmarks.qt_wait import spin

LABELS = 300 if quick() else 1000
TARGET_MB = 350

REFERENCE_PROBE = (
    "import json, sys, psutil\n"
    "from PySide6.QtWidgets import QApplication, QWidget\n"
    "app = QApplication(sys.argv[:1]); w = QWidget(); w.resize(1280, 800); w.show()\n"
    "w.grab(); app.processEvents()\n"
    "print(json.dumps({'rss': psutil.Process().memory_info().rss}), flush=True)\n"
)


def child(project: Path, labels: int) -> None:
    """In the measured process: open the project, show the first pair, label, print samples."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import psutil

    from reviewdesk.ui import tasks
    from reviewdesk.ui.app import apply_theme, ensure_app
    from reviewdesk.ui.main_window import MainWindow, Mode
    from reviewdesk.ui.review.review_controller import PREFETCH_DEPTH

    process = psutil.Process()
    ensure_app()
    apply_theme("light")
    window = MainWindow()
    window.resize(1280, 800)
    window.show()

    samples: list[tuple[int, int]] = [(-1, process.memory_info().rss)]
    window.open_project(project, Mode.REVIEW, reviewer=f"bench-memory-{os.getpid()}")
    spin(lambda: window.controller is not None, 120.0)
    controller = window.controller
    view = window.review_view
    assert controller is not None
    assert view is not None
    controller.settle_s = 0.0

    def ready() -> bool:
        return (
            controller.state == "showing"
            and len(controller.ready) >= PREFETCH_DEPTH
            and not controller._fetching
            and tasks.pending_tasks() == 0
            and not view._prepare_timer.isActive()
        )

    spin(ready, 120.0)
    samples.append((0, process.memory_info().rss))
    for n in range(1, labels + 1):
        spin(ready, 120.0)
        controller.handle("review.choose_left")
        if n % 100 == 0:
            spin(ready, 120.0)
            samples.append((n, process.memory_info().rss))
    spin(lambda: tasks.pending_tasks() == 0, 120.0)
    window.shutdown()
    window.close()
    sys.stdout.write(json.dumps({"samples": samples}) + "\n")
    sys.stdout.flush()


ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], env: dict[str, str]) -> dict[str, object]:
    proc = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{args}: exit {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    print(f"memory benchmark on {machine()}", flush=True)
    cached = large_project()
    with tempfile.TemporaryDirectory(dir=data_dir()) as tmp:
        folder = Path(tmp)
        project = folder / "bench.reviewdesk"
        shutil.copyfile(cached, project)
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env["REVIEWDESK_HOME"] = str(folder / "home")
        result = _run(
            [sys.executable, "-m", "benchmarks.bench_memory", "--child", str(project), str(LABELS)],
            env,
        )
        reference = _run([sys.executable, "-c", REFERENCE_PROBE], env)
    samples = [(int(n), int(rss)) for n, rss in result["samples"]]  # type: ignore[union-attr]
    ref_mb = int(reference["rss"]) / 2**20  # type: ignore[call-overload]
    first = next(rss for n, rss in samples if n == 0) / 2**20
    peak = max(rss for _, rss in samples) / 2**20
    trail = ", ".join(f"{n}: {rss / 2**20:.0f}" for n, rss in samples if n > 0)
    print(f"    RSS (MB) after n labels: {trail}", flush=True)
    report(
        "resident memory, 1M-item project open in the GUI",
        f"{first:.0f} MB with the first pair shown, peak {peak:.0f} MB over {LABELS} labels "
        f"(reference: an empty PySide6 window, {ref_mb:.0f} MB)",
        peak / ref_mb,
        f"<= {TARGET_MB} MB",
        peak <= TARGET_MB,
    )


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else LABELS)
    else:
        main()
