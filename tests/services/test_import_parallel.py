"""Reading in a child process (io.parallel) gives exactly the in-process import, and cleans up.

The same sequence of imports (valid files spanning several batches, invalid records, duplicates
within a file, a re-import, conflicts, labels, ``skip_bad``, every format and auto-detection) runs
once with ``workers=0`` and once with ``workers=1`` into projects with the same fixed clock: the
reports, errors and rejects files must be equal, and so must every row of every table (timestamps
and the audit chain included, the clock being fixed). Then cancel, Ctrl+C, a killed child and a
killed parent: the project is unchanged and no process is left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.errors import CanceledError, InvalidInputError, UserError
from reviewdesk.domain.progress import CancelToken, run_to_completion
from reviewdesk.io import parallel
from reviewdesk.io.formats import Format, ReadOptions
from reviewdesk.io.parallel import ChildChunks, ReaderProcessError
from reviewdesk.services import importing
from reviewdesk.services.importing import ImportOptions, import_file
from reviewdesk.services.project import create_project, open_project
from tests.conftest import SHARED, native_item, write_jsonl

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
MT_BENCH = DATA / "mt_bench"
ALPACA = SHARED / "formats" / "alpaca_eval"

Step = tuple[Path, dict[str, Any]]


# ------------------------------------------------------------------------------------- files


def _judgments(n: int) -> list[dict[str, Any]]:
    """Every shape of judgment, varied by ``n`` (and some repeated contents, as in real files)."""
    verdicts = ["A", "B", "tie", "both_bad"]
    out: list[dict[str, Any]] = [
        {
            "judge": "llm-v3",
            "kind": "llm",
            "verdict": verdicts[n % 3],
            "order": "AB",
            "probability_b": round((n * 37 % 1000) / 1000, 3),
        },
        {"judge": "llm-v3", "kind": "llm", "verdict": verdicts[(n + 1) % 4], "order": "BA"},
        {"judge": "format", "kind": "code", "scores": {"A": n % 2, "B": (n // 2) % 2 + 0.5}},
    ]
    if n % 5 == 0:
        out.append(
            {
                "judge": "refusals",
                "kind": "code",
                "refusal": {"A": "full_compliance", "B": "partial_refusal"},
            }
        )
    if n % 7 == 0:
        out.append({"judge": "alt", "kind": "llm", "verdict": "B", "rationale": f"why {n}"})
    if n % 11 == 0:
        out.append({"judge": "alt", "kind": "llm", "verdict": "A", "order": "BA"})
    # In valid.jsonl each batch of new items meets one case of the general path: none in the
    # first (all columnar), then the same judge and order twice in a record (a duplicate or a
    # conflict), a judge with two kinds, a judge first seen in its batch with another kind.
    if 1000 <= n < 2000 and n % 97 == 1:
        out.append(dict(out[0]) | ({} if n % 2 else {"verdict": "B", "probability_b": 0.9}))
    if n == 1500:
        out.append({"judge": "late", "kind": "llm", "verdict": "A"})
    if n == 2100:
        out.append({"judge": "llm-v3", "kind": "code", "verdict": "A", "order": "unknown"})
    if n == 3500:
        out.append({"judge": "late", "kind": "code", "verdict": "B"})
    return out


def _labels(n: int) -> list[dict[str, Any]] | None:
    if n % 4:
        return None
    label: dict[str, Any] = {"reviewer": f"ext-{n % 3}", "choice": "B", "shown_left": "A"}
    if n % 8 == 0:
        label |= {"labeled_at": "2026-10-01T12:00:00Z", "dwell_ms": 1200 + n, "note": "ok"}
    if n % 12 == 0:
        label |= {"refusal": {"B": "full_refusal"}, "shown_left": None}
    return [label]


def _record(n: int, prefix: str = "it") -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if n % 9 == 0:
        extra["source_run"] = {"run": n, "tags": ["x", "ü"]}  # kept as metadata
    if n % 13 == 0:
        extra["expected_behavior"] = "refuse"
    if n % 17 == 0:
        extra["panel"] = "anchor"
    if n % 6 == 0:
        extra["subject_id"] = f"subject-{n % 10}"
    labels = _labels(n)
    if labels is not None:
        extra["labels"] = labels
    record = native_item(
        f"{prefix}-{n:05d}",
        judgments=_judgments(n) if n % 19 else None,
        slices={"category": ["ops", "billing", "triage"][n % 3], "language": "en"},
        text_a=f"Answer A to {n}: " + "roll back, then check the dashboards. " * (n % 5 + 1),
        **extra,
    )
    if n % 10 == 3:  # a conversation instead of a prompt
        del record["prompt"]
        record["messages"] = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": f"Question {n}?"},
        ]
    return record


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("parallel-files")
    valid = write_jsonl(d / "valid.jsonl", [_record(n) for n in range(3600)])
    # Overlaps valid.jsonl: same items (duplicates), changed content (item conflicts), other
    # judgments on stored items (judgment conflicts, new judgments: reasons recomputed), a judge
    # with another kind, new labels, and new items.
    changed = []
    for n in range(0, 2600, 3):
        record = _record(n)
        if n % 2:
            record["responses"]["B"]["text"] = "A different answer."
        elif record.get("judgments"):
            record["judgments"][0]["verdict"] = (
                "B" if record["judgments"][0]["verdict"] != "B" else "A"
            )
            record["judgments"].append({"judge": "late", "kind": "llm", "verdict": "A"})
            record["judgments"].append({"judge": "format", "kind": "llm", "verdict": "A"})
        record["labels"] = [{"reviewer": "ext-new", "choice": "tie"}]
        changed.append(record)
    changed += [_record(n, "new") for n in range(700)]
    conflicts = write_jsonl(d / "conflicts.jsonl", changed)

    lines = [json.dumps(_record(n, "bad")) for n in range(1500)]
    lines[5] = '{"item_id": "broken", "prompt": 3}'
    lines[1200] = "{not json"
    lines.insert(1300, json.dumps(_record(7, "bad")))  # a duplicate item_id within the file
    lines.append('{"item_id": "x", "responses": {"A": {"model": "m", "text": "t"}}}')
    bad = d / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    dups = write_jsonl(
        d / "dups.jsonl", [_record(n % 1200, "dup") for n in range(1500)]
    )  # 300 duplicate item ids, after a full batch
    empty = d / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    return {
        "valid": valid,
        "conflicts": conflicts,
        "bad": bad,
        "dups": dups,
        "empty": empty,
        "alpaca_plain": SHARED
        / "formats"
        / "alpaca_eval"
        / "cohere_alpaca_eval_gpt4_turbo_fn_first40.json",
        "alpaca_cot": SHARED
        / "formats"
        / "alpaca_eval"
        / "cohere_alpaca_eval_cot_gpt4_turbo_fn_first40.json",
        "alpaca_edge": DATA / "alpaca_eval" / "edge_preferences.json",
        "alpaca_bad": DATA / "bad" / "alpaca_missing_comma.json",
        "arena": DATA / "arena" / "battles.jsonl",
        "arena_array": DATA / "arena" / "battles.json",
        "arena_bad": DATA / "bad" / "arena_unknown_winner.jsonl",
        "mt_bench": MT_BENCH / "model_judgment" / "gpt-4_pair.jsonl",
    }


def _steps(files: dict[str, Path]) -> list[Step]:
    mt_options = ImportOptions(
        questions=MT_BENCH / "question.jsonl", answers=MT_BENCH / "model_answer"
    )
    return [
        (files["valid"], {}),
        (files["valid"], {}),  # re-import: all duplicates
        (files["conflicts"], {}),
        (files["bad"], {}),  # invalid: nothing imported, the problems listed
        (files["bad"], {"skip_bad": True}),
        (files["dups"], {"fmt": "native"}),
        (files["dups"], {"skip_bad": True}),
        (files["empty"], {"fmt": "native"}),
        (files["alpaca_plain"], {}),  # auto-detected
        (files["alpaca_cot"], {"fmt": "alpaca_eval"}),
        (files["alpaca_plain"], {"options": ImportOptions(judge="renamed")}),
        (files["alpaca_edge"], {}),  # skipped records: warnings
        (files["alpaca_bad"], {}),
        (files["alpaca_bad"], {"skip_bad": True}),
        (files["arena"], {}),
        (files["arena_array"], {"fmt": "arena", "options": ImportOptions(as_labels=True)}),
        (files["arena_bad"], {"skip_bad": True}),
        (files["mt_bench"], {"fmt": "mt_bench", "options": mt_options}),
        (files["valid"], {"fmt": "arena"}),  # every record invalid for this format
    ]


# ----------------------------------------------------------------------------------- helpers


def _outcome(path: Path, kwargs: dict[str, Any], project: Any, workers: int) -> dict[str, Any]:
    rejects = path.with_name(path.name + ".rejects.jsonl")
    rejects.unlink(missing_ok=True)
    try:
        report = run_to_completion(import_file(project, path, workers=workers, **kwargs))
    except InvalidInputError as exc:
        result: dict[str, Any] = {
            "error": type(exc).__name__,
            "message": str(exc),
            "problems": [str(p) for p in exc.problems],
            "total": exc.total,
        }
    except Exception as exc:  # noqa: BLE001 - UserError or not, both ways must agree
        result = {"error": type(exc).__name__, "message": str(exc)}
    else:
        result = {"report": report.to_json()}
    if rejects.exists():
        result["rejects"] = rejects.read_text(encoding="utf-8")
        rejects.unlink()
    assert not path.with_name(path.name + ".rejects.jsonl.partial").exists()
    return result


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in rowid order."""
    with sqlite3.connect(path) as con:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}


def _run(steps: list[Step], project_path: Path, workers: int) -> tuple[list[Any], Any]:
    project = open_project(project_path, clock=FixedClock())
    try:
        outcomes = [_outcome(path, kwargs, project, workers) for path, kwargs in steps]
    finally:
        project.close()
    return outcomes, dump(project_path)


def _helper(proc: psutil.Process) -> bool:
    """multiprocessing's resource tracker: one per process that ever used ``spawn``; it exits
    with that process."""
    try:
        return "resource_tracker" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def readers(parent: psutil.Process | None = None) -> list[psutil.Process]:
    """The child processes of ``parent`` (this one) other than the resource tracker."""
    parent = parent or psutil.Process()
    return [p for p in parent.children(recursive=True) if not _helper(p)]


def _shared_memory() -> set[str]:
    """The shared-memory segments of multiprocessing (Linux lists them in /dev/shm)."""
    shm = Path("/dev/shm")
    return {p.name for p in shm.glob("psm_*")} if shm.is_dir() else set()


@pytest.fixture
def no_leftovers() -> Iterator[None]:
    """After the test, this process has no child but the ones it had (zombies included), and
    no shared-memory segment is left."""
    before = {p.pid for p in readers()}
    segments = _shared_memory()
    yield
    left = [p for p in readers() if p.pid not in before]
    assert not left, [(p.pid, p.status()) for p in left]
    assert _shared_memory() <= segments


def _big_file(path: Path, n: int = 6000) -> Path:
    return write_jsonl(path, [_record(i, "big") for i in range(n)])


def _counts(path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as con:
        return (
            con.execute("SELECT count(*) FROM item").fetchone()[0],
            con.execute("SELECT count(*) FROM import_batch").fetchone()[0],
            con.execute("SELECT count(*) FROM audit_record").fetchone()[0],
        )


# --------------------------------------------------------------------------------- the tests


@pytest.mark.slow
def test_child_and_in_process_imports_are_identical(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_leftovers: None
) -> None:
    steps = _steps(files)
    # One new project, copied: all start with the same project id, so even the audit chain
    # (which hashes it) must come out the same.
    initial = tmp_path / "initial.reviewdesk"
    create_project(initial, seed=1, clock=FixedClock()).close()
    for name in ("in", "child", "general"):
        shutil.copyfile(initial, tmp_path / f"{name}.reviewdesk")
    in_process, rows_in = _run(steps, tmp_path / "in.reviewdesk", workers=0)
    in_child, rows_child = _run(steps, tmp_path / "child.reviewdesk", workers=1)
    # And without the columnar path for batches of new items: it must change nothing either.
    monkeypatch.setattr(importing._Importer, "columnar", False)
    general, rows_general = _run(steps, tmp_path / "general.reviewdesk", workers=0)
    for step, a, b, c in zip(steps, in_process, in_child, general, strict=True):
        assert a == b, step
        assert a == c, step
    assert rows_in.keys() == rows_child.keys() == rows_general.keys()
    for table in rows_in:
        assert rows_in[table] == rows_child[table], table
        assert rows_in[table] == rows_general[table], table
    # The sequence exercised what it is meant to (so equality is not vacuous).
    reports = [o.get("report", {}) for o in in_process]
    assert reports[0]["items_added"] == 3600
    assert reports[0]["labels_added"] > 0
    assert reports[0]["judgments_duplicate"] > 0
    assert reports[0]["judgments_conflicting"] > 0
    kinds = [c for c in reports[0]["conflicts"] if "is stored as kind 'llm'" in c]
    assert [c.split("judge ")[1].split(" ")[0] for c in kinds] == ["'llm-v3'", "'late'"]
    assert reports[1]["judgments_duplicate"] > 0
    assert reports[2]["judgments_conflicting"] > 0
    assert reports[2]["conflicts"]
    assert reports[2]["labels_added"] > 0
    assert in_process[3]["error"] == "InvalidInputError"
    assert in_process[3]["problems"][0].startswith(f"{files['bad']}:6: ")
    assert reports[4]["rejected"] == 4
    assert "rejects" in in_process[4]
    assert "duplicate item_id" in in_process[5]["message"]
    assert reports[6]["rejected"] == 300
    assert reports[11]["warnings"]
    assert reports[15]["labels_added"] > 0
    assert reports[17]["judgments_added"] > 0
    with sqlite3.connect(tmp_path / "in.reviewdesk") as con:  # reasons recomputed after import
        assert con.execute("SELECT count(*) FROM item WHERE reasons = -1").fetchone()[0] == 0


@pytest.mark.parametrize("slots", ["small", "none"])
def test_chunks_too_large_for_a_slot_or_without_shared_memory_go_through_the_pipe(
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_leftovers: None,
    slots: str,
) -> None:
    steps = [(files["valid"], {}), (files["conflicts"], {})]
    initial = tmp_path / "initial.reviewdesk"
    create_project(initial, seed=1, clock=FixedClock()).close()
    for name in ("in", "child"):
        shutil.copyfile(initial, tmp_path / f"{name}.reviewdesk")
    expected = _run(steps, tmp_path / "in.reviewdesk", workers=0)
    create = parallel._create_slots
    if slots == "small":  # full batches overflow them (pipe), the last ones fit
        monkeypatch.setattr(parallel, "_create_slots", lambda: create(400 * 1024))
    else:
        monkeypatch.setattr(parallel, "_create_slots", lambda: [])
    assert _run(steps, tmp_path / "child.reviewdesk", workers=1) == expected


def test_content_ids_repeated_across_batches_into_an_empty_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_leftovers: None
) -> None:
    """Items without item_id are keyed by content, and may repeat: within the first batch (not
    stored yet, but not new twice) and in a later batch (stored: the lookup a first import skips
    for keys new in the file must happen)."""
    order = [*range(900), *range(100), *range(900, 1300), *range(100, 400)]
    records = [_record(n, "anon") for n in order]
    for record in records:
        del record["item_id"]
    data = write_jsonl(tmp_path / "anon.jsonl", records)
    initial = tmp_path / "initial.reviewdesk"
    create_project(initial, seed=1, clock=FixedClock()).close()
    results = []
    for name, workers, columnar in (("in", 0, True), ("child", 1, True), ("general", 0, False)):
        monkeypatch.setattr(importing._Importer, "columnar", columnar)
        shutil.copyfile(initial, tmp_path / f"{name}.reviewdesk")
        results.append(_run([(data, {})], tmp_path / f"{name}.reviewdesk", workers))
    assert results[0] == results[1] == results[2]
    report = results[0][0][0]["report"]
    assert (report["items_added"], report["items_existing"]) == (1300, 400)


def test_an_exception_that_cannot_be_pickled_arrives_as_its_traceback() -> None:
    class LocalError(Exception):  # a local class cannot be pickled
        pass

    try:
        raise LocalError("boom")
    except LocalError as exc:
        tag, payload = parallel._error_message(exc)
    assert tag == parallel._CRASH
    assert "LocalError: boom" in payload
    tag, payload = parallel._error_message(UserError("plain"))
    assert tag == parallel._ERROR
    assert isinstance(payload, UserError)
    assert str(payload) == "plain"


def test_workers_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    big = importing.PARALLEL_MIN_BYTES
    monkeypatch.delenv(importing.WORKERS_ENV, raising=False)
    assert not importing._read_in_child(big - 1, None)
    assert importing._read_in_child(1, 1)
    assert not importing._read_in_child(big * 10, 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert not importing._read_in_child(big, None)  # one core: no child
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert importing._read_in_child(big, None)
    monkeypatch.setenv(importing.WORKERS_ENV, "0")
    assert not importing._read_in_child(big, None)
    monkeypatch.setenv(importing.WORKERS_ENV, "1")
    assert importing._read_in_child(1, None)
    monkeypatch.setenv(importing.WORKERS_ENV, "2")
    assert importing._read_in_child(1, None)
    monkeypatch.setenv(importing.WORKERS_ENV, "two")
    with pytest.raises(UserError, match=importing.WORKERS_ENV):
        importing._read_in_child(1, None)


def test_environment_variable_forces_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_leftovers: None
) -> None:
    started: list[int | None] = []
    original = ChildChunks.__init__

    def spy(self: ChildChunks, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        started.append(self.pid)

    monkeypatch.setattr(ChildChunks, "__init__", spy)
    monkeypatch.setenv(importing.WORKERS_ENV, "1")
    data = write_jsonl(tmp_path / "small.jsonl", [native_item("a"), native_item("b")])
    project = create_project(tmp_path / "p.reviewdesk", seed=1)
    try:
        report = run_to_completion(import_file(project, data))
    finally:
        project.close()
    assert report.items_added == 2
    assert len(started) == 1
    assert started[0] is not None


def test_cancel_stops_the_child_and_rolls_back(tmp_path: Path, no_leftovers: None) -> None:
    data = _big_file(tmp_path / "big.jsonl")
    path = tmp_path / "p.reviewdesk"
    project = create_project(path, seed=1)
    before = _counts(path)
    token = CancelToken()
    job = import_file(project, data, cancel=token, workers=1)
    try:
        next(job)  # the child runs
        assert len(readers()) == 1
        next(job)  # one batch stored
        token.cancel()
        with pytest.raises(CanceledError):
            run_to_completion(job)
    finally:
        project.close()
    assert _counts(path) == before


def test_cancel_while_waiting_for_the_child(tmp_path: Path, no_leftovers: None) -> None:
    """The cancel flag is checked while the parent waits for a chunk, not only between them."""
    data = _big_file(tmp_path / "big.jsonl", 3000)
    token = CancelToken()
    token.cancel()
    chunks = ChildChunks(
        data, Format.NATIVE, ReadOptions(), skip_bad=False, low_margin=0.1, check=token.check
    )
    with chunks, pytest.raises(CanceledError):
        for _chunk in chunks:
            pass


def test_a_killed_child_is_a_user_error_and_changes_nothing(
    tmp_path: Path, no_leftovers: None
) -> None:
    data = _big_file(tmp_path / "big.jsonl")
    path = tmp_path / "p.reviewdesk"
    project = create_project(path, seed=1)
    before = _counts(path)
    job = import_file(project, data, workers=1)
    try:
        next(job)  # the child runs; it blocks once the pipe is full, as nobody reads
        (child,) = readers()
        child.send_signal(signal.SIGKILL)
        with pytest.raises(ReaderProcessError) as info:
            run_to_completion(job)
    finally:
        project.close()
    assert str(data) in str(info.value)
    assert "killed by SIGKILL" in str(info.value)
    assert "nothing was imported" in str(info.value)
    assert isinstance(info.value, UserError)
    assert _counts(path) == before
    assert not psutil.pid_exists(child.pid)  # reaped, not a zombie


def test_an_error_in_the_child_is_raised_in_the_parent(tmp_path: Path, no_leftovers: None) -> None:
    """A ``UserError`` of the reader (here: MT-Bench without its side files) arrives as is."""
    data = write_jsonl(tmp_path / "j.jsonl", [native_item("a")])
    chunks = ChildChunks(data, Format.MT_BENCH, ReadOptions(), skip_bad=False, low_margin=0.1)
    with chunks, pytest.raises(UserError, match="MT-Bench judgments hold no texts"):
        list(chunks)


def test_an_unguarded_script_can_import_in_a_child(tmp_path: Path) -> None:
    """``spawn`` would re-run the caller's main module in the child; the child must not."""
    data = write_jsonl(tmp_path / "d.jsonl", [native_item("a")])
    marker = tmp_path / "runs.txt"
    script = tmp_path / "script.py"
    script.write_text(
        "from pathlib import Path\n"
        "from reviewdesk.domain.progress import run_to_completion\n"
        "from reviewdesk.services.importing import import_file\n"
        "from reviewdesk.services.project import create_project, open_project\n"
        f"with Path({str(marker)!r}).open('a') as f:\n"
        "    f.write('run\\n')\n"
        f"project = create_project(Path({str(tmp_path / 'p.reviewdesk')!r}), seed=1)\n"
        f"report = run_to_completion(import_file(project, Path({str(data)!r}), workers=1))\n"
        "project.close()\n"
        "assert report.items_added == 1, report\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "run\n"


def test_the_child_imports_no_storage_numpy_or_qt() -> None:
    """What the child imports: the io layer and the domain (plus spawn's own modules)."""
    probe = (
        "import sys\n"
        "import reviewdesk.io.parallel\n"
        "heavy = {'sqlalchemy', 'numpy', 'PySide6', 'pyqtgraph', 'alembic', 'rich'}\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "assert not heavy & loaded, heavy & loaded\n"
        "ours = {m.split('.')[1] for m in sys.modules if m.startswith('reviewdesk.')}\n"
        "assert ours <= {'io', 'domain'}, ours\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


def _cli_import(project: Path, data: Path) -> psutil.Popen:
    init = [sys.executable, "-m", "reviewdesk", "init", str(project)]
    subprocess.run(init, check=True, stdout=subprocess.DEVNULL)
    env = os.environ | {importing.WORKERS_ENV: "1"}
    return psutil.Popen(
        [sys.executable, "-m", "reviewdesk", "import", str(project), str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group, like a command in a terminal
    )


def _wait_for_reader(cli: psutil.Popen) -> psutil.Process:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = readers(cli)
        if found:
            return found[0]
        assert cli.poll() is None, "the import ended before its reader could be seen"
        time.sleep(0.01)
    raise AssertionError("no reader process appeared")


@pytest.mark.slow
def test_ctrl_c_in_the_cli_stops_the_child(tmp_path: Path) -> None:
    data = _big_file(tmp_path / "big.jsonl", 20_000)
    project = tmp_path / "p.reviewdesk"
    cli = _cli_import(project, data)
    child = _wait_for_reader(cli)
    time.sleep(0.3)  # well into the import
    os.killpg(cli.pid, signal.SIGINT)  # what the terminal does: the whole group gets it
    _out, err = cli.communicate(timeout=60)
    assert cli.returncode == 130, err
    assert b"interrupted; nothing was changed" in err
    assert b"Traceback" not in err  # the child ignores SIGINT: no traceback of its own
    assert not psutil.pid_exists(child.pid)  # the CLI stopped and reaped it
    with sqlite3.connect(project) as con:
        assert con.execute("SELECT count(*) FROM item").fetchone()[0] == 0


@pytest.mark.slow
def test_a_killed_parent_leaves_no_reader_running(tmp_path: Path) -> None:
    data = _big_file(tmp_path / "big.jsonl", 20_000)
    cli = _cli_import(tmp_path / "p.reviewdesk", data)
    child = _wait_for_reader(cli)
    cli.send_signal(signal.SIGKILL)
    cli.communicate(timeout=30)
    # The orphan gets EPIPE on its next send and exits. Its new parent (init) reaps it; a
    # container's PID 1 may not, so a zombie counts as exited here.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the reader process outlived its parent")
