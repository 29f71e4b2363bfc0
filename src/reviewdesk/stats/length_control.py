"""Length-controlled win rate: a fractional-outcome logistic fit by IRLS (STATISTICS.md §3.5).

A two-system simplification of AlpacaEval 2's length-controlled win rate (Dubois et al. 2024):
logit E[s_l] = β0 + β_len·x_i + β_pos·o_l with x_i = tanh(Δlen_i/sd_len), one unit weight per label.
The reported rate removes both nuisances by evaluating the model at x = 0 and averaging the two
orientations: cwr_lc = ½[σ(β0 + β_pos) + σ(β0 − β_pos)] (σ(β0) only for a model without a position
term — never σ(β0) of a model that has one; O-W1 shows the difference, 0.677083 vs 0.765987).

Labels sharing (item, orientation) share a linear predictor, so fits run on grouped rows with
trials n_r and successes S_r (identical likelihood). Bootstrap replicates are refitted exactly,
vectorised across replicates, by :func:`lc_replicate_fits`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.stats.common import (
    BoolArray,
    FloatArray,
    IntArray,
    as_float_array,
    check_same_length,
    finite_or_none,
)

MAX_ITER = 50
"""IRLS iteration cap; no convergence within it → ``cwr_lc = null`` (§3.5)."""

TOL = 1e-10

LcStatus = Literal["ok", "no_convergence", "undefined", "not_computed"]


def expit(eta: ArrayLike) -> FloatArray:
    """σ(t) = 1/(1 + e^(−t)), computed as ½(1 + tanh(t/2)) so it never overflows."""
    t = np.asarray(eta, dtype=np.float64)
    return np.asarray(0.5 + 0.5 * np.tanh(0.5 * t), dtype=np.float64)


@dataclass(frozen=True)
class LogitFit:
    """Coefficients of a fractional logit with convergence bookkeeping."""

    beta: tuple[float, ...]
    converged: bool
    n_iter: int
    status: LcStatus
    reason: str | None = None


def fit_fractional_logit(
    design: ArrayLike,
    successes: ArrayLike,
    trials: ArrayLike,
    *,
    start: ArrayLike | None = None,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
) -> LogitFit:
    """Binomial quasi-likelihood fit by Newton/IRLS on grouped rows (successes may be fractional).

    Converged when max|step| < tol·(1 + max|β|). A rank-deficient design (e.g. a constant
    covariate) → ``undefined``; the cap, a singular information matrix on the way (separation:
    fitted rates driven to 0 or 1) or non-finite coefficients → ``no_convergence``.
    """
    x = np.asarray(design, dtype=np.float64)
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    k = x.shape[1]
    beta = np.zeros(k) if start is None else np.asarray(start, dtype=np.float64).copy()
    if np.linalg.matrix_rank(x[n > 0]) < k:
        return LogitFit(
            tuple(float(b) for b in beta),
            False,
            0,
            "undefined",
            "the design is rank-deficient (a covariate does not vary)",
        )
    for iteration in range(1, max_iter + 1):
        p = expit(x @ beta)
        grad = x.T @ (s - n * p)
        hess = (x * (n * p * (1.0 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return LogitFit(
                tuple(float(b) for b in beta),
                False,
                iteration,
                "no_convergence",
                "the information matrix became singular (fitted rates reached 0 or 1)",
            )
        if not np.all(np.isfinite(step)):
            return LogitFit(
                tuple(float(b) for b in beta),
                False,
                iteration,
                "no_convergence",
                "non-finite IRLS step",
            )
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))):
            return LogitFit(tuple(float(b) for b in beta), True, iteration, "ok")
    return LogitFit(
        tuple(float(b) for b in beta),
        False,
        max_iter,
        "no_convergence",
        f"IRLS did not converge in {max_iter} iterations",
    )


def _solve_batch(hess: FloatArray, grad: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Solve many 3 × 3 systems; rows with a singular or non-finite system are flagged bad."""
    ok = np.all(np.isfinite(hess), axis=(1, 2)) & np.all(np.isfinite(grad), axis=1)
    ok &= np.abs(np.linalg.det(np.where(ok[:, None, None], hess, np.eye(3)))) > 1e-300
    step = np.zeros_like(grad)
    if np.any(ok):
        step[ok] = np.linalg.solve(hess[ok], grad[ok][:, :, None])[:, :, 0]
    ok &= np.all(np.isfinite(step), axis=1)
    return step, ok


def _assemble(sum_parts: FloatArray, diff_parts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gradient and Hessian of the 3-parameter model from orientation sums and differences.

    ``sum_parts``/``diff_parts`` hold, per replicate, Σ(·_+ ± ·_−) of [r, x·r, v, x·v, x²·v] with
    r = residual and v = working weight; o = ±1 makes the position column a difference.
    """
    grad = np.column_stack([sum_parts[:, 0], sum_parts[:, 1], diff_parts[:, 0]])
    hess = np.empty((len(sum_parts), 3, 3))
    hess[:, 0, 0] = sum_parts[:, 2]
    hess[:, 0, 1] = hess[:, 1, 0] = sum_parts[:, 3]
    hess[:, 1, 1] = sum_parts[:, 4]
    hess[:, 0, 2] = hess[:, 2, 0] = diff_parts[:, 2]
    hess[:, 1, 2] = hess[:, 2, 1] = diff_parts[:, 3]
    hess[:, 2, 2] = sum_parts[:, 2]
    return grad, hess


BOOT_TOL = 1e-4
"""Replicate fits stop once max|step| < 1e-4. The step is applied and Newton converges
quadratically, so the remaining error in β is of order 1e-8 (tested against full refits) — far
below anything reported — while a large slice needs a single per-item pass after the first
(matrix-product) step."""

_BLOCK_CELLS = 1 << 16
"""Replicates × items per block of the per-item passes (keeps the temporaries in cache)."""


def lc_replicate_fits(
    weights: FloatArray,
    x: FloatArray,
    s_plus: FloatArray,
    n_plus: FloatArray,
    s_minus: FloatArray,
    n_minus: FloatArray,
    beta_hat: FloatArray,
    *,
    max_iter: int = MAX_ITER,
    tol: float = BOOT_TOL,
    steps: int | None = None,
) -> tuple[FloatArray, BoolArray]:
    """Exact refits of the §3.5 model (intercept, length, position) for bootstrap replicates.

    ``weights`` is replicates × items (how often each item was drawn); per item: the feature x_i
    and the orientation sums/counts of scores. Each replicate starts at the full-sample fit
    ``beta_hat``; its first Newton step only needs per-item quantities at ``beta_hat``, so it is
    one matrix product for all replicates. Later steps evaluate σ per item and replicate (in
    cache-sized blocks) until max|step| < ``tol`` or ``max_iter`` steps (then not converged).

    With t = tanh(η/2), σ(η) = ½(1 + t), and a replicate's score and information are
    Σ w(s − n/2)·f − Σ (w t)·(n/2)·f and Σ w(n/4)·f − Σ (w t t)·(n/4)·f for item features f, so
    the β-free halves are one matrix product per chunk and each pass needs only t, w·t and w·t·t.

    ``steps = k`` computes the k-step bootstrap estimator instead (exactly k Newton steps from
    ``beta_hat``; Andrews 2002): k = 1 costs one matrix product for all replicates and differs from
    the full refit by O(1/n), well below the Monte Carlo error of a B = 2000 percentile interval
    on large slices. Returns (β replicates × 3, converged mask; with ``steps`` every replicate whose
    steps were all solvable counts as converged).
    """
    if steps is not None:
        if steps < 1:
            raise ValueError("steps must be at least 1")
        max_iter, tol = steps, -1.0
    reps, n_items = weights.shape
    beta = np.broadcast_to(np.asarray(beta_hat, dtype=np.float64), (reps, 3)).copy()
    converged = np.zeros(reps, dtype=bool)
    if reps == 0:
        return beta, converged
    x2 = x * x
    # first step at beta_hat: per-item residuals and weights are the same for every replicate
    parts = []
    for sign, s_o, n_o in ((1.0, s_plus, n_plus), (-1.0, s_minus, n_minus)):
        p = expit(beta_hat[0] + beta_hat[1] * x + sign * beta_hat[2])
        r = s_o - n_o * p
        v = n_o * p * (1.0 - p)
        parts.append(np.column_stack([r, x * r, v, x * v, x2 * v]))
    features = np.concatenate([parts[0] + parts[1], parts[0] - parts[1]], axis=1)
    sums = weights @ features
    grad, hess = _assemble(sums[:, :5], sums[:, 5:])
    step, ok = _solve_batch(hess, grad)
    beta += step
    done = ok & (np.max(np.abs(step), axis=1) < tol)
    converged |= done
    active = np.flatnonzero(ok & ~done)
    if active.size == 0 or max_iter <= 1:
        if steps is not None:
            converged[active] = True
        return beta, converged
    # β-free parts, per orientation: [Σ w(s − n/2), Σ w(s − n/2)x, Σ w n/4, Σ w n/4 x, Σ w n/4 x²]
    fixed: list[FloatArray] = []
    res_f: list[FloatArray] = []
    inf_f: list[FloatArray] = []
    for s_o, n_o in ((s_plus, n_plus), (s_minus, n_minus)):
        h = s_o - n_o / 2.0
        q = n_o / 4.0
        fixed.append(weights[active] @ np.column_stack([h, h * x, q, q * x, q * x2]))
        res_f.append(np.column_stack([n_o / 2.0, n_o / 2.0 * x]))
        inf_f.append(np.column_stack([q, q * x, q * x2]))
    fixed_at = np.full(reps, -1, dtype=np.int64)  # row of ``fixed`` for each replicate
    fixed_at[active] = np.arange(active.size)
    block = max(1, _BLOCK_CELLS // max(1, n_items))
    t = np.empty((block, n_items))
    wt = np.empty((block, n_items))
    for _ in range(1, max_iter):
        if active.size == 0:
            break
        still: list[IntArray] = []
        for start in range(0, active.size, block):
            rows = active[start : start + block]
            c = len(rows)
            contiguous = rows[-1] - rows[0] == c - 1
            w = weights[rows[0] : rows[-1] + 1] if contiguous else weights[rows]
            b = beta[rows]
            pos = fixed_at[rows]
            sum_parts = np.zeros((c, 5))
            diff_parts = np.zeros((c, 5))
            slope = np.multiply.outer(0.5 * b[:, 1], x)
            for k, sign in enumerate((1.0, -1.0)):
                tk, wk = t[:c], wt[:c]
                np.add(slope, (0.5 * (b[:, 0] + sign * b[:, 2]))[:, None], out=tk)
                np.tanh(tk, out=tk)
                np.multiply(tk, w, out=wk)  # w·t
                tk *= wk  # w·t·t
                part = fixed[k][pos]
                part[:, :2] -= wk @ res_f[k]
                part[:, 2:] -= tk @ inf_f[k]
                sum_parts += part
                diff_parts += sign * part
            grad, hess = _assemble(sum_parts, diff_parts)
            step, ok = _solve_batch(hess, grad)
            beta[rows] = b + step
            done = ok & (np.max(np.abs(step), axis=1) < tol)
            converged[rows[done]] = True
            still.append(rows[ok & ~done])
        active = np.concatenate(still)
    if steps is not None:
        converged[active] = True
    return beta, converged


def marginal_win_rate(beta0: float, beta_pos: float | None) -> float:
    """½[σ(β0 + β_pos) + σ(β0 − β_pos)], or σ(β0) for a model without a position term (§3.5)."""
    if beta_pos is None:
        return float(expit(beta0))
    return float(0.5 * (expit(beta0 + beta_pos) + expit(beta0 - beta_pos)))


def style_sensitive(p: float, cwr_lc: float) -> bool:
    """AlpacaEval's extreme-change warning (§3.5): 10 points absolute and a factor 4 relative."""
    return bool(cwr_lc < min(p - p / 4.0, p - 0.10) or cwr_lc > max(p + (1.0 - p) / 4.0, p + 0.10))


def length_feature_sd(length_delta_per_item: ArrayLike) -> float | None:
    """Sample SD (divisor n − 1) of Δlen over the slice's items; ``None`` if < 2 items or zero."""
    d = np.asarray(length_delta_per_item, dtype=np.float64)
    if d.size < 2:
        return None
    sd = float(np.std(d, ddof=1))
    return sd if sd > 0 and np.isfinite(sd) else None


@dataclass(frozen=True)
class LengthControlResult:
    """The §3.5 fit: coefficients, the marginal rate ``cwr_lc`` and its status."""

    cwr_lc: float | None
    beta0: float | None
    beta_len: float | None
    beta_pos: float | None
    sd_len: float | None
    lc_status: LcStatus
    n_iter: int
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cwr_lc": finite_or_none(self.cwr_lc),
            "beta0": finite_or_none(self.beta0),
            "beta_len": finite_or_none(self.beta_len),
            "beta_pos": finite_or_none(self.beta_pos),
            "sd_len": finite_or_none(self.sd_len),
            "lc_status": self.lc_status,
            "n_iter": self.n_iter,
            "reason": self.reason,
        }


def length_controlled_win_rate(
    score: ArrayLike,
    *,
    orientation: ArrayLike | None = None,
    length_delta: ArrayLike | None = None,
    item: ArrayLike | None = None,
    sd_len: float | None = None,
    max_iter: int = MAX_ITER,
) -> LengthControlResult:
    """Fit logit E[s] = β0 [+ β_len·tanh(Δlen/sd_len)] [+ β_pos·o] and report cwr_lc (§3.5).

    ``score`` per label in {0, ½, 1}; ``orientation`` per label ±1 (omit for no position term);
    ``length_delta`` per label: candidate minus baseline characters of the item (omit for no length
    term); ``item`` identifies items for sd_len (default: each label its own item). ``sd_len`` is
    the frozen standardisation if given, else the slice's sample SD over items.
    """
    s = as_float_array(score, "score")
    columns: list[FloatArray] = [np.ones_like(s)]
    sd_used: float | None = None
    if length_delta is not None:
        delta = as_float_array(length_delta, "length_delta")
        check_same_length(score=s, length_delta=delta)
        if sd_len is None:
            if item is not None:
                keys = np.asarray(item)
                check_same_length(score=s, item=keys)
                _, first = np.unique(keys, return_index=True)
                per_item = delta[first]
            else:
                per_item = delta
            sd_used = length_feature_sd(per_item)
            if sd_used is None:
                return LengthControlResult(
                    None,
                    None,
                    None,
                    None,
                    None,
                    "undefined",
                    0,
                    "length difference has no spread (fewer than 2 items or SD 0)",
                )
        else:
            if not sd_len > 0:
                raise ValueError("sd_len must be positive")
            sd_used = float(sd_len)
        columns.append(np.tanh(delta / sd_used))
    if orientation is not None:
        o = as_float_array(orientation, "orientation")
        check_same_length(score=s, orientation=o)
        if np.any((o != 1) & (o != -1)):
            raise ValueError("orientation must be +1 or -1 for the length-control fit")
        columns.append(o)
    if s.size == 0:
        return LengthControlResult(None, None, None, None, sd_used, "undefined", 0, "no labels")
    fit = fit_fractional_logit(np.column_stack(columns), s, np.ones_like(s), max_iter=max_iter)
    beta = list(fit.beta)
    b0 = beta[0]
    b_len = beta[1] if length_delta is not None else None
    b_pos = beta[-1] if orientation is not None else None
    if fit.status != "ok":
        return LengthControlResult(
            None, b0, b_len, b_pos, sd_used, fit.status, fit.n_iter, fit.reason
        )
    return LengthControlResult(
        marginal_win_rate(b0, b_pos), b0, b_len, b_pos, sd_used, "ok", fit.n_iter
    )
