"""Run every ``benchmarks/bench_*.py`` (``make bench``) and print their output and a summary.

Each benchmark runs in its own process as ``python -m benchmarks.<name>`` from the repository
root, one after another (they time wall clock, so they must not compete for the cores). A
benchmark that fails is reported and the others still run; the exit code is 1 if any failed.
Arguments select benchmarks by name (``python benchmarks/run_all.py gates import``).

``BENCH_QUICK=1`` asks every benchmark for fewer repetitions (a smoke run of the whole set);
the figures recorded in ``benchmarks/README.md`` come from the full run. The first run also
builds the shared large project (``benchmarks/large_project.py``, about 15 minutes) and the
other cached inputs under ``benchmarks/.data/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(want in n for want in argv)]
    if os.environ.get("BENCH_QUICK", "") not in ("", "0"):
        print("BENCH_QUICK: fewer repetitions; the full run is `make bench` without it\n")
    failed = []
    results: list[str] = []
    started = time.perf_counter()
    for name in names:
        print(f"=== {name}", flush=True)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", f"benchmarks.{name}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.startswith("["):
                results.append(line.rstrip("\n"))
        code = proc.wait()
        print(f"=== {name}: exit {code} after {time.perf_counter() - start:.0f} s\n", flush=True)
        if code != 0:
            failed.append(name)
    print(f"=== summary ({time.perf_counter() - started:.0f} s)")
    for line in results:
        print(line)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
