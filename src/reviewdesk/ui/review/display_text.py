"""Making untrusted text safe to lay out: caps on size and on unbreakable runs (Qt-free).

Qt's text layout is fast for ordinary prose but superlinear on a long run without break
opportunities (measured: a 100 000-character line takes 1.6 s, 400 000 take 22 s) and about
linear, yet still slow, for megabytes of prose. A hostile or broken response must never freeze
the review window, so what is rendered is capped: at most ``MAX_RENDER_CHARS`` characters, and
runs longer than ``MAX_RUN`` get invisible break opportunities (U+200B) that copying removes
again. The full text stays one explicit action away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Characters rendered as Markdown before the rest is held back behind "show full text".
MAX_RENDER_CHARS = 40_000
#: A run of non-space characters longer than this gets zero-width break opportunities.
MAX_RUN = 120
BREAK = "\u200b"
#: Lines longer than this are split for the plain full-text view (one block per piece).
FULL_VIEW_LINE = 2_000

_LONG_RUN = re.compile(rf"\S{{{MAX_RUN + 1},}}")


@dataclass(frozen=True)
class Prepared:
    """What the view renders, and whether (and how much) was held back."""

    text: str
    total_chars: int
    shown_chars: int

    @property
    def elided(self) -> bool:
        return self.shown_chars < self.total_chars


def _break_runs(text: str) -> str:
    def split(match: re.Match[str]) -> str:
        run = match.group(0)
        return BREAK.join(run[i : i + MAX_RUN] for i in range(0, len(run), MAX_RUN))

    return _LONG_RUN.sub(split, text)


def prepare(text: str, max_chars: int = MAX_RENDER_CHARS) -> Prepared:
    """Cap ``text`` for rendering: cut at a line end near ``max_chars`` and break long runs."""
    total = len(text)
    shown = text
    if total > max_chars:
        cut = text.rfind("\n", max_chars // 2, max_chars)
        shown = text[: cut if cut > 0 else max_chars]
        if shown.count("```") % 2 == 1:
            shown += "\n```"  # close a code fence the cut left open, so the tail is not code
    return Prepared(text=_break_runs(shown), total_chars=total, shown_chars=len(shown))


def strip_breaks(text: str) -> str:
    """Undo :func:`prepare`'s invisible breaks (for the clipboard and for find)."""
    return text.replace(BREAK, "")


def full_view_text(text: str, width: int = FULL_VIEW_LINE) -> str:
    """The full text for the plain viewer, long lines split into ``width``-character pieces.

    A plain-text view lays out only the blocks on screen, so short blocks keep even megabytes
    responsive; splitting a line changes nothing but where it wraps.
    """
    if all(len(line) <= width for line in text.split("\n")):
        return text
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
        else:
            out.extend(line[i : i + width] for i in range(0, len(line), width))
    return "\n".join(out)
