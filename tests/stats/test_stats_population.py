"""Prediction-powered population estimate (§3.4), O-P1."""

from __future__ import annotations

import numpy as np
import pytest

from reviewdesk.stats.population import population_win_rate

Y = [1, 0, 1, 1, 0, 1, 0.5, 1, 0, 1]
F_AUDIT = [1, 1, 1, 1, 0, 1, 1, 1, 0, 1]
F_REST = [1.0] * 60 + [0.0] * 30 + [0.5] * 10


def test_o_p1_uniform_audit() -> None:
    result = population_win_rate(Y, F_AUDIT, F_REST, min_n_items=10)
    assert result is not None
    assert result.status == "ok"
    assert result.ci_method == "ppi_normal"
    assert result.judge_term == pytest.approx(0.65, abs=1e-6)
    assert result.rectifier == pytest.approx(-0.15, abs=1e-6)
    assert np.var(F_REST, ddof=1) == pytest.approx(0.204545, abs=1e-6)
    assert np.var(np.subtract(Y, F_AUDIT), ddof=1) == pytest.approx(0.113889, abs=1e-6)
    assert result.estimate == pytest.approx(0.5, abs=1e-6)
    assert result.se == pytest.approx(0.115907, abs=1e-6)
    assert result.ci_low == pytest.approx(0.272827, abs=1e-4)
    assert result.ci_high == pytest.approx(0.727173, abs=1e-4)
    assert result.human_only_estimate == pytest.approx(0.65, abs=1e-6)
    assert result.human_only_se == pytest.approx(0.15, abs=1e-6)
    assert (result.n_pool, result.n_audit) == (110, 10)
    extras = result.extras()
    assert extras["human_only_estimate"] == pytest.approx(0.65)
    assert extras["n_pool"] == 110
    assert extras["n_audit"] == 10


def test_no_audit_means_no_record() -> None:
    assert population_win_rate([], [], F_REST) is None


def test_small_audit_is_insufficient_with_numbers_kept() -> None:
    result = population_win_rate(Y, F_AUDIT, F_REST)  # default min_n_items = 30
    assert result is not None
    assert result.status == "insufficient_data"
    assert result.estimate == pytest.approx(0.5)


def test_one_audit_item_has_no_variance() -> None:
    result = population_win_rate([1.0], [0.0], F_REST, min_n_items=0)
    assert result is not None
    assert result.status == "undefined"
    assert result.ci_low is None
    assert result.estimate == pytest.approx(0.65 + 1.0)  # shown, not clipped, not gated


def test_horvitz_thompson_form() -> None:
    rng = np.random.default_rng(3)
    y = rng.choice([0.0, 0.5, 1.0], size=40)
    f_a = np.clip(y + rng.choice([-0.5, 0.0, 0.5], size=40), 0, 1)
    f_r = rng.choice([0.0, 0.5, 1.0], size=400)
    pi = rng.uniform(0.05, 0.3, size=40)
    result = population_win_rate(y, f_a, f_r, inclusion_prob=pi)
    assert result is not None
    w = 1 / pi
    pool = np.concatenate([f_a, f_r])
    r = y - f_a
    r_bar = (w * r).sum() / w.sum()
    se2 = (
        np.var(pool, ddof=1) / pool.size + 40 / 39 * (w**2 * (r - r_bar) ** 2).sum() / w.sum() ** 2
    )
    assert result.weighted
    assert result.judge_term == pytest.approx(pool.mean())
    assert result.estimate == pytest.approx(pool.mean() + r_bar)
    assert result.se == pytest.approx(np.sqrt(se2))
    assert result.human_only_estimate == pytest.approx((w * y).sum() / w.sum())


def test_equal_weights_give_the_uniform_rectifier_variance() -> None:
    uniform = population_win_rate(Y, F_AUDIT, F_REST, min_n_items=0)
    weighted = population_win_rate(Y, F_AUDIT, F_REST, inclusion_prob=[0.1] * 10, min_n_items=0)
    assert uniform is not None
    assert weighted is not None
    assert weighted.rectifier == pytest.approx(uniform.rectifier)
    pool = np.concatenate([F_AUDIT, F_REST])
    rect_var = uniform.se**2 - np.var(F_REST, ddof=1) / len(F_REST)
    assert weighted.se**2 == pytest.approx(np.var(pool, ddof=1) / pool.size + rect_var)


def test_interval_is_clipped_and_inputs_validated() -> None:
    result = population_win_rate([1.0] * 30, [1.0] * 30, [1.0] * 5 + [0.9] * 5)
    assert result is not None
    assert result.ci_high <= 1.0
    with pytest.raises(ValueError, match="scores"):
        population_win_rate([2.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="inclusion"):
        population_win_rate([1.0], [1.0], [1.0], inclusion_prob=[0.0])
