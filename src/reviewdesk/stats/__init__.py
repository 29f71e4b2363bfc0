"""The statistics engine: pure, Qt-free, database-free functions (STATISTICS.md §1–§8).

Callers (the services) build numpy arrays from a project and pass them in, with an explicit seed
or ``numpy.random.Generator`` for any resampling. Nothing here reads files, clocks or databases;
``krippendorff`` is imported only inside :mod:`agreement`'s functions. Every estimator returns a
small frozen dataclass whose ``status``/``reason`` make degenerate data explicit (``undefined``,
``insufficient_data``) instead of raising or inventing a number.

Modules and what they estimate:

- :mod:`common` — evidence statuses, array aliases, percentile intervals, the ``Estimate`` type.
- :mod:`resampling` — the item/unit cluster bootstrap with the redraw rule (§1.3, §2.1, §3.2).
- :mod:`proportions` — Wilson and Clopper–Pearson intervals, the §6.2 selection rule, Newcombe's
  paired interval for new − old differences (§6.3).
- :mod:`agreement` — Krippendorff's α (package, vectorised identity, unit bootstrap), Gwet's AC1,
  generalised Fleiss κ, Brennan–Prediger, Cohen's κ / Scott's π / two-rater AC1, pairwise and
  decisive-only % agreement, judge versus human κ_JH, AC1_JH, κ_HH and the parity ratio (§2).
- :mod:`winrate` — calibrated win rate (CWR), PosEffect and every §3.2 extra, item-cluster
  bootstrap (§3.1–§3.3).
- :mod:`length_control` — fractional-logit IRLS, length-controlled ``cwr_lc``, ``style_sensitive``
  (§3.5).
- :mod:`population` — prediction-powered population win rate, uniform and Horvitz–Thompson,
  with the human-only audit estimate (§3.4).
- :mod:`bradley_terry` — aggregation, Newton fit, Arena scale, sandwich and item-bootstrap
  intervals, ranks, connectivity checks, Davidson / Rao–Kupper tie diagnostics (§4).
- :mod:`position` — per-labeler and pooled P(left | decisive) with PBI and flag; judge
  P(left | decisive) and flip rate (§5).
- :mod:`refusal` — modal refusal class and harm flag per item, ORR / URR (and strict forms) / HCR
  with §6.2 intervals, paired ``_delta`` forms with Newcombe intervals (§6).
- :mod:`cusum` — one-sided CUSUM with restart and latched alarm, run-length simulation (§7.5).
- :mod:`style_features` — style counts of a response, pair differences and the frozen, versioned
  feature standardisation (§7.1, §7.3 H5).
- :mod:`homogenization` — window-local monitor statistics: α, H1–H5 building blocks, controls,
  shared item-bootstrap draws per window (§7.2–§7.3).
- :mod:`monitor` — the homogenization and drift monitor: windows, baseline, CUSUMs, composite
  alarms, attribution, quarantine, monitor records and dashboard series (§7).
- :mod:`records` — the gate-input record of §8.1, status precedence, canonical slice JSON and
  per-record seeds (§1.3).
- :mod:`gates` — TOML gate specs and fail-closed, never-averaging gate evaluation into a
  scorecard (§8.3–§8.4).
"""
