"""``audit verify``: recompute the audit chain and name the first broken record."""

from __future__ import annotations

import argparse

from reviewdesk.cli.commands.common import open_project, print_json, project_arg


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    a = sub.add_parser("audit", help="the audit chain")
    acts = a.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = acts.add_parser(
        "verify",
        help="recompute the chain and the data it covers; exit 1 naming the first broken record",
    )
    project_arg(p)
    p.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="SHA256",
        help="a record hash kept elsewhere (e.g. a manifest's audit_head_sha256) that must "
        "still be in the chain; repeatable",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    from reviewdesk.cli.progress import run_job
    from reviewdesk.services.audit import verify_audit

    with open_project(args.project) as project:
        report = run_job(verify_audit(project, anchors=args.anchor))
    if args.json:
        print_json(report.to_json())
    elif report.ok:
        print(report.summary())
    report.raise_if_broken()
    return 0
