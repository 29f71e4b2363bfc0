"""Importing eval and judge results into a project (SPEC §3).

One import is one write transaction: by default a file with any invalid record changes nothing
and the user gets every problem as ``file:line: field: message``. With ``skip_bad`` the valid
records are imported and the rejects written beside the input. Re-importing adds nothing;
a judgment that contradicts a stored one (same judge, item and order) is a conflict: reported,
not imported. Cancel (or Ctrl+C, or a crash) rolls everything back.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewdesk import __version__
from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.errors import InvalidInputError, Problem, UserError
from reviewdesk.domain.hashing import canonical_json, fields_sha256, label_event_sha256
from reviewdesk.domain.model import (
    ItemRecord,
    JudgmentRecord,
    Order,
    Skipped,
    Slot,
    Verdict,
    screen_choice_for,
)
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.io.formats import Format, ReadOptions, Rejected, open_reader
from reviewdesk.queueing.disagreement import (
    LOW_CONFIDENCE_MARGIN,
    JudgeVerdict,
    disagreement_reasons,
    reasons_to_mask,
)
from reviewdesk.services.project import Project
from reviewdesk.storage import repositories as repo
from reviewdesk.storage.repositories import DbSession

#: The options of an import, as the CLI and GUI give them (the io layer's own type).
ImportOptions = ReadOptions

BATCH_RECORDS = 1000
MAX_LISTED = 100


@dataclass
class ImportReport:
    file: str
    format: str
    records: int = 0
    items_added: int = 0
    items_existing: int = 0
    judgments_added: int = 0
    judgments_duplicate: int = 0
    judgments_conflicting: int = 0
    labels_added: int = 0
    labels_duplicate: int = 0
    rejected: int = 0
    skipped: int = 0
    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects_path: str | None = None

    def counts(self) -> dict[str, int]:
        return {
            "records": self.records,
            "items_added": self.items_added,
            "items_existing": self.items_existing,
            "judgments_added": self.judgments_added,
            "judgments_duplicate": self.judgments_duplicate,
            "judgments_conflicting": self.judgments_conflicting,
            "labels_added": self.labels_added,
            "labels_duplicate": self.labels_duplicate,
            "rejected": self.rejected,
            "skipped": self.skipped,
        }

    @property
    def duplicates(self) -> int:
        return self.items_existing + self.judgments_duplicate + self.labels_duplicate

    def summary(self) -> str:
        parts = [
            f"{self.items_added} new items",
            f"{self.judgments_added} judgments",
        ]
        if self.labels_added:
            parts.append(f"{self.labels_added} imported labels")
        extra = []
        if self.items_existing or self.judgments_duplicate or self.labels_duplicate:
            extra.append(
                f"{self.items_existing} items, {self.judgments_duplicate} judgments and "
                f"{self.labels_duplicate} labels already present (duplicates, not added)"
            )
        if self.judgments_conflicting:
            extra.append(f"{self.judgments_conflicting} conflicting judgments not imported")
        if self.rejected:
            extra.append(f"{self.rejected} invalid records skipped, see {self.rejects_path}")
        if self.skipped:
            extra.append(f"{self.skipped} records skipped with a warning")
        text = f"{self.file}: imported {', '.join(parts)} from {self.records} records"
        return "; ".join([text, *extra])

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            **self.counts(),
            "conflicts": self.conflicts,
            "warnings": self.warnings,
            "rejects_path": self.rejects_path,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def judgment_digest(j: JudgmentRecord) -> str:
    """Identity of a judgment's content, to tell duplicates from conflicts."""
    scores = j.scores or {}
    refusal = j.refusal or {}
    return judgment_fields_digest(
        str(j.kind),
        None if j.verdict is None else str(j.verdict),
        j.probability_b,
        scores.get(Slot.A),
        scores.get(Slot.B),
        str(refusal[Slot.A]) if Slot.A in refusal else None,
        str(refusal[Slot.B]) if Slot.B in refusal else None,
        j.rationale,
    )


#: Judgment digests by content. Most judgments repeat a few contents (a verdict, a probability
#: with three decimals, 0/1 scores), so the import looks most of them up instead of hashing.
_JUDGMENT_DIGESTS: dict[tuple[Any, ...], str] = {}
_MEMO_LIMIT = 200_000


def judgment_fields_digest(
    kind: str,
    verdict: str | None,
    probability_b: float | None,
    score_a: float | None,
    score_b: float | None,
    refusal_a: str | None,
    refusal_b: str | None,
    rationale: str | None,
) -> str:
    """:func:`judgment_digest` from stored values (``audit verify`` and erasure recompute it).

    SHA-256 over the ``repr`` of the fields (``domain.hashing.fields_sha256``); strings must be
    plain ``str`` (an enum's repr differs from its value's).
    """
    if rationale is not None:  # a rationale makes a judgment (nearly) unique: hash it
        return fields_sha256(
            "judgment/v1",
            kind,
            verdict,
            probability_b,
            score_a,
            score_b,
            refusal_a,
            refusal_b,
            rationale,
        )
    # The memo key must tell apart what ``repr`` tells apart: 1 from 1.0 and True (the type)
    # and 0.0 from -0.0 (equal, so zeros go in as their repr).
    key = (
        kind,
        verdict,
        refusal_a,
        refusal_b,
        probability_b if probability_b else repr(probability_b),
        score_a if score_a else repr(score_a),
        score_b if score_b else repr(score_b),
        probability_b.__class__,
        score_a.__class__,
        score_b.__class__,
    )
    digest = _JUDGMENT_DIGESTS.get(key)
    if digest is None:
        digest = fields_sha256(
            "judgment/v1",
            kind,
            verdict,
            probability_b,
            score_a,
            score_b,
            refusal_a,
            refusal_b,
            None,
        )
        if len(_JUDGMENT_DIGESTS) >= _MEMO_LIMIT:
            _JUDGMENT_DIGESTS.clear()
        _JUDGMENT_DIGESTS[key] = digest
    return digest


def item_digest(record: ItemRecord) -> str:
    """Identity of an item's content: prompt (or messages) and both slots' model and text."""
    a, b = record.responses[Slot.A], record.responses[Slot.B]
    messages = (
        None
        if record.messages is None
        else tuple((m.role.value, m.content) for m in record.messages)
    )
    return item_fields_digest(record.prompt, messages, a.model, a.text, b.model, b.text)


def item_fields_digest(
    prompt: str | None,
    messages: tuple[tuple[str, str], ...] | None,
    model_a: str,
    text_a: str,
    model_b: str,
    text_b: str,
) -> str:
    """:func:`item_digest` from stored values (``messages`` as (role, content) pairs).

    SHA-256 over length-prefixed UTF-8 (``item/v2``): unambiguous, and it hashes the long texts
    as they are instead of building their ``repr`` first (a third of the import's hashing).
    """
    digest = hashlib.sha256(b"item/v2")
    update = digest.update
    parts: list[str | None] = [prompt]
    if messages is None:
        parts.append(None)
    else:
        parts.append(str(len(messages)))
        for role, content in messages:
            parts.append(role)
            parts.append(content)
    parts += (model_a, text_a, model_b, text_b)
    for part in parts:
        if part is None:
            update(b"-")
        else:
            data = part.encode("utf-8", "surrogatepass")
            update(b"%d:" % len(data))
            update(data)
    return digest.hexdigest()


#: Stored on an item whose disagreement reasons must be recomputed at the end of the import.
_STALE = -1
_A, _B = Slot.A, Slot.B


class _Importer:
    """One import transaction: ids are assigned here, rows go in by ``executemany`` per batch.

    Memory stays bounded by the batch size: nothing accumulates across batches except counters,
    a running digest of the items added, and the judge and reviewer name caches.
    """

    def __init__(
        self, project: Project, session: DbSession, report: ImportReport, batch_id: int
    ) -> None:
        self.project = project
        self.session = session
        self.report = report
        self.batch_id = batch_id
        self.now = to_iso(project.clock.now())
        self.next_item_id, self.next_response_id, self.next_judgment_id = repo.next_ids(session)
        self.next_event_id: int | None = None  # label events, assigned on first use
        self.judges: dict[str, tuple[int, str]] = {}
        self.reviewers: dict[str, int] = {}
        # Running digests of what this import added, in id order, recorded in the audit chain so
        # `audit verify` can recompute them from the rows (items, judgments, imported labels).
        self.items_digest = hashlib.sha256()
        self.judgments_digest = hashlib.sha256()
        self.labels_digest = hashlib.sha256()

    def add_batch(self, records: Sequence[ItemRecord]) -> None:
        stored = repo.find_items(self.session, [r.item_id for r in records])
        item_rows: list[tuple[Any, ...]] = []
        response_rows: list[tuple[Any, ...]] = []
        ids: dict[str, int] = {}
        new: dict[str, ItemRecord] = {}  # item id -> the record that added it in this batch
        items_update = self.items_digest.update
        batch_id, now = self.batch_id, self.now
        for record in records:
            key = record.item_id
            digest = item_digest(record)
            if key in stored:
                item_id, stored_digest = stored[key]
                if stored_digest != digest:
                    self.conflict(
                        f"line {record.line}: item_id {key!r} is already in the project "
                        "with a different prompt or responses; record not imported"
                    )
                    continue
                self.report.items_existing += 1
                ids[key] = item_id
                continue
            item_id = self.next_item_id
            self.next_item_id += 1
            ids[key] = item_id
            stored[key] = (item_id, digest)
            new[key] = record
            items_update(f"{key}:{digest}\n".encode())
            messages = record.messages
            expected, panel = record.expected_behavior, record.panel
            item_rows.append(
                (
                    item_id,
                    key,
                    record.prompt,
                    None
                    if messages is None
                    else canonical_json([[m.role.value, m.content] for m in messages]),
                    _slices_json(record.slices),
                    None if expected is None else expected.value,
                    record.subject_id,
                    None if panel is None else panel.value,
                    canonical_json(dict(record.metadata)) if record.metadata else None,
                    digest,
                    _reasons_of(record.judgments),
                    batch_id,
                    now,
                )
            )
            a, b = record.responses[_A], record.responses[_B]
            response_id = self.next_response_id
            response_rows.append((response_id, item_id, "A", a.model, a.text, len(a.text)))
            response_rows.append((response_id + 1, item_id, "B", b.model, b.text, len(b.text)))
            self.next_response_id = response_id + 2
        self.report.items_added += len(item_rows)
        repo.insert_items(self.session, item_rows)
        repo.insert_responses(self.session, response_rows)
        accepted = [r for r in records if r.item_id in ids]
        touched = self.add_judgments(accepted, ids, new)
        repo.mark_items_stale(self.session, sorted(touched), _STALE)
        self.add_labels([r for r in accepted if r.labels], ids)

    def judge_id(self, record: ItemRecord, judgment: JudgmentRecord) -> int | None:
        known = self.judges.get(judgment.judge)
        if known is None:
            known = repo.get_or_create_judges(self.session, {judgment.judge: str(judgment.kind)})[
                judgment.judge
            ]
            self.judges[judgment.judge] = known
        judge_id, kind = known
        if kind != str(judgment.kind):
            self.conflict(
                f"line {record.line}: judge {judgment.judge!r} is stored as kind {kind!r}, "
                f"this record says {judgment.kind.value!r}; judgment not imported"
            )
            self.report.judgments_conflicting += 1
            return None
        return judge_id

    def add_judgments(
        self, records: Sequence[ItemRecord], ids: dict[str, int], new: dict[str, ItemRecord]
    ) -> set[int]:
        """Insert the batch's judgments; return the pre-existing items whose judgments changed.

        Items new in this batch got their disagreement reasons on insert (all their judgments
        are in their record); a record repeating an item later gets it recomputed at the end.
        """
        with_judgments = [r for r in records if r.judgments]
        touched: set[int] = set()
        if not with_judgments:
            return touched
        old = [ids[r.item_id] for r in with_judgments if new.get(r.item_id) is not r]
        stored = repo.existing_judgments(self.session, old) if old else {}
        seen: dict[tuple[int, int, str], str] = {}
        rows: list[tuple[Any, ...]] = []
        judges = self.judges
        next_id = self.next_judgment_id
        batch_id = self.batch_id
        for record in with_judgments:
            item_id = ids[record.item_id]
            is_new = new.get(record.item_id) is record
            for judgment in record.judgments:
                known = judges.get(judgment.judge)
                kind = str(judgment.kind)
                if known is not None and known[1] == kind:
                    judge_id = known[0]
                else:
                    found = self.judge_id(record, judgment)
                    if found is None:
                        continue
                    judge_id = found
                order = str(judgment.order)
                verdict = None if judgment.verdict is None else str(judgment.verdict)
                p = judgment.probability_b
                scores, refusal = judgment.scores, judgment.refusal
                score_a = score_b = refusal_a = refusal_b = None
                if scores:
                    score_a, score_b = scores.get(_A), scores.get(_B)
                if refusal:
                    ra, rb = refusal.get(_A), refusal.get(_B)
                    refusal_a = None if ra is None else str(ra)
                    refusal_b = None if rb is None else str(rb)
                rationale = judgment.rationale
                digest = judgment_fields_digest(
                    kind, verdict, p, score_a, score_b, refusal_a, refusal_b, rationale
                )
                key = (item_id, judge_id, order)
                previous = seen.get(key) if is_new else (stored.get(key) or seen.get(key))
                if previous is not None:
                    if previous == digest:
                        self.report.judgments_duplicate += 1
                    else:
                        self.report.judgments_conflicting += 1
                        self.conflict(
                            f"line {record.line}: judge {judgment.judge!r} (order "
                            f"{order}) already has a different judgment on item "
                            f"{record.item_id!r}; not imported"
                        )
                    continue
                seen[key] = digest
                rows.append(
                    (
                        next_id,
                        item_id,
                        judge_id,
                        order,
                        verdict,
                        p,
                        score_a,
                        score_b,
                        refusal_a,
                        refusal_b,
                        rationale,
                        digest,
                        batch_id,
                    )
                )
                next_id += 1
                if not is_new:
                    touched.add(item_id)
        self.next_judgment_id = next_id
        repo.insert_judgments(self.session, rows)
        # id:item_id:judge_id:order:content — a judgment moved to another item, judge or
        # display order breaks the digest as surely as an edited one (`audit verify`).
        self.judgments_digest.update(
            "".join([f"{r[0]}:{r[1]}:{r[2]}:{r[3]}:{r[11]}\n" for r in rows]).encode()
        )
        self.report.judgments_added += len(rows)
        return touched

    def add_labels(self, records: Sequence[ItemRecord], ids: dict[str, int]) -> None:
        if not records:
            return
        names = {label.reviewer for r in records for label in r.labels} - set(self.reviewers)
        self.reviewers.update(
            repo.get_or_create_reviewers(self.session, names, "import", self.project.clock.now())
        )
        stored = repo.existing_label_hashes(self.session, [ids[r.item_id] for r in records])
        rows: list[dict[str, Any]] = []
        for record in records:
            for label in record.labels:
                refusal = label.refusal or {}
                fields: dict[str, Any] = {
                    "kind": "label",
                    "item": record.item_id,
                    "entry_id": None,
                    "reviewer": label.reviewer,
                    "provenance": "import",
                    "screen_choice": None
                    if label.shown_left is None
                    else screen_choice_for(label.choice, label.shown_left).value,
                    "left_slot": None if label.shown_left is None else label.shown_left.value,
                    "choice": label.choice.value,
                    "refusal_a": refusal[Slot.A].value if Slot.A in refusal else None,
                    "refusal_b": refusal[Slot.B].value if Slot.B in refusal else None,
                    "tags": None,
                    "note": label.note,
                    "flagged": False,
                    "dwell_ms": label.dwell_ms,
                    "queue_reason": None,
                    "inclusion_prob": None,
                    "labeled_at": self.now
                    if label.labeled_at is None
                    else to_iso(label.labeled_at),
                    "retracts_id": None,
                }
                if label.labeled_at is None:
                    # Without a time of its own, the label's identity must not depend on when it
                    # was imported, or every re-import would add it again.
                    digest = label_event_sha256(fields | {"labeled_at": None})
                else:
                    digest = label_event_sha256(fields)
                if digest in stored:
                    self.report.labels_duplicate += 1
                    continue
                stored.add(digest)
                if self.next_event_id is None:
                    self.next_event_id = repo.next_label_event_id(self.session)
                event_id = self.next_event_id
                self.next_event_id += 1
                rows.append(
                    {k: v for k, v in fields.items() if k not in ("item", "reviewer")}
                    | {
                        "id": event_id,
                        "item_id": ids[record.item_id],
                        "reviewer_id": self.reviewers[label.reviewer],
                        "created_at": self.now,
                        "app_version": __version__,
                        "import_id": self.batch_id,
                        "content_sha256": digest,
                    }
                )
                self.labels_digest.update(f"{event_id}:{digest}\n".encode())
        repo.insert_label_events(self.session, rows)
        self.report.labels_added += len(rows)

    def conflict(self, message: str) -> None:
        if len(self.report.conflicts) < MAX_LISTED:
            self.report.conflicts.append(message)

    def refresh_stale_reasons(self) -> None:
        """Recompute reasons of pre-existing items that gained judgments (bounded chunks)."""
        while True:
            chunk = repo.stale_items(self.session, _STALE, 5000)
            if not chunk:
                return
            per_item: dict[int, list[JudgeVerdict]] = {item_id: [] for item_id in chunk}
            for fact in repo.judgments_for_items(self.session, chunk):
                if fact.verdict is not None:  # refusal-only judgments cast no preference
                    per_item[fact.item_id].append(
                        JudgeVerdict(
                            fact.judge, Order(fact.order), Verdict(fact.verdict), fact.probability_b
                        )
                    )
            repo.set_item_reasons(
                self.session,
                {i: reasons_to_mask(disagreement_reasons(v)) for i, v in per_item.items()},
            )


#: Disagreement masks by what decides them: per judgment with a verdict, the judge, the order,
#: the verdict and whether its probability is (not) close to 0.5. Items repeat a few patterns.
_REASONS: dict[tuple[Any, ...], int] = {}
_LOW_MARGIN = LOW_CONFIDENCE_MARGIN - 1e-12  # the rule's own slack (queueing.disagreement)


def _reasons_of(judgments: Sequence[JudgmentRecord]) -> int:
    key = tuple(
        [
            (
                j.judge,
                j.order,
                j.verdict,
                None if j.probability_b is None else abs(j.probability_b - 0.5) >= _LOW_MARGIN,
            )
            for j in judgments
            if j.verdict is not None
        ]
    )
    mask = _REASONS.get(key)
    if mask is None:
        mask = reasons_to_mask(
            disagreement_reasons(
                JudgeVerdict(j.judge, j.order, j.verdict, j.probability_b)
                for j in judgments
                if j.verdict is not None
            )
        )
        if len(_REASONS) >= _MEMO_LIMIT:
            _REASONS.clear()
        _REASONS[key] = mask
    return mask


_SLICES: dict[tuple[tuple[str, str], ...], str] = {}


def _slices_json(slices: Mapping[str, str]) -> str:
    """Canonical JSON of an item's slices (most items share a few combinations)."""
    try:
        key = tuple(slices.items())
        text = _SLICES.get(key)
    except TypeError:  # an unhashable value: importers give strings, but do not rely on it
        return canonical_json(dict(slices))
    if text is None:
        text = canonical_json(dict(slices))
        if len(_SLICES) >= _MEMO_LIMIT:
            _SLICES.clear()
        _SLICES[key] = text
    return text


def import_file(
    project: Project,
    path: Path,
    fmt: Format | str = Format.AUTO,
    options: ReadOptions | None = None,
    *,
    skip_bad: bool = False,
    cancel: CancelToken | None = None,
    actor: str = "lead",
) -> Job[ImportReport]:
    """Import one file; yields progress, returns the report, raises ``InvalidInputError``.

    All-or-nothing unless ``skip_bad``; the project is unchanged on any error or cancel.
    """
    options = options or ReadOptions()
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give the file to import")
    fmt = Format(fmt)
    digest = file_sha256(path)
    problems: list[Problem] = []
    total_problems = 0
    rejects_tmp = path.with_name(path.name + ".rejects.jsonl.partial") if skip_bad else None
    rejects_out = None
    with open_reader(path, fmt, options) as reader, project.store.write() as uow:
        report = ImportReport(file=str(path), format=reader.format.value)
        batch_id = repo.add_import_batch(
            uow.session,
            str(path),
            digest,
            reader.format.value,
            _options_json(options, skip_bad),
            project.clock.now(),
        )
        importer = _Importer(project, uow.session, report, batch_id)
        pending: list[ItemRecord] = []
        label = f"Importing {path.name}"
        yield Progress(0, reader.total_bytes, label)
        try:
            for entry in reader:
                if isinstance(entry, ItemRecord):
                    report.records += 1
                    if total_problems == 0 or skip_bad:
                        pending.append(entry)
                elif isinstance(entry, Rejected):
                    report.records += 1
                    report.rejected += 1
                    total_problems += len(entry.problems)
                    if skip_bad:
                        assert rejects_tmp is not None
                        try:
                            if rejects_out is None:
                                rejects_out = rejects_tmp.open("w", encoding="utf-8")
                            rejects_out.write(
                                json.dumps(
                                    {
                                        "line": entry.line,
                                        "problems": [str(p) for p in entry.problems],
                                        "record": entry.raw,
                                    },
                                    ensure_ascii=False,
                                )
                                + "\n"
                            )
                        except OSError as exc:
                            raise _rejects_failed(path, exc) from exc
                    else:
                        problems.extend(entry.problems[: max(0, 100 - len(problems))])
                        pending.clear()
                elif isinstance(entry, Skipped):
                    report.skipped += 1
                    if len(report.warnings) < MAX_LISTED:
                        report.warnings.append(
                            f"{path}:{entry.line}: {entry.field}: {entry.message}"
                        )
                if len(pending) >= BATCH_RECORDS:
                    importer.add_batch(pending)
                    pending.clear()
                    if cancel is not None:
                        cancel.check()
                    yield Progress(reader.bytes_read, reader.total_bytes, label)
            if total_problems and not skip_bad:
                raise InvalidInputError(str(path), problems, total_problems)
            importer.add_batch(pending)
            if cancel is not None:
                cancel.check()
            yield Progress(reader.bytes_read, reader.total_bytes, "Finding disagreements")
            importer.refresh_stale_reasons()
            if rejects_out is not None:
                try:
                    rejects_out.close()
                except OSError as exc:
                    raise _rejects_failed(path, exc) from exc
                rejects_out = None
                assert rejects_tmp is not None
                final = path.with_name(path.name + ".rejects.jsonl")
                report.rejects_path = str(final)
            repo.set_import_counts(uow.session, batch_id, report.counts())
            repo.append_audit(
                uow.session,
                "import",
                actor,
                {
                    "file": path.name,
                    "file_sha256": digest,
                    "format": reader.format.value,
                    "import_id": batch_id,
                    "counts": report.counts(),
                    "items_sha256": importer.items_digest.hexdigest(),
                    "judgments_sha256": importer.judgments_digest.hexdigest(),
                    "labels_sha256": importer.labels_digest.hexdigest(),
                    "app_version": __version__,
                },
                project.clock.now(),
            )
        except BaseException:
            if rejects_out is not None:
                with contextlib.suppress(OSError):  # a full disk again: the file goes anyway
                    rejects_out.close()
            if rejects_tmp is not None:
                rejects_tmp.unlink(missing_ok=True)
            raise
    # Committed: only now does the rejects file take its final name.
    if report.rejects_path is not None and rejects_tmp is not None:
        os.replace(rejects_tmp, report.rejects_path)
    return report


def _rejects_failed(path: Path, exc: OSError) -> UserError:
    rejects = path.with_name(path.name + ".rejects.jsonl")
    why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return UserError(f"{rejects}: cannot write the rejects file ({why}); nothing was imported")


def _options_json(options: ReadOptions, skip_bad: bool) -> dict[str, Any]:
    return {
        "judge": options.judge,
        "as_labels": options.as_labels,
        "questions": None if options.questions is None else str(options.questions),
        "answers": None if options.answers is None else str(options.answers),
        "skip_bad": skip_bad,
    }
