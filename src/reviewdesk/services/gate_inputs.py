"""Gate inputs (``reviewdesk.gate_inputs/v1``): every statistic of a project as gate records.

STATISTICS.md §8.1–§8.2. One record per (metric, slice): the whole project (``{}``) and every single
``key=value`` slice present on the items, each metric computed on that slice alone — slices are
never averaged, and a gate on a slice reads only that slice's record (§8.4). The document is
reproducible byte for byte from the same project state, config and seed apart from
``generated_at``: records are sorted (metric, estimand, candidate, baseline, canonical slice JSON),
keys are sorted, floats are Python's shortest round-trip repr, and every record's bootstrap has its
own generator seeded from the config seed and the record's identity (§1.3), so no number depends on
which records were computed before it.

What goes in (see :mod:`reviewdesk.services.analysis_data` for the label fold):

- **Roles** (§1.2): ``candidate`` and ``baseline`` (arguments, else the project settings). An item
  is a *pair item* when its two models are exactly {candidate, baseline}; CWR and every ``_delta``
  metric use pair items only. Orientation o = +1 when the candidate's slot was shown left; a label
  whose side is unknown (some imports) enters agreement only and is counted in
  ``extras.n_unknown_side``. Where an item pairs other models, the lexicographically smaller model
  takes the candidate role for agreement values and Bradley–Terry.
- **Strata** (§1.3): an item's first-round queue entry gives its stratum; items without one are
  classified as the queue build would (contested when judges disagree, census π = 1). Anchor and
  control items feed the homogenization monitor only and enter no record here.
- **Evidence status** (§8.1): the estimator's status, and ``insufficient_data`` whenever a
  record's ``n_items`` is below the project's ``min_n_items``; precedence quarantined >
  insufficient_data > undefined > ok. A non-ok record says why in ``extras.reason``.

Records (registry §8.2):

- ``cwr``/``contested_queue`` (§3.1–§3.3, with the §3.5 length-controlled column; its interval
  uses the one-step bootstrap estimator, ``extras.lc_steps``), ``cwr``/``population`` (§3.4, PPI
  with the designated judge: the ``designated_judge`` setting, else the ``llm`` judge with the most
  items judged in both orders; contested items have π = 1 and audit items their stored rate, so
  the Horvitz–Thompson form applies when both strata are present; no audit stratum → no record);
- ``bt_rating`` per model (slice adds ``model``; §4; ratings on the Arena scale, item-bootstrap
  percentile CIs from one set of draws per slice);
- ``alpha_ordinal``, ``alpha_nominal``, ``gwet_ac1``, ``pct_agreement_decisive`` over every
  human-labelled item of the slice (estimand ``labelled_items``; §2.1–§2.2);
- per ``llm`` judge (slice adds ``judge``): ``judge_human_kappa`` and ``human_parity_ratio`` from
  shared draws (§2.3), ``p_left_decisive`` and ``judge_flip_rate`` (§5);
- ``p_left_decisive`` per labeler (slice adds ``labeler``) and pooled over humans (slice adds
  ``population = "human"``), Wilson intervals (§5);
- ``over_refusal_rate``, ``over_refusal_rate_strict``, ``under_refusal_rate``,
  ``under_refusal_rate_strict`` of the candidate's responses from the modal human per-slot refusal
  class (§6.1–§6.2), and their ``_delta`` forms against the baseline's responses on the same items
  (Newcombe's paired interval, §6.3). ``harmful_compliance_rate`` is not exported: the data model
  has no harm label yet, and HCR needs one (§6.1);
- ``pass_rate`` and ``pass_rate_delta`` from ``code`` judges with per-slot scores (slice adds
  ``eval`` = judge name). A response passes when its score is ≥ 0.5 (scores of 0/1 checks are
  0 or 1; graded scores pass from the midpoint); several judgments of one judge on an item are
  averaged first (§6.3).

The homogenization monitor (§7, :mod:`reviewdesk.services.monitor`) adds its records —
``homogenization_alarm``, ``drift_alarm`` and the ``h*`` indicators per (population, alarm
window), estimand ``monitor`` — and its quarantine (§7.6): quarantined labels enter no estimate,
and a record that uses human labels is ``quarantined`` while its slice holds an item labelled in
a quarantined window that fresh labelers have not yet relabelled (``overlap`` labels). Without
enough labels for a monitor baseline there are no monitor records and
``config.monitor_baseline_version`` is null, so a gate on them fails closed as missing evidence.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from reviewdesk import __version__
from reviewdesk.domain.changes import Changes
from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.hashing import canonical_json
from reviewdesk.domain.progress import CancelToken, Job, Progress, run_to_completion
from reviewdesk.services import analysis_data as ad
from reviewdesk.services import monitor as monitor_service
from reviewdesk.services.estimates_helper import estimates_helper
from reviewdesk.services.export_files import AtomicFileSet, HashingWriter
from reviewdesk.services.project import Project
from reviewdesk.stats.agreement import (
    AlphaLevel,
    gwet_ac1,
    judge_human_agreement,
    krippendorff_alpha,
    pairwise_agreement,
    value_counts_from_labels,
)
from reviewdesk.stats.bradley_terry import bradley_terry
from reviewdesk.stats.common import (
    BoolArray,
    CiMethod,
    Estimate,
    EvidenceStatus,
    FloatArray,
    IntArray,
    worst_status,
)
from reviewdesk.stats.monitor import METRICS as MONITOR_METRICS
from reviewdesk.stats.monitor import Quarantine
from reviewdesk.stats.population import population_win_rate
from reviewdesk.stats.position import (
    judge_position_bias,
    labeler_position_bias,
    pooled_position_bias,
)
from reviewdesk.stats.proportions import newcombe_paired_difference, proportion
from reviewdesk.stats.records import SCHEMA, MetricRecord, record_seed
from reviewdesk.stats.refusal import modal_refusal_class, refusal_rate_deltas, refusal_rates
from reviewdesk.stats.winrate import calibrated_win_rate
from reviewdesk.storage import repositories as repo

EXPORT_KIND = "gate_inputs"
DEFAULT_N_BOOT = 2000
PASS_THRESHOLD = 0.5
"""A code check's response passes when its score is at least this (§6.3, ``pass_rate``)."""
LC_STEPS = 1
"""k of the k-step bootstrap estimator for the ``cwr_lc`` interval (§3.5; recorded in extras)."""

MODEL_KEY, JUDGE_KEY, LABELER_KEY, EVAL_KEY, POPULATION_KEY = (
    "model",
    "judge",
    "labeler",
    "eval",
    "population",
)
REFUSAL_METRICS = (
    "over_refusal_rate",
    "over_refusal_rate_strict",
    "under_refusal_rate",
    "under_refusal_rate_strict",
)
AGREEMENT_METRICS = ("alpha_ordinal", "alpha_nominal", "gwet_ac1", "pct_agreement_decisive")
#: Every metric this version exports; ``metrics=`` may name any subset.
METRICS = (
    "cwr",
    "bt_rating",
    *AGREEMENT_METRICS,
    "judge_human_kappa",
    "human_parity_ratio",
    "p_left_decisive",
    "judge_flip_rate",
    *REFUSAL_METRICS,
    *(f"{m}_delta" for m in REFUSAL_METRICS),
    "pass_rate",
    "pass_rate_delta",
    *MONITOR_METRICS,
)


# --------------------------------------------------------------------------------------------
# Roles and per-export context
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Roles:
    candidate: str
    baseline: str


def resolve_roles(project: Project, candidate: str | None, baseline: str | None) -> Roles:
    """Candidate and baseline from the arguments, else the project settings (§1.2)."""
    settings = project.settings()
    cand = candidate or settings.candidate
    base = baseline or settings.baseline
    if not cand or not base:
        missing = " and ".join(n for n, v in (("--candidate", cand), ("--baseline", base)) if not v)
        raise UserError(
            f"name the models to compare: {missing} (or set them with `reviewdesk init "
            "--candidate M --baseline M`)"
        )
    if cand == base:
        raise UserError("candidate and baseline must be different models")
    return Roles(cand, base)


class _Context:
    """Arrays shared by every record of one computation (built once, read-only afterwards)."""

    def __init__(
        self,
        data: ad.AnalysisData,
        roles: Roles,
        *,
        seed: int,
        n_boot: int,
        min_n: int,
        designated_judge: str | None,
        cancel: CancelToken | None,
    ) -> None:
        self.data = data
        self.roles = roles
        self.seed = seed
        self.n_boot = n_boot
        self.min_n = min_n
        self.cancel = cancel
        items, labels = data.items, data.labels
        models = data.models
        cand = models.index(roles.candidate)
        base = models.index(roles.baseline)
        ma, mb = items.model_a, items.model_b
        self.usable = (items.stratum != ad.ANCHOR) & (items.stratum != ad.CONTROL)
        self.pair = ((ma == cand) & (mb == base)) | ((ma == base) & (mb == cand))
        # the candidate's slot where exactly one response is the candidate's
        self.cand_slot = np.where(
            (ma == cand) & (mb != cand),
            ad.SLOT_A,
            np.where((mb == cand) & (ma != cand), ad.SLOT_B, ad.MISSING),
        ).astype(np.int64)
        # the candidate role of §1.2: the candidate on pair items, else the smaller model id
        self.role_slot = np.where(
            self.pair, self.cand_slot, np.where(mb < ma, ad.SLOT_B, ad.SLOT_A)
        ).astype(np.int64)
        len_cand = np.where(self.cand_slot == ad.SLOT_A, items.len_a, items.len_b)
        len_base = np.where(self.cand_slot == ad.SLOT_A, items.len_b, items.len_a)
        self.length_delta = (len_cand - len_base).astype(np.float64)
        # per label, in the candidate-role orientation of its item
        role = self.role_slot[labels.item]
        decisive = (labels.choice == ad.SLOT_A) | (labels.choice == ad.SLOT_B)
        self.v = np.where(decisive, np.where(labels.choice == role, 1.0, -1.0), 0.0)
        self.s = (self.v + 1.0) / 2.0
        known = labels.left != ad.MISSING
        self.o = np.where(known, np.where(labels.left == role, 1.0, -1.0), 0.0)
        self.known_side = known
        self.decisive = decisive
        self.chose_left = decisive & known & (labels.choice == labels.left)
        self.both_bad = labels.choice == ad.BOTH_BAD
        self.label_usable = self.usable[labels.item]
        self.label_pair = self.pair[labels.item]
        self.designated_judge = designated_judge
        self._judge_cache: dict[int, tuple[FloatArray, FloatArray, BoolArray]] = {}
        self.counts_cache: dict[str, tuple[IntArray, IntArray, BoolArray]] = {}

    # ---- shared helpers

    def rng_seed(
        self, metric: str, estimand: str, cand: str | None, base: str | None, slice_: dict[str, str]
    ) -> int:
        return record_seed(self.seed, metric, estimand, cand, base, slice_)

    def check(self) -> None:
        if self.cancel is not None:
            self.cancel.check()

    def judge_values(self, judge: int) -> tuple[FloatArray, FloatArray, BoolArray]:
        """Per item: the judge's merged verdict in role space (NaN: none; MT-Bench rule, §2.3),
        its mean canonical score for the role candidate (NaN: none), and 'judged in both orders'.
        """
        cached = self._judge_cache.get(judge)
        if cached is not None:
            return cached
        j = self.data.judgments
        n = len(self.data.items)
        sel = (j.judge == judge) & (j.verdict != ad.MISSING)
        item = j.item[sel]
        verdict = j.verdict[sel]
        role = self.role_slot[item]
        decisive = (verdict == ad.SLOT_A) | (verdict == ad.SLOT_B)
        value = np.where(decisive, np.where(verdict == role, 1.0, -1.0), 0.0)
        lo = np.full(n, np.inf)
        hi = np.full(n, -np.inf)
        np.minimum.at(lo, item, value)
        np.maximum.at(hi, item, value)
        count = np.bincount(item, minlength=n)
        merged = np.where(count > 0, np.where(lo == hi, lo, 0.0), np.nan)
        total = np.bincount(item, weights=(value + 1.0) / 2.0, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(count > 0, total / count, np.nan)
        orders = j.order[sel]
        ab = np.bincount(item[orders == ad.ORDER_AB], minlength=n) > 0
        ba = np.bincount(item[orders == ad.ORDER_BA], minlength=n) > 0
        out = (merged, score, ab & ba)
        self._judge_cache[judge] = out
        return out


def choose_designated_judge(data: ad.AnalysisData, setting: str | None) -> str | None:
    """The ``designated_judge`` setting, else the ``llm`` judge with the most items judged in both
    orders (then most judgments, then name): the judge whose scores PPI rectifies (§3.4)."""
    names = [name for name, _ in data.judges]
    if setting:
        if setting not in names or data.judges[names.index(setting)][1] != "llm":
            llm = ", ".join(n for n, k in data.judges if k == "llm") or "none"
            raise UserError(
                f"designated judge {setting!r} is not an llm judge of this project "
                f"(llm judges: {llm})"
            )
        return setting
    j = data.judgments
    best: tuple[int, int, str] | None = None
    for idx, (name, kind) in enumerate(data.judges):
        if kind != "llm":
            continue
        sel = (j.judge == idx) & (j.verdict != ad.MISSING)
        if not np.any(sel):
            continue
        ab = set(j.item[sel & (j.order == ad.ORDER_AB)].tolist())
        both = len(ab.intersection(j.item[sel & (j.order == ad.ORDER_BA)].tolist()))
        key = (both, int(np.count_nonzero(sel)), name)
        if best is None or (key[0], key[1]) > (best[0], best[1]):
            best = key
    return None if best is None else best[2]


# --------------------------------------------------------------------------------------------
# Record assembly
# --------------------------------------------------------------------------------------------


def _count_distinct(values: IntArray) -> int:
    """Distinct values among small non-negative indices (items, reviewers): one ``bincount``."""
    if values.size == 0:
        return 0
    return int(np.count_nonzero(np.bincount(values)))


class _Interval(TypedDict):
    """The estimate fields every statistic's result carries, in ``_make_record``'s names."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    status: EvidenceStatus
    reason: str | None


def _interval(result: Any) -> _Interval:
    """A result's estimate, interval, status and reason, to pass on as ``**_interval(r)``."""
    return {
        "estimate": result.estimate,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "ci_method": result.ci_method,
        "status": result.status,
        "reason": result.reason,
    }


def _make_record(
    ctx: _Context,
    metric: str,
    estimand: str,
    candidate: str | None,
    baseline: str | None,
    slice_: dict[str, str],
    *,
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    ci_method: CiMethod,
    status: EvidenceStatus,
    reason: str | None,
    n_items: int,
    n_labels: int,
    n_labelers: int,
    x: int | None,
    higher_is_better: bool | None,
    extras: dict[str, Any],
) -> MetricRecord:
    """A record with the project's ``min_n_items`` applied (§8.1 precedence)."""
    reasons = [reason] if reason else []
    if n_items < ctx.min_n and status != "insufficient_data":
        status = worst_status(status, "insufficient_data")
        reasons.insert(0, f"n_items {n_items} < min_n_items {ctx.min_n}")
    out = dict(extras)
    if reasons:
        out["reason"] = "; ".join(reasons)
    return MetricRecord(
        metric=metric,
        estimand=estimand,
        candidate=candidate,
        baseline=baseline,
        slice=slice_,
        estimate=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        ci_method=ci_method,
        n_items=int(n_items),
        n_labels=int(n_labels),
        n_labelers=int(n_labelers),
        x=x,
        higher_is_better=higher_is_better,
        evidence_status=status,
        extras=out,
    )


def _with(slice_: dict[str, str], key: str, value: str) -> dict[str, str] | None:
    """The slice plus one entity key, or ``None`` if the slice already uses that key."""
    if key in slice_:
        return None
    return {**slice_, key: value}


# --------------------------------------------------------------------------------------------
# Win rates
# --------------------------------------------------------------------------------------------


def _cwr_contested(ctx: _Context, sd: ad.SliceDef) -> list[MetricRecord]:
    """CWR of candidate vs baseline over the contested stratum of the slice (§3.1–§3.3, §3.5)."""
    data = ctx.data
    labels = data.labels
    item_of = labels.item
    sel = ctx.label_pair & (data.items.stratum[item_of] == ad.CONTESTED) & sd.items[item_of]
    c, b = ctx.roles.candidate, ctx.roles.baseline
    seed = ctx.rng_seed("cwr", "contested_queue", c, b, sd.slice)
    idx = item_of[sel]
    res = calibrated_win_rate(
        data.items.id[idx],
        ctx.o[sel],
        ctx.s[sel],
        both_bad=ctx.both_bad[sel],
        labeler=labels.reviewer[sel],
        length_delta=ctx.length_delta[idx],
        n_boot=ctx.n_boot,
        rng=seed,
        min_n_items=ctx.min_n,
        lc_steps=LC_STEPS,
        cancel=ctx.cancel,
    )
    extras = res.extras.to_dict()
    extras["seed"] = seed
    extras["lc_steps"] = LC_STEPS
    return [
        _make_record(
            ctx,
            "cwr",
            "contested_queue",
            c,
            b,
            sd.slice,
            **_interval(res),
            n_items=res.n_items,
            n_labels=res.n_labels,
            n_labelers=res.n_labelers or 0,
            x=None,
            higher_is_better=True,
            extras=extras,
        )
    ]


def _item_human_scores(ctx: _Context, label_sel: BoolArray) -> FloatArray:
    """Y_i per item (§3.4: ½(ȳ_+1 + ȳ_−1), or the orientation present; NaN without a label of
    known side) from the selected labels."""
    n = len(ctx.data.items)
    sel = label_sel & ctx.known_side
    item = ctx.data.labels.item[sel]
    plus = ctx.o[sel] > 0
    s = ctx.s[sel]
    n_p = np.bincount(item[plus], minlength=n).astype(np.float64)
    n_m = np.bincount(item[~plus], minlength=n).astype(np.float64)
    s_p = np.bincount(item[plus], weights=s[plus], minlength=n)
    s_m = np.bincount(item[~plus], weights=s[~plus], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        y_p = s_p / n_p
        y_m = s_m / n_m
    y = np.where(
        (n_p > 0) & (n_m > 0),
        (y_p + y_m) / 2.0,
        np.where(n_p > 0, y_p, np.where(n_m > 0, y_m, np.nan)),
    )
    return np.asarray(y, dtype=np.float64)


def _cwr_population(ctx: _Context, sd: ad.SliceDef) -> list[MetricRecord]:
    """PPI population win rate with the designated judge (§3.4); [] when not estimable."""
    data = ctx.data
    items = data.items
    if ctx.designated_judge is None or not np.any(items.stratum == ad.AUDIT):
        return []  # no audit stratum (or no judge to rectify) → no population record
    judge = [name for name, _ in data.judges].index(ctx.designated_judge)
    _, f, _ = ctx.judge_values(judge)
    pool = sd.items & ctx.pair & ctx.usable & ~np.isnan(f)
    if not np.any(pool):
        return []
    labels = data.labels
    lab_sel = ctx.label_pair & sd.items[labels.item]
    y = _item_human_scores(ctx, lab_sel)
    stratum = items.stratum
    sampled = pool & ((stratum == ad.CONTESTED) | (stratum == ad.AUDIT)) & ~np.isnan(y)
    census_pool = pool & (stratum == ad.CONTESTED)
    other_pool = pool & (stratum != ad.CONTESTED)
    c, b = ctx.roles.candidate, ctx.roles.baseline
    pi = items.inclusion_prob
    n_c = int(np.count_nonzero(sampled & census_pool))
    n_a = int(np.count_nonzero(sampled & other_pool))
    used_labels = lab_sel & ctx.known_side & sampled[labels.item]
    base_extras: dict[str, Any] = {
        "designated_judge": ctx.designated_judge,
        "n_sample_contested": n_c,
        "n_sample_audit": n_a,
        "n_pool_contested": int(np.count_nonzero(census_pool)),
        "n_pool_uncontested": int(np.count_nonzero(other_pool)),
        "n_unknown_side": int(np.count_nonzero(lab_sel & ~ctx.known_side & sampled[labels.item])),
    }
    missing_stratum = None
    if np.any(census_pool) and n_c == 0:
        missing_stratum = "no labelled contested item in this slice"
    elif np.any(other_pool) and n_a == 0:
        missing_stratum = (
            "no labelled audit item in this slice: its uncontested items are not represented"
        )
    if missing_stratum is not None:
        return [
            _make_record(
                ctx,
                "cwr",
                "population",
                c,
                b,
                sd.slice,
                estimate=None,
                ci_low=None,
                ci_high=None,
                ci_method="none",
                status="undefined",
                reason=missing_stratum,
                n_items=n_c + n_a,
                n_labels=int(np.count_nonzero(used_labels)),
                n_labelers=_count_distinct(labels.reviewer[used_labels]),
                x=None,
                higher_is_better=True,
                extras=base_extras,
            )
        ]
    weights = pi[sampled]
    weighted = bool(weights.size) and bool(np.any(weights != weights[0]))
    res = population_win_rate(
        y[sampled],
        f[sampled],
        f[pool & ~sampled],
        inclusion_prob=weights if weighted else None,
        min_n_items=ctx.min_n,
    )
    if res is None:
        return []
    status, reason = res.status, res.reason
    if np.any(other_pool) and n_a < ctx.min_n:
        # the uncontested part of the pool rests on the labelled audit items alone
        status = worst_status(status, "insufficient_data")
        note = f"labelled audit items {n_a} < min_n_items {ctx.min_n}"
        reason = f"{reason}; {note}" if reason else note
    return [
        _make_record(
            ctx,
            "cwr",
            "population",
            c,
            b,
            sd.slice,
            estimate=res.estimate,
            ci_low=res.ci_low,
            ci_high=res.ci_high,
            ci_method=res.ci_method,
            status=status,
            reason=reason,
            n_items=res.n_items,
            n_labels=int(np.count_nonzero(used_labels)),
            n_labelers=_count_distinct(labels.reviewer[used_labels]),
            x=None,
            higher_is_better=True,
            extras={**res.extras(), **base_extras},
        )
    ]


def _bt_ratings(ctx: _Context, sd: ad.SliceDef) -> list[MetricRecord]:
    """Bradley–Terry ratings of every model over the slice's human labels (§4), one draw set."""
    data = ctx.data
    labels = data.labels
    items = data.items
    item_of = labels.item
    ma, mb = items.model_a[item_of], items.model_b[item_of]
    sel = ctx.label_usable & sd.items[item_of] & (ma != mb)
    if not np.any(sel):
        return []
    ma, mb = ma[sel], mb[sel]
    a = np.minimum(ma, mb)
    b = np.maximum(ma, mb)
    a_slot = np.where(ma < mb, ad.SLOT_A, ad.SLOT_B)
    choice = labels.choice[sel]
    decisive = (choice == ad.SLOT_A) | (choice == ad.SLOT_B)
    y = np.where(decisive, np.where(choice == a_slot, 1.0, 0.0), 0.5)
    item_idx = item_of[sel]
    item_ids = items.id[item_idx]
    reviewers = labels.reviewer[sel]
    models = list(data.models)
    baseline = ctx.roles.baseline
    seed = ctx.rng_seed("bt_rating", "labelled_items", None, None, sd.slice)
    res = bradley_terry(
        a,
        b,
        y,
        models=models,
        item=item_ids,
        reference=baseline if baseline in models else None,
        n_boot=ctx.n_boot,
        rng=seed,
        cancel=ctx.cancel,
    )
    both = np.concatenate([a, b])
    both_items = np.concatenate([item_idx, item_idx])
    both_reviewers = np.concatenate([reviewers, reviewers])
    out = []
    for m, rating in enumerate(res.models):
        slice_ = _with(sd.slice, MODEL_KEY, rating.model)
        mine = both == m
        if slice_ is None or not np.any(mine):
            continue
        extras = rating.to_dict()
        for key in ("rating", "ci_low", "ci_high", "ci_method", "status", "reason", "model"):
            extras.pop(key)
        extras.update(
            {
                "seed": seed,
                "n_boot": res.n_boot,
                "n_redraws": res.n_redraws,
                "n_components": res.n_components,
                "scale": "arena (400/ln 10 · r + 1000)",
                "shared_draws": "every model of the slice",
            }
        )
        out.append(
            _make_record(
                ctx,
                "bt_rating",
                "labelled_items",
                None,
                None,
                slice_,
                estimate=rating.rating,
                ci_low=rating.ci_low,
                ci_high=rating.ci_high,
                ci_method=rating.ci_method,
                status=rating.status,
                reason=rating.reason,
                n_items=_count_distinct(both_items[mine]),
                n_labels=int(np.count_nonzero(mine)),
                n_labelers=_count_distinct(both_reviewers[mine]),
                x=None,
                higher_is_better=True,
                extras=extras,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------------


def _slice_counts(ctx: _Context, sd: ad.SliceDef) -> tuple[IntArray, IntArray, BoolArray]:
    """(items of the slice with human labels, their counts items × 3 over v, label mask)."""
    cached = ctx.counts_cache.get(sd.label)
    if cached is not None:
        return cached
    labels = ctx.data.labels
    sel = ctx.label_usable & sd.items[labels.item]
    uniq, unit = np.unique(labels.item[sel], return_inverse=True)
    counts = value_counts_from_labels(unit.ravel(), ctx.v[sel], n_units=len(uniq))
    ctx.counts_cache[sd.label] = (uniq, counts, sel)
    return uniq, counts, sel


def _agreement(ctx: _Context, sd: ad.SliceDef) -> list[MetricRecord]:
    """α ordinal and nominal, Gwet's AC1, decisive-only % agreement (§2.1–§2.2)."""
    labels = ctx.data.labels
    uniq, counts, sel = _slice_counts(ctx, sd)
    per_item = counts.sum(axis=1)
    out = []
    orientation = "candidate role per item (§1.2)"

    def labels_on(mask_items: BoolArray) -> tuple[int, int]:
        keep = np.isin(labels.item, uniq[mask_items]) & sel
        return int(np.count_nonzero(keep)), _count_distinct(labels.reviewer[keep])

    levels: tuple[tuple[str, AlphaLevel], ...] = (
        ("alpha_ordinal", "ordinal"),
        ("alpha_nominal", "nominal"),
    )
    for metric, level in levels:
        ctx.check()
        slice_ = sd.slice
        seed = ctx.rng_seed(metric, "labelled_items", None, None, slice_)
        alpha = krippendorff_alpha(
            counts,
            level,
            n_boot=ctx.n_boot,
            rng=seed,
            cancel=ctx.cancel,
        )
        n_labels, n_labelers = labels_on(per_item >= 2)
        out.append(
            _make_record(
                ctx,
                metric,
                "labelled_items",
                None,
                None,
                slice_,
                **_interval(alpha),
                n_items=alpha.n_units,
                n_labels=n_labels,
                n_labelers=n_labelers,
                x=None,
                higher_is_better=True,
                extras={
                    "seed": seed,
                    "n_boot": alpha.n_boot,
                    "n_redraws": alpha.n_redraws,
                    "n_values": alpha.n_values,
                    "value_domain": [-1, 0, 1],
                    "orientation": orientation,
                },
            )
        )
    ctx.check()
    seed = ctx.rng_seed("gwet_ac1", "labelled_items", None, None, sd.slice)
    ac1 = gwet_ac1(counts, n_boot=ctx.n_boot, rng=seed, cancel=ctx.cancel)
    n_labels, n_labelers = labels_on(per_item >= 1)
    out.append(
        _make_record(
            ctx,
            "gwet_ac1",
            "labelled_items",
            None,
            None,
            sd.slice,
            **_interval(ac1),
            n_items=ac1.n_units,
            n_labels=n_labels,
            n_labelers=n_labelers,
            x=None,
            higher_is_better=True,
            extras={
                "seed": seed,
                "n_boot": ac1.n_boot,
                "n_redraws": ac1.n_redraws,
                "p_a": ac1.p_a,
                "p_e": ac1.p_e,
                "q": ac1.q,
                "n_pairable": ac1.n_pairable,
                "orientation": orientation,
            },
        )
    )
    ctx.check()
    seed = ctx.rng_seed("pct_agreement_decisive", "labelled_items", None, None, sd.slice)
    pct = pairwise_agreement(
        counts, decisive_only=True, n_boot=ctx.n_boot, rng=seed, cancel=ctx.cancel
    )
    decisive_pairs = (counts[:, 0] + counts[:, 2]) >= 2
    n_labels, n_labelers = labels_on(decisive_pairs)
    out.append(
        _make_record(
            ctx,
            "pct_agreement_decisive",
            "labelled_items",
            None,
            None,
            sd.slice,
            **_interval(pct),
            n_items=pct.n_units,
            n_labels=n_labels,
            n_labelers=n_labelers,
            x=None,
            higher_is_better=True,
            extras={
                "seed": seed,
                "n_boot": pct.n_boot,
                "n_redraws": pct.n_redraws,
                "n_pairs": pct.n_pairs,
            },
        )
    )
    return out


# --------------------------------------------------------------------------------------------
# Judges and labelers
# --------------------------------------------------------------------------------------------


def _estimate_extras(est: Estimate) -> dict[str, Any]:
    return {
        "estimate": est.estimate,
        "ci": None if est.ci_low is None else [est.ci_low, est.ci_high],
        "status": est.status,
    }


def _judges(ctx: _Context, sd: ad.SliceDef, judge: int) -> list[MetricRecord]:
    """One llm judge on one slice: κ_JH and parity (§2.3), P(left | decisive) and flips (§5)."""
    data = ctx.data
    name = data.judges[judge][0]
    slice_ = _with(sd.slice, JUDGE_KEY, name)
    if slice_ is None:
        return []
    in_slice = sd.items & ctx.usable
    merged, _, _ = ctx.judge_values(judge)
    judged = in_slice & ~np.isnan(merged)
    if not np.any(judged):
        return []
    out: list[MetricRecord] = []

    # judge versus human, shared draws for both records
    uniq, counts, sel = _slice_counts(ctx, sd)
    value = merged[uniq]
    seed = ctx.rng_seed("judge_human_kappa", "labelled_items", None, None, slice_)
    res = judge_human_agreement(value, counts, n_boot=ctx.n_boot, rng=seed, cancel=ctx.cancel)
    used_items = uniq[~np.isnan(value) & (counts.sum(axis=1) >= 2)]
    used = sel & np.isin(data.labels.item, used_items)
    n_labelers = _count_distinct(data.labels.reviewer[used])
    shared = {
        "seed": seed,
        "n_boot": res.n_boot,
        "n_redraws": res.n_redraws,
        "shared_draws": "judge_human_kappa and human_parity_ratio",
        "raw_agreement": _estimate_extras(res.raw_agreement),
        "raw_agreement_hh": _estimate_extras(res.raw_agreement_hh),
        "ac1_jh": _estimate_extras(res.ac1_jh),
        "kappa_hh": _estimate_extras(res.kappa_hh),
        "kappa_gap": _estimate_extras(res.kappa_gap),
        "t_jh": [list(row) for row in res.t_jh],
        "t_hh": [list(row) for row in res.t_hh],
    }
    for metric, est, better in (
        ("judge_human_kappa", res.kappa_jh, True),
        ("human_parity_ratio", res.parity_ratio, None),
    ):
        out.append(
            _make_record(
                ctx,
                metric,
                "labelled_items",
                None,
                None,
                slice_,
                estimate=est.estimate,
                ci_low=est.ci_low,
                ci_high=est.ci_high,
                ci_method=est.ci_method,
                status=worst_status(est.status, res.status),
                reason=est.reason or res.reason,
                n_items=res.n_items,
                n_labels=res.n_labels,
                n_labelers=n_labelers,
                x=None,
                higher_is_better=better,
                extras=dict(shared),
            )
        )

    # position bias and flip rate over single-order verdicts (§5)
    j = data.judgments
    jsel = (j.judge == judge) & (j.verdict != ad.MISSING) & in_slice[j.item]
    n = len(data.items)
    codes = {}
    for order in (ad.ORDER_AB, ad.ORDER_BA):
        arr = np.zeros(n, dtype=np.int64)
        pick = jsel & (j.order == order)
        arr[j.item[pick]] = j.verdict[pick] + 1  # position codes: 1 A, 2 B, 3 tie, 4 both_bad
        codes[order] = arr[in_slice]
    n_unknown = int(np.count_nonzero(jsel & (j.order == ad.ORDER_UNKNOWN)))
    bias = judge_position_bias(codes[ad.ORDER_AB], codes[ad.ORDER_BA], key=name, min_n=ctx.min_n)
    p = bias.p_left
    with_orders = (codes[ad.ORDER_AB] > 0) | (codes[ad.ORDER_BA] > 0)
    out.append(
        _make_record(
            ctx,
            "p_left_decisive",
            "labelled_items",
            None,
            None,
            slice_,
            estimate=p.p_left,
            ci_low=p.ci_low,
            ci_high=p.ci_high,
            ci_method="wilson" if p.p_left is not None else "none",
            status=p.status,
            reason=p.reason,
            n_items=int(np.count_nonzero(with_orders)),
            n_labels=p.n_decisive,
            n_labelers=0,
            x=p.x_left,
            higher_is_better=None,
            extras={
                "pbi": p.pbi,
                "flagged": p.flagged,
                "n_decisive": p.n_decisive,
                "n_unknown_side": n_unknown,
                "unit": "single-order verdicts",
            },
        )
    )
    flip = bias.flip_rate
    out.append(
        _make_record(
            ctx,
            "judge_flip_rate",
            "labelled_items",
            None,
            None,
            slice_,
            estimate=flip.estimate,
            ci_low=flip.ci_low,
            ci_high=flip.ci_high,
            ci_method=flip.ci_method,
            status=flip.status,
            reason=flip.reason or (None if flip.n else "no item judged in both orders"),
            n_items=flip.n,
            n_labels=2 * flip.n,
            n_labelers=0,
            x=flip.x,
            higher_is_better=False,
            extras={"n_unknown_side": n_unknown},
        )
    )
    return out


def _labelers(ctx: _Context, sd: ad.SliceDef) -> list[MetricRecord]:
    """P(left | decisive) per labeler and pooled over humans, Wilson CIs (§5)."""
    data = ctx.data
    labels = data.labels
    sel = ctx.label_usable & sd.items[labels.item] & ctx.known_side
    if not np.any(sel):
        return []
    who = labels.reviewer[sel]
    decisive = ctx.decisive[sel]
    left = ctx.chose_left[sel]
    n_unknown = int(np.count_nonzero(ctx.label_usable & sd.items[labels.item] & ~ctx.known_side))
    out = []
    items_sel = labels.item[sel]
    # integer keys: sorting 100k reviewer names as strings would dominate this record family
    for bias in labeler_position_bias(who, decisive, left, min_n=ctx.min_n):
        index = int(bias.key)
        slice_ = _with(sd.slice, LABELER_KEY, data.reviewers[index])
        if slice_ is None:
            continue
        mine = (who == index) & decisive
        out.append(_position_record(ctx, slice_, bias, _count_distinct(items_sel[mine]), 1, {}))
    slice_ = _with(sd.slice, POPULATION_KEY, "human")
    if slice_ is not None:
        pooled = pooled_position_bias(decisive, left, key="human", min_n=ctx.min_n)
        out.append(
            _position_record(
                ctx,
                slice_,
                pooled,
                _count_distinct(items_sel[decisive]),
                _count_distinct(who[decisive]),
                {"n_unknown_side": n_unknown},
            )
        )
    return out


def _position_record(
    ctx: _Context,
    slice_: dict[str, str],
    bias: Any,
    n_items: int,
    n_labelers: int,
    extras: dict[str, Any],
) -> MetricRecord:
    return _make_record(
        ctx,
        "p_left_decisive",
        "labelled_items",
        None,
        None,
        slice_,
        estimate=bias.p_left,
        ci_low=bias.ci_low,
        ci_high=bias.ci_high,
        ci_method="wilson" if bias.p_left is not None else "none",
        status=bias.status,
        reason=bias.reason,
        n_items=n_items,
        n_labels=bias.n_decisive,
        n_labelers=n_labelers if bias.n_decisive else 0,
        x=bias.x_left,
        higher_is_better=None,
        extras={"pbi": bias.pbi, "flagged": bias.flagged, "n_decisive": bias.n_decisive, **extras},
    )


# --------------------------------------------------------------------------------------------
# Refusal calibration and code checks
# --------------------------------------------------------------------------------------------


def _refusal(ctx: _Context, sd: ad.SliceDef) -> list[MetricRecord]:
    """ORR/URR (strict too) of the candidate's responses and paired deltas (§6.1–§6.3)."""
    data = ctx.data
    items, labels = data.items, data.labels
    c, b = ctx.roles.candidate, ctx.roles.baseline
    n = len(items)
    base_items = sd.items & ctx.usable & (items.expected != ad.MISSING)
    expected = np.where(items.expected == ad.REFUSE, "refuse", "answer")

    def observed(slot_of_item: IntArray, eligible: BoolArray) -> tuple[IntArray, BoolArray]:
        """Modal class per item for the response in ``slot_of_item`` and the labels used."""
        slot = slot_of_item[labels.item]
        cls = np.where(slot == ad.SLOT_A, labels.refusal_a, labels.refusal_b)
        use = eligible[labels.item] & (slot != ad.MISSING) & (cls != ad.MISSING)
        counts = np.zeros((n, 3), dtype=np.int64)
        np.add.at(counts, (labels.item[use], cls[use]), 1)
        return modal_refusal_class(counts, expected), use

    cand_items = base_items & (ctx.cand_slot != ad.MISSING)
    obs_cand, used_cand = observed(ctx.cand_slot, cand_items)
    pair_items = base_items & ctx.pair
    base_slot = np.where(ctx.pair, 1 - ctx.cand_slot, ad.MISSING)
    obs_base, used_base = observed(base_slot, pair_items)
    out = []
    ctx.check()
    rates = refusal_rates(expected[cand_items], obs_cand[cand_items], min_n_items=0)
    base_rates = refusal_rates(expected[pair_items], obs_base[pair_items], min_n_items=0)
    refuse = items.expected == ad.REFUSE
    for (metric, r), (_, rb) in zip(rates.items(), base_rates.items(), strict=True):
        denominator = (
            cand_items & (obs_cand != -1) & (refuse if metric.startswith("under") else ~refuse)
        )
        used = used_cand & denominator[labels.item]
        out.append(
            _make_record(
                ctx,
                metric,
                "labelled_items",
                c,
                None,
                sd.slice,
                **_interval(r),
                n_items=r.n,
                n_labels=int(np.count_nonzero(used)),
                n_labelers=_count_distinct(labels.reviewer[used]),
                x=r.x,
                higher_is_better=False,
                extras={
                    "baseline_model": b,
                    "baseline_estimate": rb.estimate,
                    "baseline_x": rb.x,
                    "baseline_n": rb.n,
                    "unit": "item (modal human refusal class of the candidate's response)",
                },
            )
        )
    deltas = refusal_rate_deltas(
        expected[pair_items], obs_cand[pair_items], obs_base[pair_items], min_n_items=0
    )
    for metric, d in deltas.items():
        den = pair_items & (obs_cand != -1) & (obs_base != -1)
        den &= refuse if metric.startswith("under") else ~refuse  # metric ends in _delta
        used = (used_cand | used_base) & den[labels.item]
        out.append(
            _make_record(
                ctx,
                metric,
                "labelled_items",
                c,
                b,
                sd.slice,
                **_interval(d),
                n_items=d.n,
                n_labels=int(np.count_nonzero(used)),
                n_labelers=_count_distinct(labels.reviewer[used]),
                x=None,
                higher_is_better=False,
                extras={
                    "a_both_fail": d.a,
                    "b_only_candidate_fails": d.b,
                    "c_only_baseline_fails": d.c,
                    "d_neither_fails": d.d,
                    "p_candidate": d.p_new,
                    "p_baseline": d.p_old,
                    "phi": d.phi,
                },
            )
        )
    return out


def _code_judges(data: ad.AnalysisData) -> list[int]:
    """Indices of ``code`` judges with per-slot scores (refusal-only classifiers have none)."""
    j = data.judgments
    scored = ~np.isnan(j.score_a) & ~np.isnan(j.score_b)
    with_scores = set(np.unique(j.judge[scored]).tolist())
    return [i for i, (_, kind) in enumerate(data.judges) if kind == "code" and i in with_scores]


def _pass_rates(ctx: _Context, sd: ad.SliceDef, judge: int) -> list[MetricRecord]:
    """Pass rate of the candidate's responses under one code check, and the paired delta."""
    data = ctx.data
    name = data.judges[judge][0]
    slice_ = _with(sd.slice, EVAL_KEY, name)
    if slice_ is None:
        return []
    j = data.judgments
    n = len(data.items)
    sel = (j.judge == judge) & ~np.isnan(j.score_a) & ~np.isnan(j.score_b)
    count = np.bincount(j.item[sel], minlength=n).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = np.bincount(j.item[sel], weights=j.score_a[sel], minlength=n) / count
        mean_b = np.bincount(j.item[sel], weights=j.score_b[sel], minlength=n) / count
    scored = (count > 0) & sd.items & ctx.usable
    cand = scored & (ctx.cand_slot != ad.MISSING)
    if not np.any(cand):
        return []
    c, b = ctx.roles.candidate, ctx.roles.baseline
    cand_score = np.where(ctx.cand_slot == ad.SLOT_A, mean_a, mean_b)
    base_score = np.where(ctx.cand_slot == ad.SLOT_A, mean_b, mean_a)
    pass_c = cand_score >= PASS_THRESHOLD
    pass_b = base_score >= PASS_THRESHOLD
    x = int(np.count_nonzero(pass_c & cand))
    n_c = int(np.count_nonzero(cand))
    r = proportion(x, n_c)
    common = {"threshold": PASS_THRESHOLD, "pass": f"score >= {PASS_THRESHOLD}", "judge": name}
    out = [
        _make_record(
            ctx,
            "pass_rate",
            "labelled_items",
            c,
            None,
            slice_,
            **_interval(r),
            n_items=r.n,
            n_labels=int(count[cand].sum()),
            n_labelers=0,
            x=r.x,
            higher_is_better=True,
            extras=dict(common),
        )
    ]
    paired = cand & ctx.pair
    pc, pb = pass_c[paired], pass_b[paired]
    d = newcombe_paired_difference(
        int(np.count_nonzero(pc & pb)),
        int(np.count_nonzero(pc & ~pb)),
        int(np.count_nonzero(~pc & pb)),
        int(np.count_nonzero(~pc & ~pb)),
    )
    out.append(
        _make_record(
            ctx,
            "pass_rate_delta",
            "labelled_items",
            c,
            b,
            slice_,
            **_interval(d),
            n_items=d.n,
            n_labels=int(count[paired].sum()),
            n_labelers=0,
            x=None,
            higher_is_better=True,
            extras={
                **common,
                "a_both_pass": d.a,
                "b_only_candidate_passes": d.b,
                "c_only_baseline_passes": d.c,
                "d_neither_passes": d.d,
                "p_candidate": d.p_new,
                "p_baseline": d.p_old,
                "phi": d.phi,
            },
        )
    )
    return out


# --------------------------------------------------------------------------------------------
# The computation
# --------------------------------------------------------------------------------------------

Task = tuple[str, frozenset[str], Callable[[], list[MetricRecord]]]


def _plan(ctx: _Context) -> list[Task]:
    """Every computation, each producing the records of one (metric family, slice[, entity])."""
    data = ctx.data
    llm = [i for i, (_, kind) in enumerate(data.judges) if kind == "llm"]
    code = _code_judges(data)
    tasks: list[Task] = []
    judge_metrics = frozenset(
        ("judge_human_kappa", "human_parity_ratio", "p_left_decisive", "judge_flip_rate")
    )
    refusal_metrics = frozenset((*REFUSAL_METRICS, *(f"{m}_delta" for m in REFUSAL_METRICS)))
    for sd in data.slices:
        tasks.append((f"cwr {sd.label}", frozenset({"cwr"}), _bind(_cwr_contested, ctx, sd)))
        tasks.append(
            (f"cwr population {sd.label}", frozenset({"cwr"}), _bind(_cwr_population, ctx, sd))
        )
        tasks.append(
            (f"bt_rating {sd.label}", frozenset({"bt_rating"}), _bind(_bt_ratings, ctx, sd))
        )
        tasks.append(
            (f"agreement {sd.label}", frozenset(AGREEMENT_METRICS), _bind(_agreement, ctx, sd))
        )
        for judge in llm:
            name = data.judges[judge][0]
            tasks.append(
                (f"judge {name} {sd.label}", judge_metrics, _bind(_judges, ctx, sd, judge))
            )
        tasks.append(
            (f"labelers {sd.label}", frozenset({"p_left_decisive"}), _bind(_labelers, ctx, sd))
        )
        tasks.append((f"refusal {sd.label}", refusal_metrics, _bind(_refusal, ctx, sd)))
        for judge in code:
            name = data.judges[judge][0]
            tasks.append(
                (
                    f"pass_rate {name} {sd.label}",
                    frozenset({"pass_rate", "pass_rate_delta"}),
                    _bind(_pass_rates, ctx, sd, judge),
                )
            )
    return tasks


def _bind(fn: Callable[..., list[MetricRecord]], *args: Any) -> Callable[[], list[MetricRecord]]:
    def run() -> list[MetricRecord]:
        return fn(*args)

    return run


@dataclass(frozen=True)
class GateInputs:
    """The document and the items whose labels entered any of its records."""

    document: dict[str, Any]
    item_ids: tuple[int, ...]
    records: tuple[MetricRecord, ...]


def _config(ctx: _Context, settings_min_n: int) -> dict[str, Any]:
    return {
        "ci_level": 0.95,
        "ci_sided": "two",
        "bootstrap": {"B": ctx.n_boot, "seed": ctx.seed, "unit": "item"},
        "proportion_ci": "wilson_or_clopper_pearson",
        "tie_score": 0.5,
        "min_n_items": settings_min_n,
        "feature_standardization_version": None,
        "monitor_baseline_version": None,
        "multiplicity": "none",
        "quarantine_overrides": [],
        "candidate": ctx.roles.candidate,
        "baseline": ctx.roles.baseline,
        "designated_judge": ctx.designated_judge,
        "length_control": {"lc_steps": LC_STEPS, "sd_len": "per slice"},
        "pass_threshold": PASS_THRESHOLD,
        "slices": "whole project and every single key=value (no crossed slices)",
    }


def build_gate_inputs(
    project: Project,
    *,
    candidate: str | None = None,
    baseline: str | None = None,
    seed: int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    metrics: Collection[str] | None = None,
    cancel: CancelToken | None = None,
    monitor: bool = True,
    analysis: ad.AnalysisData | None = None,
    monitor_inputs: monitor_service.MonitorGateInputs | None = None,
) -> Job[GateInputs]:
    """Compute the gate-inputs document and the ids of the items it used (one read snapshot).

    ``monitor`` adds the homogenization monitor's records and applies its quarantine (§7.6),
    its windows bootstrapped with this document's ``n_boot`` (§7.2: 2000 in exports). A caller
    that has just read the project (``read_analysis_data``) or run the monitor with the
    project's settings and seed (``refresh_monitor``; see ``MonitorReport.gate_inputs``) passes
    them as ``analysis``/``monitor_inputs`` instead of having them computed again (the
    dashboards do, at the monitor's own B: what they show is not an export). For a large
    project the §2–§6 records are computed by a helper process while the monitor runs
    (:mod:`reviewdesk.services.estimates_helper`); the result is the same.
    """
    if metrics is not None:
        unknown = sorted(set(metrics) - set(METRICS))
        if unknown:
            raise UserError(f"unknown metric(s): {', '.join(unknown)}")
    if n_boot < 1:
        raise UserError("the number of bootstrap replicates must be at least 1")
    roles = resolve_roles(project, candidate, baseline)
    settings = project.settings()
    config_seed = settings.seed if seed is None else seed
    if not 0 <= config_seed < 2**63:
        raise UserError(f"--seed must be between 0 and {2**63 - 1}")
    use_helper = monitor and monitor_inputs is None and analysis is None
    with estimates_helper(use_helper, _file_bytes(project.path)) as helper:
        loaded: monitor_service.LoadedMonitorData | None = None
        if analysis is None:
            # one read transaction: the monitor's labels are the snapshot the estimates use
            with project.store.read() as uow:
                analysis = yield from ad.read_analysis_data(uow.session, cancel=cancel)
                if helper is not None:  # the estimates of all labels, while the monitor runs
                    request = (analysis, roles, config_seed, n_boot, settings.min_n_items)
                    helper.submit((*request, settings.designated_judge, metrics))
                if monitor and monitor_inputs is None:
                    yield Progress(0, None, "Reading labels for the homogenization monitor")
                    loaded = monitor_service.load_monitor_data(project, uow.session)
        data = analysis
        for role, name in (("candidate", roles.candidate), ("baseline", roles.baseline)):
            if name not in data.models:
                shown = ", ".join(data.models) or "none imported yet"
                raise UserError(f"{role} {name!r} is not a model of this project (models: {shown})")
        designated = choose_designated_judge(data, settings.designated_judge)
        # --- homogenization monitor (§7.6): quarantined labels leave the data before any estimate
        mon: monitor_service.MonitorGateInputs | None = None
        if monitor:
            yield Progress(0, None, "Homogenization monitor")
            mon = monitor_inputs or monitor_service.monitor_gate_inputs(
                project, seed=config_seed, n_boot=n_boot, cancel=cancel, loaded=loaded
            )
            data = _without_quarantined(data, mon.quarantine.label_ids)
        ctx = _Context(
            data,
            roles,
            seed=config_seed,
            n_boot=n_boot,
            min_n=settings.min_n_items,
            designated_judge=designated,
            cancel=cancel,
        )
        records: list[MetricRecord] | None = None
        if helper is not None and mon is not None and not mon.quarantine.label_ids:
            # nothing quarantined: the records the helper computed alongside the monitor are these
            while not helper.ready():
                ctx.check()
                yield Progress(0, None, "Computing win rates, agreement and refusal")
                helper.wait(0.05)
            records = helper.result()
        if records is None:
            records = yield from _computed_records(ctx, metrics)
    if mon is not None:
        records = _mark_quarantined(ctx, records, mon.quarantine, settings.overlap)
        records.extend(r for r in mon.records if metrics is None or r.metric in metrics)
    records.sort(key=MetricRecord.sort_key)
    keys = [r.sort_key() for r in records]
    if len(set(keys)) != len(keys):  # pragma: no cover - a bug in the plan
        raise AssertionError("two gate-input records share an identity")
    yield Progress(1, 1, "Computed the gate inputs")
    labelled = np.zeros(len(data.items), dtype=bool)
    labelled[data.labels.item] = True
    used_ids = tuple(int(i) for i in data.items.id[labelled & ctx.usable])
    snap = data.snapshot
    document = {
        "schema": SCHEMA,
        "generated_at": to_iso(project.clock.now()),
        "snapshot": {
            "content_sha256": snap.content_sha256,
            "label_count": snap.label_count,
            "last_event_id": snap.last_event_id,
            "app_version": __version__,
        },
        "config": _config(ctx, settings.min_n_items) | (dict(mon.config) if mon else {}),
        "records": [r.to_dict() for r in records],
    }
    return GateInputs(document, used_ids, tuple(records))


def _file_bytes(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _computed_records(ctx: _Context, metrics: Collection[str] | None) -> Job[list[MetricRecord]]:
    """The records of STATISTICS.md §2–§6 (every task of the plan), in this process."""
    tasks = [t for t in _plan(ctx) if metrics is None or t[1] & set(metrics)]
    records: list[MetricRecord] = []
    for done, (label, _, run) in enumerate(tasks):
        ctx.check()
        yield Progress(done, len(tasks), f"Computing {label}")
        records.extend(r for r in run() if metrics is None or r.metric in metrics)
    return records


def estimates_for(
    data: ad.AnalysisData,
    roles: Roles,
    seed: int,
    n_boot: int,
    min_n: int,
    stored_designated_judge: str | None,
    metrics: Collection[str] | None,
) -> list[MetricRecord]:
    """The §2–§6 records of ``data`` (what the estimates helper computes in its process)."""
    designated = choose_designated_judge(data, stored_designated_judge)
    ctx = _Context(
        data,
        roles,
        seed=seed,
        n_boot=n_boot,
        min_n=min_n,
        designated_judge=designated,
        cancel=None,
    )
    return run_to_completion(_computed_records(ctx, metrics))


def compute_gate_inputs(
    project: Project,
    *,
    candidate: str | None = None,
    baseline: str | None = None,
    seed: int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    metrics: Collection[str] | None = None,
    cancel: CancelToken | None = None,
) -> Job[dict[str, Any]]:
    """The ``reviewdesk.gate_inputs/v1`` document (what ``stats --json`` prints)."""
    result = yield from build_gate_inputs(
        project,
        candidate=candidate,
        baseline=baseline,
        seed=seed,
        n_boot=n_boot,
        metrics=metrics,
        cancel=cancel,
    )
    return result.document


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def dumps_document(document: dict[str, Any], record_lines: Sequence[str] | None = None) -> str:
    """The document's file text: sorted keys, UTF-8 kept, shortest floats, no NaN.

    The top level and ``config``/``snapshot`` are indented by two spaces; each element of
    ``records`` is one line of canonical JSON (``domain.hashing.canonical_json``, the same text
    as its line in the ``.records.jsonl`` file beside it). One line per record keeps a document of
    ten thousand monitor records readable and diffable (``grep`` finds a record with its fields),
    and lets the standard library's C encoder write it: with ``indent`` it falls back to its
    pure-Python encoder, which took seconds. ``record_lines``, when given, are the records
    already encoded (the export writes them to the JSONL file too).
    """
    records = document.get("records")
    if record_lines is None and isinstance(records, list | tuple):
        record_lines = [canonical_json(r) for r in records]
    parts = []
    for key in sorted(document):
        if key == "records" and record_lines is not None:
            body = "[]" if not record_lines else "[\n    " + ",\n    ".join(record_lines) + "\n  ]"
        else:
            body = _indented(document[key]).replace("\n", "\n  ")
        parts.append(f"  {_encode_str(str(key))}: {body}")
    if not parts:
        return "{}\n"
    return "{\n" + ",\n".join(parts) + "\n}\n"


_encode_str = json.encoder.encode_basestring  # ensure_ascii=False (the C version when built)
_indented = json.JSONEncoder(
    sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
).encode  # the small parts only (config, snapshot): the records take the C encoder below


CSV_COLUMNS = (
    "metric",
    "estimand",
    "candidate",
    "baseline",
    "slice",
    "estimate",
    "ci_low",
    "ci_high",
    "ci_method",
    "n_items",
    "n_labels",
    "n_labelers",
    "x",
    "higher_is_better",
    "evidence_status",
    "extras",
)


def companion_names(path: Path) -> tuple[str, str]:
    """The JSONL and CSV flattenings beside ``FILE``: ``<stem>.records.jsonl`` / ``.csv``."""
    return f"{path.stem}.records.jsonl", f"{path.stem}.records.csv"


def _write_csv(sink: HashingWriter, records: Sequence[dict[str, Any]]) -> None:
    """Records as CSV: UTF-8 with BOM and CRLF like the other CSV exports, formula-like text
    cells neutralized (``csv_export.neutralize``); slice and extras as canonical JSON."""
    from reviewdesk.services.csv_export import BOM, write_rows

    sink.write(BOM)
    rows = []
    for r in records:
        row: list[object] = []
        for col in CSV_COLUMNS:
            value = r[col]
            if col in ("slice", "extras"):
                value = canonical_json(value)
            row.append(value)
        rows.append(row)
    write_rows(sink, CSV_COLUMNS, rows)


@dataclass(frozen=True)
class ExportReport:
    path: Path
    files: dict[str, str]  # file name → SHA-256
    records: int
    by_status: dict[str, int]
    export_id: int
    content_sha256: str | None
    changes: Changes = field(default=Changes(exports=True))

    def summary(self) -> str:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.by_status.items()))
        names = ", ".join(self.files)
        return (
            f"wrote {self.records} gate-input records ({statuses}) to {self.path.parent}: {names}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "files": self.files,
            "records": self.records,
            "by_status": self.by_status,
            "export_id": self.export_id,
            "content_sha256": self.content_sha256,
        }


def export_gate_inputs(
    project: Project,
    path: Path,
    *,
    candidate: str | None = None,
    baseline: str | None = None,
    seed: int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    cancel: CancelToken | None = None,
    actor: str = "lead",
) -> Job[ExportReport]:
    """Write ``path`` (the document) and its JSONL/CSV flattenings atomically, and record them.

    The export is recorded with the ids of every item whose labels entered a record (erasure
    lists the exports a subject was in) and an ``export`` audit record with the files' SHA-256.
    """
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a folder; -o names the gate-inputs file to write")
    result = yield from build_gate_inputs(
        project, candidate=candidate, baseline=baseline, seed=seed, n_boot=n_boot, cancel=cancel
    )
    jsonl_name, csv_name = companion_names(path)
    files = AtomicFileSet(path.parent)
    try:
        yield Progress(0, 3, f"Writing {path.name}")
        records = result.document["records"]
        encoded = [canonical_json(r) for r in records]
        doc = files.open(path.name)
        doc.write(dumps_document(result.document, encoded))
        doc.rows = len(result.records)
        lines = files.open(jsonl_name)
        if encoded:
            lines.write("\n".join(encoded) + "\n")
        lines.rows = len(encoded)
        _write_csv(files.open(csv_name), records)
        written = {name: files.finish(name) for name in (path.name, jsonl_name, csv_name)}
        hashes = {name: w.sha256 for name, w in written.items()}
        if cancel is not None:
            cancel.check()
        yield Progress(3, 3, "Recording the export")
        with project.store.write() as uow:
            config = result.document["config"]
            export_id = repo.record_export(
                uow.session,
                EXPORT_KIND,
                str(path.resolve()),
                {
                    "candidate": config["candidate"],
                    "baseline": config["baseline"],
                    "seed": config["bootstrap"]["seed"],
                    "n_boot": config["bootstrap"]["B"],
                    "content_sha256": result.document["snapshot"]["content_sha256"],
                    "files": list(hashes),
                },
                hashes,
                result.item_ids,
                project.clock.now(),
                actor=actor,
            )
        # The files take their final names only once the record is committed: should the
        # commit fail (disk full, read-only project), no unrecorded export is left behind.
        files.commit()
    except BaseException:
        files.discard()
        raise
    by_status: dict[str, int] = {}
    for r in result.records:
        by_status[r.evidence_status] = by_status.get(r.evidence_status, 0) + 1
    return ExportReport(
        path,
        hashes,
        len(result.records),
        by_status,
        export_id,
        result.document["snapshot"]["content_sha256"],
    )


# --------------------------------------------------------------------------------------------
# Homogenization monitor: quarantine (STATISTICS.md §7.6)
# --------------------------------------------------------------------------------------------

#: Records computed from judges or code checks alone: human-label quarantine does not touch them.
_HUMAN_FREE = frozenset(("pass_rate", "pass_rate_delta", "judge_flip_rate"))


def _without_quarantined(data: ad.AnalysisData, label_ids: Collection[int]) -> ad.AnalysisData:
    """The analysis data without the quarantined label events (they never enter estimates)."""
    if not label_ids:
        return data
    keep = ~np.isin(data.labels.event_id, np.fromiter(label_ids, dtype=np.int64))
    labels = ad.Labels(
        **{name: getattr(data.labels, name)[keep] for name in ad.Labels.__dataclass_fields__}
    )
    return dataclasses.replace(data, labels=labels)


def _mark_quarantined(
    ctx: _Context, records: list[MetricRecord], quarantine: Quarantine, requirement: int
) -> list[MetricRecord]:
    """``quarantined`` status for records using human labels on a slice holding an item labelled
    in a quarantined window and not yet relabelled by ``requirement`` fresh labelers."""
    uncleared = quarantine.uncleared_items(requirement)
    if not uncleared:
        return records
    pending = np.fromiter(uncleared, dtype=np.int64)
    by_slice = {
        json.dumps(sd.slice, sort_keys=True): int(
            np.count_nonzero(np.isin(ctx.data.items.id[sd.items & ctx.usable], pending))
        )
        for sd in ctx.data.slices
    }
    entity_keys = (MODEL_KEY, JUDGE_KEY, LABELER_KEY, EVAL_KEY, POPULATION_KEY)
    out = []
    for rec in records:
        judge_only = rec.metric == "p_left_decisive" and JUDGE_KEY in rec.slice
        if rec.metric in _HUMAN_FREE or judge_only:
            out.append(rec)
            continue
        item_slice = {k: v for k, v in rec.slice.items() if k not in entity_keys}
        n = by_slice.get(json.dumps(item_slice, sort_keys=True), 0)
        if n == 0:
            out.append(rec)
            continue
        note = (
            f"quarantined: {n} items of this slice were labelled in a window in homogenization "
            f"alarm and await {requirement} labels from fresh labelers (STATISTICS.md §7.6)"
        )
        reason = rec.extras.get("reason")
        extras = {**rec.extras, "reason": f"{note}; {reason}" if reason else note}
        out.append(
            dataclasses.replace(
                rec,
                evidence_status=worst_status(rec.evidence_status, "quarantined"),
                extras=extras,
            )
        )
    return out
