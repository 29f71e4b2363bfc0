"""Inter-labeler agreement: Krippendorff's α, chance-corrected coefficients, judge versus human.

STATISTICS.md §2. Agreement always works on the canonical value v ∈ {−1, 0, +1} (baseline better,
tie or both_bad, candidate better), never on screen sides, so display randomisation is not counted
as disagreement. Inputs are per-item count matrices ``value_counts`` (items × categories, columns
in value-domain order), built by :func:`value_counts_from_labels` from long-format labels.

- α (§2.1) comes from the ``krippendorff`` package (imported lazily: it is heavy and the CLI must
  start without it), always with an explicit level of measurement. Degenerate input is detected
  before the call and yields ``undefined`` — never 1.0, never an exception.
- The α interval is a unit bootstrap evaluated through the coincidence identity
  o = Σ_u w_u (c_u c_uᵀ − diag c_u)/(m_u − 1), so a chunk of replicates is one matrix product.
- AC1, generalised Fleiss κ, Brennan–Prediger and pairwise agreement (§2.2) use the same per-item
  sums, hence the same vectorised bootstrap.
- Judge versus human (§2.3): tables T_JH and T_HH, κ_JH, AC1_JH, κ_HH and the human-parity ratio,
  all with intervals from one shared set of item draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.domain.progress import CancelToken
from reviewdesk.stats.common import (
    BoolArray,
    CiMethod,
    Estimate,
    EvidenceStatus,
    FloatArray,
    IntArray,
    SeedLike,
    as_generator,
    finite_or_none,
    percentile_ci,
)
from reviewdesk.stats.resampling import resample_sums

AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]
ALPHA_LEVELS: tuple[AlphaLevel, ...] = ("nominal", "ordinal", "interval", "ratio")

AGREEMENT_DOMAIN: tuple[int, ...] = (-1, 0, 1)
"""Value domain of agreement (§1.2): baseline better < tie/both_bad < candidate better."""


# --------------------------------------------------------------------------------------------
# Building count matrices
# --------------------------------------------------------------------------------------------


def value_counts_from_labels(
    unit: ArrayLike,
    value: ArrayLike,
    *,
    n_units: int | None = None,
    value_domain: Sequence[float] = AGREEMENT_DOMAIN,
) -> IntArray:
    """Items × categories counts from long-format labels (unit index in [0, n_units), value).

    Values outside the domain are a caller bug (``ValueError``); NaN values are skipped as missing.
    """
    units = np.asarray(unit)
    values = np.asarray(value, dtype=np.float64)
    if units.shape != values.shape or units.ndim != 1:
        raise ValueError("unit and value must be one-dimensional arrays of the same length")
    domain = np.asarray(value_domain, dtype=np.float64)
    present = ~np.isnan(values)
    units = units[present].astype(np.int64)
    values = values[present]
    n = int(n_units) if n_units is not None else (int(units.max()) + 1 if units.size else 0)
    if units.size and (units.min() < 0 or units.max() >= n):
        raise ValueError("unit indices must lie in [0, n_units)")
    matches = values[:, None] == domain[None, :]
    found = matches.any(axis=1)
    if not found.all():
        bad = sorted(set(values[~found].tolist()))[:5]
        raise ValueError(f"values outside the value domain {list(value_domain)}: {bad}")
    column = matches.argmax(axis=1)
    flat = np.bincount(units * len(domain) + column, minlength=n * len(domain))
    return np.asarray(flat.reshape(n, len(domain)), dtype=np.int64)


def value_counts_from_reliability(
    reliability_data: ArrayLike, value_domain: Sequence[float]
) -> IntArray:
    """Items × categories counts from a raters × units matrix with NaN for missing values."""
    data = np.asarray(reliability_data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError("reliability_data must be raters × units")
    n_raters, n_units = data.shape
    unit = np.tile(np.arange(n_units), n_raters)
    return value_counts_from_labels(unit, data.ravel(), n_units=n_units, value_domain=value_domain)


def _check_counts(value_counts: ArrayLike, value_domain: Sequence[float] | None) -> IntArray:
    counts = np.asarray(value_counts)
    if counts.ndim != 2:
        raise ValueError(f"value_counts must be items × categories, got shape {counts.shape}")
    if counts.size and (np.any(counts < 0) or np.any(counts != np.round(counts))):
        raise ValueError("value_counts must hold non-negative integer counts")
    if value_domain is not None and counts.shape[1] != len(value_domain):
        raise ValueError(
            f"value_counts has {counts.shape[1]} columns but the value domain has "
            f"{len(value_domain)} values"
        )
    return counts.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Krippendorff's alpha
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's α at one level of measurement (§2.1).

    ``n_units`` counts pairable units (≥ 2 values), ``n_values`` their values. ``estimate`` is
    ``None`` whenever α is undefined (status ``undefined``) — never 1.0 for degenerate data.
    """

    level: AlphaLevel
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    status: EvidenceStatus
    reason: str | None
    n_units: int
    n_values: int
    n_boot: int = 0
    n_redraws: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "estimate": finite_or_none(self.estimate),
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "ci_method": self.ci_method,
            "status": self.status,
            "reason": self.reason,
            "n_units": self.n_units,
            "n_values": self.n_values,
            "n_boot": self.n_boot,
            "n_redraws": self.n_redraws,
        }


def alpha_degenerate_reason(value_counts: ArrayLike) -> str | None:
    """The §2.1 pre-call checks: (a) fewer than 2 pairable units; (b) one pairable value only."""
    counts = np.asarray(value_counts)
    if counts.ndim != 2 or counts.shape[1] < 2:
        return "the value domain has fewer than 2 values"
    pairable = counts[counts.sum(axis=1) >= 2]
    if pairable.shape[0] < 2:
        return f"fewer than 2 pairable units ({pairable.shape[0]} with at least 2 labels)"
    if int(np.count_nonzero(pairable.sum(axis=0))) < 2:
        return "all pairable values are identical"
    return None


def _package_alpha(counts: IntArray, level: AlphaLevel, domain: Sequence[float]) -> float | str:
    """α from the package, or the reason it is undefined (ValueError or non-finite result)."""
    import krippendorff

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = float(
                krippendorff.alpha(
                    value_counts=counts,
                    value_domain=list(domain),
                    level_of_measurement=level,
                )
            )
    except ValueError as exc:
        return f"krippendorff: {exc}"
    if not np.isfinite(value):
        return "krippendorff returned a non-finite value"
    return value


def _distance_matrices(n_v: FloatArray, level: AlphaLevel, domain: FloatArray) -> FloatArray:
    """Distance matrices d_ck (replicates × V × V) for marginals ``n_v`` (replicates × V).

    Ordinal distances depend on the marginals (Krippendorff 2011): d_ck = (Σ_{g=c..k} n_g −
    (n_c + n_k)/2)², so each replicate gets its own matrix, as the package would compute.
    """
    reps, v = n_v.shape
    if level == "nominal":
        base = 1.0 - np.eye(v)
        return np.broadcast_to(base, (reps, v, v))
    if level == "interval":
        base = (domain[:, None] - domain[None, :]) ** 2
        return np.broadcast_to(base, (reps, v, v))
    if level == "ratio":
        total = domain[:, None] + domain[None, :]
        diff = domain[:, None] - domain[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            base = np.where(total != 0, diff / np.where(total != 0, total, 1.0), 0.0) ** 2
        return np.broadcast_to(base, (reps, v, v))
    if level == "ordinal":
        cumulative = np.concatenate([np.zeros((reps, 1)), np.cumsum(n_v, axis=1)], axis=1)
        idx = np.arange(v)
        lo = np.minimum(idx[:, None], idx[None, :])
        hi = np.maximum(idx[:, None], idx[None, :])
        between = cumulative[:, hi + 1] - cumulative[:, lo]
        half = (n_v[:, :, None] + n_v[:, None, :]) / 2.0
        return np.asarray((between - half) ** 2, dtype=np.float64)
    raise ValueError(f"unknown level of measurement {level!r}")


def coincidence_features(value_counts: ArrayLike) -> FloatArray:
    """Per-unit coincidence contributions P_u = (c_u c_uᵀ − diag c_u)/(m_u − 1), flattened.

    Units with fewer than 2 values contribute zeros, as in the package. Summing rows with
    multinomial weights gives a replicate's coincidence matrix (§2.1).
    """
    counts = np.asarray(value_counts, dtype=np.float64)
    m = counts.sum(axis=1)
    v = counts.shape[1]
    outer = counts[:, :, None] * counts[:, None, :]
    outer[:, np.arange(v), np.arange(v)] -= counts
    denom = np.maximum(m, 2.0) - 1.0
    return np.asarray((outer / denom[:, None, None]).reshape(len(counts), v * v), dtype=np.float64)


def alpha_from_coincidences(
    coincidences: ArrayLike, level: AlphaLevel, value_domain: Sequence[float]
) -> FloatArray:
    """α for a stack of coincidence matrices (… × V × V); NaN where α is undefined.

    Undefined: fewer than two categories carry pairable values, or zero expected disagreement.
    """
    o = np.asarray(coincidences, dtype=np.float64)
    v = o.shape[-1]
    lead = o.shape[:-2]
    o = o.reshape(-1, v, v)
    domain = np.asarray(value_domain, dtype=np.float64)
    n_v = o.sum(axis=2)
    n = n_v.sum(axis=1)
    expected = n_v[:, :, None] * n_v[:, None, :]
    expected[:, np.arange(v), np.arange(v)] -= n_v
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = expected / (n - 1.0)[:, None, None]
        d = _distance_matrices(n_v, level, domain)
        observed_dis = (o * d).sum(axis=(1, 2))
        expected_dis = (expected * d).sum(axis=(1, 2))
        alpha = 1.0 - observed_dis / expected_dis
    defined = (np.count_nonzero(n_v > 1e-12, axis=1) >= 2) & (expected_dis > 0) & (n > 1)
    alpha = np.where(defined & np.isfinite(alpha), alpha, np.nan)
    return np.asarray(alpha.reshape(lead), dtype=np.float64)


def alpha_vectorised(
    value_counts: ArrayLike,
    level: AlphaLevel,
    value_domain: Sequence[float] = AGREEMENT_DOMAIN,
) -> float | None:
    """α through the coincidence identity (no package call); ``None`` when degenerate.

    Matches the package to 1e-9 (tested); used for large N and inside the bootstrap.
    """
    counts = _check_counts(value_counts, value_domain)
    if alpha_degenerate_reason(counts) is not None:
        return None
    o = coincidence_features(counts).sum(axis=0).reshape(counts.shape[1], counts.shape[1])
    return finite_or_none(alpha_from_coincidences(o, level, value_domain))


def krippendorff_alpha(
    value_counts: ArrayLike,
    level: AlphaLevel,
    *,
    value_domain: Sequence[float] = AGREEMENT_DOMAIN,
    n_boot: int = 0,
    rng: SeedLike | None = None,
    cancel: CancelToken | None = None,
) -> AlphaResult:
    """Krippendorff's α at ``level`` with an optional unit-bootstrap percentile CI (§2.1).

    The point estimate comes from the ``krippendorff`` package (``value_counts``, explicit
    ``value_domain`` and level). Replicates draw pairable units with replacement; undefined
    replicates are redrawn and counted in ``n_redraws``; more than ``n_boot`` redraws →
    ``insufficient_data`` (the estimate is kept for display).
    """
    if level not in ALPHA_LEVELS:
        raise ValueError(f"level must be one of {ALPHA_LEVELS}, got {level!r}")
    counts = _check_counts(value_counts, value_domain)
    pairable = counts[counts.sum(axis=1) >= 2]
    n_units = int(pairable.shape[0])
    n_values = int(pairable.sum())
    reason = alpha_degenerate_reason(counts)
    if reason is not None:
        return AlphaResult(level, None, None, None, "none", "undefined", reason, n_units, n_values)
    value = _package_alpha(pairable, level, value_domain)
    if isinstance(value, str):
        return AlphaResult(level, None, None, None, "none", "undefined", value, n_units, n_values)
    if n_boot <= 0:
        return AlphaResult(level, value, None, None, "none", "ok", None, n_units, n_values)
    if rng is None:
        raise ValueError("a seed or numpy Generator is required for the bootstrap")
    features = coincidence_features(pairable)
    v = counts.shape[1]

    def statistic(sums: FloatArray) -> tuple[BoolArray, FloatArray]:
        alphas = alpha_from_coincidences(sums.reshape(-1, v, v), level, value_domain)
        return np.isfinite(alphas), alphas[:, None]

    draws = resample_sums(features, n_boot, as_generator(rng), statistic, cancel=cancel)
    if not draws.complete:
        return AlphaResult(
            level,
            value,
            None,
            None,
            "none",
            "insufficient_data",
            f"more than {n_boot} bootstrap replicates were undefined",
            n_units,
            n_values,
            n_boot,
            draws.n_redraws,
        )
    low, high = percentile_ci(draws.values[:, 0])
    return AlphaResult(
        level,
        value,
        low,
        high,
        "unit_bootstrap_percentile",
        "ok",
        None,
        n_units,
        n_values,
        n_boot,
        draws.n_redraws,
    )


# --------------------------------------------------------------------------------------------
# AC1, generalised Fleiss kappa, Brennan–Prediger (many raters, missing labels allowed)
# --------------------------------------------------------------------------------------------

ChanceCoefficient = Literal["gwet_ac1", "fleiss_kappa", "brennan_prediger"]


@dataclass(frozen=True)
class ChanceCorrectedResult:
    """(p_a − p_e)/(1 − p_e) with the p_e of ``coefficient`` (§2.2); q = number of categories."""

    coefficient: ChanceCoefficient
    estimate: float | None
    p_a: float | None
    p_e: float | None
    q: int
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    status: EvidenceStatus
    reason: str | None
    n_units: int  # items with at least one label
    n_pairable: int  # items with at least two labels
    n_boot: int = 0
    n_redraws: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "coefficient": self.coefficient,
            "estimate": finite_or_none(self.estimate),
            "p_a": finite_or_none(self.p_a),
            "p_e": finite_or_none(self.p_e),
            "q": self.q,
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "ci_method": self.ci_method,
            "status": self.status,
            "reason": self.reason,
            "n_units": self.n_units,
            "n_pairable": self.n_pairable,
            "n_boot": self.n_boot,
            "n_redraws": self.n_redraws,
        }


def _chance_features(counts: FloatArray) -> FloatArray:
    """Per-item sums behind p_a and π_k: [pairable, agreement·pairable, labelled, c_k/r (q)]."""
    r = counts.sum(axis=1)
    pairable = r >= 2
    labelled = r >= 1
    with np.errstate(divide="ignore", invalid="ignore"):
        agree = (counts * (counts - 1.0)).sum(axis=1) / (r * (r - 1.0))
        shares = counts / r[:, None]
    agree = np.where(pairable, agree, 0.0)
    shares = np.where(labelled[:, None], shares, 0.0)
    return np.column_stack([pairable, agree, labelled, shares]).astype(np.float64)


def _chance_from_sums(
    sums: FloatArray, coefficient: ChanceCoefficient
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(coefficient, p_a, p_e) from summed features (replicates × (3 + q)); NaN if undefined."""
    q = sums.shape[1] - 3
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a = sums[:, 1] / sums[:, 0]
        pi = sums[:, 3:] / sums[:, 2:3]
        if coefficient == "gwet_ac1":
            p_e = (pi * (1.0 - pi)).sum(axis=1) / (q - 1)
        elif coefficient == "fleiss_kappa":
            p_e = (pi * pi).sum(axis=1)
        elif coefficient == "brennan_prediger":
            p_e = np.full(len(sums), 1.0 / q)
        else:
            raise ValueError(f"unknown coefficient {coefficient!r}")
        denom = 1.0 - p_e
        value = (p_a - p_e) / denom
    undefined = (sums[:, 0] <= 0) | (np.abs(denom) < 1e-15) | ~np.isfinite(value)
    value = np.where(undefined, np.nan, value)
    return np.asarray(value, dtype=np.float64), p_a, p_e


def chance_corrected_agreement(
    value_counts: ArrayLike,
    coefficient: ChanceCoefficient,
    *,
    n_boot: int = 0,
    rng: SeedLike | None = None,
    cancel: CancelToken | None = None,
) -> ChanceCorrectedResult:
    """Gwet's AC1, generalised Fleiss κ or Brennan–Prediger from item counts (§2.2).

    p_a = mean over items with r_i ≥ 2 of Σ_k c_ik(c_ik − 1)/(r_i(r_i − 1)); π_k = mean over items
    with r_i ≥ 1 of c_ik/r_i; q is the number of columns (the declared domain). The bootstrap draws
    labelled items with replacement (redraw rule as for α).
    """
    counts = np.asarray(_check_counts(value_counts, None), dtype=np.float64)
    q = counts.shape[1]
    if q < 2:
        raise ValueError("chance-corrected agreement needs at least 2 categories")
    r = counts.sum(axis=1)
    labelled = counts[r >= 1]
    n_units = int(labelled.shape[0])
    n_pairable = int(np.count_nonzero(r >= 2))
    if n_pairable == 0:
        return ChanceCorrectedResult(
            coefficient,
            None,
            None,
            None,
            q,
            None,
            None,
            "none",
            "undefined",
            "no item has two or more labels",
            n_units,
            n_pairable,
        )
    features = _chance_features(labelled)
    value, p_a, p_e = _chance_from_sums(features.sum(axis=0)[None, :], coefficient)
    estimate = finite_or_none(value[0])
    if estimate is None:
        return ChanceCorrectedResult(
            coefficient,
            None,
            finite_or_none(p_a[0]),
            finite_or_none(p_e[0]),
            q,
            None,
            None,
            "none",
            "undefined",
            "chance agreement is 1 (zero denominator)",
            n_units,
            n_pairable,
        )
    low = high = None
    method: CiMethod = "none"
    status: EvidenceStatus = "ok"
    reason = None
    n_redraws = 0
    if n_boot > 0:
        if rng is None:
            raise ValueError("a seed or numpy Generator is required for the bootstrap")

        def statistic(sums: FloatArray) -> tuple[BoolArray, FloatArray]:
            vals, _, _ = _chance_from_sums(sums, coefficient)
            return np.isfinite(vals), vals[:, None]

        draws = resample_sums(features, n_boot, as_generator(rng), statistic, cancel=cancel)
        n_redraws = draws.n_redraws
        if draws.complete:
            low, high = percentile_ci(draws.values[:, 0])
            method = "unit_bootstrap_percentile"
        else:
            status = "insufficient_data"
            reason = f"more than {n_boot} bootstrap replicates were undefined"
    return ChanceCorrectedResult(
        coefficient,
        estimate,
        finite_or_none(p_a[0]),
        finite_or_none(p_e[0]),
        q,
        low,
        high,
        method,
        status,
        reason,
        n_units,
        n_pairable,
        max(n_boot, 0),
        n_redraws,
    )


def gwet_ac1(
    value_counts: ArrayLike,
    *,
    n_boot: int = 0,
    rng: SeedLike | None = None,
    cancel: CancelToken | None = None,
) -> ChanceCorrectedResult:
    """Gwet's AC1 (§2.2): p_e = Σ_k π_k(1 − π_k)/(q − 1); robust to skewed marginals."""
    return chance_corrected_agreement(
        value_counts, "gwet_ac1", n_boot=n_boot, rng=rng, cancel=cancel
    )


def fleiss_kappa(value_counts: ArrayLike) -> ChanceCorrectedResult:
    """Fleiss' κ generalised to missing labels (§2.2, diagnostic): p_e = Σ_k π_k²."""
    return chance_corrected_agreement(value_counts, "fleiss_kappa")


def brennan_prediger(value_counts: ArrayLike) -> ChanceCorrectedResult:
    """Brennan–Prediger / Randolph free-marginal κ (§2.2, O-A4, O-A8): p_e = 1/q."""
    return chance_corrected_agreement(value_counts, "brennan_prediger")


# --------------------------------------------------------------------------------------------
# Two raters: Cohen's kappa, Scott's pi, AC1 from a q × q table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoRaterResult:
    """A two-rater coefficient from a q × q table (rows = rater 1), with p_o and p_e (§2.2)."""

    coefficient: Literal["cohen_kappa", "scott_pi", "gwet_ac1"]
    estimate: float | None
    p_o: float | None
    p_e: float | None
    n: float
    status: EvidenceStatus
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "coefficient": self.coefficient,
            "estimate": finite_or_none(self.estimate),
            "p_o": finite_or_none(self.p_o),
            "p_e": finite_or_none(self.p_e),
            "n": self.n,
            "status": self.status,
            "reason": self.reason,
        }


TwoRaterKind = Literal["cohen_kappa", "scott_pi", "gwet_ac1"]


def two_rater_from_tables(
    tables: ArrayLike, coefficient: TwoRaterKind
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(coefficient, p_o, p_e) for a stack of q × q count tables (… × q × q); NaN if undefined.

    Cohen: p_e = Σ p_k+ p_+k. Scott: π_k = (p_k+ + p_+k)/2, p_e = Σ π_k². AC1: same π_k,
    p_e = Σ π_k(1 − π_k)/(q − 1).
    """
    t = np.asarray(tables, dtype=np.float64)
    q = t.shape[-1]
    lead = t.shape[:-2]
    t = t.reshape(-1, q, q)
    total = t.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = t / total[:, None, None]
        p_o = np.trace(p, axis1=1, axis2=2)
        rows = p.sum(axis=2)
        cols = p.sum(axis=1)
        pi = (rows + cols) / 2.0
        if coefficient == "cohen_kappa":
            p_e = (rows * cols).sum(axis=1)
        elif coefficient == "scott_pi":
            p_e = (pi * pi).sum(axis=1)
        elif coefficient == "gwet_ac1":
            p_e = (pi * (1.0 - pi)).sum(axis=1) / (q - 1)
        else:
            raise ValueError(f"unknown coefficient {coefficient!r}")
        value = (p_o - p_e) / (1.0 - p_e)
    undefined = (total <= 0) | (np.abs(1.0 - p_e) < 1e-15) | ~np.isfinite(value)
    value = np.where(undefined, np.nan, value)
    return (
        np.asarray(value.reshape(lead), dtype=np.float64),
        np.asarray(p_o.reshape(lead), dtype=np.float64),
        np.asarray(p_e.reshape(lead), dtype=np.float64),
    )


def _two_rater(table: ArrayLike, coefficient: TwoRaterKind) -> TwoRaterResult:
    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] < 2:
        raise ValueError(f"need a square q × q table with q ≥ 2, got shape {t.shape}")
    if np.any(t < 0):
        raise ValueError("table entries must be non-negative")
    value, p_o, p_e = two_rater_from_tables(t, coefficient)
    n = float(t.sum())
    estimate = finite_or_none(value)
    if n <= 0:
        return TwoRaterResult(coefficient, None, None, None, n, "undefined", "empty table")
    if estimate is None:
        return TwoRaterResult(
            coefficient,
            None,
            finite_or_none(p_o),
            finite_or_none(p_e),
            n,
            "undefined",
            "chance agreement is 1 (zero denominator)",
        )
    return TwoRaterResult(coefficient, estimate, float(p_o), float(p_e), n, "ok", None)


def cohen_kappa(table: ArrayLike) -> TwoRaterResult:
    """Cohen's κ from a q × q table of counts or proportions (rows = rater 1)."""
    return _two_rater(table, "cohen_kappa")


def scott_pi(table: ArrayLike) -> TwoRaterResult:
    """Scott's π: Cohen's κ of the symmetrised table (pooled marginals)."""
    return _two_rater(table, "scott_pi")


def two_rater_ac1(table: ArrayLike) -> TwoRaterResult:
    """Two-rater Gwet AC1 with π_k = (p_k+ + p_+k)/2 (§2.2, O-A7)."""
    return _two_rater(table, "gwet_ac1")


# --------------------------------------------------------------------------------------------
# Pairwise percent agreement
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairwiseAgreementResult:
    """Share of agreeing unordered label pairs, pooled over items (§2.2)."""

    decisive_only: bool
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    status: EvidenceStatus
    reason: str | None
    n_pairs: int
    n_units: int
    n_boot: int = 0
    n_redraws: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "decisive_only": self.decisive_only,
            "estimate": finite_or_none(self.estimate),
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "ci_method": self.ci_method,
            "status": self.status,
            "reason": self.reason,
            "n_pairs": self.n_pairs,
            "n_units": self.n_units,
            "n_boot": self.n_boot,
            "n_redraws": self.n_redraws,
        }


def pairwise_agreement(
    value_counts: ArrayLike,
    *,
    decisive_only: bool = False,
    neutral_columns: Sequence[int] = (1,),
    n_boot: int = 0,
    rng: SeedLike | None = None,
    cancel: CancelToken | None = None,
) -> PairwiseAgreementResult:
    """Pairwise % agreement = agreeing / all unordered label pairs, summed over items (§2.2).

    ``decisive_only`` keeps pairs whose both values are decisive (columns not in
    ``neutral_columns``; column 1 is the tie value 0 of the agreement domain), the published
    "without tie" form (FastChat ``compute_agreement.py``). No pair → ``undefined``. The interval
    resamples items that carry at least one counted pair.
    """
    counts = np.asarray(_check_counts(value_counts, None), dtype=np.float64)
    if decisive_only:
        keep = [k for k in range(counts.shape[1]) if k not in set(neutral_columns)]
        counts = counts[:, keep]
    pairs_total = counts.sum(axis=1) * (counts.sum(axis=1) - 1.0) / 2.0
    pairs_agree = (counts * (counts - 1.0) / 2.0).sum(axis=1)
    has_pairs = pairs_total > 0
    n_pairs = int(pairs_total.sum())
    n_units = int(np.count_nonzero(has_pairs))
    if n_pairs == 0:
        what = "decisive label pairs" if decisive_only else "label pairs"
        return PairwiseAgreementResult(
            decisive_only, None, None, None, "none", "undefined", f"no {what}", 0, 0
        )
    estimate = float(pairs_agree.sum() / pairs_total.sum())
    if n_boot <= 0:
        return PairwiseAgreementResult(
            decisive_only, estimate, None, None, "none", "ok", None, n_pairs, n_units
        )
    if rng is None:
        raise ValueError("a seed or numpy Generator is required for the bootstrap")
    features = np.column_stack([pairs_agree[has_pairs], pairs_total[has_pairs]])

    def statistic(sums: FloatArray) -> tuple[BoolArray, FloatArray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = sums[:, 0] / sums[:, 1]
        return sums[:, 1] > 0, vals[:, None]

    draws = resample_sums(features, n_boot, as_generator(rng), statistic, cancel=cancel)
    if not draws.complete:
        return PairwiseAgreementResult(
            decisive_only,
            estimate,
            None,
            None,
            "none",
            "insufficient_data",
            f"more than {n_boot} bootstrap replicates were undefined",
            n_pairs,
            n_units,
            n_boot,
            draws.n_redraws,
        )
    low, high = percentile_ci(draws.values[:, 0])
    return PairwiseAgreementResult(
        decisive_only,
        estimate,
        low,
        high,
        "item_bootstrap_percentile",
        "ok",
        None,
        n_pairs,
        n_units,
        n_boot,
        draws.n_redraws,
    )


# --------------------------------------------------------------------------------------------
# Judge versus human (§2.3)
# --------------------------------------------------------------------------------------------


def merge_judge_orders(first: ArrayLike, second: ArrayLike) -> FloatArray:
    """A judge's item verdict from its two display orders (MT-Bench rule, §2.3).

    Values in {−1, 0, +1} with NaN for a missing order: the shared value if both orders agree,
    0 if they differ, the one present if only one exists, NaN if neither.
    """
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    both = ~np.isnan(a) & ~np.isnan(b)
    merged = np.where(np.isnan(a), b, a)
    merged = np.where(both & (a != b), 0.0, merged)
    return np.asarray(merged, dtype=np.float64)


@dataclass(frozen=True)
class JudgeHumanResult:
    """Judge J against humans on items with a judge verdict and ≥ 2 human labels (§2.3).

    Tables are 3 × 3 in domain order (−1, 0, +1); T_JH rows are the judge, columns the human
    label; T_HH holds each unordered human pair in both orders at weight ½ (so κ_HH is Scott's π).
    Every interval comes from the same item draws; ``kappa_gap`` = κ_JH − κ_HH (H3).
    """

    n_items: int
    n_labels: int
    t_jh: tuple[tuple[float, ...], ...]
    t_hh: tuple[tuple[float, ...], ...]
    raw_agreement: Estimate
    raw_agreement_hh: Estimate
    kappa_jh: Estimate
    ac1_jh: Estimate
    kappa_hh: Estimate
    parity_ratio: Estimate
    kappa_gap: Estimate
    status: EvidenceStatus
    reason: str | None
    n_boot: int = 0
    n_redraws: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_items": self.n_items,
            "n_labels": self.n_labels,
            "t_jh": [list(row) for row in self.t_jh],
            "t_hh": [list(row) for row in self.t_hh],
            "raw_agreement": self.raw_agreement.to_dict(),
            "raw_agreement_hh": self.raw_agreement_hh.to_dict(),
            "kappa_jh": self.kappa_jh.to_dict(),
            "ac1_jh": self.ac1_jh.to_dict(),
            "kappa_hh": self.kappa_hh.to_dict(),
            "parity_ratio": self.parity_ratio.to_dict(),
            "kappa_gap": self.kappa_gap.to_dict(),
            "status": self.status,
            "reason": self.reason,
            "n_boot": self.n_boot,
            "n_redraws": self.n_redraws,
        }


def _judge_human_statistics(t_jh: FloatArray, t_hh: FloatArray) -> FloatArray:
    """Columns: raw_jh, raw_hh, κ_JH, AC1_JH, κ_HH, ρ, κ_JH − κ_HH for stacks of tables."""
    kappa_jh, raw_jh, _ = two_rater_from_tables(t_jh, "cohen_kappa")
    ac1_jh, _, _ = two_rater_from_tables(t_jh, "gwet_ac1")
    kappa_hh, raw_hh, _ = two_rater_from_tables(t_hh, "cohen_kappa")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(kappa_hh > 0, kappa_jh / kappa_hh, np.nan)
    return np.column_stack([raw_jh, raw_hh, kappa_jh, ac1_jh, kappa_hh, ratio, kappa_jh - kappa_hh])


def judge_human_agreement(
    judge_value: ArrayLike,
    human_counts: ArrayLike,
    *,
    n_boot: int = 0,
    rng: SeedLike | None = None,
    cancel: CancelToken | None = None,
) -> JudgeHumanResult:
    """κ_JH, AC1_JH, κ_HH and the human-parity ratio ρ_J = κ_JH/κ_HH with shared-draw CIs (§2.3).

    ``judge_value`` per item: the merged verdict in {−1, 0, +1} (NaN = no verdict; see
    :func:`merge_judge_orders`); ``human_counts``: items × 3 human label counts. ρ is undefined
    when κ_HH ≤ 0. A replicate is redrawn when κ_JH or κ_HH is undefined in it; ρ gets no
    interval when κ_HH ≤ 0 in any kept replicate (the ratio is then unstable by construction).
    """
    judge = np.asarray(judge_value, dtype=np.float64)
    counts = np.asarray(_check_counts(human_counts, AGREEMENT_DOMAIN), dtype=np.float64)
    if judge.shape != (counts.shape[0],):
        raise ValueError("judge_value needs one entry per row of human_counts")
    known = ~np.isnan(judge)
    if np.any(~np.isin(judge[known], AGREEMENT_DOMAIN)):
        raise ValueError("judge values must be -1, 0, +1 or NaN")
    used = known & (counts.sum(axis=1) >= 2)
    n_items = int(np.count_nonzero(used))
    c = counts[used]
    j = (judge[used] + 1).astype(np.int64)
    n_labels = int(c.sum())
    per_jh = np.zeros((n_items, 3, 3))
    per_jh[np.arange(n_items), j, :] = c
    per_hh = c[:, :, None] * c[:, None, :]
    per_hh[:, np.arange(3), np.arange(3)] -= c
    per_hh /= 2.0
    t_jh = per_jh.sum(axis=0)
    t_hh = per_hh.sum(axis=0)
    table_jh = tuple(tuple(float(x) for x in row) for row in t_jh)
    table_hh = tuple(tuple(float(x) for x in row) for row in t_hh)
    names = ("raw_jh", "raw_hh", "kappa_jh", "ac1_jh", "kappa_hh", "ratio", "gap")

    def result(
        est: list[Estimate], status: EvidenceStatus, reason: str | None, n_redraws: int = 0
    ) -> JudgeHumanResult:
        return JudgeHumanResult(
            n_items=n_items,
            n_labels=n_labels,
            t_jh=table_jh,
            t_hh=table_hh,
            raw_agreement=est[0],
            raw_agreement_hh=est[1],
            kappa_jh=est[2],
            ac1_jh=est[3],
            kappa_hh=est[4],
            parity_ratio=est[5],
            kappa_gap=est[6],
            status=status,
            reason=reason,
            n_boot=max(n_boot, 0),
            n_redraws=n_redraws,
        )

    if n_items == 0:
        undefined = Estimate.undefined("no item has a judge verdict and two human labels")
        return result([undefined] * len(names), "undefined", undefined.reason)
    point = _judge_human_statistics(t_jh[None], t_hh[None])[0]
    reasons = {
        "raw_jh": "no judge-human pairs",
        "raw_hh": "no human pairs",
        "kappa_jh": "κ_JH undefined (chance agreement is 1)",
        "ac1_jh": "AC1_JH undefined",
        "kappa_hh": "κ_HH undefined (chance agreement is 1)",
        "ratio": "human-parity ratio undefined: κ_HH ≤ 0 or undefined",
        "gap": "κ_JH − κ_HH undefined",
    }
    intervals: dict[str, tuple[float | None, float | None, CiMethod]] = dict.fromkeys(
        names, (None, None, "none")
    )
    n_redraws = 0
    boot_ran = False
    boot_reason: str | None = None
    status: EvidenceStatus = "ok"
    if n_boot > 0 and np.isfinite(point[2]) and np.isfinite(point[4]):
        if rng is None:
            raise ValueError("a seed or numpy Generator is required for the bootstrap")
        features = np.concatenate([per_jh.reshape(n_items, 9), per_hh.reshape(n_items, 9)], axis=1)

        def statistic(sums: FloatArray) -> tuple[BoolArray, FloatArray]:
            stats = _judge_human_statistics(
                sums[:, :9].reshape(-1, 3, 3), sums[:, 9:].reshape(-1, 3, 3)
            )
            valid = np.isfinite(stats[:, 2]) & np.isfinite(stats[:, 4])
            return valid, stats

        draws = resample_sums(features, n_boot, as_generator(rng), statistic, cancel=cancel)
        n_redraws = draws.n_redraws
        boot_ran = True
        if draws.complete:
            for col, name in enumerate(names):
                column = draws.values[:, col]
                if np.all(np.isfinite(column)):
                    lo, hi = percentile_ci(column)
                    intervals[name] = (lo, hi, "item_bootstrap_percentile")
        else:
            status = "insufficient_data"
            boot_reason = f"more than {n_boot} bootstrap replicates were undefined"

    def build(col: int, name: str) -> Estimate:
        value = finite_or_none(point[col])
        if value is None:
            return Estimate.undefined(reasons[name])
        lo, hi, method = intervals[name]
        est_status: EvidenceStatus = status
        reason = boot_reason
        if boot_ran and status == "ok" and method == "none":
            est_status, reason = "undefined", f"{reasons[name]} in some bootstrap replicates"
        return Estimate(value, lo, hi, method, est_status, reason)

    est = [build(col, name) for col, name in enumerate(names)]
    return result(est, status, boot_reason, n_redraws)
