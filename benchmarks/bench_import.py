"""Import throughput: ``reviewdesk import`` against a bare json.loads + sqlite3.executemany loop.

Both read the same native JSONL file (25k items, 100k judgments, realistic text lengths) and
store items, responses and judgments in the same tables of a project file in one transaction.
Target: ≥ 0.8× the reference's judgments per second. Also reports the import's peak resident
memory against the file size (bounded memory: it streams), and what the second process costs.

A file this large is read in a child process (``io.parallel``) while the importing process
stores; the benchmark times that default and, for comparison, the in-process import
(``workers=0``), plus the child's start-up. Like ``bench_review_latency``, the processes get a
compiled-bytecode cache under ``benchmarks/.data/pycache`` as an installed wheel or the bundle
has (with ``PYTHONDONTWRITEBYTECODE`` set, an editable checkout would compile every module the
child imports at each start); ``BENCH_BYTECODE=0`` inherits the environment instead.
"""

from __future__ import annotations

import json
import os
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


def ours_in_process(path: Path, project: Path, workers: int | None = None) -> float:
    """The import service itself, timed like the reference (after process start-up).

    ``workers`` None: as shipped (this file is read in a child process); 0: in this process.
    """
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
        run_to_completion(import_file(opened, path, workers=workers))
        return time.perf_counter() - start


def ours(path: Path, project: Path) -> tuple[float, int, int]:
    """``reviewdesk import`` in a child process; returns (seconds, peak RSS of one process,
    peak RSS of the command's process tree: the importing process and its reader together)."""
    subprocess.run(
        [sys.executable, "-m", "reviewdesk", "init", str(project)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        import psutil
    except ImportError:  # the test extra is not installed: no tree figure
        psutil = None
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewdesk", "import", str(project), str(path)],
        stdout=subprocess.DEVNULL,
    )
    tree_peak = 0
    while proc.poll() is None:
        if psutil is not None:
            try:
                top = psutil.Process(proc.pid)
                rss = top.memory_info().rss
                for child in top.children(recursive=True):
                    rss += child.memory_info().rss
                tree_peak = max(tree_peak, rss)
            except psutil.Error:
                pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kb * 1024, tree_peak


def child_start(tmpdir: Path) -> float:
    """Seconds from starting the reader process to its last chunk, on a one-record file."""
    from reviewdesk.io.formats import Format, ReadOptions
    from reviewdesk.io.parallel import ChildChunks

    tiny = tmpdir / "one.jsonl"
    tiny.write_text(
        json.dumps(
            {
                "prompt": "p",
                "responses": {"A": {"model": "a", "text": "x"}, "B": {"model": "b", "text": "y"}},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    times = []
    for _ in range(5):
        start = time.perf_counter()
        with ChildChunks(tiny, Format.NATIVE, ReadOptions(), skip_bad=False, low_margin=0.1) as c:
            for _chunk in c:
                pass
            times.append(time.perf_counter() - start)
    return min(times)


def _compiled_bytecode() -> None:
    """Give this process's children a bytecode cache, as an installed copy has (module doc)."""
    if os.environ.get("BENCH_BYTECODE", "1") in ("", "0"):
        return
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(data_dir() / "pycache")
    subprocess.run(  # fills the cache with what the reader process imports
        [sys.executable, "-c", "import multiprocessing.spawn, reviewdesk.io.parallel"], check=True
    )


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    source = data_dir() / "import-100k-judgments.jsonl"
    if not source.exists():
        make_file(source)
    n_judgments = N_ITEMS * 4
    size_mb = source.stat().st_size / 1e6
    _compiled_bytecode()
    print(f"# import benchmark on {machine()}")
    print(f"# file: {N_ITEMS} items, {n_judgments} judgments, {size_mb:.1f} MB; {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        ref_s, ours_s, alone_s = [], [], []
        for n in range(3):  # interleaved, so that a burst of other load hits all three alike
            ref_s.append(reference(source, tmpdir / f"ref{n}.reviewdesk"))
            ours_s.append(ours_in_process(source, tmpdir / f"in{n}.reviewdesk"))
            alone_s.append(ours_in_process(source, tmpdir / f"one{n}.reviewdesk", workers=0))
        cli_runs = [ours(source, tmpdir / f"p{n}.reviewdesk") for n in range(2)]
        start_s = child_start(tmpdir)
    print(f"# runs (s): reference {ref_s}, ours {ours_s}, in one process {alone_s}; {_load()}")
    ref_rate = n_judgments / min(ref_s)
    our_rate = n_judgments / min(ours_s)
    ratio = our_rate / ref_rate
    cli_s = min(t for t, _, _ in cli_runs)
    report(
        "import",
        f"{our_rate:,.0f} judgments/s ({min(ours_s):.2f} s, read in a child process; reference "
        f"{ref_rate:,.0f}/s, {min(ref_s):.2f} s; `reviewdesk import` command {cli_s:.2f} s "
        "incl. process start)",
        ratio,
        ">= 0.8x reference",
        ratio >= 0.8,
    )
    report(
        "import-one-process",
        f"{n_judgments / min(alone_s):,.0f} judgments/s ({min(alone_s):.2f} s, workers=0)",
        min(ref_s) / min(alone_s),
        "(for comparison)",
        None,
    )
    report(
        "import-child-start",
        f"{start_s * 1000:.0f} ms from starting the reader process to its last chunk "
        "(one-record file)",
        None,
        "(overlaps hashing the file)",
        None,
    )
    peak = max(p for _, p, _ in cli_runs)
    tree = max(t for _, _, t in cli_runs)
    report(
        "import-memory",
        f"peak RSS {peak / 1e6:.0f} MB (largest process), {tree / 1e6:.0f} MB (the command and "
        f"its reader together, sampled) for a {size_mb:.0f} MB file",
        None,
        "bounded (independent of file size)",
        None,
    )


if __name__ == "__main__":
    main()
