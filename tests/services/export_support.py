"""Builders shared by the export, audit, erasure and adjudication tests.

``scenario_records`` holds one item per rule of the preference export, named after what it tests,
so a test can say which items must become pairs and which must be dropped for which reason.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.model import ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import Project, create_project, open_project
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import ensure_reviewer, fetch_pairs, record_label, undo_last
from tests.conftest import native_item, write_jsonl


def label(reviewer: str, choice: str, **extra: Any) -> dict[str, Any]:
    return {"reviewer": reviewer, "choice": choice, **extra}


def llm(judge: str, verdict: str, order: str | None = None, **extra: Any) -> dict[str, Any]:
    j: dict[str, Any] = {"judge": judge, "kind": "llm", "verdict": verdict, **extra}
    if order is not None:
        j["order"] = order
    return j


def chat_item(key: str, messages: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    record = native_item(key, **extra)
    del record["prompt"]
    record["messages"] = messages
    return record


SPLIT = [llm("j1", "A", rationale="j1 liked A"), llm("j2", "B")]


def scenario_records() -> list[dict[str, Any]]:
    """Items with imported labels, one per rule (the key says what is expected)."""
    t = "2026-10-01T10:00:00Z"
    return [
        native_item(
            "pair-a",
            judgments=SPLIT,
            labels=[
                label("ext-1", "A", shown_left="B", labeled_at=t, dwell_ms=8400),
                label("ext-2", "A", shown_left="A", labeled_at=t, dwell_ms=5100),
            ],
        ),
        native_item("pair-b", judgments=SPLIT, labels=[label("ext-1", "B"), label("ext-2", "B")]),
        native_item("conflict", judgments=SPLIT, labels=[label("ext-1", "A"), label("ext-2", "B")]),
        native_item("ties", judgments=SPLIT, labels=[label("ext-1", "tie"), label("ext-2", "tie")]),
        native_item("both-bad", judgments=SPLIT, labels=[label("ext-1", "both_bad")]),
        native_item(
            "a-and-tie", judgments=SPLIT, labels=[label("ext-1", "A"), label("ext-2", "tie")]
        ),
        native_item("llm-a", judgments=[llm("j1", "A"), llm("j2", "A", order="AB")]),
        native_item("llm-split", judgments=SPLIT),
        native_item("llm-flip", judgments=[llm("j1", "A", order="AB"), llm("j1", "B", order="BA")]),
        native_item(
            "code-only", judgments=[{"judge": "fmt", "kind": "code", "scores": {"A": 1, "B": 0}}]
        ),
        chat_item(
            "chat-one",
            [{"role": "user", "content": "Single user turn?"}],
            judgments=SPLIT,
            labels=[label("ext-1", "B")],
        ),
        chat_item(
            "chat-multi",
            [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "First question"},
                {"role": "assistant", "content": "First answer"},
                {"role": "user", "content": "Follow-up?"},
            ],
            judgments=SPLIT,
            labels=[label("ext-1", "A")],
        ),
        chat_item(
            "chat-ends-assistant",
            [
                {"role": "user", "content": "Start"},
                {"role": "assistant", "content": "Partial"},
            ],
            judgments=SPLIT,
            labels=[label("ext-1", "A")],
        ),
    ]


def build(
    path: Path,
    tmp: Path,
    records: list[dict[str, Any]] | None = None,
    clock: FixedClock | None = None,
) -> Project:
    project = create_project(path, seed=1234, clock=clock or FixedClock())
    data = write_jsonl(tmp / f"{path.stem}-items.jsonl", records or scenario_records())
    run_to_completion(import_file(project, data))
    return project


def label_in_app(project: Project, reviewer: str, choices: list[ScreenChoice]) -> None:
    """The reviewer answers their next pairs with these screen choices, in serving order."""
    ensure_reviewer(project, reviewer)
    pairs, _ = fetch_pairs(project, reviewer, len(choices))
    for pair, choice in zip(pairs, choices, strict=False):
        record_label(project, reviewer, pair.handle, choice, note=f"note by {reviewer}")


def in_app_project(path: Path, tmp: Path, clock: FixedClock | None = None) -> Project:
    """Six contested items labeled in the app by two reviewers, one label undone."""
    records = [native_item(f"q{n}", judgments=SPLIT, subject_id=f"s{n % 2}") for n in range(6)]
    project = build(path, tmp, records, clock)
    build_queue(project, overlap=2)
    label_in_app(project, "rev-1", [ScreenChoice.LEFT] * 6)
    label_in_app(project, "rev-2", [ScreenChoice.RIGHT, ScreenChoice.TIE] * 3)
    assert undo_last(project, "rev-2").undone
    return project


def copy_project(src: Path, dst: Path) -> Path:
    """A consistent copy of a closed project file (the WAL is folded in first)."""
    with sqlite3.connect(src) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copyfile(src, dst)
    return dst


def reopen(path: Path) -> Project:
    return open_project(path, clock=FixedClock())


def tamper(path: Path, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Change a project as an attacker holding the file would: triggers dropped first."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA foreign_keys = OFF")
        for trigger in (
            "label_event_no_delete",
            "label_event_no_update",
            "audit_record_no_delete",
            "audit_record_no_update",
        ):
            con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in statements:
            con.execute(statement, params if "?" in statement else ())
        con.commit()
    finally:
        con.close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
