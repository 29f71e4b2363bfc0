"""Window-local statistics of the homogenization monitor (STATISTICS.md §7.2–§7.3).

Everything here looks at one set of labels — one window, or the pooled baseline windows — and
returns point values, bootstrap replicates and standard errors; :mod:`reviewdesk.stats.monitor`
compares windows with the baseline, runs the CUSUMs and combines the indicators.

Labels carry the agreement value v ∈ {−1, 0, +1} (§1.2: baseline better, tie or both_bad,
candidate better) and the orientation o = ±1 (+1: the candidate was shown left). Items carry a
panel code (ordinary, anchor, positive control, negative control), the value a positive control's
reference answer earns, and the raw style covariates of :mod:`reviewdesk.stats.style_features`.

Intervals are item-cluster bootstraps (§1.3, §7.2; B = 1000 in monitors) through
:func:`reviewdesk.stats.resampling.resample_sums`: every statistic below depends on the items only
through summed per-item features, so a replicate is one multinomial or one matrix product.

- **Agreement**: Krippendorff's α (ordinal) by the coincidence identity of §2.1 (equal to the
  package to 1e-9), unit bootstrap; Gwet's AC1 for the AC1 − α gap of H2.
- **H1**: per anchor d_i = 1 − Σ_k c_ik(c_ik − 1)/(m_i(m_i − 1)), D = mean d_i; mean normalised
  label entropy. Differences to the baseline draw the *same* anchors on both sides (§7.2).
- **H2**: anchor tie rate τ (same paired draws as H1), anchor marginal entropy/ln 3, P_e = Σ p_k²,
  Davidson's ν̂ = T/√(W·L) (the two-player MLE; O-B2), SD of per-labeler tie rates, mean
  Jensen–Shannon divergence of labelers' anchor-label distributions from the pool.
- **H3**: per judge J, tables T_JH and T_HH of §2.3 on the judge's items; κ_JH, κ_HH, AC1_JH, the
  parity gap κ_JH − κ_HH and specificity S_J = κ_JH − median of the other judges' κ_JH′, all from
  one set of item draws.
- **H4**: a_r = P(label = strict mode of the other labels on the item) over items whose ≥ 2 other
  labels have a unique mode; mean ā and between-labeler SD s over labelers with enough such labels.
- **H5**: logit E[s] = β0 + β_len·tanh(z_len) + β_md·z_md + β_pos·o by IRLS (fractional logit of
  §3.5 on grouped rows); replicate coefficients by the one-step bootstrap (one Newton step from
  β̂ on the replicate's summed per-item score and information; Andrews 2002 — the ``steps = 1``
  estimator of :func:`reviewdesk.stats.length_control.lc_replicate_fits`); positive-control
  accuracy; negative-control position and length preference with Wilson intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.domain.progress import CancelToken
from reviewdesk.stats.agreement import (
    alpha_from_coincidences,
    coincidence_features,
    two_rater_from_tables,
)
from reviewdesk.stats.common import (
    BoolArray,
    EvidenceStatus,
    FloatArray,
    IntArray,
    finite_or_none,
)
from reviewdesk.stats.length_control import expit, fit_fractional_logit
from reviewdesk.stats.proportions import wilson_bounds
from reviewdesk.stats.resampling import (
    DEFAULT_MAX_CELLS,
    Statistic,
    multiplicity_products,
    resample_sums,
    unique_rows,
)

PANEL_NONE = 0
PANEL_ANCHOR = 1
PANEL_CONTROL_POSITIVE = 2
PANEL_CONTROL_NEGATIVE = 3
PANEL_CODES = {
    None: PANEL_NONE,
    "anchor": PANEL_ANCHOR,
    "control_positive": PANEL_CONTROL_POSITIVE,
    "control_negative": PANEL_CONTROL_NEGATIVE,
}

LN3 = float(np.log(3.0))
_COLS = 3  # value domain (-1, 0, +1) → columns 0, 1, 2


# --------------------------------------------------------------------------------------------
# A statistic with its interval, standard error and status
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorStat:
    """One monitored number in one window: estimate, percentile CI, bootstrap SE, status.

    ``estimate`` is ``None`` exactly when the statistic is undefined or its minimum count is not
    met; the status then says which (``undefined`` / ``insufficient_data``) and ``reason`` why.
    ``n`` is the evidence behind it (anchors, labels, items or labelers, as the name says).
    """

    estimate: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    se: float | None = None
    status: EvidenceStatus = "ok"
    reason: str | None = None
    n: int = 0

    @staticmethod
    def missing(status: EvidenceStatus, reason: str, n: int = 0) -> MonitorStat:
        return MonitorStat(None, None, None, None, status, reason, n)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.estimate is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": finite_or_none(self.estimate),
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "se": finite_or_none(self.se),
            "status": self.status,
            "reason": self.reason,
            "n": self.n,
        }


def stat_from_replicates(
    estimate: float | None, replicates: FloatArray | None, n: int, status: EvidenceStatus = "ok"
) -> MonitorStat:
    """A :class:`MonitorStat` with percentile CI and SE from bootstrap replicates (NaN-free)."""
    if estimate is None or not np.isfinite(estimate):
        return MonitorStat.missing("undefined", "the statistic is undefined", n)
    if replicates is None or replicates.size == 0 or not np.all(np.isfinite(replicates)):
        return MonitorStat(float(estimate), None, None, None, status, None, n)
    low, high = percentile_pair(replicates)
    se = float(np.std(replicates, ddof=1)) if replicates.size > 1 else None
    return MonitorStat(float(estimate), low, high, se, status, None, n)


def difference_stat(
    estimate: float | None, replicates: FloatArray | None, n: int, reason: str | None = None
) -> MonitorStat:
    """A difference to the baseline; ``None`` replicates mean the difference is undefined."""
    if estimate is None or replicates is None:
        return MonitorStat.missing("undefined", reason or "no baseline to compare with", n)
    return stat_from_replicates(estimate, replicates, n)


# --------------------------------------------------------------------------------------------
# Per-item building blocks
# --------------------------------------------------------------------------------------------


def value_columns(value: FloatArray) -> IntArray:
    """Column of each value in the (−1, 0, +1) domain."""
    return np.asarray(np.rint(value).astype(np.int64) + 1, dtype=np.int64)


def item_value_counts(item: IntArray, value: FloatArray, n_items: int) -> IntArray:
    """Items × 3 label counts, columns in the order −1, 0, +1."""
    flat = np.bincount(item * _COLS + value_columns(value), minlength=n_items * _COLS)
    return np.asarray(flat.reshape(n_items, _COLS), dtype=np.int64)


def item_disagreement(counts: IntArray) -> FloatArray:
    """d_i = 1 − Σ_k c_ik(c_ik − 1)/(m_i(m_i − 1)) (H1); NaN where m_i < 2."""
    c = counts.astype(np.float64)
    m = c.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        agree = (c * (c - 1.0)).sum(axis=1) / (m * (m - 1.0))
    return np.asarray(np.where(m >= 2, 1.0 - agree, np.nan), dtype=np.float64)


def normalised_entropy(counts: IntArray) -> FloatArray:
    """−Σ p_k ln p_k / ln 3 per row; NaN for empty rows."""
    c = counts.astype(np.float64)
    m = c.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = c / m
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    out = terms.sum(axis=1) / LN3
    return np.asarray(np.where(m[:, 0] > 0, out, np.nan), dtype=np.float64)


def strict_mode(counts: IntArray) -> IntArray:
    """Column of the strict (unique) maximum of each row, −1 where there is none or no count."""
    c = np.asarray(counts)
    top = c.max(axis=1)
    unique = (c == top[:, None]).sum(axis=1) == 1
    return np.asarray(np.where(unique & (top > 0), c.argmax(axis=1), -1), dtype=np.int64)


def js_divergence(p: FloatArray, q: FloatArray) -> FloatArray:
    """Jensen–Shannon divergence (natural log) between rows of ``p`` and the distribution ``q``."""
    mid = (p + q[None, :]) / 2.0

    def h(x: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(
                np.where(x > 0, -x * np.log(np.where(x > 0, x, 1.0)), 0.0).sum(axis=-1),
                dtype=np.float64,
            )

    return np.asarray(h(mid) - (h(p) + h(q[None, :])) / 2.0, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# What a window (or the pooled baseline) is made of
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Minimums:
    """Minimum counts of §7.2 (below them a statistic is ``insufficient_data``)."""

    labels: int = 400
    anchors: int = 50
    anchor_labels: int = 3
    labeler_labels: int = 30
    control_labels: int = 20


@dataclass(frozen=True)
class LabelSet:
    """Labels of one population restricted to one window (or the pooled baseline)."""

    item: IntArray
    labeler: IntArray
    value: FloatArray
    orientation: FloatArray
    label_id: IntArray


@dataclass(frozen=True)
class ItemContext:
    """Per-item tables shared by every window of a run."""

    panel: IntArray  # PANEL_* codes
    expected: FloatArray  # reference value of a positive control (±1), NaN otherwise
    covariates: FloatArray | None  # n_items × 2 model covariates (tanh z_len, z_md), or None
    length_sign: FloatArray  # sign(candidate tokens − baseline tokens), NaN if unknown
    judge_values: FloatArray  # n_judges × n_items merged judge verdicts (NaN = none)
    judge_names: tuple[str, ...]
    n_labelers: int
    anchor_pos: IntArray  # per item: its row in the anchor counts (anchors by id), −1 if none
    n_anchor_total: int  # anchors in the whole run (rows of every anchor-count table)

    @property
    def n_items(self) -> int:
        return int(self.panel.shape[0])

    def restrict(self, items: IntArray) -> ItemContext:
        """The same tables for a subset of items (a window's), so per-window work is sized by
        the window rather than by the project; anchor rows keep their run-wide positions."""
        return ItemContext(
            panel=self.panel[items],
            expected=self.expected[items],
            covariates=None if self.covariates is None else self.covariates[items],
            length_sign=self.length_sign[items],
            judge_values=self.judge_values[:, items],
            judge_names=self.judge_names,
            n_labelers=self.n_labelers,
            anchor_pos=self.anchor_pos[items],
            n_anchor_total=self.n_anchor_total,
        )


@dataclass(frozen=True)
class Core:
    """Window-local statistics: points, replicates and SEs, before any baseline comparison."""

    n_labels: int
    n_items: int
    n_labelers: int
    n_decisive: int
    anchor_counts: IntArray  # anchors × 3 (rows in ``ItemContext.anchor_pos`` order)
    alpha: MonitorStat
    alpha_reps: FloatArray | None
    ac1: float | None
    # H1 / H2 on anchors
    n_anchors: int  # anchors with at least ``anchor_labels`` labels
    anchor_disagreement: MonitorStat
    anchor_entropy: float | None
    anchor_tie_rate: MonitorStat
    anchor_marginal_entropy: float | None
    anchor_p_e: float | None
    davidson_nu: float | None
    js_dispersion: MonitorStat
    labeler_tie_sd: float | None
    # H3 per judge (human populations)
    judges: dict[str, JudgeCore]
    # H4
    conformity: MonitorStat  # ā
    conformity_sd: float | None  # s
    labeler_conformity: dict[int, tuple[float, int]]  # labeler → (a_r, n_r)
    # H5
    beta: MonitorStat  # β_len
    beta_md: MonitorStat
    beta_pos: MonitorStat
    abs_beta_pos: MonitorStat
    h5_status: str
    control_accuracy: MonitorStat
    control_reps: FloatArray | None
    neg_p_left: MonitorStat
    neg_p_longer: MonitorStat
    neg_tie_rate: MonitorStat
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JudgeCore:
    """κ_JH, κ_HH, AC1_JH, parity gap and S_J of one judge in one window (H3)."""

    n_items: int
    kappa_jh: MonitorStat
    kappa_hh: MonitorStat
    ac1_jh: MonitorStat
    parity_gap: MonitorStat
    specificity: MonitorStat
    kappa_jh_reps: FloatArray | None
    raw_agreement: float | None


# --------------------------------------------------------------------------------------------
# One set of item draws per window, shared by α, H3 and H5
# --------------------------------------------------------------------------------------------


class SharedBootstrap:
    """Item-cluster bootstrap of several statistics of one window from the same item draws.

    §7.2 asks for an item-cluster bootstrap within the window; drawing the window's items once
    and evaluating every statistic on the same replicate (as §2.3 shares draws between κ_JH and
    κ_HH) makes a window one multiplicity matrix and a few matrix products. A statistic whose
    items are a subset of the window's (α: pairable items; H3: pairable items with a verdict)
    sees a random number of its items per replicate — the usual bootstrap of a domain statistic.

    Every statistic depends on the draws only through Σ_i c_i·features_i (c_i = how often item i
    was drawn), so items whose feature rows are identical across all requests are
    interchangeable. When they form few groups (at most a quarter of the items: a judge's window
    of 500 items has about five), a replicate draws its group counts from one multinomial, as
    ``resampling.resample_sums`` does — the same distribution as drawing the items, at a cost
    independent of the window's size (`bench_export_gates`' cold export fell from 17.2 s to 12.6 s).

    Each request keeps the redraw rule of §2.1/§3.2 on its own: replicates where it is undefined
    are discarded (they used their draws), drawing continues until it has ``n_boot`` valid ones,
    and more than ``n_boot`` discards leave it without an interval (``None``).
    """

    def __init__(
        self,
        items: IntArray,
        n_items_total: int,
        n_boot: int,
        rng: np.random.Generator,
        cancel: CancelToken | None = None,
        max_cells: int = DEFAULT_MAX_CELLS,
    ) -> None:
        self.n = int(items.size)
        self.pos = np.full(n_items_total, -1, dtype=np.int64)
        self.pos[items] = np.arange(self.n)
        self.n_boot = n_boot
        self.rng = rng
        self.cancel = cancel
        self.max_cells = max_cells
        self.requests: list[tuple[FloatArray, Statistic]] = []
        self.results: list[FloatArray | None] = []

    def add(self, item_rows: IntArray, features: FloatArray, statistic: Statistic) -> int:
        """Register a statistic of Σ_i w_i·features_i over ``item_rows`` (unique items)."""
        padded = np.zeros((self.n, features.shape[1]))
        if item_rows.size:
            padded[self.pos[item_rows]] = features
        self.requests.append((padded, statistic))
        return len(self.requests) - 1

    def result(self, handle: int) -> FloatArray | None:
        """Replicates (n_boot × k) of a request, or ``None`` (no bootstrap or too many redraws)."""
        return self.results[handle] if handle < len(self.results) else None

    def run(self) -> None:
        k = len(self.requests)
        if self.n == 0 or self.n_boot <= 0 or k == 0:
            self.results = [None] * k
            return
        kept: list[list[FloatArray]] = [[] for _ in range(k)]
        valid_n = [0] * k
        redraws = [0] * k
        active = set(range(k))
        rows_per_chunk = max(1, self.max_cells // self.n)
        # One product for every request (their features side by side): the multiplicity matrix
        # is read once per chunk instead of once per statistic.
        stacked = np.hstack([padded for padded, _ in self.requests])
        bounds = np.cumsum([0] + [padded.shape[1] for padded, _ in self.requests])
        groups, inverse = unique_rows(stacked)
        grouped = len(groups) * 4 <= self.n
        if grouped:
            probs = np.bincount(inverse, minlength=len(groups)) / float(self.n)
            rows_per_chunk = max(1, self.max_cells // len(groups))
        while active:
            if self.cancel is not None:
                self.cancel.check()
            need = max(self.n_boot - valid_n[r] for r in active)
            rows = min(rows_per_chunk, need)
            if grouped:
                counts = self.rng.multinomial(self.n, probs, size=rows)
                sums = counts.astype(np.float64) @ groups
            else:
                indices = self.rng.integers(0, self.n, size=(rows, self.n))
                sums = multiplicity_products(indices, self.n, stacked)
            for r in sorted(active):
                _, statistic = self.requests[r]
                ok, out = statistic(sums[:, bounds[r] : bounds[r + 1]])
                positions = np.flatnonzero(ok)
                want = self.n_boot - valid_n[r]
                if positions.size >= want:
                    redraws[r] += int(positions[want - 1]) + 1 - want
                    kept[r].append(out[positions[:want]])
                    valid_n[r] += want
                else:
                    redraws[r] += rows - int(positions.size)
                    kept[r].append(out[positions])
                    valid_n[r] += int(positions.size)
                if redraws[r] > self.n_boot:
                    active.discard(r)
                    kept[r] = []
                elif valid_n[r] >= self.n_boot:
                    active.discard(r)
        self.results = [
            np.asarray(np.concatenate(kept[r], axis=0), dtype=np.float64)
            if valid_n[r] >= self.n_boot and kept[r]
            else None
            for r in range(k)
        ]


def percentile_pair(values: FloatArray) -> tuple[float, float]:
    """The 2.5% and 97.5% quantiles, Hyndman–Fan type 7 (numpy's default), via partition.

    Same numbers as :func:`reviewdesk.stats.common.percentile_ci` (tested) at a fraction of the
    cost, which matters with a dozen intervals per window and a thousand windows.
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n == 1:
        return float(x[0]), float(x[0])
    positions = np.array([0.025, 0.975]) * (n - 1)
    lo = np.floor(positions).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    part = np.partition(x, np.unique(np.concatenate([lo, hi])))
    frac = positions - lo
    q = part[lo] + (part[hi] - part[lo]) * frac
    return float(q[0]), float(q[1])


# --------------------------------------------------------------------------------------------
# The computations
# --------------------------------------------------------------------------------------------


def _alpha_block(
    counts: IntArray, boot: SharedBootstrap
) -> Callable[[], tuple[MonitorStat, FloatArray | None, float | None]]:
    """α ordinal with its bootstrap (§2.1) and AC1; undefined on degenerate input.

    Registers the bootstrap with ``boot``; the returned function reads the result after
    ``boot.run()``.
    """
    rows = np.flatnonzero(counts.sum(axis=1) >= 2)
    pairable = counts[rows]
    n_units = int(rows.size)
    if n_units < 2:
        stat = MonitorStat.missing("undefined", f"fewer than 2 pairable items ({n_units})", n_units)
        return lambda: (stat, None, None)
    if int(np.count_nonzero(pairable.sum(axis=0))) < 2:
        stat = MonitorStat.missing("undefined", "all pairable labels are identical", n_units)
        return lambda: (stat, None, None)
    features = coincidence_features(pairable)
    point = float(
        alpha_from_coincidences(features.sum(axis=0).reshape(3, 3), "ordinal", (-1, 0, 1))
    )
    ac1 = _ac1(pairable)
    if not np.isfinite(point):
        stat = MonitorStat.missing("undefined", "α is undefined", n_units)
        return lambda: (stat, None, ac1)

    def statistic(sums: FloatArray) -> tuple[BoolArray, FloatArray]:
        alphas = alpha_from_coincidences(sums.reshape(-1, 3, 3), "ordinal", (-1, 0, 1))
        return np.isfinite(alphas), alphas[:, None]

    handle = boot.add(rows, features, statistic)

    def finish() -> tuple[MonitorStat, FloatArray | None, float | None]:
        draws = boot.result(handle)
        if boot.n_boot <= 0:
            return MonitorStat(point, n=n_units), None, ac1
        if draws is None:
            stat = MonitorStat(
                point,
                status="insufficient_data",
                reason=f"more than {boot.n_boot} bootstrap replicates were undefined",
                n=n_units,
            )
            return stat, None, ac1
        reps = np.asarray(draws[:, 0], dtype=np.float64)
        return stat_from_replicates(point, reps, n_units), reps, ac1

    return finish


def _ac1(counts: IntArray) -> float | None:
    c = counts.astype(np.float64)
    r = c.sum(axis=1)
    pair = r >= 2
    if not np.any(pair):
        return None
    p_a = float(((c[pair] * (c[pair] - 1.0)).sum(axis=1) / (r[pair] * (r[pair] - 1.0))).mean())
    pi = (c[r >= 1] / r[r >= 1][:, None]).mean(axis=0)
    p_e = float((pi * (1.0 - pi)).sum() / 2.0)
    if abs(1.0 - p_e) < 1e-15:
        return None
    return (p_a - p_e) / (1.0 - p_e)


def anchor_block(
    anchor_counts: IntArray, labels: LabelSet, ctx: ItemContext, mins: Minimums
) -> dict[str, Any]:
    """H1 and H2 point statistics on the anchors of one label set."""
    m = anchor_counts.sum(axis=1)
    usable = m >= mins.anchor_labels
    n_anchors = int(np.count_nonzero(usable))
    out: dict[str, Any] = {"n_anchors": n_anchors}
    counts = anchor_counts[usable]
    if n_anchors < mins.anchors:
        reason = f"{n_anchors} anchors with ≥ {mins.anchor_labels} labels (minimum {mins.anchors})"
        missing = MonitorStat.missing("insufficient_data", reason, n_anchors)
        out.update(
            disagreement=missing,
            entropy=None,
            tie_rate=missing,
            marginal_entropy=None,
            p_e=None,
            davidson=None,
            js=missing,
        )
        return out
    d = item_disagreement(counts)
    total = counts.sum(axis=0).astype(np.float64)
    n_lab = float(total.sum())
    p = total / n_lab
    out["disagreement"] = MonitorStat(float(np.mean(d)), n=n_anchors)
    out["entropy"] = float(np.mean(normalised_entropy(counts)))
    out["tie_rate"] = MonitorStat(float(total[1] / n_lab), n=int(n_lab))
    out["marginal_entropy"] = float(normalised_entropy(total[None, :].astype(np.int64))[0])
    out["p_e"] = float((p * p).sum())
    wins, ties, losses = total[2], total[1], total[0]
    out["davidson"] = float(ties / np.sqrt(wins * losses)) if wins > 0 and losses > 0 else None
    # JS dispersion of labelers' anchor-label distributions from the pool
    pos = ctx.anchor_pos[labels.item]
    on_anchor = (pos >= 0) & usable[np.maximum(pos, 0)]
    if np.any(on_anchor):
        lab = labels.labeler[on_anchor]
        cols = value_columns(labels.value[on_anchor])
        per = np.bincount(lab * _COLS + cols, minlength=ctx.n_labelers * _COLS).reshape(
            ctx.n_labelers, _COLS
        )
        n_r = per.sum(axis=1)
        keep = n_r >= mins.labeler_labels
        if int(np.count_nonzero(keep)) >= 2:
            dist = per[keep] / n_r[keep][:, None]
            pool = per.sum(axis=0) / float(per.sum())
            js = js_divergence(dist.astype(np.float64), pool.astype(np.float64))
            out["js"] = MonitorStat(float(js.mean()), n=int(np.count_nonzero(keep)))
        else:
            out["js"] = MonitorStat.missing(
                "insufficient_data",
                f"fewer than 2 labelers with ≥ {mins.labeler_labels} anchor labels",
                int(np.count_nonzero(keep)),
            )
    else:
        out["js"] = MonitorStat.missing("insufficient_data", "no anchor labels")
    return out


def paired_anchor_features(
    window_counts: IntArray, baseline_counts: IntArray, mins: Minimums
) -> tuple[FloatArray, IntArray]:
    """Per-anchor features for the paired H1/H2 bootstrap over anchors present on both sides.

    Counts are anchors × 3 in ``ItemContext.anchor_pos`` order. Columns: d_w, d_0, ties_w,
    n_w, ties_0, n_0, 1. Returns (features, positions of the common anchors).
    """
    m_w = window_counts.sum(axis=1)
    m_0 = baseline_counts.sum(axis=1)
    common = (m_w >= mins.anchor_labels) & (m_0 >= mins.anchor_labels)
    idx = np.flatnonzero(common)
    w = window_counts[idx]
    b = baseline_counts[idx]
    features = np.column_stack(
        [
            item_disagreement(w),
            item_disagreement(b),
            w[:, 1],
            w.sum(axis=1),
            b[:, 1],
            b.sum(axis=1),
            np.ones(len(idx)),
        ]
    ).astype(np.float64)
    return features, np.asarray(idx, dtype=np.int64)


def paired_anchor_bootstrap(
    features: FloatArray, n_boot: int, rng: np.random.Generator, cancel: CancelToken | None
) -> FloatArray | None:
    """Replicates (B × 6): D_w, D_0, D_w − D_0, D_w/D_0, τ_w, τ_w − τ_0 (same anchors drawn)."""

    def statistic(s: FloatArray) -> tuple[BoolArray, FloatArray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            d_w = s[:, 0] / s[:, 6]
            d_0 = s[:, 1] / s[:, 6]
            tau_w = s[:, 2] / s[:, 3]
            tau_0 = s[:, 4] / s[:, 5]
            out = np.column_stack([d_w, d_0, d_w - d_0, d_w / d_0, tau_w, tau_w - tau_0])
        return (d_0 > 0) & np.all(np.isfinite(out), axis=1), out

    if features.shape[0] == 0 or n_boot <= 0:
        return None
    draws = resample_sums(features, n_boot, rng, statistic, cancel=cancel)
    return np.asarray(draws.values, dtype=np.float64) if draws.complete else None


def judge_tables(counts: IntArray, judge_values: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Per-item T_JH and T_HH features (items × J·18) on pairable items, and which items count.

    For judge j the columns j·18 … j·18+8 hold T_JH (rows judge value, columns human value) and
    j·18+9 … j·18+17 hold T_HH (each unordered human pair in both orders at weight ½); an item
    without a verdict of judge j contributes zeros to j's tables (§2.3: items with a verdict and
    ≥ 2 human labels).
    """
    c = counts.astype(np.float64)
    pairable = c.sum(axis=1) >= 2
    c = c[pairable]
    n = c.shape[0]
    per_hh = c[:, :, None] * c[:, None, :]
    per_hh[:, np.arange(3), np.arange(3)] -= c
    per_hh = (per_hh / 2.0).reshape(n, 9)
    blocks: list[FloatArray] = []
    for values in judge_values:
        v = values[pairable]
        has = ~np.isnan(v)
        jcol = np.where(has, np.rint(np.nan_to_num(v)).astype(np.int64) + 1, 0)
        per_jh = np.zeros((n, 3, 3))
        per_jh[np.arange(n), jcol, :] = c
        per_jh[~has] = 0.0
        blocks.append(per_jh.reshape(n, 9))
        blocks.append(np.where(has[:, None], per_hh, 0.0))
    if not blocks:
        return np.zeros((n, 0)), np.asarray(pairable, dtype=np.bool_)
    return np.asarray(np.concatenate(blocks, axis=1), dtype=np.float64), np.asarray(
        pairable, dtype=np.bool_
    )


def judge_statistics(sums: FloatArray, n_judges: int) -> FloatArray:
    """Per replicate and judge: κ_JH, κ_HH, AC1_JH, κ_JH − κ_HH, S_J, raw agreement (R × J × 6)."""
    reps = sums.shape[0]
    out = np.full((reps, n_judges, 6), np.nan)
    kappas = np.full((reps, n_judges), np.nan)
    for j in range(n_judges):
        t_jh = sums[:, j * 18 : j * 18 + 9].reshape(-1, 3, 3)
        t_hh = sums[:, j * 18 + 9 : j * 18 + 18].reshape(-1, 3, 3)
        k_jh, raw, _ = two_rater_from_tables(t_jh, "cohen_kappa")
        ac1, _, _ = two_rater_from_tables(t_jh, "gwet_ac1")
        k_hh, _, _ = two_rater_from_tables(t_hh, "cohen_kappa")
        out[:, j, 0] = k_jh
        out[:, j, 1] = k_hh
        out[:, j, 2] = ac1
        out[:, j, 3] = k_jh - k_hh
        out[:, j, 5] = raw
        kappas[:, j] = k_jh
    if n_judges >= 2:
        for j in range(n_judges):
            others = np.delete(kappas, j, axis=1)
            out[:, j, 4] = kappas[:, j] - np.median(others, axis=1)
    return out


def h3_block(
    counts: IntArray, ctx: ItemContext, boot: SharedBootstrap
) -> Callable[[], dict[str, JudgeCore]]:
    """H3 per judge from the window's shared item draws (registered with ``boot``)."""
    n_judges = len(ctx.judge_names)
    if n_judges == 0:
        return dict
    features, pairable = judge_tables(counts, ctx.judge_values)
    rows = np.flatnonzero(pairable)
    n_items = features.shape[0]
    items_per_judge = [
        int(np.count_nonzero(features[:, j * 18 : j * 18 + 9].sum(axis=1) > 0))
        for j in range(n_judges)
    ]
    point = judge_statistics(features.sum(axis=0)[None, :], n_judges)[0]
    handle: int | None = None
    if n_items >= 2 and np.all(np.isfinite(point[:, 0])):

        def statistic(s: FloatArray) -> tuple[BoolArray, FloatArray]:
            st = judge_statistics(s, n_judges)
            valid = np.all(np.isfinite(st[:, :, 0]), axis=1) & np.all(
                np.isfinite(st[:, :, 1]), axis=1
            )
            return valid, st.reshape(len(s), -1)

        handle = boot.add(rows, features, statistic)

    def finish() -> dict[str, JudgeCore]:
        draws = None if handle is None else boot.result(handle)
        reps = None if draws is None else draws.reshape(-1, n_judges, 6)
        out: dict[str, JudgeCore] = {}
        for j, name in enumerate(ctx.judge_names):
            n_j = items_per_judge[j]

            def stat(col: int, j: int = j, n_j: int = n_j) -> MonitorStat:
                value = finite_or_none(point[j, col])
                if n_j == 0:
                    return MonitorStat.missing("undefined", "no item with this judge's verdict", 0)
                if value is None:
                    return MonitorStat.missing(
                        "undefined", "undefined (chance agreement is 1)", n_j
                    )
                column = None if reps is None else reps[:, j, col]
                if column is not None and not np.all(np.isfinite(column)):
                    column = None
                return stat_from_replicates(value, column, n_j)

            kappa_reps = None if reps is None else np.asarray(reps[:, j, 0], dtype=np.float64)
            out[name] = JudgeCore(
                n_items=n_j,
                kappa_jh=stat(0),
                kappa_hh=stat(1),
                ac1_jh=stat(2),
                parity_gap=stat(3),
                specificity=stat(4)
                if n_judges >= 2
                else MonitorStat.missing("undefined", "needs a second judge", n_j),
                kappa_jh_reps=kappa_reps,
                raw_agreement=finite_or_none(point[j, 5]),
            )
        return out

    return finish


def conformity_block(
    labels: LabelSet, counts: IntArray, ctx: ItemContext, mins: Minimums
) -> tuple[MonitorStat, float | None, dict[int, tuple[float, int]]]:
    """H4: per-labeler agreement with the strict mode of the other labels on the item."""
    keep = ctx.panel[labels.item] != PANEL_CONTROL_POSITIVE
    keep &= ctx.panel[labels.item] != PANEL_CONTROL_NEGATIVE
    item = labels.item[keep]
    cols = value_columns(labels.value[keep])
    lab = labels.labeler[keep]
    others = counts[item].copy()
    others[np.arange(len(item)), cols] -= 1
    defined = others.sum(axis=1) >= 2
    mode = strict_mode(others)
    defined &= mode >= 0
    hit = (mode == cols) & defined
    n_r = np.bincount(lab[defined], minlength=ctx.n_labelers)
    a_sum = np.bincount(
        lab[defined], weights=hit[defined].astype(np.float64), minlength=ctx.n_labelers
    )
    per: dict[int, tuple[float, int]] = {
        int(r): (float(a_sum[r] / n_r[r]), int(n_r[r])) for r in np.flatnonzero(n_r > 0)
    }
    enough = np.flatnonzero(n_r >= mins.labeler_labels)
    if enough.size < 2:
        reason = f"fewer than 2 labelers with ≥ {mins.labeler_labels} labels on items with a mode"
        return MonitorStat.missing("insufficient_data", reason, int(enough.size)), None, per
    a = a_sum[enough] / n_r[enough]
    return MonitorStat(float(a.mean()), n=int(enough.size)), float(np.std(a, ddof=1)), per


@dataclass(frozen=True)
class StyleFit:
    beta: tuple[float, float, float, float] | None  # β0, β_len, β_md, β_pos
    reps: FloatArray | None  # B × 4
    status: str
    reason: str | None
    n_labels: int


def style_fit(labels: LabelSet, ctx: ItemContext, boot: SharedBootstrap) -> Callable[[], StyleFit]:
    """H5 regression on non-control labels; one-step bootstrap replicates (module docstring)."""
    if ctx.covariates is None:
        fit0 = StyleFit(None, None, "undefined", "no frozen feature standardisation yet", 0)
        return lambda: fit0
    panel = ctx.panel[labels.item]
    keep = (panel == PANEL_NONE) | (panel == PANEL_ANCHOR)
    keep &= np.all(np.isfinite(ctx.covariates[labels.item]), axis=1)
    item = labels.item[keep]
    o = labels.orientation[keep]
    s = (labels.value[keep] + 1.0) / 2.0
    n_labels = int(item.size)
    if n_labels == 0:
        fit1 = StyleFit(None, None, "undefined", "no labels with style features", 0)
        return lambda: fit1
    # grouped rows: (item, orientation)
    key = item * 2 + (o > 0)
    uniq, inverse = np.unique(key, return_inverse=True)
    trials = np.bincount(inverse).astype(np.float64)
    succ = np.bincount(inverse, weights=s)
    row_item = uniq // 2
    row_o = np.where(uniq % 2 == 1, 1.0, -1.0)
    x = np.column_stack(
        [np.ones(len(uniq)), ctx.covariates[row_item, 0], ctx.covariates[row_item, 1], row_o]
    )
    fit = fit_fractional_logit(x, succ, trials)
    if fit.status != "ok":
        fit2 = StyleFit(None, None, fit.status, fit.reason, n_labels)
        return lambda: fit2
    beta = np.asarray(fit.beta, dtype=np.float64)
    p = expit(x @ beta)
    resid = succ - trials * p
    wgt = trials * p * (1.0 - p)
    g_rows = x * resid[:, None]
    h_rows = (x[:, :, None] * x[:, None, :] * wgt[:, None, None]).reshape(len(uniq), 16)
    items, row_to_item = np.unique(row_item, return_inverse=True)
    feats = np.zeros((len(items), 20))
    np.add.at(feats, row_to_item, np.concatenate([g_rows, h_rows], axis=1))

    def statistic(sums: FloatArray) -> tuple[BoolArray, FloatArray]:
        g = sums[:, :4]
        h = sums[:, 4:].reshape(-1, 4, 4)
        det = np.linalg.det(h)
        ok = np.isfinite(det) & (np.abs(det) > 1e-12)
        step = np.zeros_like(g)
        if np.any(ok):
            step[ok] = np.linalg.solve(h[ok], g[ok][:, :, None])[:, :, 0]
        out = beta[None, :] + step
        ok &= np.all(np.isfinite(out), axis=1)
        return ok, out

    handle = boot.add(np.asarray(items, dtype=np.int64), feats, statistic)
    b = (float(beta[0]), float(beta[1]), float(beta[2]), float(beta[3]))
    return lambda: StyleFit(b, boot.result(handle), "ok", None, n_labels)


def control_block(
    labels: LabelSet,
    ctx: ItemContext,
    mins: Minimums,
    n_boot: int,
    rng: np.random.Generator,
    cancel: CancelToken | None,
) -> tuple[MonitorStat, FloatArray | None, MonitorStat, MonitorStat, MonitorStat]:
    """Positive-control accuracy (with replicates) and the negative-control probes (Wilson)."""
    panel = ctx.panel[labels.item]
    pos = (panel == PANEL_CONTROL_POSITIVE) & np.isfinite(ctx.expected[labels.item])
    n_pos = int(np.count_nonzero(pos))
    acc: MonitorStat
    reps: FloatArray | None = None
    if n_pos < mins.control_labels:
        acc = MonitorStat.missing(
            "insufficient_data",
            f"{n_pos} positive-control labels (minimum {mins.control_labels})",
            n_pos,
        )
    else:
        item = labels.item[pos]
        correct = (labels.value[pos] == ctx.expected[item]).astype(np.float64)
        uniq, inv = np.unique(item, return_inverse=True)
        feats = np.column_stack([np.bincount(inv, weights=correct), np.bincount(inv)]).astype(
            np.float64
        )
        point = float(correct.mean())

        def statistic(s: FloatArray) -> tuple[BoolArray, FloatArray]:
            with np.errstate(divide="ignore", invalid="ignore"):
                val = s[:, 0] / s[:, 1]
            return s[:, 1] > 0, val[:, None]

        if n_boot > 0 and len(uniq) >= 2:
            draws = resample_sums(feats, n_boot, rng, statistic, cancel=cancel)
            if draws.complete:
                reps = np.asarray(draws.values[:, 0], dtype=np.float64)
        acc = stat_from_replicates(point, reps, n_pos)
    neg = panel == PANEL_CONTROL_NEGATIVE
    v = labels.value[neg]
    o = labels.orientation[neg]
    decisive = v != 0
    n_neg = int(v.size)
    n_dec = int(np.count_nonzero(decisive))
    tie_rate = _wilson_stat(int(n_neg - n_dec), n_neg, "no negative-control labels")
    chose_left = ((o > 0) & (v > 0)) | ((o < 0) & (v < 0))
    p_left = _wilson_stat(
        int(np.count_nonzero(chose_left & decisive)), n_dec, "no decisive negative-control labels"
    )
    sign = ctx.length_sign[labels.item[neg]]
    differ = decisive & np.isfinite(sign) & (np.nan_to_num(sign) != 0)
    chose_longer = differ & (np.sign(v) == np.nan_to_num(sign))
    p_longer = _wilson_stat(
        int(np.count_nonzero(chose_longer)),
        int(np.count_nonzero(differ)),
        "no decisive negative-control labels on pairs of different length",
    )
    return acc, reps, p_left, p_longer, tie_rate


def _wilson_stat(x: int, n: int, empty_reason: str) -> MonitorStat:
    if n == 0:
        return MonitorStat.missing("undefined", empty_reason, 0)
    low, high = wilson_bounds(np.array([x]), np.array([n]))
    return MonitorStat(x / n, float(low[0]), float(high[0]), None, "ok", None, n)


def labeler_tie_sd(labels: LabelSet, ctx: ItemContext, mins: Minimums) -> float | None:
    """SD (divisor n − 1) of per-labeler tie rates over labelers with enough labels (H2)."""
    n_r = np.bincount(labels.labeler, minlength=ctx.n_labelers)
    ties = np.bincount(
        labels.labeler, weights=(labels.value == 0).astype(np.float64), minlength=ctx.n_labelers
    )
    keep = n_r >= mins.labeler_labels
    if int(np.count_nonzero(keep)) < 2:
        return None
    return float(np.std(ties[keep] / n_r[keep], ddof=1))


def compute_core(
    labels: LabelSet,
    ctx: ItemContext,
    mins: Minimums,
    *,
    n_boot: int,
    rng: np.random.Generator,
    with_judges: bool,
    cancel: CancelToken | None = None,
) -> Core:
    """Every window-local statistic of one label set (one window, or the pooled baseline)."""
    window_all, local = np.unique(labels.item, return_inverse=True)
    ctx = ctx.restrict(window_all)
    labels = LabelSet(
        local.astype(np.int64), labels.labeler, labels.value, labels.orientation, labels.label_id
    )
    panel = ctx.panel[labels.item]
    non_control = (panel == PANEL_NONE) | (panel == PANEL_ANCHOR)
    n_items = ctx.n_items
    counts = item_value_counts(labels.item[non_control], labels.value[non_control], n_items)
    pos = ctx.anchor_pos[labels.item]
    on = pos >= 0
    anchor_counts = np.asarray(
        np.bincount(
            pos[on] * _COLS + value_columns(labels.value[on]),
            minlength=ctx.n_anchor_total * _COLS,
        ).reshape(ctx.n_anchor_total, _COLS),
        dtype=np.int64,
    )
    window_items = np.unique(labels.item[non_control])
    boot = SharedBootstrap(window_items, n_items, n_boot, rng, cancel)
    finish_alpha = _alpha_block(counts, boot)
    finish_h3 = h3_block(counts, ctx, boot) if with_judges else dict
    finish_h5 = style_fit(labels, ctx, boot)
    boot.run()
    alpha, alpha_reps, ac1 = finish_alpha()
    judges = finish_h3()
    fit = finish_h5()
    anchors = anchor_block(anchor_counts, labels, ctx, mins)
    conformity, conformity_sd, per_labeler = conformity_block(labels, counts, ctx, mins)
    if fit.beta is None:
        missing = MonitorStat.missing("undefined", fit.reason or fit.status, fit.n_labels)
        beta_len = beta_md = beta_pos = abs_pos = missing
    else:
        reps = fit.reps

        def col(k: int, transform: Any = None) -> MonitorStat:
            assert fit.beta is not None
            value = fit.beta[k] if transform is None else transform(fit.beta[k])
            r = (
                None
                if reps is None
                else (reps[:, k] if transform is None else transform(reps[:, k]))
            )
            return stat_from_replicates(value, r, fit.n_labels)

        beta_len, beta_md, beta_pos = col(1), col(2), col(3)
        abs_pos = col(3, np.abs)
    acc, acc_reps, neg_left, neg_longer, neg_ties = control_block(
        labels, ctx, mins, n_boot, rng, cancel
    )
    used = non_control
    n_lab_used = int(np.count_nonzero(used))
    return Core(
        n_labels=int(labels.item.size),
        n_items=int(np.unique(labels.item).size),
        n_labelers=int(np.unique(labels.labeler).size),
        n_decisive=int(np.count_nonzero(labels.value[used] != 0)),
        anchor_counts=anchor_counts,
        alpha=alpha,
        alpha_reps=alpha_reps,
        ac1=ac1,
        n_anchors=int(anchors["n_anchors"]),
        anchor_disagreement=anchors["disagreement"],
        anchor_entropy=anchors["entropy"],
        anchor_tie_rate=anchors["tie_rate"],
        anchor_marginal_entropy=anchors["marginal_entropy"],
        anchor_p_e=anchors["p_e"],
        davidson_nu=anchors["davidson"],
        js_dispersion=anchors["js"],
        labeler_tie_sd=labeler_tie_sd(labels, ctx, mins),
        judges=judges,
        conformity=conformity,
        conformity_sd=conformity_sd,
        labeler_conformity=per_labeler,
        beta=beta_len,
        beta_md=beta_md,
        beta_pos=beta_pos,
        abs_beta_pos=abs_pos,
        h5_status=fit.status,
        control_accuracy=acc,
        control_reps=acc_reps,
        neg_p_left=neg_left,
        neg_p_longer=neg_longer,
        neg_tie_rate=neg_ties,
        extras={"n_labels_non_control": n_lab_used},
    )


def independent_difference(
    window: FloatArray | None, baseline: FloatArray | None
) -> FloatArray | None:
    """Replicates of (window − baseline) from two independent bootstraps (§7.2).

    Replicate b of one side is paired with replicate b of the other: independent draws, so the
    pairing is arbitrary and the differences follow the distribution of the difference.
    """
    if window is None or baseline is None:
        return None
    n = min(window.size, baseline.size)
    if n == 0:
        return None
    return np.asarray(window[:n] - baseline[:n], dtype=np.float64)


def labeler_shift(
    x_window: ArrayLike, n_window: ArrayLike, x_base: ArrayLike, n_base: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Difference of two proportions per labeler and its normal-approximation z."""
    nw = np.maximum(np.asarray(n_window, dtype=np.float64), 1.0)
    nb = np.maximum(np.asarray(n_base, dtype=np.float64), 1.0)
    p1 = np.asarray(x_window, dtype=np.float64) / nw
    p0 = np.asarray(x_base, dtype=np.float64) / nb
    var = p1 * (1 - p1) / nw + p0 * (1 - p0) / nb
    diff = p1 - p0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, diff / np.sqrt(var), 0.0)
    return np.asarray(diff, dtype=np.float64), np.asarray(z, dtype=np.float64)
