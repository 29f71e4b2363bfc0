"""Calibrated win rate (§3.1–§3.3), O-W1, the redraw rule, extras and length control (§3.5)."""

from __future__ import annotations

import numpy as np
import pytest

from reviewdesk.stats.length_control import (
    fit_fractional_logit,
    lc_replicate_fits,
    length_controlled_win_rate,
    marginal_win_rate,
    style_sensitive,
)
from reviewdesk.stats.resampling import multiplicities
from reviewdesk.stats.winrate import calibrated_win_rate

TOL = 1e-6

# O-W1: (item, labeler, o, s)
O_W1 = [
    (1, "h1", +1, 1),
    (1, "h2", -1, 1),
    (1, "h3", +1, 1),
    (2, "h1", -1, 0),
    (2, "h2", +1, 0.5),
    (3, "h2", +1, 1),
    (3, "h3", -1, 0),
    (3, "h1", +1, 1),
    (4, "h3", -1, 0.5),
    (4, "h1", +1, 1),
    (5, "h2", -1, 0),
    (5, "h3", +1, 1),
    (6, "h1", -1, 1),
    (6, "h2", +1, 1),
]


def _o_w1() -> dict[str, np.ndarray]:
    rows = np.array([(i, o, s) for i, _, o, s in O_W1], dtype=float)
    return {
        "item": rows[:, 0].astype(int),
        "orientation": rows[:, 1],
        "score": rows[:, 2],
        "labeler": np.array([lab for _, lab, _, _ in O_W1]),
    }


def test_o_w1_point_estimates_and_extras() -> None:
    d = _o_w1()
    result = calibrated_win_rate(**d, n_boot=0, min_n_items=0)
    assert result.status == "ok"
    assert result.estimate == pytest.approx(0.666667, abs=TOL)
    assert (result.n_items, result.n_labels, result.n_labelers) == (6, 14, 3)
    ex = result.extras
    assert ex.raw_label_mean == pytest.approx(0.714286, abs=TOL)
    assert ex.item_weighted_wr == pytest.approx(0.694444, abs=TOL)
    assert ex.wr_plus == pytest.approx(0.916667, abs=TOL)
    assert ex.wr_minus == pytest.approx(0.416667, abs=TOL)
    assert ex.pos_effect == pytest.approx(0.5, abs=TOL)
    assert ex.decisive_wr == pytest.approx(0.75, abs=TOL)
    assert ex.tie_rate == pytest.approx(0.142857, abs=TOL)
    assert ex.both_bad_rate == 0.0
    assert ex.p_left_decisive == pytest.approx(0.833333, abs=TOL)
    assert ex.p_left_decisive_ci == pytest.approx((0.551969, 0.953035), abs=TOL)


def test_o_w1_bootstrap_interval_is_exact() -> None:
    d = _o_w1()
    result = calibrated_win_rate(
        **d, n_boot=2000, rng=np.random.default_rng(20240601), min_n_items=0
    )
    assert result.ci_method == "item_bootstrap_percentile"
    assert result.ci_low == pytest.approx(0.458333, abs=TOL)
    assert result.ci_high == pytest.approx(0.875000, abs=TOL)
    assert result.extras.n_redraws == 0
    assert result.extras.pos_effect_ci is not None
    # an int seed is the same stream, and is recorded in extras.seed
    seeded = calibrated_win_rate(**d, n_boot=2000, rng=20240601, min_n_items=0)
    assert (seeded.ci_low, seeded.ci_high) == (result.ci_low, result.ci_high)
    assert seeded.extras.seed == 20240601
    assert result.extras.seed is None


def test_o_w1_stream_is_each_replicate_drawing_six_indices_in_turn() -> None:
    """The reference computation of O-W1, spelled out replicate by replicate."""
    d = _o_w1()
    rng = np.random.default_rng(20240601)
    items = np.unique(d["item"])
    o, s, item = d["orientation"], d["score"], d["item"]
    reps = []
    for _ in range(2000):
        drawn = items[rng.integers(0, 6, size=6)]
        plus = [s[(item == i) & (o > 0)].mean() for i in drawn if np.any((item == i) & (o > 0))]
        minus = [s[(item == i) & (o < 0)].mean() for i in drawn if np.any((item == i) & (o < 0))]
        reps.append((np.mean(plus) + np.mean(minus)) / 2)
    low, high = np.quantile(reps, [0.025, 0.975])
    fast = calibrated_win_rate(**d, n_boot=2000, rng=20240601, min_n_items=0)
    assert fast.ci_low == pytest.approx(low, abs=1e-12)
    assert fast.ci_high == pytest.approx(high, abs=1e-12)


def test_chunk_size_does_not_change_the_interval() -> None:
    d = _o_w1()
    big = calibrated_win_rate(**d, n_boot=500, rng=7, min_n_items=0)
    small = calibrated_win_rate(**d, n_boot=500, rng=7, min_n_items=0, max_cells=13)
    assert (big.ci_low, big.ci_high, big.extras.pos_effect_ci) == (
        small.ci_low,
        small.ci_high,
        small.extras.pos_effect_ci,
    )


def test_o_w1_position_only_glm() -> None:
    d = _o_w1()
    fit = length_controlled_win_rate(d["score"], orientation=d["orientation"])
    assert fit.lc_status == "ok"
    assert fit.beta0 == pytest.approx(1.185789, abs=TOL)
    assert fit.beta_pos == pytest.approx(1.522261, abs=TOL)
    assert fit.cwr_lc == pytest.approx(0.677083, abs=TOL)
    # σ(θ) of a model with a position term is the wrong number (0.765987)
    assert marginal_win_rate(fit.beta0, None) == pytest.approx(0.765987, abs=TOL)


def test_min_n_items_gives_insufficient_data_with_numbers() -> None:
    result = calibrated_win_rate(**_o_w1(), n_boot=200, rng=1)  # default min_n_items = 30
    assert result.status == "insufficient_data"
    assert "min_n_items" in (result.reason or "")
    assert result.estimate == pytest.approx(2 / 3)
    assert result.ci_low is not None


def test_one_orientation_missing_is_undefined() -> None:
    result = calibrated_win_rate([1, 2, 3], [1, 1, 1], [1, 0, 1], n_boot=100, rng=1, min_n_items=0)
    assert result.status == "undefined"
    assert result.estimate is None
    assert result.ci_low is None
    assert "orientation -1" in (result.reason or "")
    empty = calibrated_win_rate([], [], [], n_boot=100, rng=1, min_n_items=0)
    assert empty.status == "undefined"
    assert empty.n_items == 0
    both = calibrated_win_rate([1], [1], [1], n_boot=10, rng=1)  # undefined and insufficient
    assert both.status == "insufficient_data"


def test_unknown_side_labels_are_excluded_and_counted() -> None:
    d = _o_w1()
    item = np.concatenate([d["item"], [1, 7, 7]])
    orientation = np.concatenate([d["orientation"], [0, 0, 0]])
    score = np.concatenate([d["score"], [0, 0, 1]])
    result = calibrated_win_rate(item, orientation, score, n_boot=0, min_n_items=0)
    assert result.estimate == pytest.approx(2 / 3)
    assert result.n_items == 6  # item 7 has no known-side label
    assert result.n_labels == 14
    assert result.extras.n_unknown_side == 3


def test_both_bad_counts_as_half_but_is_reported_apart() -> None:
    item = [1, 1, 2, 2]
    o = [1, -1, 1, -1]
    s = [0.5, 0.5, 1, 0]
    both_bad = [True, False, False, False]
    result = calibrated_win_rate(item, o, s, both_bad=both_bad, n_boot=0, min_n_items=0)
    assert result.extras.tie_rate == pytest.approx(0.25)
    assert result.extras.both_bad_rate == pytest.approx(0.25)
    assert result.estimate == pytest.approx(0.5)
    with pytest.raises(ValueError, match="both_bad"):
        calibrated_win_rate([1], [1], [1], both_bad=[True], n_boot=0)


def test_invalid_inputs_are_caller_bugs() -> None:
    with pytest.raises(ValueError, match="orientation"):
        calibrated_win_rate([1], [2], [1], n_boot=0)
    with pytest.raises(ValueError, match="score"):
        calibrated_win_rate([1], [1], [0.7], n_boot=0)
    with pytest.raises(ValueError, match="same length"):
        calibrated_win_rate([1, 2], [1], [1], n_boot=0)
    with pytest.raises(ValueError, match="seed"):
        calibrated_win_rate([1, 2], [1, -1], [1, 0], n_boot=10, min_n_items=0)


def test_redraw_rule_and_insufficient_bootstrap() -> None:
    # 2 of 40 items carry the only −1 labels: many replicates lack that orientation
    item = np.arange(40)
    o = np.where(item < 2, -1, 1)
    s = np.ones(40)
    result = calibrated_win_rate(item, o, s, n_boot=200, rng=3, min_n_items=0)
    assert result.extras.n_redraws > 0
    if result.status == "ok":
        assert result.extras.n_redraws <= 200
    # two items, one per orientation: a replicate drawing one item twice lacks an orientation
    # (probability ½), so with B = 20 some seeds need more than B redraws
    results = [
        calibrated_win_rate([1, 2], [1, -1], [1, 0], n_boot=20, rng=seed, min_n_items=0)
        for seed in range(40)
    ]
    failed = [r for r in results if r.status == "insufficient_data"]
    assert failed
    assert any(r.status == "ok" for r in results)
    for r in failed:
        assert r.ci_low is None
        assert r.estimate == pytest.approx(0.5)
        assert r.extras.n_redraws > 20


def test_screen_side_habit_dilutes_but_never_fakes_a_win() -> None:
    # a labeler who always clicks left: s = 1 when o = +1, 0 when o = −1
    item = np.repeat(np.arange(50), 2)
    o = np.tile([1, -1], 50)
    s = np.where(o > 0, 1.0, 0.0)
    result = calibrated_win_rate(item, o, s, n_boot=0, min_n_items=0)
    assert result.estimate == pytest.approx(0.5)
    assert result.extras.pos_effect == pytest.approx(1.0)
    assert result.extras.p_left_decisive == pytest.approx(1.0)


# -------------------------------------------------------------------------------------------
# Length control (§3.5)
# -------------------------------------------------------------------------------------------

O_W2_DLEN = [800, 500, 300, -200, 600, -100, 400, 50, -300, 700]
O_W2_S = [1, 1, 0.5, 0, 1, 0.5, 1, 0, 0, 1]


def test_o_w2_length_control() -> None:
    fit = length_controlled_win_rate(O_W2_S, length_delta=O_W2_DLEN, item=np.arange(10))
    assert fit.sd_len == pytest.approx(391.045607, abs=TOL)
    assert np.mean(O_W2_S) == pytest.approx(0.6)
    assert fit.beta0 == pytest.approx(-1.088258, abs=TOL)
    assert fit.beta_len == pytest.approx(4.114211, abs=TOL)
    assert fit.beta_pos is None
    assert fit.cwr_lc == pytest.approx(0.251946, abs=TOL)
    assert style_sensitive(0.6, fit.cwr_lc) is True


def test_style_sensitive_thresholds() -> None:
    assert style_sensitive(0.6, 0.449) is True
    assert style_sensitive(0.6, 0.451) is False
    assert style_sensitive(0.6, 0.70) is False  # max(0.6 + 0.1, 0.6 + 0.1) = 0.7, strict
    assert style_sensitive(0.6, 0.701) is True
    assert style_sensitive(0.1, 0.05) is False  # 10 points absolute needed as well


def test_no_convergence_and_rank_deficiency() -> None:
    separated = length_controlled_win_rate([1, 1, 1, 1], orientation=[1, -1, 1, -1])
    assert separated.lc_status == "no_convergence"
    assert separated.cwr_lc is None
    flat = length_controlled_win_rate([1, 0, 1, 1], orientation=[1, 1, 1, 1])
    assert flat.lc_status == "undefined"
    no_spread = length_controlled_win_rate([1, 0], length_delta=[5, 5])
    assert no_spread.lc_status == "undefined"
    capped = fit_fractional_logit(np.ones((4, 1)), np.array([1.0, 1, 1, 1]), np.ones(4), max_iter=3)
    assert capped.status == "no_convergence"
    assert capped.n_iter == 3


def _lc_data(n_items: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    item = np.repeat(np.arange(n_items), 3)
    o = np.tile([1, -1, 1], n_items) * np.where(rng.random(n_items * 3) < 0.5, 1, -1)
    dlen = rng.normal(0, 300, n_items)
    p = 1 / (1 + np.exp(-(0.2 + 0.8 * np.tanh(dlen / 300)[item] + 0.3 * o)))
    u = rng.random(len(item))
    s = np.where(u < 0.9 * p, 1.0, np.where(u < 0.9 * p + 0.1, 0.5, 0.0))
    return {"item": item, "orientation": o, "score": s, "length_delta": dlen[item]}


def test_cwr_lc_matches_the_label_level_fit_and_has_an_interval() -> None:
    d = _lc_data(300, 1)
    result = calibrated_win_rate(**d, n_boot=300, rng=5)
    reference = length_controlled_win_rate(
        d["score"], orientation=d["orientation"], length_delta=d["length_delta"], item=d["item"]
    )
    ex = result.extras
    assert ex.lc_status == "ok"
    assert ex.cwr_lc == pytest.approx(reference.cwr_lc, abs=1e-10)
    assert ex.sd_len == pytest.approx(reference.sd_len)
    assert ex.cwr_lc_ci is not None
    assert ex.cwr_lc_ci[0] < ex.cwr_lc < ex.cwr_lc_ci[1]
    assert ex.style_sensitive is not None
    assert ex.lc_n_failed == 0


def test_replicate_fits_are_exact_refits() -> None:
    d = _lc_data(80, 2)
    item, o, s = d["item"], d["orientation"], d["score"]
    n = 80
    dlen = np.zeros(n)
    dlen[item] = d["length_delta"]
    x = np.tanh(dlen / np.std(dlen, ddof=1))
    plus = o > 0
    counts = [np.bincount(item, weights=w, minlength=n) for w in (plus, s * plus, ~plus, s * ~plus)]
    n_plus, s_plus, n_minus, s_minus = (np.asarray(c, dtype=float) for c in counts)
    design = np.column_stack([np.ones(len(s)), x[item], o])
    beta_hat = np.array(fit_fractional_logit(design, s, np.ones(len(s))).beta)
    weights = multiplicities(np.random.default_rng(0).integers(0, n, (5, n)), n)
    beta, ok = lc_replicate_fits(weights, x, s_plus, n_plus, s_minus, n_minus, beta_hat)
    assert ok.all()
    for b in range(5):
        w = weights[b][item]
        direct = fit_fractional_logit(design, w * s, w)
        assert np.asarray(direct.beta) == pytest.approx(beta[b], abs=1e-8)


def test_k_step_bootstrap_option_is_close_to_exact_refits() -> None:
    d = _lc_data(2000, 3)
    exact = calibrated_win_rate(**d, n_boot=300, rng=5)
    one_step = calibrated_win_rate(**d, n_boot=300, rng=5, lc_steps=1)
    assert exact.extras.cwr_lc == one_step.extras.cwr_lc  # the point fit is always exact
    assert exact.ci_low == one_step.ci_low  # the CWR draws are shared
    assert one_step.extras.cwr_lc_ci is not None
    assert exact.extras.cwr_lc_ci is not None
    assert one_step.extras.cwr_lc_ci == pytest.approx(exact.extras.cwr_lc_ci, abs=5e-4)
    two_step = calibrated_win_rate(**d, n_boot=300, rng=5, lc_steps=2)
    assert two_step.extras.cwr_lc_ci == pytest.approx(exact.extras.cwr_lc_ci, abs=1e-6)
    with pytest.raises(ValueError, match="steps"):
        calibrated_win_rate(**d, n_boot=10, rng=5, lc_steps=0)
