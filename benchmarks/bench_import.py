"""Import throughput: ``reviewdesk import`` against a bare json.loads + sqlite3.executemany loop.

Both read the same native JSONL file (25k items, 100k judgments, realistic text lengths) and
store items, responses and judgments in the same tables of a project file in one transaction.
Target: ≥ 0.8× the reference's judgments per second. Also reports the import's peak resident
memory against the file size (bounded memory: it streams).
"""

from __future__ import annotations

import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import data_dir, machine, report

N_ITEMS = 25_000
WORDS = [
    "rollback",
    "deploy",
    "latency",
    "p99",
    "pager",
    "alert",
    "incident",
    "runbook",
    "kubectl",
    "pod",
    "node",
    "disk",
    "queue",
    "backlog",
    "certificate",
    "expiry",
    "DNS",
    "resolver",
    "cache",
    "shard",
    "replica",
    "failover",
    "on-call",
    "escalate",
    "customer",
    "invoice",
    "refund",
    "charge",
    "duplicate",
    "plan",
    "downgrade",
    "verify",
    "mitigate",
    "restore",
    "traffic",
    "canary",
]


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def make_file(path: Path) -> None:
    rng = random.Random(20261121)
    with path.open("w", encoding="utf-8") as fh:
        for n in range(N_ITEMS):
            verdicts = [rng.choice(["A", "B", "tie"]) for _ in range(3)]
            record = {
                "item_id": f"bench-{n:06d}",
                "prompt": text(rng, 40),
                "responses": {
                    "A": {"model": "base", "text": text(rng, rng.randint(60, 250))},
                    "B": {"model": "cand", "text": text(rng, rng.randint(60, 250))},
                },
                "slices": {"category": rng.choice(["triage", "billing", "ops"]), "language": "en"},
                "judgments": [
                    {
                        "judge": "llm-v3",
                        "kind": "llm",
                        "verdict": verdicts[0],
                        "order": "AB",
                        "probability_b": round(rng.random(), 3),
                    },
                    {
                        "judge": "llm-v3",
                        "kind": "llm",
                        "verdict": verdicts[1],
                        "order": "BA",
                        "probability_b": round(rng.random(), 3),
                    },
                    {"judge": "llm-alt", "kind": "llm", "verdict": verdicts[2]},
                    {
                        "judge": "format",
                        "kind": "code",
                        "scores": {"A": rng.choice([0, 1]), "B": rng.choice([0, 1])},
                    },
                ],
            }
            fh.write(json.dumps(record) + "\n")


def reference(path: Path, project: Path) -> float:
    """The bare loop: parse each line, ``executemany`` per 1000 records, one transaction.

    It writes the same rows into the same tables (and so maintains the same indexes and
    constraints) of a fresh project file as the real import, without validation, hashing,
    deduplication or the audit chain: the ratio measures exactly what those cost.
    """
    subprocess.run(
        [sys.executable, "-m", "reviewdesk", "init", str(project)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    start = time.perf_counter()
    con = sqlite3.connect(project, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("BEGIN IMMEDIATE")
    con.executemany(
        "INSERT INTO judge (id, name, kind) VALUES (?, ?, ?)",
        [(1, "llm-v3", "llm"), (2, "llm-alt", "llm"), (3, "format", "code")],
    )
    judges = {"llm-v3": 1, "llm-alt": 2, "format": 3}
    items, responses, judgments = [], [], []
    next_id = 1

    def flush() -> None:
        con.executemany(
            "INSERT INTO item (id, item_key, prompt, slices, content_sha256, reasons, created_at) "
            "VALUES (?, ?, ?, ?, '', 0, '')",
            items,
        )
        con.executemany(
            "INSERT INTO response (item_id, slot, model, text, char_len) VALUES (?, ?, ?, ?, ?)",
            responses,
        )
        con.executemany(
            "INSERT INTO judgment (item_id, judge_id, display_order, verdict, probability_b, "
            "score_a, score_b, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, '')",
            judgments,
        )
        items.clear()
        responses.clear()
        judgments.clear()

    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            items.append((next_id, r["item_id"], r["prompt"], json.dumps(r["slices"])))
            for slot in ("A", "B"):
                text = r["responses"][slot]["text"]
                responses.append((next_id, slot, r["responses"][slot]["model"], text, len(text)))
            for j in r["judgments"]:
                scores = j.get("scores") or {}
                judgments.append(
                    (
                        next_id,
                        judges[j["judge"]],
                        j.get("order", "unknown"),
                        j.get("verdict"),
                        j.get("probability_b"),
                        scores.get("A"),
                        scores.get("B"),
                    )
                )
            next_id += 1
            if len(items) >= 1000:
                flush()
    flush()
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - start


def ours_in_process(path: Path, project: Path) -> float:
    """The import service itself, timed like the reference (after process start-up)."""
    from reviewdesk.domain.progress import run_to_completion
    from reviewdesk.services.importing import import_file
    from reviewdesk.services.project import open_project

    subprocess.run(
        [sys.executable, "-m", "reviewdesk", "init", str(project)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with open_project(project) as opened:
        start = time.perf_counter()
        run_to_completion(import_file(opened, path))
        return time.perf_counter() - start


def ours(path: Path, project: Path) -> tuple[float, int]:
    """``reviewdesk import`` in a child process; returns (seconds, peak RSS in bytes)."""
    subprocess.run(
        [sys.executable, "-m", "reviewdesk", "init", str(project)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "reviewdesk", "import", str(project), str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kb * 1024


def main() -> None:
    source = data_dir() / "import-100k-judgments.jsonl"
    if not source.exists():
        make_file(source)
    n_judgments = N_ITEMS * 4
    size_mb = source.stat().st_size / 1e6
    print(f"# import benchmark on {machine()}")
    print(f"# file: {N_ITEMS} items, {n_judgments} judgments, {size_mb:.1f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        ref_s = min(reference(source, tmpdir / f"ref{n}.reviewdesk") for n in range(2))
        ours_s = min(ours_in_process(source, tmpdir / f"in{n}.reviewdesk") for n in range(2))
        cli_runs = [ours(source, tmpdir / f"p{n}.reviewdesk") for n in range(2)]
        cli_s = min(t for t, _ in cli_runs)
        peak = max(p for _, p in cli_runs)
    ref_rate = n_judgments / ref_s
    our_rate = n_judgments / ours_s
    ratio = our_rate / ref_rate
    report(
        "import",
        f"{our_rate:,.0f} judgments/s ({ours_s:.2f} s; reference {ref_rate:,.0f}/s, "
        f"{ref_s:.2f} s; `reviewdesk import` command {cli_s:.2f} s incl. process start)",
        ratio,
        ">= 0.8x reference",
        ratio >= 0.8,
    )
    report(
        "import-memory",
        f"peak RSS {peak / 1e6:.0f} MB for a {size_mb:.0f} MB file",
        None,
        "bounded (independent of file size)",
        None,
    )


if __name__ == "__main__":
    main()
