"""``erase``: remove a data subject's texts from the project and the file's bytes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from reviewdesk.cli.commands.common import open_project, print_json, project_arg

if TYPE_CHECKING:
    from reviewdesk.services.erasure import ErasureReport


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "erase",
        help="erase a data subject's prompts, responses, rationales and notes; list stale exports",
    )
    project_arg(p)
    p.add_argument("--subject", required=True, metavar="ID", help="the items' subject_id")
    p.add_argument("--dry-run", action="store_true", help="only say what would be erased")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run_erase)


def run_erase(args: argparse.Namespace) -> int:
    from reviewdesk.cli.progress import run_job
    from reviewdesk.domain.errors import UserError
    from reviewdesk.services.erasure import erase_subject

    with open_project(args.project) as project:
        report = run_job(erase_subject(project, args.subject, dry_run=args.dry_run))
    if args.json:
        print_json(report.to_json())
    else:
        print(render(report))
    if not report.dry_run and not report.purged:
        raise UserError(
            "the texts were erased, but another process kept the file from being purged; "
            "close every reviewdesk window on this project and run the same erase again"
        )
    return 0


def render(report: ErasureReport) -> str:
    plan = report.plan
    verb = "would erase" if report.dry_run else "erased"
    lines = [
        f"subject {plan.subject}: {verb} {len(plan.items)} items "
        f"({plan.rationales} judge rationales, {plan.notes} reviewer notes)"
    ]
    lines += [f"  item {key}" for key, _ in plan.items]
    if plan.already_erased:
        lines.append(f"already erased earlier: {', '.join(plan.already_erased)}")
    if plan.exports:
        stale = "would be marked stale" if report.dry_run else "now marked stale"
        lines.append(f"{len(plan.exports)} earlier exports contained the subject ({stale}):")
        lines += [
            f"  export {x.export_id} ({x.kind}, {x.created_at}): {x.path}" for x in plan.exports
        ]
    else:
        lines.append("no earlier export contained the subject")
    if plan.backups:
        lines.append("backups beside the project may still hold the subject; delete them:")
        lines += [f"  {path}" for path in plan.backups]
    if report.dry_run:
        lines.append("dry run: nothing was changed")
    elif report.purged:
        lines.append("the project file and its write-ahead log were purged of the old texts")
    if report.audit_record_id is not None:
        lines.append(f"tombstone: audit record {report.audit_record_id}")
    return "\n".join(lines)
