"""The corpus of bad gate spec files: each is refused with a message naming the file and field.

``tests/data/gates/bad/`` holds one mistake per file, from the bytes (not UTF-8, UTF-16, a NUL,
a truncated file) through TOML (a duplicate key, an integer of 5000 digits, nesting deeper than
a spec needs) to the schema (wrong types and values of each field, in the first or a later
gate). ``tests/data/gates/ok/`` holds files that look odd but are valid. The table states the
message after ``FILE: ``; ``gate check`` exits 2 with that one line. Hypothesis fuzzing of the
parser lives in ``tests/property/test_gate_spec_fuzz.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewdesk.cli.main import main
from reviewdesk.domain.errors import UserError
from reviewdesk.services.gating import load_gate_spec
from reviewdesk.stats.gates import GateSpecError
from reviewdesk.stats.records import SCHEMA
from tests.conftest import DATA

BAD = DATA / "gates" / "bad"
OK = DATA / "gates" / "ok"
G0 = "gates[0] (metric 'cwr')"
FINITE = f"{G0}: require.value: must be a finite number, got"

CASES = {
    "not_utf8.toml": "not UTF-8 text (byte 69)",
    "utf16.toml": "not UTF-8 text (byte 0)",
    "empty.toml": "no [[gates]] entries",
    "nul_byte.toml": "not valid TOML: Illegal character '\\x00' (at line 1, column 18)",
    "truncated.toml": "not valid TOML: Expected '=' after a key",
    "duplicate_key.toml": "not valid TOML: Cannot overwrite a value (at line 8, column 15)",
    "integer_too_long.toml": "not valid TOML: a number has too many digits",
    "deep_nesting.toml": "budget.limits[0][0]",
    "gates_is_a_table.toml": "gates: must be a non-empty array of tables ([[gates]])",
    "reserved_key.toml": "release: reserved for the report",
    "metric_empty.toml": "gates[0]: metric: must be a non-empty string, got ''",
    "unknown_gate_key.toml": f"{G0}: min_items: unknown key",
    "slice_value_table.toml": f"{G0}: slice.category: must be a string, got a table",
    "slice_partial_wildcard.toml": f"{G0}: slice.category: 'inc*': \"*\" matches whole values",
    "op_array.toml": f"{G0}: require.op: must be one of >=, <=, >, <, ==; got an array",
    "op_table.toml": f"{G0}: require.op: must be one of >=, <=, >, <, ==; got a table",
    "bound_unknown_in_second_gate.toml": "gates[1] (metric 'cwr'): require.bound: must be one "
    "of estimate, ci_low, ci_high; got 'lower'",
    "value_string.toml": f"{FINITE} '0.5'",
    "value_nan.toml": f"{FINITE} nan",
    "value_infinity.toml": f"{FINITE} -inf",
    "value_huge_integer.toml": f"{FINITE} 1000000000",
    "value_date.toml": f"{FINITE} the date/time 2026-11-02",
    "min_n_items_float.toml": f"{G0}: min_n_items: must be a non-negative integer, got 30.0",
}


def test_the_corpus_is_complete() -> None:
    assert {p.name for p in BAD.iterdir()} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_spec_file(name: str) -> None:
    path = BAD / name
    with pytest.raises(GateSpecError) as info:
        load_gate_spec(path)
    message = str(info.value)
    assert isinstance(info.value, UserError)
    assert message.startswith(f"{path}: {CASES[name]}"), message
    assert "\n" not in message
    assert len(message) < 300 + len(str(path))


def inputs(tmp_path: Path) -> Path:
    """A complete gate-inputs document with no records (every gate then fails, closed)."""
    document = {
        "schema": SCHEMA,
        "generated_at": "2026-11-02T09:00:00Z",
        "snapshot": dict.fromkeys(
            ("content_sha256", "label_count", "last_event_id", "app_version"), None
        ),
        "config": {},
        "records": [],
    }
    path = tmp_path / "inputs.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["utf16.toml", "op_array.toml", "value_huge_integer.toml"])
def test_gate_check_exits_2_with_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = BAD / name
    assert main(["gate", "check", "--inputs", str(inputs(tmp_path)), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reviewdesk: {spec}: {CASES[name]}"), err
    assert err.count("\n") == 1


@pytest.mark.parametrize("name", sorted(p.name for p in OK.iterdir()))
def test_odd_but_valid_spec_files(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = load_gate_spec(OK / name)
    assert spec.hypothesis == "SFT improves incident answers"
    assert [g.metric for g in spec.gates] == ["cwr"]
    args = ["gate", "check", "--inputs", str(inputs(tmp_path)), "--spec", str(OK / name)]
    assert main([*args, "--json"]) == 1  # nothing matches: fail-closed, but a report
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False
    if name == "pass_through_dates.toml":  # TOML dates and nan, as JSON can carry them
        assert report["budget"] == {
            "max_labels": 4000,
            "until": "2026-12-01",
            "at": "09:00:00",
            "slack": "nan",
        }
    assert main(args) == 1
    assert "RELEASE FAILS" in capsys.readouterr().out
