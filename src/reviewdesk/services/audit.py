"""``audit verify``: recompute the audit chain and everything it vouches for (SPEC §7).

Each audit record's hash covers its content hash and its predecessor's hash, so editing,
removing, inserting or reordering a record breaks the chain at (or right after) that record.
The chain in turn vouches for the data:

- an ``import`` record holds running SHA-256 digests, in id order, of the items, judgments and
  imported labels that import added; each of those rows carries a content hash, recomputed here
  from the stored text and values;
- a ``label``/``undo``/``adjudicate`` record holds the content hash of its label event, recomputed
  here from the row;
- an ``export`` record holds the export's files and a digest of the item ids it contained;
- an ``erase`` record (tombstone) lists the erased items with their content hashes, and for each
  blanked judgment rationale or label note the row's hash with that text removed, so erased rows
  are still checked field by field, only without the text that is gone.

Rows nobody vouches for (a label event without its record, an item outside any import) are
reported too: they are what deleting the newest records leaves behind. The chain has no secret,
so someone who rewrites *every* record after a point goes unnoticed; the head hash in the summary
and in each export manifest is the anchor to keep elsewhere (``--anchor`` checks one).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewdesk.domain.errors import AuditVerificationError
from reviewdesk.domain.hashing import LABEL_EVENT_FIELDS, fields_sha256, sha256_hex
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.services.importing import item_fields_digest, judgment_fields_digest
from reviewdesk.services.preference_rules import PROVENANCES
from reviewdesk.services.project import Project
from reviewdesk.storage import audit_queries as aq
from reviewdesk.storage import repositories as repo
from reviewdesk.storage.repositories import DbSession

#: Audit kinds whose payload names one label event by ``event_id`` and ``event_sha256``.
EVENT_KINDS = frozenset(("label", "undo", "adjudicate"))
_EMPTY = hashlib.sha256().hexdigest()
_STEP = 10_000  # rows between progress reports and cancel checks

_FLAGGED = LABEL_EVENT_FIELDS.index("flagged")
_NOTE = LABEL_EVENT_FIELDS.index("note")
_LABELED_AT = LABEL_EVENT_FIELDS.index("labeled_at")
_PROVENANCE = LABEL_EVENT_FIELDS.index("provenance")


@dataclass(frozen=True)
class AuditBreak:
    """The first broken record: where, and what failed."""

    record_id: int | None
    kind: str | None
    created_at: str | None
    problem: str

    def message(self) -> str:
        if self.record_id is None:
            return f"audit chain broken: {self.problem}"
        return (
            f"audit chain broken at record {self.record_id} ({self.kind}, {self.created_at}): "
            f"{self.problem}"
        )


@dataclass(frozen=True)
class AuditReport:
    records: int
    head_sha256: str | None
    kinds: dict[str, int]
    items: int
    judgments: int
    label_events: int
    exports: int
    erased_items: int
    broken: AuditBreak | None = None
    anchors_found: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.broken is None

    def summary(self) -> str:
        if self.broken is not None:
            return self.broken.message()
        return (
            f"audit chain ok: {self.records} records, head {self.head_sha256}; verified "
            f"{self.items} items ({self.erased_items} erased), {self.judgments} judgments, "
            f"{self.label_events} label events and {self.exports} exports"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "head_sha256": self.head_sha256,
            "kinds": self.kinds,
            "items": self.items,
            "judgments": self.judgments,
            "label_events": self.label_events,
            "exports": self.exports,
            "erased_items": self.erased_items,
            "broken": None
            if self.broken is None
            else {
                "record_id": self.broken.record_id,
                "kind": self.broken.kind,
                "created_at": self.broken.created_at,
                "problem": self.broken.problem,
                "message": self.broken.message(),
            },
        }

    def raise_if_broken(self) -> None:
        if self.broken is not None:
            raise AuditVerificationError(self.broken.message())


def label_hash_matches(values: list[Any], expected: str, created_at: str | None) -> bool:
    """Does a label event's hash (fields in ``LABEL_EVENT_FIELDS`` order) equal ``expected``?

    An imported label without a time of its own was hashed with ``labeled_at`` None (so that
    re-imports are recognized) and stored with the import time, which is also its ``created_at``.
    """
    if fields_sha256("label_event/v1", *values) == expected:
        return True
    if values[_PROVENANCE] == "import" and values[_LABELED_AT] == created_at:
        timeless = list(values)
        timeless[_LABELED_AT] = None
        return fields_sha256("label_event/v1", *timeless) == expected
    return False


def label_values(row_fields: Sequence[Any]) -> list[Any]:
    """Stored label-event fields → the values as hashed (``flagged`` is stored as 0/1)."""
    values = list(row_fields)
    if values[_FLAGGED] is not None:
        values[_FLAGGED] = bool(values[_FLAGGED])
    return values


@dataclass
class _Tombstones:
    """What the erasure records allow: erased item hashes and redacted row hashes."""

    items: dict[str, tuple[str, int]] = field(default_factory=dict)  # key → (sha, record)
    judgments: dict[int, tuple[str, str | None, int]] = field(default_factory=dict)
    events: dict[int, tuple[str, str | None, int]] = field(default_factory=dict)

    @classmethod
    def load(cls, payloads: Sequence[tuple[int, str]]) -> _Tombstones:
        t = cls()
        for record_id, payload in payloads:
            try:
                body = json.loads(payload)
                for key, sha in body.get("items", []):
                    t.items[key] = (sha, record_id)
                for row_id, full, redacted in body.get("judgments", []):
                    t.judgments[int(row_id)] = (full, redacted, record_id)
                for row_id, full, redacted in body.get("label_events", []):
                    t.events[int(row_id)] = (full, redacted, record_id)
            except (ValueError, TypeError, AttributeError):
                continue  # the chain walk reports the record itself
        return t


@dataclass
class _Findings:
    """Problems found in the data passes, filed under the audit record that vouches for them."""

    by_import: dict[int, str] = field(default_factory=dict)
    by_record: dict[int, str] = field(default_factory=dict)
    orphans: list[str] = field(default_factory=list)

    def under_import(self, import_id: int, problem: str) -> None:
        self.by_import.setdefault(import_id, problem)

    def under_record(self, record_id: int, problem: str) -> None:
        self.by_record.setdefault(record_id, problem)

    def orphan(self, problem: str) -> None:
        if len(self.orphans) < 10:
            self.orphans.append(problem)


class _Verifier:
    def __init__(self, session: DbSession, cancel: CancelToken | None) -> None:
        self.session = session
        self.cancel = cancel
        self.counts = aq.table_counts(session)
        self.total = sum(self.counts.values())
        self.done = 0
        self.tomb = _Tombstones.load(aq.audit_payloads_of_kind(session, "erase"))
        self.found = _Findings()
        self.item_digests: dict[int, Any] = {}
        self.judgment_digests: dict[int, Any] = {}
        self.label_digests: dict[int, Any] = {}
        self.events: dict[int, str | None] = {}  # in-app event id → hash, None if it fails
        self.erased_keys: set[str] = set()

    def tick(self) -> Progress | None:
        self.done += 1
        if self.done % _STEP:
            return None
        if self.cancel is not None:
            self.cancel.check()
        return Progress(self.done, self.total, "Verifying the audit chain")

    @staticmethod
    def _digest(table: dict[int, Any], import_id: int) -> Any:
        digest = table.get(import_id)
        if digest is None:
            digest = table[import_id] = hashlib.sha256()
        return digest

    def check_items(self) -> Iterator[Progress]:
        for row in aq.iter_item_rows(self.session):
            _, key, prompt, messages, digest, import_id, erased_at, ma, ta, mb, tb = row
            if import_id is None:
                self.found.orphan(f"item {key!r} belongs to no import")
            else:
                self._digest(self.item_digests, import_id).update(f"{key}:{digest}\n".encode())
            if erased_at is not None:
                self.erased_keys.add(key)
                allowed = self.tomb.items.get(key)
                if allowed is None:
                    self.found.orphan(f"item {key!r} is marked erased but no erasure lists it")
                elif allowed[0] != digest:
                    self.found.under_record(
                        allowed[1], f"erased item {key!r} no longer has the content hash listed"
                    )
            elif import_id is not None and not self._item_text_ok(
                prompt, messages, digest, ma, ta, mb, tb
            ):
                self.found.under_import(
                    import_id,
                    f"item {key!r}: its prompt or responses no longer match its content hash",
                )
            if (progress := self.tick()) is not None:
                yield progress

    @staticmethod
    def _item_text_ok(
        prompt: str | None, messages: str | None, digest: str, *responses: str | None
    ) -> bool:
        ma, ta, mb, tb = responses
        if ma is None or ta is None or mb is None or tb is None:
            return False
        try:
            pairs = None if messages is None else tuple((r, c) for r, c in json.loads(messages))
        except (ValueError, TypeError):
            return False
        return item_fields_digest(prompt, pairs, ma, ta, mb, tb) == digest

    def check_judgments(self) -> Iterator[Progress]:
        for row in aq.iter_judgment_rows(self.session):
            judgment_id, item_id, judge_id, order, import_id, digest = row[:6]
            kind, verdict, p_b, score_a, score_b, refusal_a, refusal_b, rationale = row[6:]
            if import_id is None:
                self.found.orphan(f"judgment {judgment_id} belongs to no import")
                continue
            line = f"{judgment_id}:{item_id}:{judge_id}:{order}:{digest}\n"
            self._digest(self.judgment_digests, import_id).update(line.encode())
            expected = digest
            erased = self.tomb.judgments.get(judgment_id)
            if erased is not None and rationale is None:
                full, redacted, record_id = erased
                if full != digest:
                    self.found.under_record(
                        record_id, f"judgment {judgment_id}'s content hash differs from its erasure"
                    )
                if redacted is None:
                    self.found.under_record(
                        record_id, f"judgment {judgment_id} had been altered before it was erased"
                    )
                    continue
                expected = redacted
            computed = judgment_fields_digest(
                kind, verdict, p_b, score_a, score_b, refusal_a, refusal_b, rationale
            )
            if kind is None or computed != expected:
                self.found.under_import(
                    import_id, f"judgment {judgment_id} no longer matches its content hash"
                )
            if (progress := self.tick()) is not None:
                yield progress

    def check_label_events(self) -> Iterator[Progress]:
        for row in aq.iter_label_event_rows(self.session):
            event_id, import_id, digest, created_at = row[:4]
            values = label_values(row[4:])
            ok = label_hash_matches(values, digest, created_at)
            erased = self.tomb.events.get(event_id)
            if erased is not None and values[_NOTE] is None:
                full, redacted, record_id = erased
                if full != digest:
                    self.found.under_record(
                        record_id, f"label event {event_id}'s content hash differs from its erasure"
                    )
                if redacted is None:
                    self.found.under_record(
                        record_id, f"label event {event_id} had been altered before it was erased"
                    )
                ok = ok or (
                    redacted is not None and label_hash_matches(values, redacted, created_at)
                )
            provenance = values[_PROVENANCE]
            if provenance == "import":
                if import_id is None:
                    self.found.orphan(f"imported label event {event_id} belongs to no import")
                else:
                    line = f"{event_id}:{digest}\n".encode()
                    self._digest(self.label_digests, import_id).update(line)
                    if not ok:
                        self.found.under_import(
                            import_id,
                            f"label event {event_id} no longer matches its content hash",
                        )
            elif provenance in PROVENANCES:
                self.events[event_id] = digest if ok else None
            else:
                self.found.orphan(f"label event {event_id} has unknown provenance {provenance!r}")
            if (progress := self.tick()) is not None:
                yield progress

    def walk_chain(self, anchors: Sequence[str]) -> Iterator[Progress | AuditReport]:
        s = self.session
        imports = aq.import_batch_ids(s)
        builds = aq.queue_build_ids(s)
        exports = aq.export_rows(s)
        n_exports = len(exports)
        kinds: Counter[str] = Counter()
        wanted = set(anchors)
        found_anchors: list[str] = []
        prev = repo.GENESIS_SHA256
        last: tuple[int, str, str] | None = None
        broken: AuditBreak | None = None
        records = 0
        for row in aq.iter_audit_rows(s):
            record_id, kind, created, actor, payload, content, prev_sha, record_sha = row
            records += 1
            kinds[kind] += 1
            last = (record_id, kind, created)
            problem = None
            if prev_sha != prev:
                problem = (
                    "its link to the previous record does not match: a record before it was "
                    "removed, inserted, reordered or altered"
                )
            elif repo.audit_content_sha256(kind, created, actor, payload) != content:
                problem = "its content (kind, time, actor or payload) no longer matches its hash"
            elif sha256_hex(prev_sha + content) != record_sha:
                problem = "its record hash does not match its content and predecessor"
            else:
                problem = self._check_payload(record_id, kind, payload, imports, builds, exports)
            if problem is not None:
                broken = AuditBreak(record_id, kind, created, problem)
                break
            if record_sha in wanted:
                found_anchors.append(record_sha)
            prev = record_sha
            if (progress := self.tick()) is not None:
                yield progress
        if broken is None:
            broken = self._leftovers(last, imports, builds, exports, wanted - set(found_anchors))
        yield AuditReport(
            records=records,
            head_sha256=None if last is None else prev,
            kinds=dict(sorted(kinds.items())),
            items=self.counts["item"],
            judgments=self.counts["judgment"],
            label_events=self.counts["label_event"],
            exports=n_exports,
            erased_items=len(self.erased_keys),
            broken=broken,
            anchors_found=tuple(found_anchors),
        )

    def _check_payload(
        self,
        record_id: int,
        kind: str,
        payload: str,
        imports: set[int],
        builds: set[int],
        exports: dict[int, tuple[str, str, str, str]],
    ) -> str | None:
        if record_id in self.found.by_record:
            return self.found.by_record[record_id]
        try:
            body = json.loads(payload)
        except ValueError:
            return "its payload is not valid JSON"
        try:
            if kind == "import":
                return self._check_import(body, imports)
            if kind in EVENT_KINDS:
                return self._check_event(body)
            if kind == "export":
                return self._check_export(body, exports)
            if kind == "queue_build":
                if body["build_id"] not in builds:
                    return f"queue build {body['build_id']} is missing"
                builds.discard(body["build_id"])
        except (KeyError, TypeError, ValueError) as exc:
            return f"its payload lacks what a {kind} record must hold ({exc})"
        return None

    def _check_import(self, body: dict[str, Any], imports: set[int]) -> str | None:
        import_id = body["import_id"]
        if import_id not in imports:
            return f"import batch {import_id} is missing"
        imports.discard(import_id)
        if import_id in self.found.by_import:
            return self.found.by_import[import_id]
        for name, table in (
            ("items", self.item_digests),
            ("judgments", self.judgment_digests),
            ("labels", self.label_digests),
        ):
            digest = table.pop(import_id, None)
            computed = _EMPTY if digest is None else digest.hexdigest()
            if body[f"{name}_sha256"] != computed:
                return (
                    f"the {name} of import {import_id} differ from what it recorded "
                    "(rows added, removed, reordered or their hashes altered)"
                )
        return None

    def _check_event(self, body: dict[str, Any]) -> str | None:
        event_id = body["event_id"]
        if event_id not in self.events:
            return f"label event {event_id} is missing (or claimed by another record)"
        stored = self.events.pop(event_id)
        if stored is None:
            return f"label event {event_id} no longer matches its content hash"
        if stored != body["event_sha256"]:
            return f"label event {event_id} is not the event this record vouches for"
        return None

    def _check_export(
        self, body: dict[str, Any], exports: dict[int, tuple[str, str, str, str]]
    ) -> str | None:
        export_id = body["export_id"]
        row = exports.pop(export_id, None)
        if row is None:
            return f"export {export_id} is missing"
        kind, path, params, files = row
        if (kind, path) != (body["kind"], body["path"]) or json.loads(files) != body["files"]:
            return f"export {export_id}'s kind, path or file hashes were altered"
        if json.loads(params) != body.get("params", json.loads(params)):
            return f"export {export_id}'s parameters were altered"
        ids = aq.export_item_ids(self.session, export_id)
        if repo.export_items_sha256(ids) != body["items_sha256"]:
            return f"the items of export {export_id} were altered"
        return None

    def _leftovers(
        self,
        last: tuple[int, str, str] | None,
        imports: set[int],
        builds: set[int],
        exports: dict[int, tuple[str, str, str, str]],
        missing_anchors: set[str],
    ) -> AuditBreak | None:
        problems = list(self.found.orphans)
        problems += [f"import batch {i} has no audit record" for i in sorted(imports)]
        unclaimed = sorted(set(self.item_digests) | set(self.judgment_digests))
        problems += [f"rows of import {i} have no import record" for i in unclaimed]
        problems += [f"label event {i} has no audit record" for i in sorted(self.events)[:5]]
        problems += [f"export {i} has no audit record" for i in sorted(exports)]
        problems += [f"queue build {i} has no audit record" for i in sorted(builds)]
        problems += [
            f"anchor {a} is not in the chain: records were rewritten"
            for a in sorted(missing_anchors)
        ]
        if last is None:
            return AuditBreak(None, None, None, "the project has no audit records")
        if not problems:
            return None
        record_id, kind, created = last
        return AuditBreak(
            record_id,
            kind,
            created,
            f"{problems[0]} (records after this one may have been removed)",
        )


def verify_audit(
    project: Project, *, anchors: Sequence[str] = (), cancel: CancelToken | None = None
) -> Job[AuditReport]:
    """Recompute the chain and the data it covers; returns the report (never raises on a break).

    ``anchors`` are record hashes kept elsewhere (a manifest's ``audit_head_sha256``, a release
    note); each must still be in the chain. Streams every table once, so memory stays bounded by
    the number of in-app label events (one hash each).
    """
    with project.store.read() as uow:
        verifier = _Verifier(uow.session, cancel)
        yield Progress(0, verifier.total, "Verifying the audit chain")
        yield from verifier.check_items()
        yield from verifier.check_judgments()
        yield from verifier.check_label_events()
        for step in verifier.walk_chain(anchors):
            if isinstance(step, AuditReport):
                return step
            yield step
    raise AssertionError("unreachable")  # pragma: no cover
