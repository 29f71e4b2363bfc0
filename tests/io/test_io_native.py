"""The native format (SPEC §3.1), mapped field by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from reviewdesk.domain.hashing import content_item_id
from reviewdesk.domain.model import (
    ExpectedBehavior,
    JudgeKind,
    JudgmentRecord,
    LabelRecord,
    Message,
    Order,
    Panel,
    RefusalClass,
    ResponseRecord,
    Role,
    Slot,
    Verdict,
)
from reviewdesk.io import ReadOptions, Rejected
from tests.io.io_support import DATA, items, read_all


def test_spec_example_maps_every_field() -> None:
    first, second, third = items(read_all(DATA / "native" / "items.jsonl", "native"))

    assert first.item_id == "inc-0001"
    assert first.line == 1
    assert first.prompt is not None
    assert first.prompt.startswith("The pager fired at 03:12")
    assert first.messages is None
    assert first.responses[Slot.A] == ResponseRecord(
        "base-2026-10",
        "1. Acknowledge the page.\n2. Check the deploy log.\n"
        "```bash\nkubectl rollout history deploy/checkout-api\n```",
    )
    assert first.responses[Slot.B].model == "sft-2026-11"
    assert first.slices == {"category": "incident", "language": "en"}
    assert first.expected_behavior is ExpectedBehavior.ANSWER
    assert first.subject_id == "cust-4411"
    assert first.panel is None
    assert first.metadata == {}
    assert first.judgments == (
        JudgmentRecord(
            "judge-llm-v3",
            JudgeKind.LLM,
            Verdict.A,
            order=Order.AB,
            probability_b=0.31,
            rationale="A gives concrete first steps.",
        ),
        JudgmentRecord("judge-llm-v3", JudgeKind.LLM, Verdict.B, order=Order.BA),
        JudgmentRecord(
            "format-check", JudgeKind.CODE, Verdict.B, scores={Slot.A: 0.0, Slot.B: 1.0}
        ),
        JudgmentRecord(
            "refusal-clf",
            JudgeKind.CODE,
            None,
            refusal={Slot.A: RefusalClass.FULL_COMPLIANCE, Slot.B: RefusalClass.FULL_REFUSAL},
        ),
    )
    assert first.labels == (
        LabelRecord(
            "rev-01",
            Verdict.A,
            shown_left=Slot.B,
            labeled_at=datetime(2026, 11, 2, 9, 14, 3, tzinfo=UTC),
            refusal={Slot.A: RefusalClass.FULL_COMPLIANCE, Slot.B: RefusalClass.FULL_COMPLIANCE},
            dwell_ms=8400,
        ),
    )

    # Line 2 is blank and ignored; line 3 ends with CRLF.
    assert second.line == 3
    assert second.prompt is None
    assert second.messages == (
        Message(Role.SYSTEM, "You are the incident assistant."),
        Message(Role.USER, "Summarize the incident in one line."),
    )
    assert second.panel is Panel.ANCHOR
    assert second.metadata == {"team": "payments", "ticket": {"id": 4411, "tags": ["p1"]}}
    tie_by_scores = second.judgments[1]
    assert tie_by_scores.verdict is Verdict.TIE
    assert tie_by_scores.scores == {Slot.A: 2.0, Slot.B: 2.0}
    assert second.judgments[2].kind is JudgeKind.IMPORT
    assert second.judgments[2].order is Order.UNKNOWN
    assert second.judgments[0].order is Order.UNKNOWN  # absent order
    label = second.labels[0]
    assert label.labeled_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert label.labeled_at.tzinfo is UTC
    assert label.note == "neither is useful"
    assert label.shown_left is None
    assert label.dwell_ms is None

    # No item_id: the content hash identifies the item.
    assert third.item_id == content_item_id(third.prompt, None, third.responses)
    assert third.item_id.startswith("c-")
    assert third.responses[Slot.B].text == ""
    assert third.expected_behavior is ExpectedBehavior.REFUSE
    assert third.panel is Panel.CONTROL_NEGATIVE
    assert third.judgments == ()
    assert third.labels == ()


def test_bom_and_missing_final_newline_are_fine() -> None:
    plain = items(read_all(DATA / "native" / "items.jsonl", "native"))
    with_bom = items(read_all(DATA / "native" / "items_bom.jsonl", "native"))
    assert [r.item_id for r in with_bom] == [r.item_id for r in plain]
    assert [r.line for r in with_bom] == [1, 2, 3]


def test_judge_option_overrides_the_file() -> None:
    results = items(read_all(DATA / "native" / "items.jsonl", "native", ReadOptions(judge="j")))
    assert {j.judge for r in results for j in r.judgments} == {"j"}


def test_judge_option_makes_judge_optional(tmp_path: Path) -> None:
    record = {
        "item_id": "x",
        "prompt": "p",
        "responses": {"A": {"model": "a", "text": "1"}, "B": {"model": "b", "text": "2"}},
        "judgments": [{"kind": "llm", "verdict": "B"}],
    }
    path = tmp_path / "no_judge.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (rejected,) = read_all(path, "native")
    assert isinstance(rejected, Rejected)
    assert rejected.problems[0].field == "judgments[0].judge"
    (item,) = items(read_all(path, "native", ReadOptions(judge="cli-judge")))
    assert item.judgments[0].judge == "cli-judge"


def test_every_problem_of_a_record_is_reported(tmp_path: Path) -> None:
    record = {
        "item_id": "",
        "prompt": 1,
        "responses": {"A": {"model": "", "text": 2}, "C": {}},
        "slices": {"k": 1},
        "judgments": [{"judge": "j", "kind": "robot", "verdict": "Z", "probability_b": 2}],
        "labels": [{"reviewer": "r", "choice": "A", "dwell_ms": True}],
        "panel": "x",
    }
    path = tmp_path / "many.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (rejected,) = read_all(path, "native")
    assert isinstance(rejected, Rejected)
    assert [p.field for p in rejected.problems] == [
        "item_id",
        "prompt",
        "responses.C",
        "responses.A.model",
        "responses.A.text",
        "responses.B",
        "slices.k",
        "panel",
        "judgments[0].kind",
        "judgments[0].verdict",
        "judgments[0].probability_b",
        "labels[0].dwell_ms",
    ]
    assert {p.line for p in rejected.problems} == {1}
    assert {p.file for p in rejected.problems} == {str(path)}
    assert str(rejected.problems[0]) == f"{path}:1: item_id: must not be empty"
    assert rejected.raw == json.dumps(record)


def test_limits_at_their_edges_are_accepted(tmp_path: Path) -> None:
    record = {
        "item_id": "i" * 200,
        "prompt": "",
        "responses": {
            "A": {"model": "a", "text": "é" * (512 * 1024)},  # exactly 1 MiB of UTF-8
            "B": {"model": "b", "text": ""},
        },
        "slices": {f"s{i}": "v" for i in range(32)},
        "judgments": [{"judge": "j", "kind": "llm", "verdict": "A", "probability_b": 0}],
        "labels": [{"reviewer": "r", "choice": "tie", "dwell_ms": 0}],
    }
    path = tmp_path / "edges.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    (item,) = items(read_all(path, "native"))
    assert len(item.slices) == 32
    assert item.judgments[0].probability_b == 0.0


def test_nulls_of_optional_fields_mean_absent(tmp_path: Path) -> None:
    record = {
        "item_id": "n",
        "prompt": "p",
        "messages": None,
        "responses": {"A": {"model": "a", "text": "1"}, "B": {"model": "b", "text": "2"}},
        "slices": None,
        "expected_behavior": None,
        "subject_id": None,
        "panel": None,
        "judgments": [
            {
                "judge": "j",
                "kind": "llm",
                "verdict": "A",
                "order": None,
                "probability_b": None,
                "rationale": None,
            }
        ],
        "labels": None,
    }
    path = tmp_path / "nulls.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (item,) = items(read_all(path, "native"))
    assert item.slices == {}
    assert item.judgments == (JudgmentRecord("j", JudgeKind.LLM, Verdict.A),)
    assert item.metadata == {}


def test_refusal_may_name_one_slot(tmp_path: Path) -> None:
    record = {
        "item_id": "r",
        "prompt": "p",
        "responses": {"A": {"model": "a", "text": "1"}, "B": {"model": "b", "text": "2"}},
        "judgments": [
            {"judge": "clf", "kind": "code", "refusal": {"B": "partial_refusal"}},
            {"judge": "j", "kind": "llm", "verdict": "both_bad", "scores": None},
        ],
    }
    path = tmp_path / "refusal.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (item,) = items(read_all(path, "native"))
    assert item.judgments[0].refusal == {Slot.B: RefusalClass.PARTIAL_REFUSAL}
    assert item.judgments[0].verdict is None
    assert item.judgments[1].verdict is Verdict.BOTH_BAD
