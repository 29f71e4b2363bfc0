"""Core vocabulary: enums and frozen records shared by every layer.

Slots ``A``/``B`` are fixed per item at creation; what a reviewer saw is recorded separately as the
screen choice plus the slot shown on the left, and the canonical choice is derived from both
(STATISTICS.md §1.1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

_R = TypeVar("_R")


class Slot(StrEnum):
    A = "A"
    B = "B"

    @property
    def other(self) -> Slot:
        return Slot.B if self is Slot.A else Slot.A


class Verdict(StrEnum):
    """A canonical verdict on an item: which slot is better, or neither."""

    A = "A"
    B = "B"
    TIE = "tie"
    BOTH_BAD = "both_bad"

    @property
    def decisive(self) -> bool:
        return self in (Verdict.A, Verdict.B)


class ScreenChoice(StrEnum):
    """What the reviewer pressed, in screen terms."""

    LEFT = "left"
    RIGHT = "right"
    TIE = "tie"
    BOTH_BAD = "both_bad"
    SKIP = "skip"


class RefusalClass(StrEnum):
    FULL_COMPLIANCE = "full_compliance"
    PARTIAL_REFUSAL = "partial_refusal"
    FULL_REFUSAL = "full_refusal"


class ExpectedBehavior(StrEnum):
    ANSWER = "answer"
    REFUSE = "refuse"


class JudgeKind(StrEnum):
    LLM = "llm"
    CODE = "code"
    IMPORT = "import"


class Order(StrEnum):
    """The display order a judge saw: slot A first (``AB``), slot B first (``BA``), or unknown."""

    AB = "AB"
    BA = "BA"
    UNKNOWN = "unknown"


class QueueReason(StrEnum):
    CONTESTED = "contested"
    AUDIT = "audit"
    ANCHOR = "anchor"
    CONTROL = "control"


class DisagreementReason(StrEnum):
    JUDGE_SPLIT = "judge_split"
    POSITION_FLIP = "position_flip"
    TIE_SPLIT = "tie_split"
    LOW_CONFIDENCE = "low_confidence"


class Panel(StrEnum):
    """Homogenization instrumentation an item belongs to (STATISTICS.md §7.1)."""

    ANCHOR = "anchor"
    CONTROL_POSITIVE = "control_positive"
    CONTROL_NEGATIVE = "control_negative"


class Role(StrEnum):
    USER = "user"
    SYSTEM = "system"
    ASSISTANT = "assistant"
    TOOL = "tool"


def canonical_choice(screen: ScreenChoice, left_slot: Slot) -> Verdict | None:
    """Map a screen choice to a canonical verdict; ``skip`` has none."""
    if screen is ScreenChoice.LEFT:
        return Verdict(left_slot.value)
    if screen is ScreenChoice.RIGHT:
        return Verdict(left_slot.other.value)
    if screen is ScreenChoice.TIE:
        return Verdict.TIE
    if screen is ScreenChoice.BOTH_BAD:
        return Verdict.BOTH_BAD
    return None


def screen_choice_for(verdict: Verdict, left_slot: Slot) -> ScreenChoice:
    """Inverse of :func:`canonical_choice` for a known display side."""
    if verdict is Verdict.TIE:
        return ScreenChoice.TIE
    if verdict is Verdict.BOTH_BAD:
        return ScreenChoice.BOTH_BAD
    return ScreenChoice.LEFT if verdict.value == left_slot.value else ScreenChoice.RIGHT


# --------------------------------------------------------------------------------------------
# Records produced by importers (io) and consumed by the import service.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class ResponseRecord:
    model: str
    text: str


@dataclass(frozen=True)
class JudgmentRecord:
    """A verdict by an automated source (or a human label collected elsewhere, kind ``import``).

    Exactly one of: ``verdict`` set (possibly derived from ``scores``), or only ``refusal`` set (a
    refusal classifier that casts no preference).
    """

    judge: str
    kind: JudgeKind
    verdict: Verdict | None
    order: Order = Order.UNKNOWN
    probability_b: float | None = None
    scores: Mapping[Slot, float] | None = None
    refusal: Mapping[Slot, RefusalClass] | None = None
    rationale: str | None = None


@dataclass(frozen=True)
class LabelRecord:
    """A human label collected elsewhere (provenance ``import``): never shown to reviewers."""

    reviewer: str
    choice: Verdict
    shown_left: Slot | None = None
    labeled_at: datetime | None = None
    refusal: Mapping[Slot, RefusalClass] | None = None
    dwell_ms: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class ItemRecord:
    """One item as read from an input file, validated, with the line it started on.

    ``item_id`` is the file's identifier, or a content hash when the format has none (so two judge
    files about the same pairs land on the same item).
    """

    item_id: str
    prompt: str | None
    messages: tuple[Message, ...] | None
    responses: Mapping[Slot, ResponseRecord]
    line: int
    slices: Mapping[str, str] = field(default_factory=dict)
    expected_behavior: ExpectedBehavior | None = None
    subject_id: str | None = None
    panel: Panel | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    judgments: tuple[JudgmentRecord, ...] = ()
    labels: tuple[LabelRecord, ...] = ()


def record_maker(cls: type[_R]) -> Callable[..., _R]:
    """A positional constructor for one of the frozen records above, for the import hot path.

    It makes exactly the instance ``cls(*values)`` would (equal, same repr, still frozen), about
    twice as fast: a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, which dominates building millions of small records. Every field
    must be given, in declaration order (no defaults).
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    body = ", ".join(f"{name!r}: {name}" for name in names)
    source = (
        f"def make({', '.join(names)}):\n"
        f"    obj = new(cls)\n"
        f"    set_dict(obj, '__dict__', {{{body}}})\n"
        f"    return obj\n"
    )
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "set_dict": object.__setattr__}
    exec(source, namespace)  # generated from the dataclass's own field names
    make: Callable[..., _R] = namespace["make"]
    make.__qualname__ = f"record_maker({cls.__name__})"
    return make


@dataclass(frozen=True)
class Skipped:
    """A record the format itself says to skip (e.g. AlpacaEval null preference), with why."""

    line: int
    field: str
    message: str


# --------------------------------------------------------------------------------------------
# What the services hand to the CLI and GUI.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """One blinded pair as a reviewer sees it.

    ``handle`` identifies the queue entry and the side assignment for the services; it is never
    shown. Nothing here names a model, a judge, an item id or a queue reason.
    """

    handle: str
    prompt: str | None
    messages: tuple[Message, ...] | None
    left: str
    right: str
    left_slot: Slot  # needed to record the label; the UI never displays it


@dataclass(frozen=True)
class ReviewProgress:
    done: int  # labels this reviewer has given in the queue
    remaining: int  # entries still waiting for this reviewer
    queue_done: int  # labels given by everyone
    queue_needed: int  # labels the queue needs in all

    @property
    def queue_fraction(self) -> float:
        return self.queue_done / self.queue_needed if self.queue_needed else 1.0


@dataclass(frozen=True)
class LabelReceipt:
    """Returned once a label is committed to disk."""

    event_id: int
    choice: ScreenChoice
    progress: ReviewProgress


@dataclass(frozen=True)
class UndoStatus:
    undone: bool
    message: str
    remaining_undos: int
    restored_handle: str | None = None  # the pair to show again, if any
