"""Bradley–Terry ratings for many models (STATISTICS.md §4).

Every label of one population is a comparison (a, b, y), y = a's score against b (tie and
both_bad = ½). Comparisons are aggregated by one ``bincount`` over the key (a·M + b)·3 + code(y)
into unique rows with integer counts w. The model P(a ≻ b) = σ(r_a − r_b) treats a tie as half a
win and half a loss, and is fitted by Newton's method with a sum-to-zero gauge:

    p = σ(r_a − r_b);  g = Σ w (y − p) x;  H = Σ w p(1 − p) x xᵀ,  x = e_a − e_b
    r ← r + solve(H + J/M + 1e-9 I, g);  r ← r − mean(r)      until max|step| < 1e-10 (≤ 100 times)

Ratings are shown on the Arena scale R = (400/ln 10)·r + 1000. Intervals: the sandwich
Cov = H⁺ G H⁺ (dashboards) or an item-cluster bootstrap by reweighting (gates): a replicate draws
items with replacement and sets each aggregated row's weight to the drawn items' counts, then
refits warm-started (from the full-sample solution, so a chunk of replicates is fitted at once).
Items whose aggregated rows are identical are interchangeable, so the draw is made as a
multinomial over those patterns (the same distribution as drawing items, at a fraction of the
cost) — 1000 replicates over 1M comparisons take seconds.

A finite MLE needs the "scored above 0 against" digraph to be strongly connected (Ford 1957). The
comparison graph is split into connected components; within a component only the main strongly
connected part is fitted and models outside it (only wins or only losses against the rest) are
``undefined``; models outside the reference component (the baseline's, else the largest) are
``undefined`` too — never a number produced by the ridge or the iteration cap.

Davidson (1970) and Rao–Kupper (1967) fits with an explicit tie parameter are diagnostics only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.domain.progress import CancelToken
from reviewdesk.stats.common import (
    Z95,
    BoolArray,
    CiMethod,
    EvidenceStatus,
    FloatArray,
    IntArray,
    SeedLike,
    as_float_array,
    as_generator,
    as_int_array,
    check_same_length,
    finite_or_none,
)
from reviewdesk.stats.length_control import expit

ARENA_SCALE = 400.0 / math.log(10.0)
ARENA_CENTER = 1000.0
MAX_ITER = 100
TOL = 1e-10
RIDGE = 1e-9


def to_arena(r: ArrayLike) -> FloatArray:
    """R = (400/ln 10)·r + 1000 (§4)."""
    return np.asarray(ARENA_SCALE * np.asarray(r, dtype=np.float64) + ARENA_CENTER)


# --------------------------------------------------------------------------------------------
# Aggregation and the Newton fit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregatedComparisons:
    """Unique (a, b, y) rows with integer counts ``w``; ``key`` = (a·M + b)·3 + code(y)."""

    a: IntArray
    b: IntArray
    y: FloatArray
    w: FloatArray
    key: IntArray
    n_models: int


def _codes(y: FloatArray) -> IntArray:
    code = np.rint(y * 2.0)
    if np.any(np.abs(code - y * 2.0) > 1e-12) or np.any((code < 0) | (code > 2)):
        raise ValueError("y must be 0, 0.5 or 1")
    return code.astype(np.int64)


def aggregate_comparisons(
    a: ArrayLike, b: ArrayLike, y: ArrayLike, n_models: int
) -> AggregatedComparisons:
    """Aggregate comparisons by one ``bincount`` over (a·M + b)·3 + code(y) (§4)."""
    ai = as_int_array(a, "a")
    bi = as_int_array(b, "b")
    yf = as_float_array(y, "y")
    check_same_length(a=ai, b=bi, y=yf)
    m = int(n_models)
    if ai.size and (min(ai.min(), bi.min()) < 0 or max(ai.max(), bi.max()) >= m):
        raise ValueError("model indices must lie in [0, n_models)")
    if np.any(ai == bi):
        raise ValueError("a model cannot be compared with itself")
    key = (ai * m + bi) * 3 + _codes(yf)
    if m * m * 3 <= 20_000_000:
        counts = np.bincount(key, minlength=m * m * 3)
        uniq = np.flatnonzero(counts)
        w = counts[uniq].astype(np.float64)
    else:
        uniq, cnt = np.unique(key, return_counts=True)
        w = cnt.astype(np.float64)
    uniq = uniq.astype(np.int64)
    pair = uniq // 3
    return AggregatedComparisons(
        pair // m, pair % m, (uniq % 3).astype(np.float64) / 2.0, w, uniq, m
    )


@dataclass(frozen=True)
class BTFit:
    """Sum-to-zero log-strengths over the fitted models and the information at the optimum."""

    r: FloatArray
    converged: bool
    n_iter: int
    hessian: FloatArray


def _information(a: IntArray, b: IntArray, v: FloatArray, m: int) -> FloatArray:
    """Σ v x xᵀ with x = e_a − e_b, via bincounts."""
    diag = np.bincount(a, weights=v, minlength=m) + np.bincount(b, weights=v, minlength=m)
    off = np.bincount(a * m + b, weights=v, minlength=m * m).reshape(m, m)
    hess = -(off + off.T)
    hess[np.arange(m), np.arange(m)] += diag
    return np.asarray(hess, dtype=np.float64)


def fit_bradley_terry(
    a: IntArray,
    b: IntArray,
    y: FloatArray,
    w: FloatArray,
    n_models: int,
    *,
    start: FloatArray | None = None,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
) -> BTFit:
    """Newton's method with the sum-to-zero gauge of §4 on aggregated rows (indices < n_models)."""
    m = n_models
    r = np.zeros(m) if start is None else np.array(start, dtype=np.float64, copy=True)
    gauge = np.full((m, m), 1.0 / m) + RIDGE * np.eye(m)
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        p = expit(r[a] - r[b])
        resid = w * (y - p)
        grad = np.bincount(a, weights=resid, minlength=m) - np.bincount(
            b, weights=resid, minlength=m
        )
        hess = _information(a, b, w * p * (1.0 - p), m)
        step = np.linalg.solve(hess + gauge, grad)
        r = r + step
        r -= r.mean()
        if not np.all(np.isfinite(r)):
            break
        if np.max(np.abs(step)) < tol:
            converged = True
            break
    p = expit(r[a] - r[b])
    return BTFit(r, converged, n_iter, _information(a, b, w * p * (1.0 - p), m))


def sandwich_covariance(
    a: IntArray, b: IntArray, y: FloatArray, w: FloatArray, r: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(Fisher covariance H⁺, sandwich covariance H⁺ G H⁺) in r units (§4).

    H⁺ = (H + J/M)⁻¹ − J/M, G = Σ w (y − p)² x xᵀ over aggregated rows.
    """
    m = len(r)
    p = expit(r[a] - r[b])
    hess = _information(a, b, w * p * (1.0 - p), m)
    meat = _information(a, b, w * (y - p) ** 2, m)
    j = np.full((m, m), 1.0 / m)
    h_plus = np.linalg.inv(hess + j) - j
    return h_plus, h_plus @ meat @ h_plus


# --------------------------------------------------------------------------------------------
# Graph checks
# --------------------------------------------------------------------------------------------


def _closure(adj: BoolArray) -> BoolArray:
    """Reflexive transitive closure of a boolean adjacency matrix by repeated squaring."""
    m = adj.shape[0]
    reach = adj | np.eye(m, dtype=bool)
    while True:
        nxt = (reach.astype(np.float64) @ reach.astype(np.float64)) > 0
        if np.array_equal(nxt, reach):
            return reach
        reach = nxt


def _groups(reach: BoolArray, members: IntArray) -> list[IntArray]:
    """Equivalence classes (mutual reachability) among ``members``, in order of first member."""
    sub = reach[np.ix_(members, members)]
    mutual = sub & sub.T
    seen = np.zeros(len(members), dtype=bool)
    out: list[IntArray] = []
    for i in range(len(members)):
        if not seen[i]:
            cls = np.flatnonzero(mutual[i])
            seen[cls] = True
            out.append(members[cls])
    return out


def scored_digraph(a: IntArray, b: IntArray, y: FloatArray, w: FloatArray, m: int) -> BoolArray:
    """Edge a → b whenever a scored above 0 against b (a win or a tie), weights > 0 only."""
    keep = w > 0
    adj = np.zeros((m, m), dtype=bool)
    win = keep & (y > 0)
    loss = keep & (y < 1)
    adj[a[win], b[win]] = True
    adj[b[loss], a[loss]] = True
    return adj


# --------------------------------------------------------------------------------------------
# The full analysis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRating:
    """One model's rating (Arena scale) with its interval, rank and status."""

    model: str
    rating: float | None
    r: float | None
    se: float | None  # sandwich SE on the Arena scale
    se_fisher: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    rank: int | None
    status: EvidenceStatus
    reason: str | None
    n_comparisons: int
    component: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "rating": finite_or_none(self.rating),
            "r": finite_or_none(self.r),
            "se": finite_or_none(self.se),
            "se_fisher": finite_or_none(self.se_fisher),
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "ci_method": self.ci_method,
            "rank": self.rank,
            "status": self.status,
            "reason": self.reason,
            "n_comparisons": self.n_comparisons,
            "component": self.component,
        }


@dataclass(frozen=True)
class BradleyTerryResult:
    """Ratings of every model; ``models`` is in the order of the ``models`` argument."""

    models: tuple[ModelRating, ...]
    n_comparisons: int
    n_items: int
    n_components: int
    converged: bool
    n_iter: int
    ci_method: CiMethod
    n_boot: int
    n_redraws: int
    status: EvidenceStatus
    reason: str | None

    def by_model(self) -> dict[str, ModelRating]:
        return {m.model: m for m in self.models}


@dataclass(frozen=True)
class _Part:
    members: IntArray  # global model indices fitted together
    fit: BTFit
    rows: BoolArray  # aggregated rows inside the part


def _pick(groups: list[IntArray], weight: FloatArray, prefer: int | None) -> int:
    """Index of the group containing ``prefer``, else the largest (then most comparisons)."""
    if prefer is not None:
        for i, g in enumerate(groups):
            if prefer in g:
                return i
    return max(range(len(groups)), key=lambda i: (len(groups[i]), weight[groups[i]].sum(), -i))


def _item_patterns(
    item_of: IntArray, row_of: IntArray, n_items: int, n_rows: int
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Each item's aggregated rows as (pattern, row, count) entries, items grouped into patterns.

    Items with identical entries are interchangeable in the bootstrap, so a replicate can draw
    how many items of each pattern it takes (a multinomial) instead of drawing every item.
    Returns (pattern sizes, entry pattern, entry row, entry count). When grouping would not pay
    (an item with more than 8 rows, or more than a quarter of the items distinct), every item is
    its own pattern of size 1 and the caller draws item indices instead.
    """
    uniq, cnt = np.unique(item_of * n_rows + row_of, return_counts=True)
    it = uniq // n_rows
    rw = uniq % n_rows
    per_item = np.bincount(it, minlength=n_items)
    k_max = int(per_item.max())
    singles = (np.ones(n_items, dtype=np.int64), it, rw, cnt.astype(np.float64))
    if k_max > 8:
        return singles
    starts = np.concatenate([[0], np.cumsum(per_item)[:-1]])
    sig = np.full((n_items, k_max), -1, dtype=np.int64)
    sig[it, np.arange(len(uniq)) - starts[it]] = rw * (int(cnt.max()) + 1) + cnt
    order = np.lexsort(sig.T[::-1])
    ordered = sig[order]
    new_group = np.ones(n_items, dtype=bool)
    new_group[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    n_patterns = int(np.count_nonzero(new_group))
    if n_patterns * 4 > n_items:
        return singles
    first = order[new_group]
    sizes = np.diff(np.append(np.flatnonzero(new_group), n_items))
    pattern_of_first = np.full(n_items, -1, dtype=np.int64)
    pattern_of_first[first] = np.arange(n_patterns)
    sel = pattern_of_first[it] >= 0
    return sizes.astype(np.int64), pattern_of_first[it[sel]], rw[sel], cnt[sel].astype(np.float64)


def bradley_terry(
    a: ArrayLike,
    b: ArrayLike,
    y: ArrayLike,
    *,
    models: Sequence[str],
    item: ArrayLike | None = None,
    reference: str | None = None,
    n_boot: int = 0,
    rng: SeedLike | None = None,
    z: float = Z95,
    cancel: CancelToken | None = None,
) -> BradleyTerryResult:
    """Bradley–Terry ratings with sandwich CIs, or item-bootstrap CIs when ``n_boot`` > 0 (§4).

    ``a``, ``b``: indices into ``models``; ``y``: a's score against b (0, ½, 1). ``item``: the item
    of each comparison (for the cluster bootstrap; default: every comparison its own item).
    ``reference``: the baseline model whose component is reported (default: the largest).
    Rank(m) = 1 + #{m′ : ci_low(m′) > ci_high(m)} among ``ok`` models (shared ranks allowed).
    """
    names = list(models)
    m = len(names)
    if len(set(names)) != m:
        raise ValueError("model names must be unique")
    ai = as_int_array(a, "a")
    bi = as_int_array(b, "b")
    yf = as_float_array(y, "y")
    n_comp = check_same_length(a=ai, b=bi, y=yf)
    agg = aggregate_comparisons(ai, bi, yf, m)
    if reference is not None and reference not in names:
        raise ValueError(f"reference model {reference!r} is not among the models")
    ref_idx = names.index(reference) if reference is not None else None
    per_model = np.asarray(
        np.bincount(agg.a, weights=agg.w, minlength=m)
        + np.bincount(agg.b, weights=agg.w, minlength=m),
        dtype=np.float64,
    )
    # (1) undirected components over models that have comparisons
    adj = np.zeros((m, m), dtype=bool)
    adj[agg.a, agg.b] = True
    adj[agg.b, agg.a] = True
    active = np.flatnonzero(per_model > 0)
    components = _groups(_closure(adj), active) if active.size else []
    ref_comp = _pick(components, per_model, ref_idx) if components else -1
    # (2) strong connectivity of the scored-above-0 digraph, within each component
    reach = _closure(scored_digraph(agg.a, agg.b, agg.y, agg.w, m))
    component_of = np.full(m, -1, dtype=np.int64)
    status_of: list[EvidenceStatus] = ["undefined"] * m
    reason_of: list[str | None] = ["no comparisons"] * m
    parts: dict[int, _Part] = {}
    for ci, comp in enumerate(components):
        component_of[comp] = ci
        sccs = _groups(reach, comp)
        main = sccs[_pick(sccs, per_model, ref_idx if ci == ref_comp else None)]
        for scc in sccs:
            if scc is main:
                continue
            for mm in scc:
                status_of[mm] = "undefined"
                reason_of[mm] = (
                    "no finite rating: only wins or only losses against the rest of its "
                    "component (the scored-above-0 graph is not strongly connected)"
                )
        if len(main) < 2:
            for mm in main:
                status_of[mm] = "undefined"
                reason_of[mm] = "no finite rating: no model it both beat and lost to"
            continue
        in_main = np.zeros(m, dtype=bool)
        in_main[main] = True
        rows = in_main[agg.a] & in_main[agg.b]
        local = np.full(m, -1, dtype=np.int64)
        local[main] = np.arange(len(main))
        fit = fit_bradley_terry(
            local[agg.a[rows]], local[agg.b[rows]], agg.y[rows], agg.w[rows], len(main)
        )
        parts[ci] = _Part(main, fit, rows)
        for mm in main:
            if not fit.converged:
                status_of[mm], reason_of[mm] = "undefined", "Newton did not converge"
            elif ci != ref_comp:
                status_of[mm] = "undefined"
                reason_of[mm] = "not connected to the reference component"
            else:
                status_of[mm], reason_of[mm] = "ok", None

    rating = np.full(m, np.nan)
    r_all = np.full(m, np.nan)
    se = np.full(m, np.nan)
    se_f = np.full(m, np.nan)
    lo = np.full(m, np.nan)
    hi = np.full(m, np.nan)
    for part in parts.values():
        main = part.members
        rows = part.rows
        local = np.full(m, -1, dtype=np.int64)
        local[main] = np.arange(len(main))
        la, lb = local[agg.a[rows]], local[agg.b[rows]]
        fisher, sandwich = sandwich_covariance(la, lb, agg.y[rows], agg.w[rows], part.fit.r)
        r_all[main] = part.fit.r
        rating[main] = to_arena(part.fit.r)
        se[main] = ARENA_SCALE * np.sqrt(np.maximum(np.diag(sandwich), 0.0))
        se_f[main] = ARENA_SCALE * np.sqrt(np.maximum(np.diag(fisher), 0.0))
        lo[main] = rating[main] - z * se[main]
        hi[main] = rating[main] + z * se[main]

    ci_method: CiMethod = "sandwich_normal"
    n_redraws = 0
    status: EvidenceStatus = "ok"
    reason: str | None = None
    ref_part = parts.get(ref_comp)
    n_items = n_comp
    if item is not None:
        items = np.asarray(item)
        check_same_length(a=ai, item=items)
        _, item_idx_all = np.unique(items, return_inverse=True)
        n_items = int(item_idx_all.max()) + 1 if item_idx_all.size else 0
    else:
        item_idx_all = np.arange(n_comp)
    if ref_part is None or not ref_part.fit.converged:
        status, reason = "undefined", "no model has a finite rating"
    elif n_boot > 0:
        if rng is None:
            raise ValueError("a seed or numpy Generator is required for the bootstrap")
        boot = _bootstrap(ai, bi, yf, item_idx_all, ref_part, m, n_boot, as_generator(rng), cancel)
        n_redraws = boot.n_redraws
        main = ref_part.members
        if boot.values is None:
            status = "insufficient_data"
            reason = f"more than {n_boot} bootstrap replicates had no finite ratings"
            lo[main] = np.nan
            hi[main] = np.nan
        else:
            qs = np.quantile(boot.values, [0.025, 0.975], axis=0)
            lo[main] = qs[0]
            hi[main] = qs[1]
        ci_method = "item_bootstrap_percentile"

    ok = np.array([s == "ok" for s in status_of], dtype=bool)
    ranks: list[int | None] = [None] * m
    ok_idx = np.flatnonzero(ok & np.isfinite(lo) & np.isfinite(hi))
    above = (lo[ok_idx][None, :] > hi[ok_idx][:, None]).sum(axis=1)
    for mm, n_above in zip(ok_idx.tolist(), above.tolist(), strict=True):
        ranks[mm] = 1 + int(n_above)
    out = []
    for mm in range(m):
        model_status = status_of[mm]
        model_reason = reason_of[mm]
        if model_status == "ok" and status != "ok":
            model_status, model_reason = status, reason
        out.append(
            ModelRating(
                names[mm],
                finite_or_none(rating[mm]),
                finite_or_none(r_all[mm]),
                finite_or_none(se[mm]),
                finite_or_none(se_f[mm]),
                finite_or_none(lo[mm]),
                finite_or_none(hi[mm]),
                ci_method if np.isfinite(lo[mm]) else "none",
                ranks[mm],
                model_status,
                model_reason,
                int(per_model[mm]),
                int(component_of[mm]),
            )
        )
    fit_ref = ref_part.fit if ref_part is not None else None
    return BradleyTerryResult(
        tuple(out),
        n_comp,
        n_items,
        len(components),
        bool(fit_ref.converged) if fit_ref else False,
        fit_ref.n_iter if fit_ref else 0,
        ci_method,
        max(n_boot, 0),
        n_redraws,
        status,
        reason,
    )


@dataclass(frozen=True)
class _Boot:
    values: FloatArray | None  # replicates × models of the reference part (Arena scale)
    n_redraws: int


def _bootstrap(
    a: IntArray,
    b: IntArray,
    y: FloatArray,
    item_idx: IntArray,
    part: _Part,
    m: int,
    n_boot: int,
    rng: np.random.Generator,
    cancel: CancelToken | None,
) -> _Boot:
    """Item-cluster bootstrap by reweighting aggregated rows, warm-started (§4).

    A chunk of replicates is drawn, reweighted, checked and refitted together: every replicate
    starts from the full-sample solution (rather than the previous replicate's; the optimum is the
    same, and the chunk's Newton iterations run as batched array operations).

    Replicate weights for a chunk are one ``bincount``: each drawn pattern (group of items with
    identical rows) adds its multiplicity times its row counts. Item multiplicities are drawn as a
    multinomial over patterns, which has the distribution of drawing n items with replacement.
    A replicate whose digraph is not strongly connected (a model with only wins or only losses)
    is redrawn; more than B redraws → no interval.
    """
    main = part.members
    k = len(main)
    local = np.full(m, -1, dtype=np.int64)
    local[main] = np.arange(k)
    keep = (local[a] >= 0) & (local[b] >= 0)
    key = (a[keep] * m + b[keep]) * 3 + _codes(y[keep])
    rows_key, row_of = np.unique(key, return_inverse=True)
    pair = rows_key // 3
    ra = local[pair // m]
    rb = local[pair % m]
    ry = (rows_key % 3).astype(np.float64) / 2.0
    n_rows = len(rows_key)
    _, item_of = np.unique(item_idx[keep], return_inverse=True)
    n_items = int(item_of.max()) + 1
    sizes, entry_pattern, entry_row, entry_cnt = _item_patterns(
        item_of.astype(np.int64), row_of.astype(np.int64), n_items, n_rows
    )
    by_pattern = np.argsort(entry_pattern, kind="stable")
    entry_pattern = entry_pattern[by_pattern]
    entry_row = entry_row[by_pattern]
    entry_cnt = entry_cnt[by_pattern]
    n_patterns = len(sizes)
    use_multinomial = n_patterns < n_items
    probs = sizes / float(n_items)
    chunk = max(1, min(64, 2_000_000 // max(n_patterns, len(entry_row), n_rows)))
    values = np.empty((n_boot, k))
    r = part.fit.r
    n_valid = 0
    n_redraws = 0
    # per-chunk index arrays are the same every time: build them once
    rep = np.arange(chunk, dtype=np.int64)[:, None]
    row_keys = (rep * n_rows + entry_row[None, :]).ravel()
    gather_at = (rep * n_patterns + entry_pattern[None, :]).ravel()
    entry_weight = None if np.all(entry_cnt == 1.0) else np.tile(entry_cnt, chunk)
    item_offsets = rep * n_items
    while n_valid < n_boot:
        if cancel is not None:
            cancel.check()
        if use_multinomial:
            counts = rng.multinomial(n_items, probs, size=chunk).ravel()
        else:
            # every item its own pattern: item multiplicities by one bincount
            idx = rng.integers(0, n_items, size=(chunk, n_items))
            idx += item_offsets
            counts = np.bincount(idx.ravel(), minlength=chunk * n_items)
        gathered = counts.take(gather_at).astype(np.float64)
        if entry_weight is not None:
            gathered *= entry_weight
        flat = np.bincount(row_keys, weights=gathered, minlength=chunk * n_rows)
        weights = np.asarray(flat.reshape(chunk, n_rows), dtype=np.float64)
        if k <= _dense_max_models():
            n_pair, s_pair = _pair_totals(ra, rb, ry, weights, k)
            connected = _all_reachable(s_pair > 0)
            fitted, converged = _fit_dense(n_pair[connected], s_pair[connected], r)
        else:
            connected = _strongly_connected_batch(ra, rb, ry, weights, k)
            fitted, converged = _fit_batch(ra, rb, ry, weights[connected], k, r)
        valid = np.zeros(chunk, dtype=bool)
        valid[np.flatnonzero(connected)[converged]] = True
        ratings = np.full((chunk, k), np.nan)
        ratings[connected] = to_arena(fitted)
        positions = np.flatnonzero(valid)
        need = n_boot - n_valid
        if positions.size >= need:
            n_redraws += int(positions[need - 1]) + 1 - need
            values[n_valid:] = ratings[positions[:need]]
            n_valid = n_boot
        else:
            n_redraws += chunk - int(positions.size)
            values[n_valid : n_valid + positions.size] = ratings[positions]
            n_valid += int(positions.size)
        if n_redraws > n_boot:
            return _Boot(None, n_redraws)
    return _Boot(values, n_redraws)


DENSE_MAX_MODELS = 200
"""Up to this many models, bootstrap refits work on dense model × model pair totals."""


def _dense_max_models() -> int:
    return DENSE_MAX_MODELS


def _pair_totals(
    a: IntArray, b: IntArray, y: FloatArray, weights: FloatArray, k: int
) -> tuple[FloatArray, FloatArray]:
    """Per replicate: n[a, b] comparisons between a and b, s[a, b] a's total score against b.

    Rows of one pair share p = σ(r_a − r_b), so the likelihood only needs these totals.
    """
    reps = len(weights)
    keys = (np.arange(reps)[:, None] * (k * k) + (a * k + b)[None, :]).ravel()
    flat_w = weights.ravel()
    count = np.bincount(keys, weights=flat_w, minlength=reps * k * k).reshape(reps, k, k)
    score = np.bincount(keys, weights=flat_w * np.tile(y, reps), minlength=reps * k * k)
    score = score.reshape(reps, k, k)
    n_pair = count + count.transpose(0, 2, 1)
    s_pair = score + (count - score).transpose(0, 2, 1)
    return np.asarray(n_pair, dtype=np.float64), np.asarray(s_pair, dtype=np.float64)


def _all_reachable(adj: BoolArray) -> BoolArray:
    """Per stacked digraph (… × k × k): is every model reachable from every other?"""
    k = adj.shape[-1]
    reach = (adj | np.eye(k, dtype=bool)).astype(np.float64)
    for _ in range(max(1, int(np.ceil(np.log2(max(k, 2)))) + 1)):
        reach = np.minimum(reach @ reach, 1.0)
    return np.asarray(np.all(reach > 0, axis=(-2, -1)), dtype=bool)


def _fit_dense(
    n_pair: FloatArray,
    s_pair: FloatArray,
    start: FloatArray,
    *,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
) -> tuple[FloatArray, BoolArray]:
    """Newton fits of §4 on dense pair totals, many replicates at once (same optimum as rows).

    g_a = Σ_b (s_ab − n_ab p_ab), H = diag(Σ_b v_ab) − v with v_ab = n_ab p_ab (1 − p_ab); every
    replicate starts at ``start`` and stops at its own max|step| < ``tol``.
    """
    reps, k, _ = n_pair.shape
    r = np.broadcast_to(np.asarray(start, dtype=np.float64), (reps, k)).copy()
    converged = np.zeros(reps, dtype=bool)
    gauge = np.full((k, k), 1.0 / k) + RIDGE * np.eye(k)
    diag = np.arange(k)
    active = np.arange(reps)
    for _ in range(max_iter):
        if active.size == 0:
            break
        ra = r[active]
        n_act = n_pair[active]
        p = expit(ra[:, :, None] - ra[:, None, :])
        grad = (s_pair[active] - n_act * p).sum(axis=2)
        v = n_act * p * (1.0 - p)
        hess = -v
        hess[:, diag, diag] += v.sum(axis=2)
        step = np.linalg.solve(hess + gauge[None], grad[:, :, None])[:, :, 0]
        new_r = ra + step
        new_r -= new_r.mean(axis=1, keepdims=True)
        r[active] = new_r
        finite = np.all(np.isfinite(new_r), axis=1)
        done = finite & (np.max(np.abs(step), axis=1) < tol)
        converged[active[done]] = True
        active = active[finite & ~done]
    return r, converged


def _strongly_connected_batch(
    a: IntArray, b: IntArray, y: FloatArray, weights: FloatArray, k: int
) -> BoolArray:
    """Per replicate (row of ``weights``): is the scored-above-0 digraph strongly connected?"""
    reps = len(weights)
    present = weights > 0
    adj = np.zeros((reps, k, k), dtype=bool)
    rep_idx, row_idx = np.nonzero(present & (y > 0)[None, :])
    adj[rep_idx, a[row_idx], b[row_idx]] = True
    rep_idx, row_idx = np.nonzero(present & (y < 1)[None, :])
    adj[rep_idx, b[row_idx], a[row_idx]] = True
    return _all_reachable(adj)


def _fit_batch(
    a: IntArray,
    b: IntArray,
    y: FloatArray,
    weights: FloatArray,
    k: int,
    start: FloatArray,
    *,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
) -> tuple[FloatArray, BoolArray]:
    """The Newton fit of :func:`fit_bradley_terry` for many row-weight vectors at once.

    Every replicate starts from ``start`` (the full-sample fit) and iterates until its own
    max|step| < ``tol``; the optimum does not depend on the start, only the iteration count does.
    Returns (r replicates × k, converged mask).
    """
    reps = len(weights)
    r = np.broadcast_to(np.asarray(start, dtype=np.float64), (reps, k)).copy()
    converged = np.zeros(reps, dtype=bool)
    gauge = np.full((k, k), 1.0 / k) + RIDGE * np.eye(k)
    active = np.arange(reps)
    for _ in range(max_iter):
        if active.size == 0:
            break
        c = active.size
        ra = r[active]
        w = weights[active]
        p = expit(ra[:, a] - ra[:, b])
        resid = w * (y[None, :] - p)
        v = w * p * (1.0 - p)
        base = np.arange(c)[:, None]
        ka = (base * k + a[None, :]).ravel()
        kb = (base * k + b[None, :]).ravel()
        grad = (
            np.bincount(ka, weights=resid.ravel(), minlength=c * k)
            - np.bincount(kb, weights=resid.ravel(), minlength=c * k)
        ).reshape(c, k)
        diag = (
            np.bincount(ka, weights=v.ravel(), minlength=c * k)
            + np.bincount(kb, weights=v.ravel(), minlength=c * k)
        ).reshape(c, k)
        off = np.bincount(
            (base * k * k + (a * k + b)[None, :]).ravel(), weights=v.ravel(), minlength=c * k * k
        ).reshape(c, k, k)
        hess = -(off + off.transpose(0, 2, 1))
        hess[:, np.arange(k), np.arange(k)] += diag
        step = np.linalg.solve(hess + gauge[None], grad[:, :, None])[:, :, 0]
        new_r = ra + step
        new_r -= new_r.mean(axis=1, keepdims=True)
        r[active] = new_r
        finite = np.all(np.isfinite(new_r), axis=1)
        done = finite & (np.max(np.abs(step), axis=1) < tol)
        converged[active[done]] = True
        active = active[finite & ~done]
    return r, converged


# --------------------------------------------------------------------------------------------
# Tie diagnostics (§4, never gated)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TieModelFit:
    """Davidson (ν) or Rao–Kupper (θ) fit: sum-to-zero log-strengths and the tie parameter."""

    model: Literal["davidson", "rao_kupper"]
    r: tuple[float, ...]
    tie_parameter: float | None
    converged: bool
    n_iter: int
    status: EvidenceStatus
    reason: str | None = None


def _tie_grad(
    kind: str, params: FloatArray, a: IntArray, b: IntArray, code: IntArray, w: FloatArray, m: int
) -> tuple[float, FloatArray]:
    """Log-likelihood and gradient in (r, τ) with τ = log ν (Davidson) or log log θ (RK)."""
    r = params[:m]
    tau = params[m]
    d = r[a] - r[b]
    win, tie, loss = code == 2, code == 1, code == 0
    if kind == "davidson":
        nu = math.exp(tau)
        u = np.exp(d / 2.0)
        v = np.exp(-d / 2.0)
        den = u + v + nu
        ll = np.where(win, d / 2.0, np.where(loss, -d / 2.0, tau)) - np.log(den)
        dd = np.where(win, 0.5, np.where(loss, -0.5, 0.0)) - (u - v) / (2.0 * den)
        dt = np.where(tie, 1.0, 0.0) - nu / den
    else:
        eta = math.exp(tau)
        pa = expit(d - eta)
        pb = expit(-d - eta)
        pt = np.maximum(1.0 - pa - pb, 1e-300)
        ll = np.where(win, np.log(pa), np.where(loss, np.log(pb), np.log(pt)))
        ga, gb = pa * (1.0 - pa), pb * (1.0 - pb)
        dd = np.where(win, 1.0 - pa, np.where(loss, -(1.0 - pb), (gb - ga) / pt))
        de = np.where(win, -(1.0 - pa), np.where(loss, -(1.0 - pb), (ga + gb) / pt))
        dt = de * eta
    wd = w * dd
    grad = np.concatenate(
        [
            np.bincount(a, weights=wd, minlength=m) - np.bincount(b, weights=wd, minlength=m),
            [float((w * dt).sum())],
        ]
    )
    return float((w * ll).sum()), grad


def fit_tie_model(
    a: ArrayLike,
    b: ArrayLike,
    y: ArrayLike,
    *,
    n_models: int,
    model: Literal["davidson", "rao_kupper"],
    max_iter: int = 200,
    tol: float = 1e-10,
) -> TieModelFit:
    """Davidson or Rao–Kupper maximum likelihood with a shared tie parameter (§4, O-B2).

    Davidson: P(a ≻ b) = e^(d/2)/(e^(d/2) + e^(−d/2) + ν), P(tie) = ν/(same). Rao–Kupper:
    P(a ≻ b) = σ(d − log θ), θ > 1. Newton with a finite-difference Hessian of the analytic
    gradient, sum-to-zero gauge and step halving. Without ties the tie parameter sits on its
    boundary → ``undefined``; the caller should also apply the connectivity checks of §4.
    """
    agg = aggregate_comparisons(a, b, y, n_models)
    m = n_models
    code = np.rint(agg.y * 2).astype(np.int64)
    if not np.any(code == 1):
        return TieModelFit(model, (), None, False, 0, "undefined", "no ties")
    if not np.any(code != 1):
        return TieModelFit(model, (), None, False, 0, "undefined", "only ties")
    params = np.zeros(m + 1)
    params[m] = math.log(0.5)  # ν = 0.5 (Davidson) or log θ = 0.5 (Rao–Kupper)
    gauge = np.zeros((m + 1, m + 1))
    gauge[:m, :m] = 1.0 / m
    ll, grad = _tie_grad(model, params, agg.a, agg.b, code, agg.w, m)
    for n_iter in range(1, max_iter + 1):
        h = 1e-6
        hess = np.empty((m + 1, m + 1))
        for j in range(m + 1):
            e = np.zeros(m + 1)
            e[j] = h
            _, gp = _tie_grad(model, params + e, agg.a, agg.b, code, agg.w, m)
            _, gm = _tie_grad(model, params - e, agg.a, agg.b, code, agg.w, m)
            hess[:, j] = (gp - gm) / (2.0 * h)
        info = -(hess + hess.T) / 2.0 + gauge
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return TieModelFit(model, (), None, False, n_iter, "undefined", "singular information")
        scale = 1.0
        while True:
            cand = params + scale * step
            cand[:m] -= cand[:m].mean()
            ll_new, grad_new = _tie_grad(model, cand, agg.a, agg.b, code, agg.w, m)
            if ll_new >= ll - 1e-12 or scale < 1e-8:
                break
            scale /= 2.0
        params, ll, grad = cand, ll_new, grad_new
        if np.max(np.abs(scale * step)) < tol:
            tie = math.exp(params[m]) if model == "davidson" else math.exp(math.exp(params[m]))
            return TieModelFit(model, tuple(float(v) for v in params[:m]), tie, True, n_iter, "ok")
    return TieModelFit(
        model,
        tuple(float(v) for v in params[:m]),
        None,
        False,
        max_iter,
        "undefined",
        f"no convergence in {max_iter} iterations",
    )
