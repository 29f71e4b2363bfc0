"""Run every ``benchmarks/bench_*.py`` (``make bench``) and print their output.

Each benchmark runs in its own process as ``python -m benchmarks.<name>`` from the repository
root, one after another (they time wall clock, so they must not compete for the cores). A
benchmark that fails is reported and the others still run; the exit code is 1 if any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(want in n for want in argv)]
    failed = []
    for name in names:
        print(f"=== {name}", flush=True)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=ROOT, check=False)
        print(f"=== {name}: exit {proc.returncode} after {time.perf_counter() - start:.0f} s\n")
        if proc.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
