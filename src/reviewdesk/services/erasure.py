"""Erasing a data subject (SPEC §7): their texts leave the project and the file's bytes.

For every item with the subject's ``subject_id`` the prompt, both responses, the judges'
rationales and the reviewers' notes are blanked; ids, models, slices, verdicts, labels and every
content hash stay, so statistics remain reproducible and the audit chain still verifies. An
``erase`` audit record (the tombstone) lists the erased items with their content hashes — never
the texts — and, for each blanked rationale or note, the row's hash without that text, which
lets ``audit verify`` keep checking those rows field by field. Then the file itself is purged
(``storage.erasure.purge_free_space``), because blanked rows alone leave old page images in the
WAL and on free pages.

Exports made earlier that contained the subject cannot be recalled, only found: they are marked
stale and listed with their paths, as are the pre-migration backups beside the project, which
are full copies of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reviewdesk import __version__
from reviewdesk.domain.changes import Changes
from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.errors import DiskFullError, ProjectReadOnlyError, UserError
from reviewdesk.domain.hashing import LABEL_EVENT_FIELDS, fields_sha256
from reviewdesk.domain.progress import Job, Progress
from reviewdesk.services.audit import label_hash_matches, label_values
from reviewdesk.services.importing import judgment_fields_digest
from reviewdesk.services.project import Project
from reviewdesk.storage import erasure as es
from reviewdesk.storage import repositories as repo
from reviewdesk.storage.engine import translated_errors
from reviewdesk.storage.repositories import DbSession

_NOTE = LABEL_EVENT_FIELDS.index("note")
_LABELED_AT = LABEL_EVENT_FIELDS.index("labeled_at")


@dataclass(frozen=True)
class StaleExport:
    export_id: int
    kind: str
    path: str
    created_at: str
    already_stale: bool


@dataclass(frozen=True)
class ErasurePlan:
    """What erasing the subject removes (or, after the fact, removed)."""

    subject: str
    items: tuple[tuple[str, str], ...]  # (item key, content hash) of items not yet erased
    already_erased: tuple[str, ...]
    rationales: int
    notes: int
    exports: tuple[StaleExport, ...]
    backups: tuple[Path, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "items": [key for key, _ in self.items],
            "already_erased": list(self.already_erased),
            "rationales": self.rationales,
            "notes": self.notes,
            "stale_exports": [
                {
                    "export_id": x.export_id,
                    "kind": x.kind,
                    "path": x.path,
                    "created_at": x.created_at,
                    "already_stale": x.already_stale,
                }
                for x in self.exports
            ],
            "backups": [str(p) for p in self.backups],
        }


@dataclass(frozen=True)
class ErasureReport:
    plan: ErasurePlan
    dry_run: bool
    audit_record_id: int | None
    purged: bool
    changes: Changes = field(default=Changes())

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            **self.plan.to_json(),
            "audit_record_id": self.audit_record_id,
            "file_purged": self.purged,
        }


def _backups(project_path: Path) -> tuple[Path, ...]:
    """Full copies of the project written before migrations (``storage.backup`` naming)."""
    pattern = f"{project_path.stem}.*{project_path.suffix}.bak"
    return tuple(sorted(project_path.parent.glob(pattern)))


def _plan(session: DbSession, project_path: Path, subject: str) -> tuple[ErasurePlan, list[int]]:
    items = es.subject_items(session, subject)
    if not items:
        raise UserError(f"no items with subject ID {subject!r} in this project")
    pending = [i for i in items if i.erased_at is None]
    ids = [i.id for i in pending]
    rationales = es.judgments_with_rationale(session, ids)
    notes = es.label_events_with_note(session, ids)
    exports = es.exports_containing(session, [i.id for i in items])
    plan = ErasurePlan(
        subject=subject,
        items=tuple((i.key, i.content_sha256) for i in pending),
        already_erased=tuple(i.key for i in items if i.erased_at is not None),
        rationales=len(rationales),
        notes=len(notes),
        exports=tuple(
            StaleExport(x.id, x.kind, x.path, x.created_at, x.stale_reason is not None)
            for x in exports
        ),
        backups=_backups(project_path),
    )
    return plan, ids


def plan_erasure(project: Project, subject: str) -> ErasurePlan:
    """What :func:`erase_subject` would do, changing nothing (``--dry-run``)."""
    with project.store.read() as uow:
        return _plan(uow.session, project.path, subject)[0]


def _redacted_judgments(session: DbSession, ids: list[int]) -> list[list[Any]]:
    """[id, stored hash, hash without the rationale or None if the row no longer matched]."""
    out: list[list[Any]] = []
    for row in es.judgments_with_rationale(session, ids):
        judgment_id, digest, kind, verdict, p_b, score_a, score_b, refusal_a, refusal_b, why = row
        fields = (kind, verdict, p_b, score_a, score_b, refusal_a, refusal_b)
        intact = judgment_fields_digest(*fields, why) == digest
        redacted = judgment_fields_digest(*fields, None) if intact else None
        out.append([judgment_id, digest, redacted])
    return out


def _redacted_events(session: DbSession, ids: list[int]) -> list[list[Any]]:
    """[id, stored hash, hash without the note or None if the row no longer matched]."""
    out: list[list[Any]] = []
    for row in es.label_events_with_note(session, ids):
        event_id, digest, created_at = row[:3]
        values = label_values(row[3:])
        redacted = None
        if label_hash_matches(values, digest, created_at):
            # An imported label without a time of its own was hashed without it: so is this.
            timeless = fields_sha256("label_event/v1", *values) != digest
            values[_NOTE] = None
            if timeless:
                values[_LABELED_AT] = None
            redacted = fields_sha256("label_event/v1", *values)
        out.append([event_id, digest, redacted])
    return out


def erase_subject(
    project: Project, subject: str, *, dry_run: bool = False, actor: str = "privacy"
) -> Job[ErasureReport]:
    """Erase the subject's texts, record the tombstone, mark exports stale, purge the file.

    Idempotent: run again (e.g. after another process kept the file from being purged), it
    erases nothing new and purges again. ``dry_run`` only plans.
    """
    subject = subject.strip()
    if not subject:
        raise UserError("a subject ID is needed (--subject ID)")
    if dry_run:
        return ErasureReport(plan_erasure(project, subject), True, None, False)
    now = project.clock.now()
    yield Progress(0, 3, "Erasing the subject's texts")
    record_id: int | None = None
    with project.store.write() as uow:
        session = uow.session
        plan, ids = _plan(session, project.path, subject)
        if ids:
            record_id = _erase(session, plan, ids, actor, now)
    yield Progress(1, 3, "Purging free pages and the write-ahead log")
    try:
        with translated_errors(project.path):
            purge = es.purge_free_space(project.store.engine)
    except (DiskFullError, ProjectReadOnlyError) as exc:
        # The erasure itself is committed; only the purge (VACUUM needs room for a copy of the
        # file) is not. Running erase again erases nothing new and purges again.
        done = "" if record_id is None else f" (audit record {record_id})"
        why = "the disk is full" if isinstance(exc, DiskFullError) else "the file is read-only"
        raise type(exc)(
            f"{project.path}: the subject's texts were erased{done}, but {why}, so old copies "
            "of them are still in the file's free pages; fix that and run the same erase again"
        ) from exc
    yield Progress(3, 3, "Done")
    return ErasureReport(
        plan,
        False,
        record_id,
        purge.complete,
        Changes(items=True, judgments=True, labels=True, queue=True, exports=True),
    )


def _erase(session: DbSession, plan: ErasurePlan, ids: list[int], actor: str, now: datetime) -> int:
    """Tombstone first (it reads the rows' hashes), then blank, then mark exports stale."""
    es.enable_secure_delete(session)
    record_id = repo.append_audit(
        session,
        "erase",
        actor,
        {
            "subject": plan.subject,
            "items": [list(pair) for pair in plan.items],
            "judgments": _redacted_judgments(session, ids),
            "label_events": _redacted_events(session, ids),
            "stale_exports": [x.export_id for x in plan.exports],
            "app_version": __version__,
        },
        now,
    )
    es.blank_subject_rows(session, ids, to_iso(now))
    reason = f"contained data of erased subject (audit record {record_id}, {to_iso(now)})"
    es.mark_exports_stale(
        session, [x.export_id for x in plan.exports if not x.already_stale], reason
    )
    return record_id
