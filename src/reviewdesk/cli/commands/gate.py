"""``gate check``: evaluate a TOML gate spec against a gate-inputs file (SPEC §7–§8).

Exit codes (SPEC §8, unlike other commands): 0 when every gate passes, 1 when any gate fails,
2 when either file is invalid (a bad spec or an incomplete gate-inputs document), with the
message on stderr. The terminal scorecard names each gate, each matched slice with its bound,
value and verdict, the worst slice and why; the hypothesis and the spec's budget and rollback
tables are printed with it. ``--json`` prints the ``reviewdesk.gate_report/v1`` document.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewdesk.cli.commands.common import print_json

if TYPE_CHECKING:
    from reviewdesk.services.gating import GateResult, Scorecard

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_INVALID = 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    g = sub.add_parser("gate", help="release gates over exported gate inputs")
    acts = g.add_subparsers(dest="gate_command", metavar="ACTION", required=True)
    p = acts.add_parser(
        "check",
        help="evaluate a gate spec; exit 0 if every gate passes, 1 if any fails, 2 if invalid",
        description=(
            "Evaluate every gate of a TOML gate spec against a gate-inputs file, slice by slice "
            "and fail-closed (STATISTICS.md §8.4). Exit 0: every gate passes; 1: a gate fails; "
            "2: a file is invalid."
        ),
    )
    p.add_argument("--inputs", required=True, type=Path, metavar="FILE", help="gate inputs (JSON)")
    p.add_argument("--spec", required=True, type=Path, metavar="FILE", help="gate spec (TOML)")
    p.add_argument(
        "--candidate",
        metavar="M",
        help="the release under evaluation (default: the spec's, else the inputs' candidate)",
    )
    p.add_argument("--json", action="store_true", help="print the scorecard as JSON")
    p.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    from reviewdesk.domain.errors import UserError
    from reviewdesk.services.gating import check_gates, inputs_summary

    try:
        scorecard = check_gates(args.inputs, args.spec, candidate=args.candidate)
        inputs = inputs_summary(args.inputs)
    except UserError as exc:
        print(f"reviewdesk: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        print_json(scorecard.to_dict())
    else:
        sys.stdout.write(render_scorecard(scorecard, inputs) + "\n")
    return EXIT_PASS if scorecard.passed else EXIT_FAIL


def _fmt(value: float | None) -> str:
    return "null" if value is None else f"{value:.4g}"


def _table(rows: Sequence[Sequence[str]], indent: str = "    ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def _gate_lines(result: GateResult) -> list[str]:
    gate = result.gate
    need = gate.require.describe()
    if gate.min_n_items:
        need += f", n_items >= {gate.min_n_items}"
    roles = [f"{k} {v}" for k, v in (("estimand", gate.estimand), ("baseline", gate.baseline)) if v]
    pattern = ", ".join(f"{k}={v}" for k, v in sorted(gate.pattern().items())) or "{}"
    verdict = "PASS" if result.passed else "FAIL"
    head = f"[{verdict}] {gate.label}: {need} on slice {pattern}"
    if roles:
        head += f" ({'; '.join(roles)})"
    lines = [head]
    if not result.checks:
        lines.append(f"    {result.reason}")
        return lines
    rows: list[tuple[str, ...]] = [("slice", "status", "n_items", gate.require.bound, "result")]
    for check in result.checks:
        rows.append(
            (
                check.slice_label() + (" (worst)" if check is result.worst else ""),
                check.evidence_status,
                str(check.n_items),
                _fmt(check.bound_value),
                "pass" if check.passed else "FAIL",
            )
        )
    lines.extend(_table(rows))
    for check in result.checks:
        if not check.passed:
            lines.append(f"    FAIL {check.slice_label()}: {check.reason}")
    worst = result.worst
    if worst is not None:
        why = f": {worst.reason}" if worst.passed else " (its reason is above)"
        lines.append(f"    worst slice: {worst.slice_label()}{why}")
    return lines


def _passthrough_lines(name: str, value: Any, indent: str = "  ") -> list[str]:
    if isinstance(value, Mapping):
        title = name if name.startswith("[") else f"{name}:"
        lines = [f"{indent}{title}"]
        for key, item in value.items():
            lines.extend(_passthrough_lines(str(key), item, indent + "  "))
        return lines
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [f"{indent}{name}:", *(f"{indent}  - {v}" for v in value)]
    return [f"{indent}{name} = {value}"]


def render_scorecard(scorecard: Scorecard, inputs: Mapping[str, Any] | None = None) -> str:
    """The terminal scorecard: verdict, hypothesis, every gate and slice, budget and rollback."""
    n_pass = sum(1 for g in scorecard.gates if g.passed)
    verdict = "RELEASE PASSES" if scorecard.passed else "RELEASE FAILS"
    lines = [
        f"{verdict}: {scorecard.candidate or '(no candidate named)'} — "
        f"{n_pass} of {len(scorecard.gates)} gates pass",
    ]
    if scorecard.hypothesis:
        lines.append(f"hypothesis: {scorecard.hypothesis}")
    if inputs is not None:
        snap = inputs["snapshot"]
        lines.append(
            f"inputs: {inputs['path']} ({inputs['records']} records, generated "
            f"{inputs['generated_at']}, content {str(snap.get('content_sha256'))[:16]}…)"
        )
    for result in scorecard.gates:
        lines.append("")
        lines.extend(_gate_lines(result))
    failing = [g for g in scorecard.gates if not g.passed]
    if failing:
        lines.extend(["", "failing gates:"])
        for g in failing:
            lines.append(f"  {g.gate.label}: {g.reason}")
    for name, value in scorecard.passthrough.items():
        lines.append("")
        lines.extend(_passthrough_lines(f"[{name}]", value, ""))
    return "\n".join(lines)
