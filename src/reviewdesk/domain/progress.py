"""Progress reports and cancel tokens for long, generator-shaped operations.

Long operations are Qt-free generators that ``yield Progress`` and ``return`` a report; the CLI
drives them with a progress bar, the GUI with a throttled progress dialog (ARCHITECTURE.md §4.5).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

from reviewdesk.domain.errors import CanceledError

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units (``total`` None when unknown), with a short label."""

    done: int
    total: int | None
    label: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class CancelToken:
    """A thread-safe flag checked between batches; ``check()`` raises ``CanceledError``."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def canceled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise CanceledError()


Job = Generator[Progress, None, T]
"""A long operation: yields progress, returns its report."""


def run_to_completion(job: Job[T]) -> T:
    """Drive a job without showing progress (tests, scripts)."""
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


def relayed(job: Job[T], remap: Callable[[Progress], Progress]) -> Job[T]:
    """Run a sub-job inside a larger one: re-yield its progress through ``remap`` (an offset, a
    share of the whole, a prefixed label) and return its result."""
    while True:
        try:
            step = next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        yield remap(step)
