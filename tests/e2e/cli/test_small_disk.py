"""A real file system that fills up under the command line: clear messages, nothing lost.

The project sits on a 1 MiB tmpfs, mounted in a private mount namespace (``unshare --mount``, so
nothing outside the test ever sees it) and filled with a filler file until only a few labels'
worth of space is left. Reviewers answer pairs served to them before, until the disk is full; the
refused command, an import and an export are checked while it is full; then the filler goes and
the refused command is run again. Last, a subject is erased on a disk with room for the erasure
but not for the purge that follows it. ``small_disk_child.py`` does the work inside the namespace.
Skipped where mount namespaces or tmpfs mounts are not allowed (the simulated full disk of
``tests/services/test_disk_full.py`` runs everywhere).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import create_project
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import ensure_reviewer, serve_next
from tests.conftest import native_item, write_jsonl

CHILD = Path(__file__).with_name("small_disk_child.py")
ITEMS = 30
REVIEWERS = 30

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("unshare") is None,
    reason="needs Linux mount namespaces (unshare)",
)


def llm(judge: str, verdict: str) -> dict[str, Any]:
    return {"judge": judge, "kind": "llm", "verdict": verdict}


def make_source(folder: Path) -> tuple[Path, Path, Path]:
    """A project whose 30 contested items each want 3 labels, with a pair served to each of
    30 reviewers (so every command on the full disk is an ``answer``), and a file to import."""
    path = folder / "source.reviewdesk"
    records = [
        native_item(
            f"split-{n}", judgments=[llm("j1", "A"), llm("j2", "B")], subject_id=f"cust-{n % 3}"
        )
        for n in range(ITEMS)
    ]
    served = []
    with create_project(path, seed=11, clock=FixedClock()) as project:
        run_to_completion(import_file(project, write_jsonl(folder / "first.jsonl", records)))
        build_queue(project, audit_rate=0.0, overlap=3)
        for n in range(REVIEWERS):
            reviewer = f"rev-{n:02d}"
            ensure_reviewer(project, reviewer)
            served.append((reviewer, serve_next(project, reviewer).token))
    tokens = folder / "served.json"
    tokens.write_text(json.dumps(served), encoding="utf-8")
    more = [native_item(f"more-{n}", text_a="a" * 3000, text_b="b" * 3000) for n in range(50)]
    return path, write_jsonl(folder / "more.jsonl", more), tokens


def assert_disk_full(result: dict[str, Any], project: str) -> None:
    assert result["code"] == 1, result
    err = result["err"]
    assert err.count("\n") == 1, err
    assert err.startswith(f"reviewdesk: {project}: the disk is full; the last change was not saved")
    assert "Traceback" not in err


def test_labeling_on_a_disk_that_fills_up(tmp_path: Path) -> None:
    source, more, served = make_source(tmp_path)
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare.append("--map-root-user")  # a user namespace lets an ordinary user mount tmpfs
    work = tmp_path / "work"
    work.mkdir()
    child = subprocess.run(
        [*unshare, sys.executable, str(CHILD), str(work), str(source), str(more), str(served)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if child.returncode == 77 or "unshare failed" in child.stderr:
        pytest.skip(f"cannot mount a private tmpfs here: {child.stderr.strip()}")
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    project = report["project"]
    failure = report["failure"]
    assert failure is not None, "the disk never filled"
    acknowledged: list[str] = report["acknowledged"]
    assert acknowledged, "the disk was full before the first label"

    # The refused command: exit 1, one line naming the file, no traceback; in a real process too.
    assert_disk_full(failure, project)
    assert_disk_full(report["real"], project)
    # Every label acknowledged before the disk filled is in the file; the refused one is not.
    refused = failure["args"][failure["args"].index("--token") + 1]
    full = report["full"]
    assert all(full["answered"][token] is not None for token in acknowledged)
    assert full["answered"][refused] is None
    assert full["label_events"] == len(acknowledged)
    assert full["integrity"] == "ok"
    # An import on the full disk is refused whole, and the project can still be read.
    assert_disk_full(report["import"], project)
    assert full["items"] == ITEMS
    assert report["status"]["code"] == 0
    assert json.loads(report["status"]["out"])["labels"]["in_app"] == len(acknowledged)
    # An export written elsewhere either is recorded and complete, or leaves nothing behind.
    if report["export"]["code"] == 0:
        assert report["export_files"] == ["items.csv", "labels.csv"]
    else:
        assert_disk_full(report["export"], project)
        assert report["export_files"] == []

    # Space again: the refused command goes through, nothing is missing, the chain verifies.
    assert report["retry"]["code"] == 0, report["retry"]
    after = report["after"]
    assert after["answered"][refused] is not None
    assert after["label_events"] == len(acknowledged) + 1
    assert all(after["answered"][token] == full["answered"][token] for token in acknowledged)
    assert report["verify"]["code"] == 0, report["verify"]
    assert after["integrity"] == "ok"

    # Erasure on a nearly full disk: the texts are erased, the purge does not fit. The message
    # says exactly that (or, had the erasure itself not fitted, that nothing was saved); run
    # again with space, the same command finishes the purge.
    erase = report["erase_full"]
    assert erase["code"] == 1, erase
    assert erase["err"].count("\n") == 1, erase
    assert "Traceback" not in erase["err"]
    purge_failed = f"reviewdesk: {project}: the subject's texts were erased (audit record "
    if erase["err"].startswith(purge_failed):
        assert "the disk is full, so old copies of them are still" in erase["err"]
    else:
        assert_disk_full(erase, project)
    again = report["erase_again"]
    assert again["code"] == 0, again
    assert json.loads(again["out"])["file_purged"] is True
    assert report["erase_verify"]["code"] == 0, report["erase_verify"]
