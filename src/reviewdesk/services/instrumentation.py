"""Building the monitor's instrumentation in a project (STATISTICS.md §7.1, SPEC §4).

- :func:`build_anchor_panel` chooses the anchor panel from the baseline period's human labels
  (high disagreement) and marks the items ``panel = anchor``;
- :func:`schedule_anchor_round` queues every anchor again for one window (``round`` = ISO
  year·100 + week) needing ≥ 3 labels, interleaved with the contested entries;
- :func:`add_controls` creates positive and negative control items from items no reviewer has
  seen and queues them, about 5 % of the traffic.

The policy (which items, which texts, which priorities) lives in
:mod:`reviewdesk.queueing.instrumentation`; this module reads the project, applies it in one
transaction and appends an ``instrumentation`` record to the audit chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reviewdesk.domain.clock import parse_iso, to_iso
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.hashing import canonical_json
from reviewdesk.domain.model import QueueReason, Slot
from reviewdesk.queueing import instrumentation as policy
from reviewdesk.queueing.policy import interleaved_priority, order_key
from reviewdesk.services.importing import item_fields_digest
from reviewdesk.services.project import Project
from reviewdesk.storage import monitor_queries as mq
from reviewdesk.storage import repositories as repo

_VALUE = {"A": 0, "tie": 1, "both_bad": 1, "B": 2}


@dataclass(frozen=True)
class PanelReport:
    selection: policy.AnchorSelection
    marked: int
    panel_size: int

    def to_json(self) -> dict[str, Any]:
        return {**self.selection.to_dict(), "marked": self.marked, "panel_size": self.panel_size}

    def summary(self) -> str:
        s = self.selection
        text = (
            f"anchor panel: {self.panel_size} items ({s.n_preselected} marked at import, "
            f"{s.n_at_threshold} at label entropy ≥ 0.8·ln 3, {s.n_relaxed} below it)"
        )
        if s.shortfall:
            text += f"; {s.shortfall} short of the minimum of {policy.PANEL_MIN}"
        return text


def build_anchor_panel(
    project: Project,
    *,
    before: datetime | None = None,
    min_size: int = policy.PANEL_MIN,
    max_size: int = policy.PANEL_MAX,
    actor: str = "lead",
) -> PanelReport:
    """Choose the anchor panel from human labels given before ``before`` (default: all).

    Counts per item use the agreement values of §1.2 in slot terms (A, tie/both_bad, B): the
    entropy does not depend on which slot is the candidate. Control items never become anchors.
    """
    seed = project.settings().seed
    with project.store.write() as uow:
        session = uow.session
        labels = mq.current_human_labels(session)
        counts: dict[int, list[int]] = {}
        for lab in labels:
            if before is not None and parse_iso(lab.labeled_at) >= before:
                continue
            counts.setdefault(lab.item_id, [0, 0, 0])[_VALUE[lab.choice]] += 1
        info = mq.monitor_items(session, list(counts))
        pre = {item_id for item_id, _ in mq.items_with_panel(session, "anchor")}
        keys = dict(mq.items_with_panel(session, "anchor"))
        candidates = [
            policy.AnchorCandidate(info[i].item_key, (c[0], c[1], c[2]))
            for i, c in sorted(counts.items())
            if i in info and info[i].panel is None
        ]
        candidates += [
            policy.AnchorCandidate(keys[i], (0, 0, 0), preselected=True) for i in sorted(pre)
        ]
        selection = policy.select_anchor_panel(
            candidates, seed, min_size=min_size, max_size=max_size
        )
        by_key = {v.item_key: k for k, v in info.items()}
        new_ids = [by_key[k] for k in selection.chosen if k in by_key and by_key[k] not in pre]
        marked = mq.set_panel(session, new_ids, "anchor")
        size = len(mq.items_with_panel(session, "anchor"))
        report = PanelReport(selection, marked, size)
        repo.append_audit(
            session,
            "instrumentation",
            actor,
            {
                "action": "anchor_panel",
                **report.to_json(),
                "before": None if before is None else to_iso(before),
            },
            project.clock.now(),
        )
    return report


@dataclass(frozen=True)
class RoundReport:
    round: int
    window: str
    added: int
    labels_needed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "window": self.window,
            "added": self.added,
            "labels_needed": self.labels_needed,
        }

    def summary(self) -> str:
        return (
            f"anchor round {self.window}: {self.added} anchors queued, each needing "
            f"{self.labels_needed} labels"
        )


def schedule_anchor_round(
    project: Project,
    *,
    round_: int | None = None,
    labels_needed: int = policy.ANCHOR_LABELS,
    actor: str = "lead",
) -> RoundReport:
    """Queue every anchor once more for the window ``round_`` (default: this week). Idempotent."""
    if labels_needed < policy.ANCHOR_LABELS:
        raise UserError(f"anchors need at least {policy.ANCHOR_LABELS} labels per window")
    now = project.clock.now()
    round_ = policy.anchor_round(now) if round_ is None else round_
    if round_ < 1:
        raise UserError("anchor rounds are numbered by ISO week (e.g. 202607)")
    seed = project.settings().seed
    with project.store.write() as uow:
        session = uow.session
        anchors = mq.items_with_panel(session, "anchor")
        if not anchors:
            raise UserError("there is no anchor panel yet; run `reviewdesk panel build` first")
        present = mq.round_entry_items(session, round_)
        contested = sorted(repo.contested_priorities(session))
        build_id = repo.add_queue_build(
            session, {"anchor_round": round_, "labels_needed": labels_needed}, {}, now
        )
        rows = [
            {
                "item_id": item_id,
                "round": round_,
                "reason": QueueReason.ANCHOR.value,
                "reasons": 0,
                "base_priority": 0.0,
                "priority": policy.anchor_entry_priority(seed, key, round_, contested),
                "order_key": policy.anchor_entry_order_key(seed, key, round_),
                "labels_needed": labels_needed,
                "label_count": 0,
                "inclusion_prob": None,
                "build_id": build_id,
                "created_at": to_iso(now),
            }
            for item_id, key in anchors
            if item_id not in present
        ]
        repo.insert_queue_entries(session, rows)
        report = RoundReport(round_, policy.anchor_round_label(round_), len(rows), labels_needed)
        repo.set_queue_build_counts(session, build_id, report.to_json())
        repo.append_audit(
            session,
            "instrumentation",
            actor,
            {"action": "anchor_round", **report.to_json()},
            now,
        )
    return report


@dataclass(frozen=True)
class ControlReport:
    positive: int
    negative: int
    wanted: tuple[int, int]
    existing: int

    def to_json(self) -> dict[str, Any]:
        return {
            "positive": self.positive,
            "negative": self.negative,
            "wanted": list(self.wanted),
            "existing": self.existing,
        }

    def summary(self) -> str:
        return (
            f"controls: added {self.positive} positive and {self.negative} negative "
            f"({self.existing} existed before)"
        )


def add_controls(
    project: Project,
    *,
    rate: float = policy.CONTROL_RATE,
    positive: int | None = None,
    negative: int | None = None,
    actor: str = "lead",
) -> ControlReport:
    """Create and queue control items so that controls are about ``rate`` of the queue.

    With ``positive``/``negative`` given, exactly that many are added. Sources are items not in
    the queue (reviewers have not seen them); each control keeps its source's prompt, slices,
    expected behavior, subject (so erasure reaches it) and both model names, and is queued with
    an interleaved priority and the project's overlap.
    """
    settings = project.settings()
    seed = settings.seed
    now = project.clock.now()
    with project.store.write() as uow:
        session = uow.session
        by_reason = mq.count_entries_by_reason(session)
        existing = by_reason.get(QueueReason.CONTROL.value, 0)
        ordinary = by_reason.get("contested", 0) + by_reason.get("audit", 0)
        want = policy.control_counts(ordinary, rate)
        if positive is None and negative is None:
            have_pos = len(mq.items_with_panel(session, "control_positive"))
            have_neg = len(mq.items_with_panel(session, "control_negative"))
            n_pos = max(0, want[0] - have_pos)
            n_neg = max(0, want[1] - have_neg)
        else:
            n_pos, n_neg = positive or 0, negative or 0
        used = mq.existing_control_sources(session)
        sources = {s.item_key: s for s in mq.control_sources(session) if s.item_key not in used}
        plans = policy.plan_controls(sorted(sources), n_pos, n_neg, seed)
        next_item, next_response, _ = repo.next_ids(session)
        item_rows: list[tuple[Any, ...]] = []
        response_rows: list[tuple[Any, ...]] = []
        entries: list[dict[str, Any]] = []
        contested = sorted(repo.contested_priorities(session))
        build_id = repo.add_queue_build(session, {"controls": rate}, {}, now)
        for plan in plans:
            src = sources[plan.source_key]
            text = src.text_a if plan.source_slot is Slot.A else src.text_b
            texts = policy.control_texts(text, plan, seed)
            messages = None if src.messages is None else json.loads(src.messages)
            digest = item_fields_digest(
                src.prompt,
                None if messages is None else tuple((r, c) for r, c in messages),
                src.model_a,
                texts[Slot.A],
                src.model_b,
                texts[Slot.B],
            )
            meta = {
                "control": {
                    "source": plan.source_key,
                    "kind": plan.kind,
                    "method": plan.method,
                    "reference_slot": plan.reference_slot.value
                    if plan.kind == "control_positive"
                    else None,
                    "generator": policy.CONTROL_GENERATOR,
                }
            }
            item_id = next_item
            next_item += 1
            item_rows.append(
                (
                    item_id,
                    plan.new_key,
                    src.prompt,
                    src.messages,
                    src.slices,
                    src.expected_behavior,
                    src.subject_id,
                    plan.kind,
                    canonical_json(meta),
                    digest,
                    0,
                    None,
                    to_iso(now),
                )
            )
            for slot, model in ((Slot.A, src.model_a), (Slot.B, src.model_b)):
                response_rows.append(
                    (next_response, item_id, slot.value, model, texts[slot], len(texts[slot]))
                )
                next_response += 1
            entries.append(
                {
                    "item_id": item_id,
                    "round": 0,
                    "reason": QueueReason.CONTROL.value,
                    "reasons": 0,
                    "base_priority": 0.0,
                    "priority": interleaved_priority(seed, plan.new_key, contested),
                    "order_key": order_key(seed, plan.new_key),
                    "labels_needed": settings.overlap,
                    "label_count": 0,
                    "inclusion_prob": None,
                    "build_id": build_id,
                    "created_at": to_iso(now),
                }
            )
        repo.insert_items(session, item_rows)
        repo.insert_responses(session, response_rows)
        repo.insert_queue_entries(session, entries)
        n_pos_added = sum(1 for p in plans if p.kind == "control_positive")
        report = ControlReport(n_pos_added, len(plans) - n_pos_added, want, existing)
        repo.set_queue_build_counts(session, build_id, report.to_json())
        repo.append_audit(
            session,
            "instrumentation",
            actor,
            {"action": "controls", **report.to_json(), "items": [p.new_key for p in plans]},
            now,
        )
    return report
