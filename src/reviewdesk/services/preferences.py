"""The audited preference set (SPEC §7): TRL pairs, their provenance, and a manifest.

Three files, written atomically into one folder:

- ``preferences.trl.jsonl``: exactly ``id``, ``prompt``, ``chosen``, ``rejected`` per line, as
  TRL's DPO trainer reads them — strings (standard) or message lists (conversational).
- ``preferences.audit.jsonl``: per pair, everything a release owner or auditor needs to trust it:
  the models unblinded, every current label with reviewer, shown side, dwell and time, the
  judges' verdicts, the disagreement reasons, the stratum and the agreement on the item.
- ``manifest.json``: app version, project, filters and policies, the snapshot it saw, how many
  items were dropped for which reason, and the SHA-256 of the other two files.

The export is recorded in the project (with the item ids it contained, so erasing a subject
later lists it as stale) and in the audit chain. Selection rules: ``preference_rules``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewdesk import __version__
from reviewdesk.domain.changes import Changes
from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.queueing.disagreement import mask_to_reasons
from reviewdesk.services import preference_rules as rules
from reviewdesk.services.export_files import AtomicFileSet, WrittenFile
from reviewdesk.services.project import Project
from reviewdesk.storage import export_queries as q
from reviewdesk.storage import repositories as repo

MANIFEST_SCHEMA = "reviewdesk.preferences_manifest/v1"
AUDIT_SCHEMA = "reviewdesk.preferences_audit/v1"
TRL_FILE = "preferences.trl.jsonl"
AUDIT_FILE = "preferences.audit.jsonl"
MANIFEST_FILE = "manifest.json"
EXPORT_KIND = "preferences"
CHUNK_ITEMS = 1000

# Drop reasons of the TRL conversion (the others are in preference_rules).
CHAT_NEEDS_CONVERSATIONAL = "chat_prompt_needs_conversational"
PROMPT_NOT_ENDING_WITH_USER = "prompt_not_ending_with_user"


@dataclass(frozen=True)
class PreferenceOptions:
    """``strict``: a tie or both_bad label beside decisive ones also counts as a conflict."""

    conversational: bool = False
    include_llm: bool = False
    strict: bool = False


@dataclass(frozen=True)
class PreferenceExport:
    """What an export wrote; ``changes`` tells the GUI which views to refresh."""

    directory: Path
    files: dict[str, str]  # file name → SHA-256
    items: int
    pairs: int
    pairs_by_source: dict[str, int]
    dropped: dict[str, int]
    export_id: int
    changes: Changes = field(default=Changes(exports=True))

    def summary(self) -> str:
        sources = ", ".join(f"{n} {s}" for s, n in self.pairs_by_source.items() if n) or "none"
        dropped = ", ".join(f"{n} {r}" for r, n in self.dropped.items()) or "none"
        return (
            f"wrote {self.pairs} preference pairs ({sources}) from {self.items} items to "
            f"{self.directory}; dropped: {dropped}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "files": self.files,
            "items": self.items,
            "pairs": self.pairs,
            "pairs_by_source": self.pairs_by_source,
            "dropped": self.dropped,
            "export_id": self.export_id,
        }


def trl_row(item: q.ExportItem, chosen_slot: str, conversational: bool) -> dict[str, Any] | str:
    """The TRL record of one pair, or the reason the prompt cannot be expressed.

    Standard rows need a string prompt: a chat prompt qualifies only when it is a single user
    message (nothing is lost). Conversational rows follow TRL's preference format: the prompt is
    the full message list and must end with a user turn; chosen and rejected are one assistant
    message each.
    """
    chosen, rejected = (
        (item.text_a, item.text_b) if chosen_slot == "A" else (item.text_b, item.text_a)
    )
    prompt: Any
    if conversational:
        if item.messages is not None:
            prompt = [{"role": role, "content": content} for role, content in item.messages]
            if not prompt or prompt[-1]["role"] != "user":
                return PROMPT_NOT_ENDING_WITH_USER
        else:
            prompt = [{"role": "user", "content": item.prompt or ""}]
        return {
            "id": item.key,
            "prompt": prompt,
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
        }
    if item.messages is not None:
        if len(item.messages) == 1 and item.messages[0][0] == "user":
            prompt = item.messages[0][1]
        else:
            return CHAT_NEEDS_CONVERSATIONAL
    else:
        prompt = item.prompt or ""
    return {"id": item.key, "prompt": prompt, "chosen": chosen, "rejected": rejected}


def _label_json(e: q.LabelEventView) -> dict[str, Any]:
    return {
        "event_id": e.id,
        "reviewer": e.reviewer,
        "provenance": e.provenance,
        "choice": e.choice,
        "screen_choice": e.screen_choice,
        "shown_left": e.left_slot,
        "dwell_ms": e.dwell_ms,
        "labeled_at": e.labeled_at,
        "queue_reason": e.queue_reason,
        "refusal": {"A": e.refusal_a, "B": e.refusal_b},
        "flagged": e.flagged,
        "content_sha256": e.content_sha256,
    }


def _judgment_json(j: q.JudgmentView) -> dict[str, Any]:
    return {
        "judge": j.judge,
        "kind": j.kind,
        "order": j.order,
        "verdict": j.verdict,
        "probability_b": j.probability_b,
        "scores": None if j.score_a is None else {"A": j.score_a, "B": j.score_b},
        "refusal": None if j.refusal_a is None else {"A": j.refusal_a, "B": j.refusal_b},
    }


def _audit_row(
    item: q.ExportItem,
    decision: rules.Decision,
    current: rules.CurrentLabels[q.LabelEventView],
    judgments: Sequence[q.JudgmentView],
    entry: q.EntryView | None,
) -> dict[str, Any]:
    assert decision.chosen is not None
    chosen = decision.chosen
    other = "B" if chosen == "A" else "A"
    models = {"A": item.model_a, "B": item.model_b}
    merged = rules.merged_verdicts((j.judge, j.order, j.verdict) for j in judgments)
    return {
        "schema": AUDIT_SCHEMA,
        "id": item.key,
        "source": decision.source,
        "synthetic": decision.source == "llm",
        "chosen": {"slot": chosen, "model": models[chosen]},
        "rejected": {"slot": other, "model": models[other]},
        "models": models,
        "labels": [_label_json(e) for e in current.human],
        "adjudication": None if current.adjudication is None else _label_json(current.adjudication),
        "agreement": rules.pairwise_agreement([e.choice for e in current.human]),
        "judges": [_judgment_json(j) for j in judgments],
        "judges_merged": merged,
        "disagreement_reasons": sorted(r.value for r in mask_to_reasons(item.reasons)),
        "stratum": None if entry is None else entry.reason,
        "inclusion_prob": None if entry is None else entry.inclusion_prob,
        "slices": item.slices,
        "expected_behavior": item.expected_behavior,
        "panel": item.panel,
        "content_sha256": item.content_sha256,
    }


def _policies(options: PreferenceOptions) -> dict[str, Any]:
    return {
        "labels": "current human labels (in-app and imported); retracted events and skips "
        "excluded; latest live label per (queue entry or item, reviewer)",
        "pair_rule": "the decisive choices of the current human labels all agree"
        + (" and no tie or both_bad label is present" if options.strict else ""),
        "ties_and_both_bad": "never become pairs",
        "conflicts": "dropped unless adjudicated; an adjudication decides the item",
        "llm": (
            "only for items without human labels, only when every LLM judge's merged verdict "
            "names the same winner; marked synthetic"
            if options.include_llm
            else "not used"
        ),
        "llm_merge": "MT-Bench rule: per judge, verdicts of both display orders must agree, "
        "else tie",
        "agreement": "share of agreeing unordered pairs of current human labels "
        "(tie and both_bad count alike); null with fewer than 2 labels",
        "strict": options.strict,
    }


def export_preferences(
    project: Project,
    directory: Path,
    options: PreferenceOptions | None = None,
    *,
    cancel: CancelToken | None = None,
    actor: str = "lead",
) -> Job[PreferenceExport]:
    """Write the audited preference set into ``directory``; yields progress, returns the result.

    Reads one consistent snapshot of the project, streams items in chunks (bounded memory), and
    leaves no file under a final name unless the whole set was written and recorded.
    """
    options = options or PreferenceOptions()
    settings = project.settings()
    now = project.clock.now()
    dropped: Counter[str] = Counter()
    by_source: Counter[str] = Counter({"human": 0, "adjudication": 0, "llm": 0})
    exported: list[int] = []
    files = AtomicFileSet(directory)
    try:
        with project.store.read() as uow:
            session = uow.session
            snap = q.snapshot(session)
            ids = q.item_ids(session)
            trl = files.open(TRL_FILE)
            audit = files.open(AUDIT_FILE)
            yield Progress(0, len(ids), "Selecting preference pairs")
            for start in range(0, len(ids), CHUNK_ITEMS):
                chunk = ids[start : start + CHUNK_ITEMS]
                items = q.items_for_export(session, chunk)
                events: dict[int, list[q.LabelEventView]] = defaultdict(list)
                for event in q.label_events_for_items(session, chunk):
                    events[event.item_id].append(event)
                judgments: dict[int, list[q.JudgmentView]] = defaultdict(list)
                for judgment in q.judgments_for_export(session, chunk):
                    judgments[judgment.item_id].append(judgment)
                entries = q.queue_entries_for(session, chunk)
                for item_id in chunk:
                    item = items[item_id]
                    if item.erased:
                        dropped[rules.ERASED] += 1
                        continue
                    current = rules.current_labels(events[item_id])
                    llm = (
                        rules.merged_llm_verdicts(
                            (j.judge, j.kind, j.order, j.verdict) for j in judgments[item_id]
                        )
                        if options.include_llm
                        else None
                    )
                    decision = rules.decide(
                        [e.choice for e in current.human],
                        None if current.adjudication is None else current.adjudication.choice,
                        llm,
                        include_llm=options.include_llm,
                        strict=options.strict,
                    )
                    if decision.dropped is not None:
                        dropped[decision.dropped] += 1
                        continue
                    assert decision.chosen is not None
                    assert decision.source is not None
                    row = trl_row(item, decision.chosen, options.conversational)
                    if isinstance(row, str):
                        dropped[row] += 1
                        continue
                    trl.write_json_line(row)
                    audit.write_json_line(
                        _audit_row(
                            item, decision, current, judgments[item_id], entries.get(item_id)
                        )
                    )
                    by_source[decision.source] += 1
                    exported.append(item_id)
                if cancel is not None:
                    cancel.check()
                yield Progress(min(start + CHUNK_ITEMS, len(ids)), len(ids), "Writing pairs")
        written = {name: files.finish(name) for name in (TRL_FILE, AUDIT_FILE)}
        manifest = _manifest(
            project, settings.project_id, now, options, snap, len(ids), by_source, dropped, written
        )
        files.open(MANIFEST_FILE).write(_pretty_json(manifest))
        written[MANIFEST_FILE] = files.finish(MANIFEST_FILE)
        hashes = {name: w.sha256 for name, w in written.items()}
        with project.store.write() as uow:
            export_id = repo.record_export(
                uow.session,
                EXPORT_KIND,
                str(directory.resolve()),
                {**_params(options), "pairs": len(exported)},
                hashes,
                exported,
                now,
                actor=actor,
            )
        # The files take their final names only once the record is committed: should the
        # commit fail (disk full, read-only project), no unrecorded export is left behind.
        files.commit()
    except BaseException:
        files.discard()
        raise
    return PreferenceExport(
        directory=directory,
        files=hashes,
        items=len(ids),
        pairs=len(exported),
        pairs_by_source=dict(by_source),
        dropped=dict(sorted(dropped.items())),
        export_id=export_id,
    )


def _params(options: PreferenceOptions) -> dict[str, Any]:
    return {
        "format": "conversational" if options.conversational else "standard",
        "include_llm": options.include_llm,
        "strict": options.strict,
    }


def _manifest(
    project: Project,
    project_id: str,
    now: Any,
    options: PreferenceOptions,
    snap: q.Snapshot,
    items: int,
    by_source: Counter[str],
    dropped: Counter[str],
    written: dict[str, WrittenFile],
) -> dict[str, Any]:
    pairs = sum(by_source.values())
    return {
        "schema": MANIFEST_SCHEMA,
        "app_version": __version__,
        "created_at": to_iso(now),
        "project": {"id": project_id, "name": project.name},
        "format": "conversational" if options.conversational else "standard",
        "filters": {
            "include_llm": options.include_llm,
            "label_provenances": ["human", "import"],
            "judge_kinds": ["llm"] if options.include_llm else [],
            "erased_items": "excluded",
        },
        "policies": _policies(options),
        "snapshot": {
            "label_events": snap.label_events,
            "last_event_id": snap.last_event_id,
            "audit_records": snap.audit_records,
            "audit_head_sha256": snap.audit_head_sha256,
        },
        "counts": {
            "items": items,
            "pairs": pairs,
            "pairs_by_source": dict(by_source),
            "synthetic": by_source["llm"],
            "dropped": sum(dropped.values()),
        },
        "dropped": dict(sorted(dropped.items())),
        "files": {
            name: {"sha256": w.sha256, "bytes": w.bytes, "rows": w.rows}
            for name, w in written.items()
        },
    }


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
