"""Subcommands. Each module registers its parsers; services are imported inside ``run``."""

from __future__ import annotations

import argparse

from reviewdesk.cli.commands import (
    adjudicate,
    audit,
    erase,
    export,
    gui,
    import_,
    project,
    queue,
    review,
)


def register_all(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for module in (project, import_, queue, review, adjudicate, export, audit, erase, gui):
        module.register(sub)
