"""Queue policy: priorities, the random audit stratum, serving keys and blinded sides.

Everything is a pure function of the project seed and stable item keys, hashed with BLAKE2b, so
rebuilding a queue is idempotent and no result depends on call order (SPEC §4, STATISTICS.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reviewdesk.domain.hashing import blake2b_coin, blake2b_int, blake2b_unit
from reviewdesk.domain.model import DisagreementReason, Slot

REASON_PRIORITY: dict[DisagreementReason, float] = {
    DisagreementReason.JUDGE_SPLIT: 1.0,
    DisagreementReason.POSITION_FLIP: 1.0,
    DisagreementReason.LOW_CONFIDENCE: 0.6,
    DisagreementReason.TIE_SPLIT: 0.5,
}

DEFAULT_AUDIT_RATE = 0.10
DEFAULT_OVERLAP = 2
#: How many pairs the GUI keeps ready ahead of the one on screen.
PREFETCH_DEPTH = 3


def slice_weight(slices: Mapping[str, str], weights: Mapping[str, float]) -> float:
    """Product of the weights configured for the item's ``key=value`` slices (default 1)."""
    weight = 1.0
    for key, value in slices.items():
        weight *= weights.get(f"{key}={value}", 1.0)
    return weight


def contested_priority(
    reasons: frozenset[DisagreementReason], slices: Mapping[str, str], weights: Mapping[str, float]
) -> float:
    """Highest reason priority times the slice weight; 0 when the item is not contested."""
    if not reasons:
        return 0.0
    return max(REASON_PRIORITY[r] for r in reasons) * slice_weight(slices, weights)


def in_audit_sample(seed: int, item_key: str, rate: float) -> bool:
    """Poisson sampling: each uncontested item is drawn independently with probability ``rate``."""
    return blake2b_unit("audit", seed, item_key) < rate


def interleaved_priority(seed: int, item_key: str, contested: Sequence[float]) -> float:
    """A priority for an audit/anchor/control entry, drawn from the contested priorities.

    Serving sorts by priority, so giving these entries the priority of a random contested entry
    spreads them through the queue in proportion: a reviewer cannot tell from an item's place in
    the queue why it is there. ``contested`` must be sorted ascending.
    """
    if not contested:
        return 1.0
    u = blake2b_unit("interleave", seed, item_key)
    return contested[min(len(contested) - 1, int(u * len(contested)))]


def order_key(seed: int, item_key: str) -> int:
    """The stable hash that breaks ties in serving order (63 bits, fits SQLite INTEGER)."""
    return blake2b_int("order", seed, item_key)


def first_left_slot(seed: int, item_key: str, round_: int = 0) -> Slot:
    """The fair coin deciding which slot the first label of an item's round shows on the left.

    Round 0 (the item's first queue entry) tosses on the item alone; each later round (an anchor
    re-served in a new window) tosses its own coin, so an anchor with an odd number of labels per
    round is not shown the same way round first in every window.
    """
    parts: tuple[object, ...] = (
        ("side", seed, item_key) if round_ == 0 else ("side", seed, item_key, round_)
    )
    return Slot.A if blake2b_coin(*parts) else Slot.B


def left_slot_for(seed: int, item_key: str, labels_before: int, round_: int = 0) -> Slot:
    """Counterbalanced side: the first label of a round gets the coin, each later one the other.

    ``labels_before`` counts the labels already on the entry (other reviewers', and the
    reviewer's own earlier ones on a re-served entry), so S₊₁ and S₋₁ stay exchangeable
    (STATISTICS.md §5).
    """
    first = first_left_slot(seed, item_key, round_)
    return first if labels_before % 2 == 0 else first.other
