"""``adjudicate``: settle conflicting human labels, blind, in the style of ``next``/``answer``.

``reviewdesk adjudicate PROJECT --reviewer NAME`` shows the next conflict as a blinded pair with
an opaque token; ``reviewdesk adjudicate answer PROJECT --reviewer NAME --token T --choice C``
records the decision. Nothing printed names a model, a labeler, their choices or the item.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from reviewdesk.cli.commands.common import open_project, print_json

CHOICES = ("left", "right", "tie", "both_bad")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "adjudicate",
        help="settle items whose human labels conflict (blind); `adjudicate answer` records",
        usage="%(prog)s [answer] PROJECT --reviewer NAME [--token TOKEN --choice CHOICE] [--json]",
    )
    p.add_argument("words", nargs="+", metavar="[answer] PROJECT", help="the project file")
    p.add_argument("--reviewer", required=True, metavar="NAME", help="the adjudicator")
    p.add_argument("--token", metavar="TOKEN", help="answer: the token printed before")
    p.add_argument("--choice", choices=CHOICES, help="answer: which side is better")
    p.add_argument("--note", metavar="TEXT", help="answer: why")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_adjudicate, parser=p)


def run_adjudicate(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    words: list[str] = args.words
    if len(words) == 2 and words[0] == "answer":
        if args.token is None or args.choice is None:
            parser.error("adjudicate answer needs --token and --choice")
        return _answer(args, Path(words[1]))
    if len(words) != 1:
        parser.error("give the project, or `answer` and the project")
    if args.token is not None or args.choice is not None:
        parser.error("--token and --choice belong to `adjudicate answer`")
    return _serve(args, Path(words[0]))


def _serve(args: argparse.Namespace, path: Path) -> int:
    from reviewdesk.services.adjudication import serve_adjudication

    with open_project(path) as project:
        served = serve_adjudication(project, args.reviewer)
    pair = served.pair
    if args.json:
        out: dict[str, Any] = {"token": None if pair is None else pair.handle}
        if pair is not None:
            if pair.messages is not None:
                out["messages"] = [
                    {"role": m.role.value, "content": m.content} for m in pair.messages
                ]
            else:
                out["prompt"] = pair.prompt
            out["left"] = pair.left
            out["right"] = pair.right
        out["remaining"] = served.remaining
        out["left_for_others"] = served.own
        print_json(out)
        return 0
    if pair is None:
        others = f"; {served.own} you labeled yourself are left for another adjudicator"
        print(f"nothing to adjudicate for {args.reviewer}{others if served.own else ''}")
        return 0
    rule = "─" * 72
    print(f"{served.remaining} conflicts to adjudicate")
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
    print(f"token {pair.handle}")
    print(
        "answer with: reviewdesk adjudicate answer PROJECT --reviewer NAME --token TOKEN "
        "--choice left|right|tie|both_bad"
    )
    return 0


def _answer(args: argparse.Namespace, path: Path) -> int:
    from reviewdesk.domain.model import ScreenChoice
    from reviewdesk.services.adjudication import answer_adjudication

    with open_project(path) as project:
        receipt = answer_adjudication(
            project, args.reviewer, args.token, ScreenChoice(args.choice), note=args.note
        )
    if args.json:
        print_json({"saved": True, "choice": receipt.choice.value, "remaining": receipt.remaining})
    else:
        print(f"saved: {receipt.choice.value} · {receipt.remaining} conflicts remaining")
    return 0
