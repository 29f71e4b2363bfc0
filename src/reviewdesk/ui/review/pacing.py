"""Dwell time and reading pace (Qt-free, so the rules are unit-tested without a window).

Dwell is the time a pair was on screen *while the window was active*: minimizing the window or
switching to another application pauses it, so a coffee break does not count as reading. The
pace check compares dwell with a plausible reading time for both responses and, when a label
comes faster, produces a gentle notice; it never blocks the label.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: A plausible minimum reading time: 0.35 s per 100 characters of both responses, at least 1.5 s.
SECONDS_PER_100_CHARS = 0.35
MIN_READING_S = 1.5


class DwellClock:
    """Accumulates on-screen time while active; ``restart()`` for each new pair."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._accumulated = 0.0
        self._since: float | None = None
        self._active = True

    def restart(self) -> None:
        self._accumulated = 0.0
        self._since = self._now() if self._active else None

    def stop(self) -> None:
        """Freeze the clock (no pair on screen)."""
        if self._since is not None:
            self._accumulated += self._now() - self._since
        self._since = None

    def resume(self) -> None:
        """Continue after :meth:`stop` (a save failed and the pair stays on screen)."""
        if self._since is None and self._active:
            self._since = self._now()

    def set_active(self, active: bool) -> None:
        """The window became active (resume) or inactive/minimized (pause)."""
        if active == self._active:
            return
        self._active = active
        if active:
            self._since = self._now()
        elif self._since is not None:
            self._accumulated += self._now() - self._since
            self._since = None

    @property
    def running(self) -> bool:
        return self._since is not None

    def elapsed_s(self) -> float:
        running = self._now() - self._since if self._since is not None else 0.0
        return self._accumulated + running

    def elapsed_ms(self) -> int:
        return round(self.elapsed_s() * 1000)


def plausible_reading_s(left: str, right: str) -> float:
    chars = len(left) + len(right)
    return max(MIN_READING_S, SECONDS_PER_100_CHARS * chars / 100)


def too_fast(dwell_s: float, left: str, right: str) -> bool:
    return dwell_s < plausible_reading_s(left, right)


@dataclass
class SessionPace:
    """Labels given in this session and how long they took (skips excluded)."""

    dwell_s: list[float] = field(default_factory=list)
    too_fast: int = 0

    def add(self, dwell_s: float, fast: bool) -> None:
        self.dwell_s.append(dwell_s)
        if fast:
            self.too_fast += 1

    def remove_last(self) -> None:
        """An undo takes the label out of the session figures too."""
        if self.dwell_s:
            self.dwell_s.pop()

    @property
    def count(self) -> int:
        return len(self.dwell_s)

    def median_s(self) -> float | None:
        return statistics.median(self.dwell_s) if self.dwell_s else None

    def describe(self) -> str:
        median = self.median_s()
        if median is None:
            return "pace —"
        return f"pace {median:.0f} s/pair" if median >= 10 else f"pace {median:.1f} s/pair"
