"""Binomial proportions: Wilson, Clopper–Pearson, the §6.2 rule, Newcombe's paired interval.

STATISTICS.md §6.2: Wilson is the default; exported proportions switch to the exact Clopper–Pearson
interval when x = 0, x = n or n < 30, where Wilson's coverage is poorest. §6.3: a paired difference
between two releases on the same items uses Newcombe's (1998) score interval built from the two
Wilson intervals and a continuity-corrected φ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.stats.common import (
    Z95,
    CiMethod,
    EvidenceStatus,
    FloatArray,
    finite_or_none,
)

ProportionMethod = Literal["auto", "wilson", "clopper_pearson"]

CP_SMALL_N = 30
"""Below this n (or at x = 0 or x = n) exported proportions use Clopper–Pearson (§6.2)."""


def _check_counts(x: int, n: int) -> None:
    if isinstance(x, bool) or isinstance(n, bool):
        raise TypeError("x and n must be integers, not bool")
    if n < 0 or x < 0 or x > n:
        raise ValueError(f"need 0 <= x <= n, got x={x}, n={n}")


def wilson_interval(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927) score interval for x successes in n trials, clipped to [0, 1] (§6.2).

    n = 0 gives (nan, nan): callers map that to ``undefined``.
    """
    _check_counts(x, n)
    low, high = wilson_bounds(np.array([x]), np.array([n]), z)
    return float(low[0]), float(high[0])


def wilson_bounds(x: ArrayLike, n: ArrayLike, z: float = Z95) -> tuple[FloatArray, FloatArray]:
    """Vectorised Wilson bounds; NaN where n = 0; exactly 0 at x = 0 and 1 at x = n."""
    xs = np.asarray(x, dtype=np.float64)
    ns = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = xs / ns
        z2 = z * z
        denom = 1.0 + z2 / ns
        centre = (p + z2 / (2.0 * ns)) / denom
        half = z * np.sqrt(np.maximum(p * (1.0 - p) / ns + z2 / (4.0 * ns * ns), 0.0)) / denom
        low = np.clip(centre - half, 0.0, 1.0)
        high = np.clip(centre + half, 0.0, 1.0)
    low = np.where(xs == 0, 0.0, low)
    high = np.where(xs == ns, 1.0, high)
    empty = ns <= 0
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _log_binomial_pmf_terms(n: int) -> FloatArray:
    """log C(n, k) for k = 0..n (exact to rounding via lgamma)."""
    log_fact = np.array([math.lgamma(k + 1.0) for k in range(n + 1)], dtype=np.float64)
    return np.asarray(log_fact[n] - log_fact - log_fact[::-1], dtype=np.float64)


def _upper_tail(log_coef: FloatArray, x: int, n: int, p: float) -> float:
    """P(X >= x | n, p) by summing the exact pmf."""
    if p <= 0.0:
        return 1.0 if x <= 0 else 0.0
    if p >= 1.0:
        return 1.0
    k = np.arange(x, n + 1, dtype=np.float64)
    logs = log_coef[x:] + k * math.log(p) + (n - k) * math.log1p(-p)
    return float(np.exp(logs).sum())


def _lower_tail(log_coef: FloatArray, x: int, n: int, p: float) -> float:
    """P(X <= x | n, p) by summing the exact pmf."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if x >= n else 0.0
    k = np.arange(0, x + 1, dtype=np.float64)
    logs = log_coef[: x + 1] + k * math.log(p) + (n - k) * math.log1p(-p)
    return float(np.exp(logs).sum())


def clopper_pearson_interval(
    x: int, n: int, alpha: float = 0.05, tol: float = 1e-10
) -> tuple[float, float]:
    """Exact Clopper–Pearson (1934) interval by bisection of the binomial tails (§6.2).

    The lower bound solves P(X >= x | n, p) = alpha/2 (0 at x = 0), the upper bound solves
    P(X <= x | n, p) = alpha/2 (1 at x = n); the edge formulas upper(0) = 1 − (alpha/2)^(1/n) and
    lower(n) = (alpha/2)^(1/n) are used exactly. n = 0 gives (nan, nan).
    """
    _check_counts(x, n)
    if n == 0:
        return math.nan, math.nan
    half = alpha / 2.0
    if x == 0:
        return 0.0, 1.0 - half ** (1.0 / n)
    if x == n:
        return half ** (1.0 / n), 1.0
    log_coef = _log_binomial_pmf_terms(n)

    lo, hi = 0.0, 1.0  # P(X >= x | p) increases with p
    while hi - lo > tol:
        mid = (lo + hi) / 2.0
        if _upper_tail(log_coef, x, n, mid) < half:
            lo = mid
        else:
            hi = mid
    lower = (lo + hi) / 2.0

    lo, hi = 0.0, 1.0  # P(X <= x | p) decreases with p
    while hi - lo > tol:
        mid = (lo + hi) / 2.0
        if _lower_tail(log_coef, x, n, mid) > half:
            lo = mid
        else:
            hi = mid
    upper = (lo + hi) / 2.0
    return lower, upper


def select_proportion_method(x: int, n: int) -> Literal["wilson", "clopper_pearson"]:
    """§6.2: Clopper–Pearson when x = 0, x = n or n < 30, else Wilson."""
    _check_counts(x, n)
    if x == 0 or x == n or n < CP_SMALL_N:
        return "clopper_pearson"
    return "wilson"


@dataclass(frozen=True)
class ProportionResult:
    """x/n with the interval named by ``ci_method``; ``undefined`` (no numbers) when n = 0."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    x: int
    n: int
    status: EvidenceStatus = "ok"
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": finite_or_none(self.estimate),
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "ci_method": self.ci_method,
            "x": self.x,
            "n": self.n,
            "status": self.status,
            "reason": self.reason,
        }


def proportion(
    x: int,
    n: int,
    *,
    method: ProportionMethod = "auto",
    min_n: int = 0,
    z: float = Z95,
) -> ProportionResult:
    """A proportion with its interval: ``auto`` applies the §6.2 rule, or force one method.

    n = 0 → ``undefined``; n < ``min_n`` → ``insufficient_data`` (numbers kept for display).
    """
    x, n = int(x), int(n)
    _check_counts(x, n)
    if n == 0:
        return ProportionResult(None, None, None, "none", x, n, "undefined", "no items (n = 0)")
    chosen = select_proportion_method(x, n) if method == "auto" else method
    if chosen == "wilson":
        low, high = wilson_interval(x, n, z)
    elif chosen == "clopper_pearson":
        low, high = clopper_pearson_interval(x, n)
    else:
        raise ValueError(f"unknown proportion method {method!r}")
    status: EvidenceStatus = "ok"
    reason = None
    if n < min_n:
        status, reason = "insufficient_data", f"n_items {n} < min_n_items {min_n}"
    return ProportionResult(x / n, low, high, chosen, x, n, status, reason)


@dataclass(frozen=True)
class PairedDifference:
    """New − old failure rate on the same items with Newcombe's paired interval (§6.3).

    a = both fail, b = only new fails, c = only old fails, d = neither. ``x`` of an exported
    ``_delta`` record has no single meaning, so the counts are kept separately.
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    a: int
    b: int
    c: int
    d: int
    p_new: float | None
    p_old: float | None
    phi: float | None
    status: EvidenceStatus = "ok"
    reason: str | None = None

    @property
    def n(self) -> int:
        return self.a + self.b + self.c + self.d

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": finite_or_none(self.estimate),
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "ci_method": self.ci_method,
            "a": self.a,
            "b": self.b,
            "c": self.c,
            "d": self.d,
            "n": self.n,
            "p_new": finite_or_none(self.p_new),
            "p_old": finite_or_none(self.p_old),
            "phi": finite_or_none(self.phi),
            "status": self.status,
            "reason": self.reason,
        }


def newcombe_phi(a: int, b: int, c: int, d: int) -> float:
    """Continuity-corrected φ of §6.3 (0 when a margin is 0)."""
    n = a + b + c + d
    margins = float(a + b) * float(c + d) * float(a + c) * float(b + d)
    if margins == 0.0:
        return 0.0
    diff = float(a) * d - float(b) * c
    if diff > n / 2.0:
        corrected = diff - n / 2.0
    elif diff < 0:
        corrected = diff
    else:
        corrected = 0.0
    return corrected / math.sqrt(margins)


def newcombe_paired_difference(
    a: int, b: int, c: int, d: int, *, min_n: int = 0, z: float = Z95
) -> PairedDifference:
    """Newcombe's (1998) score interval for p_new − p_old from a paired 2×2 table (§6.3)."""
    a, b, c, d = int(a), int(b), int(c), int(d)
    if min(a, b, c, d) < 0:
        raise ValueError("paired counts must be non-negative")
    n = a + b + c + d
    if n == 0:
        return PairedDifference(
            None, None, None, "none", a, b, c, d, None, None, None, "undefined", "no paired items"
        )
    p1 = (a + b) / n
    p2 = (a + c) / n
    l1, u1 = wilson_interval(a + b, n, z)
    l2, u2 = wilson_interval(a + c, n, z)
    phi = newcombe_phi(a, b, c, d)
    delta = p1 - p2
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    lower = delta - math.sqrt(max(dl1 * dl1 - 2.0 * phi * dl1 * du2 + du2 * du2, 0.0))
    upper = delta + math.sqrt(max(dl2 * dl2 - 2.0 * phi * dl2 * du1 + du1 * du1, 0.0))
    status: EvidenceStatus = "ok"
    reason = None
    if n < min_n:
        status, reason = "insufficient_data", f"n_items {n} < min_n_items {min_n}"
    return PairedDifference(
        delta,
        max(-1.0, lower),
        min(1.0, upper),
        "newcombe_paired",
        a,
        b,
        c,
        d,
        p1,
        p2,
        phi,
        status,
        reason,
    )
