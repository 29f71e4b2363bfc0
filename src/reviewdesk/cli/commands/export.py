"""``export``: files for release owners and training (SPEC §7–§8).

One subcommand per function pair (``register_<name>`` adds its parser to the ``export``
subparsers, ``run_<name>`` runs it), so further exports (``export gates``) are added by writing
one more pair and listing it in :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from reviewdesk.cli.commands.common import open_project, print_json, project_arg

#: The ``export`` subparsers each ``register_<name>`` adds to (a string: not subscriptable at run
#: time before Python 3.12).
ExportParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register_preferences(sub: ExportParsers) -> None:
    p = sub.add_parser(
        "preferences",
        help="audited preference pairs for TRL (DPO) with their provenance and a manifest",
    )
    project_arg(p)
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR")
    p.add_argument(
        "--conversational",
        action="store_true",
        help="prompt/chosen/rejected as message lists (TRL's conversational format)",
    )
    p.add_argument(
        "--include-llm",
        action="store_true",
        help="add LLM-judge preferences for items no human labeled (marked synthetic)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run_preferences)


def run_preferences(args: argparse.Namespace) -> int:
    from reviewdesk.cli.progress import run_job
    from reviewdesk.services.preferences import PreferenceOptions, export_preferences

    options = PreferenceOptions(conversational=args.conversational, include_llm=args.include_llm)
    with open_project(args.project) as project:
        result = run_job(export_preferences(project, args.output, options))
    if args.json:
        print_json(result.to_json())
    else:
        print(result.summary())
    return 0


def register_csv(sub: ExportParsers) -> None:
    p = sub.add_parser("csv", help="labels and items as CSV (formula injection neutralized)")
    project_arg(p)
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run_csv)


def run_csv(args: argparse.Namespace) -> int:
    from reviewdesk.cli.progress import run_job
    from reviewdesk.services.csv_export import export_csv

    with open_project(args.project) as project:
        result = run_job(export_csv(project, args.output))
    if args.json:
        print_json(result.to_json())
    else:
        print(result.summary())
    return 0


def register_gates(sub: ExportParsers) -> None:
    p = sub.add_parser(
        "gates",
        help="gate inputs (reviewdesk.gate_inputs/v1) for release gates, with JSONL/CSV beside",
    )
    project_arg(p)
    p.add_argument("-o", "--output", required=True, type=Path, metavar="FILE")
    p.add_argument("--candidate", metavar="M", help="the model under evaluation (default: set)")
    p.add_argument("--baseline", metavar="M", help="the model it is compared with (default: set)")
    p.add_argument("--seed", type=int, metavar="N", help="bootstrap seed (default: project seed)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run_gates)


def run_gates(args: argparse.Namespace) -> int:
    from reviewdesk.cli.progress import run_job
    from reviewdesk.services.gate_inputs import export_gate_inputs

    with open_project(args.project) as project:
        result = run_job(
            export_gate_inputs(
                project,
                args.output,
                candidate=args.candidate,
                baseline=args.baseline,
                seed=args.seed,
            )
        )
    if args.json:
        print_json(result.to_json())
    else:
        print(result.summary())
    return 0


#: The ``export`` subcommands, in help order.
SUBCOMMANDS: list[Callable[[ExportParsers], None]] = [
    register_preferences,
    register_csv,
    register_gates,
]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser("export", help="write audited exports (preference sets, CSV, ...)")
    es = e.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    for register_one in SUBCOMMANDS:
        register_one(es)
