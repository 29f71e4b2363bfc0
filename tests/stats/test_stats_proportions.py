"""Wilson, Clopper–Pearson, the §6.2 selection rule (O-R) and Newcombe's paired interval (§6.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reviewdesk.stats.proportions import (
    _log_binomial_pmf_terms,
    _lower_tail,
    _upper_tail,
    clopper_pearson_interval,
    newcombe_paired_difference,
    newcombe_phi,
    proportion,
    select_proportion_method,
    wilson_bounds,
    wilson_interval,
)

TOL = 1e-6

# O-R: (x, n) -> Wilson, Clopper–Pearson (None = not stated), selected method
O_R = [
    ((0, 10), (0.0, 0.277533), (0.0, 0.308497), "clopper_pearson"),
    ((5, 10), (0.236593, 0.763407), (0.187086, 0.812914), "clopper_pearson"),
    ((1, 50), (0.003539, 0.104954), None, "wilson"),
    ((0, 300), (0.0, 0.012643), (0.0, 0.012221), "clopper_pearson"),
    ((3, 300), (0.003407, 0.028983), None, "wilson"),
    ((45, 250), (0.137333, 0.232352), None, "wilson"),
    ((12, 200), (0.034652, 0.101932), None, "wilson"),
    ((23, 250), (0.062087, 0.134262), (0.059216, 0.134845), "wilson"),
    ((3, 200), (0.005114, 0.043166), (0.003104, 0.043208), "wilson"),
    ((0, 120), (0.0, 0.031019), (0.0, 0.030273), "clopper_pearson"),
]


@pytest.mark.parametrize(("xn", "wilson", "cp", "method"), O_R)
def test_o_r_intervals_and_selection(xn, wilson, cp, method) -> None:
    x, n = xn
    low, high = wilson_interval(x, n)
    assert low == pytest.approx(wilson[0], abs=TOL)
    assert high == pytest.approx(wilson[1], abs=TOL)
    if cp is not None:
        low, high = clopper_pearson_interval(x, n)
        assert low == pytest.approx(cp[0], abs=TOL)
        assert high == pytest.approx(cp[1], abs=TOL)
    assert select_proportion_method(x, n) == method
    result = proportion(x, n)
    assert result.ci_method == method
    expected = wilson if method == "wilson" else cp
    assert result.ci_low == pytest.approx(expected[0], abs=TOL)
    assert result.ci_high == pytest.approx(expected[1], abs=TOL)
    assert result.x == x
    assert result.n == n
    assert result.estimate == pytest.approx(x / n)
    assert result.status == "ok"


def test_clopper_pearson_edges_use_closed_forms() -> None:
    for n in (1, 7, 30, 183, 1000):
        low, high = clopper_pearson_interval(0, n)
        assert low == 0.0
        assert high == 1.0 - 0.025 ** (1.0 / n)
        low, high = clopper_pearson_interval(n, n)
        assert low == 0.025 ** (1.0 / n)
        assert high == 1.0


@pytest.mark.parametrize(("x", "n"), [(1, 10), (5, 10), (3, 29), (17, 40), (199, 200)])
def test_clopper_pearson_bounds_solve_the_exact_tails(x: int, n: int) -> None:
    low, high = clopper_pearson_interval(x, n)
    coef = _log_binomial_pmf_terms(n)
    assert _upper_tail(coef, x, n, low) == pytest.approx(0.025, abs=1e-8)
    assert _lower_tail(coef, x, n, high) == pytest.approx(0.025, abs=1e-8)


def test_zero_failure_sample_sizes_of_section_6_2() -> None:
    # two-sided CP upper 1 − 0.025^(1/n) < 2% needs n = 183; Wilson's z²/(n + z²) needs 189
    assert clopper_pearson_interval(0, 183)[1] < 0.02 < clopper_pearson_interval(0, 182)[1]
    assert wilson_interval(0, 189)[1] < 0.02 < wilson_interval(0, 188)[1]


def test_selection_rule() -> None:
    assert select_proportion_method(3, 29) == "clopper_pearson"
    assert select_proportion_method(3, 30) == "wilson"
    assert select_proportion_method(30, 30) == "clopper_pearson"


def test_empty_proportion_is_undefined_not_zero() -> None:
    result = proportion(0, 0)
    assert result.status == "undefined"
    assert result.estimate is None
    assert result.ci_low is None
    assert result.ci_high is None
    assert math.isnan(wilson_interval(0, 0)[0])
    assert math.isnan(clopper_pearson_interval(0, 0)[1])


def test_min_n_gives_insufficient_data_with_numbers_kept() -> None:
    result = proportion(3, 20, min_n=30)
    assert result.status == "insufficient_data"
    assert result.estimate == pytest.approx(0.15)
    assert result.ci_low is not None


def test_forced_method_and_bad_counts() -> None:
    assert proportion(0, 10, method="wilson").ci_method == "wilson"
    with pytest.raises(ValueError, match="0 <= x <= n"):
        proportion(11, 10)
    with pytest.raises(ValueError, match="0 <= x <= n"):
        wilson_interval(-1, 10)


def test_wilson_bounds_vectorised_matches_scalar() -> None:
    xs = np.array([0, 1, 5, 10, 0])
    ns = np.array([10, 10, 10, 10, 0])
    low, high = wilson_bounds(xs, ns)
    for i in range(4):
        assert (low[i], high[i]) == pytest.approx(wilson_interval(int(xs[i]), int(ns[i])))
    assert np.isnan(low[4])
    assert np.isnan(high[4])


# -------------------------------------------------------------------------------------------
# Newcombe (§6.3)
# -------------------------------------------------------------------------------------------


def test_newcombe_follows_the_section_6_3_formula() -> None:
    a, b, c, d = 5, 10, 3, 82
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n)
    l2, u2 = wilson_interval(a + c, n)
    ad_bc = a * d - b * c  # 392 > n/2, so C = ad − bc − n/2
    phi = (ad_bc - n / 2) / math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    lower = p1 - p2 - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    upper = p1 - p2 + math.sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    result = newcombe_paired_difference(a, b, c, d)
    assert result.ci_method == "newcombe_paired"
    assert result.estimate == pytest.approx(0.07)
    assert result.phi == pytest.approx(phi)
    assert result.ci_low == pytest.approx(lower, abs=1e-12)
    assert result.ci_high == pytest.approx(upper, abs=1e-12)
    assert result.ci_low < result.estimate < result.ci_high
    assert (result.a, result.b, result.c, result.d, result.n) == (5, 10, 3, 82, 100)


def test_newcombe_phi_cases() -> None:
    assert newcombe_phi(0, 5, 5, 0) == pytest.approx(-25 / math.sqrt(5 * 5 * 5 * 5))  # ad − bc < 0
    assert newcombe_phi(10, 1, 1, 10) != 0.0  # ad − bc = 99 > n/2
    assert newcombe_phi(1, 1, 1, 2) == 0.0  # 0 <= ad − bc <= n/2
    assert newcombe_phi(0, 0, 3, 4) == 0.0  # a margin is 0


def test_newcombe_mirror_symmetry() -> None:
    forward = newcombe_paired_difference(4, 9, 2, 60)
    mirrored = newcombe_paired_difference(4, 2, 9, 60)
    assert mirrored.estimate == pytest.approx(-forward.estimate)
    assert mirrored.ci_low == pytest.approx(-forward.ci_high)
    assert mirrored.ci_high == pytest.approx(-forward.ci_low)


def test_newcombe_degenerate() -> None:
    empty = newcombe_paired_difference(0, 0, 0, 0)
    assert empty.status == "undefined"
    assert empty.estimate is None
    same = newcombe_paired_difference(0, 0, 0, 50)
    assert same.estimate == 0.0
    assert same.ci_low is not None
    assert same.ci_high is not None
    assert same.ci_low <= 0.0 <= same.ci_high
    assert newcombe_paired_difference(1, 2, 0, 5, min_n=30).status == "insufficient_data"
