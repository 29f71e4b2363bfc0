"""Agreement (§2): O-A1 … O-A8, degenerate cases, the vectorised identity, bootstraps, §2.3."""

from __future__ import annotations

import numpy as np
import pytest

from reviewdesk.stats.agreement import (
    ALPHA_LEVELS,
    alpha_degenerate_reason,
    alpha_vectorised,
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    judge_human_agreement,
    krippendorff_alpha,
    merge_judge_orders,
    pairwise_agreement,
    scott_pi,
    two_rater_ac1,
    value_counts_from_labels,
    value_counts_from_reliability,
)

nan = np.nan
TOL = 1e-6

O_A1 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]
D5 = [1, 2, 3, 4, 5]

O_A2 = [
    [nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
    [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
    [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4],
]

O_A6 = [
    [3, 3, 3, 3, 3],
    [3, 3, 3, 3, 3],
    [3, 3, nan, nan, 3],
    [3, 3, 3, 3, 1],
    [3, nan, 3, 3, 3],
]

O_A8 = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


@pytest.mark.parametrize(
    ("level", "expected"),
    [("nominal", 0.743421), ("ordinal", 0.815388), ("interval", 0.849107), ("ratio", 0.797403)],
)
def test_o_a1_krippendorff_2011(level, expected) -> None:
    counts = value_counts_from_reliability(O_A1, D5)
    result = krippendorff_alpha(counts, level, value_domain=D5)
    assert result.status == "ok"
    assert result.estimate == pytest.approx(expected, abs=TOL)
    assert result.n_units == 11
    if level == "nominal":
        assert result.estimate == pytest.approx(904 / 1216, abs=1e-12)


@pytest.mark.parametrize(
    ("level", "expected"), [("nominal", 0.691358), ("interval", 0.810845), ("ordinal", 0.806721)]
)
def test_o_a2(level, expected) -> None:
    counts = value_counts_from_reliability(O_A2, [1, 2, 3, 4])
    result = krippendorff_alpha(counts, level, value_domain=[1, 2, 3, 4])
    assert result.estimate == pytest.approx(expected, abs=TOL)


def test_o_a3_evalica() -> None:
    counts = value_counts_from_reliability([[1, 2, 3], [2, 3, 4]], [1, 2, 3, 4])
    nominal = krippendorff_alpha(counts, "nominal", value_domain=[1, 2, 3, 4])
    interval = krippendorff_alpha(counts, "interval", value_domain=[1, 2, 3, 4])
    assert nominal.estimate == pytest.approx(-0.1538462, abs=1e-7)
    assert interval.estimate == pytest.approx(0.5454545, abs=1e-7)
    counts = value_counts_from_reliability([[1, 2], [2, 4]], [1, 2, 4])
    ratio = krippendorff_alpha(counts, "ratio", value_domain=[1, 2, 4])
    assert ratio.estimate == pytest.approx(0.1712707, abs=1e-7)


def test_o_a4_ac1_fleiss_brennan_prediger_on_o_a1() -> None:
    counts = value_counts_from_reliability(O_A1, D5)
    ac1 = gwet_ac1(counts)
    assert ac1.q == 5
    assert ac1.estimate == pytest.approx(0.77544, abs=1e-5)
    assert ac1.p_a == pytest.approx(0.81818, abs=1e-5)
    assert ac1.p_e == pytest.approx(0.19032, abs=1e-5)
    fleiss = fleiss_kappa(counts)
    assert fleiss.estimate == pytest.approx(0.76117, abs=1e-5)
    assert fleiss.p_e == pytest.approx(0.23872, abs=1e-5)
    assert brennan_prediger(counts).estimate == pytest.approx(0.77273, abs=1e-5)


def test_o_a6_prevalence_paradox() -> None:
    two = value_counts_from_reliability(O_A6, [1, 3])
    three = value_counts_from_reliability(O_A6, [1, 2, 3])
    nominal = krippendorff_alpha(two, "nominal", value_domain=[1, 3])
    assert nominal.status == "ok"
    assert nominal.estimate == pytest.approx(0.0, abs=TOL)
    ordinal = krippendorff_alpha(three, "ordinal", value_domain=[1, 2, 3])
    assert ordinal.estimate == pytest.approx(0.0, abs=TOL)
    assert gwet_ac1(two).p_a == pytest.approx(0.92, abs=TOL)
    assert gwet_ac1(two).estimate == pytest.approx(0.913345, abs=TOL)
    assert gwet_ac1(three).estimate == pytest.approx(0.916805, abs=TOL)
    assert fleiss_kappa(three).estimate == pytest.approx(-0.041667, abs=TOL)


@pytest.mark.parametrize(
    ("table", "kappa", "ac1"),
    [
        ([[20, 5], [10, 15]], 0.4, 0.405941),
        ([[45, 15], [25, 15]], 0.130435, 0.266055),
        ([[25, 35], [5, 35]], 0.259259, 0.207921),
        ([[118, 5], [2, 0]], -0.023392, 0.940776),
        ([[85, 5], [5, 5]], 0.444444, 0.878049),
        ([[45, 5], [5, 45]], 0.8, 0.8),
    ],
)
def test_o_a7_two_rater_tables(table, kappa, ac1) -> None:
    assert cohen_kappa(table).estimate == pytest.approx(kappa, abs=TOL)
    assert two_rater_ac1(table).estimate == pytest.approx(ac1, abs=TOL)


def test_o_a7_details() -> None:
    assert scott_pi([[20, 5], [10, 15]]).estimate == pytest.approx(0.393939, abs=TOL)
    assert cohen_kappa([[118, 5], [2, 0]]).p_o == pytest.approx(0.944, abs=TOL)
    # proportions work as well as counts
    assert cohen_kappa(np.array([[20, 5], [10, 15]]) / 50).estimate == pytest.approx(0.4)


def test_o_a8_fleiss_1971() -> None:
    counts = np.array(O_A8)
    assert fleiss_kappa(counts).estimate == pytest.approx(0.209931, abs=TOL)
    assert brennan_prediger(counts).estimate == pytest.approx(0.222527, abs=TOL)


# -------------------------------------------------------------------------------------------
# Degenerate data: undefined, never 1.0, never an exception
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ALPHA_LEVELS)
def test_alpha_all_identical_is_undefined(level) -> None:
    counts = np.array([[0, 0, 3], [0, 0, 2], [0, 0, 4]])
    result = krippendorff_alpha(counts, level)
    assert result.status == "undefined"
    assert result.estimate is None
    assert result.reason == "all pairable values are identical"


def test_alpha_identical_pairable_values_with_a_stray_single_label_is_undefined() -> None:
    counts = np.array([[0, 2, 0], [0, 3, 0], [1, 0, 0]])  # the lone −1 is not pairable
    assert krippendorff_alpha(counts, "nominal").status == "undefined"


def test_alpha_fewer_than_two_pairable_units_is_undefined_even_with_disagreement() -> None:
    # the package returns 0.0 for one disagreeing unit; rule (a) overrides it
    one_unit = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 1]])
    result = krippendorff_alpha(one_unit, "nominal")
    assert result.status == "undefined"
    assert result.estimate is None
    assert "fewer than 2 pairable units" in (result.reason or "")
    assert krippendorff_alpha(np.zeros((0, 3), dtype=int), "ordinal").status == "undefined"
    assert krippendorff_alpha(np.array([[1, 0, 0]] * 5), "ordinal").status == "undefined"


def test_alpha_single_value_domain_is_undefined() -> None:
    result = krippendorff_alpha(np.array([[2], [3]]), "nominal", value_domain=[1])
    assert result.status == "undefined"
    assert alpha_degenerate_reason(np.array([[2], [3]])) is not None


def test_alpha_never_lets_a_warning_escape() -> None:
    # filterwarnings = error: a RuntimeWarning from the package would fail this test
    counts = np.array([[0, 0, 2], [0, 0, 2], [1, 0, 0]])
    assert krippendorff_alpha(counts, "interval").status == "undefined"


def test_alpha_requires_a_valid_level_and_counts() -> None:
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(np.array([[1, 1, 0], [0, 1, 1]]), "cardinal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="columns"):
        krippendorff_alpha(np.array([[1, 1], [0, 1]]), "nominal")


def test_chance_corrected_degenerate_cases() -> None:
    no_pairs = np.array([[1, 0, 0], [0, 1, 0]])
    for fn in (gwet_ac1, fleiss_kappa, brennan_prediger):
        result = fn(no_pairs)
        assert result.status == "undefined"
        assert result.estimate is None
    identical = np.array([[0, 0, 3], [0, 0, 2]])
    assert fleiss_kappa(identical).status == "undefined"  # p_e = 1
    assert gwet_ac1(identical).estimate == pytest.approx(1.0)  # AC1 is defined here (§2.2)


def test_two_rater_degenerate_cases() -> None:
    assert cohen_kappa([[0, 0], [0, 0]]).status == "undefined"
    assert cohen_kappa([[10, 0], [0, 0]]).status == "undefined"  # p_e = 1
    with pytest.raises(ValueError, match="square"):
        cohen_kappa([[1, 2, 3]])


# -------------------------------------------------------------------------------------------
# The vectorised coincidence identity (§2.1) and the unit bootstrap
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ALPHA_LEVELS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_identity_matches_package(level, seed) -> None:
    rng = np.random.default_rng(seed)
    n_units = 500
    m = rng.integers(0, 7, n_units)
    probs = rng.dirichlet([1.0, 0.5, 2.0])
    counts = np.array([rng.multinomial(k, probs) for k in m])
    domain = [1, 2, 3] if level == "ratio" else [-1, 0, 1]
    package = krippendorff_alpha(counts, level, value_domain=domain).estimate
    vectorised = alpha_vectorised(counts, level, domain)
    assert package is not None
    assert vectorised is not None
    assert vectorised == pytest.approx(package, abs=1e-9)


def test_vectorised_identity_on_o_a1() -> None:
    counts = value_counts_from_reliability(O_A1, D5)
    for level in ALPHA_LEVELS:
        assert alpha_vectorised(counts, level, D5) == pytest.approx(
            krippendorff_alpha(counts, level, value_domain=D5).estimate, abs=1e-12
        )
    assert alpha_vectorised(np.array([[0, 0, 2], [0, 0, 3]]), "nominal") is None


def _labels_counts(rng: np.random.Generator, n_units: int) -> np.ndarray:
    truth = rng.choice([-1, 0, 1], size=n_units, p=[0.3, 0.2, 0.5])
    labels = np.where(rng.random((n_units, 3)) < 0.75, truth[:, None], rng.choice([-1, 0, 1]))
    unit = np.repeat(np.arange(n_units), 3)
    return value_counts_from_labels(unit, labels.ravel(), n_units=n_units)


def test_alpha_bootstrap_is_deterministic_and_brackets_the_estimate() -> None:
    counts = _labels_counts(np.random.default_rng(5), 300)
    first = krippendorff_alpha(counts, "ordinal", n_boot=400, rng=11)
    again = krippendorff_alpha(counts, "ordinal", n_boot=400, rng=np.random.default_rng(11))
    assert first.status == "ok"
    assert first.ci_method == "unit_bootstrap_percentile"
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert first.ci_low < first.estimate < first.ci_high
    assert first.n_redraws == 0
    assert first.n_boot == 400


@pytest.mark.parametrize("n_units", [120, 8])  # grouped multinomial draws / item index draws
def test_bootstrap_chunking_does_not_change_the_result(n_units: int) -> None:
    from reviewdesk.stats.agreement import alpha_from_coincidences, coincidence_features
    from reviewdesk.stats.resampling import resample_sums

    counts = _labels_counts(np.random.default_rng(6), n_units)
    features = coincidence_features(counts[counts.sum(axis=1) >= 2])

    def statistic(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        alphas = alpha_from_coincidences(sums.reshape(-1, 3, 3), "nominal", [-1, 0, 1])
        return np.isfinite(alphas), alphas[:, None]

    whole = resample_sums(features, 200, np.random.default_rng(3), statistic)
    chunked = resample_sums(features, 200, np.random.default_rng(3), statistic, max_cells=50)
    np.testing.assert_array_equal(whole.values, chunked.values)
    assert whole.n_redraws == chunked.n_redraws


def test_grouped_draws_match_item_draws_in_distribution() -> None:
    """Multinomial group counts have the distribution of n items drawn with replacement."""
    from reviewdesk.stats.resampling import resample_items, resample_sums

    features = np.repeat(np.eye(3), [50, 30, 20], axis=0)  # 100 items in 3 groups

    def shares(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ones(len(sums), dtype=bool), sums / 100.0

    grouped = resample_sums(features, 4000, np.random.default_rng(1), shares).values
    direct = resample_items(
        100, 4000, np.random.default_rng(2), lambda w: shares(w @ features)
    ).values
    np.testing.assert_allclose(grouped.mean(axis=0), [0.5, 0.3, 0.2], atol=0.005)
    np.testing.assert_allclose(grouped.std(axis=0), direct.std(axis=0), rtol=0.06)


def test_alpha_bootstrap_redraws_undefined_replicates() -> None:
    # 2 disagreeing units of 12: replicates with only the agreeing units are undefined
    counts = np.array([[0, 0, 2]] * 10 + [[1, 0, 1]] * 2)
    result = krippendorff_alpha(counts, "nominal", n_boot=300, rng=1)
    assert result.status == "ok"
    assert result.n_redraws > 0
    assert result.ci_low is not None


def test_alpha_bootstrap_more_than_b_redraws_is_insufficient() -> None:
    # two units, each unanimous on a different value: α = 1 is defined, but a replicate that
    # draws the same unit twice has one value only (undefined), with probability ½
    counts = np.array([[2, 0, 0], [0, 0, 2]])
    results = [krippendorff_alpha(counts, "nominal", n_boot=20, rng=seed) for seed in range(40)]
    failed = [r for r in results if r.status == "insufficient_data"]
    passed = [r for r in results if r.status == "ok"]
    assert failed
    assert passed
    for r in failed:
        assert r.n_redraws > 20
        assert r.ci_low is None
        assert r.ci_high is None
        assert r.estimate == pytest.approx(1.0)  # kept for display
    for r in passed:
        assert r.n_redraws <= 20
        assert r.ci_low == pytest.approx(1.0)


def test_resampling_engine_redraw_rule() -> None:
    from reviewdesk.stats.resampling import resample_items

    def every_third_valid(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = weights[:, 0]
        return first % 3 == 0, first[:, None]

    draws = resample_items(5, 30, np.random.default_rng(0), every_third_valid, max_cells=7)
    assert not draws.complete
    assert draws.n_redraws > 30

    def all_valid(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ones(len(weights), dtype=bool), weights.sum(axis=1, keepdims=True)

    draws = resample_items(5, 30, np.random.default_rng(0), all_valid, max_cells=7)
    assert draws.complete
    assert draws.n_valid == 30
    np.testing.assert_array_equal(draws.values[:, 0], 5.0)  # every replicate draws n items


def test_ac1_and_pairwise_agreement_bootstrap() -> None:
    counts = _labels_counts(np.random.default_rng(7), 200)
    ac1 = gwet_ac1(counts, n_boot=300, rng=4)
    assert ac1.ci_method == "unit_bootstrap_percentile"
    assert ac1.ci_low < ac1.estimate < ac1.ci_high
    pct = pairwise_agreement(counts, n_boot=300, rng=4)
    assert pct.ci_method == "item_bootstrap_percentile"
    assert pct.ci_low < pct.estimate < pct.ci_high


# -------------------------------------------------------------------------------------------
# Pairwise agreement
# -------------------------------------------------------------------------------------------


def test_pairwise_and_decisive_only_agreement() -> None:
    # columns −1, 0, +1
    counts = np.array(
        [
            [0, 0, 3],  # 3 pairs, 3 agree; decisive 3/3
            [1, 1, 1],  # 3 pairs, 0 agree; decisive pairs: (−1, +1) → 0/1
            [2, 1, 0],  # 3 pairs, 1 agrees; decisive: (−1, −1) → 1/1
            [0, 2, 0],  # 1 pair, agrees; no decisive pair
            [0, 0, 1],  # no pair
        ]
    )
    all_pairs = pairwise_agreement(counts)
    assert all_pairs.estimate == pytest.approx(5 / 10)
    assert all_pairs.n_pairs == 10
    assert all_pairs.n_units == 4
    decisive = pairwise_agreement(counts, decisive_only=True)
    assert decisive.estimate == pytest.approx(4 / 5)
    assert decisive.n_pairs == 5


def test_pairwise_agreement_without_pairs_is_undefined() -> None:
    assert pairwise_agreement(np.array([[1, 0, 0], [0, 0, 1]])).status == "undefined"
    only_ties = np.array([[0, 3, 0], [1, 1, 0]])
    assert pairwise_agreement(only_ties, decisive_only=True).status == "undefined"


# -------------------------------------------------------------------------------------------
# Judge versus human (§2.3)
# -------------------------------------------------------------------------------------------


def test_merge_judge_orders() -> None:
    merged = merge_judge_orders([1, 1, -1, nan, 0, nan], [1, -1, nan, -1, 0, nan])
    np.testing.assert_array_equal(merged[:5], [1, 0, -1, -1, 0])
    assert np.isnan(merged[5])


def test_judge_human_tables_and_coefficients() -> None:
    judge = np.array([1, 1, -1, 0, 1, nan])
    humans = np.array(
        [
            [0, 0, 2],  # J +1; humans +1 +1
            [1, 0, 2],  # J +1; humans −1 +1 +1
            [2, 0, 0],  # J −1; humans −1 −1
            [0, 1, 1],  # J 0; humans 0 +1
            [0, 0, 1],  # only one human label: not used
            [2, 0, 0],  # no judge verdict: not used
        ]
    )
    result = judge_human_agreement(judge, humans)
    t_jh = np.array(result.t_jh)
    t_hh = np.array(result.t_hh)
    expected_jh = np.array([[2, 0, 0], [0, 1, 1], [1, 0, 4]])
    np.testing.assert_array_equal(t_jh, expected_jh)
    # pairs: item 1: (+,+); item 2: (−,+)×2, (+,+); item 3: (−,−); item 4: (0,+)
    expected_hh = np.array([[1, 0, 1], [0, 0, 0.5], [1, 0.5, 2]])
    np.testing.assert_array_equal(t_hh, expected_hh)
    np.testing.assert_array_equal(t_hh, t_hh.T)
    assert result.n_items == 4
    assert result.n_labels == 9
    assert result.kappa_jh.estimate == pytest.approx(cohen_kappa(expected_jh).estimate)
    assert result.ac1_jh.estimate == pytest.approx(two_rater_ac1(expected_jh).estimate)
    assert result.kappa_hh.estimate == pytest.approx(scott_pi(expected_hh).estimate)
    assert result.raw_agreement.estimate == pytest.approx(7 / 9)
    assert result.parity_ratio.estimate == pytest.approx(
        result.kappa_jh.estimate / result.kappa_hh.estimate
    )
    assert result.kappa_gap.estimate == pytest.approx(
        result.kappa_jh.estimate - result.kappa_hh.estimate
    )


def test_judge_human_shared_draw_bootstrap() -> None:
    rng = np.random.default_rng(9)
    n = 200
    truth = rng.choice([-1, 0, 1], size=n, p=[0.35, 0.15, 0.5])
    judge = np.where(rng.random(n) < 0.8, truth, rng.choice([-1, 0, 1], size=n)).astype(float)
    labels = np.where(rng.random((n, 3)) < 0.7, truth[:, None], rng.choice([-1, 0, 1], (n, 3)))
    humans = value_counts_from_labels(np.repeat(np.arange(n), 3), labels.ravel(), n_units=n)
    result = judge_human_agreement(judge, humans, n_boot=300, rng=8)
    assert result.status == "ok"
    for est in (result.kappa_jh, result.ac1_jh, result.kappa_hh, result.parity_ratio):
        assert est.ci_method == "item_bootstrap_percentile"
        assert est.ci_low < est.estimate < est.ci_high
    again = judge_human_agreement(judge, humans, n_boot=300, rng=8)
    assert again.parity_ratio == result.parity_ratio


def test_parity_ratio_undefined_when_human_kappa_not_positive() -> None:
    judge = np.array([1.0, -1.0, 1.0, -1.0])
    humans = np.array([[1, 0, 1], [1, 0, 1], [1, 0, 1], [1, 0, 1]])  # humans always split
    result = judge_human_agreement(judge, humans)
    assert result.kappa_hh.estimate is not None
    assert result.kappa_hh.estimate <= 0
    assert result.parity_ratio.status == "undefined"
    assert result.parity_ratio.estimate is None


def test_judge_human_without_usable_items_is_undefined() -> None:
    result = judge_human_agreement(np.array([nan, 1.0]), np.array([[1, 0, 1], [0, 0, 1]]))
    assert result.status == "undefined"
    assert result.kappa_jh.estimate is None
    assert result.n_items == 0


def test_value_counts_from_labels_validates() -> None:
    counts = value_counts_from_labels([0, 0, 2, 2], [1, -1, 0, nan], n_units=3)
    np.testing.assert_array_equal(counts, [[1, 0, 1], [0, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match="outside the value domain"):
        value_counts_from_labels([0], [2])
    with pytest.raises(ValueError, match=r"\[0, n_units\)"):
        value_counts_from_labels([3], [1], n_units=2)
