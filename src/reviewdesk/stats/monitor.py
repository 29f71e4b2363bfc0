"""The homogenization and drift monitor (STATISTICS.md §7): windows, baseline, H1–H5, alarms.

Rising agreement is ambiguous; the monitor separates homogenization from real improvement with
fixed-content probes (anchors, controls) and nuisance-feature probes (style, position, a judge's
verdicts). This module is the pure engine: the services build :class:`MonitorInput` from a project
and get back a :class:`MonitorRun` — per population and window, every indicator with its interval
and status, the CUSUM paths, the composite alarms and the labelers an alarm is attributed to —
plus the §8 gate-input records, the dashboard series and the §7.6 quarantine.

**Populations** (§7.2): ``human`` (reviewers and imported human labels) and ``judge:<name>`` for
each judge, whose "labels" are its verdicts per display order (labeler 0 = order AB, 1 = BA).
A judge's window holds its verdicts on the items humans labelled in that window, so the two
populations are compared on the same content. H3 (judge capture) exists for humans only.

**Windows** (§7.2) are a parameter (:class:`CalendarWeeks` for dashboards, :class:`CountWindows`
— the last 500 human labels, step 100 — for alarms). Count windows overlap, so their statistics
are serially correlated; a CUSUM fed every overlapping window would accumulate the same evidence
several times. CUSUMs are therefore updated only on non-overlapping count windows (every
``size/step``-th one after the baseline) and their latched state is carried in between.

**Baseline** (§7.2): the first ``baseline_windows`` (≥ 4) consecutive windows meeting the
minimums (label minimum, defined α and — when the population's anchors can meet it at all — the
anchor minimum), pooled. Before a baseline exists no alarm can be evaluated, so "without alarm"
holds trivially for the first run. It is frozen by window ids and versioned
(``monitor_baseline_version``); point rules on statistics whose noise depends on the window size
(JS dispersion, ā, s, the anchor flip rate) compare with the mean of the baseline windows' own
values, not with the pooled value.

**Composite** (§7.4): ``homogenization_alarm`` = rise ∧ (H1 ∨ H3 ∨ H5), rise = ci_low(α_w − α₀) > 0
∨ H4; ``drift_alarm`` = (excess anchor flip rate > 0.20 ∨ positive-control accuracy drop) ∧ ¬rise.
An indicator that cannot be evaluated (``null``) counts as not firing as long as another one of
the same bracket could be evaluated; if none could, the alarm is ``null`` with a non-ok status.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np

from reviewdesk.domain.progress import CancelToken, Job, Progress, relayed
from reviewdesk.stats.agreement import merge_judge_orders
from reviewdesk.stats.common import (
    EvidenceStatus,
    FloatArray,
    IntArray,
    finite_or_none,
    worst_status,
)
from reviewdesk.stats.cusum import H_DEFAULT, K_DEFAULT, CusumState, acknowledge, cusum_update
from reviewdesk.stats.homogenization import (
    PANEL_ANCHOR,
    PANEL_NONE,
    Core,
    ItemContext,
    JudgeCore,
    LabelSet,
    Minimums,
    MonitorStat,
    compute_core,
    difference_stat,
    independent_difference,
    item_value_counts,
    labeler_shift,
    paired_anchor_bootstrap,
    paired_anchor_features,
    stat_from_replicates,
    strict_mode,
)
from reviewdesk.stats.records import MetricRecord, record_seed
from reviewdesk.stats.style_features import FeatureStandardization, fit_standardization

HUMAN = "human"
THRESHOLDS_VERSION = "thresholds/v1"

# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Firing thresholds of §7.3–§7.4 (starting values; re-tune on ≥ 8 weeks of baseline)."""

    h1_diff: float = -0.10  # ci_high(D_w − D₀) < −0.10
    h1_ratio: float = 0.75  # or D_w/D₀ < 0.75 …
    h1_ratio_ci_high: float = 0.85  # … with ci_high(D_w/D₀) < 0.85
    h2_tie_diff: float = -0.05  # on anchors ci_high(τ_w − τ₀) < −0.05
    h2_js_factor: float = 0.5  # or JS dispersion < 0.5 × baseline
    h3_kappa_gain: float = 0.10  # ci_low(κ_HJ,w − κ_HJ,0) > 0.10 …
    h3_kappa_hh_stable: float = 0.05  # … with |κ_HH,w − κ_HH,0| < 0.05
    h4_conformity_gain: float = 0.10  # ā_w − ā₀ ≥ 0.10 …
    h4_sd_factor: float = 0.5  # … and s_w ≤ 0.5 s₀
    h5_beta_len_gain: float = 0.25  # ci_low(β_len,w) > β_len,0 + 0.25
    drift_flip_rate: float = 0.20  # anchor majority flip rate (excess over baseline) > 0.20


@dataclass(frozen=True)
class CalendarWeeks:
    """ISO weeks (UTC), for dashboards; window ids like ``2026-W07``."""

    kind: Literal["iso_week"] = "iso_week"

    def describe(self) -> str:
        return "iso_week"


@dataclass(frozen=True)
class CountWindows:
    """The last ``size`` human labels, advanced by ``step``, for alarms; ids ``count-00000600``.

    Windows are anchored at the start of the label stream (window k holds labels k·step + 1 …
    k·step + size in time order), so ids stay stable as labels are added. Only complete windows
    exist.
    """

    size: int = 500
    step: int = 100
    kind: Literal["count"] = "count"

    def __post_init__(self) -> None:
        if self.size < 1 or self.step < 1:
            raise ValueError("count windows need a positive size and step")

    def describe(self) -> str:
        return f"count:{self.size}:{self.step}"


WindowSpec = CalendarWeeks | CountWindows


@dataclass(frozen=True)
class MonitorConfig:
    """Everything the monitor's numbers depend on; recorded with every export."""

    minimums: Minimums = field(default_factory=Minimums)
    thresholds: Thresholds = field(default_factory=Thresholds)
    n_boot: int = 1000
    seed: int = 0
    baseline_windows: int = 4
    cusum_k: float = K_DEFAULT
    cusum_h: float = H_DEFAULT
    attribution_shift: float = 0.10  # a labeler is named when a shift is ≥ this …
    attribution_z: float = 3.0  # … and its normal z ≥ this (≈ 0.1 % one-sided per labeler)
    #: CUSUM latches cleared by hand: "<population>|<statistic>" → window id (logged action)
    acknowledged: Mapping[str, str] = field(default_factory=dict)
    #: quarantines lifted by hand: (population, window id) pairs (logged action, §7.6)
    lifted: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        if self.baseline_windows < 4:
            raise ValueError("the baseline needs at least 4 windows (STATISTICS.md §7.2)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "minimums": _asdict(self.minimums),
            "thresholds": _asdict(self.thresholds),
            "thresholds_version": THRESHOLDS_VERSION,
            "n_boot": self.n_boot,
            "seed": self.seed,
            "baseline_windows": self.baseline_windows,
            "cusum": {"k": self.cusum_k, "h": self.cusum_h},
            "attribution": {"shift": self.attribution_shift, "z": self.attribution_z},
            "acknowledged": dict(sorted(self.acknowledged.items())),
            "lifted": sorted([list(pair) for pair in self.lifted]),
        }


def _asdict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemTable:
    """Per-item facts (index i = row i of every array).

    ``item_id``: project ids (for quarantine); ``panel``: PANEL_* codes; ``expected``: the value
    (±1) a positive control's reference answer earns, NaN elsewhere; ``style_raw``: n × 2 raw
    covariates of :func:`reviewdesk.stats.style_features.pair_differences` (NaN = unknown).
    """

    item_id: IntArray
    panel: IntArray
    expected: FloatArray
    style_raw: FloatArray

    @property
    def n(self) -> int:
        return int(self.item_id.shape[0])


@dataclass(frozen=True)
class LabelTable:
    """Labels of one population: per-label arrays and the labeler names they index."""

    label_id: IntArray  # event id (−1 for judge verdicts)
    item: IntArray  # row of the ItemTable
    labeler: IntArray  # index into ``labelers``
    value: FloatArray  # v ∈ {−1, 0, +1}
    orientation: FloatArray  # o = ±1
    time: FloatArray  # Unix seconds (humans); unused for judges
    labelers: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.item.shape[0])

    def subset(self, idx: IntArray) -> LabelSet:
        return LabelSet(
            self.item[idx],
            self.labeler[idx],
            self.value[idx],
            self.orientation[idx],
            self.label_id[idx],
        )


@dataclass(frozen=True)
class MonitorInput:
    """Items, human labels and each judge's verdicts (labeler 0 = order AB, 1 = BA)."""

    items: ItemTable
    humans: LabelTable
    judges: Mapping[str, LabelTable] = field(default_factory=dict)


def label_table(
    *,
    item: Sequence[int] | IntArray,
    labeler: Sequence[int] | IntArray,
    value: Sequence[float] | FloatArray,
    orientation: Sequence[float] | FloatArray,
    labelers: Sequence[str],
    time: Sequence[float] | FloatArray | None = None,
    label_id: Sequence[int] | IntArray | None = None,
) -> LabelTable:
    """Build and validate a :class:`LabelTable` from plain sequences."""
    it = np.asarray(item, dtype=np.int64)
    n = it.shape[0]
    lab = np.asarray(labeler, dtype=np.int64)
    val = np.asarray(value, dtype=np.float64)
    ori = np.asarray(orientation, dtype=np.float64)
    tm = np.zeros(n) if time is None else np.asarray(time, dtype=np.float64)
    ids = np.full(n, -1, dtype=np.int64) if label_id is None else np.asarray(label_id, np.int64)
    for name, arr in (("labeler", lab), ("value", val), ("orientation", ori), ("time", tm)):
        if arr.shape != (n,):
            raise ValueError(f"{name} must have one entry per label")
    if ids.shape != (n,):
        raise ValueError("label_id must have one entry per label")
    if n and not np.all(np.isin(val, (-1.0, 0.0, 1.0))):
        raise ValueError("values must be -1, 0 or +1")
    if n and not np.all(np.isin(ori, (-1.0, 1.0))):
        raise ValueError("orientation must be +1 or -1 (labels of unknown side are excluded)")
    if n and (lab.min() < 0 or lab.max() >= len(labelers)):
        raise ValueError("labeler indices must index ``labelers``")
    return LabelTable(ids, it, lab, val, ori, tm, tuple(labelers))


# --------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One window: id, position, time span (Unix seconds) and its human labels (indices)."""

    id: str
    index: int
    start: float
    end: float
    labels: IntArray

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "index": self.index,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "n_labels": int(self.labels.size),
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DAY = 86400.0


def build_windows(spec: WindowSpec, time: FloatArray, label_id: IntArray) -> list[Window]:
    """The windows of ``spec`` over labels with these times (ties broken by label id)."""
    n = int(time.shape[0])
    if n == 0:
        return []
    if isinstance(spec, CalendarWeeks):
        days = np.floor(time / _DAY).astype(np.int64)
        monday = days - (days + 3) % 7  # 1970-01-01 was a Thursday
        weeks, inverse = np.unique(monday, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(weeks) + 1))
        out = []
        for k, first_day in enumerate(weeks.tolist()):
            d = date(1970, 1, 1) + timedelta(days=int(first_day))
            year, week, _ = d.isocalendar()
            idx = np.sort(order[bounds[k] : bounds[k + 1]])
            start = float(first_day) * _DAY
            out.append(Window(f"{year:04d}-W{week:02d}", k, start, start + 7 * _DAY, idx))
        return out
    order = np.lexsort((label_id, time))
    windows = []
    k = 0
    while k * spec.step + spec.size <= n:
        idx = np.sort(order[k * spec.step : k * spec.step + spec.size])
        end_rank = k * spec.step + spec.size
        windows.append(
            Window(
                f"count-{end_rank:08d}",
                k,
                float(time[order[k * spec.step]]),
                float(time[order[end_rank - 1]]),
                np.asarray(idx, dtype=np.int64),
            )
        )
        k += 1
    return windows


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

Tri = bool | None
INDICATORS = ("H1", "H2", "H3", "H4", "H5")


@dataclass(frozen=True)
class Indicator:
    """One indicator in one window: does it fire (rule or latched CUSUM), and its numbers."""

    name: str
    fires: Tri
    rule: Tri
    cusum: Tri
    headline: MonitorStat
    stats: Mapping[str, MonitorStat] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fires": self.fires,
            "rule": self.rule,
            "cusum": self.cusum,
            "headline": self.headline.to_dict(),
            "stats": {k: v.to_dict() for k, v in sorted(self.stats.items())},
            "values": {k: _plain_value(v) for k, v in sorted(self.values.items())},
        }


def _plain_value(value: Any) -> Any:
    if isinstance(value, float):
        return finite_or_none(value)
    return value


@dataclass(frozen=True)
class CusumPoint:
    """CUSUM of one statistic after one window: z fed (None = not updated), S_w, alarm, latch."""

    z: float | None
    s: float
    alarm: bool
    latched: bool


@dataclass(frozen=True)
class JudgeWindow:
    """H3 numbers for one judge in one (human) window."""

    judge: str
    kappa_jh: MonitorStat
    kappa_hh: MonitorStat
    ac1_jh: MonitorStat
    parity_gap: MonitorStat
    kappa_gain: MonitorStat  # κ_HJ,w − κ_HJ,0
    specificity: MonitorStat
    fires: Tri
    raw_agreement: float | None


@dataclass(frozen=True)
class WindowResult:
    """Everything the monitor says about one population in one window."""

    population: str
    window: Window
    n_labels: int
    n_items: int
    n_labelers: int
    status: EvidenceStatus
    reason: str | None
    in_baseline: bool
    alpha: MonitorStat
    alpha_diff: MonitorStat
    ac1_alpha_gap: float | None
    indicators: Mapping[str, Indicator]
    judges: Mapping[str, JudgeWindow]
    rising: Tri
    homogenization_alarm: int | None
    drift_alarm: int | None
    alarm_status: EvidenceStatus
    alarm_reason: str | None
    drift_status: EvidenceStatus
    drift_reason: str | None
    flip_rate: MonitorStat
    flip_rate_baseline: float | None
    control_drop: Tri
    test_retest: MonitorStat
    cusum: Mapping[str, CusumPoint]
    named_labelers: tuple[str, ...]
    attributable: bool
    lifted: bool = False

    @property
    def components(self) -> dict[str, Tri]:
        return {name: self.indicators[name].fires for name in INDICATORS}


@dataclass(frozen=True)
class BaselineInfo:
    """The frozen baseline of one population (§7.2)."""

    population: str
    window_ids: tuple[str, ...]
    version: str | None
    frozen: bool
    status: EvidenceStatus
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "population": self.population,
            "window_ids": list(self.window_ids),
            "version": self.version,
            "frozen": self.frozen,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PopulationRun:
    population: str
    baseline: BaselineInfo
    windows: tuple[WindowResult, ...]
    labelers: tuple[str, ...]


@dataclass(frozen=True)
class MonitorRun:
    """The monitor over one window definition: every population, window by window."""

    spec: WindowSpec
    config: MonitorConfig
    populations: Mapping[str, PopulationRun]
    standardization: FeatureStandardization | None
    windows: tuple[Window, ...]

    @property
    def baseline_version(self) -> str | None:
        """``monitor_baseline_version``: one hash over every population's baseline version."""
        versions = {p: run.baseline.version for p, run in sorted(self.populations.items())}
        if all(v is None for v in versions.values()):
            return None
        body = json.dumps(versions, sort_keys=True)
        return "mb-" + hashlib.sha256(body.encode()).hexdigest()[:16]

    @property
    def feature_standardization_version(self) -> str | None:
        return None if self.standardization is None else self.standardization.version


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


@dataclass
class _Population:
    """Working state of one population while the run is computed."""

    name: str
    table: LabelTable
    window_labels: list[IntArray]  # per window: indices into ``table``
    with_judges: bool


def _window_seed(config: MonitorConfig, population: str, window_id: str, what: str) -> int:
    return record_seed(
        config.seed,
        f"monitor:{what}",
        "monitor",
        None,
        None,
        {"population": population, "window": window_id},
    )


def _judge_values(data: MonitorInput) -> tuple[tuple[str, ...], FloatArray]:
    """Merged verdict (§2.3) of each judge on each item: NaN where it has none."""
    names = tuple(sorted(data.judges))
    n_items = data.items.n
    out = np.full((len(names), n_items), np.nan)
    for j, name in enumerate(names):
        t = data.judges[name]
        first = np.full(n_items, np.nan)
        second = np.full(n_items, np.nan)
        ab = t.labeler == 0
        first[t.item[ab]] = t.value[ab]
        second[t.item[~ab]] = t.value[~ab]
        out[j] = merge_judge_orders(first, second)
    return names, out


def _eligible(
    table: LabelTable, idx: IntArray, items: ItemTable, mins: Minimums
) -> tuple[bool, bool, str | None]:
    """(meets the label minimum with a defined α, meets the anchor minimum, reason if not)."""
    item_rows, local = np.unique(table.item[idx], return_inverse=True)
    panel = items.panel[item_rows][local]
    values = table.value[idx]
    non_control = (panel == PANEL_NONE) | (panel == PANEL_ANCHOR)
    n = int(np.count_nonzero(non_control))
    k = item_rows.size
    counts = item_value_counts(local[non_control], values[non_control], k)
    anchor = panel == PANEL_ANCHOR
    a_counts = item_value_counts(local[anchor], values[anchor], k)
    anchors_ok = int(np.count_nonzero(a_counts.sum(axis=1) >= mins.anchor_labels)) >= mins.anchors
    if n < mins.labels:
        return False, anchors_ok, f"{n} labels (minimum {mins.labels})"
    pairable = counts[counts.sum(axis=1) >= 2]
    if pairable.shape[0] < 2:
        return False, anchors_ok, "fewer than 2 pairable items"
    if int(np.count_nonzero(pairable.sum(axis=0))) < 2:
        return False, anchors_ok, "all pairable labels are identical"
    return True, anchors_ok, None


def _rows_of_items(table: LabelTable, n_items: int) -> tuple[IntArray, IntArray, IntArray]:
    """CSR index of a table's rows by item: (row order, first position, count) per item."""
    order = np.argsort(table.item, kind="stable").astype(np.int64)
    count = np.bincount(table.item, minlength=n_items).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    return order, first, count


def _gather(index: tuple[IntArray, IntArray, IntArray], items: IntArray) -> IntArray:
    """Rows (ascending) of the given items, from a CSR index."""
    order, first, count = index
    lens = count[items]
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    offsets = np.arange(total) - np.repeat(ends - lens, lens) + np.repeat(first[items], lens)
    return np.sort(order[offsets])


def _stride(spec: WindowSpec) -> int:
    """How many count windows apart two disjoint windows are (1 for calendar windows)."""
    if isinstance(spec, CountWindows):
        return max(1, math.ceil(spec.size / spec.step))
    return 1


def _find_baseline(
    eligible: list[bool], anchors_ok: list[bool], need_anchors: bool, run: int, stride: int = 1
) -> list[int] | None:
    """The first ``run`` consecutive windows meeting the minimums (§7.2).

    With overlapping count windows "consecutive" means consecutive *disjoint* windows (every
    ``stride``-th), each window in between meeting the minimums too: four overlapping windows
    would hold barely more labels than one.
    """
    ok = [e and (a or not need_anchors) for e, a in zip(eligible, anchors_ok, strict=True)]
    span = (run - 1) * stride
    for k0 in range(len(ok) - span):
        if all(ok[k0 : k0 + span + 1]):
            return [k0 + j * stride for j in range(run)]
    return None


def _baseline_version(
    population: str, spec: WindowSpec, window_ids: Sequence[str], fs: FeatureStandardization | None
) -> str:
    body = json.dumps(
        {
            "population": population,
            "spec": spec.describe(),
            "windows": list(window_ids),
            "feature_standardization_version": None if fs is None else fs.version,
            "thresholds_version": THRESHOLDS_VERSION,
        },
        sort_keys=True,
    )
    return "bl-" + hashlib.sha256(body.encode()).hexdigest()[:16]


def _or(*values: Tri) -> Tri:
    """True if any is True; False if any could be evaluated; None if none could (§7.4 note)."""
    if any(v is True for v in values):
        return True
    if any(v is False for v in values):
        return False
    return None


def _test_retest(table: LabelTable, items: ItemTable) -> FloatArray:
    """Per human label on an anchor: 1/0 if it repeats/changes the labeler's previous label on
    that anchor, NaN where there is no earlier label (test–retest, §7.1)."""
    out = np.full(table.n, np.nan)
    on_anchor = np.flatnonzero(items.panel[table.item] == PANEL_ANCHOR)
    if on_anchor.size < 2:
        return out
    order = on_anchor[
        np.lexsort(
            (
                table.label_id[on_anchor],
                table.time[on_anchor],
                table.item[on_anchor],
                table.labeler[on_anchor],
            )
        )
    ]
    same = (table.labeler[order][1:] == table.labeler[order][:-1]) & (
        table.item[order][1:] == table.item[order][:-1]
    )
    repeat = (table.value[order][1:] == table.value[order][:-1]).astype(np.float64)
    out[order[1:][same]] = repeat[same]
    return out


@dataclass(frozen=True)
class WindowEval:
    """One window's statistics and threshold-rule outcomes, before CUSUM and composite.

    Depends only on the window's labels, the baseline and the configuration, so it is cached by
    their content digest; the CUSUMs and alarms are then a cheap sequential pass.
    """

    n_labels: int
    n_items: int
    n_labelers: int
    status: EvidenceStatus
    reason: str | None
    alpha: MonitorStat
    alpha_diff: MonitorStat
    ac1_gap: float | None
    alpha_rule: Tri
    h1_head: MonitorStat
    h1_stats: Mapping[str, MonitorStat]
    h1_values: Mapping[str, Any]
    h1_rule: Tri
    h2_head: MonitorStat
    h2_stats: Mapping[str, MonitorStat]
    h2_values: Mapping[str, Any]
    h2_rule: Tri
    judges: Mapping[str, tuple[JudgeCore, MonitorStat, Tri]]  # core, κ gain, rule
    h4_head: MonitorStat
    h4_values: Mapping[str, Any]
    h4_rule: Tri
    h5_head: MonitorStat
    h5_stats: Mapping[str, MonitorStat]
    h5_values: Mapping[str, Any]
    h5_len_rule: Tri
    control_drop: Tri
    flip: MonitorStat
    flip_rule: Tri
    test_retest: MonitorStat
    z: Mapping[str, float | None]


_STAT_MAPS = ("h1_stats", "h2_stats", "h5_stats")
_STATS = ("alpha", "alpha_diff", "h1_head", "h2_head", "h4_head", "h5_head", "flip", "test_retest")
_JUDGE_STATS = ("kappa_jh", "kappa_hh", "ac1_jh", "parity_gap", "specificity")
CACHE_FORMAT = "monitor-window/v2"  # v2: grouped draws in SharedBootstrap (other numbers)


def _stat_out(s: MonitorStat) -> list[Any]:
    return [s.estimate, s.ci_low, s.ci_high, s.se, s.status, s.reason, s.n]


def _stat_in(x: Sequence[Any]) -> MonitorStat:
    return MonitorStat(x[0], x[1], x[2], x[3], x[4], x[5], int(x[6]))


def encode_cache_entry(value: Any) -> dict[str, Any] | None:
    """A JSON-able form of a cached window evaluation (``None`` for anything else).

    The service persists the monitor's cache with this, so a cold process (the CLI's ``export
    gates``) reuses what the last dashboard refresh computed. Plain data only, never pickle:
    a project's cache must not be able to run code.
    """
    if not isinstance(value, WindowEval):
        return None
    out: dict[str, Any] = {"format": CACHE_FORMAT}
    for name in value.__dataclass_fields__:
        item = getattr(value, name)
        if name in _STATS:
            out[name] = _stat_out(item)
        elif name in _STAT_MAPS:
            out[name] = {k: _stat_out(v) for k, v in item.items()}
        elif name == "judges":
            out[name] = {
                j: [
                    {
                        "n_items": jc.n_items,
                        "raw_agreement": jc.raw_agreement,
                        **{k: _stat_out(getattr(jc, k)) for k in _JUDGE_STATS},
                    },
                    _stat_out(gain),
                    rule,
                ]
                for j, (jc, gain, rule) in item.items()
            }
        else:
            out[name] = dict(item) if isinstance(item, Mapping) else item
    return out


def decode_cache_entry(data: Mapping[str, Any]) -> Any:
    """Inverse of :func:`encode_cache_entry` (``None`` when the format is unknown)."""
    if data.get("format") != CACHE_FORMAT:
        return None
    kwargs: dict[str, Any] = {}
    for name in WindowEval.__dataclass_fields__:
        item = data[name]
        if name in _STATS:
            kwargs[name] = _stat_in(item)
        elif name in _STAT_MAPS:
            kwargs[name] = {k: _stat_in(v) for k, v in item.items()}
        elif name == "judges":
            kwargs[name] = {
                j: (
                    JudgeCore(
                        n_items=int(jc["n_items"]),
                        raw_agreement=jc["raw_agreement"],
                        kappa_jh_reps=None,
                        **{k: _stat_in(jc[k]) for k in _JUDGE_STATS},
                    ),
                    _stat_in(gain),
                    rule,
                )
                for j, (jc, gain, rule) in item.items()
            }
        else:
            kwargs[name] = item
    return WindowEval(**kwargs)


@dataclass(frozen=True)
class _BaselineStats:
    """The pooled baseline core and the means of its windows' own values."""

    core: Core
    js0: float | None
    a0: float | None
    s0: float | None
    flip0: float | None


_encode_ascii = json.encoder.encode_basestring_ascii  # what json.dumps writes for a str


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        kind = type(part)
        if kind is np.ndarray:
            h.update(str(part.dtype).encode())
            h.update(str(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        elif kind is str:  # the bytes json.dumps gives, without its per-call set-up
            h.update(_encode_ascii(part).encode())
        elif part is None:
            h.update(b"null")
        elif kind is bool:
            h.update(b"true" if part else b"false")
        elif isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode())
            h.update(str(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()


def _content_digest(table: LabelTable, idx: IntArray) -> str:
    return _digest(table.item[idx], table.labeler[idx], table.value[idx], table.orientation[idx])


def _ctx_digest(ctx: ItemContext) -> str:
    return _digest(
        ctx.panel,
        ctx.expected,
        ctx.covariates if ctx.covariates is not None else "none",
        ctx.length_sign,
        ctx.judge_values,
        list(ctx.judge_names),
        ctx.n_labelers,
    )


def _config_digest(config: MonitorConfig) -> str:
    body = config.to_dict()
    body.pop("acknowledged", None)
    body.pop("lifted", None)
    return _digest(body)


def _window_core(
    population: str,
    table: LabelTable,
    labels: IntArray,
    window: Window,
    ctx: ItemContext,
    config: MonitorConfig,
    with_judges: bool,
    cancel: CancelToken | None,
) -> Core:
    """A window's core statistics, bootstrapped with the window's own seed (order-free)."""
    rng = np.random.default_rng(_window_seed(config, population, window.id, "core"))
    return compute_core(
        table.subset(labels),
        ctx,
        config.minimums,
        n_boot=config.n_boot,
        rng=rng,
        with_judges=with_judges,
        cancel=cancel,
    )


@dataclass(frozen=True)
class WindowTask:
    """The uncached windows of one population and all they depend on.

    Plain data (arrays and frozen dataclasses) that pickles, so a second process can compute
    some of the windows: each window's result depends only on its own labels, the baseline and
    the configuration (its bootstrap has its own seed), never on the other windows or the order.
    """

    population: str
    table: LabelTable
    ctx: ItemContext
    config: MonitorConfig
    base: _BaselineStats | None
    windows: tuple[Window, ...]
    labels: tuple[IntArray, ...]  # per window: indices into ``table``
    after: tuple[bool, ...]  # per window: after the baseline
    retest: tuple[FloatArray | None, ...]  # per window: test-retest flags (humans only)
    with_judges: bool  # the human population: agreement with each judge too

    def __len__(self) -> int:
        return len(self.windows)

    def evaluate(self, j: int, cancel: CancelToken | None = None) -> WindowEval:
        """The ``j``-th window's statistics and threshold-rule outcomes."""
        window = self.windows[j]
        core = _window_core(
            self.population,
            self.table,
            self.labels[j],
            window,
            self.ctx,
            self.config,
            self.with_judges,
            cancel,
        )
        return _evaluate(
            self.population,
            window,
            core,
            self.base,
            self.ctx,
            self.config,
            self.after[j],
            self.retest[j],
        )


WindowRunner = Callable[[WindowTask, CancelToken | None], Job[list[WindowEval]]]
"""Computes every window of a task; yields ``Progress`` over the task, returns them in order."""


def run_windows(task: WindowTask, cancel: CancelToken | None = None) -> Job[list[WindowEval]]:
    """The windows of ``task`` one after the other, in this process."""
    out: list[WindowEval] = []
    for j in range(len(task)):
        if cancel is not None:
            cancel.check()
        out.append(task.evaluate(j, cancel))
        yield Progress(j + 1, len(task), f"Monitor: {task.population}, window {task.windows[j].id}")
    return out


def _offset_progress(before: int, total: int, step: Progress) -> Progress:
    return Progress(before + step.done, total, step.label)


def run_monitor(
    data: MonitorInput,
    spec: WindowSpec,
    config: MonitorConfig | None = None,
    *,
    frozen: Mapping[str, Sequence[str]] | None = None,
    standardization: FeatureStandardization | None = None,
    cache: MutableMapping[str, Any] | None = None,
    cancel: CancelToken | None = None,
    runner: WindowRunner | None = None,
) -> Job[MonitorRun]:
    """Run the monitor over the windows of ``spec``; yields progress, returns the run.

    ``frozen`` maps a population to the window ids of its frozen baseline (used when every id
    still exists; otherwise the baseline is derived again and marked not frozen).
    ``standardization`` is the frozen feature standardisation; without it one is fitted on the
    items of the human baseline windows (§7.1). ``cache`` (any mutable mapping the caller keeps
    between refreshes) holds per-window results keyed by a digest of everything they depend on,
    so a refresh after new labels recomputes only the windows whose labels changed.
    ``runner`` computes a population's uncached windows (:func:`run_windows`, in this process,
    unless the caller spreads them over processes: every window is independent of the others).
    """
    config = config or MonitorConfig()
    mins = config.minimums
    items = data.items
    humans = data.humans
    windows = build_windows(spec, humans.time, humans.label_id)
    judge_names, judge_values = _judge_values(data)
    populations = [_Population(HUMAN, humans, [w.labels for w in windows], True)]
    window_items = [np.unique(humans.item[w.labels]) for w in windows]
    for name in judge_names:
        t = data.judges[name]
        index = _rows_of_items(t, items.n)
        per_window = [_gather(index, u) for u in window_items]
        populations.append(_Population(f"judge:{name}", t, per_window, False))
    total = sum(len(p.window_labels) for p in populations) + 1
    done = 0
    yield Progress(done, total, "Finding the monitor baseline")
    # 1. eligibility and baselines (cheap: no bootstrap)
    baselines: dict[str, tuple[list[int] | None, BaselineInfo]] = {}
    ids = {w.id: k for k, w in enumerate(windows)}
    for pop in populations:
        flags = [_eligible(pop.table, idx, items, mins) for idx in pop.window_labels]
        need_anchors = any(f[1] for f in flags)
        chosen: list[int] | None = None
        is_frozen = False
        if frozen and pop.name in frozen:
            wanted = list(frozen[pop.name])
            if wanted and all(i in ids for i in wanted):
                chosen, is_frozen = [ids[i] for i in wanted], True
        if chosen is None:
            chosen = _find_baseline(
                [f[0] for f in flags],
                [f[1] for f in flags],
                need_anchors,
                config.baseline_windows,
                _stride(spec),
            )
        if chosen is not None:
            info = BaselineInfo(
                pop.name, tuple(windows[k].id for k in chosen), None, is_frozen, "ok", None
            )
        else:
            info = BaselineInfo(
                pop.name,
                (),
                None,
                False,
                "insufficient_data",
                f"no run of {config.baseline_windows} consecutive windows meets the minimums",
            )
        baselines[pop.name] = (chosen, info)
    # 2. feature standardisation from the human baseline items (frozen, versioned)
    fs = standardization
    human_base = baselines[HUMAN][0]
    if fs is None and human_base is not None:
        base_idx = np.concatenate([windows[k].labels for k in human_base])
        base_items = np.unique(humans.item[base_idx])
        base_items = base_items[items.panel[base_items] == PANEL_NONE]
        raw = items.style_raw[base_items]
        fs = fit_standardization(raw[np.all(np.isfinite(raw), axis=1)])
    covariates = None if fs is None else fs.covariates(items.style_raw)
    length_sign = np.sign(items.style_raw[:, 0])
    for name, (chosen, info) in list(baselines.items()):
        if chosen is not None:
            version = _baseline_version(name, spec, info.window_ids, fs)
            baselines[name] = (chosen, replace(info, version=version))
    # 3. per population: baseline, window evaluations (cached), then the sequential pass
    out: dict[str, PopulationRun] = {}
    retest = _test_retest(humans, items)
    config_key = _config_digest(config)
    anchor_items = np.flatnonzero(items.panel == PANEL_ANCHOR).astype(np.int64)
    anchor_pos = np.full(items.n, -1, dtype=np.int64)
    anchor_pos[anchor_items] = np.arange(anchor_items.size)
    for pop in populations:
        ctx = ItemContext(
            panel=items.panel,
            expected=items.expected,
            covariates=covariates,
            length_sign=length_sign,
            judge_values=judge_values if pop.with_judges else np.zeros((0, items.n)),
            judge_names=judge_names if pop.with_judges else (),
            n_labelers=len(pop.table.labelers),
            anchor_pos=anchor_pos,
            n_anchor_total=int(anchor_items.size),
        )
        ctx_key = _ctx_digest(ctx)
        chosen, info = baselines[pop.name]

        def core_of(k: int, pop: _Population = pop, ctx: ItemContext = ctx) -> Core:
            labels = pop.window_labels[k]
            return _window_core(
                pop.name, pop.table, labels, windows[k], ctx, config, pop.with_judges, cancel
            )

        base: _BaselineStats | None = None
        base_key = "none"
        if chosen is not None:
            base_idx_all = np.concatenate([pop.window_labels[k] for k in chosen])
            base_key = _digest(
                "baseline",
                pop.name,
                info.version,
                _content_digest(pop.table, base_idx_all),
                ctx_key,
                config_key,
            )
            cached = None if cache is None else cache.get(base_key)
            if isinstance(cached, _BaselineStats):
                base = cached
            else:
                rng = np.random.default_rng(
                    _window_seed(config, pop.name, info.version or "", "baseline")
                )
                pooled = compute_core(
                    pop.table.subset(base_idx_all),
                    ctx,
                    mins,
                    n_boot=config.n_boot,
                    rng=rng,
                    with_judges=pop.with_judges,
                    cancel=cancel,
                )
                base_cores = [core_of(k) for k in chosen]
                base = _baseline_stats(pooled, base_cores, mins)
                if cache is not None:
                    cache[base_key] = base
        last_base = max(chosen) if chosen else None
        keys: list[str] = []
        found: list[WindowEval | None] = []
        for k, idx in enumerate(pop.window_labels):
            after = last_base is not None and k > last_base
            key = _digest(
                "window",
                pop.name,
                windows[k].id,
                _content_digest(pop.table, idx),
                ctx_key,
                config_key,
                base_key,
                after,
                None if retest is None or pop.name != HUMAN else _digest(retest[idx]),
            )
            keys.append(key)
            cached_eval = None if cache is None else cache.get(key)
            found.append(cached_eval if isinstance(cached_eval, WindowEval) else None)
        missing = [k for k, ev in enumerate(found) if ev is None]
        done += len(found) - len(missing)
        if missing:
            task = WindowTask(
                population=pop.name,
                table=pop.table,
                ctx=ctx,
                config=config,
                base=base,
                windows=tuple(windows[k] for k in missing),
                labels=tuple(pop.window_labels[k] for k in missing),
                after=tuple(last_base is not None and k > last_base for k in missing),
                retest=tuple(
                    retest[pop.window_labels[k]] if pop.name == HUMAN else None for k in missing
                ),
                with_judges=pop.with_judges,
            )
            offset = functools.partial(_offset_progress, done, total)
            computed = yield from relayed((runner or run_windows)(task, cancel), offset)
            if len(computed) != len(missing):
                raise RuntimeError("the window runner returned the wrong number of windows")
            for k, ev in zip(missing, computed, strict=True):
                found[k] = ev
                if cache is not None:
                    cache[keys[k]] = ev
            done += len(missing)
        yield Progress(done, total, f"Monitor: {pop.name}")
        evals = [ev for ev in found if ev is not None]
        results = _sequence(pop.name, windows, evals, chosen, base, config, spec)
        if pop.name == HUMAN and base is not None and chosen is not None:
            results = _attribute(pop, results, chosen, ctx, config)
        out[pop.name] = PopulationRun(pop.name, info, tuple(results), pop.table.labelers)
    yield Progress(total, total, "Monitor done")
    return MonitorRun(spec, config, out, fs, tuple(windows))


def _flip_rate(
    window_counts: IntArray, base_counts: IntArray, mins: Minimums
) -> tuple[float | None, int]:
    """Share of anchors whose strict modal label differs from the baseline's (both defined)."""
    usable = window_counts.sum(axis=1) >= mins.anchor_labels
    mode_w = strict_mode(window_counts)
    mode_0 = strict_mode(base_counts)
    both = usable & (mode_w >= 0) & (mode_0 >= 0)
    n = int(np.count_nonzero(both))
    if n == 0:
        return None, 0
    return float(np.mean(mode_w[both] != mode_0[both])), n


def _mean_all(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals and len(vals) == len(values) else None


def _baseline_stats(pooled: Core, window_cores: list[Core], mins: Minimums) -> _BaselineStats:
    """Pooled baseline plus the means of the baseline windows' own values (§7.2 note above).

    The flip rate's chance level compares each baseline window with the pooled baseline of the
    *other* baseline windows (leave one out), as a later window is compared with all of them.
    """
    flips = [
        _flip_rate(c.anchor_counts, pooled.anchor_counts - c.anchor_counts, mins)[0]
        for c in window_cores
    ]
    return _BaselineStats(
        pooled,
        _mean_all([c.js_dispersion.estimate for c in window_cores]),
        _mean_all([c.conformity.estimate for c in window_cores]),
        _mean_all([c.conformity_sd for c in window_cores]),
        _mean_all(flips),
    )


def _combined_se(se_window: float, se_baseline: float | None) -> float:
    """SE of stat_w − μ₀ for the CUSUM z of §7.5.

    §7.5 divides by the window's SE alone, treating μ₀ as known. μ₀ is estimated from the
    baseline windows, and its error is the same in every later window: a persistent offset that
    a CUSUM accumulates (estimated-parameter CUSUMs alarm far sooner than their nominal ARL₀).
    Adding the baseline's variance keeps the in-control z near unit variance.
    """
    return float(math.sqrt(se_window**2 + (se_baseline or 0.0) ** 2))


def _evaluate(
    name: str,
    w: Window,
    core: Core,
    bstats: _BaselineStats | None,
    ctx: ItemContext,
    config: MonitorConfig,
    after: bool,
    retest: FloatArray | None,
) -> WindowEval:
    """Every per-window statistic and threshold rule of §7.3 (rules only after the baseline)."""
    mins = config.minimums
    th = config.thresholds
    base = None if bstats is None else bstats.core
    z: dict[str, float | None] = {}
    non_control = int(core.extras.get("n_labels_non_control", 0))
    status: EvidenceStatus = "ok"
    reason: str | None = None
    if non_control < mins.labels:
        status, reason = "insufficient_data", f"{non_control} labels (minimum {mins.labels})"
    elif core.alpha.status == "undefined":
        status, reason = "undefined", core.alpha.reason
    # --- agreement rise
    if base is not None and core.alpha.ok and base.alpha.ok:
        assert core.alpha.estimate is not None
        assert base.alpha.estimate is not None
        alpha_diff = difference_stat(
            core.alpha.estimate - base.alpha.estimate,
            independent_difference(core.alpha_reps, base.alpha_reps),
            core.alpha.n,
        )
    else:
        alpha_diff = MonitorStat.missing(
            "insufficient_data" if base is None else "undefined",
            "no baseline yet" if base is None else "α undefined here or in the baseline",
            core.alpha.n,
        )
    alpha_rule: Tri = None
    if after and alpha_diff.ok and alpha_diff.ci_low is not None:
        alpha_rule = alpha_diff.ci_low > 0
    ac1_gap = (
        None if core.ac1 is None or core.alpha.estimate is None else core.ac1 - core.alpha.estimate
    )
    # --- H1 / H2 on anchors, the same anchors drawn on both sides
    h1_stats: dict[str, MonitorStat] = {}
    h2_stats: dict[str, MonitorStat] = {}
    h1_rule: Tri = None
    h2_tau_rule: Tri = None
    h1_head = core.anchor_disagreement
    h2_head = core.anchor_tie_rate
    if base is not None and core.n_anchors >= mins.anchors:
        feats, common = paired_anchor_features(core.anchor_counts, base.anchor_counts, mins)
        n_common = int(common.size)
        if n_common >= mins.anchors:
            rng = np.random.default_rng(_window_seed(config, name, w.id, "anchors"))
            reps = paired_anchor_bootstrap(feats, config.n_boot, rng, None)
            d_w = float(feats[:, 0].mean())
            d_0 = float(feats[:, 1].mean())
            tau_w = float(feats[:, 2].sum() / feats[:, 3].sum())
            tau_0 = float(feats[:, 4].sum() / feats[:, 5].sum())

            def col(j: int, reps: FloatArray | None = reps) -> FloatArray | None:
                return None if reps is None else np.asarray(reps[:, j])

            h1_head = stat_from_replicates(d_w, col(0), n_common)
            h1_stats["baseline"] = MonitorStat(d_0, n=n_common)
            h1_stats["diff"] = stat_from_replicates(d_w - d_0, col(2), n_common)
            ratio = d_w / d_0 if d_0 > 0 else None
            h1_stats["ratio"] = (
                stat_from_replicates(ratio, col(3), n_common)
                if ratio is not None
                else MonitorStat.missing("undefined", "baseline disagreement is 0", n_common)
            )
            h2_head = stat_from_replicates(tau_w, col(4), int(feats[:, 3].sum()))
            h2_stats["baseline"] = MonitorStat(tau_0, n=int(feats[:, 5].sum()))
            h2_stats["diff"] = stat_from_replicates(tau_w - tau_0, col(5), n_common)
            if after:
                d_hi = h1_stats["diff"].ci_high
                r_hi = h1_stats["ratio"].ci_high
                h1_rule = (d_hi is not None and d_hi < th.h1_diff) or (
                    ratio is not None
                    and ratio < th.h1_ratio
                    and r_hi is not None
                    and r_hi < th.h1_ratio_ci_high
                )
                t_hi = h2_stats["diff"].ci_high
                h2_tau_rule = t_hi is not None and t_hi < th.h2_tie_diff
            # CUSUM z (§7.5) on the SE of the paired difference (the baseline's own error
            # included; see _combined_se)
            se_d = h1_stats["diff"].se
            z["h1_disagreement"] = -(d_w - d_0) / se_d if se_d else None
            se_t = h2_stats["diff"].se
            z["h2_anchor_tie_rate"] = -(tau_w - tau_0) / se_t if se_t else None
        else:
            why = f"{n_common} anchors with enough labels here and in the baseline"
            h1_head = MonitorStat.missing("insufficient_data", why, n_common)
            h2_head = MonitorStat.missing("insufficient_data", why, n_common)
    h2_js_rule: Tri = None
    js0 = None if bstats is None else bstats.js0
    if after and core.js_dispersion.ok and js0 is not None and js0 > 0:
        assert core.js_dispersion.estimate is not None
        h2_js_rule = core.js_dispersion.estimate < th.h2_js_factor * js0
    tr = MonitorStat.missing("undefined", "no repeated anchor labels")
    if retest is not None:
        vals = retest[np.isfinite(retest)]
        if vals.size:
            tr = MonitorStat(float(vals.mean()), n=int(vals.size))
    # --- H3 per judge
    judges: dict[str, tuple[JudgeCore, MonitorStat, Tri]] = {}
    for jname, jc in core.judges.items():
        bj = None if base is None else base.judges.get(jname)
        gain = MonitorStat.missing("insufficient_data", "no baseline yet", jc.n_items)
        rule: Tri = None
        if bj is not None and jc.kappa_jh.ok and bj.kappa_jh.ok:
            assert jc.kappa_jh.estimate is not None
            assert bj.kappa_jh.estimate is not None
            gain = difference_stat(
                jc.kappa_jh.estimate - bj.kappa_jh.estimate,
                independent_difference(jc.kappa_jh_reps, bj.kappa_jh_reps),
                jc.n_items,
            )
        if after and non_control >= mins.labels:
            first: Tri = None
            if gain.ok and gain.ci_low is not None and bj is not None:
                hh_w, hh_0 = jc.kappa_hh.estimate, bj.kappa_hh.estimate
                stable = (
                    hh_w is not None
                    and hh_0 is not None
                    and abs(hh_w - hh_0) < th.h3_kappa_hh_stable
                )
                first = gain.ci_low > th.h3_kappa_gain and stable
            second: Tri = None
            if jc.parity_gap.ok and jc.parity_gap.ci_low is not None:
                second = jc.parity_gap.ci_low > 0
            rule = _or(first, second)
        if bj is not None and jc.specificity.ok and bj.specificity.ok and jc.specificity.se:
            assert jc.specificity.estimate is not None
            assert bj.specificity.estimate is not None
            z[f"h3_specificity:{jname}"] = (
                jc.specificity.estimate - bj.specificity.estimate
            ) / _combined_se(jc.specificity.se, bj.specificity.se)
        judges[jname] = (replace(jc, kappa_jh_reps=None), gain, rule)
    # --- H4
    h4_rule: Tri = None
    a0 = None if bstats is None else bstats.a0
    s0 = None if bstats is None else bstats.s0
    if after and core.conformity.ok and a0 is not None and s0 is not None:
        assert core.conformity.estimate is not None
        h4_rule = (core.conformity.estimate - a0 >= th.h4_conformity_gain - 1e-12) and (
            core.conformity_sd is not None and core.conformity_sd <= th.h4_sd_factor * s0
        )
    # --- H5
    h5_len_rule: Tri = None
    if after and core.beta.ok and base is not None and base.beta.ok:
        assert base.beta.estimate is not None
        low = core.beta.ci_low
        h5_len_rule = low is not None and low > base.beta.estimate + th.h5_beta_len_gain
    if base is not None and core.beta_pos.ok and base.beta_pos.ok and core.beta_pos.se:
        # |β_pos| growth, watched as a two-sided CUSUM on β_pos itself: the folded |β̂| is
        # biased upward when β is near 0 and its spread shrinks with it, so a chart on |β̂_w|
        # − |β̂₀| drifts upward in control; two one-sided charts on (β̂_w − β̂₀)/se do not.
        assert core.beta_pos.estimate is not None
        assert base.beta_pos.estimate is not None
        zpos = (core.beta_pos.estimate - base.beta_pos.estimate) / _combined_se(
            core.beta_pos.se, base.beta_pos.se
        )
        z["h5_beta_pos_up"] = zpos
        z["h5_beta_pos_down"] = -zpos
    acc_diff = MonitorStat.missing("insufficient_data", "no baseline control accuracy")
    control_drop: Tri = None
    if base is not None and core.control_accuracy.ok and base.control_accuracy.ok:
        assert core.control_accuracy.estimate is not None
        assert base.control_accuracy.estimate is not None
        acc_diff = difference_stat(
            core.control_accuracy.estimate - base.control_accuracy.estimate,
            independent_difference(core.control_reps, base.control_reps),
            core.control_accuracy.n,
        )
        if after and acc_diff.ok and acc_diff.ci_high is not None:
            control_drop = acc_diff.ci_high < 0
    # --- drift: anchor majority flips against the baseline (excess over its chance level)
    flip = MonitorStat.missing("insufficient_data", "no baseline yet")
    flip_rule: Tri = None
    if base is not None and bstats is not None:
        rate, n_flip = _flip_rate(core.anchor_counts, base.anchor_counts, mins)
        if rate is not None and core.n_anchors >= mins.anchors:
            flip = MonitorStat(rate, n=n_flip)
            if after and bstats.flip0 is not None:
                flip_rule = rate - bstats.flip0 > th.drift_flip_rate
        else:
            flip = MonitorStat.missing(
                "insufficient_data",
                f"{core.n_anchors} anchors with ≥ {mins.anchor_labels} labels "
                f"(minimum {mins.anchors})",
                n_flip,
            )
    return WindowEval(
        n_labels=core.n_labels,
        n_items=core.n_items,
        n_labelers=core.n_labelers,
        status=status,
        reason=reason,
        alpha=core.alpha,
        alpha_diff=alpha_diff,
        ac1_gap=ac1_gap,
        alpha_rule=alpha_rule,
        h1_head=h1_head,
        h1_stats=h1_stats,
        h1_values={
            "entropy": core.anchor_entropy,
            "n_anchors": core.n_anchors,
            "window_disagreement": core.anchor_disagreement.estimate,
        },
        h1_rule=h1_rule,
        h2_head=h2_head,
        h2_stats={**h2_stats, "js_dispersion": core.js_dispersion},
        h2_values={
            "marginal_entropy": core.anchor_marginal_entropy,
            "p_e": core.anchor_p_e,
            "davidson_nu": core.davidson_nu,
            "labeler_tie_sd": core.labeler_tie_sd,
            "js_baseline": js0,
            "ac1_alpha_gap": ac1_gap,
        },
        h2_rule=_or(h2_tau_rule, h2_js_rule),
        judges=judges,
        h4_head=core.conformity,
        h4_values={"sd": core.conformity_sd, "baseline_mean": a0, "baseline_sd": s0},
        h4_rule=h4_rule,
        h5_head=core.beta,
        h5_stats={
            "beta_md": core.beta_md,
            "beta_pos": core.beta_pos,
            "abs_beta_pos": core.abs_beta_pos,
            "control_accuracy": core.control_accuracy,
            "control_accuracy_diff": acc_diff,
            "neg_control_p_left": core.neg_p_left,
            "neg_control_p_longer": core.neg_p_longer,
            "neg_control_tie_rate": core.neg_tie_rate,
        },
        h5_values={
            "baseline_beta_len": None if base is None else base.beta.estimate,
            "baseline_abs_beta_pos": None if base is None else base.abs_beta_pos.estimate,
        },
        h5_len_rule=h5_len_rule,
        control_drop=control_drop,
        flip=flip,
        flip_rule=flip_rule,
        test_retest=tr,
        z=z,
    )


class _CusumBank:
    """The CUSUMs of one population: feed z per window, read whether each chart is latched."""

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.states: dict[str, CusumState] = {}

    def feed(self, key: str, z: float | None, update: bool) -> CusumPoint:
        """Update chart ``key`` with z when this window updates charts; carry it otherwise."""
        state = self.states.get(key, CusumState())
        if z is None or not np.isfinite(z) or not update:
            self.states[key] = state
            return CusumPoint(None, state.s, False, state.latched)
        new, s, alarm = cusum_update(state, float(z), k=self.config.cusum_k, h=self.config.cusum_h)
        self.states[key] = new
        return CusumPoint(float(z), s, alarm, new.latched)


def _sequence(
    name: str,
    windows: list[Window],
    evals: list[WindowEval],
    chosen: list[int] | None,
    bstats: _BaselineStats | None,
    config: MonitorConfig,
    spec: WindowSpec,
) -> list[WindowResult]:
    """CUSUMs (§7.5), indicator firing and the composite alarms (§7.4), window by window."""
    baseline_set = set(chosen or [])
    last_base = max(chosen) if chosen else None
    per_update = _stride(spec)
    bank = _CusumBank(config)
    results: list[WindowResult] = []
    for k, ev in enumerate(evals):
        w = windows[k]
        after = last_base is not None and k > last_base
        update = after and last_base is not None and (k - last_base - 1) % per_update == 0
        for key, when in config.acknowledged.items():
            pop_name, _, stat_name = key.partition("|")
            if pop_name == name and when == w.id and stat_name in bank.states:
                bank.states[stat_name] = acknowledge(bank.states[stat_name])
        points: dict[str, CusumPoint] = {}
        if after:
            for key in sorted(set(bank.states) | set(ev.z)):
                points[key] = bank.feed(key, ev.z.get(key), update)

        def latched(key: str, points: dict[str, CusumPoint] = points) -> Tri:
            point = points.get(key)
            return None if point is None else point.latched

        h1_cusum = latched("h1_disagreement")
        h2_cusum = latched("h2_anchor_tie_rate")
        pos_cusum = _or(latched("h5_beta_pos_up"), latched("h5_beta_pos_down"))
        h1_fires = _or(ev.h1_rule, h1_cusum) if after else None
        h2_fires = _or(ev.h2_rule, h2_cusum) if after else None
        judges: dict[str, JudgeWindow] = {}
        votes: list[Tri] = []
        for jname, (jc, gain, rule) in ev.judges.items():
            fires = _or(rule, latched(f"h3_specificity:{jname}")) if after else None
            votes.append(fires)
            judges[jname] = JudgeWindow(
                jname,
                jc.kappa_jh,
                jc.kappa_hh,
                jc.ac1_jh,
                jc.parity_gap,
                gain,
                jc.specificity,
                fires,
                jc.raw_agreement,
            )
        h3_fires = _or(*votes) if (after and votes) else None
        if judges:
            top = max(judges.values(), key=lambda j: (j.kappa_jh.estimate or -9.0, j.judge))
            h3_head = top.kappa_jh
        else:
            h3_head = MonitorStat.missing("undefined", "no judge (H3 applies to humans only)")
        h5_fires = _or(ev.h5_len_rule, pos_cusum, ev.control_drop) if after else None
        indicators = {
            "H1": Indicator(
                "H1", h1_fires, ev.h1_rule, h1_cusum, ev.h1_head, ev.h1_stats, ev.h1_values
            ),
            "H2": Indicator(
                "H2", h2_fires, ev.h2_rule, h2_cusum, ev.h2_head, ev.h2_stats, ev.h2_values
            ),
            "H3": Indicator("H3", h3_fires, h3_fires, None, h3_head),
            "H4": Indicator("H4", ev.h4_rule, ev.h4_rule, None, ev.h4_head, {}, ev.h4_values),
            "H5": Indicator(
                "H5",
                h5_fires,
                _or(ev.h5_len_rule, ev.control_drop),
                pos_cusum,
                ev.h5_head,
                ev.h5_stats,
                ev.h5_values,
            ),
        }
        rising = _or(ev.alpha_rule, ev.h4_rule) if after else None
        evidence = _or(h1_fires, h3_fires, h5_fires)
        drift_evidence = _or(ev.flip_rule, ev.control_drop)
        homog: int | None = None
        drift: int | None = None
        status: EvidenceStatus = "ok"
        reason: str | None = None
        d_status: EvidenceStatus = "ok"
        d_reason: str | None = None
        if k in baseline_set:
            homog, drift = 0, 0
            reason = d_reason = "baseline window"
        elif bstats is None or last_base is None or k < last_base:
            status = d_status = "insufficient_data"
            reason = d_reason = (
                "no monitor baseline yet" if bstats is None else "before the baseline"
            )
        elif ev.status != "ok":
            status = d_status = ev.status
            reason = d_reason = ev.reason
        else:
            if rising is False or evidence is False:
                homog = 0
            if rising is True and evidence is True:
                homog = 1
            if homog is None:
                status, reason = "undefined", "no indicator of a bracket could be evaluated"
            if rising is True:
                drift = 0
            elif drift_evidence is not None and rising is False:
                drift = int(drift_evidence)
            elif drift_evidence is False:
                drift = 0
            if drift is None:
                d_status, d_reason = "undefined", "the drift rule could not be evaluated"
        results.append(
            WindowResult(
                population=name,
                window=w,
                n_labels=ev.n_labels,
                n_items=ev.n_items,
                n_labelers=ev.n_labelers,
                status=ev.status,
                reason=ev.reason,
                in_baseline=k in baseline_set,
                alpha=ev.alpha,
                alpha_diff=ev.alpha_diff,
                ac1_alpha_gap=ev.ac1_gap,
                indicators=indicators,
                judges=judges,
                rising=rising,
                homogenization_alarm=homog,
                drift_alarm=drift,
                alarm_status=status,
                alarm_reason=reason,
                drift_status=d_status,
                drift_reason=d_reason,
                flip_rate=ev.flip,
                flip_rate_baseline=None if bstats is None else bstats.flip0,
                control_drop=ev.control_drop if after else None,
                test_retest=ev.test_retest,
                cusum=points,
                named_labelers=(),
                attributable=False,
                lifted=(name, w.id) in config.lifted,
            )
        )
    return results


# --------------------------------------------------------------------------------------------
# Attribution (§7.6: "only the named labelers' when the alarm is attributable")
# --------------------------------------------------------------------------------------------


def _per_labeler_rates(
    table: LabelTable, idx: IntArray, ctx: ItemContext, judge_row: int | None
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Per labeler (x, n) of: agreement with one judge; choosing the longer answer."""
    n_lab = len(table.labelers)
    item = table.item[idx]
    value = table.value[idx]
    lab = table.labeler[idx]
    panel = ctx.panel[item]
    keep = (panel == PANEL_NONE) | (panel == PANEL_ANCHOR)
    out: dict[str, tuple[FloatArray, FloatArray]] = {}
    if judge_row is not None:
        jv = ctx.judge_values[judge_row][item]
        has = keep & np.isfinite(jv)
        agree = has & (value == np.nan_to_num(jv))
        out["judge"] = (
            np.bincount(lab, weights=agree.astype(np.float64), minlength=n_lab).astype(np.float64),
            np.bincount(lab, weights=has.astype(np.float64), minlength=n_lab).astype(np.float64),
        )
    sign = ctx.length_sign[item]
    differ = keep & (value != 0) & np.isfinite(sign) & (np.nan_to_num(sign) != 0)
    longer = differ & (np.sign(value) == np.nan_to_num(sign))
    out["longer"] = (
        np.bincount(lab, weights=longer.astype(np.float64), minlength=n_lab).astype(np.float64),
        np.bincount(lab, weights=differ.astype(np.float64), minlength=n_lab).astype(np.float64),
    )
    return out


def _attribute(
    pop: _Population,
    results: list[WindowResult],
    chosen: list[int],
    ctx: ItemContext,
    config: MonitorConfig,
) -> list[WindowResult]:
    """Name the labelers whose own shift explains an alarm (judge agreement, length preference)."""
    mins = config.minimums
    base_idx = np.concatenate([pop.window_labels[k] for k in chosen])
    n_lab = len(pop.table.labelers)
    base_n = np.bincount(pop.table.labeler[base_idx], minlength=n_lab)
    out = []
    for k, res in enumerate(results):
        if res.homogenization_alarm != 1:
            out.append(res)
            continue
        idx = pop.window_labels[k]
        win_n = np.bincount(pop.table.labeler[idx], minlength=n_lab)
        assessed = np.flatnonzero((win_n >= mins.labeler_labels) & (base_n >= mins.labeler_labels))
        judge_row = None
        fired = [j for j in res.judges.values() if j.fires]
        if fired and ctx.judge_names:
            best = max(fired, key=lambda j: (j.kappa_gain.estimate or -9.0, j.judge))
            judge_row = ctx.judge_names.index(best.judge)
        shifts = []
        rates_w = _per_labeler_rates(pop.table, idx, ctx, judge_row)
        rates_0 = _per_labeler_rates(pop.table, base_idx, ctx, judge_row)
        kinds = ["judge"] if judge_row is not None else []
        if res.indicators["H5"].fires:
            kinds.append("longer")
        for kind in kinds:
            xw, nw = rates_w[kind]
            x0, n0 = rates_0[kind]
            diff, z = labeler_shift(xw, nw, x0, n0)
            enough = (nw >= mins.labeler_labels) & (n0 >= mins.labeler_labels)
            shifts.append(enough & (diff >= config.attribution_shift) & (z >= config.attribution_z))
        named_mask = np.zeros(n_lab, dtype=bool)
        for s in shifts:
            named_mask |= s
        named_mask &= np.isin(np.arange(n_lab), assessed)
        named = tuple(sorted(pop.table.labelers[r] for r in np.flatnonzero(named_mask)))
        attributable = 0 < len(named) < assessed.size
        out.append(
            replace(res, named_labelers=named if attributable else (), attributable=attributable)
        )
    return out


# --------------------------------------------------------------------------------------------
# Quarantine (§7.6)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarantinedWindow:
    population: str
    window_id: str
    labelers: tuple[str, ...] | None  # None: every labeler of the window
    n_labels: int
    lifted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "population": self.population,
            "window": self.window_id,
            "labelers": None if self.labelers is None else list(self.labelers),
            "n_labels": self.n_labels,
            "lifted": self.lifted,
        }


@dataclass(frozen=True)
class Quarantine:
    """Quarantined human labels and the items they touch (§7.6).

    ``label_ids`` never enter estimates. A record whose slice contains a ``tainted`` item is
    ``quarantined`` until the item again has ``requirement`` labels from fresh labelers — labelers
    none of whose labels are quarantined (``fresh_labelers``) — see :meth:`slice_quarantined`.
    """

    label_ids: frozenset[int]
    windows: tuple[QuarantinedWindow, ...]
    tainted_items: frozenset[int]
    fresh_counts: Mapping[int, int]  # tainted item id → distinct fresh labelers with a label
    quarantined_labelers: frozenset[str]

    def uncleared_items(self, requirement: int) -> frozenset[int]:
        """Tainted items not yet relabelled by ``requirement`` fresh labelers."""
        return frozenset(i for i in self.tainted_items if self.fresh_counts.get(i, 0) < requirement)

    def slice_quarantined(self, item_ids: Sequence[int] | set[int], requirement: int) -> bool:
        """True when the slice holds an item labelled in a quarantined window and not cleared."""
        uncleared = self.uncleared_items(requirement)
        return any(i in uncleared for i in item_ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_labels": len(self.label_ids),
            "windows": [w.to_dict() for w in self.windows],
            "tainted_items": len(self.tainted_items),
            "quarantined_labelers": sorted(self.quarantined_labelers),
        }


EMPTY_QUARANTINE = Quarantine(frozenset(), (), frozenset(), {}, frozenset())


def compute_quarantine(run: MonitorRun, data: MonitorInput) -> Quarantine:
    """Quarantine the human labels of windows with ``homogenization_alarm = 1`` (not lifted)."""
    human = run.populations.get(HUMAN)
    table = data.humans
    if human is None or table.n == 0:
        return EMPTY_QUARANTINE
    marked = np.zeros(table.n, dtype=bool)
    windows: list[QuarantinedWindow] = []
    for res in human.windows:
        if res.homogenization_alarm != 1:
            continue
        idx = res.window.labels
        if res.attributable and res.named_labelers:
            wanted = np.isin(
                table.labeler[idx], [table.labelers.index(n) for n in res.named_labelers]
            )
            idx = idx[wanted]
        labelers = res.named_labelers if res.attributable else None
        windows.append(QuarantinedWindow(HUMAN, res.window.id, labelers, int(idx.size), res.lifted))
        if not res.lifted:
            marked[idx] = True
    marked &= table.label_id >= 0
    if not np.any(marked):
        return Quarantine(frozenset(), tuple(windows), frozenset(), {}, frozenset())
    q_labelers = np.unique(table.labeler[marked])
    item_ids = data.items.item_id[table.item]
    tainted = np.unique(item_ids[marked])
    fresh = ~np.isin(table.labeler, q_labelers) & ~marked
    in_tainted = np.isin(item_ids, tainted) & fresh
    pairs = np.unique(np.column_stack([item_ids[in_tainted], table.labeler[in_tainted]]), axis=0)
    counts: dict[int, int] = dict.fromkeys((int(i) for i in tainted), 0)
    if pairs.size:
        ids, n = np.unique(pairs[:, 0], return_counts=True)
        counts.update({int(i): int(c) for i, c in zip(ids, n, strict=True)})
    return Quarantine(
        frozenset(int(i) for i in table.label_id[marked]),
        tuple(windows),
        frozenset(int(i) for i in tainted),
        counts,
        frozenset(table.labelers[r] for r in q_labelers),
    )


# --------------------------------------------------------------------------------------------
# Gate-input records (§8.1–§8.2)
# --------------------------------------------------------------------------------------------

METRICS = (
    "homogenization_alarm",
    "drift_alarm",
    "h1_anchor_disagreement",
    "h2_anchor_tie_rate",
    "h3_judge_human_kappa",
    "h4_consensus_conformity",
    "h5_length_beta",
)


def _record(
    metric: str,
    res: WindowResult,
    slice_: dict[str, str],
    stat: MonitorStat | None,
    *,
    estimate: float | None = None,
    status: EvidenceStatus | None = None,
    reason: str | None = None,
    extras: dict[str, Any],
) -> MetricRecord:
    if stat is not None:
        est = stat.estimate
        low, high = stat.ci_low, stat.ci_high
        st: EvidenceStatus = stat.status
        if st == "ok" and stat.estimate is None:
            st = "undefined"
        method = "item_bootstrap_percentile" if low is not None else "none"
        reason = stat.reason
    else:
        est, low, high, method = estimate, None, None, "none"
        st = status or "ok"
        reason = reason if reason is not None else res.alarm_reason
    if res.status == "insufficient_data":
        st = worst_status(st, "insufficient_data")
    span = _window_span(res.window)
    base_extras = {
        "window_start": span[0],
        "window_end": span[1],
        "in_baseline": res.in_baseline,
        "reason": reason,
    }
    return MetricRecord(
        metric=metric,
        estimand="monitor",
        candidate=None,
        baseline=None,
        slice=slice_,
        estimate=finite_or_none(est),
        ci_low=finite_or_none(low),
        ci_high=finite_or_none(high),
        ci_method=method,  # type: ignore[arg-type]
        n_items=res.n_items,
        n_labels=res.n_labels,
        n_labelers=res.n_labelers,
        x=None,
        higher_is_better=None,
        evidence_status=st,
        extras={**base_extras, **extras},
    )


_SPANS: dict[tuple[float, float], tuple[str, str]] = {}


def _window_span(w: Window) -> tuple[str, str]:
    """(start, end) of a window as ISO strings, memoized: every record of a window repeats it."""
    key = (w.start, w.end)
    span = _SPANS.get(key)
    if span is None:
        if len(_SPANS) > 100_000:
            _SPANS.clear()
        span = _SPANS[key] = (_iso(w.start), _iso(w.end))
    return span


def monitor_records(run: MonitorRun) -> list[MetricRecord]:
    """One record per metric, population and window (estimand ``monitor``, §8.1–§8.2)."""
    out: list[MetricRecord] = []
    versions = {
        "monitor_baseline_version": run.baseline_version,
        "feature_standardization_version": run.feature_standardization_version,
        "windows": run.spec.describe(),
    }
    for pop_name, pop in sorted(run.populations.items()):
        for res in pop.windows:
            sl = {"population": pop_name, "window": res.window.id}
            comps = res.components
            common = {
                "components": comps,
                "rising": res.rising,
                "baseline_version": pop.baseline.version,
                **versions,
            }
            out.append(
                _record(
                    "homogenization_alarm",
                    res,
                    sl,
                    None,
                    estimate=None
                    if res.homogenization_alarm is None
                    else float(res.homogenization_alarm),
                    status=res.alarm_status,
                    extras={
                        **common,
                        "named_labelers": list(res.named_labelers),
                        "attributable": res.attributable,
                        "quarantine_lifted": res.lifted,
                        "alpha": res.alpha.to_dict(),
                        "alpha_diff": res.alpha_diff.to_dict(),
                        "cusum": {k: _cusum_dict(v) for k, v in sorted(res.cusum.items())},
                    },
                )
            )
            out.append(
                _record(
                    "drift_alarm",
                    res,
                    sl,
                    None,
                    estimate=None if res.drift_alarm is None else float(res.drift_alarm),
                    status=res.drift_status,
                    reason=res.drift_reason,
                    extras={
                        **common,
                        "flip_rate": res.flip_rate.to_dict(),
                        "flip_rate_baseline": res.flip_rate_baseline,
                        "control_accuracy_drop": res.control_drop,
                    },
                )
            )
            for metric, key in (
                ("h1_anchor_disagreement", "H1"),
                ("h2_anchor_tie_rate", "H2"),
                ("h4_consensus_conformity", "H4"),
                ("h5_length_beta", "H5"),
            ):
                ind = res.indicators[key]
                extra: dict[str, Any] = {
                    "fires": ind.fires,
                    "rule": ind.rule,
                    "cusum": ind.cusum,
                    "stats": {k: v.to_dict() for k, v in sorted(ind.stats.items())},
                    "values": {k: _plain_value(v) for k, v in sorted(ind.values.items())},
                    **versions,
                }
                if key == "H1":
                    extra["test_retest"] = res.test_retest.to_dict()
                out.append(_record(metric, res, sl, ind.headline, extras=extra))
            for jname, jw in sorted(res.judges.items()):
                out.append(
                    _record(
                        "h3_judge_human_kappa",
                        res,
                        {**sl, "judge": jname},
                        jw.kappa_jh,
                        extras={
                            "fires": jw.fires,
                            "kappa_hh": jw.kappa_hh.to_dict(),
                            "ac1_jh": jw.ac1_jh.to_dict(),
                            "parity_gap": jw.parity_gap.to_dict(),
                            "kappa_gain": jw.kappa_gain.to_dict(),
                            "specificity": jw.specificity.to_dict(),
                            "raw_agreement": jw.raw_agreement,
                            **versions,
                        },
                    )
                )
    return out


def _cusum_dict(point: CusumPoint) -> dict[str, Any]:
    return {
        "z": finite_or_none(point.z),
        "s": point.s,
        "alarm": point.alarm,
        "latched": point.latched,
    }


# --------------------------------------------------------------------------------------------
# Dashboard series (plain columns a plot feeds to setData; NaN = gap)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesColumn:
    """One statistic over the windows: estimate and CI (NaN where missing) and status."""

    name: str
    estimate: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    status: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "estimate": [finite_or_none(v) for v in self.estimate],
            "ci_low": [finite_or_none(v) for v in self.ci_low],
            "ci_high": [finite_or_none(v) for v in self.ci_high],
            "status": list(self.status),
        }


@dataclass(frozen=True)
class PopulationSeries:
    """What a dashboard plots for one population: per window series with CIs and alarm states.

    ``window_start``/``window_end`` are Unix seconds (pyqtgraph's ``DateAxisItem``); alarm and
    component values are 1.0/0.0 with NaN where undetermined; ``columns`` hold each statistic;
    ``cusum`` the CUSUM sums S_w (NaN before the baseline); ``thresholds`` reference lines.
    """

    population: str
    window_ids: tuple[str, ...]
    window_start: tuple[float, ...]
    window_end: tuple[float, ...]
    n_labels: tuple[int, ...]
    in_baseline: tuple[bool, ...]
    homogenization_alarm: tuple[float, ...]
    drift_alarm: tuple[float, ...]
    alarm_status: tuple[str, ...]
    components: Mapping[str, tuple[float, ...]]
    quarantined: tuple[bool, ...]
    named_labelers: tuple[tuple[str, ...], ...]
    columns: Mapping[str, SeriesColumn]
    cusum: Mapping[str, tuple[float, ...]]
    thresholds: Mapping[str, float]
    baseline: BaselineInfo

    def to_dict(self) -> dict[str, Any]:
        def nan_list(values: tuple[float, ...]) -> list[float | None]:
            return [finite_or_none(v) for v in values]

        return {
            "population": self.population,
            "window_ids": list(self.window_ids),
            "window_start": list(self.window_start),
            "window_end": list(self.window_end),
            "n_labels": list(self.n_labels),
            "in_baseline": list(self.in_baseline),
            "homogenization_alarm": nan_list(self.homogenization_alarm),
            "drift_alarm": nan_list(self.drift_alarm),
            "alarm_status": list(self.alarm_status),
            "components": {k: nan_list(v) for k, v in self.components.items()},
            "quarantined": list(self.quarantined),
            "named_labelers": [list(n) for n in self.named_labelers],
            "columns": {k: v.to_dict() for k, v in self.columns.items()},
            "cusum": {k: nan_list(v) for k, v in self.cusum.items()},
            "thresholds": dict(self.thresholds),
            "baseline": self.baseline.to_dict(),
        }


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _tri(value: Tri | int | None) -> float:
    return float("nan") if value is None else float(bool(value))


def population_series(pop: PopulationRun, config: MonitorConfig) -> PopulationSeries:
    """Flatten one population's windows into dashboard columns."""
    wins = pop.windows
    getters: dict[str, Any] = {
        "alpha": lambda r: r.alpha,
        "alpha_diff": lambda r: r.alpha_diff,
        "h1_disagreement": lambda r: r.indicators["H1"].headline,
        "h1_diff": lambda r: r.indicators["H1"].stats.get("diff"),
        "h1_ratio": lambda r: r.indicators["H1"].stats.get("ratio"),
        "test_retest": lambda r: r.test_retest,
        "h2_anchor_tie_rate": lambda r: r.indicators["H2"].headline,
        "h2_tie_diff": lambda r: r.indicators["H2"].stats.get("diff"),
        "h2_js_dispersion": lambda r: r.indicators["H2"].stats.get("js_dispersion"),
        "h4_conformity": lambda r: r.indicators["H4"].headline,
        "h5_beta_len": lambda r: r.indicators["H5"].headline,
        "h5_beta_md": lambda r: r.indicators["H5"].stats.get("beta_md"),
        "h5_beta_pos": lambda r: r.indicators["H5"].stats.get("beta_pos"),
        "h5_control_accuracy": lambda r: r.indicators["H5"].stats.get("control_accuracy"),
        "h5_control_accuracy_diff": lambda r: r.indicators["H5"].stats.get("control_accuracy_diff"),
        "neg_control_p_left": lambda r: r.indicators["H5"].stats.get("neg_control_p_left"),
        "neg_control_p_longer": lambda r: r.indicators["H5"].stats.get("neg_control_p_longer"),
        "flip_rate": lambda r: r.flip_rate,
    }
    judges = sorted({j for r in wins for j in r.judges})
    for j in judges:
        getters[f"h3_kappa_jh:{j}"] = lambda r, j=j: r.judges[j].kappa_jh if j in r.judges else None
        getters[f"h3_kappa_hh:{j}"] = lambda r, j=j: r.judges[j].kappa_hh if j in r.judges else None
        getters[f"h3_kappa_gain:{j}"] = lambda r, j=j: (
            r.judges[j].kappa_gain if j in r.judges else None
        )
        getters[f"h3_parity_gap:{j}"] = lambda r, j=j: (
            r.judges[j].parity_gap if j in r.judges else None
        )
        getters[f"h3_specificity:{j}"] = lambda r, j=j: (
            r.judges[j].specificity if j in r.judges else None
        )
    columns: dict[str, SeriesColumn] = {}
    for key, get in getters.items():
        stats: list[MonitorStat | None] = [get(r) for r in wins]
        columns[key] = SeriesColumn(
            key,
            tuple(_nan(None if s is None else s.estimate) for s in stats),
            tuple(_nan(None if s is None else s.ci_low) for s in stats),
            tuple(_nan(None if s is None else s.ci_high) for s in stats),
            tuple("undefined" if s is None else s.status for s in stats),
        )
    cusum_keys = sorted({k for r in wins for k in r.cusum})
    cusum = {
        key: tuple(_nan(r.cusum[key].s) if key in r.cusum else float("nan") for r in wins)
        for key in cusum_keys
    }
    th = config.thresholds
    return PopulationSeries(
        population=pop.population,
        window_ids=tuple(r.window.id for r in wins),
        window_start=tuple(r.window.start for r in wins),
        window_end=tuple(r.window.end for r in wins),
        n_labels=tuple(r.n_labels for r in wins),
        in_baseline=tuple(r.in_baseline for r in wins),
        homogenization_alarm=tuple(_tri(r.homogenization_alarm) for r in wins),
        drift_alarm=tuple(_tri(r.drift_alarm) for r in wins),
        alarm_status=tuple(r.alarm_status for r in wins),
        components={h: tuple(_tri(r.components[h]) for r in wins) for h in INDICATORS},
        quarantined=tuple(r.homogenization_alarm == 1 and not r.lifted for r in wins),
        named_labelers=tuple(r.named_labelers for r in wins),
        columns=columns,
        cusum=cusum,
        thresholds={
            "h1_diff": th.h1_diff,
            "h1_ratio": th.h1_ratio,
            "h2_tie_diff": th.h2_tie_diff,
            "h3_kappa_gain": th.h3_kappa_gain,
            "h4_conformity_gain": th.h4_conformity_gain,
            "h5_beta_len_gain": th.h5_beta_len_gain,
            "drift_flip_rate": th.drift_flip_rate,
            "cusum_h": config.cusum_h,
        },
        baseline=pop.baseline,
    )


def first_alarm(pop: PopulationRun, metric: str = "homogenization_alarm") -> int | None:
    """Index of the first window whose alarm is 1 (``None`` if none)."""
    for k, res in enumerate(pop.windows):
        value = res.homogenization_alarm if metric == "homogenization_alarm" else res.drift_alarm
        if value == 1:
            return k
    return None


__all__ = [
    "HUMAN",
    "METRICS",
    "BaselineInfo",
    "CalendarWeeks",
    "CountWindows",
    "CusumPoint",
    "Indicator",
    "ItemTable",
    "JudgeWindow",
    "LabelTable",
    "MonitorConfig",
    "MonitorInput",
    "MonitorRun",
    "PopulationRun",
    "PopulationSeries",
    "Quarantine",
    "QuarantinedWindow",
    "SeriesColumn",
    "Thresholds",
    "Window",
    "WindowResult",
    "WindowSpec",
    "build_windows",
    "compute_quarantine",
    "first_alarm",
    "label_table",
    "monitor_records",
    "population_series",
    "run_monitor",
]
