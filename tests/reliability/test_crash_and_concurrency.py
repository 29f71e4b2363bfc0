"""Crash safety and concurrency of labeling (SPEC §9 durability).

Labels are written by child processes that get SIGKILLed at random moments; every label they
acknowledged must be in the file afterwards and ``PRAGMA integrity_check`` must be clean. Two
processes labeling one project at once must lose nothing and never report "database is locked".
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.reliability.support import contested_project

CHILD = [sys.executable, "-m", "tests.reliability.crash_child"]
#: SIGKILL trials while labeling through the CLI; ``benchmarks/bench_crash_soak.py`` runs more.
TRIALS = int(os.environ.get("REVIEWDESK_CLI_CRASH_TRIALS", "20"))
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with 400 contested entries, overlap 2, built once for the module."""
    return contested_project(tmp_path_factory.mktemp("template"), seed=17)


def copy_project(template: Path, target: Path) -> Path:
    shutil.copy(template, target)
    return target


def acked_tokens(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if line.startswith("ACK ")]


def check_file(path: Path, tokens: list[str]) -> None:
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for token in tokens:
            row = con.execute(
                "SELECT s.answered_event_id, e.kind FROM serving s "
                "JOIN label_event e ON e.id = s.answered_event_id WHERE s.token = ?",
                (token,),
            ).fetchone()
            assert row is not None, f"acknowledged label for token {token} was lost"
        # Derived state agrees with the log.
        counts = con.execute(
            "SELECT e.id, e.label_count, (SELECT count(*) FROM label_current c "
            "WHERE c.entry_id = e.id AND c.choice != 'skip') FROM queue_entry e"
        ).fetchall()
        assert all(stored == actual for _, stored, actual in counts)


@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_while_labeling_loses_no_acknowledged_label(
    template: Path, tmp_path: Path, trial: int
) -> None:
    path = copy_project(template, tmp_path / "p.reviewdesk")
    rng = random.Random(trial)
    proc = subprocess.Popen(
        [*CHILD, str(path), f"rev-{trial % 3}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    # Wait until the child is labeling, then kill it at a random moment.
    first = proc.stdout.readline()
    assert first.startswith("ACK"), proc.stderr.read() if proc.stderr else first
    time.sleep(rng.uniform(0.0, 0.6))
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    tokens = acked_tokens(first + rest)
    assert tokens
    check_file(path, tokens)


def test_two_processes_label_one_project_at_once(template: Path, tmp_path: Path) -> None:
    path = copy_project(template, tmp_path / "p.reviewdesk")
    logs = [tmp_path / f"stderr-{name}.txt" for name in ("rev-a", "rev-b")]
    procs = []
    for name, log in zip(("rev-a", "rev-b"), logs, strict=True):
        with log.open("w") as err:  # the child keeps its own copy of the descriptor
            procs.append(
                subprocess.Popen(
                    [*CHILD, str(path), name],
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    cwd=REPO,
                )
            )
    acks: list[list[str]] = [[], []]

    def collect(n: int, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("ACK "):
                acks[n].append(line.split()[1])

    threads = [threading.Thread(target=collect, args=(n, p)) for n, p in enumerate(procs)]
    for t in threads:
        t.start()
    # Both write at once until each has 15 acknowledged labels (however slow the machine), then
    # both are killed mid-stream.
    deadline = time.monotonic() + 180
    while min(len(a) for a in acks) < 15 and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.05)
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    for t in threads:
        t.join()
    for proc in procs:
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    for log in logs:
        err = log.read_text()
        assert "locked" not in err.lower(), err
    assert all(len(a) >= 15 for a in acks), [len(a) for a in acks]
    tokens = acks[0] + acks[1]
    check_file(path, tokens)
    with sqlite3.connect(path) as con:
        reviewers = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT r.name FROM label_event e JOIN reviewer r ON r.id = e.reviewer_id"
            )
        }
    assert reviewers == {"rev-a", "rev-b"}
