"""The pure selection rules of the preference export, and the digests verification recomputes."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from reviewdesk.domain.model import (
    ItemRecord,
    JudgeKind,
    JudgmentRecord,
    Message,
    Order,
    RefusalClass,
    ResponseRecord,
    Role,
    Slot,
    Verdict,
)
from reviewdesk.services import preference_rules as rules
from reviewdesk.services.importing import (
    item_digest,
    item_fields_digest,
    judgment_digest,
    judgment_fields_digest,
)


@dataclass(frozen=True)
class Ev:
    id: int
    reviewer: str
    choice: str | None
    provenance: str = "human"
    entry_id: int | None = 1
    kind: str = "label"
    labeled_at: str = "2026-11-02T09:00:00.000Z"
    retracted: bool = False


def test_fold_keeps_the_latest_live_label_per_reviewer() -> None:
    events = [
        Ev(1, "r1", "A"),
        Ev(2, "r1", "B"),  # an edit: the latest wins
        Ev(3, "r2", "A", retracted=True),
        Ev(4, "r2", "retracts", kind="retract"),
        Ev(5, "r3", "A"),
        Ev(6, "r3", "skip"),  # skipped last: no label
        Ev(7, "x", "A", provenance="import", entry_id=None, labeled_at="2026-10-02T00:00:00Z"),
        Ev(8, "x", "B", provenance="import", entry_id=None, labeled_at="2026-10-01T00:00:00Z"),
        Ev(9, "adj", "B", provenance="adjudication", entry_id=None),
        Ev(10, "bot", "A", provenance="llm"),  # not a human provenance
    ]
    current = rules.current_labels(events)
    assert [(e.reviewer, e.choice) for e in current.human] == [("r1", "B"), ("x", "A")]
    assert current.adjudication is not None
    assert current.adjudication.id == 9


def test_decide() -> None:
    decide = rules.decide
    assert decide(["A", "A"], None, None, include_llm=False).chosen == "A"
    assert decide(["A", "B"], None, None, include_llm=False).dropped == rules.CONFLICTING
    assert decide(["A", "B"], "B", None, include_llm=False) == rules.Decision(
        "B", "adjudication", None
    )
    assert decide(["tie", "both_bad"], None, None, include_llm=False).dropped == (
        rules.TIE_OR_BOTH_BAD
    )
    assert decide(["A", "tie"], None, None, include_llm=False).chosen == "A"
    assert decide(["A", "tie"], None, None, include_llm=False, strict=True).dropped == (
        rules.CONFLICTING
    )
    llm = {"j1": "B", "j2": "B"}
    assert decide([], None, llm, include_llm=False).dropped == rules.NO_HUMAN_LABEL
    assert decide([], None, llm, include_llm=True) == rules.Decision("B", "llm", None)
    assert decide(["A"], None, llm, include_llm=True).source == "human"  # humans first
    assert decide([], None, {"j1": "A", "j2": "tie"}, include_llm=True).dropped == (
        rules.LLM_NOT_UNANIMOUS
    )


def test_merged_llm_verdicts_follow_the_mt_bench_rule() -> None:
    merged = rules.merged_llm_verdicts(
        [
            ("j1", "llm", "AB", "A"),
            ("j1", "llm", "BA", "B"),
            ("j2", "llm", "AB", "B"),
            ("j2", "llm", "BA", "B"),
            ("fmt", "code", "unknown", "A"),
            ("clf", "code", "unknown", None),
        ]
    )
    assert merged == {"j1": "tie", "j2": "B"}


def test_pairwise_agreement() -> None:
    assert rules.pairwise_agreement(["A"]) is None
    assert rules.pairwise_agreement(["A", "A", "B"]) == 1 / 3
    assert rules.pairwise_agreement(["tie", "both_bad"]) == 1.0


texts = st.text(max_size=30)


@given(
    prompt=st.one_of(st.none(), texts),
    chat=st.lists(st.tuples(st.sampled_from(list(Role)), texts), max_size=3),
    a=texts,
    b=texts,
)
def test_stored_value_digests_equal_the_import_digests(
    prompt: str | None, chat: list[tuple[Role, str]], a: str, b: str
) -> None:
    messages = None if prompt is not None else tuple(Message(r, c) for r, c in chat)
    record = ItemRecord(
        "k",
        prompt,
        messages,
        {Slot.A: ResponseRecord("m1", a), Slot.B: ResponseRecord("m2", b)},
        line=1,
    )
    pairs = None if messages is None else tuple((m.role.value, m.content) for m in messages)
    assert item_fields_digest(prompt, pairs, "m1", a, "m2", b) == item_digest(record)
    judgment = JudgmentRecord(
        "j",
        JudgeKind.LLM,
        Verdict.A,
        Order.AB,
        0.25,
        {Slot.A: 1.0, Slot.B: -0.5},
        {Slot.A: RefusalClass.FULL_COMPLIANCE, Slot.B: RefusalClass.FULL_REFUSAL},
        a,
    )
    assert judgment_fields_digest(
        "llm", "A", 0.25, 1.0, -0.5, "full_compliance", "full_refusal", a
    ) == judgment_digest(judgment)
