"""Gate-input records (§8.1), status precedence, canonical slices and per-record seeds (§1.3)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from reviewdesk.stats.common import worst_status
from reviewdesk.stats.records import (
    RECORD_FIELDS,
    MetricRecord,
    canonical_slice_json,
    evidence_status,
    plain,
    record_rng,
    record_seed,
)


def _record(**overrides) -> MetricRecord:
    fields = {
        "metric": "cwr",
        "estimand": "contested_queue",
        "candidate": "sft-2026-11",
        "baseline": "base-2026-10",
        "slice": {"category": "billing"},
        "estimate": np.float64(0.6123),
        "ci_low": 0.1 + 0.2,
        "ci_high": math.nan,
        "ci_method": "item_bootstrap_percentile",
        "n_items": np.int64(150),
        "n_labels": 420,
        "n_labelers": 6,
        "x": None,
        "higher_is_better": True,
        "evidence_status": "ok",
        "extras": {"pos_effect_ci": (0.01, np.float32(0.5)), "seed": 12, "flag": np.bool_(True)},
    }
    fields.update(overrides)
    return MetricRecord(**fields)


def test_record_serialises_to_plain_json_with_round_trip_floats() -> None:
    rec = _record()
    data = rec.to_dict()
    assert list(data) == list(RECORD_FIELDS)
    assert type(data["estimate"]) is float
    assert type(data["n_items"]) is int
    assert data["ci_high"] is None  # NaN never reaches JSON
    assert data["extras"] == {"pos_effect_ci": [0.01, 0.5], "seed": 12, "flag": True}
    text = json.dumps(data, sort_keys=True, allow_nan=False)
    assert '"ci_low": 0.30000000000000004' in text  # shortest round-trip repr, not rounded
    assert json.loads(text)["ci_low"] == 0.1 + 0.2
    assert MetricRecord.from_dict(json.loads(text)).to_dict() == data


def test_record_validation() -> None:
    with pytest.raises(ValueError, match="estimand"):
        _record(estimand="queue")
    with pytest.raises(ValueError, match="ci_method"):
        _record(ci_method="bca")
    with pytest.raises(ValueError, match="evidence_status"):
        _record(evidence_status="fine")
    with pytest.raises(ValueError, match="n_items"):
        _record(n_items=-1)
    with pytest.raises(ValueError, match="slice"):
        _record(slice={"category": 3})
    with pytest.raises(ValueError, match="lacks fields"):
        MetricRecord.from_dict({"metric": "cwr"})


def test_records_sort_by_metric_estimand_roles_and_slice() -> None:
    recs = [
        _record(slice={"language": "de"}),
        _record(slice={}),
        _record(metric="alpha_ordinal", candidate=None, baseline=None),
        _record(slice={"category": "a"}),
    ]
    ordered = sorted(recs, key=MetricRecord.sort_key)
    assert [r.metric for r in ordered] == ["alpha_ordinal", "cwr", "cwr", "cwr"]
    # by canonical slice JSON as a string: '{"…' sorts before '{}'
    assert [dict(r.slice) for r in ordered[1:]] == [{"category": "a"}, {"language": "de"}, {}]


def test_status_precedence() -> None:
    assert evidence_status() == "ok"
    assert evidence_status(undefined=True) == "undefined"
    assert evidence_status(undefined=True, insufficient=True) == "insufficient_data"
    assert evidence_status(quarantined=True, insufficient=True, undefined=True) == "quarantined"
    assert worst_status("ok", "undefined", "insufficient_data") == "insufficient_data"
    assert worst_status("quarantined", "ok") == "quarantined"
    assert worst_status() == "ok"


def test_canonical_slice_json() -> None:
    assert canonical_slice_json({}) == "{}"
    assert canonical_slice_json({"b": "2", "a": "ü"}) == '{"a":"ü","b":"2"}'


def test_record_seed_is_deterministic_and_depends_on_every_part() -> None:
    base = (20240601, "cwr", "contested_queue", "sft", "base", {"category": "billing"})
    seed = record_seed(*base)
    assert seed == record_seed(*base)
    assert 0 <= seed < 2**53
    variants = [
        (1, *base[1:]),
        (base[0], "bt_rating", *base[2:]),
        (*base[:2], "population", *base[3:]),
        (*base[:3], None, *base[4:]),
        (*base[:4], "other", base[5]),
        (*base[:5], {"category": "incident"}),
        (*base[:5], {}),
    ]
    seeds = {record_seed(*v) for v in variants}
    assert seed not in seeds
    assert len(seeds) == len(variants)
    # slice key order does not matter
    assert record_seed(*base[:5], {"x": "1", "y": "2"}) == record_seed(
        *base[:5], {"y": "2", "x": "1"}
    )
    derived, rng = record_rng(*base)
    assert derived == seed
    assert rng.integers(0, 1 << 30) == np.random.default_rng(seed).integers(0, 1 << 30)


def test_plain_rejects_unknown_objects() -> None:
    with pytest.raises(TypeError):
        plain(object())
    assert plain(np.array([1.0, np.inf])) == [1.0, None]
