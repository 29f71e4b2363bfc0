"""Consistent copies of a project file through SQLite's online backup API."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path


def backup_path_for(path: Path, moment: datetime, label: str) -> Path:
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix}.bak")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.{label}-{stamp}-{n}{path.suffix}.bak")
    return candidate


def backup_file(path: Path, target: Path) -> Path:
    """Copy ``path`` to ``target`` (WAL content included) without stopping other readers.

    The copy is written under a temporary name, flushed to disk and only then renamed to
    ``target``: a backup that exists is complete, even if the process is killed while copying
    (a leftover ``*.partial`` file is never mistaken for a backup and is replaced next time).
    """
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    with partial.open("rb+") as copy:
        os.fsync(copy.fileno())
    os.replace(partial, target)
    _fsync_folder(target.parent)
    return target


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); folders cannot be opened this way on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
