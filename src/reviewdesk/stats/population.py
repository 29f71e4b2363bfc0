"""Population win rate by prediction-powered inference (STATISTICS.md §3.4).

Angelopoulos et al. 2023.

CWR over the queue is conditional on an item being contested (§3.3). The population rate uses a
random audit stratum labelled by humans and a judge that scores every pool item: the judge's mean
over the pool is corrected by the mean human-minus-judge residual on the audit (λ = 1):

- uniform audit: θ̂ = mean_U(f) + mean_A(r), SE² = s²_U(f)/N + s²_A(r)/n, U = pool outside the audit;
- unequal inclusion probabilities π_i: Horvitz–Thompson weights w_i = 1/π_i, the judge term is the
  mean of f over the whole pool P, the rectifier r̄_w = Σ w r / Σ w, and
  SE² = s²_P(f)/N_P + (n/(n − 1))·Σ w²(r − r̄_w)²/(Σ w)².

CI = θ̂ ± z·SE clipped to [0, 1]; ``ci_method = "ppi_normal"``. No audit stratum → no record
(the function returns ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.stats.common import (
    Z95,
    CiMethod,
    EvidenceStatus,
    FloatArray,
    as_float_array,
    check_same_length,
    finite_or_none,
    join_reasons,
    worst_status,
)


@dataclass(frozen=True)
class PopulationEstimate:
    """θ̂ with its PPI normal interval and the human-only audit estimate beside it (§3.4)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    ci_method: CiMethod
    status: EvidenceStatus
    reason: str | None
    judge_term: float | None
    rectifier: float | None
    human_only_estimate: float | None
    human_only_se: float | None
    n_pool: int
    n_audit: int
    weighted: bool

    @property
    def n_items(self) -> int:
        return self.n_audit

    def extras(self) -> dict[str, Any]:
        """The record ``extras`` named by §3.4 (plus the two terms of θ̂, for auditing)."""
        return {
            "human_only_estimate": finite_or_none(self.human_only_estimate),
            "human_only_se": finite_or_none(self.human_only_se),
            "n_pool": self.n_pool,
            "n_audit": self.n_audit,
            "se": finite_or_none(self.se),
            "judge_term": finite_or_none(self.judge_term),
            "rectifier": finite_or_none(self.rectifier),
            "weighted": self.weighted,
        }


def _sample_var(values: FloatArray) -> float | None:
    return float(np.var(values, ddof=1)) if values.size >= 2 else None


def population_win_rate(
    y_audit: ArrayLike,
    f_audit: ArrayLike,
    f_rest: ArrayLike,
    *,
    inclusion_prob: ArrayLike | None = None,
    min_n_items: int = 30,
    z: float = Z95,
) -> PopulationEstimate | None:
    """PPI estimate of the pool win rate (§3.4); ``None`` when there is no audit stratum.

    ``y_audit``: human item score Y_i per audit item (½(ȳ_+1 + ȳ_−1), or the orientation present);
    ``f_audit``: the judge's mean canonical score on the same items; ``f_rest``: judge scores of
    the other judged pool items; ``inclusion_prob``: π_i per audit item for the Horvitz–Thompson
    form (omit for a uniform audit). Audit below ``min_n_items`` → ``insufficient_data`` (numbers
    kept); a variance that needs two values but has fewer → ``undefined``.
    """
    y = as_float_array(y_audit, "y_audit")
    fa = as_float_array(f_audit, "f_audit")
    fr = as_float_array(f_rest, "f_rest")
    n = check_same_length(y_audit=y, f_audit=fa)
    if n == 0:
        return None
    for name, arr in (("y_audit", y), ("f_audit", fa), ("f_rest", fr)):
        if np.any(~np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
            raise ValueError(f"{name} must hold scores in [0, 1]")
    weighted = inclusion_prob is not None
    if inclusion_prob is not None:
        pi = as_float_array(inclusion_prob, "inclusion_prob")
        check_same_length(y_audit=y, inclusion_prob=pi)
        if np.any(~(pi > 0) | (pi > 1)):
            raise ValueError("inclusion probabilities must lie in (0, 1]")
        w = 1.0 / pi
    else:
        w = np.ones(n)
    r = y - fa
    pool = np.concatenate([fa, fr]) if weighted else fr
    n_pool = int(n + fr.size)
    status: EvidenceStatus = "ok"
    reasons: list[str | None] = []
    if n < min_n_items:
        status = "insufficient_data"
        reasons.append(f"n_audit {n} < min_n_items {min_n_items}")

    sw = float(w.sum())
    human = float((w * y).sum() / sw)
    rect = float((w * r).sum() / sw)
    judge = float(pool.mean()) if pool.size else None
    human_se: float | None = None
    rect_var: float | None = None
    if n >= 2:
        scale = n / (n - 1.0) / (sw * sw)
        human_se = float(np.sqrt(scale * (w * w * (y - human) ** 2).sum()))
        rect_var = float(scale * (w * w * (r - rect) ** 2).sum())
    judge_var = _sample_var(pool)

    if judge is None:
        return PopulationEstimate(
            None,
            None,
            None,
            None,
            "none",
            worst_status(status, "undefined"),
            join_reasons(*reasons, "no judged pool item outside the audit"),
            None,
            rect,
            human,
            human_se,
            n_pool,
            n,
            weighted,
        )
    theta = judge + rect
    if judge_var is None or rect_var is None:
        return PopulationEstimate(
            theta,
            None,
            None,
            None,
            "none",
            worst_status(status, "undefined"),
            join_reasons(*reasons, "a variance needs at least two items in each term"),
            judge,
            rect,
            human,
            human_se,
            n_pool,
            n,
            weighted,
        )
    se = float(np.sqrt(judge_var / pool.size + rect_var))
    low = min(1.0, max(0.0, theta - z * se))
    high = min(1.0, max(0.0, theta + z * se))
    return PopulationEstimate(
        theta,
        low,
        high,
        se,
        "ppi_normal",
        status,
        join_reasons(*reasons),
        judge,
        rect,
        human,
        human_se,
        n_pool,
        n,
        weighted,
    )
