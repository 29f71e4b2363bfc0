"""Position bias of human labelers and LLM judges (STATISTICS.md §5).

Under counterbalancing a labeler without side preference chooses the left response in half of
their decisive labels, so P(left | decisive) = ½ and the position bias index PBI = 2P − 1 = 0. A
labeler is flagged when they have at least 30 decisive labels and the Wilson 95% interval excludes
½ (always Wilson here, whatever the §6.2 rule says for exported proportions). Judges run both
display orders: their P(left | decisive) uses single-order verdicts, and the flip rate is the
share of items whose two canonical verdicts differ (Wilson over items).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.domain.model import Verdict
from reviewdesk.stats.common import (
    EvidenceStatus,
    IntArray,
    as_bool_array,
    check_same_length,
    finite_or_none,
)
from reviewdesk.stats.proportions import ProportionResult, proportion, wilson_bounds

FLAG_MIN_DECISIVE = 30
"""A labeler is flagged only with at least this many decisive labels (§5)."""


@dataclass(frozen=True)
class PositionBias:
    """P(left | decisive) of one labeler (or pooled), its Wilson CI, PBI = 2P − 1 and the flag."""

    key: str
    n_decisive: int
    x_left: int
    p_left: float | None
    ci_low: float | None
    ci_high: float | None
    pbi: float | None
    flagged: bool
    status: EvidenceStatus
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "n_decisive": self.n_decisive,
            "x_left": self.x_left,
            "p_left": finite_or_none(self.p_left),
            "ci_low": finite_or_none(self.ci_low),
            "ci_high": finite_or_none(self.ci_high),
            "pbi": finite_or_none(self.pbi),
            "flagged": self.flagged,
            "status": self.status,
            "reason": self.reason,
        }


def _bias(keys: Sequence[str], n: IntArray, x: IntArray, min_n: int) -> tuple[PositionBias, ...]:
    low, high = wilson_bounds(x, n)
    out = []
    for i, key in enumerate(keys):
        ni, xi = int(n[i]), int(x[i])
        if ni == 0:
            out.append(
                PositionBias(
                    key, 0, 0, None, None, None, None, False, "undefined", "no decisive labels"
                )
            )
            continue
        p = xi / ni
        lo, hi = float(low[i]), float(high[i])
        enough = ni >= min_n
        flagged = enough and (lo > 0.5 or hi < 0.5)
        status: EvidenceStatus = "ok" if enough else "insufficient_data"
        reason = None if enough else f"{ni} decisive labels < {min_n}"
        out.append(PositionBias(key, ni, xi, p, lo, hi, 2.0 * p - 1.0, flagged, status, reason))
    return tuple(out)


def labeler_position_bias(
    labeler: ArrayLike,
    decisive: ArrayLike,
    chose_left: ArrayLike,
    *,
    min_n: int = FLAG_MIN_DECISIVE,
) -> tuple[PositionBias, ...]:
    """Per labeler (sorted by id): P(left | decisive), Wilson CI, PBI and the n ≥ 30 flag (§5).

    Per label: ``labeler`` id, ``decisive`` (canonical choice A or B), ``chose_left`` (the screen
    choice was left). Labels with an unknown display side must be left out by the caller.
    """
    who = np.asarray(labeler)
    dec = as_bool_array(decisive, "decisive")
    left = as_bool_array(chose_left, "chose_left")
    check_same_length(labeler=who, decisive=dec, chose_left=left)
    keys, inverse = np.unique(who, return_inverse=True)
    n = np.bincount(inverse, weights=dec, minlength=len(keys)).astype(np.int64)
    x = np.bincount(inverse, weights=dec & left, minlength=len(keys)).astype(np.int64)
    return _bias([str(k) for k in keys], n, x, min_n)


def pooled_position_bias(
    decisive: ArrayLike, chose_left: ArrayLike, *, key: str = "pooled", min_n: int = 30
) -> PositionBias:
    """P(left | decisive) pooled over all labels given (a slice, or everyone), as in §5."""
    dec = as_bool_array(decisive, "decisive")
    left = as_bool_array(chose_left, "chose_left")
    check_same_length(decisive=dec, chose_left=left)
    n = np.array([np.count_nonzero(dec)], dtype=np.int64)
    x = np.array([np.count_nonzero(dec & left)], dtype=np.int64)
    return _bias([key], n, x, min_n)[0]


# --------------------------------------------------------------------------------------------
# Judges
# --------------------------------------------------------------------------------------------

VERDICT_CODES: dict[str, int] = {
    Verdict.A.value: 1,
    Verdict.B.value: 2,
    Verdict.TIE.value: 3,
    Verdict.BOTH_BAD.value: 4,
}


def verdict_codes(verdicts: Sequence[str | Verdict | None]) -> IntArray:
    """Canonical verdicts as codes: 0 missing, 1 A, 2 B, 3 tie, 4 both_bad."""
    out = np.zeros(len(verdicts), dtype=np.int64)
    for i, v in enumerate(verdicts):
        if v is None or v == "":
            continue
        value = v.value if isinstance(v, Verdict) else str(v)
        if value not in VERDICT_CODES:
            raise ValueError(f"unknown verdict {v!r}")
        out[i] = VERDICT_CODES[value]
    return out


@dataclass(frozen=True)
class JudgePositionBias:
    """One judge on one slice: P(left | decisive) over single-order verdicts and the flip rate."""

    p_left: PositionBias
    flip_rate: ProportionResult
    n_items_both_orders: int


def judge_position_bias(
    verdict_ab: ArrayLike,
    verdict_ba: ArrayLike,
    *,
    key: str = "judge",
    min_n: int = FLAG_MIN_DECISIVE,
) -> JudgePositionBias:
    """Judge position bias from its canonical verdicts per item in each order (§5).

    ``verdict_ab``/``verdict_ba``: codes of :func:`verdict_codes` (0 = order not run). In order AB
    slot A is shown left, so a verdict A chose left; in order BA a verdict B did. The flip rate
    counts items with both orders whose verdicts differ (tie and both_bad are distinct verdicts),
    with a Wilson interval over items.
    """
    ab = np.asarray(verdict_ab, dtype=np.int64)
    ba = np.asarray(verdict_ba, dtype=np.int64)
    check_same_length(verdict_ab=ab, verdict_ba=ba)
    if np.any((ab < 0) | (ab > 4)) or np.any((ba < 0) | (ba > 4)):
        raise ValueError("verdict codes must lie in 0..4")
    dec_ab = (ab == 1) | (ab == 2)
    dec_ba = (ba == 1) | (ba == 2)
    n_dec = int(np.count_nonzero(dec_ab) + np.count_nonzero(dec_ba))
    x_left = int(np.count_nonzero(ab == 1) + np.count_nonzero(ba == 2))
    p_left = _bias([key], np.array([n_dec]), np.array([x_left]), min_n)[0]
    both = (ab > 0) & (ba > 0)
    n_both = int(np.count_nonzero(both))
    flips = int(np.count_nonzero(both & (ab != ba)))
    return JudgePositionBias(p_left, proportion(flips, n_both, method="wilson"), n_both)
