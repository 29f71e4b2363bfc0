"""Child process for the crash tests: labels continuously through the CLI entry point.

It runs ``main(["next", ...])`` and ``main(["answer", ...])`` in-process (the real CLI code path,
without paying interpreter start-up for every label) and prints ``ACK <token>`` after each
``answer`` has returned 0 — the moment the user is told the label is saved.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from reviewdesk.cli.main import main


def run(project: str, reviewer: str) -> None:
    choices = ["left", "right", "tie", "both_bad"]
    n = 0
    while True:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["next", project, "--reviewer", reviewer, "--json"])
        assert code == 0, code
        served = json.loads(out.getvalue())
        if served["token"] is None:
            print("DONE", flush=True)
            return
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(
                [
                    "answer",
                    project,
                    "--reviewer",
                    reviewer,
                    "--token",
                    served["token"],
                    "--choice",
                    choices[n % 4],
                ]
            )
        assert code == 0, code
        print(f"ACK {served['token']}", flush=True)
        n += 1


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
