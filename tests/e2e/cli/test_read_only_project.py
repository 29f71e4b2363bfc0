"""A read-only project file: every command that writes says so in one line and changes nothing.

SQLite opens a file it cannot write read-only, and reads a WAL project as long as it can create
the ``-wal`` and ``-shm`` files beside it (SQLite ≥ 3.22). So with only the *file* read-only,
``status``, ``stats``, ``audit verify``, ``erase --dry-run`` and serving pairs already served
still work, and every write fails with exit code 1 and a message naming the file. With the
*folder* read-only as well, SQLite cannot open the project at all (it cannot create the
``-shm``), and every command says that, and how to get around it.

The commands run through ``reviewdesk.cli.main.main`` in this process (the same code as the
console script), and a few through a real ``python -m reviewdesk`` process as well.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.cli.main import EXIT_USER, main
from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.adjudication import serve_adjudication
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import create_project
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import ensure_reviewer, serve_next
from tests.conftest import native_item, write_jsonl
from tests.e2e.cli.conftest import run_cli
from tests.e2e.cli.read_only import read_only

CANDIDATE, BASELINE = "sft-2026-11", "base-2026-10"


def llm(judge: str, verdict: str) -> dict[str, Any]:
    return {"judge": judge, "kind": "llm", "verdict": verdict}


def human(reviewer: str, choice: str) -> dict[str, Any]:
    return {"reviewer": reviewer, "choice": choice, "labeled_at": "2026-11-02T09:14:03Z"}


class Setup:
    """A project with a queue, labels, a served token, a conflict to adjudicate and a subject."""

    def __init__(self, folder: Path, clock: FixedClock) -> None:
        folder.mkdir()
        self.folder = folder
        self.path = folder / "p.reviewdesk"
        records = [
            native_item(
                f"split-{n}",
                judgments=[llm("j1", "A"), llm("j2", "B")],
                subject_id=f"cust-{n % 4}",
            )
            for n in range(12)
        ]
        # Imported human labels that disagree: a conflict for the adjudicator.
        records.append(
            native_item(
                "conflict", judgments=[llm("j1", "A")], labels=[human("h1", "A"), human("h2", "B")]
            )
        )
        with create_project(
            self.path, candidate=CANDIDATE, baseline=BASELINE, seed=3, clock=clock
        ) as project:
            run_to_completion(
                import_file(project, write_jsonl(folder.parent / "in.jsonl", records))
            )
            build_queue(project, audit_rate=0.0, overlap=2)
            ensure_reviewer(project, "rev-1")
            first = serve_next(project, "rev-1").token
            assert first is not None
            self.token = first
            adjudication = serve_adjudication(project, "adj")
            assert adjudication.pair is not None
            self.adjudication_token = adjudication.pair.handle
        assert main(["answer", str(self.path), "--reviewer", "rev-1", "--token", first,
                     "--choice", "left"]) == 0  # fmt: skip
        assert main(["next", str(self.path), "--reviewer", "rev-1", "--json"]) == 0
        self.open_token = self._open_token()
        self.more = write_jsonl(
            folder.parent / "more.jsonl", [native_item(f"new-{n}") for n in range(5)]
        )
        assert not self.side_files()  # closed cleanly: the WAL is folded in and removed

    def _open_token(self) -> str:
        with closing(sqlite3.connect(self.path)) as con:
            (token,) = con.execute(
                "SELECT token FROM serving WHERE answered_event_id IS NULL"
            ).fetchone()
        return str(token)

    def side_files(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir() if p.name != self.path.name)

    def state(self) -> tuple[Any, ...]:
        """Everything a command could have changed: the rows of every table.

        Read and write, so that closing folds the WAL in and removes ``-wal`` and ``-shm`` (a
        read-only connection leaves them, and with them SQLite can read even in a read-only
        folder).
        """
        with closing(sqlite3.connect(self.path)) as con:
            tables = [
                r[0]
                for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            return tuple(
                (table, con.execute(f'SELECT * FROM "{table}"').fetchall()) for table in tables
            )


@pytest.fixture
def setup(tmp_path: Path, clock: FixedClock) -> Setup:
    return Setup(tmp_path / "projects", clock)


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def writes(s: Setup, out: Path) -> dict[str, list[str | Path]]:
    """One invocation of every command that writes to the project."""
    p = s.path
    return {
        "answer": ["answer", p, "--reviewer", "rev-1", "--token", s.open_token, "--choice", "tie"],
        "undo": ["undo", p, "--reviewer", "rev-1"],
        "import": ["import", p, s.more],
        "queue build": ["queue", "build", p, "--audit-rate", "0.5"],
        "erase": ["erase", p, "--subject", "cust-1"],
        "adjudicate answer": [
            "adjudicate",
            "answer",
            p,
            "--reviewer",
            "adj",
            "--token",
            s.adjudication_token,
            "--choice",
            "left",
        ],
        "next (new reviewer)": ["next", p, "--reviewer", "rev-new"],
        "export csv": ["export", "csv", p, "-o", out / "csv"],
        "export gates": ["export", "gates", p, "-o", out / "gates" / "g.json"],
        "export preferences": ["export", "preferences", p, "-o", out / "prefs"],
    }


def assert_one_line(err: str, path: Path, *phrases: str) -> None:
    assert err.count("\n") == 1, err
    assert err.startswith(f"reviewdesk: {path}: "), err
    assert "Traceback" not in err
    for phrase in phrases:
        assert phrase in err, err


def test_a_read_only_file_can_be_read_but_not_written(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = setup.state()
    out = tmp_path / "out"
    (out / "gates").mkdir(parents=True)
    with read_only(setup.path):
        for name, args in writes(setup, out).items():
            code, _out, err = run(capsys, *args)
            assert code == EXIT_USER, (name, err)
            assert_one_line(err, setup.path, "read-only", "not saved")
        # An export the project cannot record is not left behind either.
        assert [p for p in out.rglob("*") if p.is_file()] == []

        code, status, _ = run(capsys, "status", setup.path, "--json")
        assert code == 0
        counts = json.loads(status)
        assert (counts["items"], counts["queue"]["labels_done"]) == (13, 1)
        code, stats, _ = run(capsys, "stats", setup.path, "--json")
        assert code == 0
        assert json.loads(stats)["schema"] == "reviewdesk.gate_inputs/v1"
        assert run(capsys, "audit", "verify", setup.path)[0] == 0
        code, plan, _ = run(capsys, "erase", setup.path, "--subject", "cust-1", "--dry-run")
        assert code == 0, plan
        code, served, _ = run(capsys, "next", setup.path, "--reviewer", "rev-1", "--json")
        assert code == 0
        assert json.loads(served)["token"] == setup.open_token  # served before: no write
        assert run(capsys, "adjudicate", setup.path, "--reviewer", "adj")[0] == 0

        # The real console entry point: exit code 1, one line, no traceback.
        answer = ["--reviewer", "rev-1", "--token", setup.open_token, "--choice", "left"]
        result = run_cli("answer", setup.path, *answer, check=EXIT_USER)
        assert_one_line(result.err, setup.path, "read-only")
        assert run_cli("status", setup.path, "--json").json()["items"] == 13
    assert setup.state() == before

    # Writable again: the same commands work, starting with the label that was refused.
    assert main(["answer", str(setup.path), "--reviewer", "rev-1", "--token", setup.open_token,
                 "--choice", "tie"]) == 0  # fmt: skip
    assert main(["audit", "verify", str(setup.path)]) == 0


def test_a_read_only_folder_cannot_be_opened_and_says_why(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    before = setup.state()
    answer = ["--reviewer", "rev-1", "--token", setup.open_token, "--choice", "left"]
    commands: list[list[str | Path]] = [
        ["status", setup.path],
        ["stats", setup.path, "--json"],
        ["audit", "verify", setup.path],
        ["answer", setup.path, *answer],
    ]
    with read_only(setup.path, setup.folder):
        for args in commands:
            code, _out, err = run(capsys, *args)
            assert code == EXIT_USER, err
            assert_one_line(
                err, setup.path, "cannot open the project file", "p.reviewdesk-shm", "writable"
            )
        result = run_cli("status", setup.path, check=EXIT_USER)
        assert_one_line(result.err, setup.path, "cannot open the project file")
        assert setup.side_files() == []
    assert setup.state() == before
