"""Chatbot Arena / FastChat battles, as a JSON array and as JSON Lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reviewdesk.domain.hashing import content_item_id
from reviewdesk.domain.model import (
    JudgeKind,
    JudgmentRecord,
    LabelRecord,
    Message,
    Order,
    ResponseRecord,
    Role,
    Slot,
    Verdict,
)
from reviewdesk.io import Format, ReadOptions, Rejected, detect_format
from tests.io.io_support import DATA, items, read_all

ARENA = DATA / "arena"
ARRAY = ARENA / "battles.json"
LINES = ARENA / "battles.jsonl"


def test_array_and_lines_give_the_same_items() -> None:
    from_array = items(read_all(ARRAY, Format.ARENA))
    from_lines = items(read_all(LINES, Format.ARENA))
    assert len(from_array) == 6
    assert [r.line for r in from_array] == [2, 60, 118, 176, 234, 308]
    assert [r.line for r in from_lines] == [1, 2, 3, 4, 5, 6]
    strip = [(r.item_id, r.prompt, r.messages, r.responses, r.judgments) for r in from_array]
    assert strip == [
        (r.item_id, r.prompt, r.messages, r.responses, r.judgments) for r in from_lines
    ]


def test_single_turn_battle_field_by_field() -> None:
    source = json.loads(LINES.read_text(encoding="utf-8").splitlines()[0])
    record = items(read_all(LINES))[0]
    assert record.prompt == source["conversation_a"][0]["content"]
    assert record.messages is None
    assert record.responses == {
        Slot.A: ResponseRecord("chatglm-6b", source["conversation_a"][1]["content"]),
        Slot.B: ResponseRecord("koala-13b", source["conversation_b"][1]["content"]),
    }
    assert record.item_id == content_item_id(record.prompt, None, record.responses)
    assert record.judgments == (
        JudgmentRecord("arena_user_973", JudgeKind.LLM, Verdict.B, order=Order.AB),
    )
    assert record.labels == ()
    assert record.slices == {"language": "English", "turn": "1"}
    assert record.metadata == {"question_id": "58210e39b3fd4441a2bd4a518bb44c2d", "anony": True}


def test_every_winner_value() -> None:
    verdicts = [r.judgments[0].verdict for r in items(read_all(LINES))]
    assert verdicts == [Verdict.B, Verdict.TIE, Verdict.A, Verdict.BOTH_BAD, Verdict.A, Verdict.B]


def test_multi_turn_renders_the_rest_of_each_conversation() -> None:
    record = items(read_all(LINES))[4]
    assert record.prompt == "Give me a name for a bakery."
    assert record.responses[Slot.A].text == (
        'How about "Rise & Shine"?\n\n'
        "**User:** Make it sound French.\n\n"
        '**Assistant:** "Le Levain Doré" (the golden sourdough).'
    )
    assert record.responses[Slot.B].text == (
        "Bread Place.\n\n**User:** Make it sound French.\n\n"
        "**Assistant:** Bread Place, but in French."
    )
    assert record.slices["turn"] == "2"


def test_system_message_makes_a_chat_prompt() -> None:
    record = items(read_all(LINES))[5]
    assert record.prompt is None
    assert record.messages == (
        Message(Role.SYSTEM, "You are a terse assistant."),
        Message(Role.USER, "What is 2 + 2?"),
    )
    assert record.responses[Slot.A].text == "4"
    assert record.item_id == content_item_id(None, record.messages, record.responses)


def test_language_slice() -> None:
    assert items(read_all(LINES))[2].slices["language"] == "German"


def test_votes_as_human_labels() -> None:
    records = items(read_all(ARRAY, Format.ARENA, ReadOptions(as_labels=True)))
    first = records[0]
    assert first.judgments == ()
    assert first.labels == (
        LabelRecord(
            "arena_user_973",
            Verdict.B,
            shown_left=Slot.A,
            labeled_at=datetime.fromtimestamp(1682351591.1322, UTC),
        ),
    )
    assert [r.labels[0].choice for r in records] == [
        Verdict.B,
        Verdict.TIE,
        Verdict.A,
        Verdict.BOTH_BAD,
        Verdict.A,
        Verdict.B,
    ]
    # Labels and judgments of the same battles land on the same items.
    assert [r.item_id for r in records] == [r.item_id for r in items(read_all(ARRAY))]


def test_judge_option_overrides_and_supplies_the_judge() -> None:
    path = ARENA / "battles_no_judge.jsonl"
    results = read_all(path, Format.ARENA)
    assert all(isinstance(r, Rejected) for r in results)
    assert [r.problems[0].field for r in results if isinstance(r, Rejected)] == ["judge", "judge"]
    records = items(read_all(path, Format.ARENA, ReadOptions(judge="gpt-4-judge")))
    assert {r.judgments[0].judge for r in records} == {"gpt-4-judge"}
    records = items(read_all(LINES, Format.ARENA, ReadOptions(judge="override")))
    assert {r.judgments[0].judge for r in records} == {"override"}


@pytest.mark.parametrize("path", [ARRAY, LINES], ids=["array", "lines"])
def test_detected_from_content(path: Path) -> None:
    assert detect_format(path) is Format.ARENA
