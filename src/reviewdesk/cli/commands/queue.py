"""``queue build``."""

from __future__ import annotations

import argparse

from reviewdesk.cli.commands.common import open_project, print_json, project_arg


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    q = sub.add_parser("queue", help="the review queue")
    qs = q.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    p = qs.add_parser("build", help="queue contested items plus a random audit sample")
    project_arg(p)
    p.add_argument(
        "--audit-rate",
        type=float,
        metavar="RATE",
        help="share of uncontested items to audit (default 0.1, or the project's setting)",
    )
    p.add_argument(
        "--overlap",
        type=int,
        metavar="N",
        help="human labels each entry needs (default 2, or the project's setting)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_build)


def run_build(args: argparse.Namespace) -> int:
    from reviewdesk.services.queue import build_queue

    with open_project(args.project) as project:
        report = build_queue(project, audit_rate=args.audit_rate, overlap=args.overlap)
    if args.json:
        print_json(report.to_json())
    else:
        print(report.summary())
    return 0
