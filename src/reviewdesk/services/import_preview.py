"""A look at the first records of a file before importing it (the import dialog's preview).

Reads only the first few records through the same readers the import uses, so what the lead
sees (detected format, fields, early validation problems) is what the import will do. The
project is not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.model import ItemRecord, Skipped, Slot
from reviewdesk.io.formats import Format, ReadOptions, Rejected, open_reader

PREVIEW_RECORDS = 20
EXCERPT_CHARS = 120


@dataclass(frozen=True)
class PreviewRecord:
    line: int
    item_id: str
    prompt: str
    model_a: str
    model_b: str
    judges: str
    labels: int


@dataclass(frozen=True)
class ImportPreview:
    path: str
    format: str
    total_bytes: int
    records: list[PreviewRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    more: bool = False  # the file has records beyond the preview


def _excerpt(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= EXCERPT_CHARS else one_line[: EXCERPT_CHARS - 1] + "…"


def _prompt_of(record: ItemRecord) -> str:
    if record.prompt is not None:
        return _excerpt(record.prompt)
    last_user = [m.content for m in record.messages or () if m.role.value == "user"]
    return _excerpt(last_user[-1] if last_user else "")


def preview_import(
    path: Path,
    fmt: Format | str = Format.AUTO,
    options: ReadOptions | None = None,
    limit: int = PREVIEW_RECORDS,
) -> ImportPreview:
    """The format and first ``limit`` records of ``path``, with the problems found in them."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    with open_reader(path, fmt, options or ReadOptions()) as reader:
        preview = ImportPreview(str(path), reader.format.value, reader.total_bytes)
        for seen, entry in enumerate(reader):
            if seen >= limit:
                return ImportPreview(**{**preview.__dict__, "more": True})
            if isinstance(entry, ItemRecord):
                judges = sorted({j.judge for j in entry.judgments})
                preview.records.append(
                    PreviewRecord(
                        line=entry.line,
                        item_id=entry.item_id,
                        prompt=_prompt_of(entry),
                        model_a=entry.responses[Slot.A].model,
                        model_b=entry.responses[Slot.B].model,
                        judges=", ".join(judges),
                        labels=len(entry.labels),
                    )
                )
            elif isinstance(entry, Rejected):
                preview.problems.extend(str(p) for p in entry.problems)
            elif isinstance(entry, Skipped):
                preview.warnings.append(f"{path}:{entry.line}: {entry.field}: {entry.message}")
    return preview
