"""``reviewdesk`` entry point: subcommands, exit codes and error families (SPEC §8).

Exit codes: 0 ok; 1 user error (one line on stderr); 2 usage; 70 internal error (details in the
log file); 130 interrupted. Command modules import services inside ``run`` so ``--help`` stays
instant and loads no Qt, numpy, krippendorff or SQLAlchemy.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from reviewdesk import __version__
from reviewdesk.cli.commands import register_all
from reviewdesk.domain.errors import UserError

log = logging.getLogger("reviewdesk")

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewdesk",
        description=(
            "Blind pairwise human review of the items where LLM judges and evals disagree. "
            "With no command, opens the GUI."
        ),
    )
    parser.add_argument("--version", action="version", version=f"reviewdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    register_all(sub)
    return parser


def fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def _setup_logging() -> None:
    from reviewdesk.services.paths import log_file

    handler = logging.FileHandler(log_file(), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        return int(args.run(args) or 0)
    except UserError as exc:
        return fail(f"reviewdesk: {exc}", EXIT_USER)
    except KeyboardInterrupt:
        return fail("reviewdesk: interrupted; nothing was changed", EXIT_INTERRUPTED)
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # noqa: BLE001 - the last resort: every bug becomes exit code 70
        try:
            _setup_logging()
            log.exception("unexpected error in %r", list(argv) if argv is not None else sys.argv)
            from reviewdesk.services.paths import log_file

            where = str(log_file())
        except Exception:  # noqa: BLE001 - logging itself failed (read-only home?)
            where = "the log (could not be written)"
        return fail(f"reviewdesk: internal error, details in {where}", EXIT_INTERNAL)


def entry_point() -> None:
    sys.exit(main())
