"""Records turned into storage-ready plain tuples, in chunks: the record-local half of an import.

An import has two halves. This one needs only the input file: reading and validating records,
content digests, canonical JSON, the judgment and label digests, and the import's bookkeeping of
rejects, problems and warnings. The other half (``services.importing``) needs the project: which
items and judgments are already stored, ids, conflicts, ``executemany`` and the audit digests.

Keeping the first half here, free of storage, lets it run in a second process
(:mod:`reviewdesk.io.parallel`) while the importing process writes to the database; the in-process
import runs the very same code, so both give the same rows, counts and digests by construction.
What crosses the process boundary is a :class:`Batch` of columns (tuples of
``str``/``int``/``float``/``None``), not the frozen records with their enums: a few long tuples
unpickle about three times faster than a tuple per item and judgment (0.04 s against 0.12 s for
25k items and 100k judgments), and the storing side builds its rows from them with ``zip``.

Batches hold exactly ``BATCH_RECORDS`` items (the last one fewer), in both ways of importing:
the order of conflict messages within a batch depends on where batches start.

The digest functions live here (not in the service) because the reader process may import only
``io`` and ``domain``; ``services.importing`` re-exports them for ``audit verify`` and erasure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.errors import Problem
from reviewdesk.domain.hashing import canonical_json, fields_sha256, label_event_sha256
from reviewdesk.domain.model import (
    ExpectedBehavior,
    ItemRecord,
    JudgeKind,
    JudgmentRecord,
    LabelRecord,
    Order,
    Panel,
    RefusalClass,
    Role,
    Skipped,
    Slot,
    Verdict,
    screen_choice_for,
)
from reviewdesk.io.reader import RecordReader, Rejected

BATCH_RECORDS = 1000
"""Items per batch the import service stores with one ``executemany`` per table."""

MAX_LISTED = 100
"""Warnings listed in a report (the rest are counted)."""

MAX_PROBLEMS = 100
"""Problems kept for ``InvalidInputError`` (the rest are counted; ``InvalidInputError.shown``)."""

_REJECTS_BYTES = 4 * 1024 * 1024
"""A chunk is sent early once its rejects lines hold this much text (bounded memory)."""

_MEMO_LIMIT = 200_000

# --------------------------------------------------------------------------------- wire format

PreparedItem = tuple[
    str,  # 0 item key
    int,  # 1 line
    str,  # 2 content digest (item_fields_digest)
    str | None,  # 3 prompt
    str | None,  # 4 messages, canonical JSON
    str,  # 5 slices, canonical JSON
    str | None,  # 6 expected_behavior
    str | None,  # 7 subject_id
    str | None,  # 8 panel
    str | None,  # 9 metadata, canonical JSON
    int,  # 10 disagreement pattern id (see Chunk.patterns)
    str,  # 11 model A
    str,  # 12 text A
    str,  # 13 model B
    str,  # 14 text B
]
"""One item's values as stored (apart from ids)."""

PreparedJudgment = tuple[
    int,  # 0 index of its item in the batch
    str,  # 1 judge name
    str,  # 2 kind
    str,  # 3 display order
    str | None,  # 4 verdict
    float | None,  # 5 probability_b
    float | None,  # 6 score_a
    float | None,  # 7 score_b
    str | None,  # 8 refusal_a
    str | None,  # 9 refusal_b
    str | None,  # 10 rationale
    str,  # 11 content digest (judgment_fields_digest)
]
"""One judgment's values as stored (apart from ids), after its item's index in the batch."""

PreparedLabel = tuple[
    str,  # 0 reviewer name
    str,  # 1 content digest (label_event_sha256)
    str | None,  # 2 labeled_at (ISO), None when the file gives no time
    str | None,  # 3 screen_choice
    str | None,  # 4 left_slot
    str,  # 5 choice
    str | None,  # 6 refusal_a
    str | None,  # 7 refusal_b
    int | None,  # 8 dwell_ms
    str | None,  # 9 note
]

Pattern = tuple[tuple[str, str, str, bool | None], ...]
"""What decides an item's disagreement reasons: per judgment with a verdict, (judge, order,
verdict, whether its probability is far from 0.5 or None). The rule itself lives in ``queueing``,
which ``io`` may not import, so the service maps patterns to masks; items repeat a few patterns."""


class Batch(NamedTuple):
    """The items of one batch, by columns: ``items[f][i]`` is field ``f`` of :data:`PreparedItem`
    for the batch's item ``i``; likewise ``judgments`` (all the batch's judgments, in file order).

    Columns because the common case of an import (every item new) then needs no per-row Python
    in the storing process: its rows are ``zip`` s of these columns, and a few long tuples
    unpickle far faster than thousands of small ones. ``zip(*items)`` gives back the rows.
    """

    items: tuple[tuple[Any, ...], ...]
    judgments: tuple[tuple[Any, ...], ...]
    judges: tuple[tuple[str, str], ...]
    """Each judge of the batch with the kind of its first judgment, in order of first use."""
    mixed_kinds: bool
    """Some judge has judgments of two kinds in this batch."""
    repeated_slots: bool
    """Some item has two judgments by one judge in one display order."""
    labels: list[tuple[int, PreparedLabel]]
    """Imported labels, each after its item's index in the batch, in file order."""
    keys_seen_before: bool
    """Some item key of the batch was in an earlier batch of the file (or too many keys were
    seen to tell): if not, an import into an empty project has none of them stored yet."""


#: Field counts, for the columns of an empty batch (``zip`` of no rows gives no columns at all).
_ITEM_FIELDS = 15
_JUDGMENT_FIELDS = 12


class Chunk(NamedTuple):
    """What the import service gets per step: counters since the previous chunk and, at a batch
    boundary, the batch of items to store. Counters are deltas; lists hold new entries only."""

    bytes_read: int
    """Position in the input file after the records of this chunk (progress)."""
    records: int
    """Records read (items and rejected records; not skipped ones)."""
    rejected: int
    skipped: int
    problems_total: int
    """Problems found in rejected records (all of them, listed or not)."""
    problems: list[Problem]
    """Problems for ``InvalidInputError`` (without ``skip_bad``; at most MAX_PROBLEMS in all)."""
    warnings: list[str]
    """``file:line: field: message`` of skipped records (at most MAX_LISTED in all)."""
    rejects: list[str]
    """Lines of the rejects file (with ``skip_bad``)."""
    batch: Batch | None
    """A batch to store, or None: a chunk sent for progress or to bound memory."""
    patterns: list[tuple[int, Pattern]]
    """Disagreement patterns first used in this chunk, by id."""
    reset_patterns: bool
    """Forget the pattern ids of earlier chunks before reading ``patterns`` (bounded memory)."""
    last: bool
    """The file is read; ``batch`` is the final (possibly empty) batch."""


# ------------------------------------------------------------------------------------ digests


def item_fields_digest(
    prompt: str | None,
    messages: tuple[tuple[str, str], ...] | None,
    model_a: str,
    text_a: str,
    model_b: str,
    text_b: str,
) -> str:
    """Identity of an item's content from stored values (``messages`` as (role, content) pairs).

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


#: Judgment digests by content. Most judgments repeat a few contents (a verdict, a probability
#: with three decimals, 0/1 scores), so the import looks most of them up instead of hashing.
_JUDGMENT_DIGESTS: dict[tuple[Any, ...], str] = {}


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
    """Identity of a judgment's content, from stored values (``audit verify`` recomputes it).

    SHA-256 over the ``repr`` of the fields (``domain.hashing.fields_sha256``); strings must be
    plain ``str`` (an enum's repr differs from its value's).
    """
    # A rationale makes a judgment (nearly) unique: hashed, not memoized. Otherwise the memo key
    # must tell apart what ``repr`` tells apart: 1 from 1.0 and True (the type) and 0.0 from
    # -0.0 (equal, so zeros go in as their repr).
    key = None
    digest = None
    if rationale is None:
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
            rationale,
        )
        if key is not None:
            if len(_JUDGMENT_DIGESTS) >= _MEMO_LIMIT:
                _JUDGMENT_DIGESTS.clear()
            _JUDGMENT_DIGESTS[key] = digest
    return digest


_SLICES: dict[tuple[tuple[str, str], ...], str] = {}


def slices_json(slices: Mapping[str, str]) -> str:
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


# ------------------------------------------------------------------------------ preparation

# Enum values through dicts: ``member.value`` and ``str(member)`` are slow in Python 3.11, and
# one shared ``str`` per value also lets pickle send it once per chunk. The dicts also accept
# plain strings (a StrEnum member equals and hashes like its value).
_KIND: dict[str, str] = {k: k.value for k in JudgeKind}
_ORDER: dict[str, str] = {o: o.value for o in Order}
_VERDICT: dict[str, str] = {v: v.value for v in Verdict}
_REFUSAL: dict[str, str] = {r: r.value for r in RefusalClass}
_ROLE: dict[str, str] = {r: r.value for r in Role}
_EXPECTED: dict[str, str] = {b: b.value for b in ExpectedBehavior}
_PANEL: dict[str, str] = {p: p.value for p in Panel}
_A, _B = Slot.A, Slot.B


def judgment_values(index: int, j: JudgmentRecord) -> PreparedJudgment:
    """A judgment as stored (apart from ids), with its content digest; ``index``: its item's."""
    kind = _KIND[j.kind]
    verdict = None if j.verdict is None else _VERDICT[j.verdict]
    p = j.probability_b
    scores, refusal = j.scores, j.refusal
    score_a = score_b = refusal_a = refusal_b = None
    if scores:
        score_a, score_b = scores.get(_A), scores.get(_B)
    if refusal:
        ra, rb = refusal.get(_A), refusal.get(_B)
        refusal_a = None if ra is None else _REFUSAL[ra]
        refusal_b = None if rb is None else _REFUSAL[rb]
    rationale = j.rationale
    return (
        index,
        j.judge,
        kind,
        _ORDER[j.order],
        verdict,
        p,
        score_a,
        score_b,
        refusal_a,
        refusal_b,
        rationale,
        judgment_fields_digest(kind, verdict, p, score_a, score_b, refusal_a, refusal_b, rationale),
    )


def label_values(item_key: str, label: LabelRecord) -> PreparedLabel:
    """An imported label's stored values and content hash (its identity across re-imports)."""
    refusal = label.refusal or {}
    shown_left = label.shown_left
    screen_choice = (
        None if shown_left is None else screen_choice_for(label.choice, shown_left).value
    )
    left_slot = None if shown_left is None else shown_left.value
    refusal_a = refusal[_A].value if _A in refusal else None
    refusal_b = refusal[_B].value if _B in refusal else None
    # Without a time of its own, the label's identity must not depend on when it was imported,
    # or every re-import would add it again: it is hashed with no time, stored with the import's.
    labeled_at = None if label.labeled_at is None else to_iso(label.labeled_at)
    digest = label_event_sha256(
        {
            "kind": "label",
            "item": item_key,
            "entry_id": None,
            "reviewer": label.reviewer,
            "provenance": "import",
            "screen_choice": screen_choice,
            "left_slot": left_slot,
            "choice": label.choice.value,
            "refusal_a": refusal_a,
            "refusal_b": refusal_b,
            "tags": None,
            "note": label.note,
            "flagged": False,
            "dwell_ms": label.dwell_ms,
            "queue_reason": None,
            "inclusion_prob": None,
            "labeled_at": labeled_at,
            "retracts_id": None,
        }
    )
    return (
        label.reviewer,
        digest,
        labeled_at,
        screen_choice,
        left_slot,
        label.choice.value,
        refusal_a,
        refusal_b,
        label.dwell_ms,
        label.note,
    )


def reasons_pattern(judgments: Sequence[JudgmentRecord], low_margin: float) -> Pattern:
    """What decides the item's disagreement reasons (``low_margin``: the low-confidence rule's
    distance from 0.5, given by the caller because the rule belongs to ``queueing``)."""
    return tuple(
        [
            (
                j.judge,
                _ORDER[j.order],
                _VERDICT[j.verdict],
                None if j.probability_b is None else abs(j.probability_b - 0.5) >= low_margin,
            )
            for j in judgments
            if j.verdict is not None
        ]
    )


class BatchBuilder:
    """Collects prepared items into a :class:`Batch` and numbers their disagreement patterns.

    Pattern ids only grow; when too many are known, the table is cleared at a chunk boundary and
    the next chunk says so (``reset_patterns``), so both sides stay bounded.
    """

    pattern_limit = 100_000

    def __init__(self, low_margin: float) -> None:
        self._low_margin = low_margin
        self._pattern_ids: dict[Pattern, int] = {}
        self._next_pattern = 0
        self._fresh: list[tuple[int, Pattern]] = []
        self._reset = False
        # One str object per judge and model name: pickle sends each once per chunk.
        self._names: dict[str, str] = {}
        self._file_keys: set[str] | None = set()  # None: past _MEMO_LIMIT keys, no longer kept
        self._start()

    def _start(self) -> None:
        self._items: list[PreparedItem] = []
        self._judgments: list[PreparedJudgment] = []
        self._labels: list[tuple[int, PreparedLabel]] = []
        self._repeated_slots = False

    def __len__(self) -> int:
        return len(self._items)

    def add(self, record: ItemRecord) -> None:
        """Prepare one item (and its judgments and labels) into the batch."""
        index = len(self._items)
        key = record.item_id
        responses = record.responses
        a, b = responses[_A], responses[_B]
        messages = record.messages
        if messages is None:
            pairs = None
            messages_json = None
        else:
            pairs = tuple([(_ROLE[m.role], m.content) for m in messages])
            messages_json = canonical_json([list(pair) for pair in pairs])
        digest = item_fields_digest(record.prompt, pairs, a.model, a.text, b.model, b.text)
        judgments = record.judgments
        pattern = reasons_pattern(judgments, self._low_margin)
        pattern_id = self._pattern_ids.get(pattern)
        if pattern_id is None:
            pattern_id = self._next_pattern
            self._next_pattern += 1
            self._pattern_ids[pattern] = pattern_id
            self._fresh.append((pattern_id, pattern))
        expected, panel, metadata = record.expected_behavior, record.panel, record.metadata
        self._items.append(
            (
                key,
                record.line,
                digest,
                record.prompt,
                messages_json,
                slices_json(record.slices),
                None if expected is None else _EXPECTED[expected],
                record.subject_id,
                None if panel is None else _PANEL[panel],
                canonical_json(dict(metadata)) if metadata else None,
                pattern_id,
                a.model,
                a.text,
                b.model,
                b.text,
            )
        )
        if judgments:
            self._judgments.extend([judgment_values(index, j) for j in judgments])
            if len(judgments) > 1 and len({(j.judge, j.order) for j in judgments}) < len(judgments):
                self._repeated_slots = True
        if record.labels:
            self._labels.extend([(index, label_values(key, label)) for label in record.labels])

    def take(self) -> Batch:
        """The batch so far; the builder starts a new one."""
        names = self._names
        items = tuple(zip(*self._items, strict=True)) or ((),) * _ITEM_FIELDS
        judgments = tuple(zip(*self._judgments, strict=True)) or ((),) * _JUDGMENT_FIELDS
        if self._items:  # one str object per name: pickle then sends each name once
            models_a, models_b = items[11], items[13]
            items = (
                *items[:11],
                tuple(map(names.setdefault, models_a, models_a)),
                items[12],
                tuple(map(names.setdefault, models_b, models_b)),
                items[14],
            )
        first_kind: dict[str, str] = {}
        mixed_kinds = False
        if self._judgments:
            judges = tuple(map(names.setdefault, judgments[1], judgments[1]))
            judgments = (judgments[0], judges, *judgments[2:])
            pairs = dict.fromkeys(zip(judges, judgments[2], strict=True))  # in order of first use
            for judge, kind in pairs:
                first_kind.setdefault(judge, kind)
            mixed_kinds = len(first_kind) < len(pairs)
        file_keys = self._file_keys
        seen_before = file_keys is None or not file_keys.isdisjoint(items[0])
        if file_keys is not None:
            file_keys.update(items[0])
            if len(file_keys) > _MEMO_LIMIT:
                self._file_keys = None
        batch = Batch(
            items,
            judgments,
            tuple(first_kind.items()),
            mixed_kinds,
            self._repeated_slots,
            self._labels,
            seen_before,
        )
        self._start()
        if len(names) > _MEMO_LIMIT:
            names.clear()
        return batch

    def take_patterns(self) -> tuple[list[tuple[int, Pattern]], bool]:
        """The patterns numbered since the last call, and whether earlier ids were dropped."""
        fresh, reset = self._fresh, self._reset
        self._fresh = []
        self._reset = False
        if len(self._pattern_ids) >= self.pattern_limit:
            self._pattern_ids.clear()
            self._reset = True
        return fresh, reset


def prepared_chunks(
    reader: RecordReader,
    *,
    skip_bad: bool,
    low_margin: float,
    batch_records: int = BATCH_RECORDS,
) -> Iterator[Chunk]:
    """Read ``reader`` to the end as :class:`Chunk` s: one per batch of ``batch_records`` items,
    a last one, and in between some without items (progress through invalid records, and
    rejects text bounded in memory).

    Without ``skip_bad``, items stop being sent after the first invalid record (the import will
    fail; the rest is read only to count and list the problems).
    """
    builder = BatchBuilder(low_margin)
    add = builder.add
    file_name = reader.file_name
    records = rejected = skipped = problems_total = since_chunk = 0
    problems: list[Problem] = []
    warnings: list[str] = []
    rejects: list[str] = []
    rejects_bytes = 0
    listed_problems = listed_warnings = 0
    failed = False  # an invalid record without skip_bad: no more items

    def chunk(batch: Batch | None, last: bool) -> Chunk:
        patterns, reset = builder.take_patterns()
        return Chunk(
            reader.bytes_read,
            records,
            rejected,
            skipped,
            problems_total,
            problems,
            warnings,
            rejects,
            batch,
            patterns,
            reset,
            last,
        )

    for entry in reader:
        since_chunk += 1
        if isinstance(entry, ItemRecord):
            records += 1
            if not failed:
                add(entry)
        elif isinstance(entry, Rejected):
            records += 1
            rejected += 1
            problems_total += len(entry.problems)
            if skip_bad:
                line = _reject_line(entry)
                rejects.append(line)
                rejects_bytes += len(line)
            else:
                room = max(0, MAX_PROBLEMS - listed_problems)
                if room:
                    listed = entry.problems[:room]
                    problems.extend(listed)
                    listed_problems += len(listed)
                failed = True
                builder.take()  # the items read so far will not be stored
        elif isinstance(entry, Skipped):
            skipped += 1
            if listed_warnings < MAX_LISTED:
                warnings.append(f"{file_name}:{entry.line}: {entry.field}: {entry.message}")
                listed_warnings += 1
        if len(builder) >= batch_records:
            yield chunk(builder.take(), False)
        elif since_chunk >= batch_records or rejects_bytes >= _REJECTS_BYTES:
            yield chunk(None, False)
        else:
            continue
        records = rejected = skipped = problems_total = since_chunk = rejects_bytes = 0
        problems, warnings, rejects = [], [], []
    yield chunk(builder.take(), True)


def _reject_line(entry: Rejected) -> str:
    """The rejects file's line for one invalid record."""
    return (
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
