"""Helpers shared by the io importer tests (a plain module: test files import it by name)."""

from __future__ import annotations

from pathlib import Path

from reviewdesk.domain.model import ItemRecord, Skipped
from reviewdesk.io import Format, ReadOptions, Rejected, open_reader

DATA = Path(__file__).resolve().parent.parent / "data" / "import"
MT_BENCH = DATA / "mt_bench"
MT_BENCH_OPTIONS = ReadOptions(
    questions=MT_BENCH / "question.jsonl", answers=MT_BENCH / "model_answer"
)

Result = ItemRecord | Rejected | Skipped


def read_all(
    path: Path, fmt: Format | str = Format.AUTO, options: ReadOptions | None = None
) -> list[Result]:
    """Every result of reading ``path``; also checks that progress reached the end of the file."""
    with open_reader(path, fmt, options or ReadOptions()) as reader:
        results = list(reader)
        assert reader.bytes_read == reader.total_bytes == path.stat().st_size
    return results


def items(results: list[Result]) -> list[ItemRecord]:
    """The results, which must all be items."""
    assert all(isinstance(r, ItemRecord) for r in results), results
    return [r for r in results if isinstance(r, ItemRecord)]
