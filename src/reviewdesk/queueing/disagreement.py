"""Where the automated judges disagree about one item (SPEC §4, STATISTICS.md §2.3).

Each judge's verdicts are first merged across display orders with the MT-Bench rule: a judge seen
in one order keeps that verdict; seen in several orders it keeps the shared verdict if they agree,
else its merged verdict is ``tie``. Refusal-only judgments (no verdict) are not judges here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reviewdesk.domain.model import DisagreementReason, Order, Verdict

#: Bit of each reason in the compact mask stored per item.
REASON_BITS: dict[DisagreementReason, int] = {
    DisagreementReason.JUDGE_SPLIT: 1,
    DisagreementReason.POSITION_FLIP: 2,
    DisagreementReason.TIE_SPLIT: 4,
    DisagreementReason.LOW_CONFIDENCE: 8,
}

#: ``low_confidence`` when every decisive judgment with a probability is this close to 0.5.
LOW_CONFIDENCE_MARGIN = 0.1
#: Floating-point slack so that the boundary (p = 0.6, where |0.6 - 0.5| is 0.0999…98 in binary)
#: is not low, as the rule's strict inequality intends.
_EPS = 1e-12


@dataclass(frozen=True)
class JudgeVerdict:
    """One judgment reduced to what disagreement needs."""

    judge: str
    order: Order
    verdict: Verdict
    probability_b: float | None = None


def merge_verdicts(verdicts: Iterable[JudgeVerdict]) -> tuple[dict[str, Verdict], set[str]]:
    """Merge each judge's verdicts; return (merged verdict per judge, judges that flipped)."""
    seen: dict[str, dict[Order, Verdict]] = {}
    for v in verdicts:
        seen.setdefault(v.judge, {})[v.order] = v.verdict
    merged: dict[str, Verdict] = {}
    flipped: set[str] = set()
    for judge, by_order in seen.items():
        values = set(by_order.values())
        merged[judge] = next(iter(values)) if len(values) == 1 else Verdict.TIE
        ab, ba = by_order.get(Order.AB), by_order.get(Order.BA)
        if ab is not None and ba is not None and ab != ba:
            flipped.add(judge)
    return merged, flipped


def disagreement_reasons(verdicts: Iterable[JudgeVerdict]) -> frozenset[DisagreementReason]:
    """The reasons an item is contested (possibly several, possibly none)."""
    verdicts = list(verdicts)
    merged, flipped = merge_verdicts(verdicts)
    reasons: set[DisagreementReason] = set()
    values = set(merged.values())
    if Verdict.A in values and Verdict.B in values:
        reasons.add(DisagreementReason.JUDGE_SPLIT)
    if flipped:
        reasons.add(DisagreementReason.POSITION_FLIP)
    decisive = {v for v in values if v.decisive}
    if DisagreementReason.JUDGE_SPLIT not in reasons and decisive and values - decisive:
        reasons.add(DisagreementReason.TIE_SPLIT)
    probs = [
        v.probability_b for v in verdicts if v.verdict.decisive and v.probability_b is not None
    ]
    if probs and all(abs(p - 0.5) < LOW_CONFIDENCE_MARGIN - _EPS for p in probs):
        reasons.add(DisagreementReason.LOW_CONFIDENCE)
    return frozenset(reasons)


def reasons_to_mask(reasons: Iterable[DisagreementReason]) -> int:
    mask = 0
    for reason in reasons:
        mask |= REASON_BITS[reason]
    return mask


def mask_to_reasons(mask: int) -> frozenset[DisagreementReason]:
    return frozenset(r for r, bit in REASON_BITS.items() if mask & bit)
