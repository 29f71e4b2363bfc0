"""Adjudicating conflicting human labels, blind (SPEC §7).

Items whose current human labels choose both A and B never become preference pairs on their own.
An adjudicator settles them the way reviewers label: the prompt and the two responses, sides
drawn per (project seed, item, adjudicator), and nothing else — not who labeled what, not what
they chose, not the models. Items the adjudicator labeled themselves are left to someone else:
they would be judging their own conflict. The decision is a label event with provenance
``adjudication`` (outside the queue, so it neither counts toward overlap nor enters agreement
statistics) plus an ``adjudicate`` audit record; the preference export lets it decide the item.

Tokens are a keyed BLAKE2b of (seed, item, adjudicator): opaque, stable across runs, and needing
no serving table, since conflicts are not queue entries.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from reviewdesk import __version__
from reviewdesk.domain.changes import Changes
from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.hashing import blake2b_coin, blake2b_int
from reviewdesk.domain.model import Message, Pair, Role, ScreenChoice, Slot, canonical_choice
from reviewdesk.services import preference_rules as rules
from reviewdesk.services.project import Project
from reviewdesk.services.review import ensure_reviewer, label_event_digest
from reviewdesk.storage import export_queries as q
from reviewdesk.storage import repositories as repo
from reviewdesk.storage.repositories import DbSession

MAX_NOTE_CHARS = 10_000


@dataclass(frozen=True)
class Conflict:
    item_id: int
    item_key: str
    token: str
    left_slot: Slot


@dataclass(frozen=True)
class AdjudicationServed:
    """The next conflict to settle (``pair.handle`` is the token), or None when none is left.

    ``own`` counts open conflicts left out because the adjudicator labeled them.
    """

    pair: Pair | None
    remaining: int
    own: int


@dataclass(frozen=True)
class AdjudicationReceipt:
    event_id: int
    choice: ScreenChoice
    remaining: int
    changes: Changes = field(default=Changes(labels=True))


def _token(seed: int, item_key: str, adjudicator: str) -> str:
    key = seed.to_bytes(8, "big", signed=False)
    data = f"adjudicate\x00{item_key}\x00{adjudicator}".encode()
    return hashlib.blake2b(data, key=key, digest_size=16).hexdigest()


def open_conflicts(session: DbSession, seed: int, adjudicator: str) -> tuple[list[Conflict], int]:
    """Unadjudicated conflicts the adjudicator may settle, in a stable shuffled order; and how
    many were left out because they labeled the item themselves."""
    candidates = q.conflict_candidates(session)
    events: dict[int, list[q.LabelEventView]] = defaultdict(list)
    for event in q.label_events_for_items(session, candidates):
        events[event.item_id].append(event)
    items = q.items_for_export(session, candidates)
    open_: list[Conflict] = []
    own = 0
    for item_id in candidates:
        item = items.get(item_id)
        if item is None or item.erased:
            continue
        current = rules.current_labels(events[item_id])
        if current.adjudication is not None or not rules.is_conflict(
            [e.choice for e in current.human]
        ):
            continue
        if any(e.reviewer == adjudicator for e in events[item_id]):
            own += 1
            continue
        left = Slot.A if blake2b_coin(seed, "adjudicate-side", item.key, adjudicator) else Slot.B
        open_.append(Conflict(item_id, item.key, _token(seed, item.key, adjudicator), left))
    open_.sort(key=lambda c: blake2b_int(seed, "adjudicate-order", c.item_key))
    return open_, own


def serve_adjudication(project: Project, adjudicator: str) -> AdjudicationServed:
    """The adjudicator's next conflict as a blinded pair; the same one until it is answered."""
    ensure_reviewer(project, adjudicator)
    seed = project.settings().seed
    with project.store.read() as uow:
        conflicts, own = open_conflicts(uow.session, seed, adjudicator.strip())
        if not conflicts:
            return AdjudicationServed(None, 0, own)
        first = conflicts[0]
        texts = repo.item_texts(uow.session, [first.item_id])[first.item_id]
    messages = (
        None if texts.messages is None else tuple(Message(Role(r), c) for r, c in texts.messages)
    )
    left, right = (
        (texts.text_a, texts.text_b) if first.left_slot is Slot.A else (texts.text_b, texts.text_a)
    )
    pair = Pair(first.token, texts.prompt, messages, left, right, first.left_slot)
    return AdjudicationServed(pair, len(conflicts), own)


def answer_adjudication(
    project: Project,
    adjudicator: str,
    token: str,
    choice: ScreenChoice,
    *,
    note: str | None = None,
) -> AdjudicationReceipt:
    """Record the adjudicator's decision on the conflict behind ``token``; committed on return."""
    if choice is ScreenChoice.SKIP:
        raise UserError("an adjudication must decide: left, right, tie or both_bad")
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise UserError(f"notes are limited to {MAX_NOTE_CHARS} characters")
    adjudicator = adjudicator.strip()
    ensure_reviewer(project, adjudicator)
    seed = project.settings().seed
    now = project.clock.now()
    with project.store.write() as uow:
        session = uow.session
        conflicts, _ = open_conflicts(session, seed, adjudicator)
        match = next((c for c in conflicts if c.token == token), None)
        if match is None:
            raise UserError(
                "unknown or already settled adjudication token; run `reviewdesk adjudicate` again"
            )
        reviewer_id = repo.get_reviewer_id(session, adjudicator)
        assert reviewer_id is not None
        canonical = canonical_choice(choice, match.left_slot)
        assert canonical is not None
        values: dict[str, object] = {
            "kind": "label",
            "item_id": match.item_id,
            "entry_id": None,
            "reviewer_id": reviewer_id,
            "provenance": rules.ADJUDICATION,
            "screen_choice": choice.value,
            "left_slot": match.left_slot.value,
            "choice": canonical.value,
            "refusal_a": None,
            "refusal_b": None,
            "tags": None,
            "note": note or None,
            "flagged": False,
            "dwell_ms": None,
            "queue_reason": None,
            "inclusion_prob": None,
            "labeled_at": to_iso(now),
            "created_at": to_iso(now),
            "app_version": __version__,
            "retracts_id": None,
            "import_id": None,
        }
        values["content_sha256"] = label_event_digest(values, match.item_key, adjudicator)
        event_id = repo.insert_label_event(session, values)
        repo.append_audit(
            session,
            "adjudicate",
            adjudicator,
            {"event_id": event_id, "event_sha256": values["content_sha256"]},
            now,
        )
    return AdjudicationReceipt(event_id, choice, len(conflicts) - 1)
