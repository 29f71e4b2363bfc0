"""Drive a generator-shaped job with a progress bar on stderr (only when stderr is a terminal).

The job is always closed in ``finally``: Ctrl+C closes the generator, which rolls its
transaction back before the CLI exits with 130.
"""

from __future__ import annotations

import sys
from typing import TypeVar

from reviewdesk.domain.progress import Job, Progress

T = TypeVar("T")


def run_job(job: Job[T], *, show: bool | None = None) -> T:
    show = sys.stderr.isatty() if show is None else show
    try:
        if not show:
            while True:
                try:
                    next(job)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        with Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("working", total=None)
            while True:
                try:
                    update: Progress = next(job)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                bar.update(
                    task, completed=update.done, total=update.total, description=update.label
                )
    finally:
        job.close()
