"""Writing export files atomically, hashing them as they are written.

An export is a set of files that vouch for each other (the manifest holds the others' SHA-256),
so a half-written set must never appear under the final names: each file is written to a
temporary name in the target folder, flushed to disk, and renamed only when every file of the set
is complete (``os.replace`` is atomic within one file system). The digest is computed from the
bytes as they are written, so it is exactly what lands on disk.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from reviewdesk.domain.errors import UserError


@dataclass(frozen=True)
class WrittenFile:
    name: str
    sha256: str
    bytes: int
    rows: int


def write_failed(path: Path, exc: OSError) -> UserError:
    """The message for an export file that could not be written (a full disk, most likely)."""
    why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return UserError(f"{path}: cannot write the export ({why}); nothing was exported")


class HashingWriter:
    """A text sink (UTF-8) that hashes and counts what it writes; ``csv.writer`` accepts it."""

    def __init__(self, name: str, handle: BinaryIO, final: Path | None = None) -> None:
        self.name = name
        #: Where the file will land (named in error messages instead of the temporary name).
        self.final = final or Path(name)
        self._handle = handle
        self._digest = hashlib.sha256()
        self.bytes = 0
        self.rows = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self._digest.update(data)
        try:
            self._handle.write(data)
        except OSError as exc:
            raise write_failed(self.final, exc) from exc
        self.bytes += len(data)
        return len(text)

    def write_json_line(self, value: Any) -> None:
        """One JSON Lines record: compact, UTF-8 kept, no NaN (they are not JSON)."""
        self.write(
            json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
        )
        self.rows += 1

    def finish(self) -> WrittenFile:
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        except OSError as exc:
            raise write_failed(self.final, exc) from exc
        return WrittenFile(self.name, self._digest.hexdigest(), self.bytes, self.rows)


class AtomicFileSet:
    """Files written under temporary names and renamed together by :meth:`commit`."""

    def __init__(self, directory: Path) -> None:
        if directory.exists() and not directory.is_dir():
            raise UserError(f"{directory}: exists and is not a folder")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{directory}: cannot create the folder ({exc.strerror})") from exc
        self.directory = directory
        self._tag = secrets.token_hex(4)
        self._writers: dict[str, HashingWriter] = {}
        self._done: dict[str, WrittenFile] = {}

    def _temp(self, name: str) -> Path:
        return self.directory / f".{name}.{self._tag}.partial"

    def open(self, name: str) -> HashingWriter:
        try:
            handle = self._temp(name).open("wb")
        except OSError as exc:
            raise UserError(f"{self.directory}: cannot write there ({exc.strerror})") from exc
        writer = HashingWriter(name, handle, self.directory / name)
        self._writers[name] = writer
        return writer

    def finish(self, name: str) -> WrittenFile:
        """Close one file (its digest is final) without renaming it yet."""
        done = self._writers.pop(name).finish()
        self._done[name] = done
        return done

    def commit(self) -> dict[str, WrittenFile]:
        """Finish what is still open and give every file its final name."""
        for name in list(self._writers):
            self.finish(name)
        for name in self._done:
            try:
                os.replace(self._temp(name), self.directory / name)
            except OSError as exc:
                raise UserError(
                    f"{self.directory / name}: the export was recorded, but its file could not "
                    f"be put in place ({exc.strerror or exc}); export again"
                ) from exc
        return dict(self._done)

    def discard(self) -> None:
        """Drop every temporary (after an error or a cancel); final names are untouched."""
        for writer in self._writers.values():
            with contextlib.suppress(OSError):  # a full disk again, flushing what is dropped
                writer._handle.close()
        for name in [*self._writers, *self._done]:
            self._temp(name).unlink(missing_ok=True)
        self._writers.clear()
        self._done.clear()
