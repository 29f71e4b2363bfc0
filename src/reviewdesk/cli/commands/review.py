"""Headless blind review: ``next``, ``answer`` and ``undo``.

They follow exactly the GUI's queue order, blinding and durability rules. ``next`` prints nothing
that identifies a model, judge, item or queue reason: the token is opaque.
"""

from __future__ import annotations

import argparse
from typing import Any

from reviewdesk.cli.commands.common import open_project, print_json, project_arg

CHOICES = ("left", "right", "tie", "both_bad", "skip")
REFUSAL = ("full_compliance", "partial_refusal", "full_refusal")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("next", help="show the next blinded pair for a reviewer")
    project_arg(p)
    p.add_argument("--reviewer", required=True, metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_next)

    p = sub.add_parser("answer", help="record a reviewer's choice for a served pair")
    project_arg(p)
    p.add_argument("--reviewer", required=True, metavar="NAME")
    p.add_argument("--token", required=True, metavar="TOKEN", help="the token printed by `next`")
    p.add_argument("--choice", required=True, choices=CHOICES)
    p.add_argument(
        "--refusal-left", choices=REFUSAL, metavar="CLASS", help=f"one of {', '.join(REFUSAL)}"
    )
    p.add_argument(
        "--refusal-right", choices=REFUSAL, metavar="CLASS", help=f"one of {', '.join(REFUSAL)}"
    )
    p.add_argument("--note", metavar="TEXT")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_answer)

    p = sub.add_parser("undo", help="take back the reviewer's last label (up to 10)")
    project_arg(p)
    p.add_argument("--reviewer", required=True, metavar="NAME")
    p.set_defaults(run=run_undo)


def run_next(args: argparse.Namespace) -> int:
    from reviewdesk.services.review import ensure_reviewer, serve_next

    with open_project(args.project) as project:
        ensure_reviewer(project, args.reviewer)
        served = serve_next(project, args.reviewer)
    progress = served.progress
    if args.json:
        out: dict[str, Any] = {"token": served.token}
        if served.pair is not None:
            if served.pair.messages is not None:
                out["messages"] = [
                    {"role": m.role.value, "content": m.content} for m in served.pair.messages
                ]
            else:
                out["prompt"] = served.pair.prompt
            out["left"] = served.pair.left
            out["right"] = served.pair.right
        out["done"] = progress.done
        out["remaining"] = progress.remaining
        print_json(out)
        return 0
    if served.pair is None:
        print(
            f"nothing left for {args.reviewer}: {progress.done} labeled, "
            f"queue {progress.queue_done}/{progress.queue_needed}"
        )
        return 0
    pair = served.pair
    rule = "─" * 72
    print(f"{progress.done} done · {progress.remaining} remaining for {args.reviewer}")
    print(rule)
    print("PROMPT")
    if pair.messages is not None:
        for m in pair.messages:
            print(f"[{m.role.value}] {m.content}")
    else:
        print(pair.prompt)
    for title, body in (("LEFT", pair.left), ("RIGHT", pair.right)):
        print(rule)
        print(title)
        print(body)
    print(rule)
    print(f"token {served.token}")
    print(
        "answer with: reviewdesk answer PROJECT --reviewer NAME --token TOKEN "
        "--choice left|right|tie|both_bad|skip"
    )
    return 0


def run_answer(args: argparse.Namespace) -> int:
    from reviewdesk.domain.model import RefusalClass, ScreenChoice
    from reviewdesk.services.review import answer_token

    with open_project(args.project) as project:
        receipt = answer_token(
            project,
            args.reviewer,
            args.token,
            ScreenChoice(args.choice),
            refusal_left=None if args.refusal_left is None else RefusalClass(args.refusal_left),
            refusal_right=None if args.refusal_right is None else RefusalClass(args.refusal_right),
            note=args.note,
        )
    p = receipt.progress
    if args.json:
        print_json(
            {
                "saved": True,
                "choice": receipt.choice.value,
                "done": p.done,
                "remaining": p.remaining,
            }
        )
    else:
        print(f"saved: {receipt.choice.value} · {p.done} done · {p.remaining} remaining")
    return 0


def run_undo(args: argparse.Namespace) -> int:
    from reviewdesk.domain.errors import UserError
    from reviewdesk.services.review import undo_last

    with open_project(args.project) as project:
        status = undo_last(project, args.reviewer)
    if not status.undone:
        raise UserError(status.message)
    print(f"{status.message}; {status.remaining_undos} more can be undone")
    return 0
