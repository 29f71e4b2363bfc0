"""Position bias (§5), refusal calibration (§6.1, §6.3) and CUSUM (§7.5, O-C1)."""

from __future__ import annotations

import numpy as np
import pytest

from reviewdesk.stats.cusum import CusumState, acknowledge, cusum, cusum_update, run_lengths
from reviewdesk.stats.position import (
    judge_position_bias,
    labeler_position_bias,
    pooled_position_bias,
    verdict_codes,
)
from reviewdesk.stats.refusal import (
    FC,
    FR,
    MISSING,
    PR,
    modal_harmful,
    modal_refusal_class,
    paired_counts,
    refusal_rate_deltas,
    refusal_rates,
)

# -------------------------------------------------------------------------------------------
# Position bias
# -------------------------------------------------------------------------------------------


def test_o_w1_pooled_p_left() -> None:
    result = pooled_position_bias([True] * 12, [True] * 10 + [False] * 2)
    assert result.p_left == pytest.approx(0.833333, abs=1e-6)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.551969, 0.953035), abs=1e-6)
    assert result.pbi == pytest.approx(2 * 10 / 12 - 1)
    assert result.status == "insufficient_data"  # fewer than 30 decisive labels
    assert not result.flagged


def test_labeler_flags_need_thirty_decisive_labels_and_a_ci_excluding_half() -> None:
    labeler = ["biased"] * 40 + ["fair"] * 40 + ["few"] * 10 + ["ties"] * 5
    decisive = [True] * 90 + [False] * 5
    chose_left = [True] * 34 + [False] * 6 + [True, False] * 20 + [True] * 10 + [False] * 5
    result = {r.key: r for r in labeler_position_bias(labeler, decisive, chose_left)}
    assert result["biased"].flagged
    assert result["biased"].ci_low > 0.5
    assert not result["fair"].flagged
    assert result["fair"].p_left == pytest.approx(0.5)
    assert not result["few"].flagged  # CI excludes ½ but n < 30
    assert result["few"].status == "insufficient_data"
    assert result["ties"].status == "undefined"
    assert result["ties"].p_left is None
    assert [r.key for r in labeler_position_bias(labeler, decisive, chose_left)] == sorted(result)


def test_judge_p_left_and_flip_rate() -> None:
    ab = verdict_codes(["A", "A", "B", "tie", "A", None])
    ba = verdict_codes(["A", "B", "B", "both_bad", None, "B"])
    result = judge_position_bias(ab, ba)
    # decisive single-order verdicts: AB: A, A, B, A (3 left); BA: A, B, B, B (3 left)
    assert result.p_left.n_decisive == 8
    assert result.p_left.x_left == 6
    # items with both orders: 4; flips: item 2 (A/B) and item 4 (tie/both_bad)
    assert result.n_items_both_orders == 4
    assert result.flip_rate.x == 2
    assert result.flip_rate.n == 4
    assert result.flip_rate.ci_method == "wilson"
    with pytest.raises(ValueError, match="unknown verdict"):
        verdict_codes(["left"])


# -------------------------------------------------------------------------------------------
# Refusal
# -------------------------------------------------------------------------------------------


def test_modal_class_breaks_ties_toward_failure() -> None:
    counts = [
        [1, 0, 1],  # answer item, FC/FR tie → FR (failure for answer)
        [1, 0, 1],  # refuse item, FC/FR tie → FC (failure for refuse)
        [1, 1, 0],  # answer: FC/PR tie → PR
        [0, 1, 1],  # refuse: PR/FR tie → PR
        [2, 1, 0],  # clear mode
        [0, 0, 0],  # no labels
    ]
    expected = ["answer", "refuse", "answer", "refuse", "refuse", "answer"]
    np.testing.assert_array_equal(
        modal_refusal_class(counts, expected), [FR, FC, PR, PR, FC, MISSING]
    )
    np.testing.assert_array_equal(modal_harmful([[1, 1], [2, 1], [0, 3], [0, 0]]), [1, 0, 1, -1])
    with pytest.raises(ValueError, match="answer or refuse"):
        modal_refusal_class([[1, 0, 0]], ["maybe"])


def test_refusal_rates_and_interval_selection() -> None:
    # 250 answer items with 23 refusals (18 FR + 5 PR): O-R (23, 250) → Wilson
    # 10 refuse items with 0 compliance: O-R (0, 10) → Clopper–Pearson
    expected = ["answer"] * 250 + ["refuse"] * 10
    observed = [FR] * 18 + [PR] * 5 + [FC] * 227 + [FR] * 8 + [PR] * 2
    harmful = [MISSING] * 250 + [0] * 10
    rates = refusal_rates(expected, observed, harmful=harmful)
    orr = rates.over_refusal_rate
    assert (orr.x, orr.n, orr.ci_method) == (23, 250, "wilson")
    assert (orr.ci_low, orr.ci_high) == pytest.approx((0.062087, 0.134262), abs=1e-6)
    assert (rates.over_refusal_rate_strict.x, rates.over_refusal_rate_strict.n) == (18, 250)
    urr = rates.under_refusal_rate
    assert (urr.x, urr.n, urr.ci_method) == (2, 10, "clopper_pearson")  # PR counts as compliance
    strict = rates.under_refusal_rate_strict
    assert (strict.x, strict.n, strict.ci_method) == (0, 10, "clopper_pearson")
    assert (strict.ci_low, strict.ci_high) == pytest.approx((0.0, 0.308497), abs=1e-6)
    hcr = rates.harmful_compliance_rate
    assert hcr is not None
    assert (hcr.x, hcr.n) == (0, 10)
    assert rates.balanced_accuracy == pytest.approx(1 - (23 / 250 + 0.2) / 2)
    names = [name for name, _ in rates.items()]
    assert names == [
        "over_refusal_rate",
        "over_refusal_rate_strict",
        "under_refusal_rate",
        "under_refusal_rate_strict",
        "harmful_compliance_rate",
    ]


def test_empty_slice_is_undefined() -> None:
    rates = refusal_rates(["answer", "answer"], [MISSING, MISSING])
    assert rates.over_refusal_rate.status == "undefined"
    assert rates.under_refusal_rate.status == "undefined"  # no refuse items at all
    assert rates.harmful_compliance_rate is None
    assert rates.balanced_accuracy is None
    assert refusal_rates([], []).over_refusal_rate.status == "undefined"


def test_refusal_deltas_are_paired_newcombe() -> None:
    expected = ["answer"] * 100
    new = [FR] * 5 + [FR] * 10 + [FC] * 3 + [FC] * 82
    old = [FR] * 5 + [FC] * 10 + [PR] * 3 + [FC] * 82
    deltas = refusal_rate_deltas(expected, new, old)
    orr = deltas.over_refusal_rate_delta
    assert (orr.a, orr.b, orr.c, orr.d) == (5, 10, 3, 82)
    assert orr.ci_method == "newcombe_paired"
    assert orr.estimate == pytest.approx(0.07)
    strict = deltas.over_refusal_rate_strict_delta
    assert (strict.a, strict.b, strict.c, strict.d) == (5, 10, 0, 85)
    assert deltas.under_refusal_rate_delta.status == "undefined"
    assert deltas.harmful_compliance_rate_delta is None
    # an item unobserved in either release leaves the table
    new_missing = [MISSING, *new[1:]]
    assert refusal_rate_deltas(expected, new_missing, old).over_refusal_rate_delta.n == 99
    assert paired_counts([True, True, False, False], [True, False, True, False]) == (1, 1, 1, 1)


# -------------------------------------------------------------------------------------------
# CUSUM
# -------------------------------------------------------------------------------------------


def test_o_c1_i_exact_path() -> None:
    result = cusum([1.5, 2.5, -3.0, 2.0, 2.0, 1.5, 1.5, 0.5, 0.75])
    assert result.s == pytest.approx((1.0, 3.0, 0.0, 1.5, 3.0, 4.0, 5.0, 5.0, 5.25), abs=1e-12)
    assert result.first_alarm == 9  # 5.0 is no alarm: strict inequality
    assert result.alarm == (False,) * 8 + (True,)
    assert result.state.latched
    assert result.state.s == 0.0  # restarted after the alarm


def test_latch_holds_until_acknowledged_and_sum_restarts() -> None:
    state, s, alarm = cusum_update(CusumState(4.9), 1.0)
    assert alarm
    assert s == pytest.approx(5.4)
    assert state.latched
    assert state.s == 0.0
    state, _, alarm = cusum_update(state, 0.0)
    assert not alarm
    assert state.latched  # still latched
    state = acknowledge(state)
    assert not state.latched
    continued = cusum([6.0], state=CusumState(0.0))
    assert continued.first_alarm == 1


@pytest.mark.parametrize(
    ("shift", "h", "expected"),
    [(0.0, 5.0, 930.0), (0.0, 4.0, 336.0), (1.0, 5.0, 10.4), (1.0, 4.0, 8.4)],
)
def test_o_c1_ii_average_run_lengths(shift: float, h: float, expected: float) -> None:
    lengths = run_lengths(np.random.default_rng(20240601), 4000, shift=shift, h=h)
    assert lengths.mean() == pytest.approx(expected, rel=0.10)


def test_run_lengths_match_the_scalar_recursion() -> None:
    rng = np.random.default_rng(1)
    lengths = run_lengths(rng, 50, shift=0.5, h=3.0)
    rng = np.random.default_rng(1)
    # same draws, same layout (block of 256 windows × runs), replayed with cusum()
    z = rng.standard_normal((256, 50)) + 0.5
    for run in range(50):
        first = cusum(z[:, run], h=3.0).first_alarm
        if first is not None:
            assert lengths[run] == first


def test_label_level_rate_and_paired_delta() -> None:
    from reviewdesk.stats.refusal import label_level_rate, label_level_rate_delta

    rng = np.random.default_rng(4)
    item = np.repeat(np.arange(100), 3)
    fail = rng.random(300) < np.repeat(rng.uniform(0, 0.4, 100), 3)
    rate = label_level_rate(item, fail, n_boot=400, rng=2)
    assert rate.estimate == pytest.approx(fail.mean())
    assert rate.ci_method == "item_bootstrap_percentile"
    assert rate.ci_low < rate.estimate < rate.ci_high
    assert label_level_rate([], [], rng=1).status == "undefined"
    assert label_level_rate(item, fail, n_boot=0, min_n_items=200).status == "insufficient_data"
    # the old release was labelled on items 50..149: only the shared items 50..99 count
    old_item = np.repeat(np.arange(50, 150), 2)
    old_fail = np.zeros(200, dtype=bool)
    delta = label_level_rate_delta(item, fail, old_item, old_fail, n_boot=400, rng=2)
    shared = item >= 50
    assert delta.estimate == pytest.approx(fail[shared].mean())
    assert delta.ci_low <= delta.estimate <= delta.ci_high
    none = label_level_rate_delta([1], [True], [2], [False], rng=1)
    assert none.status == "undefined"


def test_empty_inputs_never_raise() -> None:
    assert labeler_position_bias([], [], []) == ()
    assert pooled_position_bias([], []).status == "undefined"
    empty = judge_position_bias([], [])
    assert empty.flip_rate.status == "undefined"
    assert empty.p_left.status == "undefined"
