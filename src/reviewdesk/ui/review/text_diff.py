"""Which words differ between the two responses (Qt-free, for the ``D`` highlight).

``difflib`` on word tokens, returning character spans in each text so the view can paint them
without touching the documents. Very long texts are diffed only up to a token budget, since
``SequenceMatcher`` is quadratic in the worst case (3 000 tokens: ~0.6 s worst case), and the
view runs it on the shared pool, never on the UI thread.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
#: Tokens compared per side; beyond this the rest counts as "not compared" (and is not painted).
MAX_TOKENS = 3_000

Span = tuple[int, int]  # [start, end) character offsets


@dataclass(frozen=True)
class WordDiff:
    left: list[Span]
    right: list[Span]
    truncated: bool  # the texts were longer than the budget


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _merge(spans: list[Span], text: str) -> list[Span]:
    """Join spans separated only by spaces, so a changed phrase is one highlight.

    Never across a line break: a highlight spanning paragraphs would paint their margins.
    """
    merged: list[Span] = []
    for start, end in spans:
        gap = text[merged[-1][1] : start] if merged else "x"
        if merged and not gap.strip() and "\n" not in gap and "\u2029" not in gap:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def word_diff(left: str, right: str, max_tokens: int = MAX_TOKENS) -> WordDiff:
    """Character spans of the words present on one side and not matched on the other."""
    a, b = _tokens(left), _tokens(right)
    truncated = len(a) > max_tokens or len(b) > max_tokens
    a, b = a[:max_tokens], b[:max_tokens]
    matcher = difflib.SequenceMatcher(None, [t[0] for t in a], [t[0] for t in b], autojunk=False)
    left_spans: list[Span] = []
    right_spans: list[Span] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        left_spans.extend((a[i][1], a[i][2]) for i in range(i1, i2))
        right_spans.extend((b[j][1], b[j][2]) for j in range(j1, j2))
    return WordDiff(_merge(left_spans, left), _merge(right_spans, right), truncated)
