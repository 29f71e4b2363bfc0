"""Calibrated win rate (CWR) with its item-cluster bootstrap (STATISTICS.md §3.1–§3.3, §3.5).

CWR averages the win rate over the two display orientations, each computed on item means:

    WR_o = mean over items with a label of orientation o of (mean s over those labels)
    CWR  = (WR_+1 + WR_−1)/2,   PosEffect = WR_+1 − WR_−1

so every item weighs the same however many labels it carries, and a pure screen-side habit
(s = 1 in one orientation, 0 in the other) pulls CWR toward ½ but never across it (§3.1).

The interval resamples whole items (§1.3, §3.2): replicate b draws |S| indices uniformly with
replacement from the items sorted by id, consuming an index matrix row by row (equivalent to
drawing each replicate's indices in turn; O-W1). A replicate lacking one orientation is discarded
and counted in ``n_redraws``; more than B discards → ``insufficient_data``. Because the statistic
depends on the items only through per-item orientation sums and counts, each chunk of replicates
is one ``bincount`` and one small matrix product; PosEffect and ``cwr_lc`` use the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.domain.progress import CancelToken
from reviewdesk.stats.common import (
    BoolArray,
    CiMethod,
    EvidenceStatus,
    FloatArray,
    SeedLike,
    as_bool_array,
    as_float_array,
    as_generator,
    check_same_length,
    finite_or_none,
    join_reasons,
    percentile_ci,
    seed_of,
    worst_status,
)
from reviewdesk.stats.length_control import (
    LcStatus,
    expit,
    fit_fractional_logit,
    lc_replicate_fits,
    length_feature_sd,
    marginal_win_rate,
    style_sensitive,
)
from reviewdesk.stats.proportions import wilson_interval
from reviewdesk.stats.resampling import DEFAULT_MAX_CELLS, resample_items

DEFAULT_MIN_N_ITEMS = 30
"""``config.min_n_items`` default (§3.2)."""


@dataclass(frozen=True)
class CwrExtras:
    """The ``extras`` of a CWR record (§3.2). Intervals are (low, high) pairs or ``None``."""

    wr_plus: float | None
    wr_minus: float | None
    pos_effect: float | None
    pos_effect_ci: tuple[float, float] | None
    item_weighted_wr: float | None
    raw_label_mean: float | None
    decisive_wr: float | None
    tie_rate: float | None
    both_bad_rate: float | None
    p_left_decisive: float | None
    p_left_decisive_ci: tuple[float, float] | None
    cwr_lc: float | None
    cwr_lc_ci: tuple[float, float] | None
    lc_status: LcStatus
    style_sensitive: bool | None
    seed: int | None
    n_redraws: int
    n_boot: int
    n_unknown_side: int
    n_items_plus: int
    n_items_minus: int
    lc_beta: tuple[float, ...] | None = None
    sd_len: float | None = None
    lc_n_failed: int = 0  # bootstrap replicates whose fit did not converge (then no cwr_lc_ci)

    def to_dict(self) -> dict[str, Any]:
        def pair(value: tuple[float, float] | None) -> list[float | None] | None:
            return None if value is None else [finite_or_none(value[0]), finite_or_none(value[1])]

        return {
            "wr_plus": finite_or_none(self.wr_plus),
            "wr_minus": finite_or_none(self.wr_minus),
            "pos_effect": finite_or_none(self.pos_effect),
            "pos_effect_ci": pair(self.pos_effect_ci),
            "item_weighted_wr": finite_or_none(self.item_weighted_wr),
            "raw_label_mean": finite_or_none(self.raw_label_mean),
            "decisive_wr": finite_or_none(self.decisive_wr),
            "tie_rate": finite_or_none(self.tie_rate),
            "both_bad_rate": finite_or_none(self.both_bad_rate),
            "p_left_decisive": finite_or_none(self.p_left_decisive),
            "p_left_decisive_ci": pair(self.p_left_decisive_ci),
            "cwr_lc": finite_or_none(self.cwr_lc),
            "cwr_lc_ci": pair(self.cwr_lc_ci),
            "lc_status": self.lc_status,
            "style_sensitive": self.style_sensitive,
            "seed": self.seed,
            "n_redraws": self.n_redraws,
            "n_boot": self.n_boot,
            "n_unknown_side": self.n_unknown_side,
            "n_items_plus": self.n_items_plus,
            "n_items_minus": self.n_items_minus,
            "lc_beta": None if self.lc_beta is None else [finite_or_none(b) for b in self.lc_beta],
            "sd_len": finite_or_none(self.sd_len),
            "lc_n_failed": self.lc_n_failed,
        }


@dataclass(frozen=True)
class CwrResult:
    """CWR of candidate vs baseline on one slice (estimand ``contested_queue`` by default, §3.3)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    status: EvidenceStatus
    reason: str | None
    n_items: int
    n_labels: int
    n_labelers: int | None
    extras: CwrExtras


def _validate(
    item: ArrayLike, orientation: ArrayLike, score: ArrayLike, both_bad: ArrayLike | None
) -> tuple[np.ndarray, FloatArray, FloatArray, BoolArray]:
    items = np.asarray(item)
    o = as_float_array(orientation, "orientation")
    s = as_float_array(score, "score")
    bb = np.zeros(len(s), dtype=bool) if both_bad is None else as_bool_array(both_bad, "both_bad")
    if items.ndim != 1:
        raise ValueError("item must be one-dimensional")
    check_same_length(item=items, orientation=o, score=s, both_bad=bb)
    if np.any((o != 1) & (o != -1) & (o != 0)):
        raise ValueError("orientation must be +1, -1, or 0 (display side unknown)")
    if np.any((s != 0) & (s != 0.5) & (s != 1)):
        raise ValueError("score must be 0, 0.5 or 1")
    if np.any(bb & (s != 0.5)):
        raise ValueError("a both_bad label must score 0.5")
    return items, o, s, bb


def calibrated_win_rate(
    item: ArrayLike,
    orientation: ArrayLike,
    score: ArrayLike,
    *,
    both_bad: ArrayLike | None = None,
    labeler: ArrayLike | None = None,
    length_delta: ArrayLike | None = None,
    sd_len: float | None = None,
    n_boot: int = 2000,
    rng: SeedLike | None = None,
    min_n_items: int = DEFAULT_MIN_N_ITEMS,
    lc_steps: int | None = None,
    cancel: CancelToken | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> CwrResult:
    """CWR, PosEffect, the §3.2 extras and the item-cluster percentile bootstrap.

    Per label: ``item`` (any sortable id; replicates index the items sorted by id),
    ``orientation`` o_l (+1 candidate shown left, −1 right, 0 side unknown → excluded and counted
    in ``n_unknown_side``), ``score`` s_l ∈ {0, ½, 1} for the candidate, ``both_bad`` (scores ½,
    reported apart from ties), ``labeler`` (for ``n_labelers``), ``length_delta`` (candidate −
    baseline characters of the item, same for every label of an item; enables ``cwr_lc``).
    ``rng``: the record's seed (§1.3) or a Generator. ``lc_steps``: ``None`` refits the §3.5 model
    exactly in every replicate; k uses the k-step bootstrap estimator (see
    :func:`~reviewdesk.stats.length_control.lc_replicate_fits`), much faster on large slices.

    Status: no item with a known side, or one orientation absent → ``undefined`` (estimate
    ``None``); fewer than ``min_n_items`` items → ``insufficient_data`` (numbers kept for
    display); more than B redraws → ``insufficient_data`` without an interval.
    """
    items, o_all, s_all, bb_all = _validate(item, orientation, score, both_bad)
    known = o_all != 0
    n_unknown = int(np.count_nonzero(~known))
    o, s, bb = o_all[known], s_all[known], bb_all[known]
    n_labels = len(s)
    n_labelers = None
    if labeler is not None:
        labelers = np.asarray(labeler)
        check_same_length(item=items, labeler=labelers)
        n_labelers = len(np.unique(labelers[known])) if n_labels else 0
    uniq_items, inverse = np.unique(items[known], return_inverse=True)
    n = len(uniq_items)
    seed = None if rng is None else seed_of(rng)

    # label-level extras (§3.2)
    decisive = s != 0.5
    wins = int(np.count_nonzero(s == 1))
    n_decisive = int(np.count_nonzero(decisive))
    chose_left = decisive & (((o > 0) & (s == 1)) | ((o < 0) & (s == 0)))
    x_left = int(np.count_nonzero(chose_left))
    raw_mean = float(s.mean()) if n_labels else None
    decisive_wr = wins / n_decisive if n_decisive else None
    tie_rate = float(np.count_nonzero((s == 0.5) & ~bb)) / n_labels if n_labels else None
    both_bad_rate = float(np.count_nonzero(bb)) / n_labels if n_labels else None
    p_left = x_left / n_decisive if n_decisive else None
    p_left_ci = wilson_interval(x_left, n_decisive) if n_decisive else None

    # per-item orientation sums and counts
    plus = o > 0
    n_plus = np.asarray(np.bincount(inverse, weights=plus, minlength=n), dtype=np.float64)
    n_minus = np.asarray(np.bincount(inverse, weights=~plus, minlength=n), dtype=np.float64)
    s_plus = np.asarray(np.bincount(inverse, weights=s * plus, minlength=n), dtype=np.float64)
    s_minus = np.asarray(np.bincount(inverse, weights=s * ~plus, minlength=n), dtype=np.float64)
    has_plus = n_plus > 0
    has_minus = n_minus > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ybar_plus = np.where(has_plus, s_plus / n_plus, 0.0)
        ybar_minus = np.where(has_minus, s_minus / n_minus, 0.0)
        item_means = (s_plus + s_minus) / (n_plus + n_minus)
    item_weighted = float(item_means.mean()) if n else None
    n_items_plus = int(np.count_nonzero(has_plus))
    n_items_minus = int(np.count_nonzero(has_minus))

    status: EvidenceStatus = "ok"
    reasons: list[str | None] = []
    if n < min_n_items:
        status = "insufficient_data"
        reasons.append(f"n_items {n} < min_n_items {min_n_items}")
    undefined_reason = None
    if n == 0:
        undefined_reason = "no labelled item with a known display side"
    elif n_items_plus == 0 or n_items_minus == 0:
        missing = "+1" if n_items_plus == 0 else "-1"
        undefined_reason = f"no label with orientation {missing}: CWR needs both orientations"

    # length control (§3.5): grouped (item, orientation) rows give the per-label likelihood
    lc_status: LcStatus = "not_computed"
    lc_beta: tuple[float, ...] | None = None
    cwr_lc: float | None = None
    x_item: FloatArray | None = None
    sd_used: float | None = None
    if length_delta is not None and undefined_reason is None:
        delta_all = as_float_array(length_delta, "length_delta")
        check_same_length(item=items, length_delta=delta_all)
        delta = delta_all[known]
        lo = np.full(n, np.inf)
        hi = np.full(n, -np.inf)
        np.minimum.at(lo, inverse, delta)
        np.maximum.at(hi, inverse, delta)
        if np.any(hi - lo > 1e-9 * np.maximum(1.0, np.abs(hi))):
            raise ValueError("length_delta must be the same for every label of an item")
        sd_used = float(sd_len) if sd_len is not None else length_feature_sd(lo)
        if sd_used is None or not sd_used > 0:
            lc_status = "undefined"
        else:
            x = np.tanh(lo / sd_used)
            design = np.concatenate(
                [
                    np.column_stack([np.ones(n), x, np.ones(n)])[has_plus],
                    np.column_stack([np.ones(n), x, -np.ones(n)])[has_minus],
                ]
            )
            fit = fit_fractional_logit(
                design,
                np.concatenate([s_plus[has_plus], s_minus[has_minus]]),
                np.concatenate([n_plus[has_plus], n_minus[has_minus]]),
            )
            lc_beta = fit.beta
            lc_status = fit.status
            if fit.status == "ok":
                cwr_lc = marginal_win_rate(fit.beta[0], fit.beta[2])
                x_item = x

    def extras(
        wr_p: float | None,
        wr_m: float | None,
        pe_ci: tuple[float, float] | None,
        lc_ci: tuple[float, float] | None,
        lc_state: LcStatus,
        cwr: float | None,
        n_redraws: int,
        lc_n_failed: int = 0,
    ) -> CwrExtras:
        pos = None if wr_p is None or wr_m is None else wr_p - wr_m
        sensitive = None if cwr is None or cwr_lc is None else style_sensitive(cwr, cwr_lc)
        return CwrExtras(
            wr_p,
            wr_m,
            pos,
            pe_ci,
            item_weighted,
            raw_mean,
            decisive_wr,
            tie_rate,
            both_bad_rate,
            p_left,
            p_left_ci,
            cwr_lc,
            lc_ci,
            lc_state,
            sensitive,
            seed,
            n_redraws,
            max(n_boot, 0),
            n_unknown,
            n_items_plus,
            n_items_minus,
            lc_beta,
            sd_used,
            lc_n_failed,
        )

    if undefined_reason is not None:
        return CwrResult(
            None,
            None,
            None,
            "none",
            worst_status(status, "undefined"),
            join_reasons(*reasons, undefined_reason),
            n,
            n_labels,
            n_labelers,
            extras(None, None, None, None, lc_status, None, 0),
        )

    wr_plus = float(ybar_plus[has_plus].mean())
    wr_minus = float(ybar_minus[has_minus].mean())
    cwr = (wr_plus + wr_minus) / 2.0
    if n_boot <= 0:
        return CwrResult(
            cwr,
            None,
            None,
            "none",
            status,
            join_reasons(*reasons),
            n,
            n_labels,
            n_labelers,
            extras(wr_plus, wr_minus, None, None, lc_status, cwr, 0),
        )
    if rng is None:
        raise ValueError("a seed or numpy Generator is required for the bootstrap")

    features = np.column_stack(
        [has_plus, ybar_plus * has_plus, has_minus, ybar_minus * has_minus]
    ).astype(np.float64)
    lc_x = x_item
    lc_start = None if lc_beta is None else np.asarray(lc_beta, dtype=np.float64)

    def evaluate(weights: FloatArray) -> tuple[BoolArray, FloatArray]:
        sums = weights @ features
        valid = (sums[:, 0] > 0) & (sums[:, 2] > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            wr_p = sums[:, 1] / sums[:, 0]
            wr_m = sums[:, 3] / sums[:, 2]
        out = np.full((len(weights), 4), np.nan)
        out[:, 0] = (wr_p + wr_m) / 2.0
        out[:, 1] = wr_p - wr_m
        if lc_x is not None and lc_start is not None:
            idx = np.flatnonzero(valid)
            beta, ok = lc_replicate_fits(
                weights[idx], lc_x, s_plus, n_plus, s_minus, n_minus, lc_start, steps=lc_steps
            )
            out[idx, 2] = 0.5 * (expit(beta[:, 0] + beta[:, 2]) + expit(beta[:, 0] - beta[:, 2]))
            out[idx, 3] = ok
        return valid, out

    draws = resample_items(
        n, n_boot, as_generator(rng), evaluate, max_cells=max_cells, cancel=cancel
    )
    if not draws.complete:
        return CwrResult(
            cwr,
            None,
            None,
            "none",
            worst_status(status, "insufficient_data"),
            join_reasons(*reasons, f"more than {n_boot} replicates lacked an orientation"),
            n,
            n_labels,
            n_labelers,
            extras(wr_plus, wr_minus, None, None, lc_status, cwr, draws.n_redraws),
        )
    values = draws.values
    low, high = percentile_ci(values[:, 0])
    pe_ci = percentile_ci(values[:, 1])
    lc_ci: tuple[float, float] | None = None
    lc_n_failed = 0
    if lc_x is not None:
        lc_n_failed = int(np.count_nonzero(values[:, 3] != 1.0))
        if lc_n_failed == 0:
            lc_ci = percentile_ci(values[:, 2])
    return CwrResult(
        cwr,
        low,
        high,
        "item_bootstrap_percentile",
        status,
        join_reasons(*reasons),
        n,
        n_labels,
        n_labelers,
        extras(wr_plus, wr_minus, pe_ci, lc_ci, lc_status, cwr, draws.n_redraws, lc_n_failed),
    )
