"""MT-Bench pairwise judgments with FastChat's question and model-answer files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reviewdesk.domain.errors import InvalidInputError, UserError
from reviewdesk.domain.model import (
    ItemRecord,
    JudgeKind,
    JudgmentRecord,
    Order,
    ResponseRecord,
    Skipped,
    Slot,
    Verdict,
)
from reviewdesk.io import Format, ReadOptions, Rejected, detect_format, open_reader
from tests.io.io_support import MT_BENCH, MT_BENCH_OPTIONS, read_all

JUDGMENTS = MT_BENCH / "model_judgment" / "gpt-4_pair.jsonl"


def _answers(model: str) -> dict[int, list[str]]:
    path = MT_BENCH / "model_answer" / f"{model}.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {row["question_id"]: row["choices"][0]["turns"] for row in rows}


def _questions() -> dict[int, dict[str, object]]:
    rows = [json.loads(line) for line in (MT_BENCH / "question.jsonl").read_text().splitlines()]
    return {row["question_id"]: row for row in rows}


def test_turn_one_judgment_field_by_field() -> None:
    results = read_all(JUDGMENTS, Format.MT_BENCH, MT_BENCH_OPTIONS)
    first = results[0]
    assert isinstance(first, ItemRecord)
    source = json.loads(JUDGMENTS.read_text().splitlines()[0])
    question = _questions()[81]
    assert first.line == 1
    assert first.prompt == question["turns"][0]  # type: ignore[index]
    assert first.responses == {
        Slot.A: ResponseRecord("vicuna-13b-v1.3", _answers("vicuna-13b-v1.3")[81][0]),
        Slot.B: ResponseRecord("alpaca-13b", _answers("alpaca-13b")[81][0]),
    }
    assert first.slices == {"category": "writing", "turn": "1"}
    assert first.metadata == {"question_id": 81}
    assert first.judgments == (
        JudgmentRecord(
            "gpt-4/pair-v2", JudgeKind.LLM, Verdict.A, Order.AB, rationale=source["g1_judgment"]
        ),
        JudgmentRecord(
            "gpt-4/pair-v2", JudgeKind.LLM, Verdict.A, Order.BA, rationale=source["g2_judgment"]
        ),
    )


def test_winners_error_skips_and_turn_two() -> None:
    results = read_all(JUDGMENTS, Format.MT_BENCH, MT_BENCH_OPTIONS)
    shapes = [(type(r).__name__, r.line) for r in results]
    assert shapes == [
        ("ItemRecord", 1),
        ("ItemRecord", 2),
        ("Skipped", 3),
        ("ItemRecord", 3),
        ("ItemRecord", 4),
        ("Skipped", 5),
        ("Skipped", 5),
    ]
    second, skip_g2, third, fourth, skip_1, skip_2 = results[1:]
    assert isinstance(second, ItemRecord)
    assert [j.verdict for j in second.judgments] == [Verdict.A, Verdict.TIE]
    assert isinstance(skip_g2, Skipped)
    assert skip_g2.field == "g2_winner"
    assert "error" in skip_g2.message
    assert isinstance(third, ItemRecord)
    (kept,) = third.judgments
    assert (kept.verdict, kept.order) == (Verdict.B, Order.AB)
    assert isinstance(skip_1, Skipped)
    assert isinstance(skip_2, Skipped)
    assert (skip_1.field, skip_2.field) == ("g1_winner", "g2_winner")

    assert isinstance(fourth, ItemRecord)
    question = _questions()[81]["turns"]
    vicuna = _answers("vicuna-13b-v1.3")[81]
    assert fourth.prompt == question[0]  # type: ignore[index]
    assert fourth.responses[Slot.A].text == (
        f"{vicuna[0]}\n\n**User:** {question[1]}\n\n**Assistant:** {vicuna[1]}"  # type: ignore[index]
    )
    assert fourth.slices == {"category": "writing", "turn": "2"}
    assert [(j.judge, j.verdict, j.order) for j in fourth.judgments] == [
        ("gpt-4/pair-v2-multi-turn", Verdict.A, Order.AB),
        ("gpt-4/pair-v2-multi-turn", Verdict.B, Order.BA),
    ]
    assert fourth.item_id != results[0].item_id  # type: ignore[union-attr]


def test_one_answers_file_holding_several_models() -> None:
    options = ReadOptions(
        questions=MT_BENCH / "question.jsonl", answers=MT_BENCH / "all_answers.jsonl"
    )
    combined = read_all(JUDGMENTS, Format.MT_BENCH, options)
    per_model = read_all(JUDGMENTS, Format.MT_BENCH, MT_BENCH_OPTIONS)
    assert combined == per_model


def test_judge_option_overrides() -> None:
    options = ReadOptions(
        judge="gpt-4", questions=MT_BENCH / "question.jsonl", answers=MT_BENCH / "model_answer"
    )
    results = read_all(JUDGMENTS, Format.MT_BENCH, options)
    judges = {j.judge for r in results if isinstance(r, ItemRecord) for j in r.judgments}
    assert judges == {"gpt-4"}


def test_detected_from_content() -> None:
    assert detect_format(JUDGMENTS) is Format.MT_BENCH
    results = read_all(JUDGMENTS, Format.AUTO, MT_BENCH_OPTIONS)
    assert len(results) == 7


@pytest.mark.parametrize(
    ("options", "missing"),
    [
        (ReadOptions(), "--questions and --answers"),
        (ReadOptions(questions=MT_BENCH / "question.jsonl"), "--answers"),
        (ReadOptions(answers=MT_BENCH / "model_answer"), "--questions"),
    ],
)
def test_side_files_are_required(options: ReadOptions, missing: str) -> None:
    with pytest.raises(UserError, match=re.escape(f"give {missing} ")):
        open_reader(JUDGMENTS, Format.MT_BENCH, options)


def test_missing_side_file_is_a_user_error(tmp_path: Path) -> None:
    options = ReadOptions(questions=tmp_path / "nope.jsonl", answers=MT_BENCH / "model_answer")
    with pytest.raises(UserError, match=r"nope\.jsonl: no such file"):
        open_reader(JUDGMENTS, Format.MT_BENCH, options)
    options = ReadOptions(questions=MT_BENCH / "question.jsonl", answers=tmp_path / "none")
    with pytest.raises(UserError, match="no such file or directory"):
        open_reader(JUDGMENTS, Format.MT_BENCH, options)


def test_broken_questions_file_names_its_lines(tmp_path: Path) -> None:
    questions = tmp_path / "question.jsonl"
    questions.write_text(
        '{"question_id": 81, "category": "writing", "turns": ["a", "b"]}\n'
        '{"question_id": 82, "turns": "not a list"}\n'
        '{"question_id": 81, "turns": ["dup"]}\n'
        "{broken\n"
    )
    options = ReadOptions(questions=questions, answers=MT_BENCH / "model_answer")
    with pytest.raises(InvalidInputError) as caught:
        open_reader(JUDGMENTS, Format.MT_BENCH, options)
    problems = caught.value.problems
    assert [(p.line, p.field) for p in problems] == [
        (2, "turns"),
        (3, "question_id"),
        (4, "(record)"),
    ]
    assert "--questions" in str(caught.value)


def test_broken_answer_file_names_its_lines(tmp_path: Path) -> None:
    answers = tmp_path / "model_answer"
    answers.mkdir()
    for model in ("vicuna-13b-v1.3", "alpaca-13b"):
        text = (MT_BENCH / "model_answer" / f"{model}.jsonl").read_text()
        (answers / f"{model}.jsonl").write_text(text)
    with (answers / "alpaca-13b.jsonl").open("a") as f:
        f.write('{"question_id": 160, "choices": []}\n')
    options = ReadOptions(questions=MT_BENCH / "question.jsonl", answers=answers)
    with (
        open_reader(JUDGMENTS, Format.MT_BENCH, options) as reader,
        pytest.raises(InvalidInputError) as caught,
    ):
        list(reader)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (
        str(answers / "alpaca-13b.jsonl"),
        4,
        "choices",
    )


def test_unknown_model_or_question_is_a_record_problem(tmp_path: Path) -> None:
    path = tmp_path / "judgments.jsonl"
    rows = [
        {"question_id": 81, "model_1": "vicuna-13b-v1.3", "model_2": "gpt-5", "g1_winner": "tie",
         "g2_winner": "tie", "judge": ["gpt-4", "pair-v2"], "turn": 1},
        {"question_id": 7, "model_1": "vicuna-13b-v1.3", "model_2": "alpaca-13b",
         "g1_winner": "tie", "g2_winner": "tie", "judge": ["gpt-4", "pair-v2"], "turn": 1},
        {"question_id": 81, "model_1": "../secrets", "model_2": "alpaca-13b",
         "g1_winner": "tie", "g2_winner": "tie", "judge": ["gpt-4", "pair-v2"], "turn": 1},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    results = read_all(path, Format.MT_BENCH, MT_BENCH_OPTIONS)
    assert all(isinstance(r, Rejected) for r in results)
    fields = [[p.field for p in r.problems] for r in results if isinstance(r, Rejected)]
    assert fields == [["model_2"], ["question_id"], ["model_1"]]
    messages = [r.problems[0].message for r in results if isinstance(r, Rejected)]
    assert "gpt-5.jsonl does not exist" in messages[0]
    assert "question 7 is not in" in messages[1]
