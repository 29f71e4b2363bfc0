"""Crash safety of labeling through the GUI (SPEC §5 "durable when the next pair appears", §9).

The real main window labels by key presses in a child process (``gui_crash_child``) and prints
``ACK`` each time it shows a label as saved; the child is killed with SIGKILL at a random moment.
Afterwards every acknowledged label must be in the project file, at most one label more (the one
being committed at the kill) may be there, the derived state must agree with the log, and
``PRAGMA integrity_check`` must be clean.

Kill moments: most trials wait for the first ``ACK`` (the window is labeling) and then kill after
a seeded random delay of up to ``KILL_WITHIN_S``: at about 70 labels a second that is dozens of
labels in, at every phase of the cycle (commit, next pair, prefetch refill, the WAL checkpoint
every 16 labels). One trial in five kills during start-up instead (opening the project, creating
the reviewer profile, the first fetch), at a random point of the start-up time measured so far.

``REVIEWDESK_GUI_CRASH_TRIALS`` runs more trials (default 20, about 20 s).
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from reviewdesk.services.project import open_project
from reviewdesk.services.review import review_progress
from tests.reliability.support import contested_project
from tests.reliability.test_crash_and_concurrency import check_file

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL and fork: POSIX only")

REPO = Path(__file__).resolve().parents[2]
SERVER = [sys.executable, "-m", "tests.reliability.gui_crash_child"]
TRIALS = int(os.environ.get("REVIEWDESK_GUI_CRASH_TRIALS", "20"))
#: After the first acknowledged label, the kill comes within this many seconds.
KILL_WITHIN_S = 1.0
#: Every this-many-th trial is killed during start-up, before any label is acknowledged.
STARTUP_KILL_EVERY = 5
TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 contested entries with overlap 2, built once: each trial labels a fresh copy."""
    return contested_project(tmp_path_factory.mktemp("gui-template"), seed=23)


class ForkServer:
    """The child's fork server: imports once, forks one labeling window per trial."""

    def __init__(self, folder: Path) -> None:
        home = folder / "home"
        home.mkdir()
        self.stderr_path = folder / "server-stderr.txt"
        self._stderr: IO[str] = self.stderr_path.open("w", encoding="utf-8")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", REVIEWDESK_HOME=str(home))
        self.proc = subprocess.Popen(
            SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=REPO,
            env=env,
        )
        self._lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        #: Seconds from RUN to the first acknowledged label, as last measured.
        self.startup_s = 0.5
        #: The labeling child now running (its pid), if any.
        self.child: int | None = None
        self.expect("READY")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put((time.monotonic(), line.rstrip("\n")))
        self._lines.put((time.monotonic(), "EOF"))

    def stderr_tail(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8")[-4000:]

    def start(self, project: Path, reviewer: str, seen: list[str]) -> int:
        """Fork a window labeling ``project`` as ``reviewer``; returns its pid."""
        self.stop()  # a test that failed half-way may have left one running
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"RUN {project} {reviewer}\n")
        self.proc.stdin.flush()
        _, line = self.expect("PID", seen)
        self.child = int(line.split()[1])
        return self.child

    def kill(self, seen: list[str]) -> int:
        """SIGKILL the running child; returns its raw wait status (lines before go to ``seen``)."""
        assert self.child is not None
        with contextlib.suppress(ProcessLookupError):  # ended already: its EXIT is on the way
            os.kill(self.child, signal.SIGKILL)
        _, line = self.expect("EXIT", seen)
        self.child = None
        return int(line.split()[1])

    def stop(self) -> None:
        if self.child is not None:
            self.kill([])

    def expect(self, prefix: str, seen: list[str] | None = None) -> tuple[float, str]:
        """The next line starting with ``prefix`` (lines before it go to ``seen``)."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                at, line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {prefix} line within {TIMEOUT_S} s\n{self.stderr_tail()}")
            if line.startswith(prefix):
                return at, line
            if line.startswith(("EXIT", "EOF")):
                self.child = None
                pytest.fail(
                    f"the child ended early ({line}) waiting for {prefix}:\n{self.stderr_tail()}"
                )
            if seen is not None:
                seen.append(line)

    def close(self) -> None:
        with contextlib.suppress(pytest.fail.Exception):  # the test has reported it already
            self.stop()
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    fork_server = ForkServer(tmp_path_factory.mktemp("gui-crash"))
    yield fork_server
    fork_server.close()


def acknowledged(lines: list[str]) -> list[tuple[int, str, str, int]]:
    """(entry id, left slot, screen choice, event id) of every
    ``ACK <entry>.<slot> <choice> <event id>`` line."""
    out = []
    for line in lines:
        if line.startswith("ACK "):
            _, handle, choice, event_id = line.split()
            entry, slot = handle.split(".")
            out.append((int(entry), slot, choice, int(event_id)))
    return out


def check_acknowledged(path: Path, reviewer: str, acks: list[tuple[int, str, str, int]]) -> None:
    with contextlib.closing(sqlite3.connect(path)) as con:
        # Each acknowledged label is the very event the window was told about.
        by_id = {
            event_id: (entry, slot, choice)
            for event_id, entry, slot, choice in con.execute(
                "SELECT e.id, e.entry_id, e.left_slot, e.screen_choice FROM label_event e "
                "JOIN reviewer r ON r.id = e.reviewer_id WHERE r.name = ?",
                (reviewer,),
            )
        }
        for entry, slot, choice, event_id in acks:
            assert by_id.get(event_id) == (entry, slot, choice), f"event {event_id} lost"
        labels = [(entry, slot, choice) for entry, slot, choice, _ in acks]
        stored = Counter(
            con.execute(
                "SELECT e.entry_id, e.left_slot, e.screen_choice FROM label_event e "
                "JOIN reviewer r ON r.id = e.reviewer_id "
                "WHERE r.name = ? AND e.kind = 'label' AND e.provenance = 'human'",
                (reviewer,),
            ).fetchall()
        )
        current = {
            entry
            for (entry,) in con.execute(
                "SELECT c.entry_id FROM label_current c JOIN reviewer r ON r.id = c.reviewer_id "
                "WHERE r.name = ?",
                (reviewer,),
            )
        }
    lost = Counter(labels) - stored
    assert not lost, f"acknowledged labels lost: {sorted(lost)}"
    # The window saves one label at a time: at most the one in flight was written unacknowledged.
    unacknowledged = stored - Counter(labels)
    assert sum(unacknowledged.values()) <= 1, f"labels nobody pressed: {sorted(unacknowledged)}"
    assert {entry for entry, _, _ in labels} <= current


def check_reopens(path: Path, reviewer: str) -> None:
    """The app's own open (WAL recovery, schema check) works and counts the labels found."""
    with contextlib.closing(sqlite3.connect(path)) as con:
        (labeled,) = con.execute(
            "SELECT count(*) FROM label_current c JOIN reviewer r ON r.id = c.reviewer_id "
            "WHERE r.name = ? AND c.choice != 'skip'",
            (reviewer,),
        ).fetchone()
        has_profile = con.execute("SELECT 1 FROM reviewer WHERE name = ?", (reviewer,)).fetchone()
    with open_project(path) as project:
        if has_profile:
            assert review_progress(project, reviewer).done == labeled


def copy_project(template: Path, target: Path) -> Path:
    shutil.copy(template, target)
    return target


@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_while_labeling_in_the_gui_loses_no_acknowledged_label(
    server: ForkServer, template: Path, tmp_path: Path, trial: int
) -> None:
    path = copy_project(template, tmp_path / "p.reviewdesk")
    reviewer = f"rev-{trial % 3}"
    rng = random.Random(4200 + trial)
    seen: list[str] = []
    started = time.monotonic()
    server.start(path, reviewer, seen)
    during_startup = trial % STARTUP_KILL_EVERY == STARTUP_KILL_EVERY - 1
    if during_startup:
        time.sleep(rng.uniform(0.0, server.startup_s))
    else:
        first_at, first = server.expect("ACK", seen)
        seen.append(first)
        server.startup_s = first_at - started
        time.sleep(rng.uniform(0.0, KILL_WITHIN_S))
    status = server.kill(seen)
    assert os.WIFSIGNALED(status), f"exit status {status}\n{server.stderr_tail()}"
    assert os.WTERMSIG(status) == signal.SIGKILL
    assert "DONE" not in seen  # killed while there was still labeling to do
    acks = acknowledged(seen)
    if not during_startup:
        assert acks
    check_file(path, [])  # integrity_check, and label counts agree with the current labels
    check_acknowledged(path, reviewer, acks)
    check_reopens(path, reviewer)
