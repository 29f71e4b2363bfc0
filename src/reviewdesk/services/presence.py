"""Which other reviewdesk windows have a project open, so a second window can say so.

Two windows (two reviewers, or a reviewer and the lead) may work on one project at once: every
label is its own transaction in a WAL-mode file, so nothing is lost. Nothing here ever stops
anyone from opening a project; it only lets a window tell its user that others are there.

Every window that has a project open keeps a small presence record next to the file, in
``<project>-presence/<random>.json`` (mode, reviewer, host, process id), and holds an exclusive
OS lock on that record for as long as it has the project open. The operating system drops the
lock when the process ends in any way (quit, crash, ``kill -9``, power cut), so a record whose
lock can be taken belongs to a window that is gone: it is deleted when found, never reported.
There is nothing to expire and no stale claim to clean up by hand.

Locks are ``flock`` on POSIX: held per open file, so two windows of one process see each other
as well. On Windows (not built or tested yet: README) a byte past the record's text is locked
with ``msvcrt.locking``. Any OS error (a read-only folder, say) leaves presence unknown: no
record is kept and nobody is reported, which is never an error for the user.

The records hold no model, judge or item names; the GUI decides what of them a reviewer sees
(another reviewer's name is never shown in the review window).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("reviewdesk.presence")

FOLDER_SUFFIX = "-presence"
RECORD_SUFFIX = ".json"
#: A record being written (POSIX): renamed to ``.json`` once locked and complete.
PENDING_SUFFIX = ".pending"
#: Records have a fixed size, so an update rewrites one in a single write.
RECORD_BYTES = 4096
#: Windows: the locked byte, far past the record's text (locked bytes cannot be read there).
LOCK_OFFSET = 1 << 20
#: A pending file this old whose lock is free was left by a crash between create and rename.
PENDING_STALE_S = 60.0
WINDOWS = sys.platform == "win32"


@dataclass(frozen=True)
class PresenceRecord:
    """One window that has the project open."""

    mode: str  # "review", "lead", or "unknown" for a record that could not be read
    reviewer: str | None
    host: str
    pid: int

    def encode(self) -> bytes:
        data = json.dumps(asdict(self)).encode("utf-8")
        if len(data) > RECORD_BYTES:  # only a pathological host name; keep what matters
            data = json.dumps(asdict(self) | {"host": "?"}).encode("utf-8")[:RECORD_BYTES]
        return data.ljust(RECORD_BYTES)

    @classmethod
    def decode(cls, data: bytes) -> PresenceRecord:
        try:
            raw = json.loads(data.decode("utf-8"))
            reviewer = raw.get("reviewer")
            return cls(
                mode=str(raw["mode"]),
                reviewer=None if reviewer is None else str(reviewer),
                host=str(raw.get("host", "")),
                pid=int(raw.get("pid", 0)),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls(mode="unknown", reviewer=None, host="", pid=0)

    @property
    def reviewing(self) -> bool:
        return self.mode == "review" and self.reviewer is not None


def this_host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return ""


def presence_folder(project: Path) -> Path:
    return project.with_name(project.name + FOLDER_SUFFIX)


class PresenceClaim:
    """This window's record, locked while the project is open. ``release`` when closing it."""

    def __init__(self, file: Path, fd: int, record: PresenceRecord) -> None:
        self.file = file
        self.record = record
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def update(self, mode: str, reviewer: str | None) -> None:
        """Say what the window does now (switching mode or reviewer keeps the same record)."""
        if self._fd is None:
            return
        record = PresenceRecord(mode, reviewer, self.record.host, self.record.pid)
        try:
            _write_at_start(self._fd, record.encode())
        except OSError:
            log.info("could not update the presence record %s", self.file, exc_info=True)
            return
        self.record = record

    def release(self) -> None:
        """Delete the record and drop the lock; the folder goes with the last record."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if WINDOWS:  # an open file cannot be deleted there: close (unlock) first
            os.close(fd)
            _unlink_quietly(self.file)
        else:  # delete while locked, so nobody can mistake the record for a stale one
            _unlink_quietly(self.file)
            os.close(fd)
        with contextlib.suppress(OSError):
            self.file.parent.rmdir()  # fails while other records are in it, as it should


def claim_presence(project: Path, mode: str, reviewer: str | None = None) -> PresenceClaim | None:
    """Keep a presence record for this window; None when the folder cannot hold one."""
    record = PresenceRecord(mode, reviewer, this_host(), os.getpid())
    folder = presence_folder(project)
    for _attempt in range(5):
        try:
            folder.mkdir(exist_ok=True)
            return _claim(folder, record)
        except FileNotFoundError:
            continue  # the folder was removed with the last other record just now: again
        except OSError:
            log.info("no presence record for %s", project, exc_info=True)
            return None
    return None


def others_present(project: Path, own: PresenceClaim | None = None) -> list[PresenceRecord]:
    """The other windows that have ``project`` open now (records of ended ones are deleted)."""
    folder = presence_folder(project)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        file = folder / name
        if own is not None and file == own.file:
            continue
        try:
            if name.endswith(RECORD_SUFFIX):
                record = _probe(file)
                if record is not None:
                    found.append(record)
            elif name.endswith(PENDING_SUFFIX):
                _sweep_pending(file)
        except OSError:
            log.info("could not read the presence record %s", file, exc_info=True)
    if own is None and not found:
        with contextlib.suppress(OSError):
            folder.rmdir()
    return found


def announce(
    project: Path, claim: PresenceClaim | None, mode: str, reviewer: str | None
) -> tuple[PresenceClaim | None, list[PresenceRecord]]:
    """Claim (or update) this window's record, then list the others: one call per mode change."""
    if claim is None or not claim.held:
        claim = claim_presence(project, mode, reviewer)
    else:
        claim.update(mode, reviewer)
    return claim, others_present(project, claim)


class WindowPresence:
    """One window's presence on one project, across its mode and reviewer changes.

    Meant to be used from one thread at a time (the GUI's database worker, in order), so a
    ``release`` queued after an ``announce`` always finds the claim that announce made.
    """

    def __init__(self, project: Path) -> None:
        self.project = project
        self.claim: PresenceClaim | None = None

    def announce(self, mode: str, reviewer: str | None) -> list[PresenceRecord]:
        """Claim or update this window's record; returns the other windows' records."""
        self.claim, others = announce(self.project, self.claim, mode, reviewer)
        return others

    def others(self) -> list[PresenceRecord]:
        """The other windows' records now (the periodic re-check of an open window)."""
        if self.claim is None or not self.claim.held:
            return []
        return others_present(self.project, self.claim)

    def release(self) -> None:
        claim, self.claim = self.claim, None
        if claim is not None:
            claim.release()


# ---------------------------------------------------------------------- OS specifics


def _claim(folder: Path, record: PresenceRecord) -> PresenceClaim:
    stem = secrets.token_hex(8)
    final = folder / f"{stem}{RECORD_SUFFIX}"
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    if WINDOWS:
        fd = os.open(final, flags, 0o644)
        try:
            _lock_retrying(fd)
            _write_at_start(fd, record.encode())
        except BaseException:
            os.close(fd)
            _unlink_quietly(final)
            raise
        return PresenceClaim(final, fd, record)
    pending = folder / f"{stem}{PENDING_SUFFIX}"
    fd = os.open(pending, flags, 0o644)
    try:
        if not _try_lock(fd):
            raise OSError(f"could not lock a new file: {pending}")
        _write_at_start(fd, record.encode())
        os.rename(pending, final)  # complete and locked before anyone reads it as a record
    except BaseException:
        _unlink_quietly(pending)
        os.close(fd)
        raise
    return PresenceClaim(final, fd, record)


def _probe(file: Path) -> PresenceRecord | None:
    """The record of a live window, or None (gone: deleted, or being written on Windows)."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    try:
        if _try_lock(fd):
            if WINDOWS:
                _unlock(fd)
                data = _read_at_start(fd)
                os.close(fd)
                fd = -1
                if not data.strip():
                    return None  # being created right now: not a window yet
            _unlink_quietly(file)  # nobody holds it: that window has ended
            return None
        return PresenceRecord.decode(_read_at_start(fd))
    finally:
        if fd >= 0:
            os.close(fd)


def _sweep_pending(file: Path) -> None:
    try:
        age = time.time() - file.stat().st_mtime
    except FileNotFoundError:
        return
    if age < PENDING_STALE_S:
        return
    fd = os.open(file, os.O_RDONLY)
    try:
        if _try_lock(fd):
            _unlink_quietly(file)
    finally:
        os.close(fd)


def _unlink_quietly(file: Path) -> None:
    with contextlib.suppress(FileNotFoundError, PermissionError):
        file.unlink()


def _read_at_start(fd: int) -> bytes:
    if WINDOWS:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, RECORD_BYTES)
    return os.pread(fd, RECORD_BYTES, 0)


def _write_at_start(fd: int, data: bytes) -> None:
    if WINDOWS:
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)
    else:
        os.pwrite(fd, data, 0)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def _lock_retrying(fd: int) -> None:
        for _ in range(100):  # a reader may hold it for a moment to check it
            if _try_lock(fd):
                return
            time.sleep(0.01)
        raise OSError("could not lock the presence record")

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock_retrying(fd: int) -> None:
        if not _try_lock(fd):
            raise OSError("could not lock the presence record")
