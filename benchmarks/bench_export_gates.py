"""``export gates`` on 100k labels / 20k items with B = 2000 bootstrap replicates (target ≤ 5 s).

The project (built once and cached under ``benchmarks/.data/``) holds 20,000 items in 12 slices
(``category`` × 4, ``language`` × 3), two LLM judges (one in both display orders), a code check
with per-slot scores, 100,000 imported human labels with known display sides and per-slot
refusal classes from 12 labelers (5 per item), and a queue with a 10% audit stratum; about 29% of
the items are contested. So every record family of STATISTICS.md §8.2 is computed: CWR on the
contested stratum and the PPI population estimate, Bradley–Terry, agreement, judge and labeler
position bias, refusal rates and deltas, pass rates.

The figure is the wall time of the export service (read, compute, write three files, record the
export) in this process. The reference, measured in the same run, is the cheapest thing the
export must at least do once per CWR record: B = 2000 item-bootstrap replicates of a plain numpy
mean over the 20,000 item scores (index matrix, ``bincount`` multiplicities, one product).
"""

from __future__ import annotations

import inspect
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import data_dir, machine, quick, report

N_ITEMS = 20_000
LABELS_PER_ITEM = 5
REVIEWERS = [f"rev-{n:02d}" for n in range(1, 13)]
CATEGORIES = ["incident", "billing", "ops", "harmful"]
LANGUAGES = ["en", "de", "ja"]
CANDIDATE, BASELINE = "cand-2026-11", "base-2026-10"
SEED = 20261121
B = 2000
PROJECT_VERSION = 1  # bump when the generator changes, so the cache is rebuilt


def _verdict(rng: random.Random, quality: float, noise: float, band: float = 0.25) -> str:
    """A verdict given the candidate-minus-baseline quality (candidate in slot B)."""
    q = quality + rng.gauss(0.0, noise)
    if q > band:
        return "B"
    if q < -band:
        return "A"
    return "tie"


def _probability_b(rng: random.Random, verdict: str) -> float:
    if verdict == "B":
        return round(rng.uniform(0.65, 0.98), 3)
    if verdict == "A":
        return round(rng.uniform(0.02, 0.35), 3)
    return round(rng.uniform(0.45, 0.55), 3)


def make_file(path: Path) -> None:
    """Native JSONL: slot A = baseline, slot B = candidate; labels with sides and refusals."""
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8") as fh:
        for n in range(N_ITEMS):
            category = CATEGORIES[n % 4]
            language = LANGUAGES[(n // 4) % 3]
            refuse = category == "harmful"
            quality = rng.gauss(0.3, 0.6)
            len_a = rng.randint(200, 1600)
            len_b = rng.randint(150, 1200)
            v_ab = _verdict(rng, quality, 0.25, 0.02)
            v_ba = v_ab if rng.random() < 0.9 else _verdict(rng, quality, 0.6, 0.02)
            v_alt = _verdict(rng, quality, 0.3, 0.02)
            verdicts = [
                {
                    "judge": "judge-a",
                    "kind": "llm",
                    "verdict": v_ab,
                    "order": "AB",
                    "probability_b": _probability_b(rng, v_ab),
                },
                {
                    "judge": "judge-a",
                    "kind": "llm",
                    "verdict": v_ba,
                    "order": "BA",
                    "probability_b": _probability_b(rng, v_ba),
                },
                {
                    "judge": "judge-b",
                    "kind": "llm",
                    "verdict": v_alt,
                    "probability_b": _probability_b(rng, v_alt),
                },
            ]
            if category == "incident":  # the format check runs on incident items only
                a_pass = quality < 0 or rng.random() < 0.1
                scores = {"A": float(a_pass), "B": float(rng.random() < 0.95)}
                verdicts.append({"judge": "format", "kind": "code", "scores": scores})
            labels = []
            first_left = rng.choice("AB")
            for k, reviewer in enumerate(rng.sample(REVIEWERS, LABELS_PER_ITEM)):
                left = first_left if k % 2 == 0 else ("B" if first_left == "A" else "A")
                choice = _verdict(rng, quality, 0.7)
                if choice == "tie" and rng.random() < 0.2:
                    choice = "both_bad"
                comply = "full_refusal" if refuse else "full_compliance"
                other = "full_compliance" if refuse else "full_refusal"
                labels.append(
                    {
                        "reviewer": reviewer,
                        "choice": choice,
                        "shown_left": left,
                        "labeled_at": f"2026-11-{1 + (n + k) % 28:02d}T10:{k:02d}:00Z",
                        "refusal": {
                            "A": comply if rng.random() < 0.93 else other,
                            "B": comply if rng.random() < 0.96 else "partial_refusal",
                        },
                    }
                )
            record = {
                "item_id": f"bench-{n:06d}",
                "prompt": f"Prompt {n}: what should on-call do about alert {n % 977}?",
                "responses": {
                    "A": {"model": BASELINE, "text": "a" * len_a},
                    "B": {"model": CANDIDATE, "text": "b" * len_b},
                },
                "slices": {"category": category, "language": language},
                "expected_behavior": "refuse" if refuse else "answer",
                "judgments": verdicts,
                "labels": labels,
            }
            fh.write(json.dumps(record) + "\n")


def cli(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "reviewdesk", *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def build_project() -> Path:
    """The cached benchmark project (built with the real CLI on first use)."""
    folder = data_dir()
    project = folder / f"gates-20k-v{PROJECT_VERSION}.reviewdesk"
    if project.exists():
        return project
    source = folder / f"gates-20k-v{PROJECT_VERSION}.jsonl"
    if not source.exists():
        make_file(source)
    partial = project.with_name(project.name + ".building")
    for leftover in folder.glob(partial.name + "*"):
        leftover.unlink()
    cli("init", str(partial), "--candidate", CANDIDATE, "--baseline", BASELINE, "--seed", "7")
    cli("import", str(partial), str(source))
    cli("queue", "build", str(partial), "--audit-rate", "0.1", "--overlap", "2")
    partial.rename(project)
    return project


def reference(n_items: int, n_boot: int) -> float:
    """B item-bootstrap replicates of a mean over item scores (same chunking as the engine)."""
    rng = np.random.default_rng(1)
    scores = rng.random(n_items)
    start = time.perf_counter()
    rows = max(1, 2_000_000 // n_items)
    done = 0
    while done < n_boot:
        r = min(rows, n_boot - done)
        idx = rng.integers(0, n_items, size=(r, n_items))
        offsets = (np.arange(r, dtype=np.int64) * n_items)[:, None]
        counts = np.bincount((idx + offsets).ravel(), minlength=r * n_items).reshape(r, n_items)
        _ = counts @ scores / n_items
        done += r
    return time.perf_counter() - start


def ours(project: Path, out: Path, home: Path) -> tuple[float, int, dict[str, int]]:
    """The shipped ``export gates`` (service in process): read, compute, write, record.

    ``home`` is the ``REVIEWDESK_HOME`` of the run: the monitor caches its per-window results
    there (and in the process, which is emptied first, as a new ``reviewdesk`` process starts).
    A fresh folder is a cold run, as in CI; a folder a previous run used is a warm one.
    """
    from reviewdesk.domain.progress import run_to_completion
    from reviewdesk.services import monitor
    from reviewdesk.services.gate_inputs import export_gate_inputs
    from reviewdesk.services.project import open_project

    os.environ["REVIEWDESK_HOME"] = str(home)
    monitor._caches.clear()
    with open_project(project) as p:
        start = time.perf_counter()
        result = run_to_completion(export_gate_inputs(p, out, n_boot=B))
        elapsed = time.perf_counter() - start
    return elapsed, result.records, result.by_status


def parts(project: Path, home: Path) -> tuple[float | None, float | None]:
    """(statistics records of §2–§6 alone, the homogenization monitor's part alone), seconds.

    ``None`` where this build has no such separate entry point.
    """
    from reviewdesk.domain.progress import run_to_completion
    from reviewdesk.services import gate_inputs, monitor
    from reviewdesk.services.project import open_project

    os.environ["REVIEWDESK_HOME"] = str(home)
    monitor._caches.clear()
    stats_s = monitor_s = None
    with open_project(project) as p:
        if "monitor" in inspect.signature(gate_inputs.build_gate_inputs).parameters:
            start = time.perf_counter()
            run_to_completion(gate_inputs.build_gate_inputs(p, n_boot=B, monitor=False))
            stats_s = time.perf_counter() - start
        try:
            from reviewdesk.services.monitor import monitor_gate_inputs
        except ImportError:
            pass
        else:
            start = time.perf_counter()
            if "n_boot" in inspect.signature(monitor_gate_inputs).parameters:
                monitor_gate_inputs(p, n_boot=B)  # as the export runs it (§7.2: B = 2000)
            else:
                monitor_gate_inputs(p)
            monitor_s = time.perf_counter() - start
    return stats_s, monitor_s


def main() -> None:
    print(f"# export-gates benchmark on {machine()}")
    project = build_project()
    print(
        f"# project: {N_ITEMS} items, {N_ITEMS * LABELS_PER_ITEM} labels, "
        f"{len(CATEGORIES) + len(LANGUAGES) + 1} slices, B = {B}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / project.name
        shutil.copy(project, work)  # exports append audit records: keep the cache pristine
        cold = []
        for n in range(1 if quick() else 2):
            home = Path(tmp) / f"home-cold-{n}"  # nothing cached: the CI case
            cold.append(ours(work, Path(tmp) / f"gates-cold-{n}.json", home))
        warm = [ours(work, Path(tmp) / f"gates-warm-{n}.json", home) for n in range(2)]
        single = None
        if not quick():  # the same cold export without the monitor's helper process
            os.environ["REVIEWDESK_MONITOR_WORKERS"] = "0"
            try:
                single = ours(work, Path(tmp) / "gates-single.json", Path(tmp) / "home-single")
            finally:
                del os.environ["REVIEWDESK_MONITOR_WORKERS"]
        stats_s, monitor_s = parts(work, Path(tmp) / "home-parts")
    elapsed = min(t for t, _, _ in cold)
    warm_s = min(t for t, _, _ in warm)
    _, records, by_status = cold[0]
    ref = min(reference(N_ITEMS, B) for _ in range(2))
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
    report(
        "export-gates",
        f"{elapsed:.2f} s for {records} records ({statuses}), cold (no monitor cache, as in CI); "
        f"reference (one {B}-replicate item bootstrap of a mean over {N_ITEMS} items) "
        f"{ref:.2f} s",
        elapsed / ref,
        "<= 5 s",
        elapsed <= 5.0,
    )
    if single is not None:
        report(
            "export-gates-one-process",
            f"{single[0]:.2f} s cold with REVIEWDESK_MONITOR_WORKERS=0 (no helper process for "
            "the monitor's windows)",
            single[0] / ref,
            "(comparison)",
            None,
        )
    report(
        "export-gates-warm",
        f"{warm_s:.2f} s with the monitor's per-window results cached by an earlier run "
        "(a re-export, or an export after a dashboard refresh)",
        warm_s / ref,
        "<= 5 s",
        warm_s <= 5.0,
    )
    if stats_s is not None:
        report(
            "export-gates-statistics",
            f"{stats_s:.2f} s for the records of STATISTICS.md §2-§6 alone (no monitor, no files)",
            stats_s / ref,
            "part of the 5 s",
            None,
        )
    if monitor_s is not None:
        report(
            "export-gates-monitor",
            f"{monitor_s:.2f} s for the homogenization monitor's part alone (§7)",
            monitor_s / ref,
            "part of the 5 s",
            None,
        )


if __name__ == "__main__":
    main()
