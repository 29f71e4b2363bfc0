"""Subcommands. Each module registers its parsers; services are imported inside ``run``."""

from __future__ import annotations

import argparse

from reviewdesk.cli.commands import (
    adjudicate,
    audit,
    erase,
    export,
    gate,
    gui,
    import_,
    monitor,
    project,
    queue,
    review,
    stats,
)


def register_all(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for module in (
        project,
        import_,
        queue,
        review,
        stats,
        monitor,
        adjudicate,
        export,
        gate,
        audit,
        erase,
        gui,
    ):
        module.register(sub)
