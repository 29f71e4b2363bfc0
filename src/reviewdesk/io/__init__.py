"""Importers (and, in ``exporters/``, exporters) for eval result formats; stdlib and domain only."""

from reviewdesk.io.formats import (
    Format,
    ReadOptions,
    ReadResult,
    RecordReader,
    Rejected,
    detect_format,
    open_reader,
)

__all__ = [
    "Format",
    "ReadOptions",
    "ReadResult",
    "RecordReader",
    "Rejected",
    "detect_format",
    "open_reader",
]
