"""Bradley–Terry (§4): O-B1, O-B2, O-B3, connectivity, bootstrap by reweighting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reviewdesk.stats.bradley_terry import (
    ARENA_SCALE,
    _item_patterns,
    aggregate_comparisons,
    bradley_terry,
    fit_bradley_terry,
    fit_tie_model,
    sandwich_covariance,
)


def _games(spec: list[tuple[str, str, int]], names: list[str]) -> tuple[list[int], list[int]]:
    a: list[int] = []
    b: list[int] = []
    for winner, loser, n in spec:
        a += [names.index(winner)] * n
        b += [names.index(loser)] * n
    return a, b


def test_o_b1() -> None:
    result = bradley_terry([0, 0, 0, 1], [1, 1, 1, 0], [1, 1, 1, 1], models=["a", "b"])
    a, b = result.models
    assert a.r - b.r == pytest.approx(math.log(3), abs=1e-6)
    assert a.rating - b.rating == pytest.approx(190.8485, abs=1e-4)
    assert a.r + b.r == pytest.approx(0.0, abs=1e-12)  # sum-to-zero gauge
    assert a.rating + b.rating == pytest.approx(2000.0)
    # P(a ≻ b) = 1/(1 + 10^((R_b − R_a)/400)) = 3/4
    assert 1 / (1 + 10 ** ((b.rating - a.rating) / 400)) == pytest.approx(0.75)


def test_o_b2_ties_as_half_and_tie_models() -> None:
    a, b, y = [0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 0, 0.5]
    result = bradley_terry(a, b, y, models=["a", "b"])
    ra, rb = result.models
    assert ra.r - rb.r == pytest.approx(math.log(2.5 / 1.5), abs=1e-6)
    assert ra.rating - rb.rating == pytest.approx(88.7395, abs=1e-4)
    davidson = fit_tie_model(a, b, y, n_models=2, model="davidson")
    assert davidson.status == "ok"
    assert davidson.r[0] - davidson.r[1] == pytest.approx(math.log(2), abs=1e-5)
    assert davidson.tie_parameter == pytest.approx(0.707107, abs=1e-5)
    rao_kupper = fit_tie_model(a, b, y, n_models=2, model="rao_kupper")
    assert rao_kupper.status == "ok"
    assert rao_kupper.r[0] - rao_kupper.r[1] == pytest.approx(math.log(3) / 2, abs=1e-5)
    assert rao_kupper.tie_parameter == pytest.approx(math.sqrt(3), abs=1e-5)


def test_tie_models_without_ties_are_undefined() -> None:
    assert fit_tie_model([0, 1], [1, 0], [1, 1], n_models=2, model="davidson").status == (
        "undefined"
    )
    assert fit_tie_model([0], [1], [0.5], n_models=2, model="rao_kupper").status == "undefined"


O_B3 = [("A", "B", 2), ("B", "A", 3), ("A", "D", 1), ("D", "A", 4)]
O_B3 += [("B", "C", 5), ("C", "B", 3), ("C", "D", 1), ("D", "C", 3)]
NAMES = ["A", "B", "C", "D"]


def test_o_b3_arena_rank_vectors() -> None:
    a, b = _games(O_B3, NAMES)
    result = bradley_terry(a, b, np.ones(len(a)), models=NAMES)
    by = result.by_model()
    strengths = {m: math.exp(by[m].r) for m in NAMES}
    assert math.prod(strengths.values()) == pytest.approx(1.0)
    for m, s in zip(NAMES, [0.640, 1.043, 0.660, 2.270], strict=True):
        assert strengths[m] == pytest.approx(s, abs=1e-3)
    for m, r in zip(NAMES, [-0.446545, 0.042403, -0.415803, 0.819946], strict=True):
        assert by[m].r == pytest.approx(r, abs=1e-6)
    for m, rating in zip(NAMES, [922.427, 1007.366, 927.768, 1142.439], strict=True):
        assert by[m].rating == pytest.approx(rating, abs=0.01)
    fisher = [0.5481, 0.4818, 0.5204, 0.6213]
    sandwich = [0.5443, 0.4847, 0.5282, 0.6240]
    for m, f, s in zip(NAMES, fisher, sandwich, strict=True):
        assert by[m].se_fisher / ARENA_SCALE == pytest.approx(f, abs=1e-3)
        assert by[m].se / ARENA_SCALE == pytest.approx(s, abs=1e-3)
        assert by[m].ci_method == "sandwich_normal"
        assert by[m].ci_low == pytest.approx(by[m].rating - 1.959963984540054 * by[m].se)
        assert by[m].status == "ok"
    assert result.converged
    assert result.n_comparisons == 22


def test_sandwich_pieces_match_section_4() -> None:
    a, b = _games(O_B3, NAMES)
    agg = aggregate_comparisons(a, b, np.ones(len(a)), 4)
    fit = fit_bradley_terry(agg.a, agg.b, agg.y, agg.w, 4)
    fisher, sandwich = sandwich_covariance(agg.a, agg.b, agg.y, agg.w, fit.r)
    np.testing.assert_allclose(fisher, np.linalg.pinv(fit.hessian), atol=1e-10)
    assert np.allclose(sandwich, sandwich.T)


def test_aggregation_is_one_row_per_pair_and_outcome() -> None:
    agg = aggregate_comparisons([0, 0, 0, 1, 0], [1, 1, 1, 0, 2], [1, 1, 0.5, 0, 1], 3)
    rows = sorted(zip(agg.a.tolist(), agg.b.tolist(), agg.y.tolist(), agg.w.tolist(), strict=True))
    assert rows == [(0, 1, 0.5, 1.0), (0, 1, 1.0, 2.0), (0, 2, 1.0, 1.0), (1, 0, 0.0, 1.0)]
    with pytest.raises(ValueError, match="itself"):
        aggregate_comparisons([0], [0], [1], 2)
    with pytest.raises(ValueError, match="y must be"):
        aggregate_comparisons([0], [1], [0.3], 2)


def test_gauge_invariance_of_predictions() -> None:
    a, b = _games(O_B3, NAMES)
    agg = aggregate_comparisons(a, b, np.ones(len(a)), 4)
    fit = fit_bradley_terry(agg.a, agg.b, agg.y, agg.w, 4)
    shifted = fit_bradley_terry(agg.a, agg.b, agg.y, agg.w, 4, start=fit.r + 5.0)
    np.testing.assert_allclose(shifted.r, fit.r, atol=1e-9)


def test_model_with_only_wins_is_undefined() -> None:
    names = ["A", "B", "C", "X"]
    a, b = _games([("A", "B", 3), ("B", "A", 2), ("B", "C", 2), ("C", "B", 2)], names)
    a2, b2 = _games([("X", "A", 4), ("X", "C", 2)], names)  # X never lost or tied
    result = bradley_terry(a + a2, b + b2, np.ones(len(a + a2)), models=names)
    by = result.by_model()
    assert by["X"].status == "undefined"
    assert by["X"].rating is None
    assert "only wins or only losses" in (by["X"].reason or "")
    for m in "ABC":
        assert by[m].status == "ok"
        assert by[m].rating is not None


def test_model_with_only_losses_is_undefined() -> None:
    names = ["A", "B", "Z"]
    a, b = _games([("A", "B", 3), ("B", "A", 2), ("A", "Z", 2), ("B", "Z", 1)], names)
    by = bradley_terry(a, b, np.ones(len(a)), models=names).by_model()
    assert by["Z"].status == "undefined"
    assert by["A"].status == "ok"


def test_a_tie_counts_as_scoring_above_zero() -> None:
    names = ["A", "B", "T"]
    a, b = _games([("A", "B", 3), ("B", "A", 2), ("T", "A", 2)], names)
    y = [1.0] * 5 + [1.0, 0.5]  # T beat A once and tied once: A scored above 0 against T
    by = bradley_terry(a, b, y, models=names).by_model()
    assert by["T"].status == "ok"


def test_disconnected_graph_reports_the_reference_component() -> None:
    names = ["A", "B", "C", "D", "E", "Q"]
    a, b = _games(
        [("A", "B", 3), ("B", "A", 2), ("B", "C", 2), ("C", "B", 1), ("D", "E", 2), ("E", "D", 2)],
        names,
    )
    result = bradley_terry(a, b, np.ones(len(a)), models=names)
    by = result.by_model()
    assert result.n_components == 2
    for m in "ABC":
        assert by[m].status == "ok"
    for m in "DE":
        assert by[m].status == "undefined"
        assert by[m].reason == "not connected to the reference component"
        assert by[m].rating is not None  # fitted within its own component, for display
        assert by[m].rank is None
    assert by["Q"].status == "undefined"
    assert by["Q"].reason == "no comparisons"
    with_ref = bradley_terry(a, b, np.ones(len(a)), models=names, reference="D").by_model()
    assert with_ref["D"].status == "ok"
    assert with_ref["A"].status == "undefined"


def test_nothing_fittable_is_undefined() -> None:
    result = bradley_terry([0], [1], [1], models=["a", "b"])
    assert result.status == "undefined"
    assert all(m.status == "undefined" for m in result.models)


def _simulated(n: int, m: int, seed: int, per_item: int = 1):
    rng = np.random.default_rng(seed)
    strength = np.linspace(-1, 1, m)
    n_items = n // per_item
    a = np.repeat(rng.integers(0, m, n_items), per_item)
    b = (a + np.repeat(rng.integers(1, m, n_items), per_item)) % m
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    u = rng.random(n)
    y = np.where(u < 0.9 * p, 1.0, np.where(u < 0.9 * p + 0.1, 0.5, 0.0))
    return a, b, y, np.repeat(np.arange(n_items), per_item)


def test_item_bootstrap_interval_and_ranks() -> None:
    a, b, y, item = _simulated(3000, 5, 1, per_item=3)
    names = [f"m{i}" for i in range(5)]
    result = bradley_terry(a, b, y, models=names, item=item, n_boot=200, rng=4)
    assert result.ci_method == "item_bootstrap_percentile"
    assert result.n_items == 1000
    for mr in result.models:
        assert mr.status == "ok"
        assert mr.ci_low < mr.rating < mr.ci_high
    ranks = [mr.rank for mr in result.models]
    assert ranks[-1] == 1  # the strongest model
    assert ranks[0] == 5
    again = bradley_terry(a, b, y, models=names, item=item, n_boot=200, rng=4)
    assert [m.ci_low for m in again.models] == [m.ci_low for m in result.models]


def test_bootstrap_over_distinct_items_uses_index_draws() -> None:
    # every item has a different row set: no grouping, the replicate draws item indices
    a, b, y, _ = _simulated(400, 4, 2)
    item = np.arange(400) // 2
    result = bradley_terry(a, b, y, models=list("abcd"), item=item, n_boot=50, rng=1)
    assert all(m.ci_low is not None for m in result.models)


def test_item_patterns_reconstruct_every_item() -> None:
    item_of = np.array([0, 0, 1, 2, 2, 3, 3, 4])
    row_of = np.array([5, 1, 5, 1, 5, 5, 5, 1])
    # item rows: 0 → {1: 1, 5: 1}; 1 → {5: 1}; 2 → {1: 1, 5: 1}; 3 → {5: 2}; 4 → {1: 1}
    sizes, pattern, row, count = _item_patterns(item_of, row_of, 5, 6)
    assert sizes.sum() == 5
    # the weights of drawing every item once equal the total row counts
    weights = np.bincount(row, weights=sizes[pattern] * count, minlength=6)
    np.testing.assert_array_equal(weights, np.bincount(row_of, minlength=6))
    # many interchangeable items collapse into a few patterns
    item_of = np.repeat(np.arange(40), 2)
    row_of = np.tile([3, 3, 3, 7], 20)  # items alternate {3: 2} and {3: 1, 7: 1}
    sizes, pattern, row, count = _item_patterns(item_of, row_of, 40, 8)
    assert sorted(sizes.tolist()) == [20, 20]
    weights = np.bincount(row, weights=sizes[pattern] * count, minlength=8)
    np.testing.assert_array_equal(weights, np.bincount(row_of, minlength=8))


def test_bootstrap_redraws_replicates_that_break_strong_connectivity() -> None:
    names = ["A", "B", "C"]
    a, b = _games([("A", "B", 1), ("B", "A", 1), ("B", "C", 1), ("C", "B", 1)], names)
    result = bradley_terry(a, b, np.ones(4), models=names, n_boot=20, rng=0)
    # a replicate keeps all four games with probability 4!/4⁴ ≈ 0.09: more than B redraws
    assert result.n_redraws > 20
    assert result.status == "insufficient_data"
    assert all(m.ci_low is None and m.rating is not None for m in result.models)
    assert all(m.status == "insufficient_data" for m in result.models)


def test_empty_comparisons_are_undefined() -> None:
    result = bradley_terry([], [], [], models=["a", "b"], n_boot=10, rng=1)
    assert result.status == "undefined"
    assert result.n_comparisons == 0
    assert all(m.status == "undefined" and m.reason == "no comparisons" for m in result.models)


def test_row_based_bootstrap_path_matches_the_dense_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above DENSE_MAX_MODELS models refits run on aggregated rows; the optimum is the same."""
    from reviewdesk.stats import bradley_terry as bt

    a, b, y, item = _simulated(2000, 5, 3, per_item=2)
    names = [f"m{i}" for i in range(5)]
    dense = bradley_terry(a, b, y, models=names, item=item, n_boot=100, rng=9)
    monkeypatch.setattr(bt, "DENSE_MAX_MODELS", 0)
    rows = bradley_terry(a, b, y, models=names, item=item, n_boot=100, rng=9)
    for d, r in zip(dense.models, rows.models, strict=True):
        assert r.ci_low == pytest.approx(d.ci_low, abs=1e-6)
        assert r.ci_high == pytest.approx(d.ci_high, abs=1e-6)
    assert rows.n_redraws == dense.n_redraws
