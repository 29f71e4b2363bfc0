"""Blind review: serving pairs, recording labels durably, and undo (SPEC §4–§5, §8).

The GUI and the headless ``next``/``answer`` commands share these functions, so both follow the
same queue order, blinding and durability rules. A label is committed (``synchronous=FULL``)
before any of these functions return.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reviewdesk import __version__
from reviewdesk.domain.clock import parse_iso, to_iso
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.hashing import canonical_json, label_event_sha256
from reviewdesk.domain.model import (
    LabelReceipt,
    Message,
    Pair,
    RefusalClass,
    ReviewProgress,
    Role,
    ScreenChoice,
    Slot,
    UndoStatus,
    canonical_choice,
)
from reviewdesk.queueing.policy import left_slot_for
from reviewdesk.services.project import Project
from reviewdesk.storage import repositories as repo

#: How many of a reviewer's latest labels can be undone, one at a time (SPEC §5).
UNDO_DEPTH = 10
MAX_NOTE_CHARS = 10_000
MAX_NAME_CHARS = 100


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UserError("a reviewer name is needed (--reviewer NAME)")
    if len(name) > MAX_NAME_CHARS or any(ch in name for ch in "\n\r\t"):
        raise UserError("reviewer names are one line of at most 100 characters")
    return name


def ensure_reviewer(project: Project, name: str) -> None:
    """Create the reviewer profile if it does not exist yet."""
    name = _check_name(name)
    with project.store.write() as uow:
        if repo.get_reviewer_id(uow.session, name) is None:
            repo.get_or_create_reviewers(uow.session, [name], "human", project.clock.now())
            repo.append_audit(uow.session, "reviewer", name, {"created": name}, project.clock.now())


def list_reviewer_profiles(project: Project) -> list[str]:
    with project.store.read() as uow:
        return [name for name, kind in repo.list_reviewers(uow.session) if kind == "human"]


def _reviewer_id(session: object, name: str) -> int:
    reviewer_id = repo.get_reviewer_id(session, _check_name(name))  # type: ignore[arg-type]
    if reviewer_id is None:
        raise UserError(f"no reviewer profile named {name!r} in this project")
    return reviewer_id


def _progress(session: object, reviewer_id: int) -> ReviewProgress:
    done, remaining = repo.reviewer_progress(session, reviewer_id)  # type: ignore[arg-type]
    queue_done, queue_needed = repo.queue_totals(session)  # type: ignore[arg-type]
    return ReviewProgress(done, remaining, queue_done, queue_needed)


def _handle(entry_id: int, left: Slot) -> str:
    return f"{entry_id}.{left.value}"


def _parse_handle(handle: str) -> tuple[int, Slot]:
    try:
        entry, left = handle.split(".")
        return int(entry), Slot(left)
    except ValueError:
        raise UserError("this pair is no longer valid; fetch the next one") from None


def _pairs(session: object, seed: int, entries: Sequence[repo.EntryRef]) -> list[Pair]:
    texts = repo.item_texts(session, [e.item_id for e in entries])  # type: ignore[arg-type]
    pairs = []
    for e in entries:
        t = texts[e.item_id]
        left = left_slot_for(seed, e.item_key, e.label_count, e.round)
        pairs.append(_pair(_handle(e.entry_id, left), t, left))
    return pairs


def _pair(handle: str, t: repo.ItemTexts, left: Slot) -> Pair:
    messages = None if t.messages is None else tuple(Message(Role(r), c) for r, c in t.messages)
    left_text, right_text = (t.text_a, t.text_b) if left is Slot.A else (t.text_b, t.text_a)
    return Pair(handle, t.prompt, messages, left_text, right_text, left)


def fetch_pairs(
    project: Project, reviewer: str, count: int, exclude: Sequence[str] = ()
) -> tuple[list[Pair], ReviewProgress]:
    """The reviewer's next ``count`` pairs in serving order (for the GUI's prefetch).

    ``exclude`` holds handles the caller already has on screen or prefetched.
    """
    seed = project.settings().seed
    excluded = [_parse_handle(h)[0] for h in exclude]
    with project.store.read() as uow:
        reviewer_id = _reviewer_id(uow.session, reviewer)
        entries = repo.next_entries(uow.session, reviewer_id, count, excluded)
        return _pairs(uow.session, seed, entries), _progress(uow.session, reviewer_id)


def pair_for_handle(project: Project, handle: str) -> Pair:
    """The pair behind a handle (to show an undone pair again), same sides as before."""
    entry_id, left = _parse_handle(handle)
    with project.store.read() as uow:
        entry = repo.get_entry(uow.session, entry_id)
        if entry is None:
            raise UserError("this pair is no longer in the queue")
        return _pair(handle, repo.item_texts(uow.session, [entry.item_id])[entry.item_id], left)


@dataclass(frozen=True)
class Served:
    """What ``next`` hands out: a token, the pair, and progress."""

    token: str | None
    pair: Pair | None
    progress: ReviewProgress


def serve_next(project: Project, reviewer: str) -> Served:
    """Serve the reviewer's next pair under an opaque token (headless review).

    Asking again without answering returns the same pair and token.
    """
    seed = project.settings().seed
    with project.store.write() as uow:
        session = uow.session
        reviewer_id = _reviewer_id(session, reviewer)
        entries = repo.next_entries(session, reviewer_id, 1)
        if not entries:
            return Served(None, None, _progress(session, reviewer_id))
        entry = entries[0]
        existing = repo.open_serving(session, reviewer_id, entry.entry_id)
        if existing is not None:
            token, left_value = existing
            left = Slot(left_value)
        else:
            # hex: never starts with "-", which argparse would take for an option
            token = secrets.token_hex(16)
            left = left_slot_for(seed, entry.item_key, entry.label_count, entry.round)
            repo.add_serving(
                session, token, entry.entry_id, reviewer_id, left.value, project.clock.now()
            )
        texts = repo.item_texts(session, [entry.item_id])[entry.item_id]
        return Served(token, _pair(token, texts, left), _progress(session, reviewer_id))


def record_label(
    project: Project,
    reviewer: str,
    handle: str,
    choice: ScreenChoice,
    *,
    refusal_left: RefusalClass | None = None,
    refusal_right: RefusalClass | None = None,
    note: str | None = None,
    flagged: bool = False,
    tags: Sequence[str] = (),
    dwell_ms: int | None = None,
) -> LabelReceipt:
    """Record what the reviewer chose for the pair behind ``handle``; committed on return."""
    entry_id, left = _parse_handle(handle)
    receipt = _record(
        project,
        reviewer,
        entry_id,
        left,
        choice,
        refusal_left,
        refusal_right,
        note,
        flagged,
        tags,
        dwell_ms,
        token=None,
    )
    assert isinstance(receipt, LabelReceipt)
    return receipt


def commit_label(
    project: Project,
    reviewer: str,
    handle: str,
    choice: ScreenChoice,
    *,
    refusal_left: RefusalClass | None = None,
    refusal_right: RefusalClass | None = None,
    note: str | None = None,
    flagged: bool = False,
    tags: Sequence[str] = (),
    dwell_ms: int | None = None,
) -> int:
    """:func:`record_label` without the progress figures; returns the label event id.

    The label is written and committed exactly as by ``record_label`` (durable on return). Only
    the progress counts are left out: the GUI keeps its own running count between a key press
    and the next pair, and asks :func:`review_progress` when it can wait.

    From the first call on, commits leave WAL checkpoints to :func:`checkpoint_idle`, which the
    caller runs while the reviewer reads (an inline checkpoint writes and fsyncs the main file:
    the worst spikes of the key-press path).
    """
    project.store.defer_checkpoints()
    entry_id, left = _parse_handle(handle)
    event_id = _record(
        project,
        reviewer,
        entry_id,
        left,
        choice,
        refusal_left,
        refusal_right,
        note,
        flagged,
        tags,
        dwell_ms,
        token=None,
        with_progress=False,
    )
    assert isinstance(event_id, int)
    return event_id


def next_pairs(
    project: Project, reviewer: str, count: int, exclude: Sequence[str] = ()
) -> list[Pair]:
    """:func:`fetch_pairs` without the progress figures (the GUI's prefetch; see commit_label)."""
    excluded = [_parse_handle(h)[0] for h in exclude]
    with project.store.read() as uow:
        seed = int(repo.get_settings(uow.session)["seed"])
        reviewer_id = _reviewer_id(uow.session, reviewer)
        entries = repo.next_entries(uow.session, reviewer_id, count, excluded)
        return _pairs(uow.session, seed, entries)


def checkpoint_idle(project: Project) -> int:
    """Fold the write-ahead log into the project file (the GUI calls it while the reviewer reads).

    Passive: never waits for other readers or writers. Returns the WAL pages left to copy.
    """
    return project.store.checkpoint_passive()


def review_progress(project: Project, reviewer: str) -> ReviewProgress:
    """The reviewer's and the queue's progress (counts over the whole queue: not for hot paths)."""
    with project.store.read() as uow:
        return _progress(uow.session, _reviewer_id(uow.session, reviewer))


def answer_token(
    project: Project,
    reviewer: str,
    token: str,
    choice: ScreenChoice,
    *,
    refusal_left: RefusalClass | None = None,
    refusal_right: RefusalClass | None = None,
    note: str | None = None,
) -> LabelReceipt:
    """Answer a pair served by :func:`serve_next`; dwell is the time since it was served."""
    with project.store.read() as uow:
        serving = repo.get_serving(uow.session, token)
        reviewer_id = _reviewer_id(uow.session, reviewer)
    if serving is None or serving.reviewer_id != reviewer_id:
        raise UserError("unknown token for this reviewer; run `reviewdesk next` again")
    if serving.answered_event_id is not None:
        raise UserError("this token was already answered; run `reviewdesk next` for the next pair")
    served_at: datetime = parse_iso(serving.served_at)
    dwell = max(0, int((project.clock.now() - served_at).total_seconds() * 1000))
    receipt = _record(
        project,
        reviewer,
        serving.entry_id,
        Slot(serving.left_slot),
        choice,
        refusal_left,
        refusal_right,
        note,
        False,
        (),
        dwell,
        token=token,
    )
    assert isinstance(receipt, LabelReceipt)
    return receipt


def _record(
    project: Project,
    reviewer: str,
    entry_id: int,
    left: Slot,
    choice: ScreenChoice,
    refusal_left: RefusalClass | None,
    refusal_right: RefusalClass | None,
    note: str | None,
    flagged: bool,
    tags: Sequence[str],
    dwell_ms: int | None,
    token: str | None,
    with_progress: bool = True,
) -> LabelReceipt | int:
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise UserError(f"notes are limited to {MAX_NOTE_CHARS} characters")
    if dwell_ms is not None and dwell_ms < 0:
        raise UserError("dwell time cannot be negative")
    canonical = canonical_choice(choice, left)
    refusal_a, refusal_b = (
        (refusal_left, refusal_right) if left is Slot.A else (refusal_right, refusal_left)
    )
    now = project.clock.now()
    with project.store.write() as uow:
        session = uow.session
        reviewer_id = _reviewer_id(session, reviewer)
        entry = repo.get_entry(session, entry_id)
        if entry is None:
            raise UserError("this pair is no longer in the queue")
        values = {
            "kind": "label",
            "item_id": entry.item_id,
            "entry_id": entry_id,
            "reviewer_id": reviewer_id,
            "provenance": "human",
            "screen_choice": choice.value,
            "left_slot": left.value,
            "choice": "skip" if canonical is None else canonical.value,
            "refusal_a": None if refusal_a is None else refusal_a.value,
            "refusal_b": None if refusal_b is None else refusal_b.value,
            "tags": canonical_json(sorted(tags)) if tags else None,
            "note": note or None,
            "flagged": flagged,
            "dwell_ms": dwell_ms,
            "queue_reason": entry.reason,
            "inclusion_prob": entry.inclusion_prob,
            "labeled_at": to_iso(now),
            "created_at": to_iso(now),
            "app_version": __version__,
            "retracts_id": None,
            "import_id": None,
        }
        values["content_sha256"] = label_event_digest(values, entry.item_key, reviewer)
        event_id = repo.insert_label_event(session, values)
        _refold(session, entry_id, reviewer_id)
        if token is not None:
            repo.mark_served_answered(session, token, event_id)
        repo.append_audit(
            session,
            "label",
            reviewer,
            {"event_id": event_id, "event_sha256": values["content_sha256"]},
            now,
        )
        if not with_progress:
            return event_id
        progress = _progress(session, reviewer_id)
    return LabelReceipt(event_id=event_id, choice=choice, progress=progress)


def label_event_digest(values: dict[str, object], item_key: str, reviewer: str) -> str:
    """Content hash of a label event: what was labeled, by whom, how, and when."""
    return label_event_sha256(values | {"item": item_key, "reviewer": reviewer})


def _refold(session: object, entry_id: int, reviewer_id: int) -> None:
    """Recompute the live label of (entry, reviewer) from its events."""
    events = repo.events_for(session, entry_id, reviewer_id)  # type: ignore[arg-type]
    retracted = {e.retracts_id for e in events if e.kind == "retract"}
    live = [e for e in events if e.kind == "label" and e.id not in retracted]
    repo.set_current_label(session, entry_id, reviewer_id, live[-1] if live else None)  # type: ignore[arg-type]


def undo_last(project: Project, reviewer: str) -> UndoStatus:
    """Retract the reviewer's latest live label (up to the last ``UNDO_DEPTH``).

    The retraction is a new event; nothing is deleted. Returns the handle of the pair to show
    again, with the sides it was shown with.
    """
    now = project.clock.now()
    with project.store.write() as uow:
        session = uow.session
        reviewer_id = _reviewer_id(session, reviewer)
        recent = repo.recent_label_events(session, reviewer_id, UNDO_DEPTH)
        retracted = repo.retracted_among(session, [e.id for e in recent])
        live = [e for e in recent if e.id not in retracted]
        if not live:
            message = (
                "nothing to undo"
                if not recent
                else f"nothing to undo (only the last {UNDO_DEPTH} labels can be undone)"
            )
            return UndoStatus(False, message, 0)
        target = live[0]
        assert target.entry_id is not None
        entry = repo.get_entry(session, target.entry_id)
        assert entry is not None
        values = {
            "kind": "retract",
            "item_id": entry.item_id,
            "entry_id": target.entry_id,
            "reviewer_id": reviewer_id,
            "provenance": "human",
            "screen_choice": None,
            "left_slot": None,
            "choice": None,
            "refusal_a": None,
            "refusal_b": None,
            "tags": None,
            "note": None,
            "flagged": False,
            "dwell_ms": None,
            "queue_reason": entry.reason,
            "inclusion_prob": entry.inclusion_prob,
            "labeled_at": to_iso(now),
            "created_at": to_iso(now),
            "app_version": __version__,
            "retracts_id": target.id,
            "import_id": None,
        }
        values["content_sha256"] = label_event_digest(values, entry.item_key, reviewer)
        event_id = repo.insert_label_event(session, values)
        _refold(session, target.entry_id, reviewer_id)
        repo.append_audit(
            session,
            "undo",
            reviewer,
            {"event_id": event_id, "retracts": target.id, "event_sha256": values["content_sha256"]},
            now,
        )
        left = repo.event_left_slot(session, target.id)
    return UndoStatus(
        True,
        f"undid the last label ({target.choice})",
        len(live) - 1,
        restored_handle=_handle(target.entry_id, Slot(left)) if left else None,
    )
