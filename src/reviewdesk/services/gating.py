"""Gate check: a TOML gate spec against a gate-inputs file (SPEC §7, STATISTICS.md §8.3–§8.4).

The evaluation itself is :func:`reviewdesk.stats.gates.evaluate_gates`: fail-closed, every matched
slice on its own, never a pooled fallback. This service adds what a release owner needs around it:

- **Clear input errors.** Both files are read here, and every problem is a ``UserError`` naming
  the file and the field (``gates.toml: gates[2] (metric 'cwr'): require.op: ...``,
  ``gate-inputs.json: records[17].n_items: missing``). A document missing ``snapshot`` or
  ``config``, with a record lacking a §8.1 field, or with two records of the same identity is
  rejected: a gate must never pass on a file that is not what the exporter wrote.
- **Reasons that say why.** A failing slice says whether its evidence is not ok (and the
  record's own reason, e.g. ``n_items 14 < min_n_items 30``), or whether the bound misses the
  threshold because of an *effect* (the whole interval lies beyond it), because the estimate itself
  misses it, or only because the interval is too wide at this sample size (the estimate meets the
  requirement, more evidence is needed). A gate with no matching record says whether the metric is
  absent from the inputs altogether (e.g. no ``homogenization_alarm`` record while the §7 monitor
  has too few labels for a window) or which slices and roles the inputs do hold.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reviewdesk.domain.errors import brief
from reviewdesk.stats.gates import (
    OPS,
    WILDCARD,
    Gate,
    GateInputsError,
    GateResult,
    GateSpec,
    GateSpecError,
    Scorecard,
    SliceCheck,
    evaluate_gates,
    parse_gate_spec,
)
from reviewdesk.stats.records import RECORD_FIELDS, SCHEMA, MetricRecord

TOP_LEVEL_FIELDS = ("schema", "generated_at", "snapshot", "config", "records")
SNAPSHOT_FIELDS = ("content_sha256", "label_count", "last_event_id", "app_version")
MONITOR_METRICS = ("homogenization_alarm", "drift_alarm")
MONITOR_PREFIX = "h"  # h1_anchor_disagreement … h5_length_beta


def _fmt(value: float | None) -> str:
    return "null" if value is None else f"{value:.6g}"


def _read_text(path: Path, what: str) -> str:
    error = GateSpecError if what == "gate spec" else GateInputsError
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what} file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} file ({exc.strerror})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from exc


def load_gate_spec(path: Path) -> GateSpec:
    """Parse a gate spec file; errors name the file, the gate and the field."""
    path = Path(path)
    text = _read_text(path, "gate spec")
    try:
        return parse_gate_spec(text, source=str(path))
    except GateSpecError as exc:
        message = str(exc)
        if not message.startswith(str(path)):
            message = f"{path}: {message}"
        raise GateSpecError(message) from exc


def load_gate_inputs_document(path: Path) -> dict[str, Any]:
    """Read and validate a ``reviewdesk.gate_inputs/v1`` file completely (§8.1)."""
    path = Path(path)
    text = _read_text(path, "gate inputs")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GateInputsError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from exc
    validate_document(document, str(path))
    assert isinstance(document, dict)
    return document


def validate_document(document: Any, source: str) -> None:
    """Check every field a gate relies on; the message is ``source: field: problem``."""
    if not isinstance(document, dict):
        raise GateInputsError(f"{source}: the document must be a JSON object")
    schema = document.get("schema")
    if schema != SCHEMA:
        raise GateInputsError(f"{source}: schema: must be {SCHEMA!r}, got {brief(schema)}")
    for key in TOP_LEVEL_FIELDS:
        if key not in document:
            raise GateInputsError(f"{source}: {key}: missing (an incomplete gate-inputs file)")
    for key in ("snapshot", "config"):
        if not isinstance(document[key], dict):
            raise GateInputsError(f"{source}: {key}: must be an object")
    for key in SNAPSHOT_FIELDS:
        if key not in document["snapshot"]:
            raise GateInputsError(f"{source}: snapshot.{key}: missing")
    records = document["records"]
    if not isinstance(records, list):
        raise GateInputsError(f"{source}: records: must be an array")
    seen: dict[tuple[str, ...], int] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise GateInputsError(f"{source}: records[{i}]: must be an object")
        for key in RECORD_FIELDS:
            if key not in rec:
                raise GateInputsError(f"{source}: records[{i}].{key}: missing")
        for key in ("estimate", "ci_low", "ci_high"):
            value = rec[key]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise GateInputsError(
                    f"{source}: records[{i}].{key}: must be a number or null, got {brief(value)}"
                )
        try:
            record = MetricRecord.from_dict(rec)
        except (ValueError, TypeError) as exc:
            raise GateInputsError(f"{source}: records[{i}]: {exc}") from exc
        identity = record.sort_key()
        if identity in seen:
            raise GateInputsError(
                f"{source}: records[{i}]: same metric, estimand, roles and slice as "
                f"records[{seen[identity]}]"
            )
        seen[identity] = i


def check_gates(inputs_path: Path, spec_path: Path, candidate: str | None = None) -> Scorecard:
    """Evaluate the gate spec against the gate inputs (§8.4) and explain every failure.

    The release passes iff every gate passes. Invalid files raise ``UserError`` subclasses
    (:class:`GateSpecError`, :class:`GateInputsError`) whose message names file and field.
    """
    spec = load_gate_spec(spec_path)
    document = load_gate_inputs_document(inputs_path)
    try:
        scorecard = evaluate_gates(spec, document, candidate=candidate)
    except GateInputsError as exc:
        raise GateInputsError(f"{inputs_path}: {exc}") from exc
    return explain(scorecard, document)


# --------------------------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------------------------


def _bound_detail(gate: Gate, record: Mapping[str, Any]) -> str | None:
    """Effect, estimate or precision: why a bound misses the threshold (None: nothing to add)."""
    req = gate.require
    if req.op == "==" or req.bound == "estimate":
        return None
    low, est, high = record.get("ci_low"), record.get("estimate"), record.get("ci_high")
    if low is None or est is None or high is None:
        return None
    meets = OPS[req.op]
    interval = f"[{_fmt(low)}, {_fmt(high)}]"
    if not meets(low, req.value) and not meets(high, req.value):
        return f"the whole interval {interval} lies beyond {_fmt(req.value)}: an effect, not noise"
    if not meets(est, req.value):
        return f"the estimate {_fmt(est)} itself misses {_fmt(req.value)}"
    return (
        f"the estimate {_fmt(est)} meets {_fmt(req.value)}, but the interval {interval} is too "
        f"wide at n_items {record.get('n_items')} to certify it: more evidence is needed"
    )


def _explain_check(gate: Gate, check: SliceCheck, record: Mapping[str, Any]) -> str:
    extras = record.get("extras") or {}
    why = extras.get("reason") if isinstance(extras, Mapping) else None
    if check.passed:
        return check.reason
    if check.evidence_status != "ok":
        return f"{check.reason}: {why}" if why else check.reason
    if check.n_items < gate.min_n_items:
        return f"{check.reason} (too few items in this slice for the gate)"
    if check.bound_value is None:
        return f"{check.reason}: {why}" if why else check.reason
    detail = _bound_detail(gate, record)
    return f"{check.reason}; {detail}" if detail else check.reason


def _is_monitor_metric(metric: str) -> bool:
    return metric in MONITOR_METRICS or (
        metric.startswith(MONITOR_PREFIX) and metric[1:2].isdigit() and "_" in metric
    )


def _missing_reason(
    gate: Gate, records: Sequence[Mapping[str, Any]], config: Mapping[str, Any], release: str | None
) -> str:
    same = [r for r in records if r.get("metric") == gate.metric]
    if not same:
        reason = f"no matching record: the gate inputs hold no {gate.metric!r} record at all"
        if _is_monitor_metric(gate.metric) and config.get("monitor_baseline_version") is None:
            reason += (
                " (the homogenization monitor of STATISTICS.md §7 has no window in these inputs "
                "and config.monitor_baseline_version is null), so the gate fails closed"
            )
        return reason
    for key, wanted in (("estimand", gate.estimand), ("baseline", gate.baseline)):
        if wanted is not None:
            same_role = [r for r in same if r.get(key) == wanted]
            if not same_role:
                have = sorted({str(r.get(key)) for r in same})
                return (
                    f"no matching record: no {gate.metric} record with {key} {wanted!r} "
                    f"(present: {', '.join(have)})"
                )
            same = same_role
    wanted_release = gate.candidate or release
    if wanted_release is not None:
        same_release = [r for r in same if r.get("candidate") in (None, wanted_release)]
        if not same_release:
            return f"no matching record: no {gate.metric} record for candidate {wanted_release!r}"
        same = same_release
    pattern = gate.pattern()
    keys = set(pattern)
    same_keys = [r for r in same if set(r.get("slice") or {}) == keys]
    if not same_keys:
        shapes = sorted({",".join(sorted(r.get("slice") or {})) or "{}" for r in same})
        return (
            f"no matching record: no {gate.metric} slice has exactly the keys "
            f"{{{', '.join(sorted(keys))}}} (slice keys present: {'; '.join(shapes)})"
        )
    for key, value in sorted(pattern.items()):
        if value == WILDCARD:
            continue
        values = sorted({str((r.get("slice") or {}).get(key)) for r in same_keys})
        if value not in values:
            return (
                f"no matching record: no {gate.metric} slice with {key}={value} "
                f"(values present: {', '.join(values)})"
            )
    return "no matching record"


def _summary(checks: Sequence[SliceCheck], worst: SliceCheck) -> tuple[bool, str]:
    failing = [c for c in checks if not c.passed]
    plural = "s" if len(checks) != 1 else ""
    if failing:
        return False, (
            f"{len(failing)} of {len(checks)} slice{plural} fail; worst "
            f"{worst.slice_label()}: {worst.reason}"
        )
    return (
        True,
        f"all {len(checks)} slice{plural} pass; worst {worst.slice_label()}: {worst.reason}",
    )


def explain(scorecard: Scorecard, document: Mapping[str, Any]) -> Scorecard:
    """The scorecard with every failing slice's and gate's reason made specific (see module)."""
    records: list[Mapping[str, Any]] = list(document.get("records") or [])
    config = document.get("config") or {}
    gates: list[GateResult] = []
    for result in scorecard.gates:
        gate = result.gate
        if not result.checks:
            reason = _missing_reason(gate, records, config, scorecard.candidate)
            gates.append(dataclasses.replace(result, reason=reason))
            continue
        new_checks = []
        worst: SliceCheck | None = None
        for check in result.checks:
            updated = dataclasses.replace(
                check, reason=_explain_check(gate, check, records[check.record_index])
            )
            new_checks.append(updated)
            if check is result.worst:
                worst = updated
        assert worst is not None
        passed, reason = _summary(new_checks, worst)
        gates.append(
            dataclasses.replace(
                result, checks=tuple(new_checks), worst=worst, reason=reason, passed=passed
            )
        )
    return dataclasses.replace(scorecard, gates=tuple(gates))


def inputs_summary(path: Path) -> dict[str, Any]:
    """What a scorecard was computed from (shown in the report header)."""
    document = load_gate_inputs_document(path)
    return {
        "path": str(path),
        "generated_at": document["generated_at"],
        "snapshot": document["snapshot"],
        "records": len(document["records"]),
    }


#: Re-exported for the command line, which imports services and domain only.
__all__ = [
    "GateInputsError",
    "GateResult",
    "GateSpecError",
    "Scorecard",
    "check_gates",
    "explain",
    "inputs_summary",
    "load_gate_inputs_document",
    "load_gate_spec",
    "validate_document",
]
