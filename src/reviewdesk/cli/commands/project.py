"""``init`` and ``status``."""

from __future__ import annotations

import argparse
from typing import Any

from reviewdesk.cli.commands.common import open_project, print_json, project_arg


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="create a new project file")
    project_arg(p)
    p.add_argument("--candidate", metavar="MODEL", help="the model under evaluation")
    p.add_argument("--baseline", metavar="MODEL", help="the model it is compared with")
    p.add_argument(
        "--seed", type=int, metavar="N", help="blinding and sampling seed (random by default)"
    )
    p.set_defaults(run=run_init)

    p = sub.add_parser("status", help="counts of items, judgments, disagreements, queue and labels")
    project_arg(p)
    p.add_argument("--json", action="store_true", help="print the reviewdesk.status/v1 document")
    p.set_defaults(run=run_status)


def run_init(args: argparse.Namespace) -> int:
    from reviewdesk.services.project import create_project

    with create_project(
        args.project, candidate=args.candidate, baseline=args.baseline, seed=args.seed
    ) as project:
        settings = project.settings()
    print(f"created {args.project} (seed {settings.seed})")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from reviewdesk.services.status import get_status

    with open_project(args.project) as project:
        status = get_status(project)
    if args.json:
        print_json(status)
    else:
        print(render_status(status))
    return 0


def render_status(s: dict[str, Any]) -> str:
    q = s["queue"]
    reasons = ", ".join(f"{k} {v}" for k, v in s["contested_by_reason"].items())
    by_reason = ", ".join(f"{k} {v}" for k, v in q["by_reason"].items())
    lines = [
        f"project     {s['project']}",
        f"items       {s['items']}",
        f"judgments   {s['judgments']} from {len(s['judges'])} judges "
        f"({', '.join(s['judges']) or '-'})",
        f"models      {', '.join(s['models']) or '-'}",
        f"roles       candidate {s['candidate'] or '-'}, baseline {s['baseline'] or '-'}",
        f"contested   {s['contested']} ({reasons})",
        f"queue       {q['total']} entries ({by_reason})",
        f"labels      {q['labels_done']} / {q['labels_needed']} done in the queue; "
        f"{s['labels']['in_app']} in-app and {s['labels']['imported']} imported human labels "
        f"from {s['labels']['reviewers']} reviewers",
    ]
    return "\n".join(lines)
