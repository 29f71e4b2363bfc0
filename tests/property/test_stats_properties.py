"""Property tests of the statistics engine (STATISTICS.md §10, "Property tests")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewdesk.stats.agreement import (
    ALPHA_LEVELS,
    gwet_ac1,
    krippendorff_alpha,
    value_counts_from_reliability,
)
from reviewdesk.stats.bradley_terry import aggregate_comparisons, fit_bradley_terry
from reviewdesk.stats.gates import evaluate_gates, parse_gate_spec
from reviewdesk.stats.length_control import expit
from reviewdesk.stats.proportions import clopper_pearson_interval, wilson_interval
from reviewdesk.stats.winrate import calibrated_win_rate

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
DOMAIN = [-1, 0, 1]

ratings = st.integers(min_value=2, max_value=5).flatmap(
    lambda raters: st.integers(min_value=2, max_value=12).flatmap(
        lambda units: st.lists(
            st.lists(st.sampled_from([-1.0, 0.0, 1.0, np.nan]), min_size=units, max_size=units),
            min_size=raters,
            max_size=raters,
        )
    )
)


def _alpha(data: np.ndarray, level: str) -> float | None:
    counts = value_counts_from_reliability(data, DOMAIN)
    return krippendorff_alpha(counts, level).estimate  # type: ignore[arg-type]


@FAST
@given(ratings, st.randoms(use_true_random=False), st.sampled_from(ALPHA_LEVELS[:3]))
def test_alpha_invariant_to_rater_and_unit_order(rows: list[list[float]], rnd, level) -> None:
    data = np.array(rows)
    rater_order = list(range(data.shape[0]))
    unit_order = list(range(data.shape[1]))
    rnd.shuffle(rater_order)
    rnd.shuffle(unit_order)
    base = _alpha(data, level)
    permuted = _alpha(data[rater_order][:, unit_order], level)
    if base is None:
        assert permuted is None
    else:
        assert permuted == pytest.approx(base, abs=1e-12)
        assert base <= 1.0 + 1e-12


@FAST
@given(
    st.sampled_from(DOMAIN),
    st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=15),
    st.sampled_from(ALPHA_LEVELS[:3]),
)
def test_identical_labels_are_undefined_never_one(value, per_unit, level) -> None:
    counts = np.zeros((len(per_unit), 3), dtype=int)
    counts[:, DOMAIN.index(value)] = per_unit
    result = krippendorff_alpha(counts, level)
    assert result.status == "undefined"
    assert result.estimate is None


@FAST
@given(st.lists(st.sampled_from(DOMAIN), min_size=0, max_size=8), st.sampled_from(DOMAIN))
def test_fewer_than_two_pairable_units_are_undefined(singles, extra) -> None:
    # every unit has one label, plus at most one unit with two (possibly disagreeing) labels
    counts = np.zeros((len(singles) + 1, 3), dtype=int)
    for i, v in enumerate(singles):
        counts[i, DOMAIN.index(v)] += 1
    counts[-1, DOMAIN.index(extra)] += 1
    counts[-1, DOMAIN.index(-extra if extra else 1)] += 1
    for level in ALPHA_LEVELS:
        assert krippendorff_alpha(counts, level).status == "undefined"


@FAST
@given(ratings)
def test_ac1_never_exceeds_one(rows) -> None:
    counts = value_counts_from_reliability(np.array(rows), DOMAIN)
    value = gwet_ac1(counts).estimate
    assert value is None or value <= 1.0 + 1e-12


labels = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=9),
        st.sampled_from([-1, 1]),
        st.sampled_from([0.0, 0.5, 1.0]),
    ),
    min_size=2,
    max_size=40,
)


def _cwr(rows: list[tuple[int, int, float]], flip_roles=False, flip_sides=False):
    item = np.array([r[0] for r in rows])
    o = np.array([r[1] for r in rows], dtype=float)
    s = np.array([r[2] for r in rows])
    if flip_roles:  # baseline ≻ candidate: the other model's score, shown on the other side
        o, s = -o, 1.0 - s
    if flip_sides:
        o = -o
    return calibrated_win_rate(item, o, s, n_boot=0, min_n_items=0)


@FAST
@given(labels)
def test_cwr_role_swap_is_complementary(rows) -> None:
    forward = _cwr(rows)
    swapped = _cwr(rows, flip_roles=True)
    if forward.estimate is None:
        assert swapped.estimate is None
    else:
        assert swapped.estimate == pytest.approx(1.0 - forward.estimate, abs=1e-12)


@FAST
@given(labels)
def test_flipping_orientations_keeps_cwr_and_negates_pos_effect(rows) -> None:
    forward = _cwr(rows)
    flipped = _cwr(rows, flip_sides=True)
    if forward.estimate is None:
        assert flipped.estimate is None
        return
    assert flipped.estimate == pytest.approx(forward.estimate, abs=1e-12)
    assert flipped.extras.pos_effect == pytest.approx(-forward.extras.pos_effect, abs=1e-12)


@FAST
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3),
            st.integers(min_value=1, max_value=3),
            st.sampled_from([0.0, 0.5, 1.0]),
        ),
        min_size=1,
        max_size=30,
    ),
    st.floats(min_value=-50, max_value=50, allow_nan=False),
)
def test_bt_invariant_to_a_constant_shift(rows, shift) -> None:
    # a ring of ties keeps every fit finite; the drawn comparisons go on top
    a = [0, 1, 2, 3] + [r[0] for r in rows]
    b = [1, 2, 3, 0] + [(r[0] + r[1]) % 4 for r in rows]
    y = [0.5] * 4 + [r[2] for r in rows]
    agg = aggregate_comparisons(a, b, y, 4)
    fit = fit_bradley_terry(agg.a, agg.b, agg.y, agg.w, 4)
    assert fit.converged
    shifted = fit.r + shift
    np.testing.assert_allclose(
        expit(shifted[agg.a] - shifted[agg.b]), expit(fit.r[agg.a] - fit.r[agg.b]), atol=1e-12
    )
    refit = fit_bradley_terry(agg.a, agg.b, agg.y, agg.w, 4, start=shifted)
    np.testing.assert_allclose(refit.r, fit.r, atol=1e-8)


@FAST
@given(st.integers(min_value=1, max_value=300), st.data())
def test_wilson_and_cp_bounds_in_unit_interval_and_monotone(n, data) -> None:
    x = data.draw(st.integers(min_value=0, max_value=n - 1))
    for interval in (wilson_interval, clopper_pearson_interval):
        low, high = interval(x, n)
        low2, high2 = interval(x + 1, n)
        assert 0.0 <= low <= high <= 1.0
        assert 0.0 <= low2 <= high2 <= 1.0
        assert low <= low2 + 1e-12
        assert high <= high2 + 1e-12
        assert low <= x / n <= high


GATE = """
[[gates]]
metric = "cwr"
slice = { category = "*" }
require = { bound = "ci_low", op = ">=", value = 0.5 }
min_n_items = 10
"""


@FAST
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=1.0),
            st.integers(min_value=0, max_value=30),
            st.sampled_from(["ok", "ok", "ok", "insufficient_data", "undefined", "quarantined"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_gate_never_passes_when_a_matched_slice_fails(slices) -> None:
    records: list[dict[str, Any]] = []
    for i, (low, n, status, null_bound) in enumerate(slices):
        records.append(
            {
                "metric": "cwr",
                "estimand": "contested_queue",
                "candidate": "new",
                "baseline": "old",
                "slice": {"category": f"c{i}"},
                "estimate": 0.6,
                "ci_low": None if null_bound else low,
                "ci_high": 0.9,
                "n_items": n,
                "evidence_status": status,
            }
        )
    records.append({**records[0], "slice": {}, "ci_low": 0.99, "evidence_status": "ok"})
    card = evaluate_gates(
        parse_gate_spec(GATE), {"schema": "reviewdesk.gate_inputs/v1", "records": records}
    )
    gate = card.gates[0]
    each_passes = [
        status == "ok" and n >= 10 and not null_bound and low >= 0.5
        for low, n, status, null_bound in slices
    ]
    assert gate.passed == all(each_passes)
    assert card.passed == all(each_passes)
    failing = {c.slice["category"] for c in gate.failing}
    assert failing == {f"c{i}" for i, ok in enumerate(each_passes) if not ok}
    if not gate.passed:
        assert gate.worst is not None
        assert gate.worst.slice["category"] in failing
