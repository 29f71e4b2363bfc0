"""The homogenization monitor's pure engine (STATISTICS.md §7): building blocks, indicators on
constructed data, degenerate windows, CUSUM integration, quarantine, records and the cache."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.stats.common import percentile_ci
from reviewdesk.stats.gates import evaluate_gates, parse_gate_spec
from reviewdesk.stats.homogenization import (
    PANEL_ANCHOR,
    PANEL_CONTROL_POSITIVE,
    PANEL_NONE,
    ItemContext,
    LabelSet,
    Minimums,
    SharedBootstrap,
    item_disagreement,
    item_value_counts,
    js_divergence,
    normalised_entropy,
    percentile_pair,
    strict_mode,
    style_fit,
)
from reviewdesk.stats.monitor import (
    HUMAN,
    METRICS,
    CalendarWeeks,
    CountWindows,
    ItemTable,
    MonitorConfig,
    MonitorInput,
    build_windows,
    compute_quarantine,
    decode_cache_entry,
    encode_cache_entry,
    label_table,
    monitor_records,
    population_series,
    run_monitor,
)
from reviewdesk.stats.style_features import (
    fit_standardization,
    pair_differences,
    style_counts,
)
from tests.stats.monitor_histories import T0, WEEK, HistoryShape, simulate_history

DAY = 86400.0

# -------------------------------------------------------------------------------------------
# Building blocks
# -------------------------------------------------------------------------------------------


def test_item_disagreement_entropy_and_modes() -> None:
    counts = np.array([[2, 1, 1], [3, 0, 0], [1, 0, 0], [2, 2, 0], [0, 0, 0]])
    d = item_disagreement(counts)
    assert d[0] == pytest.approx(1 - (2 * 1) / (4 * 3))  # 5/6
    assert d[1] == 0.0
    assert math.isnan(d[2])  # one label: no pair
    assert d[3] == pytest.approx(1 - (2 + 2) / 12)
    h = normalised_entropy(counts)
    assert h[1] == 0.0
    assert h[0] == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)) / math.log(3))
    assert math.isnan(h[4])
    assert strict_mode(counts).tolist() == [0, 0, 0, -1, -1]


def test_js_divergence_is_zero_for_the_pool_and_bounded() -> None:
    pool = np.array([0.2, 0.5, 0.3])
    p = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    js = js_divergence(p, pool)
    assert js[0] == pytest.approx(0.0, abs=1e-15)
    assert 0 < js[1] < math.log(2)


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 1001])
def test_percentile_pair_matches_numpy_type7(n: int) -> None:
    x = np.random.default_rng(n).normal(size=n)
    assert percentile_pair(x) == pytest.approx(percentile_ci(x), abs=1e-12)


def test_style_counts_and_differences() -> None:
    text = "## Steps\n\n1. **Restart** the app.\n2. Check logs.\n- a bullet\n"
    tokens, headers, lists, bold = style_counts(text)
    assert (headers, lists, bold) == (1, 3, 1)
    assert tokens > 10
    raw = pair_differences([[10, 1, 2, 0]], [[5, 0, 0, 0]])
    assert raw[0, 0] == pytest.approx(5 / 16)
    assert raw[0, 1] == pytest.approx(3 / 4)
    fs = fit_standardization(np.array([[0.1, 0.0], [0.3, 0.0], [0.5, 0.0]]))
    assert fs is not None
    assert fs.mean[0] == pytest.approx(0.3)
    assert fs.sd[1] == 1.0  # no spread: centred only
    assert fs.version == fit_standardization(np.array([[0.1, 0.0], [0.3, 0.0], [0.5, 0.0]])).version  # type: ignore[union-attr]
    assert fs.version.startswith("fs-")


def test_calendar_windows_are_iso_weeks() -> None:
    # 2026-01-04 is a Sunday (ISO week 2026-W01), 2026-01-05 a Monday (W02)
    times = np.array([T0 - 1.0, T0, T0 + 6 * DAY, T0 + WEEK])
    wins = build_windows(CalendarWeeks(), times, np.arange(4))
    assert [w.id for w in wins] == ["2026-W01", "2026-W02", "2026-W03"]
    assert [w.labels.tolist() for w in wins] == [[0], [1, 2], [3]]
    assert wins[1].start == T0


def test_count_windows_are_anchored_at_the_stream_start() -> None:
    times = np.arange(1050, dtype=np.float64)[::-1].copy()  # label ids in reverse time order
    ids = np.arange(1050)
    wins = build_windows(CountWindows(500, 100), times, ids)
    assert [w.id for w in wins] == [f"count-{n:08d}" for n in (500, 600, 700, 800, 900, 1000)]
    assert all(w.labels.size == 500 for w in wins)
    # the first window holds the 500 earliest labels
    assert set(wins[0].labels.tolist()) == set(range(550, 1050))
    more = build_windows(CountWindows(500, 100), np.concatenate([times, [-5.0]]), np.arange(1051))
    assert more[0].id == wins[0].id  # adding labels later does not move earlier windows' ids


# -------------------------------------------------------------------------------------------
# Indicators on constructed data
# -------------------------------------------------------------------------------------------


def _constructed(
    n_weeks: int,
    *,
    collapse_from: int | None = None,
    identical_week: int | None = None,
    small_week: int | None = None,
) -> MonitorInput:
    """Anchors with a fixed, balanced label mix and ordinary items with moderate agreement.

    From ``collapse_from`` the anchors become unanimous and the ordinary items agree more (rise
    plus H1); ``identical_week`` holds only identical labels; ``small_week`` only 60 labels.
    """
    rng = np.random.default_rng(7)
    n_anchor, n_ord = 60, 250
    items_per_week = n_ord
    n_items = n_anchor + n_weeks * items_per_week
    panel = np.array([PANEL_ANCHOR] * n_anchor + [PANEL_NONE] * (n_weeks * items_per_week))
    style = rng.uniform(-0.5, 0.5, (n_items, 2))
    rows: list[tuple[int, int, float, float, float]] = []
    for w in range(n_weeks):
        t0 = T0 + w * WEEK
        if small_week == w:
            for k in range(30):
                item = n_anchor + w * items_per_week + k
                rows += [(item, 0, 1.0, 1.0, t0 + k), (item, 1, -1.0, -1.0, t0 + k + 1)]
            continue
        for a in range(n_anchor):
            pattern = [1.0, 0.0, -1.0, 1.0] if a % 2 else [-1.0, 0.0, 1.0, 0.0]
            if collapse_from is not None and w >= collapse_from:
                pattern = [1.0] * 4
            if identical_week == w:
                pattern = [1.0] * 4
            for j, v in enumerate(pattern):
                rows.append((a, (a + j) % 6, v, 1.0 if j % 2 else -1.0, t0 + a * 60 + j))
        for k in range(n_ord):
            item = n_anchor + w * items_per_week + k
            truth = 1.0 if k % 2 else -1.0
            agree = 0.95 if collapse_from is not None and w >= collapse_from else 0.6
            for j in range(2):
                v = truth if rng.random() < agree else float(rng.choice([0.0, -truth]))
                if identical_week == w:
                    v = 1.0
                rows.append((item, (k + j) % 6, v, 1.0 if j else -1.0, t0 + 3600 + k * 60 + j))
    arr = np.array(rows)
    humans = label_table(
        item=arr[:, 0].astype(np.int64),
        labeler=arr[:, 1].astype(np.int64),
        value=arr[:, 2],
        orientation=arr[:, 3],
        labelers=[f"r{k}" for k in range(6)],
        time=arr[:, 4],
        label_id=np.arange(1, len(arr) + 1),
    )
    items = ItemTable(
        np.arange(1, n_items + 1), panel, np.full(n_items, np.nan), style.astype(np.float64)
    )
    return MonitorInput(items, humans, {})


def _run(data: MonitorInput, n_boot: int = 300) -> object:
    return run_to_completion(run_monitor(data, CalendarWeeks(), MonitorConfig(n_boot=n_boot)))


def test_anchor_collapse_fires_h1_and_h2_and_the_alarm() -> None:
    run = _run(_constructed(8, collapse_from=6))
    human = run.populations[HUMAN]  # type: ignore[attr-defined]
    assert human.baseline.window_ids == ("2026-W02", "2026-W03", "2026-W04", "2026-W05")
    early, late = human.windows[4], human.windows[6]
    assert early.components["H1"] is False
    assert early.homogenization_alarm == 0
    assert late.indicators["H1"].rule is True
    diff = late.indicators["H1"].stats["diff"]
    assert diff.estimate == pytest.approx(-2 / 3)  # pooled baseline D₀ = 2/3 → 0
    assert diff.ci_high < -0.10
    assert late.indicators["H2"].rule is True  # ties vanished from the anchors
    assert late.rising is True
    assert late.homogenization_alarm == 1
    assert late.alarm_status == "ok"
    # drift alarm never fires together with a rise
    assert late.drift_alarm == 0


def test_baseline_windows_report_zero_and_early_windows_no_alarm() -> None:
    run = _run(_constructed(6))
    human = run.populations[HUMAN]  # type: ignore[attr-defined]
    assert [w.in_baseline for w in human.windows] == [True] * 4 + [False] * 2
    assert all(w.homogenization_alarm == 0 for w in human.windows)
    assert all(w.alarm_status == "ok" for w in human.windows)


def test_small_window_is_insufficient_data() -> None:
    run = _run(_constructed(6, small_week=5))
    res = run.populations[HUMAN].windows[5]  # type: ignore[attr-defined]
    assert res.status == "insufficient_data"
    assert res.homogenization_alarm is None
    assert res.alarm_status == "insufficient_data"
    assert res.indicators["H1"].headline.status == "insufficient_data"
    recs = [
        r
        for r in monitor_records(run)
        if r.slice.get("window") == res.window.id  # type: ignore[arg-type]
    ]
    assert recs
    assert all(r.evidence_status == "insufficient_data" for r in recs)


def test_identical_labels_are_undefined_never_perfect_agreement() -> None:
    run = _run(_constructed(6, identical_week=5))
    res = run.populations[HUMAN].windows[5]  # type: ignore[attr-defined]
    assert res.alpha.estimate is None
    assert res.alpha.status == "undefined"
    assert res.status == "undefined"
    assert res.homogenization_alarm is None
    assert res.alarm_status == "undefined"
    alarm = next(
        r
        for r in monitor_records(run)  # type: ignore[arg-type]
        if r.metric == "homogenization_alarm" and r.slice["window"] == res.window.id
    )
    assert alarm.estimate is None
    assert alarm.evidence_status == "undefined"


def test_no_baseline_means_insufficient_data_everywhere() -> None:
    run = _run(_constructed(3))
    human = run.populations[HUMAN]  # type: ignore[attr-defined]
    assert human.baseline.status == "insufficient_data"
    assert run.baseline_version is None  # type: ignore[attr-defined]
    assert all(w.alarm_status == "insufficient_data" for w in human.windows)


def test_style_fit_recovers_a_length_preference() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.uniform(-1, 1, n)
    o = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    p = 1 / (1 + np.exp(-(0.2 + 1.5 * x + 0.3 * o)))
    v = np.where(rng.random(n) < p, 1.0, -1.0)
    ctx = ItemContext(
        panel=np.zeros(n, np.int64),
        expected=np.full(n, np.nan),
        covariates=np.column_stack([x, np.zeros(n) + rng.normal(0, 1, n)]),
        length_sign=np.sign(x),
        judge_values=np.zeros((0, n)),
        judge_names=(),
        n_labelers=1,
        anchor_pos=np.full(n, -1),
        n_anchor_total=0,
    )
    labels = LabelSet(np.arange(n), np.zeros(n, np.int64), v, o, np.arange(n))
    boot = SharedBootstrap(np.arange(n), n, 200, np.random.default_rng(1))
    finish = style_fit(labels, ctx, boot)
    boot.run()
    fit = finish()
    assert fit.beta is not None
    assert fit.beta[1] == pytest.approx(1.5, abs=0.25)
    assert fit.beta[3] == pytest.approx(0.3, abs=0.15)
    assert fit.reps is not None
    low, high = percentile_pair(fit.reps[:, 1])
    assert low < 1.5 < high


def test_positive_control_accuracy_drop_fires_h5_and_the_drift_rule() -> None:
    data = _constructed(7)
    # turn 40 ordinary items of every week into positive controls; labelers get them right
    # until week 6, then mostly wrong
    panel = data.items.panel.copy()
    expected = data.items.expected.copy()
    controls = [60 + w * 250 + k for w in range(7) for k in range(40)]
    panel[controls] = PANEL_CONTROL_POSITIVE
    expected[controls] = 1.0
    value = data.humans.value.copy()
    is_ctl = np.isin(data.humans.item, controls)
    week = ((data.humans.time - T0) // WEEK).astype(int)
    value[is_ctl] = np.where(week[is_ctl] >= 6, -1.0, 1.0)
    data = MonitorInput(
        replace(data.items, panel=panel, expected=expected),
        replace(data.humans, value=value),
        {},
    )
    run = _run(data)
    res = run.populations[HUMAN].windows[6]  # type: ignore[attr-defined]
    acc = res.indicators["H5"].stats["control_accuracy_diff"]
    assert acc.estimate == pytest.approx(-1.0)
    assert res.control_drop is True
    assert res.indicators["H5"].fires is True
    assert res.rising is False
    assert res.drift_alarm == 1  # accuracy dropped and agreement did not rise


# -------------------------------------------------------------------------------------------
# CUSUM integration, acknowledgement, count-window stride
# -------------------------------------------------------------------------------------------


def test_cusum_latches_and_acknowledgement_clears_it() -> None:
    data = _constructed(10, collapse_from=6)
    config = MonitorConfig(n_boot=300)
    run = run_to_completion(run_monitor(data, CalendarWeeks(), config))
    human = run.populations[HUMAN]
    path = [w.cusum.get("h1_disagreement") for w in human.windows]
    assert all(p is None for p in path[:4])  # no CUSUM in the baseline
    first = next(k for k, p in enumerate(path) if p is not None and p.alarm)
    assert first == 6  # the anchors collapse: an enormous z, alarm at once
    assert all(p is not None and p.latched for p in path[first:])
    assert human.windows[8].indicators["H1"].cusum is True
    ack = MonitorConfig(n_boot=300, acknowledged={"human|h1_disagreement": "2026-W10"})
    run2 = run_to_completion(run_monitor(data, CalendarWeeks(), ack))
    point = run2.populations[HUMAN].windows[8].cusum["h1_disagreement"]
    # cleared at W10, but the anchors are still collapsed: the chart alarms again right away
    assert point.alarm
    assert run2.populations[HUMAN].windows[7].cusum["h1_disagreement"].latched


def test_count_window_cusum_updates_on_disjoint_windows_only() -> None:
    data = simulate_history(2, "null", shape=HistoryShape(n_windows=9, ordinary=200))
    config = MonitorConfig(n_boot=100)
    run = run_to_completion(run_monitor(data, CountWindows(500, 100), config))
    human = run.populations[HUMAN]
    base = [k for k, w in enumerate(human.windows) if w.in_baseline]
    assert base == [0, 5, 10, 15]  # four disjoint windows
    updated = [
        k for k, w in enumerate(human.windows) if any(p.z is not None for p in w.cusum.values())
    ]
    assert updated
    assert all((k - 16) % 5 == 0 for k in updated)


# -------------------------------------------------------------------------------------------
# Quarantine, records, gates, series, cache
# -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def house_run() -> tuple[MonitorInput, object]:
    data = simulate_history(3, "house_style")
    run = run_to_completion(run_monitor(data, CalendarWeeks(), MonitorConfig(n_boot=400, seed=3)))
    return data, run


def test_quarantine_names_the_drifting_labelers(house_run: tuple[MonitorInput, object]) -> None:
    data, run = house_run
    q = compute_quarantine(run, data)  # type: ignore[arg-type]
    alarmed = [w for w in run.populations[HUMAN].windows if w.homogenization_alarm == 1]  # type: ignore[attr-defined]
    assert alarmed
    assert {w.window_id for w in q.windows} == {w.window.id for w in alarmed}
    # four of six labelers copy the house style: the alarm is attributed to them
    assert q.quarantined_labelers == {"rev-01", "rev-02", "rev-03", "rev-04"}
    quarantined = np.isin(data.humans.label_id, list(q.label_ids))
    assert set(data.humans.labeler[quarantined].tolist()) <= {0, 1, 2, 3}
    # every quarantined label lies in an alarm window
    in_alarm = np.zeros(data.humans.n, bool)
    for w in alarmed:
        in_alarm[w.window.labels] = True
    assert np.all(in_alarm[quarantined])
    # an item is cleared once enough fresh labelers (never quarantined) labelled it
    fresh_items = [i for i, n in q.fresh_counts.items() if n >= 1]
    stale_items = [i for i, n in q.fresh_counts.items() if n == 0]
    assert fresh_items
    assert stale_items
    assert q.slice_quarantined(stale_items[:1], 1)
    assert not q.slice_quarantined(fresh_items[:1], 1)
    assert q.slice_quarantined(fresh_items[:1], 5)
    assert not q.slice_quarantined([10**9], 1)  # an untouched item


def test_lifted_quarantine_is_recorded_but_quarantines_nothing(
    house_run: tuple[MonitorInput, object],
) -> None:
    data, run = house_run
    first = next(w for w in run.populations[HUMAN].windows if w.homogenization_alarm == 1)  # type: ignore[attr-defined]
    lifted = MonitorConfig(n_boot=400, seed=3, lifted=frozenset({(HUMAN, first.window.id)}))
    run2 = run_to_completion(run_monitor(data, CalendarWeeks(), lifted))
    q1 = compute_quarantine(run, data)  # type: ignore[arg-type]
    q2 = compute_quarantine(run2, data)
    assert len(q2.label_ids) < len(q1.label_ids)
    assert any(w.lifted and w.window_id == first.window.id for w in q2.windows)


def test_records_and_a_latest_window_gate(house_run: tuple[MonitorInput, object]) -> None:
    _, run = house_run
    records = monitor_records(run)  # type: ignore[arg-type]
    assert {r.metric for r in records} == set(METRICS)
    assert all(r.estimand == "monitor" and r.candidate is None for r in records)
    assert all(r.higher_is_better is None for r in records)
    alarm = [r for r in records if r.metric == "homogenization_alarm"]
    assert {r.slice["population"] for r in alarm} == {
        "human",
        "judge:judge-plain",
        "judge:judge-verbose",
    }
    h3 = [r for r in records if r.metric == "h3_judge_human_kappa"]
    assert all(set(r.slice) == {"population", "window", "judge"} for r in h3)
    latest = max(r.slice["window"] for r in alarm if r.slice["population"] == "human")
    human_latest = next(r for r in alarm if r.slice == {"population": "human", "window": latest})
    assert human_latest.estimate == 1.0
    assert human_latest.extras["components"]["H3"] is True
    doc = {"schema": "reviewdesk.gate_inputs/v1", "records": [r.to_dict() for r in records]}
    spec = parse_gate_spec(
        '[[gates]]\nmetric = "homogenization_alarm"\n'
        'slice = { population = "human", window = "latest" }\n'
        'require = { bound = "estimate", op = "==", value = 0 }\n'
    )
    card = evaluate_gates(spec, doc)
    assert not card.passed
    json.dumps([r.to_dict() for r in records], allow_nan=False)  # plain JSON, no NaN


def test_series_columns_line_up_with_windows(house_run: tuple[MonitorInput, object]) -> None:
    _, run = house_run
    series = population_series(run.populations[HUMAN], run.config)  # type: ignore[attr-defined]
    n = len(series.window_ids)
    assert n == 14
    for col in series.columns.values():
        assert len(col.estimate) == len(col.ci_low) == len(col.status) == n
    assert series.homogenization_alarm[:8] == (0.0,) * 8
    assert series.homogenization_alarm[-1] == 1.0
    assert "h3_kappa_jh:judge-verbose" in series.columns
    json.dumps(series.to_dict(), allow_nan=False)


def test_cache_round_trip_gives_identical_results() -> None:
    data = _constructed(7, collapse_from=5)
    config = MonitorConfig(n_boot=200)
    cache: dict[str, object] = {}
    first = run_to_completion(run_monitor(data, CalendarWeeks(), config, cache=cache))
    encoded = {k: encode_cache_entry(v) for k, v in cache.items()}
    restored = {k: decode_cache_entry(json.loads(json.dumps(v))) for k, v in encoded.items() if v}
    assert restored
    second = run_to_completion(run_monitor(data, CalendarWeeks(), config, cache=restored))
    assert [r.to_dict() for r in monitor_records(first)] == [
        r.to_dict() for r in monitor_records(second)
    ]


def test_min_counts_config_is_honoured() -> None:
    data = _constructed(6)
    strict = MonitorConfig(n_boot=200, minimums=Minimums(labels=10_000))
    run = run_to_completion(run_monitor(data, CalendarWeeks(), strict))
    assert run.populations[HUMAN].baseline.status == "insufficient_data"
    counts = item_value_counts(np.array([0, 0, 1]), np.array([1.0, -1.0, 0.0]), 2)
    assert counts.tolist() == [[1, 0, 1], [0, 1, 0]]
