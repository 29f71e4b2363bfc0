"""Disagreement reasons on hand-checked cases (SPEC §4)."""

from __future__ import annotations

import pytest

from reviewdesk.domain.model import DisagreementReason as R
from reviewdesk.domain.model import Order, Verdict
from reviewdesk.queueing.disagreement import (
    JudgeVerdict,
    disagreement_reasons,
    mask_to_reasons,
    merge_verdicts,
    reasons_to_mask,
)

A, B, TIE, BAD = Verdict.A, Verdict.B, Verdict.TIE, Verdict.BOTH_BAD
AB, BA, UNK = Order.AB, Order.BA, Order.UNKNOWN


def jv(judge: str, verdict: Verdict, order: Order = UNK, p: float | None = None) -> JudgeVerdict:
    return JudgeVerdict(judge, order, verdict, p)


CASES = [
    ("no judgments", [], set()),
    ("one judge", [jv("j1", A)], set()),
    ("two judges agree", [jv("j1", A), jv("j2", A)], set()),
    ("two judges split", [jv("j1", A), jv("j2", B)], {R.JUDGE_SPLIT}),
    ("three judges, one dissents", [jv("j1", A), jv("j2", A), jv("j3", B)], {R.JUDGE_SPLIT}),
    ("judge agrees with itself in both orders", [jv("j1", A, AB), jv("j1", A, BA)], set()),
    ("position flip alone", [jv("j1", A, AB), jv("j1", B, BA)], {R.POSITION_FLIP}),
    # The flip merges to a tie; beside a decisive judge that is a tie split.
    (
        "flip next to a decisive judge",
        [jv("j1", A, AB), jv("j1", B, BA), jv("j2", B)],
        {R.POSITION_FLIP, R.TIE_SPLIT},
    ),
    ("tie against decisive", [jv("j1", TIE), jv("j2", A)], {R.TIE_SPLIT}),
    ("both_bad against decisive", [jv("j1", BAD), jv("j2", B)], {R.TIE_SPLIT}),
    ("tie and both_bad only", [jv("j1", TIE), jv("j2", BAD)], set()),
    # A judge_split suppresses tie_split even when a tie is also present.
    ("split with a tie too", [jv("j1", A), jv("j2", B), jv("j3", TIE)], {R.JUDGE_SPLIT}),
    ("confident judge", [jv("j1", B, AB, 0.9)], set()),
    ("low confidence", [jv("j1", B, AB, 0.55)], {R.LOW_CONFIDENCE}),
    ("boundary 0.6 is not low", [jv("j1", B, AB, 0.6)], set()),
    ("boundary 0.41 is low", [jv("j1", A, AB, 0.41)], {R.LOW_CONFIDENCE}),
    ("one confident judgment is enough", [jv("j1", B, AB, 0.55), jv("j2", B, AB, 0.95)], set()),
    ("a tie's probability does not count", [jv("j1", TIE, AB, 0.5), jv("j2", TIE)], set()),
    (
        "everything at once",
        [jv("j1", A, AB, 0.45), jv("j1", B, BA, 0.52), jv("j2", A), jv("j3", B)],
        {R.JUDGE_SPLIT, R.POSITION_FLIP, R.LOW_CONFIDENCE},
    ),
]


@pytest.mark.parametrize(("name", "verdicts", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reasons(name: str, verdicts: list[JudgeVerdict], expected: set[R]) -> None:
    assert disagreement_reasons(verdicts) == expected


def test_merge_keeps_single_order_verdict_and_ties_a_flip() -> None:
    merged, flipped = merge_verdicts([jv("j1", A, AB), jv("j1", B, BA), jv("j2", BAD, AB)])
    assert merged == {"j1": TIE, "j2": BAD}
    assert flipped == {"j1"}


def test_mask_round_trip() -> None:
    for _, verdicts, expected in CASES:
        reasons = disagreement_reasons(verdicts)
        assert mask_to_reasons(reasons_to_mask(reasons)) == reasons == expected
