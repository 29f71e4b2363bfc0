"""The public face of the io importers: formats, options, and opening a reader for a file.

A reader turns one input file into a stream of ``ItemRecord`` (valid items with their judgments and
imported labels), ``Rejected`` (invalid records with every problem as ``file:line: field:
message``) and ``Skipped`` (records the format itself says to skip). It never reads the whole file.
Storing, duplicates, conflicts, progress and the rejects file belong to the import service.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reviewdesk.domain.errors import UserError
from reviewdesk.io.detect import detect_format
from reviewdesk.io.importers.alpaca_eval import AlpacaEvalReader
from reviewdesk.io.importers.arena import ArenaReader
from reviewdesk.io.importers.mt_bench import MtBenchReader
from reviewdesk.io.importers.native import NativeReader
from reviewdesk.io.reader import Format, ReadOptions, ReadResult, RecordReader, Rejected

DEFAULT_OPTIONS = ReadOptions()

_READERS: dict[Format, Callable[[Path, ReadOptions], RecordReader]] = {
    Format.NATIVE: NativeReader,
    Format.ALPACA_EVAL: AlpacaEvalReader,
    Format.ARENA: ArenaReader,
    Format.MT_BENCH: MtBenchReader,
}


def open_reader(
    path: Path, fmt: Format | str = Format.AUTO, options: ReadOptions = DEFAULT_OPTIONS
) -> RecordReader:
    """Open ``path`` for reading in format ``fmt`` (``auto`` detects it from the first record).

    Raises ``UserError`` for an unknown format, options that do not apply to the format, missing
    side files, or a file that cannot be opened. Close the reader (or use it in ``with``).
    """
    try:
        fmt = Format(fmt)
    except ValueError:
        names = ", ".join(f.value for f in Format)
        raise UserError(f"unknown format {fmt!r}; use one of {names}") from None
    path = Path(path)
    if fmt is Format.AUTO:
        fmt = detect_format(path)
    if options.as_labels and fmt is not Format.ARENA:
        raise UserError(f"{path}: --as-labels applies only to --format arena, not {fmt.value}")
    if (options.questions or options.answers) and fmt is not Format.MT_BENCH:
        raise UserError(
            f"{path}: --questions and --answers apply only to --format mt_bench, not {fmt.value}"
        )
    return _READERS[fmt](path, options)


__all__ = [
    "Format",
    "ReadOptions",
    "ReadResult",
    "RecordReader",
    "Rejected",
    "detect_format",
    "open_reader",
]
