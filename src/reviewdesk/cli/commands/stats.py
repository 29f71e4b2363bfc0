"""``stats``: every statistic of a project, as a readable table or the gate-inputs document.

``stats --json`` prints exactly the ``reviewdesk.gate_inputs/v1`` document that ``export gates``
writes (SPEC §8); the table groups the records by metric, one line per slice.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from reviewdesk.cli.commands.common import open_project, project_arg


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stats",
        help="win rates, agreement, position bias, refusal and pass rates per slice",
        description=(
            "Compute every gate-input record of the project (STATISTICS.md §8): one per metric "
            "and slice, each with its estimate, 95%% interval, evidence and status."
        ),
    )
    project_arg(p)
    p.add_argument("--candidate", metavar="M", help="the model under evaluation (default: set)")
    p.add_argument("--baseline", metavar="M", help="the model it is compared with (default: set)")
    p.add_argument(
        "--json", action="store_true", help="print the reviewdesk.gate_inputs/v1 document"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reviewdesk.cli.progress import run_job
    from reviewdesk.services.gate_inputs import compute_gate_inputs, dumps_document

    with open_project(args.project) as project:
        document = run_job(
            compute_gate_inputs(project, candidate=args.candidate, baseline=args.baseline)
        )
    if args.json:
        sys.stdout.write(dumps_document(document))
    else:
        sys.stdout.write(render_table(document) + "\n")
    return 0


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def _slice(slice_: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(slice_.items())) or "(whole project)"


def _table(rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def render_table(document: Mapping[str, Any]) -> str:
    """Records grouped by metric (then estimand and roles): slice, estimate, CI, n, status."""
    config = document["config"]
    snap = document["snapshot"]
    boot = config["bootstrap"]
    lines = [
        f"candidate {config.get('candidate')} vs baseline {config.get('baseline')}; "
        f"{snap['label_count']} label events; B = {boot['B']}, seed {boot['seed']}; "
        f"min_n_items {config['min_n_items']}",
    ]
    groups: dict[tuple[str, str, str, str], list[Mapping[str, Any]]] = {}
    for rec in document["records"]:
        key = (rec["metric"], rec["estimand"], rec["candidate"] or "", rec["baseline"] or "")
        groups.setdefault(key, []).append(rec)
    header = ("slice", "estimate", "95% CI", "n_items", "n_labels", "status")
    right = (False, True, True, True, True, False)
    for (metric, estimand, cand, base), recs in groups.items():
        roles = f"{cand} vs {base}" if cand and base else cand or ""
        title = f"{metric} ({estimand}{'; ' + roles if roles else ''})"
        lines.extend(["", title])
        rows: list[tuple[str, ...]] = [header]
        # the broadest slices first: the whole project, then each key=value
        for rec in sorted(recs, key=lambda r: len(r["slice"])):
            ci = (
                f"[{_number(rec['ci_low'])}, {_number(rec['ci_high'])}]"
                if rec["ci_low"] is not None or rec["ci_high"] is not None
                else "-"
            )
            status = rec["evidence_status"]
            reason = (rec.get("extras") or {}).get("reason")
            if status != "ok" and reason:
                status = f"{status} ({reason})"
            rows.append(
                (
                    _slice(rec["slice"]),
                    _number(rec["estimate"]),
                    ci,
                    str(rec["n_items"]),
                    str(rec["n_labels"]),
                    status,
                )
            )
        lines.extend(_table(rows, right))
    if not document["records"]:
        lines.append("no records")
    return "\n".join(lines)
