"""The import service on real project files: all-or-nothing, idempotence, conflicts, cancel."""

from __future__ import annotations

import itertools
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewdesk.domain.errors import CanceledError, InvalidInputError
from reviewdesk.domain.progress import CancelToken, run_to_completion
from reviewdesk.services.importing import ImportOptions, import_file
from reviewdesk.services.project import Project, create_project
from reviewdesk.services.status import get_status
from tests.conftest import SHARED, native_item, write_jsonl

ALPACA = SHARED / "formats" / "alpaca_eval"


@pytest.fixture
def project(project_path: Path) -> Project:
    p = create_project(project_path, seed=1)
    yield p
    p.close()


def counts(project: Project) -> tuple[int, int, int]:
    s = get_status(project)
    return s["items"], s["judgments"], s["labels"]["imported"]


def test_native_import_and_idempotent_reimport(project: Project, tmp_path: Path) -> None:
    records = [
        native_item(
            f"inc-{n}",
            judgments=[{"judge": "j1", "kind": "llm", "verdict": "A", "order": "AB"}],
            labels=[{"reviewer": "ext-1", "choice": "B", "shown_left": "A"}],
        )
        for n in range(5)
    ]
    data = write_jsonl(tmp_path / "a.jsonl", records)
    report = run_to_completion(import_file(project, data))
    assert (report.items_added, report.judgments_added, report.labels_added) == (5, 5, 5)
    again = run_to_completion(import_file(project, data))
    assert (again.items_added, again.judgments_added, again.labels_added) == (0, 0, 0)
    assert (again.items_existing, again.judgments_duplicate, again.labels_duplicate) == (5, 5, 5)
    assert counts(project) == (5, 5, 5)
    assert "already present" in again.summary()


def test_conflicting_judgment_is_reported_not_imported(project: Project, tmp_path: Path) -> None:
    first = write_jsonl(
        tmp_path / "a.jsonl",
        [
            native_item(
                "x", judgments=[{"judge": "j1", "kind": "llm", "verdict": "A", "order": "AB"}]
            )
        ],
    )
    second = write_jsonl(
        tmp_path / "b.jsonl",
        [
            native_item(
                "x",
                judgments=[
                    {"judge": "j1", "kind": "llm", "verdict": "B", "order": "AB"},
                    {"judge": "j1", "kind": "llm", "verdict": "B", "order": "BA"},
                ],
            )
        ],
    )
    run_to_completion(import_file(project, first))
    report = run_to_completion(import_file(project, second))
    assert report.judgments_conflicting == 1
    assert report.judgments_added == 1
    assert "j1" in report.conflicts[0]
    assert "already has a different judgment" in report.conflicts[0]
    assert counts(project)[1] == 2


def test_item_with_changed_content_is_a_conflict(project: Project, tmp_path: Path) -> None:
    run_to_completion(import_file(project, write_jsonl(tmp_path / "a.jsonl", [native_item("x")])))
    changed = native_item("x", text_a="A different answer")
    report = run_to_completion(import_file(project, write_jsonl(tmp_path / "b.jsonl", [changed])))
    assert report.items_added == 0
    assert "different prompt or responses" in report.conflicts[0]


def test_invalid_file_changes_nothing(project: Project, tmp_path: Path) -> None:
    records = [json.dumps(native_item(f"ok-{n}")) for n in range(2500)]
    records.insert(1800, '{"item_id": "bad", "prompt": 3}')
    records.append('{"item_id": "bad2"}')
    data = tmp_path / "mixed.jsonl"
    data.write_text("\n".join(records) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        run_to_completion(import_file(project, data))
    assert info.value.total >= 2
    assert str(info.value.problems[0]).startswith(f"{data}:1801: ")
    assert counts(project) == (0, 0, 0)
    with sqlite3.connect(project.path) as con:
        assert con.execute("SELECT count(*) FROM import_batch").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM audit_record").fetchone()[0] == 1


def test_skip_bad_imports_the_rest_and_writes_rejects(project: Project, tmp_path: Path) -> None:
    lines = [json.dumps(native_item("a")), "{not json", json.dumps(native_item("b"))]
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run_to_completion(import_file(project, data, skip_bad=True))
    assert report.items_added == 2
    assert report.rejected == 1
    rejects = [json.loads(x) for x in Path(report.rejects_path or "").read_text().splitlines()]
    assert rejects[0]["line"] == 2
    assert rejects[0]["problems"][0].startswith(f"{data}:2:")


def test_cancel_rolls_back(project: Project, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "big.jsonl", [native_item(f"i{n}") for n in range(3000)])
    token = CancelToken()
    job = import_file(project, data, cancel=token)

    def drive() -> None:
        for n, _progress in enumerate(job):
            if n == 1:
                token.cancel()

    with pytest.raises(CanceledError):
        drive()
    assert counts(project) == (0, 0, 0)


def test_progress_reaches_the_end(project: Project, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "big.jsonl", [native_item(f"i{n}") for n in range(2500)])
    updates = []
    job = import_file(project, data)
    while True:
        try:
            updates.append(next(job))
        except StopIteration:
            break
    assert updates[0].done == 0
    assert updates[-1].done == updates[-1].total == data.stat().st_size
    assert all(a.done <= b.done for a, b in itertools.pairwise(updates))


def test_two_alpaca_judges_land_on_the_same_items(project: Project) -> None:
    plain = run_to_completion(
        import_file(project, ALPACA / "cohere_alpaca_eval_gpt4_turbo_fn_first40.json")
    )
    cot = run_to_completion(
        import_file(project, ALPACA / "cohere_alpaca_eval_cot_gpt4_turbo_fn_first40.json")
    )
    assert plain.items_added == 40
    assert cot.items_added == 0
    assert cot.items_existing == 40
    status = get_status(project)
    assert status["judges"] == ["alpaca_eval_cot_gpt4_turbo_fn", "alpaca_eval_gpt4_turbo_fn"]
    assert status["judgments"] == 80
    # Where the two judges disagree is exactly what the queue must find.
    plain_prefs = json.loads((ALPACA / "cohere_alpaca_eval_gpt4_turbo_fn_first40.json").read_text())
    cot_prefs = json.loads(
        (ALPACA / "cohere_alpaca_eval_cot_gpt4_turbo_fn_first40.json").read_text()
    )
    differ = sum(
        1 for a, b in zip(plain_prefs, cot_prefs, strict=True) if a["preference"] != b["preference"]
    )
    assert differ > 0
    assert status["contested_by_reason"]["judge_split"] == differ


def test_judge_override(project: Project) -> None:
    run_to_completion(
        import_file(
            project,
            ALPACA / "text_davinci_003_weighted_alpaca_eval_gpt4_turbo_first20.json",
            options=ImportOptions(judge="weighted-gpt4"),
        )
    )
    assert get_status(project)["judges"] == ["weighted-gpt4"]


def test_kill_during_import_leaves_the_project_unchanged(tmp_path: Path) -> None:
    """SIGKILL in the middle of a large import: nothing of it remains, the file is intact."""
    path = tmp_path / "p.reviewdesk"
    create_project(path, seed=1).close()
    small = write_jsonl(tmp_path / "small.jsonl", [native_item("keep-1"), native_item("keep-2")])
    subprocess.run(
        [sys.executable, "-m", "reviewdesk", "import", str(path), str(small)], check=True
    )
    big = tmp_path / "big.jsonl"
    filler = "All hands: check the dashboards, then roll back the last deploy. " * 30
    with big.open("w", encoding="utf-8") as fh:
        for n in range(60000):
            fh.write(json.dumps(native_item(f"big-{n}", text_a=filler + str(n))) + "\n")
    wal = path.with_name(path.name + "-wal")
    for _attempt in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "reviewdesk", "import", str(path), str(big)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if wal.exists() and wal.stat().st_size > 4_000_000:
                break
            time.sleep(0.02)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            break
        pytest.fail("the import finished before it could be interrupted; make the file larger")
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM item").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM import_batch").fetchone()[0] == 1
