"""Everything the lead's dashboards plot, computed in one job off the UI thread (SPEC §6).

The dashboards show numbers that already exist elsewhere, so they come from the same services:

- the homogenization monitor (:func:`reviewdesk.services.monitor.refresh_monitor`): H1–H5,
  alarms, CUSUM paths and quarantine over the weekly and the alarm windows;
- the gate inputs (:func:`reviewdesk.services.gate_inputs.build_gate_inputs`, monitor and
  quarantine included, B from the monitor settings rather than the export's 2000): win rates,
  Bradley–Terry ratings, agreement per slice, judge versus human, flip rates, refusal calibration
  — exactly the records a gate would read, with their evidence status;

plus what no record holds, computed here with numpy from the folded current labels
(:mod:`reviewdesk.services.analysis_data`) and each label's time and dwell:

- **agreement over time**: α ordinal, α nominal and Gwet's AC1 per ISO week with item-bootstrap
  CIs, on the items the monitor watches (ordinary items and anchors; controls excluded), and
  their values pooled over the monitor's baseline weeks (the line a rise is measured against);
- **judges over time**: κ judge–human, κ human–human and the parity ratio per week and judge
  (STATISTICS.md §2.3, shared draws);
- **per reviewer** (ordinary items, as the exported agreement records): P(left | decisive) with
  Wilson CI (§5), tie and both-bad rates with Wilson CIs, pace (labels per active hour, where
  gaps over 30 minutes are breaks) and median dwell;
- **reviewer × reviewer**: Cohen's κ and raw agreement on the items both labelled.

Every series says where it is undefined (NaN, with a status and a reason) instead of drawing a
made-up value. Results are cached in process by the project's content snapshot and the options,
so reopening the dashboards after an export (which changes no analysed data) costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.progress import CancelToken, Job, Progress, relayed
from reviewdesk.services import analysis_data as ad
from reviewdesk.services.gate_inputs import build_gate_inputs
from reviewdesk.services.monitor import MonitorReport, monitor_settings, refresh_monitor
from reviewdesk.services.project import Project
from reviewdesk.stats.agreement import (
    AlphaLevel,
    gwet_ac1,
    judge_human_agreement,
    krippendorff_alpha,
    two_rater_from_tables,
    value_counts_from_labels,
)
from reviewdesk.stats.common import FloatArray, IntArray
from reviewdesk.stats.homogenization import Minimums
from reviewdesk.stats.monitor import (
    HUMAN,
    BaselineInfo,
    CalendarWeeks,
    PopulationSeries,
    SeriesColumn,
    build_windows,
)
from reviewdesk.stats.position import FLAG_MIN_DECISIVE
from reviewdesk.stats.proportions import wilson_bounds
from reviewdesk.stats.records import MetricRecord, record_seed
from reviewdesk.storage import analysis_queries as aq
from reviewdesk.storage import dashboard_queries as dq

#: A weekly window needs this many labels on watched items (the monitor's §7.2 minimum);
#: below it its agreement is ``insufficient_data`` and plots leave it out.
MIN_WINDOW_LABELS = Minimums().labels
#: Consecutive labels of one reviewer further apart than this are a break, not work (pace).
SESSION_GAP_S = 30 * 60
#: Per-labeler statistics need this many labels (STATISTICS.md §7.2).
MIN_LABELER_LABELS = 30
#: A reviewer pair's κ is shown only with at least this many shared items.
MIN_SHARED_ITEMS = 10
#: The reviewer × reviewer matrix covers at most this many reviewers (those with most labels).
MAX_MATRIX_REVIEWERS = 60
WHOLE_PROJECT = "All items"
HUMAN_POPULATION = HUMAN
ENTITY_KEYS = ("model", "judge", "labeler", "eval", "population")

__all__ = [
    "HUMAN_POPULATION",
    "MIN_WINDOW_LABELS",
    "BaselineInfo",
    "CategorySeries",
    "DashboardData",
    "DashboardOptions",
    "MetricRecord",
    "MonitorReport",
    "PairwiseMatrix",
    "PopulationSeries",
    "ReviewerStats",
    "SeriesColumn",
    "WindowSeries",
    "clear_cache",
    "refresh_dashboards",
    "slice_label",
]


# --------------------------------------------------------------------------------------------
# DTOs (plain, frozen; NaN = undefined)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardOptions:
    """``n_boot``: replicates of the dashboard's own intervals and of the gate-input records
    (None: the monitor's setting, B = 1000 by default, STATISTICS.md §7.2; the monitor itself
    always runs with its stored setting, so its alarms are those the gates read).
    ``candidate``/``baseline`` None: the project's roles. ``use_cache``: reuse a dashboard
    computed for the same content snapshot and options."""

    n_boot: int | None = None
    candidate: str | None = None
    baseline: str | None = None
    use_cache: bool = True


@dataclass(frozen=True)
class CategorySeries:
    """One statistic over named categories (slices, models, judges, reviewers)."""

    name: str
    labels: tuple[str, ...]
    estimate: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    n: tuple[int, ...]
    status: tuple[str, ...]
    reason: tuple[str, ...]

    @property
    def defined(self) -> bool:
        """True when at least one category has a number to show."""
        return any(v == v for v in self.estimate)

    @staticmethod
    def empty(name: str) -> CategorySeries:
        return CategorySeries(name, (), (), (), (), (), (), ())


@dataclass(frozen=True)
class WindowSeries:
    """Statistics over calendar windows (ISO weeks, Unix seconds for a date axis).

    ``baseline`` holds each column's value pooled over ``baseline_windows`` (NaN: none yet).
    """

    window_ids: tuple[str, ...]
    window_start: tuple[float, ...]
    window_end: tuple[float, ...]
    n_labels: tuple[int, ...]
    n_items: tuple[int, ...]
    columns: Mapping[str, SeriesColumn]
    baseline: Mapping[str, float]
    baseline_windows: tuple[str, ...]

    @property
    def defined(self) -> bool:
        """True when some window has an ``ok`` estimate (enough labels, defined)."""
        return any(
            v == v and st == "ok"
            for col in self.columns.values()
            for v, st in zip(col.estimate, col.status, strict=True)
        )


@dataclass(frozen=True)
class ReviewerStats:
    """Per reviewer (ordinary items; pace and dwell over all of the reviewer's labels)."""

    names: tuple[str, ...]
    n_labels: tuple[int, ...]
    n_decisive: tuple[int, ...]
    p_left: CategorySeries
    flagged: tuple[bool, ...]
    tie_rate: CategorySeries
    both_bad_rate: tuple[float, ...]
    labels_per_hour: tuple[float, ...]
    active_hours: tuple[float, ...]
    median_dwell_s: tuple[float, ...]


@dataclass(frozen=True)
class PairwiseMatrix:
    """Reviewer × reviewer agreement on shared items (symmetric; NaN below the minimum)."""

    names: tuple[str, ...]
    kappa: tuple[tuple[float, ...], ...]
    agreement: tuple[tuple[float, ...], ...]
    shared: tuple[tuple[int, ...], ...]
    min_shared: int
    omitted: int  # reviewers left out of the matrix (beyond MAX_MATRIX_REVIEWERS)

    @property
    def defined(self) -> bool:
        return any(v == v for row in self.kappa for v in row)


@dataclass(frozen=True)
class DashboardData:
    """What every dashboard tab shows; see the module docstring for where each part comes from."""

    candidate: str | None
    baseline: str | None
    n_labels: int
    n_reviewers: int
    monitor: MonitorReport
    agreement: WindowSeries
    agreement_by_slice: Mapping[str, CategorySeries]
    reviewers: ReviewerStats
    pairwise: PairwiseMatrix
    judges_over_time: WindowSeries
    judges: Mapping[str, CategorySeries]
    judge_names: tuple[str, ...]
    cwr: Mapping[str, CategorySeries]
    bt_ratings: CategorySeries
    refusal: Mapping[str, CategorySeries]
    records: tuple[MetricRecord, ...]
    notes: tuple[str, ...]
    content_sha256: str | None
    n_boot: int
    monitor_baseline_means: Mapping[str, Mapping[str, Mapping[str, float]]] = field(
        default_factory=dict
    )
    timings: Mapping[str, float] = field(default_factory=dict)

    def monitor_series(self, windows: str, population: str) -> PopulationSeries | None:
        """``windows``: ``"dashboard"`` (ISO weeks) or ``"alarms"`` (count windows)."""
        group = self.monitor.dashboard if windows == "dashboard" else self.monitor.alarms
        return group.get(population)


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------

_CACHE_SIZE = 4
_cache: OrderedDict[tuple[Any, ...], DashboardData] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget cached dashboards (benchmarks measure cold refreshes)."""
    with _cache_lock:
        _cache.clear()


def _cache_get(key: tuple[Any, ...]) -> DashboardData | None:
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
        return found


def _cache_put(key: tuple[Any, ...], value: DashboardData) -> None:
    with _cache_lock:
        _cache[key] = value
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


# --------------------------------------------------------------------------------------------
# Progress: one bar over the stages
# --------------------------------------------------------------------------------------------

_STAGES = (("read", 0.08), ("monitor", 0.5), ("own", 0.12), ("gates", 0.3))
_SCALE = 1000


def _stage_start(name: str) -> float:
    total = 0.0
    for stage, weight in _STAGES:
        if stage == name:
            return total
        total += weight
    raise KeyError(name)


def _in_stage(name: str, fraction: float | None, label: str) -> Progress:
    weight = dict(_STAGES)[name]
    start = _stage_start(name)
    done = start + weight * (0.0 if fraction is None else min(1.0, max(0.0, fraction)))
    return Progress(int(done * _SCALE), _SCALE, label)


def _staged(name: str, job: Job[Any], prefix: str) -> Job[Any]:
    """Re-yield a sub-job's progress as a share of the whole refresh."""
    return relayed(
        job, lambda p: _in_stage(name, p.fraction, f"{prefix}: {p.label}" if p.label else prefix)
    )


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def slice_label(slice_: Mapping[str, str]) -> str:
    """``topic=billing``; the whole project reads ``All items``."""
    if not slice_:
        return WHOLE_PROJECT
    return ", ".join(f"{k}={v}" for k, v in sorted(slice_.items()))


def _f(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _times(iso: Sequence[str]) -> FloatArray:
    """ISO 8601 UTC strings (``Z`` suffix, optional fraction) → Unix seconds."""
    if not iso:
        return np.zeros(0)
    stamps = np.array([s.rstrip("Z") for s in iso], dtype="datetime64[ms]")
    return np.asarray(stamps.astype(np.int64) / 1000.0, dtype=np.float64)


@dataclass(frozen=True)
class _Read:
    data: ad.AnalysisData
    time: FloatArray  # per current label, Unix seconds (NaN: unknown)
    dwell_s: FloatArray  # per current label, seconds (NaN: not recorded)


def _read(project: Project, cancel: CancelToken | None) -> Job[_Read]:
    """Analysis arrays and each current label's time and dwell, from one read snapshot."""
    with project.store.read() as uow:
        data = yield from ad.read_analysis_data(uow.session, cancel=cancel)
        ids: list[IntArray] = []
        stamps: list[str] = []
        dwell: list[FloatArray] = []
        for chunk in dq.iter_label_timings(uow.session):
            ids.append(np.asarray(chunk.id, dtype=np.int64))
            stamps.extend(chunk.labeled_at)
            dwell.append(np.asarray(chunk.dwell_ms, dtype=np.float64))
            if cancel is not None:
                cancel.check()
    all_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    all_times = _times(stamps)
    all_dwell = np.concatenate(dwell) / 1000.0 if dwell else np.zeros(0)
    event = data.labels.event_id
    n = len(event)
    time_ = np.full(n, np.nan)
    dwell_s = np.full(n, np.nan)
    if all_ids.size and n:
        pos = np.searchsorted(all_ids, event)
        pos = np.clip(pos, 0, all_ids.size - 1)
        found = all_ids[pos] == event
        time_[found] = all_times[pos[found]]
        dwell_s[found] = all_dwell[pos[found]]
    return _Read(data, time_, dwell_s)


@dataclass(frozen=True)
class _Roles:
    """Per item the slot holding the candidate role (§1.2) and per label its value v."""

    candidate: str | None
    baseline: str | None
    role_slot: IntArray
    v: FloatArray


def _roles(data: ad.AnalysisData, candidate: str | None, baseline: str | None) -> _Roles:
    """The candidate on items pairing the two roles, else the smaller model id (§1.2)."""
    items, labels = data.items, data.labels
    ma, mb = items.model_a, items.model_b
    role = np.where(mb < ma, ad.SLOT_B, ad.SLOT_A).astype(np.int64)
    if candidate in data.models and baseline in data.models:
        cand = data.models.index(candidate)
        base = data.models.index(baseline)
        pair = ((ma == cand) & (mb == base)) | ((ma == base) & (mb == cand))
        cand_slot = np.where(ma == cand, ad.SLOT_A, ad.SLOT_B)
        role = np.where(pair, cand_slot, role).astype(np.int64)
    decisive = (labels.choice == ad.SLOT_A) | (labels.choice == ad.SLOT_B)
    v = np.where(decisive, np.where(labels.choice == role[labels.item], 1.0, -1.0), 0.0)
    return _Roles(candidate, baseline, role, np.asarray(v, dtype=np.float64))


def _column(name: str, values: Sequence[tuple[float, float, float, str]]) -> SeriesColumn:
    return SeriesColumn(
        name,
        tuple(v[0] for v in values),
        tuple(v[1] for v in values),
        tuple(v[2] for v in values),
        tuple(v[3] for v in values),
    )


def _counts_of(item: IntArray, v: FloatArray) -> tuple[IntArray, IntArray]:
    """(distinct items, items × 3 counts over v ∈ {−1, 0, +1})."""
    uniq, unit = np.unique(item, return_inverse=True)
    return uniq, value_counts_from_labels(unit.ravel(), v, n_units=len(uniq))


# --------------------------------------------------------------------------------------------
# Agreement and judges over weekly windows
# --------------------------------------------------------------------------------------------

_AGREEMENT = ("alpha_ordinal", "alpha_nominal", "gwet_ac1")


def _agreement_point(
    counts: IntArray, metric: str, n_boot: int, seed: int, cancel: CancelToken | None
) -> tuple[float, float, float, str]:
    if metric == "gwet_ac1":
        ac1 = gwet_ac1(counts, n_boot=n_boot, rng=seed, cancel=cancel)
        return _f(ac1.estimate), _f(ac1.ci_low), _f(ac1.ci_high), ac1.status
    level: AlphaLevel = "ordinal" if metric == "alpha_ordinal" else "nominal"
    alpha = krippendorff_alpha(counts, level, n_boot=n_boot, rng=seed, cancel=cancel)
    return _f(alpha.estimate), _f(alpha.ci_low), _f(alpha.ci_high), alpha.status


def _judge_merged(data: ad.AnalysisData, roles: _Roles, judge: int) -> FloatArray:
    """Per item the judge's merged verdict in role space (MT-Bench rule, §2.3); NaN: none."""
    j = data.judgments
    n = len(data.items)
    sel = (j.judge == judge) & (j.verdict != ad.MISSING)
    item = j.item[sel]
    verdict = j.verdict[sel]
    role = roles.role_slot[item]
    decisive = (verdict == ad.SLOT_A) | (verdict == ad.SLOT_B)
    value = np.where(decisive, np.where(verdict == role, 1.0, -1.0), 0.0)
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, item, value)
    np.maximum.at(hi, item, value)
    count = np.bincount(item, minlength=n)
    return np.asarray(np.where(count > 0, np.where(lo == hi, lo, 0.0), np.nan), dtype=np.float64)


def _weekly(
    read: _Read,
    roles: _Roles,
    baseline_weeks: Sequence[str],
    seed: int,
    n_boot: int,
    cancel: CancelToken | None,
) -> Job[tuple[WindowSeries, WindowSeries]]:
    """Agreement and judge–human agreement per ISO week, plus their baseline-pooled values."""
    data = read.data
    labels = data.labels
    panel_control = (data.items.panel == aq.PANEL_CODES["control_positive"]) | (
        data.items.panel == aq.PANEL_CODES["control_negative"]
    )
    stratum_control = data.items.stratum == ad.CONTROL
    watched = ~(panel_control | stratum_control)
    sel = np.flatnonzero(watched[labels.item] & np.isfinite(read.time))
    windows = build_windows(CalendarWeeks(), read.time[sel], labels.event_id[sel])
    llm = [k for k, (_, kind) in enumerate(data.judges) if kind == "llm"]
    merged = {k: _judge_merged(data, roles, k) for k in llm}
    names = {k: data.judges[k][0] for k in llm}
    agree: dict[str, list[tuple[float, float, float, str]]] = {m: [] for m in _AGREEMENT}
    judge_cols: dict[str, list[tuple[float, float, float, str]]] = {}
    for k in llm:
        for prefix in ("kappa_jh", "kappa_hh", "parity_ratio"):
            judge_cols[f"{prefix}:{names[k]}"] = []
    n_items: list[int] = []
    pooled_idx: list[IntArray] = []
    total = len(windows) + 1
    for w_index, window in enumerate(windows):
        yield _in_stage("own", w_index / total, f"Agreement in {window.id}")
        idx = sel[window.labels]
        if window.id in baseline_weeks:
            pooled_idx.append(idx)
        uniq, counts = _counts_of(labels.item[idx], roles.v[idx])
        n_items.append(len(uniq))
        slice_ = {"window": window.id}
        enough = idx.size >= MIN_WINDOW_LABELS

        def graded(
            point: tuple[float, float, float, str], enough: bool = enough
        ) -> tuple[float, float, float, str]:
            """Below the window minimum the numbers stay (tables) but the status says so."""
            return point if enough or point[3] != "ok" else (*point[:3], "insufficient_data")

        for metric in _AGREEMENT:
            s = record_seed(seed, metric, "dashboard_window", None, None, slice_)
            agree[metric].append(graded(_agreement_point(counts, metric, n_boot, s, cancel)))
        for k in llm:
            s = record_seed(
                seed,
                "judge_human_kappa",
                "dashboard_window",
                None,
                None,
                {**slice_, "judge": names[k]},
            )
            res = judge_human_agreement(
                merged[k][uniq], counts, n_boot=n_boot, rng=s, cancel=cancel
            )
            for prefix, est in (
                ("kappa_jh", res.kappa_jh),
                ("kappa_hh", res.kappa_hh),
                ("parity_ratio", res.parity_ratio),
            ):
                judge_cols[f"{prefix}:{names[k]}"].append(
                    graded((_f(est.estimate), _f(est.ci_low), _f(est.ci_high), est.status))
                )
    baseline_agree: dict[str, float] = dict.fromkeys(_AGREEMENT, float("nan"))
    baseline_judges: dict[str, float] = dict.fromkeys(judge_cols, float("nan"))
    if pooled_idx:
        idx = np.concatenate(pooled_idx)
        uniq, counts = _counts_of(labels.item[idx], roles.v[idx])
        for metric in _AGREEMENT:
            baseline_agree[metric] = _agreement_point(counts, metric, 0, 0, cancel)[0]
        for k in llm:
            res = judge_human_agreement(merged[k][uniq], counts)
            baseline_judges[f"kappa_jh:{names[k]}"] = _f(res.kappa_jh.estimate)
            baseline_judges[f"kappa_hh:{names[k]}"] = _f(res.kappa_hh.estimate)
            baseline_judges[f"parity_ratio:{names[k]}"] = _f(res.parity_ratio.estimate)
    yield _in_stage("own", len(windows) / total, "Agreement over time")
    common = (
        tuple(w.id for w in windows),
        tuple(w.start for w in windows),
        tuple(w.end for w in windows),
        tuple(int(w.labels.size) for w in windows),
        tuple(n_items),
    )
    baseline_ids = tuple(w for w in baseline_weeks if w in common[0])
    agreement = WindowSeries(
        *common,
        columns={m: _column(m, agree[m]) for m in _AGREEMENT},
        baseline=baseline_agree,
        baseline_windows=baseline_ids,
    )
    judges = WindowSeries(
        *common,
        columns={m: _column(m, v) for m, v in judge_cols.items()},
        baseline=baseline_judges,
        baseline_windows=baseline_ids,
    )
    return agreement, judges


# --------------------------------------------------------------------------------------------
# Reviewers
# --------------------------------------------------------------------------------------------


def _proportion_series(
    name: str, labels: Sequence[str], x: IntArray, n: IntArray, min_n: int
) -> CategorySeries:
    low, high = wilson_bounds(x, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / np.maximum(n, 1), np.nan)
    status = tuple(
        "undefined" if k == 0 else ("insufficient_data" if k < min_n else "ok") for k in n.tolist()
    )
    reason = tuple(
        "no labels" if k == 0 else (f"{k} labels < {min_n}" if k < min_n else "")
        for k in n.tolist()
    )
    return CategorySeries(
        name,
        tuple(labels),
        tuple(float(v) for v in p),
        tuple(float(v) for v in low),
        tuple(float(v) for v in high),
        tuple(int(k) for k in n),
        status,
        reason,
    )


def _pace(times: FloatArray) -> tuple[float, float]:
    """(labels per active hour, active hours): gaps over SESSION_GAP_S are breaks."""
    t = np.sort(times[np.isfinite(times)])
    if t.size < 3:
        return float("nan"), 0.0
    gaps = np.diff(t)
    work = gaps[(gaps > 0) & (gaps <= SESSION_GAP_S)]
    active = float(work.sum()) / 3600.0
    if work.size < 2 or active * 3600.0 < 60.0:
        return float("nan"), active
    return float(work.size / active), active


def _reviewer_stats(read: _Read, roles: _Roles) -> ReviewerStats:
    data = read.data
    labels = data.labels
    names = data.reviewers
    n_rev = len(names)
    usable = (data.items.stratum != ad.ANCHOR) & (data.items.stratum != ad.CONTROL)
    on_usable = usable[labels.item]
    who = labels.reviewer
    present = np.bincount(who, minlength=n_rev) > 0
    order = np.flatnonzero(present)
    shown = [names[k] for k in order]

    def count(mask: np.ndarray) -> IntArray:
        return np.bincount(who[mask], minlength=n_rev)[order].astype(np.int64)

    n_usable = count(on_usable)
    decisive = (labels.choice == ad.SLOT_A) | (labels.choice == ad.SLOT_B)
    known = labels.left != ad.MISSING
    dec_known = on_usable & decisive & known
    chose_left = dec_known & (labels.choice == labels.left)
    n_dec = count(dec_known)
    x_left = count(chose_left)
    ties = count(on_usable & (labels.choice == ad.TIE))
    both_bad = count(on_usable & (labels.choice == ad.BOTH_BAD))
    p_left = _proportion_series("p_left_decisive", shown, x_left, n_dec, FLAG_MIN_DECISIVE)
    flagged = tuple(
        bool(n_dec[i] >= FLAG_MIN_DECISIVE and (p_left.ci_low[i] > 0.5 or p_left.ci_high[i] < 0.5))
        for i in range(len(shown))
    )
    tie = _proportion_series("tie_rate", shown, ties, n_usable, MIN_LABELER_LABELS)
    with np.errstate(divide="ignore", invalid="ignore"):
        bb = np.where(n_usable > 0, both_bad / np.maximum(n_usable, 1), np.nan)
    pace: list[float] = []
    hours: list[float] = []
    dwell: list[float] = []
    by_reviewer = np.argsort(who, kind="stable")
    bounds = np.searchsorted(who[by_reviewer], np.arange(n_rev + 1))
    for k in order.tolist():
        mine = by_reviewer[bounds[k] : bounds[k + 1]]
        rate, active = _pace(read.time[mine])
        pace.append(rate)
        hours.append(active)
        d = read.dwell_s[mine]
        d = d[np.isfinite(d)]
        dwell.append(float(np.median(d)) if d.size else float("nan"))
    return ReviewerStats(
        names=tuple(shown),
        n_labels=tuple(int(v) for v in n_usable),
        n_decisive=tuple(int(v) for v in n_dec),
        p_left=p_left,
        flagged=flagged,
        tie_rate=tie,
        both_bad_rate=tuple(float(v) for v in bb),
        labels_per_hour=tuple(pace),
        active_hours=tuple(hours),
        median_dwell_s=tuple(dwell),
    )


def _pairwise(read: _Read, roles: _Roles) -> PairwiseMatrix:
    """Cohen's κ and raw agreement for every reviewer pair over the items both labelled."""
    data = read.data
    labels = data.labels
    usable = (data.items.stratum != ad.ANCHOR) & (data.items.stratum != ad.CONTROL)
    sel = np.flatnonzero(usable[labels.item])
    who_all = labels.reviewer[sel]
    totals = np.bincount(who_all, minlength=len(data.reviewers))
    ranked = [k for k in np.argsort(-totals, kind="stable").tolist() if totals[k] > 0]
    keep = sorted(ranked[:MAX_MATRIX_REVIEWERS], key=lambda k: data.reviewers[k])
    omitted = max(0, len(ranked) - len(keep))
    m = len(keep)
    if m < 2:
        empty = tuple(tuple(float("nan") for _ in range(m)) for _ in range(m))
        return PairwiseMatrix(
            tuple(data.reviewers[k] for k in keep),
            empty,
            empty,
            tuple(tuple(0 for _ in range(m)) for _ in range(m)),
            MIN_SHARED_ITEMS,
            omitted,
        )
    local = np.full(len(data.reviewers), -1, dtype=np.int64)
    local[np.asarray(keep)] = np.arange(m)
    who = local[who_all]
    inside = who >= 0
    item = labels.item[sel][inside]
    who = who[inside]
    value = (roles.v[sel][inside] + 1).astype(np.int64)  # 0, 1, 2
    order = np.lexsort((who, item))
    item, who, value = item[order], who[order], value[order]
    # every unordered pair of labels on the same item
    starts = np.flatnonzero(np.r_[True, item[1:] != item[:-1]])
    ends = np.r_[starts[1:], item.size]
    group_end = np.repeat(ends, ends - starts)
    after = group_end - np.arange(item.size) - 1  # labels after each one on its item
    total_pairs = int(after.sum())
    tables = np.zeros((m, m, 3, 3))
    if total_pairs:
        left = np.repeat(np.arange(item.size), after)
        first_of = np.repeat(np.cumsum(after) - after, after)
        right = left + 1 + (np.arange(total_pairs) - first_of)
        a, b = who[left], who[right]
        va, vb = value[left], value[right]
        distinct = a != b
        a, b, va, vb = a[distinct], b[distinct], va[distinct], vb[distinct]
        flat = ((a * m + b) * 3 + va) * 3 + vb
        tables += np.bincount(flat, minlength=m * m * 9).reshape(m, m, 3, 3)
        tables = tables + tables.transpose(1, 0, 3, 2)
    kappa, p_o, _ = two_rater_from_tables(tables, "cohen_kappa")
    shared = tables.sum(axis=(2, 3)).astype(np.int64)
    enough = shared >= MIN_SHARED_ITEMS
    np.fill_diagonal(enough, False)
    kappa = np.where(enough, kappa, np.nan)
    p_o = np.where(enough, p_o, np.nan)
    return PairwiseMatrix(
        tuple(data.reviewers[k] for k in keep),
        tuple(tuple(float(v) for v in row) for row in kappa),
        tuple(tuple(float(v) for v in row) for row in p_o),
        tuple(tuple(int(v) for v in row) for row in shared),
        MIN_SHARED_ITEMS,
        omitted,
    )


def _baseline_means(series: PopulationSeries) -> dict[str, float]:
    """Each monitor column's mean over the baseline windows: the reference of the point rules
    that compare with the baseline windows' own values (H4's ā₀; STATISTICS.md §7.2)."""
    inside = np.asarray(series.in_baseline, dtype=bool)
    out: dict[str, float] = {}
    for name, column in series.columns.items():
        values = np.asarray(column.estimate, dtype=np.float64)[inside] if inside.size else []
        finite_values = values[np.isfinite(values)] if len(values) else np.zeros(0)
        out[name] = float(finite_values.mean()) if finite_values.size else float("nan")
    return out


# --------------------------------------------------------------------------------------------
# Gate-input records → category series
# --------------------------------------------------------------------------------------------


def _item_slice(rec: MetricRecord) -> dict[str, str]:
    return {k: v for k, v in rec.slice.items() if k not in ENTITY_KEYS}


def _order_key(label: str) -> tuple[int, str]:
    return (0 if label == WHOLE_PROJECT else 1, label)


def _series(
    name: str,
    records: Sequence[MetricRecord],
    label_of: Callable[[MetricRecord], str],
    labels: Sequence[str] | None = None,
) -> CategorySeries:
    """A category series over ``labels`` (default: the records' own, whole project first)."""
    by_label = {label_of(r): r for r in records}
    if labels is None:
        labels = sorted(by_label, key=_order_key)
    est, lo, hi, n, status, reason = [], [], [], [], [], []
    for label in labels:
        r = by_label.get(label)
        if r is None:
            est.append(float("nan"))
            lo.append(float("nan"))
            hi.append(float("nan"))
            n.append(0)
            status.append("missing")
            reason.append("no record for this slice")
            continue
        est.append(_f(r.estimate))
        lo.append(_f(r.ci_low))
        hi.append(_f(r.ci_high))
        n.append(int(r.n_items))
        status.append(r.evidence_status)
        reason.append(str(r.extras.get("reason") or ""))
    return CategorySeries(
        name,
        tuple(labels),
        tuple(est),
        tuple(lo),
        tuple(hi),
        tuple(n),
        tuple(status),
        tuple(reason),
    )


def _pick(
    records: Sequence[MetricRecord],
    metric: str,
    *,
    estimand: str | None = None,
    entity: str | None = None,
) -> list[MetricRecord]:
    """Records of ``metric`` whose slice holds exactly the entity key ``entity`` (or none) on top
    of the item slice keys."""
    out = []
    for r in records:
        if r.metric != metric or (estimand is not None and r.estimand != estimand):
            continue
        entities = [k for k in r.slice if k in ENTITY_KEYS]
        if entity is None and entities:
            continue
        if entity is not None and entities != [entity]:
            continue
        out.append(r)
    return out


def _aligned(
    records: Sequence[MetricRecord], specs: Sequence[tuple[str, str, str | None]]
) -> dict[str, CategorySeries]:
    """Several per-slice metrics over one shared, ordered list of slices."""
    groups = {key: _pick(records, metric, estimand=estimand) for key, metric, estimand in specs}
    labels = sorted(
        {slice_label(_item_slice(r)) for recs in groups.values() for r in recs}, key=_order_key
    )
    return {
        key: _series(key, recs, lambda r: slice_label(_item_slice(r)), labels)
        for key, recs in groups.items()
    }


def _from_records(
    records: Sequence[MetricRecord],
) -> tuple[
    dict[str, CategorySeries],
    dict[str, CategorySeries],
    CategorySeries,
    dict[str, CategorySeries],
    dict[str, CategorySeries],
    tuple[str, ...],
]:
    agreement = _aligned(
        records,
        [(m, m, None) for m in (*_AGREEMENT, "pct_agreement_decisive")],
    )
    cwr = _aligned(
        records,
        [("contested_queue", "cwr", "contested_queue"), ("population", "cwr", "population")],
    )
    whole_models = [r for r in _pick(records, "bt_rating", entity="model") if not _item_slice(r)]
    bt = _series("bt_rating", whole_models, lambda r: r.slice["model"])
    refusal = _aligned(
        records,
        [
            (m, m, None)
            for m in (
                "over_refusal_rate",
                "under_refusal_rate",
                "over_refusal_rate_delta",
                "under_refusal_rate_delta",
            )
        ],
    )
    judge_metrics = (
        "judge_human_kappa",
        "human_parity_ratio",
        "p_left_decisive",
        "judge_flip_rate",
    )
    whole = {
        m: [r for r in _pick(records, m, entity="judge") if not _item_slice(r)]
        for m in judge_metrics
    }
    names = tuple(sorted({r.slice["judge"] for recs in whole.values() for r in recs}))
    judges = {m: _series(m, recs, lambda r: r.slice["judge"], names) for m, recs in whole.items()}
    return agreement, cwr, bt, refusal, judges, names


# --------------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------------


def refresh_dashboards(
    project: Project,
    options: DashboardOptions | None = None,
    *,
    cancel: CancelToken | None = None,
) -> Job[DashboardData]:
    """Compute every dashboard series (a generator yielding ``Progress``: run it in a worker)."""
    options = options or DashboardOptions()
    settings = project.settings()
    mon_settings = monitor_settings(project)
    n_boot = mon_settings.n_boot if options.n_boot is None else int(options.n_boot)
    if n_boot < 1:
        raise UserError("the number of bootstrap replicates must be at least 1")
    candidate = options.candidate or settings.candidate
    baseline = options.baseline or settings.baseline
    timings: dict[str, float] = {}
    yield _in_stage("read", 0.0, "Reading the project")
    with project.store.read() as uow:
        snapshot = aq.analysis_snapshot(uow.session)
    key = (
        settings.project_id,
        snapshot.content_sha256,
        snapshot.label_count,
        snapshot.last_event_id,
        n_boot,
        candidate,
        baseline,
    )
    if options.use_cache:
        cached = _cache_get(key)
        if cached is not None:
            yield Progress(_SCALE, _SCALE, "Up to date")
            return cached
    started = time.perf_counter()
    read = yield from _staged("read", _read(project, cancel), "Reading the project")
    timings["read"] = time.perf_counter() - started

    started = time.perf_counter()
    # The monitor runs exactly as configured (its B included), so the alarms shown are the
    # alarms `export gates` records; its per-window cache is content-keyed and always used.
    mon_job = refresh_monitor(project, settings=mon_settings, cancel=cancel)
    monitor: MonitorReport = yield from _staged("monitor", mon_job, "Homogenization monitor")
    timings["monitor"] = time.perf_counter() - started

    started = time.perf_counter()
    roles = _roles(read.data, candidate, baseline)
    human = monitor.dashboard.get(HUMAN)
    baseline_weeks = tuple(human.baseline.window_ids) if human is not None else ()
    agreement, judges_time = yield from _weekly(
        read, roles, baseline_weeks, settings.seed, n_boot, cancel
    )
    reviewers = _reviewer_stats(read, roles)
    pairwise = _pairwise(read, roles)
    timings["reviewers_and_weeks"] = time.perf_counter() - started

    started = time.perf_counter()
    notes: list[str] = []
    records: tuple[MetricRecord, ...] = ()
    try:
        gates = yield from _staged(
            "gates",
            build_gate_inputs(
                project,
                candidate=options.candidate,
                baseline=options.baseline,
                n_boot=n_boot,
                cancel=cancel,
                # the arrays and the monitor this refresh has already computed (the monitor ran
                # with the stored settings and the project's seed, as the gate inputs' would)
                analysis=read.data,
                monitor_inputs=monitor.gate_inputs(),
            ),
            "Win rates, agreement and refusal",
        )
        records = gates.records
    except UserError as exc:
        notes.append(f"Win rates, judges and refusal rates are not available: {exc}")
    timings["gate_inputs"] = time.perf_counter() - started
    agreement_by_slice, cwr, bt, refusal, judges, judge_names = _from_records(records)
    if not judge_names:
        judge_names = tuple(
            sorted(k.split(":", 1)[1] for k in judges_time.columns if k.startswith("kappa_jh:"))
        )
    if pairwise.omitted:
        notes.append(
            f"The reviewer matrix shows the {len(pairwise.names)} reviewers with most labels; "
            f"{pairwise.omitted} more are in the table only."
        )
    result = DashboardData(
        candidate=candidate,
        baseline=baseline,
        n_labels=len(read.data.labels),
        n_reviewers=int(np.count_nonzero(np.bincount(read.data.labels.reviewer))),
        monitor=monitor,
        agreement=agreement,
        agreement_by_slice=agreement_by_slice,
        reviewers=reviewers,
        pairwise=pairwise,
        judges_over_time=judges_time,
        judges=judges,
        judge_names=judge_names,
        cwr=cwr,
        bt_ratings=bt,
        refusal=refusal,
        records=records,
        notes=tuple(notes),
        content_sha256=snapshot.content_sha256,
        n_boot=n_boot,
        monitor_baseline_means={
            "dashboard": {p: _baseline_means(x) for p, x in monitor.dashboard.items()},
            "alarms": {p: _baseline_means(x) for p, x in monitor.alarms.items()},
        },
        timings=timings,
    )
    if options.use_cache:
        _cache_put(key, result)
    yield Progress(_SCALE, _SCALE, "Done")
    return result
