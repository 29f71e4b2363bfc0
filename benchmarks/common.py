"""Shared helpers for the benchmarks: timing, machine description, cached data folder.

Benchmarks print their figure and its ratio to a reference measured in the same run, so results
stay comparable on shared, noisy machines. They are never run by the test suite.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"


def quick() -> bool:
    """``BENCH_QUICK=1``: fewer repetitions and presses (the full run stays the default)."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def data_dir() -> Path:
    DATA.mkdir(exist_ok=True)
    return DATA


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{mem}, {cpu}, "
        f"Python {platform.python_version()}"
    )


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """Fastest wall time of ``runs`` calls (the least disturbed by other load)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(name: str, figure: str, ratio: float | None, target: str, ok: bool | None) -> None:
    """One result line: the figure, its ratio to the same-run reference and the target."""
    ratio_text = "" if ratio is None else f" | ratio to reference {ratio:.2f}x"
    verdict = "" if ok is None else (" | MEETS target" if ok else " | MISSES target")
    print(f"[{name}] {figure}{ratio_text} | target {target}{verdict}", flush=True)
