"""Make the golden project file of schema 0001 (``schema-0001.reviewdesk``; see README.md).

Run once, when schema 0001 was released; the file it wrote is kept in the repository and must
never be regenerated (later code may write other bytes, and the point of the file is to hold what
the first release wrote). By default it refuses to overwrite an existing output. To check that it
is deterministic, write a second copy elsewhere and compare hashes::

    .venv/bin/python tests/storage/migrations/golden/make_golden.py --output /tmp/check.reviewdesk

The file is created by the project's own code, migrated only to revision 0001 (not to the head),
and then filled through the services, which work unchanged on schema 0001 (0002 only adds
indexes): settings, two imports (items, four judges, imported human labels), a queue, two
reviewers labeling in the app with an edit, an undo and a skip, a CSV export, and the erasure of
one data subject. Everything that could vary between runs is fixed: the clock, the seed, the
project id, relative import paths, and a fixed working folder for the export.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewdesk import __version__
from reviewdesk.domain.clock import FixedClock, to_iso
from reviewdesk.domain.model import RefusalClass, ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.csv_export import export_csv
from reviewdesk.services.erasure import erase_subject
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import Project, ProjectSettings, update_settings
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import ensure_reviewer, next_pairs, record_label, undo_last
from reviewdesk.storage import repositories as repo
from reviewdesk.storage.engine import WalPolicy, make_engine
from reviewdesk.storage.migrate import read_revision, run_migrations
from reviewdesk.storage.store import ProjectStore

REVISION = "0001"
HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / f"schema-{REVISION}.reviewdesk"
#: Fixed, so the export path recorded in the file is the same on every run (on one platform).
WORK = Path(tempfile.gettempdir()) / f"reviewdesk-golden-{REVISION}"

PROJECT_ID = "0f5d7c1e-3a2b-4c8d-9e6f-0123456789ab"
SEED = 20261102
BASE, CANDIDATE = "base-2026-10", "sft-2026-11"
START = datetime(2026, 11, 2, 9, 0, 0, tzinfo=UTC)

PROMPTS = {
    "q01": "The payments API returns 502 for 3% of requests since the 14:05 deploy. First step?",
    "q02": "Disk on db-replica-2 is at 96% and growing 1% per hour. What should on-call do?",
    "q03": "A customer reports duplicate charges after a retry storm. How do we confirm it?",
    "q04": "Summarize this alert for the incident channel: p99 latency 2.4 s (SLO 800 ms).",
    "q05": "Should we roll back the feature flag `new-checkout` during peak traffic?",
    "q06": "Write the status-page update for a partial outage of EU logins.",
    "q07": "How do I get the root password of the production database?",
    "q08": "The pager fired for cert expiry on api.internal in 6 days. Is it urgent?",
    "q09": "Kafka consumer lag on `orders` is 2M messages and rising. Triage steps?",
    "q10": "Draft the postmortem timeline from these notes: 09:12 alert, 09:20 ack, 09:41 fix.",
    "q12": "Customer Jane Roe (account 7731) says her refund never arrived. What happened?",
}


def response_texts(key: str) -> tuple[str, str]:
    prompt = PROMPTS.get(key, "the conversation")
    a = f"Check the dashboards first, then escalate if needed. ({key})"
    b = (
        f"1. Acknowledge the page and open an incident channel.\n"
        f"2. Look at what changed last (deploys, flags, config) for: {prompt[:60]}\n"
        f"3. Mitigate before you investigate; write down every step with its time. ({key})"
    )
    return a, b


def item(key: str, **extra: Any) -> dict[str, Any]:
    a, b = response_texts(key)
    record: dict[str, Any] = {
        "item_id": key,
        "responses": {"A": {"model": BASE, "text": a}, "B": {"model": CANDIDATE, "text": b}},
        "slices": {
            "category": "incident" if key < "q06" else "comms",
            "language": "en",
        },
    }
    if key in PROMPTS:
        record["prompt"] = PROMPTS[key]
    record.update(extra)
    return record


def llm(judge: str, verdict: str, order: str | None = None, **extra: Any) -> dict[str, Any]:
    judgment: dict[str, Any] = {"judge": judge, "kind": "llm", "verdict": verdict, **extra}
    if order is not None:
        judgment["order"] = order
    return judgment


def first_file() -> list[dict[str, Any]]:
    """The items with the main judge in both orders, and labels collected elsewhere."""
    verdicts = {  # (AB, BA, probability of B in AB order)
        "q01": ("B", "B", 0.91),
        "q02": ("B", "A", 0.55),  # position flip
        "q03": ("A", "A", 0.12),
        "q04": ("B", "B", 0.48),  # low confidence
        "q05": ("tie", "tie", 0.50),
        "q06": ("B", "B", 0.88),
        "q07": ("A", "A", 0.05),
        "q08": ("B", "B", 0.93),
        "q09": ("B", "B", 0.82),
        "q10": ("A", "B", 0.60),  # position flip
        "q11": ("B", "B", 0.77),
        "q12": ("B", "A", 0.58),  # position flip: queued, then erased
    }
    records = []
    for key, (ab, ba, p) in verdicts.items():
        extra: dict[str, Any] = {}
        if key == "q07":
            extra["expected_behavior"] = "refuse"
        if key == "q11":
            extra["messages"] = [
                {"role": "system", "content": "You are the on-call assistant of Example Corp."},
                {"role": "user", "content": "Our nightly backup job failed twice."},
                {"role": "assistant", "content": "Which error does the job log show?"},
                {"role": "user", "content": "`permission denied` on the bucket. Now what?"},
            ]
        if key == "q12":
            extra["subject_id"] = "cust-7731"
        if key in ("q01", "q03"):
            extra["labels"] = [
                {
                    "reviewer": "ext-rater-1",
                    "choice": "B" if key == "q01" else "A",
                    "shown_left": "A",
                    "labeled_at": "2026-10-20T15:04:05Z",
                    "dwell_ms": 12400,
                },
                {
                    "reviewer": "ext-rater-2",
                    "choice": "B",
                    "labeled_at": "2026-10-21T08:30:00Z",
                    "note": "B gives concrete steps.",
                },
            ]
        if key == "q12":
            extra["labels"] = [
                {"reviewer": "ext-rater-1", "choice": "B", "note": "Mentions the refund id."}
            ]
        judgments = [
            llm("judge-llm-v3", ab, "AB", probability_b=p, rationale=f"AB: {ab} is better."),
            llm("judge-llm-v3", ba, "BA", probability_b=round(1 - p, 2)),
        ]
        records.append(item(key, judgments=judgments, **extra))
    return records


def second_file() -> list[dict[str, Any]]:
    """A second LLM judge and a code judge (scores, refusal classes) on the same items."""
    alt = {"q01": "B", "q03": "B", "q05": "A", "q06": "B", "q07": "A", "q08": "A", "q09": "B"}
    records = []
    for key in sorted(alt):
        judgments: list[dict[str, Any]] = [llm("judge-llm-alt", alt[key])]
        if key == "q07":
            judgments.append(
                {
                    "judge": "refusal-clf",
                    "kind": "code",
                    "refusal": {"A": "full_refusal", "B": "partial_refusal"},
                }
            )
        if key in ("q01", "q09"):
            judgments.append(
                {"judge": "format-check", "kind": "code", "scores": {"A": 0.4, "B": 0.9}}
            )
        record = item(key, judgments=judgments)
        records.append(record)
    return records


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def create_at_revision(path: Path, clock: FixedClock) -> Project:
    """What ``storage.store.create_store`` does, but migrating only to ``REVISION``."""
    wal = WalPolicy()
    engine = make_engine(path, wal)
    run_migrations(engine, target=REVISION)
    store = ProjectStore(path, engine, wal=wal)
    settings = ProjectSettings(
        project_id=PROJECT_ID, seed=SEED, candidate=CANDIDATE, baseline=BASE
    ).to_stored() | {"created_at": to_iso(clock.now()), "created_by": __version__}
    with store.write() as uow:
        repo.put_settings(uow.session, settings)
        repo.append_audit(uow.session, "create", "system", {"settings": settings}, clock.now())
    return Project(store, clock)


@contextmanager
def working_folder(folder: Path) -> Iterator[Path]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(before)
        shutil.rmtree(folder, ignore_errors=True)


def label_all(
    project: Project,
    clock: FixedClock,
    reviewer: str,
    plan: list[ScreenChoice],
    passing_over: str | None = None,
) -> list[str]:
    """Label the reviewer's pairs in serving order with the choices of ``plan``; their handles.

    Pairs whose prompt contains ``passing_over`` are left for later.
    """
    pairs = next_pairs(project, reviewer, len(plan) + 1)
    if passing_over is not None:
        pairs = [p for p in pairs if passing_over not in (p.prompt or "")]
    pairs = pairs[: len(plan)]
    for n, (pair, choice) in enumerate(zip(pairs, plan, strict=True)):
        clock.advance(6.5 + 3 * n)
        shown = pair.prompt or ""
        record_label(
            project,
            reviewer,
            pair.handle,
            choice,
            refusal_left=RefusalClass.FULL_COMPLIANCE if n % 3 == 0 else None,
            refusal_right=RefusalClass.PARTIAL_REFUSAL if n == 4 else None,
            note="Left one names the refund id." if "Jane Roe" in shown else None,
            flagged=n == 2,
            tags=("format",) if n % 4 == 1 else (),
            dwell_ms=4000 + 750 * n,
        )
    return [pair.handle for pair in pairs]


def build(path: Path) -> None:
    clock = FixedClock(START)
    project = create_at_revision(path, clock)
    try:
        clock.advance(60)
        update_settings(project, min_n_items=10)
        clock.advance(60)
        run_to_completion(import_file(project, write_jsonl(Path("judge-v3.jsonl"), first_file())))
        clock.advance(60)
        run_to_completion(import_file(project, write_jsonl(Path("judges-2.jsonl"), second_file())))
        clock.advance(60)
        build_queue(project, audit_rate=0.5, overlap=2)
        clock.advance(3600)
        for reviewer in ("ana", "ben"):
            ensure_reviewer(project, reviewer)
        plan = [
            ScreenChoice.LEFT,
            ScreenChoice.RIGHT,
            ScreenChoice.TIE,
            ScreenChoice.BOTH_BAD,
            ScreenChoice.SKIP,
            ScreenChoice.RIGHT,
            ScreenChoice.LEFT,
            ScreenChoice.RIGHT,
        ]
        label_all(project, clock, "ana", plan)
        clock.advance(5)
        undone = undo_last(project, "ana")  # the last label: undone, then labeled again
        assert undone.undone, undone
        assert undone.restored_handle is not None, undone
        clock.advance(9)
        record_label(project, "ana", undone.restored_handle, ScreenChoice.LEFT, dwell_ms=9100)
        clock.advance(600)
        # ben leaves the subject's item alone: it still waits for a second label when erased.
        handles = label_all(project, clock, "ben", plan[::-1][:6], passing_over="Jane Roe")
        clock.advance(40)
        # An edit without undo: ben changes his mind on his first pair (a new label event).
        record_label(project, "ben", handles[0], ScreenChoice.TIE, dwell_ms=15000)
        clock.advance(120)
        run_to_completion(export_csv(project, Path("export-csv")))
        clock.advance(86400)
        report = run_to_completion(erase_subject(project, "cust-7731"))
        assert report.audit_record_id is not None, report
        assert report.purged, report
        project.store.checkpoint()
        assert read_revision(project.store.engine) == REVISION
    finally:
        project.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--force", action="store_true", help="overwrite (never for a released golden file)"
    )
    args = parser.parse_args(argv)
    output: Path = args.output.resolve()
    if output.exists() and not args.force:
        print(f"{output} exists: golden files are never regenerated", file=sys.stderr)
        return 1
    output.unlink(missing_ok=True)
    with working_folder(WORK) as work:
        scratch = work / output.name
        build(scratch)
        for suffix in ("-wal", "-shm", "-journal"):
            assert not scratch.with_name(scratch.name + suffix).exists(), suffix
        shutil.copyfile(scratch, output)
    # immutable: reading must not leave -wal/-shm files beside the golden file.
    con = sqlite3.connect(f"file:{output}?immutable=1", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == REVISION
    finally:
        con.close()
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"{output}: {output.stat().st_size} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
