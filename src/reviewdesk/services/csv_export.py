"""CSV exports of labels and items (SPEC §7), safe to open in a spreadsheet.

Cells come from untrusted text (reviewer notes, slice values, model names from imported files),
and a spreadsheet executes a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula —
an injection that can exfiltrate data or run commands (OWASP "CSV Injection"). Every *string*
cell starting with one of those, or with a tab or carriage return (OWASP's list), or with their
full-width forms (which some spreadsheets fold to ASCII), gets a leading ``'``. Numbers are
written as numbers: ``-1.5`` stays a number, while the string ``"-1+1"`` is neutralized.

Encoding: UTF-8 with a byte-order mark and CRLF line ends (RFC 4180). Excel opens a BOM-less
UTF-8 CSV in the legacy ANSI code page and garbles every non-ASCII character; with the BOM it reads
UTF-8. pandas (``read_csv``, default ``utf-8``) and Python's ``csv`` with ``utf-8-sig`` skip the
BOM, so both audiences read the same file unchanged.

``metrics.csv`` (the flattened gate-inputs records) is to be added here once the gate-inputs
service exists; see :data:`FILES`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.queueing.disagreement import mask_to_reasons
from reviewdesk.services.export_files import AtomicFileSet, HashingWriter
from reviewdesk.services.project import Project
from reviewdesk.storage import export_queries as q
from reviewdesk.storage import repositories as repo

EXPORT_KIND = "csv"
LABELS_FILE = "labels.csv"
ITEMS_FILE = "items.csv"
FILES = (LABELS_FILE, ITEMS_FILE)
CHUNK_ITEMS = 2000
BOM = "\ufeff"

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection),
#: plus their full-width forms.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def neutralize(value: object) -> object:
    """A cell value safe for spreadsheets: formula-like strings get a leading ``'``.

    ``None`` is an empty cell, booleans are ``true``/``false``, numbers stay numbers.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text


def write_rows(
    sink: HashingWriter, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """Header plus rows, every cell neutralized (the header too: slice names come from data)."""
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow([neutralize(h) for h in header])
    for row in rows:
        writer.writerow([neutralize(cell) for cell in row])
        sink.rows += 1


LABEL_COLUMNS = (
    "event_id",
    "item",
    "reviewer",
    "provenance",
    "kind",
    "screen_choice",
    "left_slot",
    "choice",
    "refusal_a",
    "refusal_b",
    "tags",
    "dwell_ms",
    "note",
    "flagged",
    "labeled_at",
    "created_at",
    "queue_reason",
    "inclusion_prob",
    "retracts_id",
    "retracted",
)


def _label_rows(events: Iterable[q.LabelEventView]) -> Iterator[tuple[object, ...]]:
    for e in events:
        tags = ";".join(json.loads(e.tags)) if e.tags else None
        yield (
            e.id,
            e.item_key,
            e.reviewer,
            e.provenance,
            e.kind,
            e.screen_choice,
            e.left_slot,
            e.choice,
            e.refusal_a,
            e.refusal_b,
            tags,
            e.dwell_ms,
            e.note,
            e.flagged,
            e.labeled_at,
            e.created_at,
            e.queue_reason,
            e.inclusion_prob,
            e.retracts_id,
            e.retracted,
        )


ITEM_COLUMNS = (
    "item",
    "model_a",
    "model_b",
    "expected_behavior",
    "panel",
    "disagreement_reasons",
    "queue_reason",
    "inclusion_prob",
    "labels_needed",
    "label_count",
    "erased",
)


@dataclass(frozen=True)
class CsvExport:
    directory: Path
    files: dict[str, str]  # file name → SHA-256
    rows: dict[str, int]
    export_id: int
    changes: Changes = field(default=Changes(exports=True))

    def summary(self) -> str:
        counts = ", ".join(f"{name} ({n} rows)" for name, n in self.rows.items())
        return f"wrote {counts} to {self.directory}"

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "files": self.files,
            "rows": self.rows,
            "export_id": self.export_id,
        }


def export_csv(
    project: Project,
    directory: Path,
    *,
    cancel: CancelToken | None = None,
    actor: str = "lead",
) -> Job[CsvExport]:
    """Write ``labels.csv`` and ``items.csv`` into ``directory`` (atomically, recorded).

    The labels file carries every label event (retractions and skips included, with a
    ``retracted`` flag), so the log can be audited in a spreadsheet as it is.
    """
    now = project.clock.now()
    files = AtomicFileSet(directory)
    item_ids: list[int] = []
    try:
        with project.store.read() as uow:
            session = uow.session
            total = q.count_label_events(session)
            yield Progress(0, total, "Writing labels.csv")
            labels = files.open(LABELS_FILE)
            labels.write(BOM)
            write_rows(labels, LABEL_COLUMNS, _label_rows(q.iter_label_events(session)))
            if cancel is not None:
                cancel.check()
            item_ids = q.item_ids(session)
            yield Progress(0, len(item_ids), "Writing items.csv")
            items = files.open(ITEMS_FILE)
            items.write(BOM)
            slice_keys = q.distinct_slice_keys(session)
            header = [*ITEM_COLUMNS, *(f"slice:{key}" for key in slice_keys)]
            write_rows(items, header, [])
            writer = csv.writer(items, lineterminator="\r\n")
            for start in range(0, len(item_ids), CHUNK_ITEMS):
                chunk = item_ids[start : start + CHUNK_ITEMS]
                found = q.items_for_export(session, chunk)
                entries = q.queue_entries_for(session, chunk)
                for item_id in chunk:
                    writer.writerow(
                        [neutralize(c) for c in _item_row(found[item_id], entries, slice_keys)]
                    )
                    items.rows += 1
                if cancel is not None:
                    cancel.check()
                yield Progress(start + len(chunk), len(item_ids), "Writing items.csv")
        written = {name: files.finish(name) for name in FILES}
        hashes = {name: w.sha256 for name, w in written.items()}
        with project.store.write() as uow:
            export_id = repo.record_export(
                uow.session,
                EXPORT_KIND,
                str(directory.resolve()),
                {"files": list(FILES)},
                hashes,
                item_ids,
                now,
                actor=actor,
            )
        # The files take their final names only once the record is committed: should the
        # commit fail (disk full, read-only project), no unrecorded export is left behind.
        files.commit()
    except BaseException:
        files.discard()
        raise
    return CsvExport(directory, hashes, {n: w.rows for n, w in written.items()}, export_id)


def _item_row(
    item: q.ExportItem, entries: dict[int, q.EntryView], slice_keys: Sequence[str]
) -> list[object]:
    entry = entries.get(item.id)
    reasons = ";".join(sorted(r.value for r in mask_to_reasons(item.reasons)))
    return [
        item.key,
        item.model_a,
        item.model_b,
        item.expected_behavior,
        item.panel,
        reasons or None,
        None if entry is None else entry.reason,
        None if entry is None else entry.inclusion_prob,
        None if entry is None else entry.labels_needed,
        None if entry is None else entry.label_count,
        item.erased,
        *(item.slices.get(key) for key in slice_keys),
    ]
