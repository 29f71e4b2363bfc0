"""What every importer shares: the format names, read options, rejects and the reader base class.

Kept apart from :mod:`reviewdesk.io.formats` (which dispatches to the importers) so the importers
can import these without an import cycle. The public names are re-exported from ``formats``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from reviewdesk.domain.errors import Problem, UserError
from reviewdesk.domain.model import ItemRecord, Skipped
from reviewdesk.io.streaming import RawRecord


class Format(StrEnum):
    """The ``--format`` values; ``auto`` detects the format from the first record."""

    AUTO = "auto"
    NATIVE = "native"
    ALPACA_EVAL = "alpaca_eval"
    ARENA = "arena"
    MT_BENCH = "mt_bench"


@dataclass(frozen=True)
class ReadOptions:
    """Options of ``reviewdesk import`` that change how records are read."""

    judge: str | None = None
    """``--judge``: overrides the judge name taken from the file."""
    as_labels: bool = False
    """Arena only: the votes are human labels (``LabelRecord``), not judgments."""
    questions: Path | None = None
    """MT-Bench only: ``question.jsonl`` (question_id, category, turns)."""
    answers: Path | None = None
    """MT-Bench only: a ``model_answer/`` directory of ``<model>.jsonl`` files, or one JSON Lines
    file holding the answers of several models (told apart by ``model_id``)."""


@dataclass(frozen=True)
class Rejected:
    """One invalid input record, with every problem found in it."""

    line: int
    """1-based line where the record starts."""
    problems: tuple[Problem, ...]
    raw: str | None
    """The record's text when it could be cut out (for the rejects file), else None."""


ReadResult = ItemRecord | Rejected | Skipped
"""What a reader yields: a valid item, an invalid record, or a record the format says to skip."""

Errors = list[tuple[str, str]]
"""(field path, message) pairs collected while validating one record."""


class RecordReader:
    """Reads one input file as a stream of :data:`ReadResult`; a context manager and an iterable.

    Subclasses implement :meth:`_records`. ``bytes_read`` follows the file position, so progress
    costs nothing per record; after the last record it equals ``total_bytes``.
    """

    format: Format

    def __init__(self, path: Path, fmt: Format) -> None:
        self.path = path
        self.format = fmt
        self.file_name = str(path)
        self._file: BinaryIO = open_input(path)
        self.total_bytes: int = os.fstat(self._file.fileno()).st_size
        self._bytes_at_close: int | None = None

    @property
    def bytes_read(self) -> int:
        """How far the stream has got, in bytes of the file."""
        if self._bytes_at_close is not None:
            return self._bytes_at_close
        return self._file.tell()

    def __iter__(self) -> Iterator[ReadResult]:
        return self._records()

    def _records(self) -> Iterator[ReadResult]:
        raise NotImplementedError

    def close(self) -> None:
        if self._bytes_at_close is None:
            self._bytes_at_close = self._file.tell()
            self._file.close()

    def __enter__(self) -> RecordReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- helpers for subclasses -------------------------------------------------------------

    def rejected(self, line: int, errors: Errors, raw: str | None) -> Rejected:
        """A ``Rejected`` whose problems all sit on the record's first line."""
        name = self.file_name
        problems = tuple(Problem(name, line, field, message) for field, message in errors)
        return Rejected(line, problems, raw)

    def source_rejected(self, record: RawRecord) -> Rejected:
        """A ``Rejected`` for a record the source could not decode (syntax, encoding, size)."""
        line, _value, text, problem = record
        assert problem is not None
        return Rejected(line, (Problem(self.file_name, *problem),), text)


def open_input(path: Path) -> BinaryIO:
    """Open an input file for binary reading, with errors the user can act on."""
    try:
        return open(path, "rb")  # the caller owns the file and closes it
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
