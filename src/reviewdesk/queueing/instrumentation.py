"""Instrumentation policy of the homogenization monitor (STATISTICS.md §7.1): pure functions.

- **Anchor panel**: 50–100 items chosen from the baseline period for high human disagreement —
  label entropy ≥ 0.8·ln 3 over the three agreement values — re-served blind every window to
  ≥ 3 distinct reviewers. An item needs at least three labels covering all three values to reach
  that entropy (a 2:1:1 split gives 1.04, 2:2:0 only 0.69), which the usual overlap of 2 never
  produces; when too few items qualify the panel is filled with the next most contested items
  (highest entropy, then pairwise disagreement) and the shortfall is reported, never hidden.
- **Anchor rounds**: each window's anchor entries are new queue entries with ``round`` = the
  window (ISO year·100 + week), reason ``anchor`` and a priority drawn from the contested
  priorities (:func:`reviewdesk.queueing.policy.interleaved_priority`), so anchors are spread
  through the queue like audit items and nothing in their place gives them away. A reviewer who
  sees an anchor again in a later round is a test–retest pair.
- **Controls**, ~5 % of traffic: positive controls pair an answer with a deliberately degraded
  copy of itself (key step dropped, truncated, sentences shuffled, or the key step swapped for
  filler so the copy is not simply shorter); negative controls pair an answer with itself or a
  trivial paraphrase. They are made from items no reviewer has seen (not in the queue), keep the
  source's prompt, slices and *both model names* — slot A keeps the source's slot-A model and slot
  B its slot-B model, whichever text sits there — so that no field of a control differs in kind
  from any other item's; reviewers never see model names anyway, and the monitor excludes
  control items from every estimate (§1.3). Which slot holds the reference is a fair coin.

Every draw is BLAKE2b of the project seed and stable keys (never ``hash()``), so re-running the
policy gives the same panel, the same controls and the same texts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from reviewdesk.domain.hashing import blake2b_coin, blake2b_int, blake2b_unit
from reviewdesk.domain.model import Slot
from reviewdesk.queueing.policy import interleaved_priority, order_key

ENTROPY_THRESHOLD = 0.8 * math.log(3.0)
"""§7.1: anchors have label entropy ≥ 0.8·ln 3 (natural log, three agreement values)."""

PANEL_MIN = 50
PANEL_MAX = 100
ANCHOR_LABELS = 3
"""Distinct reviewers per anchor per window (§7.1: ≥ 3)."""
CONTROL_RATE = 0.05
"""Share of queue traffic that is controls (§7.1: about 5 %)."""

POSITIVE_METHODS = ("drop_key_step", "truncate", "shuffle_sentences", "filler_for_key_step")
NEGATIVE_METHODS = ("identical", "paraphrase")
CONTROL_GENERATOR = "controls/v1"


# --------------------------------------------------------------------------------------------
# Anchor panel
# --------------------------------------------------------------------------------------------


def label_entropy(counts: Sequence[int]) -> float:
    """−Σ p_k ln p_k over the counts of the three agreement values (0 for no labels)."""
    total = sum(counts)
    if total <= 0:
        return 0.0
    return -sum((c / total) * math.log(c / total) for c in counts if c > 0)


def pairwise_disagreement(counts: Sequence[int]) -> float:
    """1 − Σ c(c − 1)/(m(m − 1)): the H1 disagreement of one item (0 with fewer than 2 labels)."""
    m = sum(counts)
    if m < 2:
        return 0.0
    return 1.0 - sum(c * (c - 1) for c in counts) / (m * (m - 1))


@dataclass(frozen=True)
class AnchorCandidate:
    """An item with its baseline-period human label counts (baseline better, tie, candidate)."""

    item_key: str
    counts: tuple[int, int, int]
    preselected: bool = False  # marked ``panel: anchor`` at import


@dataclass(frozen=True)
class AnchorSelection:
    chosen: tuple[str, ...]
    n_preselected: int
    n_at_threshold: int
    n_relaxed: int
    shortfall: int  # how far below ``min_size`` the panel stays

    def to_dict(self) -> dict[str, object]:
        return {
            "chosen": len(self.chosen),
            "preselected": self.n_preselected,
            "at_threshold": self.n_at_threshold,
            "relaxed": self.n_relaxed,
            "shortfall": self.shortfall,
        }


def select_anchor_panel(
    candidates: Sequence[AnchorCandidate],
    seed: int,
    *,
    min_size: int = PANEL_MIN,
    max_size: int = PANEL_MAX,
    threshold: float = ENTROPY_THRESHOLD,
    min_labels: int = ANCHOR_LABELS,
) -> AnchorSelection:
    """Choose the anchor panel (see the module docstring).

    Items marked at import always stay. Then items with ≥ ``min_labels`` labels and entropy ≥
    ``threshold``, most contested first (entropy, pairwise disagreement, then a seeded hash), up
    to ``max_size``; if fewer than ``min_size`` qualify, contested items below the threshold (at
    least two labels, not unanimous) fill the panel up to ``min_size``.
    """
    if not 1 <= min_size <= max_size:
        raise ValueError("need 1 <= min_size <= max_size")
    pre = [c.item_key for c in candidates if c.preselected]
    rest = [c for c in candidates if not c.preselected]

    def rank(c: AnchorCandidate) -> tuple[float, float, int]:
        return (
            -round(label_entropy(c.counts), 12),
            -round(pairwise_disagreement(c.counts), 12),
            blake2b_int("anchor", seed, c.item_key),
        )

    qualified = sorted(
        (c for c in rest if sum(c.counts) >= min_labels and label_entropy(c.counts) >= threshold),
        key=rank,
    )
    chosen = list(pre)[:max_size]
    at_threshold = [c.item_key for c in qualified][: max(0, max_size - len(chosen))]
    chosen += at_threshold
    relaxed: list[str] = []
    if len(chosen) < min_size:
        taken = set(chosen)
        fallback = sorted(
            (
                c
                for c in rest
                if c.item_key not in taken
                and sum(c.counts) >= 2
                and pairwise_disagreement(c.counts) > 0
            ),
            key=rank,
        )
        relaxed = [c.item_key for c in fallback][: min_size - len(chosen)]
        chosen += relaxed
    return AnchorSelection(
        tuple(chosen),
        min(len(pre), max_size),
        len(at_threshold),
        len(relaxed),
        max(0, min_size - len(chosen)),
    )


def anchor_round(moment: datetime) -> int:
    """The round number of the window holding ``moment``: ISO year·100 + ISO week (UTC)."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return year * 100 + week


def anchor_round_label(round_: int) -> str:
    """``202607`` → ``2026-W07`` (the monitor's calendar window id)."""
    return f"{round_ // 100:04d}-W{round_ % 100:02d}"


def round_entry_key(item_key: str, round_: int) -> str:
    """The key an anchor entry's priority, serving hash and coin are drawn from."""
    return f"{item_key}#round-{round_}"


def anchor_entry_priority(
    seed: int, item_key: str, round_: int, contested: Sequence[float]
) -> float:
    """Priority of an anchor entry: a contested entry's priority, drawn per round (interleaved)."""
    return interleaved_priority(seed, round_entry_key(item_key, round_), contested)


def anchor_entry_order_key(seed: int, item_key: str, round_: int) -> int:
    return order_key(seed, round_entry_key(item_key, round_))


# --------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------


def control_counts(n_ordinary_entries: int, rate: float = CONTROL_RATE) -> tuple[int, int]:
    """(positive, negative) controls so that they are ``rate`` of all entries, split evenly."""
    if not 0.0 <= rate < 1.0:
        raise ValueError("the control rate must be in [0, 1)")
    total = round(rate / (1.0 - rate) * max(0, n_ordinary_entries))
    positive = (total + 1) // 2
    return positive, total - positive


@dataclass(frozen=True)
class ControlPlan:
    """One control to create from a source item."""

    source_key: str
    new_key: str
    kind: str  # control_positive | control_negative
    method: str
    reference_slot: Slot  # the slot holding the source text (positive: the better answer)
    source_slot: Slot  # which of the source's responses is used


def plan_controls(
    source_keys: Sequence[str], n_positive: int, n_negative: int, seed: int
) -> list[ControlPlan]:
    """Pick sources and decide each control's kind, method and slots (deterministic)."""
    ranked = sorted(source_keys, key=lambda k: blake2b_int("control-source", seed, k))
    plans: list[ControlPlan] = []
    kinds = ["control_positive"] * n_positive + ["control_negative"] * n_negative
    for key, kind in zip(ranked, kinds, strict=False):
        methods = POSITIVE_METHODS if kind == "control_positive" else NEGATIVE_METHODS
        method = methods[blake2b_int("control-method", seed, key) % len(methods)]
        ref = Slot.A if blake2b_coin("control-slot", seed, key) else Slot.B
        src = Slot.A if blake2b_coin("control-source-slot", seed, key) else Slot.B
        digest = blake2b_int("control-key", seed, key, kind, bits=48)
        plans.append(ControlPlan(key, f"ctl-{digest:012x}", kind, method, ref, src))
    return plans


_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+")

FILLER = (
    "It is always a good idea to stay calm, double-check your assumptions and keep the "
    "relevant people informed as you go."
)


def _units(text: str) -> tuple[list[str], str]:
    """Split a response into units (list items, paragraphs, fenced blocks kept whole) and the
    separator to join them with; a single paragraph is split into sentences."""
    lines = text.split("\n")
    units: list[str] = []
    current: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            current.append(line)
            fenced = not fenced
            continue
        if fenced:
            current.append(line)
            continue
        if not line.strip():
            if current:
                units.append("\n".join(current))
                current = []
            continue
        if _LIST.match(line) and current:
            units.append("\n".join(current))
            current = [line]
        else:
            current.append(line)
    if current:
        units.append("\n".join(current))
    if len(units) <= 1:
        sentences = [s for s in _SENTENCE.split(text.strip()) if s]
        if len(sentences) > 1:
            return sentences, " "
    return units, "\n\n"


def _key_unit(units: list[str]) -> int:
    """The unit carrying the most substance: the longest one (ties → the earliest)."""
    return max(range(len(units)), key=lambda i: (len(units[i]), -i))


def degrade(text: str, method: str, seed: int, key: str) -> str:
    """A deterministically degraded copy of ``text`` (positive controls).

    ``drop_key_step`` removes the longest unit; ``truncate`` keeps the first half of the units
    (at least one, always fewer than all); ``shuffle_sentences`` permutes the units by a seeded
    hash (a different order is guaranteed when there are two or more); ``filler_for_key_step``
    replaces the longest unit with a generic sentence, so the copy is about as long as the
    original. A text of one unit is cut in half by words instead.
    """
    units, sep = _units(text)
    if len(units) < 2:
        words = text.split(" ")
        if method == "filler_for_key_step":
            return FILLER
        return " ".join(words[: max(1, len(words) // 2)]) if len(words) > 1 else FILLER
    if method == "drop_key_step":
        k = _key_unit(units)
        return sep.join(u for i, u in enumerate(units) if i != k)
    if method == "truncate":
        return sep.join(units[: max(1, len(units) // 2)])
    if method == "shuffle_sentences":
        order = sorted(range(len(units)), key=lambda i: blake2b_int("shuffle", seed, key, i))
        if order == list(range(len(units))):
            order = order[1:] + order[:1]
        return sep.join(units[i] for i in order)
    if method == "filler_for_key_step":
        k = _key_unit(units)
        return sep.join(FILLER if i == k else u for i, u in enumerate(units))
    raise ValueError(f"unknown degradation {method!r}")


_PARAPHRASES: tuple[tuple[str, str], ...] = (
    ("do not", "don't"),
    ("Do not", "Don't"),
    ("cannot", "can't"),
    ("it is", "it's"),
    ("It is", "It's"),
    ("you are", "you're"),
    ("You are", "You're"),
    ("that is", "that's"),
    ("for example", "e.g."),
    ("In order to", "To"),
    ("in order to", "to"),
    ("make sure", "ensure"),
    ("Make sure", "Ensure"),
)


def paraphrase(text: str, seed: int, key: str) -> str:
    """A trivial paraphrase (negative controls): contractions and stock phrases swapped.

    At most three substitutions, chosen by a seeded hash; a text with none of the phrases is
    returned unchanged (an identical pair is a valid negative control too).
    """
    applicable = [(a, b) for a, b in _PARAPHRASES if a in text]
    applicable.sort(key=lambda ab: blake2b_unit("paraphrase", seed, key, ab[0]))
    out = text
    for a, b in applicable[:3]:
        out = out.replace(a, b)
    return out


def control_texts(source_text: str, plan: ControlPlan, seed: int) -> dict[Slot, str]:
    """The two texts of a control by slot: the source text and its degraded or twin copy."""
    if plan.kind == "control_positive":
        other = degrade(source_text, plan.method, seed, plan.source_key)
    elif plan.method == "paraphrase":
        other = paraphrase(source_text, seed, plan.source_key)
    else:
        other = source_text
    return {plan.reference_slot: source_text, plan.reference_slot.other: other}
