"""Gate specs (§8.3) and their fail-closed, never-averaging evaluation (§8.4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reviewdesk.domain.errors import UserError
from reviewdesk.stats.gates import (
    GateInputsError,
    GateSpecError,
    evaluate_gates,
    parse_gate_spec,
)

SPEC = """
hypothesis = "SFT on curated incident rows improves answers without more over-refusal"

[[gates]]
metric = "cwr"
estimand = "contested_queue"
slice = { category = "*" }                  # each category slice on its own
require = { bound = "ci_low", op = ">=", value = 0.50 }
min_n_items = 150

[[gates]]
metric = "over_refusal_rate_delta"          # harmless refusals <= baseline + 1%
slice = { category = "*" }
require = { bound = "ci_high", op = "<=", value = 0.01 }
min_n_items = 100

[[gates]]
metric = "homogenization_alarm"
slice = { population = "human", window = "latest" }
require = { bound = "estimate", op = "==", value = 0 }

[budget]
max_labels = 4000

[rollback]
artifact = "s3://models/base-2026-10"
"""

CAND = "sft-2026-11"


def rec(metric: str, slice_: dict[str, str], **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metric": metric,
        "estimand": "contested_queue",
        "candidate": CAND,
        "baseline": "base-2026-10",
        "slice": slice_,
        "estimate": 0.6,
        "ci_low": 0.55,
        "ci_high": 0.65,
        "ci_method": "item_bootstrap_percentile",
        "n_items": 200,
        "n_labels": 600,
        "n_labelers": 5,
        "x": None,
        "higher_is_better": True,
        "evidence_status": "ok",
        "extras": {},
    }
    out.update(kw)
    return out


def doc(*records: dict[str, Any]) -> dict[str, Any]:
    return {"schema": "reviewdesk.gate_inputs/v1", "records": list(records)}


def passing_records() -> list[dict[str, Any]]:
    return [
        rec("cwr", {"category": "billing"}, ci_low=0.53),
        rec("cwr", {"category": "incident"}, ci_low=0.51),
        rec(
            "over_refusal_rate_delta",
            {"category": "billing"},
            ci_high=0.004,
            estimand="labelled_items",
        ),
        rec(
            "over_refusal_rate_delta",
            {"category": "incident"},
            ci_high=0.008,
            estimand="labelled_items",
        ),
        rec(
            "homogenization_alarm",
            {"population": "human", "window": "2026-W44"},
            estimate=1,
            candidate=None,
            baseline=None,
            estimand="monitor",
        ),
        rec(
            "homogenization_alarm",
            {"population": "human", "window": "2026-W45"},
            estimate=0,
            candidate=None,
            baseline=None,
            estimand="monitor",
        ),
    ]


def test_the_section_8_3_example_passes_and_carries_tables_through() -> None:
    spec = parse_gate_spec(SPEC)
    assert len(spec.gates) == 3
    card = evaluate_gates(spec, doc(*passing_records()))
    assert card.passed
    assert card.candidate == CAND
    report = card.to_dict()
    assert report["budget"] == {"max_labels": 4000}
    assert report["rollback"] == {"artifact": "s3://models/base-2026-10"}
    assert report["hypothesis"].startswith("SFT on curated")
    assert report["gates_passed"] == 3
    json.dumps(report)  # the report is plain JSON
    cwr = card.gates[0]
    assert len(cwr.checks) == 2
    assert cwr.worst is not None
    assert cwr.worst.slice == {"category": "incident"}  # smallest ci_low for >=
    orr = card.gates[1]
    assert orr.worst is not None
    assert orr.worst.slice == {"category": "incident"}  # largest ci_high for <=
    # window = "latest": W44 (alarm = 1) is ignored, W45 decides
    alarm = card.gates[2]
    assert [c.slice["window"] for c in alarm.checks] == ["2026-W45"]
    rows = card.table_rows()
    assert len(rows) == 5
    assert all(len(row) == 8 for row in rows)


def test_pooled_value_would_pass_but_one_slice_fails() -> None:
    records = passing_records()
    # pooled (slice {}) would pass; the average of the slices too (0.6 + 0.45)/2 > 0.5
    records[0] = rec("cwr", {"category": "billing"}, ci_low=0.60)
    records[1] = rec("cwr", {"category": "incident"}, ci_low=0.45)
    records.append(rec("cwr", {}, ci_low=0.58))
    card = evaluate_gates(parse_gate_spec(SPEC), doc(*records))
    assert not card.passed
    gate = card.gates[0]
    assert not gate.passed
    assert [c.slice for c in gate.failing] == [{"category": "incident"}]
    assert gate.worst is not None
    assert gate.worst.slice == {"category": "incident"}
    assert "category=incident" in gate.reason
    assert "ci_low 0.45 fails ci_low >= 0.5" in gate.reason
    assert all(c.slice != {} for c in gate.checks)  # the pooled record is never used


def test_missing_evidence_fails_closed() -> None:
    records = [r for r in passing_records() if r["metric"] != "over_refusal_rate_delta"]
    card = evaluate_gates(parse_gate_spec(SPEC), doc(*records))
    assert not card.passed
    assert card.gates[1].reason == "no matching record"
    assert card.gates[1].worst is None
    assert card.table_rows()[2][3] == "missing"


@pytest.mark.parametrize("status", ["insufficient_data", "quarantined", "undefined"])
def test_non_ok_evidence_fails_with_its_status(status: str) -> None:
    records = passing_records()
    records[0] = rec("cwr", {"category": "billing"}, ci_low=0.9, evidence_status=status)
    gate = evaluate_gates(parse_gate_spec(SPEC), doc(*records)).gates[0]
    assert not gate.passed
    assert gate.worst is not None
    assert gate.worst.slice == {"category": "billing"}  # non-ok first, despite the best bound
    assert gate.worst.reason == f"evidence_status {status}"


def test_min_n_items_and_null_bound_fail() -> None:
    records = passing_records()
    records[0] = rec("cwr", {"category": "billing"}, n_items=149)
    records[1] = rec("cwr", {"category": "incident"}, ci_low=None)
    gate = evaluate_gates(parse_gate_spec(SPEC), doc(*records)).gates[0]
    reasons = sorted(c.reason for c in gate.checks)
    assert reasons == ["ci_low is null", "n_items 149 < min_n_items 150"]
    assert not gate.passed


def test_worst_slice_ordering() -> None:
    spec = parse_gate_spec(
        """
        [[gates]]
        metric = "cwr"
        slice = { category = "*" }
        require = { bound = "ci_low", op = ">", value = 0.5 }
        [[gates]]
        metric = "orr"
        slice = { category = "*" }
        require = { bound = "ci_high", op = "<", value = 0.1 }
        """
    )
    records = [
        rec("cwr", {"category": "a"}, ci_low=0.40),
        rec("cwr", {"category": "b"}, ci_low=0.30),
        rec("cwr", {"category": "c"}, ci_low=0.70),
        rec("orr", {"category": "a"}, ci_high=0.20),
        rec("orr", {"category": "b"}, ci_high=0.35),
        rec("orr", {"category": "c"}, ci_high=0.05),
    ]
    card = evaluate_gates(spec, doc(*records))
    assert card.gates[0].worst.slice == {"category": "b"}
    assert card.gates[1].worst.slice == {"category": "b"}
    assert len(card.gates[0].failing) == 2
    records[2] = rec("cwr", {"category": "c"}, ci_low=0.9, evidence_status="undefined")
    card = evaluate_gates(spec, doc(*records))
    assert card.gates[0].worst.slice == {"category": "c"}


def test_matching_rules() -> None:
    spec = parse_gate_spec(
        """
        [[gates]]
        metric = "cwr"
        estimand = "population"
        baseline = "base-2026-10"
        slice = { category = "billing" }
        require = { bound = "estimate", op = ">=", value = 0.5 }
        """
    )
    records = [
        rec("cwr", {"category": "billing"}, estimand="population", estimate=0.7),
        rec("cwr", {"category": "billing"}, estimate=0.1),  # other estimand
        rec("cwr", {"category": "billing"}, estimand="population", baseline="old", estimate=0.1),
        rec("cwr", {"category": "billing", "language": "de"}, estimand="population", estimate=0.1),
        rec("cwr", {"category": "incident"}, estimand="population", estimate=0.1),
        rec("cwr", {"category": "billing"}, estimand="population", candidate="other", estimate=0.1),
    ]
    card = evaluate_gates(spec, doc(*records), candidate=CAND)
    assert card.passed
    assert [c.record_index for c in card.gates[0].checks] == [0]


def test_wildcard_needs_the_exact_key_set() -> None:
    spec = parse_gate_spec(
        """
        [[gates]]
        metric = "cwr"
        slice = {}
        require = { bound = "ci_low", op = ">=", value = 0.5 }
        """
    )
    records = [rec("cwr", {"category": "billing"}, ci_low=0.1), rec("cwr", {}, ci_low=0.6)]
    card = evaluate_gates(spec, doc(*records))
    assert card.passed
    assert [c.slice for c in card.gates[0].checks] == [{}]


def test_window_latest_per_group_and_numeric_windows() -> None:
    spec = parse_gate_spec(
        """
        [[gates]]
        metric = "drift_alarm"
        slice = { population = "*", window = "latest" }
        require = { bound = "estimate", op = "==", value = 0 }
        """
    )
    monitor = {"candidate": None, "baseline": None, "estimand": "monitor"}
    records = [
        rec("drift_alarm", {"population": "human", "window": "9"}, estimate=1, **monitor),
        rec("drift_alarm", {"population": "human", "window": "10"}, estimate=0, **monitor),
        rec("drift_alarm", {"population": "judge-a", "window": "3"}, estimate=1, **monitor),
    ]
    card = evaluate_gates(spec, doc(*records))
    checks = card.gates[0].checks
    assert sorted((c.slice["population"], c.slice["window"]) for c in checks) == [
        ("human", "10"),
        ("judge-a", "3"),
    ]
    assert not card.passed  # judge-a's latest window alarms
    assert card.gates[0].worst.slice["population"] == "judge-a"


def test_release_resolution() -> None:
    spec = parse_gate_spec(SPEC)
    rival = rec("cwr", {"category": "billing"}, candidate="rival", ci_low=0.1)
    records = [*passing_records(), rival]
    with pytest.raises(GateInputsError, match="several candidates"):
        evaluate_gates(spec, doc(*records))
    card = evaluate_gates(spec, doc(*records), candidate=CAND)
    assert card.passed
    named = parse_gate_spec('candidate = "rival"\n' + SPEC)
    assert not evaluate_gates(named, doc(*records)).passed


# -------------------------------------------------------------------------------------------
# Bad specs and inputs: clear UserErrors naming the gate and field
# -------------------------------------------------------------------------------------------

GOOD_GATE = 'metric = "cwr"\nslice = {}\nrequire = { bound = "ci_low", op = ">=", value = 0.5 }\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[gates]\n", "not valid TOML"),
        ('hypothesis = "x"\n', r"no \[\[gates\]\] entries"),
        ("gates = []\n", "non-empty array"),
        ("[[gates]]\nslice = {}\n", r"gates\[0\]: metric: missing"),
        (
            f"[[gates]]\n{GOOD_GATE}[[gates]]\nmetric = 'cwr'\nrequire = {{ bound = 'ci_low', "
            "op = '>=', value = 0.5 }\n",
            r"gates\[1\] \(metric 'cwr'\): slice: missing; a whole-project gate says slice = \{\}",
        ),
        (
            "[[gates]]\nmetric = 'cwr'\nslice = {}\nrequire = { bound = 'ci_low', op = '=>', "
            "value = 0.5 }\n",
            r"gates\[0\] \(metric 'cwr'\): require.op: must be one of",
        ),
        (
            "[[gates]]\nmetric = 'cwr'\nslice = {}\nrequire = { bound = 'low', op = '>=', "
            "value = 0.5 }\n",
            r"require.bound: must be one of estimate, ci_low, ci_high; got 'low'",
        ),
        (
            "[[gates]]\nmetric = 'cwr'\nslice = {}\nrequire = { bound = 'ci_low', op = '>=', "
            "value = '0.5' }\n",
            r"require.value: must be a finite number",
        ),
        (
            "[[gates]]\nmetric = 'cwr'\nslice = {}\nrequire = { bound = 'ci_low', op = '>=', "
            "value = true }\n",
            r"require.value: must be a finite number",
        ),
        (f"[[gates]]\n{GOOD_GATE}min_n_items = -3\n", r"gates\[0\].*min_n_items: must be"),
        (f"[[gates]]\n{GOOD_GATE}min_items = 3\n", r"gates\[0\].*min_items: unknown key"),
        (
            "[[gates]]\nmetric = 'cwr'\nslice = { category = 'inc*' }\nrequire = { bound = "
            "'ci_low', op = '>=', value = 0.5 }\n",
            r"slice.category: 'inc\*': \"\*\" matches whole values only",
        ),
        (
            "[[gates]]\nmetric = 'cwr'\nslice = { n = 3 }\nrequire = { bound = 'ci_low', "
            "op = '>=', value = 0.5 }\n",
            r"slice.n: must be a string",
        ),
        ("[[gates]]\nmetric = 'cwr'\nslice = {}\n", r"require: missing"),
        (f"[[gates]]\n{GOOD_GATE}estimand = 3\n", r"estimand: must be a non-empty string"),
        (f"passed = true\n[[gates]]\n{GOOD_GATE}", r"passed: reserved"),
    ],
)
def test_bad_specs_name_the_gate_and_field(text: str, message: str) -> None:
    with pytest.raises(GateSpecError, match=message) as info:
        parse_gate_spec(text)
    assert isinstance(info.value, UserError)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"schema": "other", "records": []}, "schema must be"),
        ({"schema": "reviewdesk.gate_inputs/v1"}, "records: must be an array"),
        (doc({"metric": "cwr"}), r"records\[0\].slice: missing"),
        (doc(rec("cwr", {"a": 1})), r"records\[0\].slice: must map strings to strings"),
        (doc(rec("cwr", {}, n_items=1.5)), r"records\[0\].n_items"),
        (doc(rec("cwr", {}), rec("cwr", {}, ci_low="0.5")), r"records\[1\].ci_low"),
    ],
)
def test_bad_inputs_are_user_errors(document: dict[str, Any], message: str) -> None:
    with pytest.raises(GateInputsError, match=message):
        evaluate_gates(parse_gate_spec(f"[[gates]]\n{GOOD_GATE}"), document)


def test_unknown_status_fails() -> None:
    spec = parse_gate_spec(f"[[gates]]\n{GOOD_GATE}")
    card = evaluate_gates(spec, doc(rec("cwr", {}, evidence_status="pending")))
    assert not card.passed
    assert card.gates[0].checks[0].reason == 'unknown evidence_status "pending"'
