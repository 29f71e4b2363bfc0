"""Bradley–Terry on 1M comparisons among 50 models: fit, sandwich CIs, 1000 bootstrap replicates.

STATISTICS.md §4 and §9. The comparisons are drawn from known strengths (Arena-like: most pairs
compared, ties 10%), every comparison its own item, as in a battle log. The figures are the wall
time of :func:`reviewdesk.stats.bradley_terry.bradley_terry` without a bootstrap (aggregation,
connectivity checks, Newton fit, sandwich covariance) and with ``n_boot = 1000`` (item-cluster
bootstrap by reweighting). The reference, measured in the same run, is one ``numpy.bincount``
over the same comparisons' aggregation keys — the least any BT fit has to do to see its data.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import best_of, machine, report

N_COMPARISONS = 1_000_000
N_MODELS = 50
N_BOOT = 1000


def comparisons() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(20261121)
    strength = rng.normal(0.0, 0.8, N_MODELS)
    a = rng.integers(0, N_MODELS, N_COMPARISONS)
    b = (a + rng.integers(1, N_MODELS, N_COMPARISONS)) % N_MODELS
    p = 1.0 / (1.0 + np.exp(strength[b] - strength[a]))
    u = rng.random(N_COMPARISONS)
    y = np.where(u < 0.1, 0.5, np.where(rng.random(N_COMPARISONS) < p, 1.0, 0.0))
    return a, b, y, [f"model-{m:02d}" for m in range(N_MODELS)]


def main() -> None:
    from reviewdesk.stats.bradley_terry import bradley_terry

    print(f"# Bradley-Terry benchmark on {machine()}")
    a, b, y, models = comparisons()
    print(f"# {N_COMPARISONS:,} comparisons among {N_MODELS} models, B = {N_BOOT}")
    keys = (a * N_MODELS + b) * 3 + (2 * y).astype(np.int64)
    ref = best_of(3, lambda: np.bincount(keys, minlength=N_MODELS * N_MODELS * 3))
    fit_s = best_of(2, lambda: bradley_terry(a, b, y, models=models))
    start = time.perf_counter()
    result = bradley_terry(a, b, y, models=models, n_boot=N_BOOT, rng=7)
    boot_s = time.perf_counter() - start
    ok = sum(1 for m in result.models if m.status == "ok")
    report(
        "bt-fit",
        f"{fit_s * 1000:.0f} ms for the fit with sandwich CIs ({result.n_iter} Newton iterations, "
        f"{ok}/{N_MODELS} models rated); reference one bincount {ref * 1000:.1f} ms",
        fit_s / ref,
        "none (STATISTICS.md §9: 5 ms aggregation + 14 ms Newton)",
        None,
    )
    report(
        "bt-bootstrap",
        f"{boot_s:.2f} s for the fit and {N_BOOT} item-bootstrap replicates "
        f"({boot_s / N_BOOT * 1000:.1f} ms per replicate, {result.n_redraws} redraws)",
        boot_s / ref,
        "none (STATISTICS.md §9: about 8 s)",
        None,
    )


if __name__ == "__main__":
    main()
