"""Schema evolution (SPEC §9): every later version opens the first released schema's file.

``migrations/golden/schema-0001.reviewdesk`` was written by the first released schema (see the
README beside it). The tests open copies of it with the current code: it is backed up, then
upgraded to the head in one transaction, keeps every row, verifies, and takes new labels. A
migration killed at a random moment leaves the file either untouched at 0001 or complete at the
head, never in between. A file from a newer schema is refused and left alone. The golden file
itself is only ever copied: its SHA-256 is checked around every test.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.errors import ProjectReadOnlyError, ProjectTooNewError
from reviewdesk.domain.model import ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.audit import verify_audit
from reviewdesk.services.project import create_project, open_project
from reviewdesk.services.review import (
    answer_token,
    ensure_reviewer,
    fetch_pairs,
    record_label,
    review_progress,
    serve_next,
    undo_last,
)
from reviewdesk.storage.engine import make_engine
from reviewdesk.storage.migrate import HEAD, run_migrations, schema_objects
from tests.e2e.cli.conftest import run_cli
from tests.e2e.cli.read_only import read_only

REPO = Path(__file__).resolve().parents[2]
GOLDEN_DIR = Path(__file__).resolve().parent / "migrations" / "golden"
GOLDEN = GOLDEN_DIR / "schema-0001.reviewdesk"
GOLDEN_REVISION = "0001"
CHILD = [sys.executable, "-m", "tests.storage.migration_child"]

# What golden/README.md records about the file (checked against it below).
GOLDEN_SHA256 = "466b83749ac247056889640f4ed3c875cc0749d39204541119a9d34e3b9a7583"
AUDIT_HEAD = "abd7d8205e54bc15190194f8360af1034ef431c33ba02542c7df97ae100869dc"
AUDIT_RECORDS = 26
LABEL_EVENTS = 22
EXPECTED_STATUS: dict[str, Any] = {
    "items": 12,
    "judgments": 34,
    "judges": ["format-check", "judge-llm-alt", "judge-llm-v3", "refusal-clf"],
    "models": ["base-2026-10", "sft-2026-11"],
    "candidate": "sft-2026-11",
    "baseline": "base-2026-10",
    "contested": 7,
    "contested_by_reason": {
        "judge_split": 2,
        "position_flip": 3,
        "tie_split": 1,
        "low_confidence": 3,
    },
    "queue": {
        "total": 11,
        "by_reason": {"contested": 7, "audit": 4, "anchor": 0, "control": 0},
        "labels_needed": 22,
        "labels_done": 12,
    },
    "labels": {"human": 17, "in_app": 12, "imported": 5, "reviewers": 4},
    "reviewer_profiles": ["ana", "ben"],
    "settings": {"overlap": 2, "audit_rate": 0.5, "seed": 20261102},
}
#: Indexes added by revision 0002 (absent from the golden file, present after the upgrade).
INDEXES_0002 = {"ix_item_erased", "ix_label_current_reviewer_id"}

Rows = dict[str, list[tuple[Any, ...]]]
Schema = list[tuple[str, str, str]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def connect(path: Path) -> sqlite3.Connection:
    """A plain connection; the golden file itself is opened immutable (no -wal/-shm beside it)."""
    if path == GOLDEN:
        return sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    return sqlite3.connect(path)


def rows_of(path: Path) -> Rows:
    """Every row of every table but ``alembic_version``, in rowid order."""
    con = connect(path)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name"
            )
        ]
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
    finally:
        con.close()


def revision_and_integrity(path: Path) -> tuple[str, str]:
    con = connect(path)
    try:
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        return str(revision), str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def schema_of(path: Path) -> Schema:
    url = (
        f"sqlite+pysqlite:///file:{path}?immutable=1&uri=true"
        if path == GOLDEN
        else f"sqlite+pysqlite:///{path}"
    )
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return schema_objects(conn)
    finally:
        engine.dispose()


def copy_golden(folder: Path, name: str = "golden.reviewdesk") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(GOLDEN, target)
    return target


@pytest.fixture(autouse=True)
def golden_untouched() -> Iterator[None]:
    """The golden file in the repository is never modified, and nothing is written beside it."""
    listing = sorted(p.name for p in GOLDEN_DIR.iterdir())
    assert sha256(GOLDEN) == GOLDEN_SHA256
    yield
    assert sha256(GOLDEN) == GOLDEN_SHA256
    assert sorted(p.name for p in GOLDEN_DIR.iterdir()) == listing


@pytest.fixture(scope="module")
def golden_rows() -> Rows:
    return rows_of(GOLDEN)


@pytest.fixture(scope="module")
def golden_schema() -> Schema:
    return schema_of(GOLDEN)


@pytest.fixture(scope="module")
def head_schema(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    """The schema of a project created by this version."""
    path = tmp_path_factory.mktemp("fresh") / "fresh.reviewdesk"
    with create_project(path, seed=1) as project, project.store.engine.connect() as conn:
        return schema_objects(conn)


def index_names(schema: Schema) -> set[str]:
    return {name for kind, name, _ in schema if kind == "index"}


def test_golden_file_is_schema_0001_as_recorded(tmp_path: Path, golden_schema: Schema) -> None:
    assert revision_and_integrity(GOLDEN) == (GOLDEN_REVISION, "ok")
    # Exactly what revision 0001 creates: a file migrated only that far has the same schema.
    first = tmp_path / "first.reviewdesk"
    engine = make_engine(first)
    try:
        run_migrations(engine, target=GOLDEN_REVISION)
        with engine.connect() as conn:
            assert schema_objects(conn) == golden_schema
    finally:
        engine.dispose()
    assert not INDEXES_0002 & index_names(golden_schema)
    assert GOLDEN.stat().st_size < 400_000
    for suffix in ("-wal", "-shm", "-journal"):
        assert not GOLDEN.with_name(GOLDEN.name + suffix).exists()
    readme = (GOLDEN_DIR / "README.md").read_text(encoding="utf-8")
    for recorded in (GOLDEN_SHA256, AUDIT_HEAD, f"{LABEL_EVENTS} label events"):
        assert recorded in readme


def test_opening_backs_up_first_then_upgrades_to_head(
    tmp_path: Path, golden_rows: Rows, golden_schema: Schema, head_schema: Schema
) -> None:
    path = copy_golden(tmp_path)
    with open_project(path, clock=FixedClock()) as project:
        backup = project.migrated_backup
        with project.store.engine.connect() as conn:
            migrated_schema = schema_objects(conn)
    # The upgrade: the head revision, the schema of a new project, not one row changed.
    assert revision_and_integrity(path) == (HEAD, "ok")
    assert migrated_schema == head_schema
    assert index_names(migrated_schema) >= INDEXES_0002
    assert rows_of(path) == golden_rows
    # The backup, made before: a valid 0001 file holding the same content as the golden one.
    assert backup is not None
    assert backup.name == "golden.pre-migration-20261102T090000Z.reviewdesk.bak"
    assert revision_and_integrity(backup) == (GOLDEN_REVISION, "ok")
    assert schema_of(backup) == golden_schema
    assert rows_of(backup) == golden_rows
    # Opening again: nothing left to upgrade, so no second backup.
    with open_project(path, clock=FixedClock()) as project:
        assert project.migrated_backup is None
    assert sorted(p.name for p in tmp_path.glob("*.bak")) == [backup.name]


@pytest.mark.slow
def test_cli_upgrades_and_verifies_the_golden_file(tmp_path: Path) -> None:
    path = copy_golden(tmp_path)
    status = run_cli("status", path, "--json")
    assert status.err.startswith(f"reviewdesk: upgraded {path} to this version's schema; ")
    assert "backed up to" in status.err
    document = status.json()
    assert document["project"] == "golden"
    assert {key: document[key] for key in EXPECTED_STATUS} == EXPECTED_STATUS
    # The upgrade appends nothing to the audit chain, and the chain still verifies end to end.
    verify = run_cli("audit", "verify", path, "--anchor", AUDIT_HEAD, "--json")
    assert verify.err == ""
    report = verify.json()
    assert report["ok"] is True
    assert report["head_sha256"] == AUDIT_HEAD
    assert report["records"] == AUDIT_RECORDS
    assert report["label_events"] == LABEL_EVENTS
    assert report["erased_items"] == 1


def naive_progress(path: Path, reviewer: str) -> tuple[int, int]:
    """A reviewer's (done, remaining) by a plain join over the queue, without the 0002 indexes."""
    con = connect(path)
    try:
        row = con.execute("SELECT id FROM reviewer WHERE name = ?", (reviewer,)).fetchone()
        reviewer_id = row[0]
        done = con.execute(
            "SELECT count(*) FROM label_current WHERE reviewer_id = ? AND choice != 'skip'",
            (reviewer_id,),
        ).fetchone()[0]
        remaining = con.execute(
            "SELECT count(*) FROM queue_entry q JOIN item i ON i.id = q.item_id "
            "WHERE q.label_count < q.labels_needed AND i.erased_at IS NULL AND NOT EXISTS ("
            "SELECT 1 FROM label_current c WHERE c.entry_id = q.id AND c.reviewer_id = ? "
            "AND c.choice != 'skip')",
            (reviewer_id,),
        ).fetchone()[0]
        return int(done), int(remaining)
    finally:
        con.close()


def test_labeling_continues_after_the_upgrade(tmp_path: Path, golden_rows: Rows) -> None:
    path = copy_golden(tmp_path)
    clock = FixedClock()
    con = connect(GOLDEN)
    erased_waiting = con.execute(
        "SELECT count(*) FROM queue_entry q JOIN item i ON i.id = q.item_id "
        "WHERE i.erased_at IS NOT NULL AND q.label_count < q.labels_needed"
    ).fetchone()[0]
    con.close()
    assert erased_waiting == 1  # so the erased-items count (ix_item_erased) matters below
    with open_project(path, clock=clock) as project:
        # Progress through the new indexes agrees with the plain join.
        for reviewer in ("ana", "ben"):
            progress = review_progress(project, reviewer)
            assert (progress.done, progress.remaining) == naive_progress(GOLDEN, reviewer)
        before = review_progress(project, "ana")
        pairs, _ = fetch_pairs(project, "ana", 1)
        clock.advance(8)
        receipt = record_label(project, "ana", pairs[0].handle, ScreenChoice.RIGHT, dwell_ms=8000)
        assert (receipt.progress.done, receipt.progress.remaining) == (
            before.done + 1,
            before.remaining - 1,
        )
        ensure_reviewer(project, "cam")
        served = serve_next(project, "cam")
        assert served.token is not None
        clock.advance(5)
        answered = answer_token(project, "cam", served.token, ScreenChoice.LEFT)
        assert answered.progress.done == 1
        clock.advance(2)
        assert undo_last(project, "cam").undone
        report = run_to_completion(verify_audit(project, anchors=[AUDIT_HEAD]))
        assert report.ok, report.summary()
    after = rows_of(path)
    # Every label event of the golden file is still there, unchanged, followed by the new ones.
    assert after["label_event"][:LABEL_EVENTS] == golden_rows["label_event"]
    assert [row[1] for row in after["label_event"][LABEL_EVENTS:]] == ["label", "label", "retract"]
    assert after["audit_record"][:AUDIT_RECORDS] == golden_rows["audit_record"]


def test_newer_schema_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    path = copy_golden(tmp_path)
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    before = path.read_bytes()
    listing = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ProjectTooNewError) as refused:
        open_project(path, clock=FixedClock())
    message = str(refused.value)
    assert message == (
        f"{path}: this project was saved by a newer reviewdesk (schema 9999; this version "
        f"knows up to {HEAD}); update reviewdesk to open it"
    )
    cli = run_cli("status", path, check=1)
    assert cli.out == ""
    assert cli.err == f"reviewdesk: {message}\n"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no backup, no leftovers


def test_an_old_read_only_file_is_refused_without_leaving_a_backup(tmp_path: Path) -> None:
    """Opening needs an upgrade the file cannot take: a clear message, and no copy left behind."""
    path = copy_golden(tmp_path)
    before = path.read_bytes()
    listing = sorted(p.name for p in tmp_path.iterdir())
    with read_only(path):
        for _attempt in range(2):
            with pytest.raises(ProjectReadOnlyError) as refused:
                open_project(path, clock=FixedClock())
            assert str(path) in str(refused.value)
            assert "read-only" in str(refused.value)
            assert not list(tmp_path.glob("*.bak")), "a failed upgrade left a backup behind"
    assert path.read_bytes() == before
    leftovers = {p.name for p in tmp_path.iterdir()} - set(listing)
    assert leftovers <= {f"{path.name}-wal", f"{path.name}-shm"}


# ------------------------------------------------------------------ interrupted migration

TRIALS = 8


def run_child(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [*CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    if ready != "ready\n":
        _, err = proc.communicate(timeout=30)
        pytest.fail(f"the migration child did not start: {ready!r}\n{err}")
    return proc


@pytest.fixture(scope="module")
def migration_seconds(tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long one upgrade of the golden file takes in the child (backup, migrate, close)."""
    path = copy_golden(tmp_path_factory.mktemp("timing"))
    proc = run_child(path)
    assert proc.stdout is not None
    started = time.perf_counter()
    done = proc.stdout.readline()  # printed once the file is closed at the head revision
    elapsed = time.perf_counter() - started
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert done.startswith("done ")
    assert revision_and_integrity(path) == (HEAD, "ok")
    return elapsed


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_during_the_upgrade_leaves_0001_or_head(
    tmp_path: Path,
    trial: int,
    migration_seconds: float,
    golden_rows: Rows,
    golden_schema: Schema,
    head_schema: Schema,
) -> None:
    path = copy_golden(tmp_path)
    # Random moments spread over the whole measured run (one stratum per trial), a little past.
    span = 1.2 * migration_seconds
    delay = span * (trial + random.Random(20261102 + trial).random()) / TRIALS
    proc = run_child(path)
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, -signal.SIGKILL), err

    revision, integrity = revision_and_integrity(path)
    assert integrity == "ok"
    assert revision in (GOLDEN_REVISION, HEAD)
    assert rows_of(path) == golden_rows
    backups = sorted(tmp_path.glob("*.bak"))
    for backup in backups:  # a backup that exists is complete (written aside, then renamed)
        assert revision_and_integrity(backup) == (GOLDEN_REVISION, "ok")
        assert rows_of(backup) == golden_rows
    if revision == GOLDEN_REVISION:  # untouched: the schema of 0001, not half of 0002
        assert schema_of(path) == golden_schema
    else:  # complete, and so was the backup made before it
        assert schema_of(path) == head_schema
        assert len(backups) == 1
        assert revision_and_integrity(backups[0]) == (GOLDEN_REVISION, "ok")
        assert rows_of(backups[0]) == golden_rows

    # The current code opens it either way (upgrading now if it must) with every golden label.
    with open_project(path, clock=FixedClock()) as project:
        assert (project.migrated_backup is not None) == (revision == GOLDEN_REVISION)
    assert revision_and_integrity(path) == (HEAD, "ok")
    assert schema_of(path) == head_schema
    after = rows_of(path)
    assert after["label_event"] == golden_rows["label_event"]
    assert after["label_current"] == golden_rows["label_current"]
