"""Shared vocabulary of the statistics engine: status values, array aliases, small helpers.

Every estimator returns a frozen dataclass whose ``status`` is one of the evidence statuses of
STATISTICS.md §8.1 and whose ``reason`` says, in words fit for a report, why a number is missing or
not to be trusted. Degenerate data never raises and never yields a made-up number (§2.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

Z95 = 1.959963984540054
"""Two-sided 95% normal quantile (STATISTICS.md, notation)."""

EvidenceStatus: TypeAlias = Literal["ok", "insufficient_data", "quarantined", "undefined"]
"""Evidence status of a record (§8.1). Estimators produce all but ``quarantined``, which the
services assign (§7.6)."""

EVIDENCE_STATUSES: tuple[EvidenceStatus, ...] = (
    "ok",
    "insufficient_data",
    "quarantined",
    "undefined",
)

CiMethod: TypeAlias = Literal[
    "item_bootstrap_percentile",
    "unit_bootstrap_percentile",
    "wilson",
    "clopper_pearson",
    "newcombe_paired",
    "ppi_normal",
    "sandwich_normal",
    "none",
]

FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.int64]
BoolArray: TypeAlias = NDArray[np.bool_]

SeedLike: TypeAlias = int | np.random.Generator
"""An explicit seed or generator: resampling never uses global random state (§1.3)."""


def as_generator(seed: SeedLike) -> np.random.Generator:
    """A ``numpy.random.Generator`` for ``seed`` (a generator is used as is, not copied)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int or numpy.random.Generator, not {type(seed).__name__}")
    return np.random.default_rng(int(seed))


def seed_of(seed: SeedLike) -> int | None:
    """The integer seed to record in ``extras.seed``, when one was given."""
    if isinstance(seed, np.random.Generator):
        return None
    return int(seed)


def percentile_ci(values: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval: quantiles (1 ± level)/2, Hyndman–Fan type 7 (numpy's default)."""
    tail = (1.0 - level) / 2.0
    arr = np.asarray(values, dtype=np.float64)
    low, high = np.quantile(arr, [tail, 1.0 - tail])
    return float(low), float(high)


def finite_or_none(value: Any) -> float | None:
    """``float(value)`` when it is a finite number, else ``None`` (JSON never gets NaN)."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def as_float_array(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def as_int_array(values: ArrayLike, name: str) -> IntArray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        as_float = arr.astype(np.float64)
        if not np.all(np.isfinite(as_float)) or np.any(as_float != np.round(as_float)):
            raise ValueError(f"{name} must hold integers")
    return arr.astype(np.int64)


def as_bool_array(values: ArrayLike, name: str) -> BoolArray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr.astype(np.bool_)


def check_same_length(**arrays: NDArray[Any]) -> int:
    """The common length of the named arrays; ``ValueError`` naming them if they differ."""
    lengths = {name: len(arr) for name, arr in arrays.items()}
    distinct = set(lengths.values())
    if len(distinct) > 1:
        detail = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"arrays must have the same length: {detail}")
    return distinct.pop() if distinct else 0


def worst_status(*statuses: EvidenceStatus) -> EvidenceStatus:
    """Combine statuses: quarantined > insufficient_data > undefined > ok (§8.1)."""
    order: dict[EvidenceStatus, int] = {
        "ok": 0,
        "undefined": 1,
        "insufficient_data": 2,
        "quarantined": 3,
    }
    best: EvidenceStatus = "ok"
    for status in statuses:
        if status not in order:
            raise ValueError(f"unknown evidence status {status!r}")
        if order[status] > order[best]:
            best = status
    return best


def join_reasons(*reasons: str | None) -> str | None:
    parts = [r for r in reasons if r]
    return "; ".join(parts) if parts else None


@dataclass(frozen=True)
class Estimate:
    """One number with its interval, status and reason: the building block of larger results.

    ``estimate`` and the bounds are ``None`` exactly when the quantity is undefined (or, for the
    bounds, when no interval was computed); a non-ok status may still carry numbers for display.
    """

    estimate: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_method: CiMethod = "none"
    status: EvidenceStatus = "ok"
    reason: str | None = None

    @staticmethod
    def undefined(reason: str) -> Estimate:
        return Estimate(None, None, None, "none", "undefined", reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": finite_or_none(self.estimate),
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "ci_method": self.ci_method,
            "status": self.status,
            "reason": self.reason,
        }
