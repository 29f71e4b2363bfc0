"""Where the automated judges disagree about one item (SPEC §4, STATISTICS.md §2.3).

Each judge's verdicts are first merged across display orders with the MT-Bench rule: a judge seen
in one order keeps that verdict; seen in several orders it keeps the shared verdict if they agree,
else its merged verdict is ``tie``. Refusal-only judgments (no verdict) are not judges here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

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


class JudgeVerdict(NamedTuple):
    """One judgment reduced to what disagreement needs (a tuple: built once per judgment)."""

    judge: str
    order: Order
    verdict: Verdict
    probability_b: float | None = None


def merge_verdicts(verdicts: Iterable[JudgeVerdict]) -> tuple[dict[str, Verdict], set[str]]:
    """Merge each judge's verdicts; return (merged verdict per judge, judges that flipped)."""
    seen: dict[str, dict[Order, Verdict]] = {}
    for v in verdicts:
        by_order = seen.get(v.judge)
        if by_order is None:
            seen[v.judge] = {v.order: v.verdict}
        else:
            by_order[v.order] = v.verdict
    merged: dict[str, Verdict] = {}
    flipped: set[str] = set()
    for judge, by_order in seen.items():
        if len(by_order) == 1:
            merged[judge] = next(iter(by_order.values()))
            continue
        values = set(by_order.values())
        merged[judge] = next(iter(values)) if len(values) == 1 else Verdict.TIE
        ab, ba = by_order.get(Order.AB), by_order.get(Order.BA)
        if ab is not None and ba is not None and ab != ba:
            flipped.add(judge)
    return merged, flipped


_DECISIVE = frozenset((Verdict.A, Verdict.B))


def disagreement_reasons(verdicts: Iterable[JudgeVerdict]) -> frozenset[DisagreementReason]:
    """The reasons an item is contested (possibly several, possibly none).

    Runs once per imported item, so it avoids needless allocation.
    """
    verdicts = list(verdicts)
    if not verdicts:
        return _NONE
    merged, flipped = merge_verdicts(verdicts)
    reasons: set[DisagreementReason] = set()
    values = set(merged.values())
    if Verdict.A in values and Verdict.B in values:
        reasons.add(DisagreementReason.JUDGE_SPLIT)
    elif values & _DECISIVE and values - _DECISIVE:
        reasons.add(DisagreementReason.TIE_SPLIT)
    if flipped:
        reasons.add(DisagreementReason.POSITION_FLIP)
    low = None
    for v in verdicts:
        if v.probability_b is not None and v.verdict in _DECISIVE:
            if abs(v.probability_b - 0.5) >= LOW_CONFIDENCE_MARGIN - _EPS:
                low = False
                break
            low = True
    if low:
        reasons.add(DisagreementReason.LOW_CONFIDENCE)
    return frozenset(reasons) if reasons else _NONE


_NONE: frozenset[DisagreementReason] = frozenset()


def reasons_to_mask(reasons: Iterable[DisagreementReason]) -> int:
    mask = 0
    for reason in reasons:
        mask |= REASON_BITS[reason]
    return mask


def mask_to_reasons(mask: int) -> frozenset[DisagreementReason]:
    return frozenset(r for r, bit in REASON_BITS.items() if mask & bit)
