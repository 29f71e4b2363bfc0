"""The audit log as the lead reads it: pages of records with a readable summary of each.

``audit verify`` (``services/audit.py``) proves the chain; this service lets a person look at it.
Payloads are canonical JSON written for machines (digests, ids, counts); the viewer shows one
line per record that says what happened in words — "imported week-2026-W02.jsonl: +280 items,
+1,120 judgments, +680 labels" — and keeps the raw payload for the detail pane. Pages are read in
one read transaction each, so a page never mixes two states of the chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reviewdesk.services.project import Project
from reviewdesk.storage import audit_log_queries as q

DEFAULT_PAGE_SIZE = 200
SUMMARY_CHARS = 240


@dataclass(frozen=True)
class AuditEntry:
    """One record: id, time (ISO 8601 UTC), kind, actor, a one-line summary, the raw payload."""

    id: int
    created_at: str
    kind: str
    actor: str
    summary: str
    payload: str
    record_sha256: str


@dataclass(frozen=True)
class AuditPage:
    """``entries`` from ``offset`` of ``total`` records (of ``kind``, when filtered)."""

    entries: tuple[AuditEntry, ...]
    offset: int
    page_size: int
    total: int
    kind: str | None
    kinds: tuple[str, ...]

    @property
    def page(self) -> int:
        """0-based page number."""
        return self.offset // self.page_size if self.page_size else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size)) if self.page_size else 1


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _plus(counts: Mapping[str, Any], key: str, noun: str) -> str | None:
    value = counts.get(key)
    if not value:
        return None
    return f"+{_count(value)} {noun}"


def _summary_import(p: Mapping[str, Any]) -> str:
    counts = p.get("counts") or {}
    parts = [
        _plus(counts, "items_added", "items"),
        _plus(counts, "judgments_added", "judgments"),
        _plus(counts, "labels_added", "labels"),
    ]
    extra = [
        f"{_count(counts[k])} {words}"
        for k, words in (
            ("items_existing", "items already there"),
            ("judgments_duplicate", "duplicate judgments"),
            ("judgments_conflicting", "conflicting judgments"),
            ("rejected", "rejected records"),
        )
        if counts.get(k)
    ]
    added = ", ".join(x for x in parts if x) or "nothing new"
    tail = f" ({'; '.join(extra)})" if extra else ""
    return f"imported {p.get('file', '?')} ({p.get('format', '?')}): {added}{tail}"


def _summary_queue(p: Mapping[str, Any]) -> str:
    added = p.get("added") or {}
    parts = ", ".join(f"{_count(n)} {k}" for k, n in sorted(added.items()) if n) or "no new entries"
    return (
        f"queue built: added {parts}; {_count(p.get('total', '?'))} entries in all "
        f"(overlap {p.get('overlap', '?')}, audit rate {p.get('audit_rate', '?')})"
    )


def _summary_export(p: Mapping[str, Any]) -> str:
    files = p.get("files") or {}
    return (
        f"{p.get('kind', '?')} export #{p.get('export_id', '?')} to {p.get('path', '?')}: "
        f"{len(files)} file(s), {_count(p.get('items', 0))} items"
    )


def _summary_erase(p: Mapping[str, Any]) -> str:
    items = p.get("items") or []
    stale = p.get("stale_exports") or []
    return (
        f"erased subject {p.get('subject', '?')}: {len(items)} item(s), "
        f"{len(p.get('judgments') or [])} rationale(s), {len(p.get('label_events') or [])} "
        f"note(s); {len(stale)} earlier export(s) marked stale"
    )


def _summary_monitor(p: Mapping[str, Any]) -> str:
    action = p.get("action")
    if action == "freeze_baseline":
        return (
            "monitor baseline frozen: "
            f"{p.get('monitor_baseline_version') or 'no version'}, feature standardization "
            f"{p.get('feature_standardization_version') or 'none'}"
        )
    if action == "lift_quarantine":
        return (
            f"quarantine lifted: {p.get('population')} window {p.get('window')} "
            f"— why: {p.get('why', '')}"
        )
    if action == "acknowledge_alarm":
        return (
            f"alarm acknowledged: {p.get('population')} {p.get('statistic')} from "
            f"{p.get('window')} — why: {p.get('why', '')}"
        )
    return f"monitor: {action or 'action'}"


def _summary_settings(p: Mapping[str, Any]) -> str:
    changes = p.get("changes") or {}
    if isinstance(changes, Mapping) and changes:
        return "settings changed: " + ", ".join(
            f"{k} → {json.dumps(v, ensure_ascii=False)}" for k, v in sorted(changes.items())
        )
    return "settings changed"


def _summary_create(p: Mapping[str, Any]) -> str:
    s = p.get("settings") or {}
    return (
        f"project created: candidate {s.get('candidate') or '—'}, baseline "
        f"{s.get('baseline') or '—'}, seed {s.get('seed', '?')}"
    )


def _summary_instrumentation(p: Mapping[str, Any]) -> str:
    action = p.get("action")
    if action == "controls":
        return f"controls added: {p.get('positive', 0)} positive, {p.get('negative', 0)} negative"
    if action == "anchor_round":
        return (
            f"anchor round {p.get('window', p.get('round', '?'))}: {p.get('added', '?')} anchors "
            f"queued, {p.get('labels_needed', '?')} labels each"
        )
    if action == "anchor_panel":
        return f"anchor panel chosen: {p.get('panel_size', '?')} anchors"
    return f"instrumentation: {action or 'action'}"


def _generic(p: Mapping[str, Any]) -> str:
    parts = []
    for key, value in sorted(p.items()):
        if isinstance(value, Mapping | list):
            value = f"{len(value)} entries"
        elif isinstance(value, str) and len(value) == 64 and key.endswith("sha256"):
            value = value[:12] + "…"
        parts.append(f"{key} {value}")
    return ", ".join(parts)


_SUMMARIES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "import": _summary_import,
    "queue_build": _summary_queue,
    "export": _summary_export,
    "erase": _summary_erase,
    "monitor": _summary_monitor,
    "settings": _summary_settings,
    "create": _summary_create,
    "instrumentation": _summary_instrumentation,
    "label": lambda p: f"label event #{p.get('event_id', '?')} recorded",
    "undo": lambda p: (
        f"undo: label event #{p.get('event_id', '?')} retracts #{p.get('retracts', '?')}"
    ),
    "adjudicate": lambda p: f"adjudication recorded as label event #{p.get('event_id', '?')}",
    "reveal": lambda p: f"sources revealed after submit (item {p.get('item', '?')})",
    "reviewer": lambda p: f"reviewer profile created: {p.get('created', '?')}",
}


def summarize(kind: str, payload: str) -> str:
    """One readable line for a record's payload (never fails: unreadable payloads say so)."""
    try:
        data = json.loads(payload)
    except (TypeError, ValueError):
        return "(payload is not valid JSON)"
    if not isinstance(data, Mapping):
        return "(payload is not a JSON object)"
    try:
        text = _SUMMARIES.get(kind, _generic)(data)
    except (TypeError, ValueError, AttributeError, KeyError):
        text = _generic(data)
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def read_audit_page(
    project: Project,
    *,
    offset: int = 0,
    page_size: int = DEFAULT_PAGE_SIZE,
    kind: str | None = None,
    containing: int | None = None,
) -> AuditPage:
    """One page of the audit log; with ``containing``, the page holding that record id."""
    page_size = max(1, page_size)
    with project.store.read() as uow:
        session = uow.session
        total = q.count_records(session, kind)
        if containing is not None:
            offset = (q.rank_of(session, containing, kind) // page_size) * page_size
        offset = max(0, min(offset, max(0, total - 1) // page_size * page_size))
        rows = q.page_of_records(session, offset, page_size, kind)
        kinds = tuple(q.record_kinds(session))
    entries = tuple(
        AuditEntry(
            r.id,
            r.created_at,
            r.kind,
            r.actor,
            summarize(r.kind, r.payload),
            r.payload,
            r.record_sha256,
        )
        for r in rows
    )
    return AuditPage(entries, offset, page_size, total, kind, kinds)
