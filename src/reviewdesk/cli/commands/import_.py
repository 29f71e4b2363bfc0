"""``import``: bring eval and judge results into a project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewdesk.cli.commands.common import open_project, print_json, project_arg

FORMATS = ("auto", "native", "alpaca_eval", "arena", "mt_bench")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import", help="import a results file (all-or-nothing unless --skip-bad)")
    project_arg(p)
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--format", choices=FORMATS, default="auto")
    p.add_argument("--judge", metavar="NAME", help="judge name (overrides the one in the file)")
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="import the valid records; write the invalid ones to FILE.rejects.jsonl",
    )
    p.add_argument("--as-labels", action="store_true", help="arena: votes are human labels")
    p.add_argument("--questions", type=Path, metavar="FILE", help="mt_bench: question.jsonl")
    p.add_argument(
        "--answers", type=Path, metavar="DIR", help="mt_bench: model_answer/ folder (or one jsonl)"
    )
    p.add_argument("--json", action="store_true", help="print the import report as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reviewdesk.cli.progress import run_job
    from reviewdesk.services.importing import ImportOptions, import_file

    options = ImportOptions(
        judge=args.judge, as_labels=args.as_labels, questions=args.questions, answers=args.answers
    )
    with open_project(args.project) as project:
        job = import_file(project, args.file, args.format, options, skip_bad=args.skip_bad)
        report = run_job(job)
    if args.json:
        print_json(report.to_json())
    else:
        print(report.summary())
        for line in report.conflicts:
            print(f"conflict: {line}", file=sys.stderr)
        for line in report.warnings:
            print(f"warning: {line}", file=sys.stderr)
    return 0
