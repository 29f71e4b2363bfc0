"""Runs the command line against a project on a small file system that fills up.

Started by ``test_small_disk.py`` inside its own mount namespace (``unshare --mount``), so the
tmpfs mounted here is private to this process and its children and disappears with them. Usage:
``small_disk_child.py WORK SOURCE_PROJECT IMPORT_FILE SERVED``, where SERVED is a JSON list of
(reviewer, token) pairs served before; prints one JSON report on stdout.
Exits 77 when the tmpfs cannot be mounted (the test then skips).

Commands run through ``reviewdesk.cli.main.main`` in this process (each opens and closes the
project like a separate ``reviewdesk`` run would), and the refused command once more through a
real ``python -m reviewdesk`` process.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from reviewdesk.cli.main import main as cli_main

DISK_SIZE = "1m"
LEAVE_FREE = 160 * 1024  # bytes left after filling: room for the WAL of a few labels
SUBJECT = "cust-1"
NOTE = "x" * 9000  # each label needs overflow pages (a note may have 10,000 characters)
CHUNK = 64 * 1024


def cli(*args: str | Path) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main([str(a) for a in args])
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


def fill(filler: Path, leave_free: int = LEAVE_FREE) -> None:
    """Write until the file system is full, then give ``leave_free`` bytes back."""
    with filler.open("wb", buffering=0) as handle:
        block = b"\0" * CHUNK
        with contextlib.suppress(OSError):  # ENOSPC: full (the last write may be partial)
            while True:
                handle.write(block)
        size = handle.seek(0, io.SEEK_END)
        handle.truncate(max(0, size - leave_free))


def facts(project: Path) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(project)) as con:
        answered = dict(con.execute("SELECT token, answered_event_id FROM serving").fetchall())
        return {
            "answered": answered,
            "label_events": con.execute("SELECT count(*) FROM label_event").fetchone()[0],
            "items": con.execute("SELECT count(*) FROM item").fetchone()[0],
            "integrity": con.execute("PRAGMA integrity_check").fetchone()[0],
        }


def run(work: Path, source: Path, more: Path, served: Path) -> dict[str, Any]:
    disk = work / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        print(mounted.stderr, file=sys.stderr)
        sys.exit(77)
    project = disk / "p.reviewdesk"
    shutil.copyfile(source, project)
    filler = disk / "filler"
    fill(filler)
    report: dict[str, Any] = {"project": str(project), "acknowledged": [], "failure": None}

    for reviewer, token in json.loads(served.read_text(encoding="utf-8")):
        args = ["answer", project, "--reviewer", reviewer, "--token", token, "--choice", "left"]
        answered = cli(*args, "--note", NOTE)
        if answered["code"] == 0:
            report["acknowledged"].append(token)
            continue
        report["failure"] = {"args": [*map(str, args), "--note", NOTE], **answered}
        break
    if report["failure"] is None:
        return report  # the disk never filled: the test says so

    # Still full: an import is refused whole; reading works; an export elsewhere is all or none.
    report["import"] = cli("import", project, more)
    report["status"] = cli("status", project, "--json")
    report["export"] = cli("export", "csv", project, "-o", work / "export")
    report["export_files"] = sorted(p.name for p in (work / "export").glob("*"))
    real = subprocess.run(
        [sys.executable, "-m", "reviewdesk", *report["failure"]["args"]],
        capture_output=True,
        text=True,
        check=False,
    )
    report["real"] = {"code": real.returncode, "out": real.stdout, "err": real.stderr}
    report["full"] = facts(project)

    # Space again: the refused command now works, and nothing was lost.
    filler.unlink()
    report["retry"] = cli(*report["failure"]["args"])
    report["verify"] = cli("audit", "verify", project)
    report["after"] = facts(project)

    # Erasing a subject on a nearly full disk: the erasure fits, the purge (VACUUM writes a copy
    # of the whole file to the WAL) does not; it says so, and running it again finishes the job.
    fill(filler, 96 * 1024 + project.stat().st_size // 2)  # the -shm, the erasure, half a copy
    report["erase_full"] = cli("erase", project, "--subject", SUBJECT)
    filler.unlink()
    report["erase_again"] = cli("erase", project, "--subject", SUBJECT, "--json")
    report["erase_verify"] = cli("audit", "verify", project)
    return report


if __name__ == "__main__":
    result = run(*(Path(arg) for arg in sys.argv[1:5]))
    sys.stdout.write(json.dumps(result))
