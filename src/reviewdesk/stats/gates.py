"""Release gates: parse a TOML gate spec, evaluate it against gate inputs (STATISTICS.md §8.3–8.4).

Semantics, fail-closed throughout:

- **Match**: same ``metric``; same ``estimand``/``baseline`` when the gate names them; ``candidate``
  equal to the release under evaluation (records with a null candidate match any); the record's
  slice has exactly the pattern's keys, each value equal or ``"*"`` (whole values only);
  ``window = "latest"`` keeps only the most recent window per group of otherwise equal records.
- **Pass** iff at least one record matched and every matched record is ``ok``, has
  ``n_items ≥ min_n_items``, a non-null bound, and satisfies ``bound op value``.
- Missing, insufficient, quarantined or undefined evidence fails with its reason. Slices are never
  averaged and never replaced by a pooled record.
- The report names every failing slice and, per gate, the worst slice: non-ok records first, then
  the smallest bound for ``>=``/``>`` or the largest for ``<=``/``<``.

Other top-level tables of the spec (budget, rollback artifact, …) pass through to the report.
"""

from __future__ import annotations

import datetime
import math
import operator
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from reviewdesk.domain.errors import UserError, brief
from reviewdesk.stats.common import EVIDENCE_STATUSES
from reviewdesk.stats.records import SCHEMA, canonical_slice_json, plain

Bound = Literal["estimate", "ci_low", "ci_high"]
Op = Literal[">=", "<=", ">", "<", "=="]
BOUNDS: tuple[Bound, ...] = ("estimate", "ci_low", "ci_high")
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
WILDCARD = "*"
LATEST = "latest"
WINDOW_KEY = "window"
REPORT_SCHEMA = "reviewdesk.gate_report/v1"

_GATE_KEYS = {
    "metric",
    "estimand",
    "baseline",
    "candidate",
    "slice",
    "require",
    "min_n_items",
    "name",
    "description",
}
_REQUIRE_KEYS = {"bound", "op", "value"}
_RESERVED_TOP = {"schema", "passed", "gates_passed", "release"}


class GateSpecError(UserError):
    """The gate spec is not valid TOML or breaks the §8.3 schema; the message names the field."""


class GateInputsError(UserError):
    """The gate-inputs document is malformed; the message names the record and field."""


# --------------------------------------------------------------------------------------------
# The spec
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    bound: Bound
    op: Op
    value: float

    def describe(self) -> str:
        return f"{self.bound} {self.op} {_fmt(self.value)}"


@dataclass(frozen=True)
class Gate:
    """One ``[[gates]]`` entry; ``index`` is its 0-based position in the spec."""

    index: int
    metric: str
    slice_pattern: tuple[tuple[str, str], ...]
    require: Requirement
    min_n_items: int = 0
    estimand: str | None = None
    baseline: str | None = None
    candidate: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or f"gates[{self.index}] {self.metric}"

    def pattern(self) -> dict[str, str]:
        return dict(self.slice_pattern)


@dataclass(frozen=True)
class GateSpec:
    gates: tuple[Gate, ...]
    hypothesis: str | None = None
    candidate: str | None = None
    passthrough: Mapping[str, Any] | None = None


def _fmt(value: float | None) -> str:
    if value is None:
        return "null"
    return f"{value:.6g}"


#: How much of an offending value a message quotes (a spec may hold megabytes in one string).
SHOW_CHARS = 60
#: How deeply the spec's own tables and arrays may nest (the schema needs 3 levels).
MAX_DEPTH = 32


def _show(value: object) -> str:
    """``repr`` of a value from the spec, cut short; TOML types named as TOML names them."""
    if isinstance(value, dict):
        return "a table" if value else "an empty table {}"
    if isinstance(value, list):
        return "an array" if value else "an empty array []"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return f"the date/time {value.isoformat()}"
    text = repr(value)
    return text if len(text) <= SHOW_CHARS else text[: SHOW_CHARS - 1] + "…"


def _where(index: int, metric: object, path: str) -> str:
    what = f" (metric {_show(metric)})" if isinstance(metric, str) and metric else ""
    return f"gates[{index}]{what}: {path}"


def _optional_str(gate: Mapping[str, Any], key: str, index: int) -> str | None:
    value = gate.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise GateSpecError(
            f"{_where(index, gate.get('metric'), key)}: must be a non-empty string, "
            f"got {_show(value)}"
        )
    return value


def _parse_gate(index: int, raw: Any) -> Gate:
    if not isinstance(raw, dict):
        raise GateSpecError(f"gates[{index}]: must be a table, got {type(raw).__name__}")
    metric = raw.get("metric")
    if "metric" not in raw:
        raise GateSpecError(f"gates[{index}]: metric: missing (every gate names a metric)")
    if not isinstance(metric, str) or not metric:
        raise GateSpecError(
            f"gates[{index}]: metric: must be a non-empty string, got {_show(metric)}"
        )
    unknown = sorted(set(raw) - _GATE_KEYS)
    if unknown:
        raise GateSpecError(
            f"{_where(index, metric, _key(unknown[0]))}: unknown key (allowed: "
            f"{', '.join(sorted(_GATE_KEYS))})"
        )
    if "slice" not in raw:
        raise GateSpecError(
            f"{_where(index, metric, 'slice')}: missing; a whole-project gate says slice = {{}}"
        )
    pattern = raw["slice"]
    if not isinstance(pattern, dict):
        raise GateSpecError(
            f'{_where(index, metric, "slice")}: must be an inline table of key = "value"'
        )
    items: list[tuple[str, str]] = []
    for key, value in pattern.items():
        field = f"slice.{_key(key)}"
        if not isinstance(value, str):
            raise GateSpecError(
                f"{_where(index, metric, field)}: must be a string, got {_show(value)}"
            )
        if WILDCARD in value and value != WILDCARD:
            raise GateSpecError(
                f'{_where(index, metric, field)}: {_show(value)}: "*" matches whole values '
                "only (v1 has no partial wildcards)"
            )
        items.append((key, value))
    require = raw.get("require")
    if require is None:
        raise GateSpecError(f"{_where(index, metric, 'require')}: missing")
    if not isinstance(require, dict):
        raise GateSpecError(
            f"{_where(index, metric, 'require')}: must be a table {{ bound, op, value }}"
        )
    unknown = sorted(set(require) - _REQUIRE_KEYS)
    if unknown:
        raise GateSpecError(
            f"{_where(index, metric, f'require.{_key(unknown[0])}')}: unknown key (allowed: "
            "bound, op, value)"
        )
    bound = require.get("bound")
    if not isinstance(bound, str) or bound not in BOUNDS:
        raise GateSpecError(
            f"{_where(index, metric, 'require.bound')}: must be one of {', '.join(BOUNDS)}; "
            f"got {_show(bound)}"
        )
    op = require.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise GateSpecError(
            f"{_where(index, metric, 'require.op')}: must be one of {', '.join(OPS)}; "
            f"got {_show(op)}"
        )
    value = require.get("value")
    threshold = _finite(value)
    if threshold is None:
        raise GateSpecError(
            f"{_where(index, metric, 'require.value')}: must be a finite number, got {_show(value)}"
        )
    min_n = raw.get("min_n_items", 0)
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 0:
        raise GateSpecError(
            f"{_where(index, metric, 'min_n_items')}: must be a non-negative integer, "
            f"got {_show(min_n)}"
        )
    for key in ("name", "description"):
        _optional_str(raw, key, index)
    return Gate(
        index=index,
        metric=metric,
        slice_pattern=tuple(sorted(items)),
        require=Requirement(bound, cast("Op", op), threshold),
        min_n_items=min_n,
        estimand=_optional_str(raw, "estimand", index),
        baseline=_optional_str(raw, "baseline", index),
        candidate=_optional_str(raw, "candidate", index),
        name=_optional_str(raw, "name", index),
    )


def parse_gate_spec(text: str, *, source: str = "gate spec") -> GateSpec:
    """Parse and validate a TOML gate spec (§8.3); errors name the gate index and field.

    Every problem is a :class:`GateSpecError` whose message starts with ``source``; the spec's
    other top-level tables come back as plain JSON values (dates and times as ISO text,
    non-finite floats as the TOML words ``nan``/``inf``/``-inf``), so the report can carry them.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GateSpecError(f"{source}: not valid TOML: {exc}") from exc
    except ValueError as exc:  # an integer longer than Python converts (4300 digits)
        raise GateSpecError(f"{source}: not valid TOML: a number has too many digits") from exc
    except RecursionError as exc:
        raise GateSpecError(
            f"{source}: not valid TOML: arrays or inline tables nested too deeply"
        ) from exc
    if "gates" not in data:
        raise GateSpecError(f"{source}: no [[gates]] entries")
    gates_raw = data["gates"]
    if not isinstance(gates_raw, list) or not gates_raw:
        raise GateSpecError(f"{source}: gates: must be a non-empty array of tables ([[gates]])")
    hypothesis = data.get("hypothesis")
    if hypothesis is not None and not isinstance(hypothesis, str):
        raise GateSpecError(f"{source}: hypothesis: must be a string, got {_show(hypothesis)}")
    candidate = data.get("candidate")
    if candidate is not None and (not isinstance(candidate, str) or not candidate):
        raise GateSpecError(
            f"{source}: candidate: must be a non-empty string, got {_show(candidate)}"
        )
    reserved = sorted(_RESERVED_TOP & set(data))
    if reserved:
        raise GateSpecError(f"{source}: {reserved[0]}: reserved for the report")
    gates = []
    for i, raw in enumerate(gates_raw):
        try:
            gates.append(_parse_gate(i, raw))
        except GateSpecError as exc:
            raise GateSpecError(f"{source}: {exc}") from None
    passthrough = {
        k: _plain(v, _key(k), 1, source)
        for k, v in data.items()
        if k not in {"gates", "hypothesis", "candidate"}
    }
    return GateSpec(tuple(gates), hypothesis, candidate, passthrough)


def _key(key: str) -> str:
    """A key as a field path shows it: bare when it is a plain word, else quoted and cut short."""
    return key if _BARE_KEY.fullmatch(key) else _show(key)


_BARE_KEY = re.compile(r"[\w-]{1,60}")


def _finite(value: object) -> float | None:
    """``value`` as a float when it is a finite TOML number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the range of a float
        return None
    return number if math.isfinite(number) else None


def _plain(value: Any, path: str, depth: int, source: str) -> Any:
    """A pass-through value as JSON can carry it (see :func:`parse_gate_spec`)."""
    if depth > MAX_DEPTH:
        where = path if len(path) <= SHOW_CHARS else path[: SHOW_CHARS - 1] + "…"
        raise GateSpecError(f"{source}: {where}: nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        return {k: _plain(v, f"{path}.{_key(k)}", depth + 1, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", depth + 1, source) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------
# Gate inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputRecord:
    """The fields of a gate-inputs record that evaluation reads, validated."""

    index: int
    metric: str
    estimand: str | None
    candidate: str | None
    baseline: str | None
    slice: Mapping[str, str]
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n_items: int
    evidence_status: str

    def bound(self, name: Bound) -> float | None:
        value: float | None = getattr(self, name)
        return value


def _number(rec: Mapping[str, Any], key: str, index: int) -> float | None:
    value = rec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GateInputsError(
            f"records[{index}].{key}: must be a number or null, got {brief(value)}"
        )
    return float(value) if math.isfinite(value) else None


def load_gate_inputs(document: Mapping[str, Any]) -> tuple[InputRecord, ...]:
    """Validate a ``reviewdesk.gate_inputs/v1`` document and return its records."""
    if not isinstance(document, Mapping):
        raise GateInputsError("gate inputs: the document must be a JSON object")
    schema = document.get("schema")
    if schema != SCHEMA:
        raise GateInputsError(f"gate inputs: schema must be {SCHEMA!r}, got {brief(schema)}")
    records = document.get("records")
    if not isinstance(records, list):
        raise GateInputsError("gate inputs: records: must be an array")
    out = []
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise GateInputsError(f"records[{i}]: must be an object")
        for key in ("metric", "slice", "n_items", "evidence_status"):
            if key not in rec:
                raise GateInputsError(f"records[{i}].{key}: missing")
        metric = rec["metric"]
        if not isinstance(metric, str) or not metric:
            raise GateInputsError(f"records[{i}].metric: must be a non-empty string")
        slice_ = rec["slice"]
        if not isinstance(slice_, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in slice_.items()
        ):
            raise GateInputsError(f"records[{i}].slice: must map strings to strings")
        for key in ("estimand", "candidate", "baseline"):
            value = rec.get(key)
            if value is not None and not isinstance(value, str):
                raise GateInputsError(f"records[{i}].{key}: must be a string or null")
        n_items = rec["n_items"]
        if isinstance(n_items, bool) or not isinstance(n_items, int) or n_items < 0:
            raise GateInputsError(f"records[{i}].n_items: must be a non-negative integer")
        status = rec["evidence_status"]
        if not isinstance(status, str):
            raise GateInputsError(f"records[{i}].evidence_status: must be a string")
        out.append(
            InputRecord(
                i,
                metric,
                rec.get("estimand"),
                rec.get("candidate"),
                rec.get("baseline"),
                dict(slice_),
                _number(rec, "estimate", i),
                _number(rec, "ci_low", i),
                _number(rec, "ci_high", i),
                n_items,
                status,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SliceCheck:
    """One matched record checked against its gate."""

    record_index: int
    slice: Mapping[str, str]
    estimand: str | None
    candidate: str | None
    baseline: str | None
    evidence_status: str
    n_items: int
    bound_value: float | None
    passed: bool
    reason: str

    def slice_label(self) -> str:
        if not self.slice:
            return "{}"
        return ", ".join(f"{k}={v}" for k, v in sorted(self.slice.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_index": self.record_index,
            "slice": dict(self.slice),
            "estimand": self.estimand,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "evidence_status": self.evidence_status,
            "n_items": self.n_items,
            "bound_value": plain(self.bound_value),
            "passed": self.passed,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    passed: bool
    checks: tuple[SliceCheck, ...]
    worst: SliceCheck | None
    reason: str

    @property
    def failing(self) -> tuple[SliceCheck, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        g = self.gate
        return {
            "index": g.index,
            "label": g.label,
            "metric": g.metric,
            "estimand": g.estimand,
            "baseline": g.baseline,
            "slice": g.pattern(),
            "require": {"bound": g.require.bound, "op": g.require.op, "value": g.require.value},
            "min_n_items": g.min_n_items,
            "passed": self.passed,
            "reason": self.reason,
            "n_matched": len(self.checks),
            "n_failing": len(self.failing),
            "worst": None if self.worst is None else self.worst.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class Scorecard:
    """The release scorecard: every gate, every matched slice, the worst slice and why."""

    passed: bool
    candidate: str | None
    hypothesis: str | None
    gates: tuple[GateResult, ...]
    passthrough: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON report; the spec's other top-level tables are carried through untouched."""
        out: dict[str, Any] = dict(self.passthrough)
        out.update(
            {
                "schema": REPORT_SCHEMA,
                "passed": self.passed,
                "release": self.candidate,
                "hypothesis": self.hypothesis,
                "gates_passed": sum(1 for g in self.gates if g.passed),
                "gates": [g.to_dict() for g in self.gates],
            }
        )
        return out

    def table_rows(self) -> list[tuple[str, ...]]:
        """Rows (gate, requirement, slice, status, n_items, bound, result, reason) for a table;
        one row per matched slice, or one row for a gate with no match."""
        rows: list[tuple[str, ...]] = []
        for g in self.gates:
            need = g.gate.require.describe()
            if g.gate.min_n_items:
                need += f", n_items >= {g.gate.min_n_items}"
            if not g.checks:
                rows.append((g.gate.label, need, "-", "missing", "-", "-", "FAIL", g.reason))
            for c in g.checks:
                worst = " (worst)" if c is g.worst and not g.passed else ""
                rows.append(
                    (
                        g.gate.label,
                        need,
                        c.slice_label() + worst,
                        c.evidence_status,
                        str(c.n_items),
                        _fmt(c.bound_value),
                        "pass" if c.passed else "FAIL",
                        c.reason,
                    )
                )
        return rows


def _window_order(value: str) -> tuple[int, float, str]:
    """Windows compare as numbers when they parse as numbers, else as strings (ISO dates and
    zero-padded ISO weeks sort correctly as strings); numbers come before strings."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _matches(gate: Gate, rec: InputRecord, release: str | None) -> bool:
    if rec.metric != gate.metric:
        return False
    if gate.estimand is not None and rec.estimand != gate.estimand:
        return False
    if gate.baseline is not None and rec.baseline != gate.baseline:
        return False
    wanted = gate.candidate or release
    if rec.candidate is not None and wanted is not None and rec.candidate != wanted:
        return False
    pattern = gate.pattern()
    if set(rec.slice) != set(pattern):
        return False
    for key, value in pattern.items():
        if value == WILDCARD or (key == WINDOW_KEY and value == LATEST):
            continue
        if rec.slice[key] != value:
            return False
    return True


def _latest_only(gate: Gate, matched: list[InputRecord]) -> list[InputRecord]:
    if gate.pattern().get(WINDOW_KEY) != LATEST:
        return matched
    groups: dict[tuple[Any, ...], list[InputRecord]] = {}
    for rec in matched:
        others = tuple(sorted((k, v) for k, v in rec.slice.items() if k != WINDOW_KEY))
        groups.setdefault((rec.estimand, rec.candidate, rec.baseline, others), []).append(rec)
    kept: list[InputRecord] = []
    for recs in groups.values():
        newest = max(_window_order(r.slice[WINDOW_KEY]) for r in recs)
        kept.extend(r for r in recs if _window_order(r.slice[WINDOW_KEY]) == newest)
    return sorted(kept, key=lambda r: r.index)


def _check(gate: Gate, rec: InputRecord) -> SliceCheck:
    req = gate.require
    bound = rec.bound(req.bound)
    passed = False
    if rec.evidence_status != "ok":
        status = rec.evidence_status
        if status in EVIDENCE_STATUSES:
            reason = f"evidence_status {status}"
        else:
            reason = f"unknown evidence_status {brief(status)}"
    elif rec.n_items < gate.min_n_items:
        reason = f"n_items {rec.n_items} < min_n_items {gate.min_n_items}"
    elif bound is None:
        reason = f"{req.bound} is null"
    elif not OPS[req.op](bound, req.value):
        reason = f"{req.bound} {_fmt(bound)} fails {req.describe()}"
    else:
        passed = True
        reason = f"{req.bound} {_fmt(bound)} {req.op} {_fmt(req.value)}"
    return SliceCheck(
        rec.index,
        dict(rec.slice),
        rec.estimand,
        rec.candidate,
        rec.baseline,
        rec.evidence_status,
        rec.n_items,
        bound,
        passed,
        reason,
    )


def _severity(gate: Gate, check: SliceCheck) -> tuple[int, float, str]:
    """Sort key, worst first: non-ok status, then no usable bound, then by the bound."""
    tie = canonical_slice_json(check.slice)
    if check.evidence_status != "ok":
        return (0, 0.0, tie)
    if check.bound_value is None:
        return (1, 0.0, tie)
    op, bound, target = gate.require.op, check.bound_value, gate.require.value
    if op in (">=", ">"):
        key = bound
    elif op in ("<=", "<"):
        key = -bound
    else:
        key = -abs(bound - target)
    return (2, key, tie)


def _evaluate_gate(gate: Gate, records: Sequence[InputRecord], release: str | None) -> GateResult:
    matched = _latest_only(gate, [r for r in records if _matches(gate, r, release)])
    if not matched:
        return GateResult(gate, False, (), None, "no matching record")
    checks = tuple(_check(gate, r) for r in matched)
    worst = min(checks, key=lambda c: _severity(gate, c))
    failing = [c for c in checks if not c.passed]
    if failing:
        reason = (
            f"{len(failing)} of {len(checks)} slice{'s' if len(checks) != 1 else ''} fail; "
            f"worst {worst.slice_label()}: {worst.reason}"
        )
        return GateResult(gate, False, checks, worst, reason)
    return GateResult(
        gate,
        True,
        checks,
        worst,
        f"all {len(checks)} slice{'s' if len(checks) != 1 else ''} pass; "
        f"worst {worst.slice_label()}: {worst.reason}",
    )


def _release(spec: GateSpec, records: Sequence[InputRecord], candidate: str | None) -> str | None:
    if candidate is not None:
        return candidate
    if spec.candidate is not None:
        return spec.candidate
    names = sorted({r.candidate for r in records if r.candidate is not None})
    if len(names) > 1 and any(g.candidate is None for g in spec.gates):
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise GateInputsError(
            f"gate inputs hold records for several candidates ({shown}); name the release under "
            'evaluation (candidate = "…" in the spec, or the caller\'s candidate argument)'
        )
    return names[0] if names else None


def evaluate_gates(
    spec: GateSpec, inputs: Mapping[str, Any], *, candidate: str | None = None
) -> Scorecard:
    """Evaluate every gate of ``spec`` against a gate-inputs document (§8.4).

    The release under evaluation is ``candidate``, else the spec's top-level ``candidate``, else
    the single candidate named in the inputs (several → ``GateInputsError``). The release passes
    iff every gate passes.
    """
    records = load_gate_inputs(inputs)
    release = _release(spec, records, candidate)
    results = tuple(_evaluate_gate(g, records, release) for g in spec.gates)
    return Scorecard(
        all(r.passed for r in results),
        release,
        spec.hypothesis,
        results,
        dict(spec.passthrough or {}),
    )
