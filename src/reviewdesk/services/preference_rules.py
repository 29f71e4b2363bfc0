"""Which items become preference pairs, and why the others do not (SPEC §7), as pure functions.

A training set built from preferences inherits every shortcut taken here, so the rules are
deliberately conservative and every refusal to emit a pair has a named reason that the manifest
counts:

- Only **current human** labels count: provenance ``human`` (in the app) and ``import`` (collected
  elsewhere); retracted events and skips are not labels, and each (queue entry or item, reviewer)
  contributes its latest live label only.
- A pair needs a decisive winner. Ties and both_bad never become pairs; human labels that choose
  both A and B are a conflict and are left out unless an **adjudication** decides.
- LLM-judge preferences are used only on request, only where no human labeled the item, only when
  every LLM judge (merged over display orders with the MT-Bench rule) names the same winner, and
  they stay marked as synthetic: synthetic preferences drift a model toward the judge's voice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from reviewdesk.domain.model import Order, Verdict
from reviewdesk.queueing.disagreement import JudgeVerdict, merge_verdicts

HUMAN_PROVENANCES = frozenset(("human", "import"))
ADJUDICATION = "adjudication"
#: Every provenance a label event may carry.
PROVENANCES = frozenset((*HUMAN_PROVENANCES, ADJUDICATION))
DECISIVE = frozenset(("A", "B"))

# Drop reasons, as counted in the manifest.
ERASED = "erased"
NO_HUMAN_LABEL = "no_human_label"
TIE_OR_BOTH_BAD = "tie_or_both_bad"
CONFLICTING = "conflicting_human_labels"
ADJUDICATED_NO_WINNER = "adjudicated_tie_or_both_bad"
CONFLICTING_LLM = "conflicting_llm_judges"
LLM_NOT_UNANIMOUS = "llm_not_unanimous"
LLM_NO_WINNER = "llm_tie_or_both_bad"


class EventLike(Protocol):
    """The label-event fields the fold needs (``LabelEventView`` satisfies it)."""

    @property
    def id(self) -> int: ...
    @property
    def entry_id(self) -> int | None: ...
    @property
    def reviewer(self) -> str: ...
    @property
    def provenance(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def choice(self) -> str | None: ...
    @property
    def labeled_at(self) -> str: ...
    @property
    def retracted(self) -> bool: ...


E = TypeVar("E", bound=EventLike)


@dataclass(frozen=True)
class CurrentLabels(Generic[E]):
    """An item's current human labels (skips dropped) and its latest adjudication, if any."""

    human: tuple[E, ...]
    adjudication: E | None


def current_labels(events: Iterable[E]) -> CurrentLabels[E]:
    """Fold one item's events into its current labels.

    In-app labels fold per (queue entry, reviewer) in event order, like ``label_current``;
    imported labels per (item, reviewer) by their own time, then event order, since files may be
    imported out of order. A skip as the latest event means "no label".
    """
    latest: dict[tuple[object, ...], E] = {}
    adjudication: E | None = None
    for event in sorted(events, key=lambda e: e.id):
        if event.kind != "label" or event.retracted:
            continue
        if event.provenance == ADJUDICATION:
            adjudication = event
            continue
        if event.provenance not in HUMAN_PROVENANCES:
            continue
        if event.provenance == "human":
            key: tuple[object, ...] = ("entry", event.entry_id, event.reviewer)
            latest[key] = event
        else:
            key = ("item", event.reviewer)
            held = latest.get(key)
            if held is None or event.labeled_at >= held.labeled_at:
                latest[key] = event
    human = tuple(sorted((e for e in latest.values() if e.choice != "skip"), key=lambda e: e.id))
    return CurrentLabels(human, adjudication)


def agreement_category(choice: str | None) -> str | None:
    """A, B, or ``even`` (tie and both_bad score alike in agreement, STATISTICS.md §1.2)."""
    if choice in DECISIVE:
        return choice
    if choice in ("tie", "both_bad"):
        return "even"
    return None


def pairwise_agreement(choices: Sequence[str | None]) -> float | None:
    """Share of agreeing unordered label pairs; None with fewer than two labels."""
    cats = [agreement_category(c) for c in choices]
    n = len(cats)
    if n < 2:
        return None
    agree = sum(1 for i in range(n) for j in range(i + 1, n) if cats[i] == cats[j])
    return agree / (n * (n - 1) / 2)


@dataclass(frozen=True)
class Decision:
    """The winning slot and who decided it, or the reason there is no pair."""

    chosen: str | None
    source: str | None  # human | adjudication | llm
    dropped: str | None

    @classmethod
    def drop(cls, reason: str) -> Decision:
        return cls(None, None, reason)


def is_conflict(choices: Iterable[str | None], *, strict: bool = False) -> bool:
    """Human labels conflict when they choose both A and B (``strict``: or mix in a tie)."""
    values = set(choices)
    decisive = values & DECISIVE
    if len(decisive) == 2:
        return True
    return strict and bool(decisive) and bool(values - DECISIVE)


def decide(
    human_choices: Sequence[str | None],
    adjudication: str | None,
    llm_verdicts: Mapping[str, str] | None,
    *,
    include_llm: bool,
    strict: bool = False,
) -> Decision:
    """Decide one item. ``llm_verdicts`` maps each LLM judge to its merged verdict.

    An adjudication, when there is one, decides (it is asked for only on conflicts). Otherwise
    the human labels' decisive choices must all agree; with ``strict`` a tie or both_bad label
    alongside them is a conflict too. LLM verdicts are consulted only without human labels.
    """
    if adjudication is not None:
        if adjudication in DECISIVE:
            return Decision(adjudication, "adjudication", None)
        return Decision.drop(ADJUDICATED_NO_WINNER)
    if human_choices:
        if is_conflict(human_choices, strict=strict):
            return Decision.drop(CONFLICTING)
        decisive = set(human_choices) & DECISIVE
        if not decisive:
            return Decision.drop(TIE_OR_BOTH_BAD)
        return Decision(decisive.pop(), "human", None)
    if not include_llm or not llm_verdicts:
        return Decision.drop(NO_HUMAN_LABEL)
    values = set(llm_verdicts.values())
    if values == {"A"} or values == {"B"}:
        return Decision(values.pop(), "llm", None)
    if values >= DECISIVE:
        return Decision.drop(CONFLICTING_LLM)
    if values & DECISIVE:
        return Decision.drop(LLM_NOT_UNANIMOUS)
    return Decision.drop(LLM_NO_WINNER)


def merged_verdicts(judgments: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
    """(judge, order, verdict) → each judge's verdict merged over display orders (MT-Bench rule).

    Judgments without a verdict (refusal classifiers) cast no preference and are skipped.
    """
    merged, _ = merge_verdicts(
        JudgeVerdict(judge, Order(order), Verdict(verdict))
        for judge, order, verdict in judgments
        if verdict is not None
    )
    return {judge: verdict.value for judge, verdict in merged.items()}


def merged_llm_verdicts(judgments: Iterable[tuple[str, str, str, str | None]]) -> dict[str, str]:
    """(judge, kind, order, verdict) → merged verdict per **LLM** judge; code judges excluded."""
    return merged_verdicts(
        (judge, order, verdict) for judge, kind, order, verdict in judgments if kind == "llm"
    )
