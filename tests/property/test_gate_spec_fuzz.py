"""Property tests of the gate spec parser: any input gives a valid spec or a clear GateSpecError.

Hypothesis writes TOML documents from generated values (wrong types, missing fields, huge
numbers, NaN and infinities, dates, unicode keys, nesting), damages valid specs one value at a
time, and feeds raw text and bytes. The parser must never raise anything but
:class:`GateSpecError` (a ``UserError``), its message must start with the source and name the
gate (``gates[i]``) and the field a damaged gate got wrong, and a spec it accepts must carry
through to a JSON report and the terminal scorecard. ``tests/stats/test_stats_gates.py`` pins the
exact message for each known kind of mistake; ``tests/services/test_gate_spec_corpus.py`` runs
the bad spec files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewdesk.cli.commands.gate import render_scorecard
from reviewdesk.domain.errors import UserError
from reviewdesk.services.gating import load_gate_spec
from reviewdesk.stats.gates import (
    BOUNDS,
    OPS,
    GateSpec,
    GateSpecError,
    evaluate_gates,
    parse_gate_spec,
)
from reviewdesk.stats.records import SCHEMA

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SOURCE = "fuzz.toml"
EMPTY_INPUTS = {"schema": SCHEMA, "records": []}

# --- writing TOML ------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """One value as inline TOML (tables and arrays inline, so any nesting fits on a line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(data: dict[str, Any]) -> str:
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in data.items())


# --- strategies --------------------------------------------------------------------------------

keys = st.text(max_size=12)
#: Top-level keys with a meaning (or reserved for the report): not pass-through tables.
TOP_KEYS = ["gates", "hypothesis", "candidate", "schema", "passed", "gates_passed", "release"]
scalars = (
    st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()  # NaN and ±inf included
    | st.text(max_size=30)
    | st.datetimes(min_value=dt.datetime(1000, 1, 1), timezones=st.sampled_from([None, dt.UTC]))
    | st.dates(min_value=dt.date(1000, 1, 1))
    | st.times()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=10,
)
SPEC_WORDS = [*TOP_KEYS, "metric", "slice", "require", "bound", "op", "value", "min_n_items"]
SPEC_WORDS += ["estimand", "baseline", "name", "description", "*", *BOUNDS, *OPS]
words = st.sampled_from(SPEC_WORDS) | keys
spec_values = st.recursive(
    scalars | st.sampled_from(SPEC_WORDS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(words, inner, max_size=5),
    max_leaves=14,
)


@st.composite
def gates(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ``[[gates]]`` entry."""
    gate: dict[str, Any] = {
        "metric": draw(st.sampled_from(["cwr", "over_refusal_rate_delta", "κ-judge"])),
        "slice": draw(
            st.dictionaries(
                st.sampled_from(["category", "language", "window", "ключ"]),
                st.sampled_from(["*", "incident", "latest", "en", ""]),
                max_size=2,
            )
        ),
        "require": {
            "bound": draw(st.sampled_from(BOUNDS)),
            "op": draw(st.sampled_from(list(OPS))),
            "value": draw(
                st.integers(-5, 5) | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
            ),
        },
    }
    for key in ("estimand", "baseline", "candidate", "name", "description"):
        if draw(st.booleans()):
            gate[key] = draw(st.text(min_size=1, max_size=10))
    if draw(st.booleans()):
        gate["min_n_items"] = draw(st.integers(0, 10**6))
    return gate


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec: gates, maybe a hypothesis and candidate, and pass-through tables."""
    data: dict[str, Any] = {}
    if draw(st.booleans()):
        data["hypothesis"] = draw(st.text(max_size=30))
    if draw(st.booleans()):
        data["candidate"] = draw(st.text(min_size=1, max_size=10))
    data["gates"] = draw(st.lists(gates(), min_size=1, max_size=3))
    extra = st.dictionaries(keys.filter(lambda k: k not in TOP_KEYS), values, max_size=2)
    data.update(draw(extra))
    return data


# --- checks ------------------------------------------------------------------------------------


def parse(text: str) -> GateSpec | GateSpecError:
    """Parse; the only exception allowed is a GateSpecError with a one-paragraph message."""
    try:
        return parse_gate_spec(text, source=SOURCE)
    except GateSpecError as exc:
        error = exc
    message = str(error)
    assert isinstance(error, UserError)
    assert message.startswith(f"{SOURCE}: "), message
    assert len(message) < 1000, message  # offending values are quoted cut short
    return error


def check_valid(spec: GateSpec) -> None:
    """An accepted spec is well-formed and reaches the JSON report and the scorecard."""
    assert spec.gates
    for i, gate in enumerate(spec.gates):
        assert gate.index == i
        assert isinstance(gate.metric, str)
        assert gate.metric
        assert gate.require.bound in BOUNDS
        assert gate.require.op in OPS
        assert math.isfinite(gate.require.value)
        assert isinstance(gate.min_n_items, int)
        assert gate.min_n_items >= 0
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in gate.slice_pattern)
    card = evaluate_gates(spec, EMPTY_INPUTS)
    assert not card.passed  # fail-closed: nothing matches an empty inputs file
    json.dumps(card.to_dict(), allow_nan=False)
    assert render_scorecard(card)


@FUZZ
@given(data=st.dictionaries(words, spec_values, max_size=5))
def test_arbitrary_documents(data: dict[str, Any]) -> None:
    result = parse(toml_document(data))
    if isinstance(result, GateSpec):
        check_valid(result)


@FUZZ
@given(data=st.dictionaries(words, spec_values, max_size=4), gate_list=st.lists(spec_values))
def test_arbitrary_gate_lists(data: dict[str, Any], gate_list: list[Any]) -> None:
    data["gates"] = gate_list
    result = parse(toml_document(data))
    if isinstance(result, GateSpec):
        check_valid(result)


@FUZZ
@given(spec=specs())
def test_valid_specs_parse(spec: dict[str, Any]) -> None:
    result = parse(toml_document(spec))
    assert isinstance(result, GateSpec), result
    check_valid(result)
    assert [g.metric for g in result.gates] == [g["metric"] for g in spec["gates"]]
    assert [g.require.value for g in result.gates] == [
        float(g["require"]["value"]) for g in spec["gates"]
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


@FUZZ
@given(spec=specs(), data=st.data())
def test_damaged_specs_name_the_gate_and_field(spec: dict[str, Any], data: Any) -> None:
    """One value of a valid spec replaced or removed: valid, or the message says where."""
    path = data.draw(st.sampled_from([p for p in _paths(spec) if p]))
    parent = spec
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(spec_values)
    result = parse(toml_document(spec))
    if isinstance(result, GateSpec):
        check_valid(result)
        return
    message = str(result)
    if path[0] == "gates" and len(path) >= 2:
        assert f"{SOURCE}: gates[{path[1]}]" in message, (path, message)
        if len(path) >= 3:  # a field of the gate: the message names it (and its sub-field)
            field = ".".join(str(step) for step in path[2:4])
            if path[2] == "slice" and len(path) > 3:
                field = f"slice.{path[3]}"
            assert f": {field}" in message or f": {path[2]}:" in message, (path, message)
    elif path[0] in {"hypothesis", "candidate", "gates"}:
        assert f"{SOURCE}: {path[0]}" in message or "no [[gates]]" in message, (path, message)


toml_text = st.text(alphabet=st.sampled_from("[]{}=\".,#\n \\'tfnaiu0123456789e+-_:TZ*abcé"))


@FUZZ
@given(text=toml_text | st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    result = parse(text)
    if isinstance(result, GateSpec):
        check_valid(result)


@FUZZ
@given(spec=specs(), cut=st.integers(0, 10_000), junk=toml_text)
def test_truncated_and_spliced_specs(spec: dict[str, Any], cut: int, junk: str) -> None:
    text = toml_document(spec)
    cut %= len(text) + 1
    for variant in (text[:cut], text[:cut] + junk + text[cut:]):
        result = parse(variant)
        if isinstance(result, GateSpec):
            check_valid(result)


@FUZZ
@given(raw=st.binary(max_size=300), spec=specs())
def test_arbitrary_bytes_in_a_file(tmp_path: Path, raw: bytes, spec: dict[str, Any]) -> None:
    path = tmp_path / "spec.toml"
    for content in (raw, toml_document(spec).encode("utf-8") + raw):
        path.write_bytes(content)
        try:
            loaded = load_gate_spec(path)
        except GateSpecError as exc:
            message = str(exc)
        else:
            check_valid(loaded)
            continue
        assert message.startswith(f"{path}: "), message


GATE = "[[gates]]\nmetric = 'm'\nslice = {}\nrequire = { bound = 'ci_low', op = '>=', value = 1 }\n"


def test_nesting_deeper_than_the_parser_goes() -> None:
    assert isinstance(parse(f"x = {'[' * 30}{']' * 30}\n{GATE}"), GateSpec)
    for depth in (40, 100_000):
        for text in (f"x = {'[' * depth}{']' * depth}", f"x = {'{a = ' * depth}1{'}' * depth}"):
            result = parse(f"{text}\n{GATE}")
            assert isinstance(result, GateSpecError)
            assert "nested" in str(result), result


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # Found by the tests above: each once escaped as TypeError, OverflowError or ValueError.
        (GATE.replace("op = '>='", "op = ['>=']"), "gates[0] (metric 'm'): require.op"),
        (GATE.replace("op = '>='", "op = {}"), "gates[0] (metric 'm'): require.op"),
        (GATE.replace("bound = 'ci_low'", "bound = {}"), "gates[0] (metric 'm'): require.bound"),
        (GATE.replace("value = 1", f"value = {10**400}"), "gates[0] (metric 'm'): require.value"),
        (GATE.replace("value = 1", f"value = {'9' * 5000}"), "not valid TOML"),
        (GATE + f"min_n_items = {'9' * 5000}", "not valid TOML"),
        (GATE.replace("metric = 'm'", f"metric = {'[' * 5000}{']' * 5000}"), "not valid TOML"),
    ],
)
def test_found_by_fuzzing(text: str, where: str) -> None:
    result = parse(text)
    assert isinstance(result, GateSpecError)
    assert str(result).startswith(f"{SOURCE}: {where}"), result


def test_pass_through_tables_reach_the_json_report() -> None:
    text = "[budget]\nwhen = 1979-05-27T07:32:00Z\nday = 1979-05-27\nat = 07:32:00\n"
    text += "nan = nan\ninf = -inf\n" + GATE
    spec = parse(text)
    assert isinstance(spec, GateSpec)
    check_valid(spec)
    assert spec.passthrough == {
        "budget": {
            "when": "1979-05-27T07:32:00+00:00",
            "day": "1979-05-27",
            "at": "07:32:00",
            "nan": "nan",
            "inf": "-inf",
        }
    }
