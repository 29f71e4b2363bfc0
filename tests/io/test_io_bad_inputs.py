"""The corpus of malformed inputs: each yields a ``Rejected`` at a known line and field, and the
valid records around it are still read (so ``--skip-bad`` can import them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewdesk.domain.model import ItemRecord
from reviewdesk.io import Format, ReadOptions, Rejected
from reviewdesk.io.streaming import MAX_RECORD_BYTES
from tests.io.io_support import DATA, MT_BENCH_OPTIONS, Result, read_all

BAD = DATA / "bad"
FORMATS = {"native": Format.NATIVE, "alpaca": Format.ALPACA_EVAL, "arena": Format.ARENA}


@dataclass(frozen=True)
class Case:
    file: str
    line: int  # where the rejected record starts
    field: str  # field of its first problem
    ok: tuple[int, ...]  # lines of the valid records that must still be read
    problem_line: int | None = None  # line of the first problem, when not the record's line

    @property
    def format(self) -> Format:
        prefix = self.file.split("_", 1)[0]
        return Format.MT_BENCH if prefix == "mt" else FORMATS[prefix]


N = (1, 3)  # the valid records around a bad native line 2
CASES = [
    # native: types, missing fields, limits
    Case("native_prompt_not_string.jsonl", 2, "prompt", N),
    Case("native_missing_responses.jsonl", 2, "responses", N),
    Case("native_both_prompt_and_messages.jsonl", 2, "prompt", N),
    Case("native_no_prompt_or_messages.jsonl", 2, "prompt", N),
    Case("native_messages_not_list.jsonl", 2, "messages", N),
    Case("native_messages_empty.jsonl", 2, "messages", N),
    Case("native_bad_role.jsonl", 2, "messages[1].role", N),
    Case("native_message_content_number.jsonl", 2, "messages[0].content", N),
    Case("native_extra_response_slot.jsonl", 2, "responses.C", N),
    Case("native_missing_slot_b.jsonl", 2, "responses.B", N),
    Case("native_empty_model.jsonl", 2, "responses.A.model", N),
    Case("native_blank_model.jsonl", 2, "responses.B.model", N),
    Case("native_text_null.jsonl", 2, "responses.B.text", N),
    Case("native_response_unknown_key.jsonl", 2, "responses.A.score", N),
    Case("native_33_slices.jsonl", 2, "slices", N),
    Case("native_slice_value_number.jsonl", 2, "slices.category", N),
    Case("native_slices_not_object.jsonl", 2, "slices", N),
    Case("native_bad_verdict.jsonl", 2, "judgments[0].verdict", N),
    Case("native_scores_one_slot.jsonl", 2, "judgments[0].scores", N),
    Case("native_scores_contradict_verdict.jsonl", 2, "judgments[0].verdict", N),
    Case("native_score_boolean.jsonl", 2, "judgments[0].scores.A", N),
    Case("native_judgment_without_verdict.jsonl", 2, "judgments[0]", N),
    Case("native_judgments_not_list.jsonl", 2, "judgments", N),
    Case("native_bad_kind.jsonl", 2, "judgments[0].kind", N),
    Case("native_missing_judge.jsonl", 2, "judgments[0].judge", N),
    Case("native_judgment_unknown_key.jsonl", 2, "judgments[0].confidence", N),
    Case("native_boolean_probability.jsonl", 2, "judgments[0].probability_b", N),
    Case("native_probability_1_2.jsonl", 2, "judgments[0].probability_b", N),
    Case("native_bad_order.jsonl", 2, "judgments[1].order", N),
    Case("native_bad_refusal_class.jsonl", 2, "judgments[0].refusal.B", N),
    Case("native_bad_labeled_at.jsonl", 2, "labels[0].labeled_at", N),
    Case("native_naive_labeled_at.jsonl", 2, "labels[0].labeled_at", N),
    Case("native_negative_dwell.jsonl", 2, "labels[0].dwell_ms", N),
    Case("native_float_dwell.jsonl", 2, "labels[0].dwell_ms", N),
    Case("native_bad_label_choice.jsonl", 2, "labels[0].choice", N),
    Case("native_bad_shown_left.jsonl", 2, "labels[0].shown_left", N),
    Case("native_label_missing_reviewer.jsonl", 2, "labels[0].reviewer", N),
    Case("native_bad_panel.jsonl", 2, "panel", N),
    Case("native_bad_expected_behavior.jsonl", 2, "expected_behavior", N),
    Case("native_empty_subject_id.jsonl", 2, "subject_id", N),
    Case("native_number_item_id.jsonl", 2, "item_id", N),
    Case("native_empty_item_id.jsonl", 2, "item_id", N),
    Case("native_item_id_too_long.jsonl", 2, "item_id", N),
    Case("native_duplicate_item_id.jsonl", 3, "item_id", (1, 2, 4)),
    Case("native_several_problems.jsonl", 2, "prompt", N),
    # native: the text itself
    Case("native_nan.jsonl", 2, "(record)", N),
    Case("native_infinity.jsonl", 2, "(record)", N),
    Case("native_negative_infinity.jsonl", 2, "(record)", N),
    Case("native_invalid_utf8.jsonl", 2, "(record)", N),
    Case("native_overlong_utf8.jsonl", 2, "(record)", N),
    Case("native_lone_surrogate.jsonl", 2, "(record)", N),
    Case("native_huge_integer.jsonl", 2, "(record)", N),
    Case("native_syntax_error.jsonl", 2, "(record)", N),
    Case("native_top_level_array.jsonl", 2, "(record)", N),
    Case("native_top_level_string.jsonl", 2, "(record)", N),
    Case("native_truncated_last_line.jsonl", 3, "(record)", (1, 2)),
    # AlpacaEval: JSON arrays, elements start on lines 2, 15 and 28
    Case("alpaca_preference_3.json", 15, "preference", (2, 28)),
    Case("alpaca_preference_string.json", 15, "preference", (2, 28)),
    Case("alpaca_preference_boolean.json", 15, "preference", (2, 28)),
    Case("alpaca_missing_output_2.json", 15, "output_2", (2, 27)),
    Case("alpaca_output_number.json", 15, "output_1", (2, 28)),
    Case("alpaca_empty_generator.json", 15, "generator_1", (2, 28)),
    Case("alpaca_nan_text.json", 15, "output_2", (2, 28)),
    Case("alpaca_element_not_object.json", 15, "(record)", (2, 16)),
    Case("alpaca_invalid_utf8.json", 15, "(record)", (2, 28), problem_line=20),
    Case("alpaca_stray_brace.json", 15, "(record)", (2, 28), problem_line=27),
    Case("alpaca_missing_comma.json", 2, "(record)", (28,), problem_line=15),
    Case("alpaca_trailing_comma.json", 28, "(record)", (2, 15)),
    Case("alpaca_truncated_array.json", 15, "(record)", (2,)),
    Case("alpaca_unterminated_array.json", 27, "(file)", (2, 15)),
    Case("alpaca_trailing_data.json", 29, "(file)", (2, 15)),
    Case("alpaca_top_level_object.json", 1, "(file)", ()),
    # Arena
    Case("arena_unknown_winner.jsonl", 2, "winner", N),
    Case("arena_winner_null.json", 33, "winner", (2, 64)),
    Case("arena_missing_conversation.jsonl", 2, "conversation_b", N),
    Case("arena_bad_role.jsonl", 2, "conversation_a[1].role", N),
    Case("arena_no_assistant_reply.jsonl", 2, "conversation_a", N),
    Case("arena_different_prompts.jsonl", 2, "conversation_b[0].content", N),
    Case("arena_missing_judge.jsonl", 2, "judge", N),
    Case("arena_turn_string.jsonl", 2, "turn", N),
    Case("arena_truncated.json", 64, "(record)", (2, 33)),
    Case("arena_invalid_utf8.jsonl", 2, "(record)", N),
    Case("arena_nan.jsonl", 2, "turn", N),
    Case("arena_top_level_string.jsonl", 2, "(record)", N),
    # MT-Bench (against tests/data/import/mt_bench/)
    Case("mt_bench_missing_answer_pair.jsonl", 2, "model_2", N),
    Case("mt_bench_missing_question_pair.jsonl", 2, "question_id", N),
    Case("mt_bench_question_id_boolean_pair.jsonl", 2, "question_id", N),
    Case("mt_bench_bad_winner_pair.jsonl", 2, "g1_winner", N),
    Case("mt_bench_turn_3_pair.jsonl", 2, "turn", N),
    Case("mt_bench_judge_not_list_pair.jsonl", 2, "judge", N),
    Case("mt_bench_model_number_pair.jsonl", 2, "model_1", N),
    Case("mt_bench_nan_pair.jsonl", 2, "question_id", N),
    Case("mt_bench_invalid_utf8_pair.jsonl", 2, "(record)", N),
    Case("mt_bench_top_level_array_pair.jsonl", 2, "(record)", N),
    Case("mt_bench_truncated_last_line_pair.jsonl", 3, "(record)", (1, 2)),
]


def _check(results: list[Result], case: Case, path: Path) -> Rejected:
    rejected = [r for r in results if isinstance(r, Rejected)]
    assert len(rejected) == 1, rejected
    (bad,) = rejected
    first = bad.problems[0]
    assert (bad.line, first.line, first.field) == (
        case.line,
        case.problem_line or case.line,
        case.field,
    ), first
    assert first.file == str(path)
    assert first.message
    assert all(p.line >= 1 for p in bad.problems)
    ok = tuple(r.line for r in results if isinstance(r, ItemRecord))
    assert ok == case.ok
    return bad


def test_the_corpus_is_complete() -> None:
    on_disk = {p.name for p in BAD.iterdir()}
    assert on_disk == {c.file for c in CASES}
    assert len(on_disk) >= 45


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.file)
def test_bad_file(case: Case) -> None:
    path = BAD / case.file
    options = MT_BENCH_OPTIONS if case.format is Format.MT_BENCH else ReadOptions()
    _check(read_all(path, case.format, options), case, path)


def test_raw_text_is_kept_for_the_rejects_file() -> None:
    path = BAD / "native_bad_verdict.jsonl"
    (bad,) = [r for r in read_all(path) if isinstance(r, Rejected)]
    assert bad.raw == path.read_text().splitlines()[1]
    assert json.loads(bad.raw)["item_id"] == "bad-2"
    (bad,) = [r for r in read_all(BAD / "native_invalid_utf8.jsonl") if isinstance(r, Rejected)]
    assert bad.raw is None  # bytes that are not UTF-8 cannot be written back as text
    path = BAD / "alpaca_preference_3.json"
    (bad,) = [r for r in read_all(path) if isinstance(r, Rejected)]
    assert bad.raw is not None
    assert json.loads(bad.raw)["preference"] == 3


def test_several_problems_are_all_reported() -> None:
    (bad,) = [r for r in read_all(BAD / "native_several_problems.jsonl") if isinstance(r, Rejected)]
    assert [p.field for p in bad.problems] == ["prompt", "responses"]


# --- cases generated here, so the repository stays small ------------------------------------


def _ok(n: int) -> str:
    record = {
        "item_id": f"ok-{n}",
        "prompt": "p",
        "responses": {"A": {"model": "a", "text": "x"}, "B": {"model": "b", "text": "y"}},
    }
    return json.dumps(record)


def _native(tmp_path: Path, name: str, bad: str | bytes) -> Path:
    path = tmp_path / name
    middle = bad if isinstance(bad, bytes) else bad.encode("utf-8")
    path.write_bytes(_ok(1).encode() + b"\n" + middle + b"\n" + _ok(3).encode() + b"\n")
    return path


def test_text_over_one_mib(tmp_path: Path) -> None:
    record = json.loads(_ok(2))
    record["responses"]["A"]["text"] = "ü" * (512 * 1024 + 1)  # 2 bytes each: 1 MiB + 2
    path = _native(tmp_path, "big_text.jsonl", json.dumps(record, ensure_ascii=False))
    bad = _check(read_all(path), Case(path.name, 2, "responses.A.text", N), path)
    assert "1 MiB" in bad.problems[0].message


def test_deeply_nested(tmp_path: Path) -> None:
    nested = '{"item_id": "deep", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = _native(tmp_path, "deep.jsonl", nested)
    bad = _check(read_all(path), Case(path.name, 2, "(record)", N), path)
    assert "nested too deeply" in bad.problems[0].message


def test_deeply_nested_array_element(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[\n" + "[" * 100_000 + "]" * 100_000 + ",\n" + "[" * 100_000 + "\n")
    results = read_all(path, Format.ALPACA_EVAL)
    assert [(r.line, r.problems[0].field) for r in results if isinstance(r, Rejected)] == [
        (2, "(record)"),
        (3, "(record)"),
    ]


def test_line_over_the_record_limit_is_skipped_unread(tmp_path: Path) -> None:
    huge = b'{"item_id": "huge", "prompt": "' + b"x" * (MAX_RECORD_BYTES + 10) + b'"}'
    path = _native(tmp_path, "huge.jsonl", huge)
    bad = _check(read_all(path), Case(path.name, 2, "(record)", N), path)
    assert "larger than 16 MiB" in bad.problems[0].message
    assert bad.raw is None
