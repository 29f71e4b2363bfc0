"""Queue policy: blinding, counterbalancing, audit sampling, interleaving."""

from __future__ import annotations

from reviewdesk.domain.model import DisagreementReason as R
from reviewdesk.domain.model import Slot
from reviewdesk.queueing.policy import (
    contested_priority,
    first_left_slot,
    in_audit_sample,
    interleaved_priority,
    left_slot_for,
    order_key,
    slice_weight,
)


def test_counterbalancing_alternates_sides_per_item() -> None:
    for n in range(200):
        key = f"item-{n}"
        sides = [left_slot_for(7, key, k) for k in range(6)]
        assert sides[0] == first_left_slot(7, key)
        assert all(sides[k] != sides[k + 1] for k in range(5))


def test_first_side_is_a_fair_coin_and_depends_on_seed() -> None:
    firsts = [first_left_slot(7, f"item-{n}") for n in range(4000)]
    share_a = firsts.count(Slot.A) / len(firsts)
    assert 0.47 < share_a < 0.53
    other_seed = [first_left_slot(8, f"item-{n}") for n in range(4000)]
    assert firsts != other_seed


def test_each_round_of_an_item_tosses_its_own_side_coin() -> None:
    """An anchor re-served with an odd number of labels per window must not lean to one side."""
    keys = [f"anchor-{n}" for n in range(4000)]
    for key in keys[:50]:
        # Round 0 is the item's own coin; within a later round the sides still alternate.
        assert left_slot_for(7, key, 0) == first_left_slot(7, key) == first_left_slot(7, key, 0)
        sides = [left_slot_for(7, key, k, 3) for k in range(4)]
        assert sides[0] == first_left_slot(7, key, 3)
        assert all(sides[k] != sides[k + 1] for k in range(3))
    # Across twelve windows of three labels each, every anchor's first labels split about evenly
    # (with one coin for all rounds, they would all show the same slot: 24 of 36 labels).
    left_a = [
        sum(left_slot_for(7, key, k, r) is Slot.A for r in range(12) for k in range(3))
        for key in keys
    ]
    assert 17.0 < sum(left_a) / len(left_a) < 19.0
    same_first_every_round = sum(
        len({first_left_slot(7, key, r) for r in range(12)}) == 1 for key in keys
    )
    assert same_first_every_round < 10  # 2 * 4000 / 2**12 expected by chance


def test_draws_are_deterministic_across_calls() -> None:
    assert order_key(1, "x") == order_key(1, "x") != order_key(2, "x")
    assert 0 <= order_key(1, "x") < 2**63
    assert [in_audit_sample(3, f"i{n}", 0.1) for n in range(50)] == [
        in_audit_sample(3, f"i{n}", 0.1) for n in range(50)
    ]


def test_audit_sample_rate_and_nesting() -> None:
    keys = [f"item-{n}" for n in range(20000)]
    low = {k for k in keys if in_audit_sample(11, k, 0.1)}
    high = {k for k in keys if in_audit_sample(11, k, 0.2)}
    assert 0.09 < len(low) / len(keys) < 0.11
    assert 0.19 < len(high) / len(keys) < 0.21
    assert low <= high  # raising the rate only adds items
    assert not any(in_audit_sample(11, k, 0.0) for k in keys[:1000])
    assert all(in_audit_sample(11, k, 1.0) for k in keys[:1000])


def test_priorities() -> None:
    weights = {"category=billing": 2.0, "language=de": 0.5}
    assert contested_priority(frozenset(), {}, weights) == 0.0
    assert contested_priority(frozenset({R.TIE_SPLIT}), {}, weights) == 0.5
    assert contested_priority(frozenset({R.TIE_SPLIT, R.LOW_CONFIDENCE}), {}, weights) == 0.6
    assert contested_priority(frozenset({R.POSITION_FLIP}), {}, weights) == 1.0
    both = {"category": "billing", "language": "de"}
    assert slice_weight(both, weights) == 1.0
    assert contested_priority(frozenset({R.JUDGE_SPLIT}), {"category": "billing"}, weights) == 2.0


def test_interleaved_priorities_follow_the_contested_distribution() -> None:
    contested = sorted([1.0] * 600 + [0.6] * 300 + [0.5] * 100)
    drawn = [interleaved_priority(5, f"audit-{n}", contested) for n in range(5000)]
    assert set(drawn) <= {1.0, 0.6, 0.5}
    assert 0.56 < drawn.count(1.0) / len(drawn) < 0.64
    assert 0.07 < drawn.count(0.5) / len(drawn) < 0.13
    assert interleaved_priority(5, "x", []) == 1.0
