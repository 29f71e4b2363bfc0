"""Nuisance (style) features of a response pair and their frozen standardisation (STATISTICS.md §7).

§7.3 H5 regresses the win score on style differences between the two responses of an item:
for each feature f (tokens, Markdown headers, list items, bold spans) the pair difference is
(a − b)/(a + b + 1) with a = the candidate's count and b = the baseline's, bounded in (−1, 1) and
defined for empty texts. The model uses two covariates:

- ``len``: the token difference, z-scored and passed through tanh (as §3.5 does for Δlen);
- ``md``: the Markdown difference, computed on the summed counts of headers, list items and bold
  spans per response, then z-scored (one coefficient β_md for all Markdown, as §7.3 writes it).

§7.1 requires the standardisation to be **fixed**: the mean and SD come from the baseline period,
are frozen and carry a version (``feature_standardization_version``) that goes into every export,
so a later window is measured on the baseline's scale and never on its own. The version is a
content hash of the feature definition and the frozen numbers, so the same baseline always gives
the same version string on every machine.

Counting is plain-text regular expressions over the stored texts: no tokenizer dependency, and
stable across releases (``FEATURE_DEFINITION`` names the rules; change it when they change).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reviewdesk.stats.common import FloatArray

FEATURE_DEFINITION = (
    "style/v1: tokens=\\w+|[^\\w\\s]; headers=^#{1,6}\\s; lists=^[-*+]|^\\d+[.)]; bold"
)
"""Identity of the counting rules; part of every standardisation version."""

COUNT_NAMES: tuple[str, ...] = ("tokens", "headers", "lists", "bold")
COVARIATES: tuple[str, ...] = ("len", "md")

_TOKEN = re.compile(r"\w+|[^\w\s]")
_HEADER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_LIST = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+?\*\*|__[^_\n]+?__")


def style_counts(text: str) -> tuple[int, int, int, int]:
    """(tokens, headers, list items, bold spans) of one response text."""
    return (
        len(_TOKEN.findall(text)),
        len(_HEADER.findall(text)),
        len(_LIST.findall(text)),
        len(_BOLD.findall(text)),
    )


def style_count_matrix(texts: Iterable[str]) -> FloatArray:
    """Counts of many texts as an n × 4 float matrix (columns in ``COUNT_NAMES`` order)."""
    rows = [style_counts(t) for t in texts]
    if not rows:
        return np.zeros((0, len(COUNT_NAMES)))
    return np.asarray(rows, dtype=np.float64)


def pair_differences(candidate_counts: ArrayLike, baseline_counts: ArrayLike) -> FloatArray:
    """Raw covariates per item (n × 2: ``len``, ``md``) from per-response counts (n × 4 each).

    Each is (a − b)/(a + b + 1) with a = candidate, b = baseline; ``md`` sums headers, list items
    and bold spans per response first.
    """
    a = np.asarray(candidate_counts, dtype=np.float64).reshape(-1, len(COUNT_NAMES))
    b = np.asarray(baseline_counts, dtype=np.float64).reshape(-1, len(COUNT_NAMES))
    if a.shape != b.shape:
        raise ValueError("candidate and baseline counts need the same shape")
    md_a = a[:, 1:].sum(axis=1)
    md_b = b[:, 1:].sum(axis=1)
    length = (a[:, 0] - b[:, 0]) / (a[:, 0] + b[:, 0] + 1.0)
    md = (md_a - md_b) / (md_a + md_b + 1.0)
    return np.asarray(np.column_stack([length, md]), dtype=np.float64)


@dataclass(frozen=True)
class FeatureStandardization:
    """The frozen baseline mean and SD of each covariate, and its version (§7.1).

    ``sd`` of a covariate that does not vary in the baseline is stored as 1.0 (the covariate is
    then centred only; the fit reports the resulting rank deficiency if it never varies).
    """

    mean: tuple[float, float]
    sd: tuple[float, float]
    n_items: int
    definition: str = FEATURE_DEFINITION

    @property
    def version(self) -> str:
        """``fs-`` and 16 hex digits of SHA-256 over the definition and the rounded numbers."""
        body = json.dumps(
            {
                "definition": self.definition,
                "mean": [_round(v) for v in self.mean],
                "sd": [_round(v) for v in self.sd],
                "n_items": self.n_items,
            },
            sort_keys=True,
        )
        return "fs-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]

    def covariates(self, raw: ArrayLike) -> FloatArray:
        """Model covariates (n × 2): tanh(z_len) and z_md on the frozen scale."""
        x = np.asarray(raw, dtype=np.float64).reshape(-1, len(COVARIATES))
        mean = np.asarray(self.mean)
        sd = np.asarray(self.sd)
        z = (x - mean) / sd
        return np.asarray(np.column_stack([np.tanh(z[:, 0]), z[:, 1]]), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "definition": self.definition,
            "mean": list(self.mean),
            "sd": list(self.sd),
            "n_items": self.n_items,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> FeatureStandardization:
        mean = data["mean"]
        sd = data["sd"]
        return FeatureStandardization(
            (float(mean[0]), float(mean[1])),
            (float(sd[0]), float(sd[1])),
            int(data["n_items"]),
            str(data.get("definition", FEATURE_DEFINITION)),
        )


def _round(value: float) -> float:
    """12 significant digits: the version must not depend on the last bits of a sum."""
    return float(f"{value:.12g}")


def fit_standardization(raw_baseline: ArrayLike) -> FeatureStandardization | None:
    """Mean and sample SD (divisor n − 1) of each covariate over the baseline items.

    ``None`` with fewer than 2 items (nothing to standardise against).
    """
    x = np.asarray(raw_baseline, dtype=np.float64).reshape(-1, len(COVARIATES))
    if x.shape[0] < 2:
        return None
    mean = x.mean(axis=0)
    sd = x.std(axis=0, ddof=1)
    sd = np.where(np.isfinite(sd) & (sd > 1e-12), sd, 1.0)
    return FeatureStandardization(
        (float(mean[0]), float(mean[1])), (float(sd[0]), float(sd[1])), int(x.shape[0])
    )


def length_difference_sign(
    candidate_tokens: Sequence[float], baseline_tokens: Sequence[float]
) -> FloatArray:
    """+1 where the candidate's response is longer, −1 where shorter, 0 where equal."""
    a = np.asarray(candidate_tokens, dtype=np.float64)
    b = np.asarray(baseline_tokens, dtype=np.float64)
    return np.asarray(np.sign(a - b), dtype=np.float64)


__all__ = [
    "COUNT_NAMES",
    "COVARIATES",
    "FEATURE_DEFINITION",
    "FeatureStandardization",
    "fit_standardization",
    "length_difference_sign",
    "pair_differences",
    "style_count_matrix",
    "style_counts",
]
