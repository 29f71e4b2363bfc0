"""Cluster (item/unit) bootstrap engine shared by every resampling interval.

STATISTICS.md §1.3: resampling draws whole items with all their labels. A replicate draws ``n``
indices uniformly with replacement from ``[0, n)`` (items sorted by id, as the caller arranged
them); its statistic depends on the data only through per-item sums weighted by how often each
item was drawn, so a chunk of replicates is one ``bincount`` (multiplicity matrix) and one matrix
product. Replicates whose statistic is undefined are discarded but have used their draws; drawing
continues until ``n_boot`` valid replicates exist, and more than ``n_boot`` discards stop the
bootstrap (``insufficient_data``) — the redraw rule of §2.1 and §3.2.

Drawing the index matrix chunk by chunk is equivalent to drawing each replicate's ``n`` indices in
turn (§3.2, O-W1): ``Generator.integers`` consumes the bit stream identically however the requests
are split, and rows are consumed in order, so chunk sizes never change the result.

When a statistic depends on the items only through summed per-item features,
:func:`resample_sums` groups items whose feature rows are identical (agreement data has few
distinct count patterns) and draws how many items of each group a replicate takes as one
multinomial — the same distribution as drawing n items with replacement, at a cost independent of
n. Interval tests that fix a random stream (O-W1) use :func:`resample_items`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reviewdesk.domain.progress import CancelToken
from reviewdesk.stats.common import BoolArray, FloatArray

DEFAULT_MAX_CELLS = 2_000_000
"""Index-matrix cells per chunk (replicates × items): bounds memory at a few tens of MB."""

Evaluator = Callable[[FloatArray], tuple[BoolArray, FloatArray]]
"""Maps a multiplicity matrix (replicates × items) to (valid mask, outputs replicates × k)."""

Statistic = Callable[[FloatArray], tuple[BoolArray, FloatArray]]
"""Maps summed features (replicates × d) to (valid mask, outputs replicates × k)."""


@dataclass(frozen=True)
class Resampled:
    """Outputs of the valid replicates, in draw order, and the redraw bookkeeping."""

    values: FloatArray  # (n_valid, k)
    n_redraws: int
    complete: bool  # n_boot valid replicates reached with at most n_boot redraws

    @property
    def n_valid(self) -> int:
        return int(self.values.shape[0])


def multiplicities(indices: np.ndarray, n: int) -> FloatArray:
    """How often each of ``n`` items occurs in each row of an index matrix (rows × n)."""
    rows = indices.shape[0]
    offsets = (np.arange(rows, dtype=np.int64) * n)[:, None]
    flat = np.bincount((indices + offsets).ravel(), minlength=rows * n)
    return np.asarray(flat.reshape(rows, n), dtype=np.float64)


PRODUCT_BLOCK_CELLS = 1 << 16
"""Index cells per block of :func:`multiplicity_products` (≈ 0.5 MB per temporary array)."""


def multiplicity_products(indices: np.ndarray, n: int, features: FloatArray) -> FloatArray:
    """``multiplicities(indices, n) @ features``, computed a block of rows at a time.

    The one-shot product's numbers (to the last bits: BLAS may sum a block in another order),
    faster on a monitor window (2000 × 450 draws; 18.9 s → 17.1 s for a cold monitor run in a
    profiling script, not a benchmark): the one-shot temporaries
    (offset indices, counts, their float copy: 7 MB each) are fresh pages every time, and
    faulting them in cost more than the counting; blocks of 64k cells
    are reused from the allocator and stay in cache.
    """
    rows = indices.shape[0]
    out = np.empty((rows, features.shape[1]), dtype=np.float64)
    block = max(1, PRODUCT_BLOCK_CELLS // max(n, 1))
    offsets = (np.arange(min(block, rows), dtype=np.int64) * n)[:, None]
    for start in range(0, rows, block):
        stop = min(start + block, rows)
        flat = (indices[start:stop] + offsets[: stop - start]).ravel()
        counts = np.bincount(flat, minlength=(stop - start) * n).reshape(stop - start, n)
        np.matmul(counts.astype(np.float64), features, out=out[start:stop])
    return out


def resample_items(
    n: int,
    n_boot: int,
    rng: np.random.Generator,
    evaluate: Evaluator,
    *,
    max_cells: int = DEFAULT_MAX_CELLS,
    cancel: CancelToken | None = None,
) -> Resampled:
    """Run the item bootstrap with the redraw rule; see the module docstring."""
    if n <= 0 or n_boot <= 0:
        return Resampled(np.empty((0, 0), dtype=np.float64), 0, n_boot <= 0)
    rows_per_chunk = max(1, max_cells // n)
    kept: list[FloatArray] = []
    n_valid = 0
    n_redraws = 0
    while n_valid < n_boot:
        if cancel is not None:
            cancel.check()
        need = n_boot - n_valid
        rows = min(rows_per_chunk, need)
        indices = rng.integers(0, n, size=(rows, n))
        valid, out = evaluate(multiplicities(indices, n))
        positions = np.flatnonzero(valid)
        if positions.size >= need:
            last = int(positions[need - 1])
            n_redraws += last + 1 - need
            kept.append(out[positions[:need]])
            n_valid += need
        else:
            n_redraws += rows - int(positions.size)
            kept.append(out[positions])
            n_valid += int(positions.size)
        if n_redraws > n_boot:
            values = np.concatenate(kept, axis=0) if kept else np.empty((0, 0))
            return Resampled(np.asarray(values, dtype=np.float64), n_redraws, False)
    values = np.concatenate(kept, axis=0)
    return Resampled(np.asarray(values, dtype=np.float64), n_redraws, True)


def unique_rows(features: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """``np.unique(features, axis=0, return_inverse=True)``, several times faster.

    ``np.unique`` along an axis sorts the rows as structured records, field by field; here the
    rows are first grouped by their bytes (one 1-D sort) and only the distinct rows are put in
    lexicographic order, which gives the same groups in the same order. Rows with NaN (never
    produced by the callers) take the exact ``np.unique`` path.
    """
    arr = np.ascontiguousarray(features, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or not np.all(np.isfinite(arr)):
        groups, inverse = np.unique(arr, axis=0, return_inverse=True)
        return np.asarray(groups, dtype=np.float64), inverse.ravel()
    arr = arr + 0.0  # -0.0 and 0.0 are equal rows but different bytes
    keys = arr.view(np.dtype((np.void, arr.dtype.itemsize * arr.shape[1]))).ravel()
    _, first, by_bytes = np.unique(keys, return_index=True, return_inverse=True)
    distinct = arr[first]
    order = np.lexsort(distinct.T[::-1])
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return distinct[order], rank[by_bytes.ravel()]


def resample_sums(
    features: FloatArray,
    n_boot: int,
    rng: np.random.Generator,
    statistic: Statistic,
    *,
    max_cells: int = DEFAULT_MAX_CELLS,
    cancel: CancelToken | None = None,
) -> Resampled:
    """The item bootstrap of a statistic of Σ_i c_i·features_i (c = how often item i was drawn).

    Items with identical feature rows are interchangeable: when they form few groups (at most a
    quarter of the items), a replicate draws its group counts from one multinomial; otherwise it
    draws item indices as :func:`resample_items` does. The redraw rule is the same.
    """
    n = int(features.shape[0])
    if n == 0 or n_boot <= 0:
        return Resampled(np.empty((0, 0), dtype=np.float64), 0, n_boot <= 0)
    groups, inverse = unique_rows(features)
    if len(groups) * 4 > n:

        def evaluate(weights: FloatArray) -> tuple[BoolArray, FloatArray]:
            return statistic(weights @ features)

        return resample_items(n, n_boot, rng, evaluate, max_cells=max_cells, cancel=cancel)
    sizes = np.bincount(inverse.ravel(), minlength=len(groups))
    probs = sizes / float(n)
    rows_per_chunk = max(1, max_cells // len(groups))
    kept: list[FloatArray] = []
    n_valid = 0
    n_redraws = 0
    while n_valid < n_boot:
        if cancel is not None:
            cancel.check()
        need = n_boot - n_valid
        counts = rng.multinomial(n, probs, size=min(rows_per_chunk, need)).astype(np.float64)
        valid, out = statistic(counts @ groups)
        positions = np.flatnonzero(valid)
        if positions.size >= need:
            n_redraws += int(positions[need - 1]) + 1 - need
            kept.append(out[positions[:need]])
            n_valid += need
        else:
            n_redraws += len(counts) - int(positions.size)
            kept.append(out[positions])
            n_valid += int(positions.size)
        if n_redraws > n_boot:
            return Resampled(np.asarray(np.concatenate(kept, axis=0)), n_redraws, False)
    return Resampled(np.asarray(np.concatenate(kept, axis=0)), n_redraws, True)
