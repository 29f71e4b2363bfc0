"""Importing eval and judge results into a project (SPEC §3).

One import is one write transaction: by default a file with any invalid record changes nothing
and the user gets every problem as ``file:line: field: message``. With ``skip_bad`` the valid
records are imported and the rejects written beside the input. Re-importing adds nothing;
a judgment that contradicts a stored one (same judge, item and order) is a conflict: reported,
not imported. Cancel (or Ctrl+C, or a crash) rolls everything back.

Large files are read in a child process (``io.parallel``) while this one stores; reading is the
same code either way (``io.prepared``), so the outcome is the same. ``REVIEWDESK_IMPORT_WORKERS``
(``0`` in process, ``1`` in a child) or the ``workers`` argument forces one way.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, ClassVar

from reviewdesk import __version__
from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.errors import InvalidInputError, Problem, UserError
from reviewdesk.domain.model import ItemRecord, JudgmentRecord, Order, Slot, Verdict
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.io.formats import Format, ReadOptions, RecordReader, open_reader
from reviewdesk.io.parallel import ChildChunks, usable_cores
from reviewdesk.io.prepared import (
    MAX_LISTED,
    Batch,
    Chunk,
    Pattern,
    prepared_chunks,
)
from reviewdesk.io.prepared import item_fields_digest as item_fields_digest
from reviewdesk.io.prepared import judgment_fields_digest as judgment_fields_digest
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

# ``item_fields_digest`` and ``judgment_fields_digest`` (imported ``as`` themselves above) are
# re-exported: ``audit verify``, erasure and instrumentation recompute the stored digests.

#: Files at least this large are read in a child process when two cores are available. Below,
#: the child's start (a fresh interpreter, 0.1-0.2 s) eats the gain: on the benchmark's records,
#: 8 MB imports in 0.47 s either way, 16 MB in 0.72 s against 0.76 s, 77 MB in 2.2 s against 3.2 s.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
#: ``0``: always read in process; ``1`` (or more: there is one reader): always in a child
#: process; unset: by size and cores.
WORKERS_ENV = "REVIEWDESK_IMPORT_WORKERS"


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


def item_digest(record: ItemRecord) -> str:
    """Identity of an item's content: prompt (or messages) and both slots' model and text."""
    a, b = record.responses[Slot.A], record.responses[Slot.B]
    messages = (
        None
        if record.messages is None
        else tuple((m.role.value, m.content) for m in record.messages)
    )
    return item_fields_digest(record.prompt, messages, a.model, a.text, b.model, b.text)


#: Stored on an item whose disagreement reasons must be recomputed at the end of the import.
_STALE = -1


class _Importer:
    """One import transaction: ids are assigned here, rows go in by ``executemany`` per batch.

    It gets items prepared by ``io.prepared`` (rows without ids, digests done), possibly from
    another process, and does only what needs the project: what is stored already, ids,
    conflicts, the inserts and the audit digests. Memory stays bounded by the batch size: nothing
    accumulates across batches except counters, running digests, and small name caches.
    """

    #: The columnar path for batches of new items (tests turn it off to compare the two paths).
    columnar: ClassVar[bool] = True

    def __init__(
        self, project: Project, session: DbSession, report: ImportReport, batch_id: int
    ) -> None:
        self.project = project
        self.session = session
        self.report = report
        self.batch_id = batch_id
        self.now = to_iso(project.clock.now())
        self.next_item_id, self.next_response_id, self.next_judgment_id = repo.next_ids(session)
        # No item row at all (ids start at 1): the batches' own keys are all that can be stored.
        self.empty_at_start = self.next_item_id == 1
        self.next_event_id: int | None = None  # label events, assigned on first use
        self.judges: dict[str, tuple[int, str]] = {}
        self.reviewers: dict[str, int] = {}
        self.masks: dict[int, int] = {}  # disagreement pattern id -> reasons mask
        # Running digests of what this import added, in id order, recorded in the audit chain so
        # `audit verify` can recompute them from the rows (items, judgments, imported labels).
        self.items_digest = hashlib.sha256()
        self.judgments_digest = hashlib.sha256()
        self.labels_digest = hashlib.sha256()

    def learn_patterns(self, patterns: Sequence[tuple[int, Pattern]], reset: bool) -> None:
        """Masks of the disagreement patterns a chunk introduces (``reset``: ids start over)."""
        if reset:
            self.masks.clear()
        for pattern_id, pattern in patterns:
            self.masks[pattern_id] = _pattern_mask(pattern)

    def add_batch(self, batch: Batch) -> None:
        """Store one batch: items and responses, judgments, then imported labels.

        A batch whose items are all new (the usual first import) takes a columnar path: its rows
        are ``zip`` s of the batch's columns, with no per-row Python. It gives exactly the rows,
        ids, counts and digests of the general path, which handles everything else: items
        already stored or repeated in the batch, judges of another kind, repeated judgments.
        Into a project that had no items, a batch whose keys are new in the file cannot find any
        stored: the lookup (a query of a thousand keys) is skipped.
        """
        keys = batch.items[0]
        if self.empty_at_start and not batch.keys_seen_before and self.columnar:
            stored: dict[str, tuple[int, str]] = {}  # what find_items would find: nothing
        else:
            stored = repo.find_items(self.session, keys)
        if self.columnar and not stored and len(set(keys)) == len(keys):
            first_item = self.next_item_id
            ids, new = self._add_new_items(batch)
            if (
                not batch.mixed_kinds
                and not batch.repeated_slots
                and self._judges_match(batch.judges)
            ):
                self._add_new_judgments(batch, first_item)
            else:
                self._add_judgments(batch, ids, new)
        else:
            ids, new = self._add_items(batch, stored)
            self._add_judgments(batch, ids, new)
        self._add_labels(batch, ids)

    def _add_new_items(self, batch: Batch) -> tuple[dict[str, int], dict[str, int]]:
        """Insert a batch of items none of which is stored; returns (ids, new) as _add_items."""
        (
            keys,
            _lines,
            digests,
            prompts,
            messages,
            slices,
            expected,
            subject_ids,
            panels,
            metadata,
            patterns,
            models_a,
            texts_a,
            models_b,
            texts_b,
        ) = batch.items
        n = len(keys)
        first = self.next_item_id
        self.next_item_id = first + n
        item_ids = range(first, first + n)
        self.items_digest.update(
            "".join(
                [f"{key}:{digest}\n" for key, digest in zip(keys, digests, strict=True)]
            ).encode()
        )
        self.report.items_added += n
        item_rows = zip(
            item_ids,
            keys,
            prompts,
            messages,
            slices,
            expected,
            subject_ids,
            panels,
            metadata,
            digests,
            map(self.masks.__getitem__, patterns),
            repeat(self.batch_id),
            repeat(self.now),
        )
        repo.insert_items(self.session, list(item_rows))
        response = self.next_response_id
        self.next_response_id = response + 2 * n
        response_rows: list[Any] = [None] * (2 * n)  # A and B of each item, in turn
        response_rows[0::2] = zip(
            range(response, response + 2 * n, 2),
            item_ids,
            repeat("A"),
            models_a,
            texts_a,
            map(len, texts_a),
        )
        response_rows[1::2] = zip(
            range(response + 1, response + 2 * n, 2),
            item_ids,
            repeat("B"),
            models_b,
            texts_b,
            map(len, texts_b),
        )
        repo.insert_responses(self.session, response_rows)
        return dict(zip(keys, item_ids, strict=True)), dict(zip(keys, range(n), strict=True))

    def _judges_match(self, judges: Sequence[tuple[str, str]]) -> bool:
        """Look up (or create, in order of first use, as the general path would) the batch's
        judges; False when one is stored with another kind than its judgments say."""
        for judge, kind in judges:
            known = self.judges.get(judge)
            if known is None:
                known = repo.get_or_create_judges(self.session, {judge: kind})[judge]
                self.judges[judge] = known
            if known[1] != kind:
                return False
        return True

    def _add_new_judgments(self, batch: Batch, first_item: int) -> None:
        """Insert every judgment of a batch of new items, whose ids run from ``first_item`` in
        batch order (no repeated judge and order on an item, every judge of the kind stored)."""
        (
            index,
            judges,
            _kinds,
            orders,
            verdicts,
            probabilities,
            scores_a,
            scores_b,
            refusals_a,
            refusals_b,
            rationales,
            digests,
        ) = batch.judgments
        m = len(index)
        if not m:
            return
        first = self.next_judgment_id
        self.next_judgment_id = first + m
        judgment_ids = range(first, first + m)
        item_ids = list(map(first_item.__add__, index))
        judge_id = {judge: self.judges[judge][0] for judge, _kind in batch.judges}
        judge_ids = list(map(judge_id.__getitem__, judges))
        rows = zip(
            judgment_ids,
            item_ids,
            judge_ids,
            orders,
            verdicts,
            probabilities,
            scores_a,
            scores_b,
            refusals_a,
            refusals_b,
            rationales,
            digests,
            repeat(self.batch_id),
        )
        repo.insert_judgments(self.session, list(rows))
        # id:item_id:judge_id:order:content, as in _add_judgments
        lines = [
            f"{j}:{i}:{judge}:{order}:{digest}\n"
            for j, i, judge, order, digest in zip(
                judgment_ids, item_ids, judge_ids, orders, digests, strict=True
            )
        ]
        self.judgments_digest.update("".join(lines).encode())
        self.report.judgments_added += m

    def _add_items(
        self, batch: Batch, stored: dict[str, tuple[int, str]]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Insert the batch's items that are not stored yet; returns item key -> id of every item
        accepted (added, or stored with the same content) and item key -> index of the item that
        added it in this batch."""
        report = self.report
        masks = self.masks
        item_rows: list[tuple[Any, ...]] = []
        response_rows: list[tuple[Any, ...]] = []
        ids: dict[str, int] = {}
        new: dict[str, int] = {}
        added: list[str] = []
        batch_id, now = self.batch_id, self.now
        next_item_id, next_response_id = self.next_item_id, self.next_response_id
        for index, item in enumerate(zip(*batch.items, strict=True)):
            (
                key,
                line,
                digest,
                prompt,
                messages,
                slices,
                expected,
                subject_id,
                panel,
                metadata,
                pattern_id,
                model_a,
                text_a,
                model_b,
                text_b,
            ) = item
            found = stored.get(key)
            if found is not None:
                if found[1] != digest:
                    self.conflict(
                        f"line {line}: item_id {key!r} is already in the project "
                        "with a different prompt or responses; record not imported"
                    )
                    continue
                report.items_existing += 1
                ids[key] = found[0]
                continue
            item_id = next_item_id
            next_item_id += 1
            ids[key] = item_id
            stored[key] = (item_id, digest)
            new[key] = index
            added.append(f"{key}:{digest}\n")
            item_rows.append(
                (
                    item_id,
                    key,
                    prompt,
                    messages,
                    slices,
                    expected,
                    subject_id,
                    panel,
                    metadata,
                    digest,
                    masks[pattern_id],
                    batch_id,
                    now,
                )
            )
            response_rows.append((next_response_id, item_id, "A", model_a, text_a, len(text_a)))
            response_rows.append((next_response_id + 1, item_id, "B", model_b, text_b, len(text_b)))
            next_response_id += 2
        self.next_item_id, self.next_response_id = next_item_id, next_response_id
        self.items_digest.update("".join(added).encode())
        report.items_added += len(item_rows)
        repo.insert_items(self.session, item_rows)
        repo.insert_responses(self.session, response_rows)
        return ids, new

    def judge_id(self, line: int, judge: str, kind: str) -> int | None:
        known = self.judges.get(judge)
        if known is None:
            known = repo.get_or_create_judges(self.session, {judge: kind})[judge]
            self.judges[judge] = known
        judge_id, stored_kind = known
        if stored_kind != kind:
            self.conflict(
                f"line {line}: judge {judge!r} is stored as kind {stored_kind!r}, "
                f"this record says {kind!r}; judgment not imported"
            )
            self.report.judgments_conflicting += 1
            return None
        return judge_id

    def _add_judgments(self, batch: Batch, ids: dict[str, int], new: dict[str, int]) -> None:
        """Insert the judgments of the accepted items (those in ``ids``), in file order, telling
        duplicates from conflicts; mark the stored items that gained judgments.

        Items new in this batch got their disagreement reasons on insert (all their judgments
        are in their record); a record repeating an item later gets it recomputed at the end.
        """
        keys, lines = batch.items[0], batch.items[1]
        accepted = [j for j in zip(*batch.judgments, strict=True) if keys[j[0]] in ids]
        if not accepted:
            return
        records = dict.fromkeys(j[0] for j in accepted)  # indexes of the items, in order
        old = [ids[keys[i]] for i in records if new.get(keys[i]) != i]
        stored = repo.existing_judgments(self.session, old) if old else {}
        seen: dict[tuple[int, int, str], str] = {}
        rows: list[tuple[Any, ...]] = []
        touched: set[int] = set()
        judges = self.judges
        next_id = self.next_judgment_id
        batch_id = self.batch_id
        report = self.report
        for (
            index,
            judge,
            kind,
            order,
            verdict,
            p,
            score_a,
            score_b,
            refusal_a,
            refusal_b,
            rationale,
            digest,
        ) in accepted:
            key = keys[index]
            item_id = ids[key]
            is_new = new.get(key) == index
            known = judges.get(judge)
            if known is not None and known[1] == kind:
                judge_id = known[0]
            else:
                found = self.judge_id(lines[index], judge, kind)
                if found is None:
                    continue
                judge_id = found
            slot = (item_id, judge_id, order)
            previous = seen.get(slot) if is_new else (stored.get(slot) or seen.get(slot))
            if previous is not None:
                if previous == digest:
                    report.judgments_duplicate += 1
                else:
                    report.judgments_conflicting += 1
                    self.conflict(
                        f"line {lines[index]}: judge {judge!r} (order "
                        f"{order}) already has a different judgment on item "
                        f"{key!r}; not imported"
                    )
                continue
            seen[slot] = digest
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
        report.judgments_added += len(rows)
        repo.mark_items_stale(self.session, sorted(touched), _STALE)

    def _add_labels(self, batch: Batch, ids: dict[str, int]) -> None:
        keys = batch.items[0]
        labels = [(i, label) for i, label in batch.labels if keys[i] in ids]
        if not labels:
            return
        names = {label[0] for _i, label in labels} - set(self.reviewers)
        self.reviewers.update(
            repo.get_or_create_reviewers(self.session, names, "import", self.project.clock.now())
        )
        records = dict.fromkeys(i for i, _label in labels)  # indexes of the items, in order
        stored = repo.existing_label_hashes(self.session, [ids[keys[i]] for i in records])
        rows: list[dict[str, Any]] = []
        for index, (
            reviewer,
            digest,
            labeled_at,
            screen_choice,
            left_slot,
            choice,
            refusal_a,
            refusal_b,
            dwell_ms,
            note,
        ) in labels:
            if digest in stored:
                self.report.labels_duplicate += 1
                continue
            stored.add(digest)
            if self.next_event_id is None:
                self.next_event_id = repo.next_label_event_id(self.session)
            event_id = self.next_event_id
            self.next_event_id += 1
            rows.append(
                {
                    "kind": "label",
                    "entry_id": None,
                    "provenance": "import",
                    "screen_choice": screen_choice,
                    "left_slot": left_slot,
                    "choice": choice,
                    "refusal_a": refusal_a,
                    "refusal_b": refusal_b,
                    "tags": None,
                    "note": note,
                    "flagged": False,
                    "dwell_ms": dwell_ms,
                    "queue_reason": None,
                    "inclusion_prob": None,
                    # a label without a time of its own is stored with the import's
                    "labeled_at": self.now if labeled_at is None else labeled_at,
                    "retracts_id": None,
                    "id": event_id,
                    "item_id": ids[keys[index]],
                    "reviewer_id": self.reviewers[reviewer],
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


#: Disagreement masks by pattern (``io.prepared.reasons_pattern``): per judgment with a verdict,
#: the judge, the order, the verdict and whether its probability is (not) close to 0.5.
_REASONS: dict[Pattern, int] = {}
_MEMO_LIMIT = 200_000
_LOW_MARGIN = LOW_CONFIDENCE_MARGIN - 1e-12  # the rule's own slack (queueing.disagreement)


def _pattern_mask(pattern: Pattern) -> int:
    """The disagreement mask of every item with this pattern.

    A pattern keeps of each probability only whether it is far from 0.5, which is all the rule
    looks at; 0.0 (far) or 0.5 (close) stand in for it.
    """
    mask = _REASONS.get(pattern)
    if mask is None:
        mask = reasons_to_mask(
            disagreement_reasons(
                JudgeVerdict(
                    judge,
                    Order(order),
                    Verdict(verdict),
                    None if far is None else (0.0 if far else 0.5),
                )
                for judge, order, verdict, far in pattern
            )
        )
        if len(_REASONS) >= _MEMO_LIMIT:
            _REASONS.clear()
        _REASONS[pattern] = mask
    return mask


class _InProcessChunks:
    """The chunks of a file read in this process (small files, one core): same code, no child."""

    def __init__(self, reader: RecordReader, *, skip_bad: bool) -> None:
        self._reader = reader
        self._skip_bad = skip_bad

    def __iter__(self) -> Iterator[Chunk]:
        return prepared_chunks(self._reader, skip_bad=self._skip_bad, low_margin=_LOW_MARGIN)

    def __enter__(self) -> _InProcessChunks:
        return self

    def __exit__(self, *exc: object) -> None:
        self._reader.close()


def _read_in_child(total_bytes: int, workers: int | None) -> bool:
    """Whether to read in a child process: forced by ``workers`` or the environment (any number
    from 1 means the one child), else for large files when this process may run on two cores."""
    if workers is None:
        raw = os.environ.get(WORKERS_ENV, "").strip()
        if raw:
            if not raw.isdigit():
                raise UserError(
                    f"{WORKERS_ENV} must be 0 (read in process) or 1 (read in a child process), "
                    f"not {raw!r}"
                )
            workers = int(raw)
    if workers is not None:
        return workers >= 1
    return total_bytes >= PARALLEL_MIN_BYTES and usable_cores() >= 2


def import_file(
    project: Project,
    path: Path,
    fmt: Format | str = Format.AUTO,
    options: ReadOptions | None = None,
    *,
    skip_bad: bool = False,
    cancel: CancelToken | None = None,
    actor: str = "lead",
    workers: int | None = None,
) -> Job[ImportReport]:
    """Import one file; yields progress, returns the report, raises ``InvalidInputError``.

    All-or-nothing unless ``skip_bad``; the project is unchanged on any error or cancel.
    ``workers``: 1 reads the file in a child process, 0 in this one; None decides by the
    ``REVIEWDESK_IMPORT_WORKERS`` environment variable, else by file size and cores. Every format
    can be read in the child; the result is the same either way.
    """
    options = options or ReadOptions()
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give the file to import")
    fmt = Format(fmt)
    reader = open_reader(path, fmt, options)
    source: _InProcessChunks | ChildChunks
    try:
        total = reader.total_bytes
        format_name = reader.format.value
        if _read_in_child(total, workers):
            reader.close()
            source = ChildChunks(
                path,
                reader.format,
                options,
                skip_bad=skip_bad,
                low_margin=_LOW_MARGIN,
                check=None if cancel is None else cancel.check,
            )
        else:
            source = _InProcessChunks(reader, skip_bad=skip_bad)
    except BaseException:
        reader.close()
        raise
    with source:
        # Hashed after the child started: its start-up overlaps this read of the file.
        digest = file_sha256(path)
        report = yield from _store(
            project, path, digest, format_name, total, source, options, skip_bad, cancel, actor
        )
    # Committed: only now does the rejects file take its final name.
    if report.rejects_path is not None:
        os.replace(_rejects_partial(path), report.rejects_path)
    return report


def _rejects_partial(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.jsonl.partial")


def _store(
    project: Project,
    path: Path,
    digest: str,
    format_name: str,
    total: int,
    chunks: Iterable[Chunk],
    options: ReadOptions,
    skip_bad: bool,
    cancel: CancelToken | None,
    actor: str,
) -> Job[ImportReport]:
    """The import's one write transaction, fed by the chunks of the file (either source)."""
    problems: list[Problem] = []
    total_problems = 0
    rejects_tmp = _rejects_partial(path) if skip_bad else None
    rejects_out = None
    with project.store.write() as uow:
        report = ImportReport(file=str(path), format=format_name)
        batch_id = repo.add_import_batch(
            uow.session,
            str(path),
            digest,
            format_name,
            _options_json(options, skip_bad),
            project.clock.now(),
        )
        importer = _Importer(project, uow.session, report, batch_id)
        label = f"Importing {path.name}"
        yield Progress(0, total, label)
        try:
            last: Chunk | None = None
            for chunk in chunks:
                report.records += chunk.records
                report.rejected += chunk.rejected
                report.skipped += chunk.skipped
                total_problems += chunk.problems_total
                problems.extend(chunk.problems)
                report.warnings.extend(chunk.warnings)
                if chunk.rejects:
                    assert rejects_tmp is not None
                    try:
                        if rejects_out is None:
                            rejects_out = rejects_tmp.open("w", encoding="utf-8")
                        rejects_out.write("".join(chunk.rejects))
                    except OSError as exc:
                        raise _rejects_failed(path, exc) from exc
                importer.learn_patterns(chunk.patterns, chunk.reset_patterns)
                if chunk.last:
                    last = chunk
                    break
                if chunk.batch is not None:
                    importer.add_batch(chunk.batch)
                if cancel is not None:
                    cancel.check()
                yield Progress(chunk.bytes_read, total, label)
            assert last is not None
            assert last.batch is not None
            if total_problems and not skip_bad:
                raise InvalidInputError(str(path), problems, total_problems)
            importer.add_batch(last.batch)
            if cancel is not None:
                cancel.check()
            yield Progress(last.bytes_read, total, "Finding disagreements")
            importer.refresh_stale_reasons()
            if rejects_out is not None:
                try:
                    rejects_out.close()
                except OSError as exc:
                    raise _rejects_failed(path, exc) from exc
                rejects_out = None
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
                    "format": format_name,
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
