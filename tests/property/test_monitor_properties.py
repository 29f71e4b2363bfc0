"""Properties of the homogenization monitor (hypothesis): building blocks agree with brute force,
the anchor policy respects its bounds, and the monitor does not depend on the order labels are
stored in or on what the labelers are called."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.queueing import instrumentation as policy
from reviewdesk.stats.common import percentile_ci
from reviewdesk.stats.homogenization import item_disagreement, percentile_pair, strict_mode
from reviewdesk.stats.monitor import (
    CalendarWeeks,
    LabelTable,
    MonitorConfig,
    MonitorInput,
    monitor_records,
    run_monitor,
)
from tests.stats.monitor_histories import HistoryShape, simulate_history

counts3 = st.tuples(*(st.integers(0, 6) for _ in range(3)))


@given(st.lists(counts3, min_size=1, max_size=20))
def test_disagreement_is_the_share_of_disagreeing_ordered_pairs(
    rows: list[tuple[int, ...]],
) -> None:
    d = item_disagreement(np.array(rows))
    for row, value in zip(rows, d, strict=True):
        labels = [k for k, c in enumerate(row) for _ in range(c)]
        if len(labels) < 2:
            assert np.isnan(value)
            continue
        pairs = list(itertools.permutations(range(len(labels)), 2))
        brute = sum(labels[i] != labels[j] for i, j in pairs) / len(pairs)
        assert abs(value - brute) < 1e-12
        assert 0.0 <= value <= 1.0


@given(st.lists(counts3, min_size=1, max_size=20))
def test_strict_mode_matches_brute_force(rows: list[tuple[int, ...]]) -> None:
    modes = strict_mode(np.array(rows))
    for row, mode in zip(rows, modes, strict=True):
        top = max(row)
        winners = [k for k, c in enumerate(row) if c == top]
        assert mode == (winners[0] if top > 0 and len(winners) == 1 else -1)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300))
def test_percentile_pair_equals_numpy(values: list[float]) -> None:
    x = np.array(values)
    assert np.allclose(percentile_pair(x), percentile_ci(x), rtol=0, atol=1e-9)


@given(
    st.lists(st.tuples(counts3, st.booleans()), min_size=0, max_size=80),
    st.integers(0, 2**32),
    st.integers(1, 30),
)
def test_anchor_panel_bounds(
    cands: list[tuple[tuple[int, ...], bool]], seed: int, low: int
) -> None:
    candidates = [
        policy.AnchorCandidate(f"i{k}", (c[0], c[1], c[2]), pre) for k, (c, pre) in enumerate(cands)
    ]
    sel = policy.select_anchor_panel(candidates, seed, min_size=low, max_size=low + 20)
    assert len(sel.chosen) <= low + 20
    assert len(set(sel.chosen)) == len(sel.chosen)
    assert sel.shortfall == max(0, low - len(sel.chosen))
    by_key = {c.item_key: c for c in candidates}
    for key in sel.chosen:
        c = by_key[key]
        # nothing unanimous or unlabelled gets in unless the lead marked it
        assert c.preselected or policy.pairwise_disagreement(c.counts) > 0
    assert policy.select_anchor_panel(candidates, seed, min_size=low, max_size=low + 20) == sel


@given(
    st.lists(
        st.sampled_from(["Restart it.", "Check logs!", "1. Step one", "- a bullet", ""]),
        min_size=2,
        max_size=8,
    ),
    st.sampled_from(policy.POSITIVE_METHODS),
)
def test_degrade_is_deterministic(parts: list[str], method: str) -> None:
    text = "\n".join(parts)
    assert policy.degrade(text, method, 3, "k") == policy.degrade(text, method, 3, "k")


_DATA = simulate_history(
    5, "house_style", start=5, shape=HistoryShape(n_windows=8, ordinary=150, positive=10)
)
_CONFIG = MonitorConfig(n_boot=100, seed=5)


def _rounded(value: Any) -> Any:
    """Floats to 10 significant digits: per-labeler means may sum in another order."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


_REFERENCE = _rounded(
    [
        r.to_dict()
        for r in monitor_records(run_to_completion(run_monitor(_DATA, CalendarWeeks(), _CONFIG)))
    ]
)


def _permuted(table: LabelTable, order: np.ndarray, names: np.ndarray) -> LabelTable:
    """The same labels stored in another order, with the labelers renumbered."""
    inverse = np.argsort(names)
    return LabelTable(
        table.label_id[order],
        table.item[order],
        inverse[table.labeler[order]],
        table.value[order],
        table.orientation[order],
        table.time[order],
        tuple(table.labelers[k] for k in names),
    )


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 2**32))
def test_monitor_ignores_storage_order_and_labeler_numbering(seed: int) -> None:
    rng = np.random.default_rng(seed)
    order = rng.permutation(_DATA.humans.n)
    names = rng.permutation(len(_DATA.humans.labelers))
    data = MonitorInput(_DATA.items, _permuted(_DATA.humans, order, names), _DATA.judges)
    run = run_to_completion(run_monitor(data, CalendarWeeks(), _CONFIG))
    assert _rounded([r.to_dict() for r in monitor_records(run)]) == _REFERENCE
