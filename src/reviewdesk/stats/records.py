"""Gate-input records (STATISTICS.md §8.1), canonical slice JSON and per-record seeds (§1.3).

A :class:`MetricRecord` is one row of the ``reviewdesk.gate_inputs/v1`` document. The services
assemble the document (snapshot, config, sorted records); this module fixes the record fields,
their plain-JSON form (numbers are JSON numbers, never "N/A"; floats serialise as Python's
shortest round-trip repr; NaN/∞ become null), the evidence-status precedence and the seed each
record's bootstrap uses, so output never depends on computation order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np

from reviewdesk.domain.errors import brief
from reviewdesk.domain.hashing import canonical_json
from reviewdesk.stats.common import (
    EVIDENCE_STATUSES,
    CiMethod,
    EvidenceStatus,
    worst_status,
)

SCHEMA = "reviewdesk.gate_inputs/v1"
ESTIMANDS = ("contested_queue", "population", "labelled_items", "monitor")
CI_METHODS: tuple[str, ...] = get_args(CiMethod)
RECORD_FIELDS = (
    "metric",
    "estimand",
    "candidate",
    "baseline",
    "slice",
    "estimate",
    "ci_low",
    "ci_high",
    "ci_method",
    "n_items",
    "n_labels",
    "n_labelers",
    "x",
    "higher_is_better",
    "evidence_status",
    "extras",
)


def plain(value: Any) -> Any:
    """Convert to plain JSON types: numpy scalars/arrays, tuples, dataclasses, non-finite floats.

    Floats stay Python floats (``json`` writes their shortest round-trip repr); NaN and ±∞ become
    ``None``; booleans stay booleans; mapping keys become strings.
    """
    # Fast path for the plain types that make up almost every record (a gate-inputs document
    # has a million values in its extras); anything else takes the general rules below, which
    # give the same result for these types.
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {k if type(k) is str else str(k): plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    return _plain_general(value)


def _plain_general(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        out = float(value)
        return out if math.isfinite(out) else None
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return plain(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    raise TypeError(f"cannot serialise {type(value).__name__} into a gate-inputs record")


_SLICE_JSON: dict[tuple[tuple[str, str], ...], str] = {}


def canonical_slice_json(slice_: Mapping[str, str]) -> str:
    """Sorted keys, no whitespace: the identity of a slice in sorting and seeding.

    Memoized: an export's ten thousand records share a few dozen slices.
    """
    items = tuple(slice_.items())
    try:
        known = _SLICE_JSON.get(items)
    except TypeError:  # an unhashable value: refused below
        known = None
    if known is not None:
        return known
    for key, value in items:
        if not isinstance(key, str) or not isinstance(value, str):
            got = f"{brief(key)}: {brief(value)}"
            raise ValueError(f"slice keys and values must be strings, got {got}")
    text = canonical_json(dict(items))
    if len(_SLICE_JSON) >= 10_000:
        _SLICE_JSON.clear()
    _SLICE_JSON[items] = text
    return text


def record_seed(
    config_seed: int,
    metric: str,
    estimand: str,
    candidate: str | None,
    baseline: str | None,
    slice_: Mapping[str, str],
) -> int:
    """The per-record bootstrap seed of §1.3, an integer in [0, 2**53) (exact in any JSON reader).

    SHA-256 of the canonical JSON of (metric, estimand, candidate, baseline, canonical slice
    JSON), mixed with the config seed by a second SHA-256 over ``"<config_seed>:"`` + that digest.
    """
    identity = canonical_json([metric, estimand, candidate, baseline, canonical_slice_json(slice_)])
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    mixed = hashlib.sha256(f"{int(config_seed)}:".encode() + digest).digest()
    return int.from_bytes(mixed[:8], "big") >> 11


def record_rng(
    config_seed: int,
    metric: str,
    estimand: str,
    candidate: str | None,
    baseline: str | None,
    slice_: Mapping[str, str],
) -> tuple[int, np.random.Generator]:
    """(seed, generator) for one record; the seed goes to ``extras.seed``."""
    seed = record_seed(config_seed, metric, estimand, candidate, baseline, slice_)
    return seed, np.random.default_rng(seed)


def evidence_status(
    *,
    quarantined: bool = False,
    insufficient: bool = False,
    undefined: bool = False,
) -> EvidenceStatus:
    """Precedence quarantined > insufficient_data > undefined > ok (§8.1)."""
    if quarantined:
        return "quarantined"
    if insufficient:
        return "insufficient_data"
    if undefined:
        return "undefined"
    return "ok"


combine_statuses = worst_status
"""Combine several statuses by the §8.1 precedence."""


@dataclass(frozen=True)
class MetricRecord:
    """One gate-input record (§8.1). ``slice`` and ``extras`` are copied into plain dicts."""

    metric: str
    estimand: str
    candidate: str | None
    baseline: str | None
    slice: Mapping[str, str]
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: CiMethod
    n_items: int
    n_labels: int
    n_labelers: int
    x: int | None
    higher_is_better: bool | None
    evidence_status: EvidenceStatus
    extras: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.metric:
            raise ValueError("metric must be a non-empty string")
        if self.estimand not in ESTIMANDS:
            raise ValueError(f"estimand must be one of {ESTIMANDS}, got {brief(self.estimand)}")
        if self.ci_method not in CI_METHODS:
            raise ValueError(f"ci_method must be one of {CI_METHODS}, got {brief(self.ci_method)}")
        if self.evidence_status not in EVIDENCE_STATUSES:
            raise ValueError(f"unknown evidence_status {brief(self.evidence_status)}")
        for name in ("n_items", "n_labels", "n_labelers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {brief(value)}")
        slice_json = canonical_slice_json(self.slice)
        object.__setattr__(self, "slice", dict(self.slice))
        object.__setattr__(self, "extras", plain(self.extras))  # a new plain dict
        # not a field (no part of equality or the document): the identity, computed once
        object.__setattr__(
            self,
            "_sort_key",
            (self.metric, self.estimand, self.candidate or "", self.baseline or "", slice_json),
        )

    def sort_key(self) -> tuple[str, str, str, str, str]:
        """Records sort by metric, estimand, candidate, baseline, canonical slice JSON (§8.1)."""
        key: tuple[str, str, str, str, str] = self.__dict__["_sort_key"]
        return key

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form with every §8.1 field (keys are sorted when the document is written).

        ``extras`` is the record's own dict, already plain since ``__post_init__`` (converting
        it again cost a second per ten thousand monitor records): read it, do not change it.
        """
        return {
            "metric": self.metric,
            "estimand": self.estimand,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "slice": dict(self.slice),
            "estimate": plain(self.estimate),
            "ci_low": plain(self.ci_low),
            "ci_high": plain(self.ci_high),
            "ci_method": self.ci_method,
            "n_items": int(self.n_items),
            "n_labels": int(self.n_labels),
            "n_labelers": int(self.n_labelers),
            "x": None if self.x is None else int(self.x),
            "higher_is_better": self.higher_is_better,
            "evidence_status": self.evidence_status,
            "extras": self.extras,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> MetricRecord:
        """Rebuild a record from its dict form (``ValueError`` naming a missing field)."""
        missing = [name for name in RECORD_FIELDS if name not in data]
        if missing:
            raise ValueError(f"record lacks fields: {', '.join(missing)}")
        return MetricRecord(**{name: data[name] for name in RECORD_FIELDS})
