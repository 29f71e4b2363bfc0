"""AlpacaEval ``annotations.json``, on real excerpts of tatsu-lab/alpaca_eval results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewdesk.domain.hashing import content_item_id
from reviewdesk.domain.model import JudgeKind, Order, ResponseRecord, Skipped, Slot, Verdict
from reviewdesk.io import Format, ReadOptions, detect_format
from tests.io.io_support import DATA, items, read_all

ALPACA = DATA / "alpaca_eval"
PLAIN = ALPACA / "cohere_alpaca_eval_gpt4_turbo_fn_first20.json"
COT = ALPACA / "cohere_alpaca_eval_cot_gpt4_turbo_fn_first20.json"
WEIGHTED = ALPACA / "text_davinci_003_weighted_alpaca_eval_gpt4_turbo_first8.json"


def _element_lines(path: Path) -> list[int]:
    """Lines where AlpacaEval's pretty-printer (indent=1) starts each element."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [n for n, line in enumerate(lines, 1) if line == " {"]


@pytest.mark.parametrize("path", [PLAIN, COT, WEIGHTED], ids=lambda p: p.stem)
def test_maps_every_annotation_field_by_field(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    records = items(read_all(path, Format.ALPACA_EVAL))
    assert len(records) == len(raw)
    assert [r.line for r in records] == _element_lines(path)
    for record, source in zip(records, raw, strict=True):
        assert record.prompt == source["instruction"]
        assert record.messages is None
        assert record.responses == {
            Slot.A: ResponseRecord(source["generator_1"], source["output_1"]),
            Slot.B: ResponseRecord(source["generator_2"], source["output_2"]),
        }
        assert record.item_id == content_item_id(record.prompt, None, record.responses)
        assert record.slices == {"dataset": source["dataset"]}
        assert record.metadata == {}  # raw_completion and prices are not kept
        (judgment,) = record.judgments
        assert judgment.judge == source["annotator"]
        assert judgment.kind is JudgeKind.LLM
        assert judgment.order is Order.AB
        p = source["preference"]
        assert judgment.probability_b == pytest.approx(p - 1)
        expected = Verdict.A if p < 1.5 else Verdict.B if p > 1.5 else Verdict.TIE
        assert judgment.verdict is expected
        assert judgment.rationale is None
        assert record.labels == ()


def test_two_judges_on_the_same_pairs_share_item_ids_and_sometimes_disagree() -> None:
    plain = items(read_all(PLAIN))
    cot = items(read_all(COT))
    assert [r.item_id for r in plain] == [r.item_id for r in cot]
    assert len({r.item_id for r in plain}) == len(plain)
    assert plain[0].judgments[0].judge != cot[0].judgments[0].judge
    differing = [
        i
        for i, (a, b) in enumerate(zip(plain, cot, strict=True))
        if a.judgments[0].verdict != b.judgments[0].verdict
    ]
    assert differing == [13, 18]


def test_weighted_judge_keeps_its_probability() -> None:
    first = items(read_all(WEIGHTED))[0]
    assert first.responses[Slot.B].model == "text_davinci_003"
    assert first.judgments[0].probability_b == pytest.approx(1.336e-07)
    assert first.judgments[0].verdict is Verdict.A
    # The same instruction and baseline as the cohere files, but another model in slot B.
    assert first.item_id != items(read_all(PLAIN))[0].item_id


def test_ties_skips_and_the_old_draw_code() -> None:
    results = read_all(ALPACA / "edge_preferences.json")
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["ItemRecord", "Skipped", "Skipped", "ItemRecord", "ItemRecord", "ItemRecord"]
    tie, nan, null, weighted, draw, b_wins = results
    assert isinstance(nan, Skipped)
    assert (nan.line, nan.field) == (15, "preference")
    assert isinstance(null, Skipped)
    assert null.line == 28
    verdicts = [r.judgments[0] for r in items([tie, weighted, draw, b_wins])]
    assert [j.verdict for j in verdicts] == [Verdict.TIE, Verdict.B, Verdict.TIE, Verdict.B]
    assert [j.probability_b for j in verdicts] == pytest.approx([0.5, 0.7312, 0.5, 1.0])


def test_judge_option_overrides_annotator() -> None:
    records = items(read_all(PLAIN, Format.ALPACA_EVAL, ReadOptions(judge="my-judge")))
    assert {r.judgments[0].judge for r in records} == {"my-judge"}


def test_detected_from_content() -> None:
    assert detect_format(PLAIN) is Format.ALPACA_EVAL
    assert detect_format(ALPACA / "edge_preferences.json") is Format.ALPACA_EVAL
