"""Projects for the dashboard, export, audit and adjudication GUI tests (and their screenshots).

The labeler-drift sample takes seconds to import and its monitor refresh is the slowest part of
these tests, so the sample is built once per session (with the monitor's bootstrap lowered to
B = 200 in its stored settings: every window still computes, only the intervals are coarser)
and each test works on a copy. Copies share the project id and content, so the monitor's
content-keyed window cache and the dashboards' snapshot cache stay warm across tests.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.importing import import_file
from reviewdesk.services.monitor import SETTINGS_KEY, MonitorSettings
from reviewdesk.services.project import create_project
from reviewdesk.services.queue import build_queue
from reviewdesk.services.samples import SampleManifest, build_sample_project, sample_folder
from reviewdesk.storage import repositories as repo
from tests.conftest import native_item, write_jsonl

#: The monitor's bootstrap in the test copy of labeler-drift (the shipped default is 1000).
TEST_MONITOR_B = 200
#: Bootstrap of the dashboards' own intervals and gate-input records in tests.
TEST_DASHBOARD_B = 100


@pytest.fixture(scope="session")
def drift_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The labeler-drift sample, built once per session (never modified; copy it)."""
    folder = tmp_path_factory.mktemp("drift-template")
    target = folder / "labeler-drift.reviewdesk"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVIEWDESK_HOME", str(folder / "home"))
        manifest = SampleManifest.load(sample_folder("labeler-drift"))
        project = run_to_completion(build_sample_project(manifest, target))
        try:
            with project.store.write() as uow:
                stored = MonitorSettings(n_boot=TEST_MONITOR_B).to_stored()
                repo.put_settings(uow.session, {SETTINGS_KEY: stored})
        finally:
            project.close()
    with sqlite3.connect(target) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return target


@pytest.fixture
def drift_project(drift_template: Path, tmp_path: Path) -> Path:
    """A private copy of the labeler-drift project."""
    target = tmp_path / "labeler-drift.reviewdesk"
    shutil.copyfile(drift_template, target)
    return target


def labelled_items(n: int = 24) -> list[dict[str, Any]]:
    """Contested items with two agreeing imported human labels each, some with subjects."""
    records = []
    for i in range(n):
        choice = "A" if i % 3 else "B"
        records.append(
            native_item(
                f"exp-{i:03d}",
                judgments=[
                    {"judge": "judge-a", "kind": "llm", "verdict": "A", "order": "AB"},
                    {"judge": "judge-b", "kind": "llm", "verdict": "B", "order": "AB"},
                ],
                labels=[
                    {
                        "reviewer": reviewer,
                        "choice": choice,
                        "shown_left": "A" if (i + k) % 2 else "B",
                        "labeled_at": f"2026-11-{1 + i % 20:02d}T10:{k:02d}:00Z",
                        "refusal": {"A": "full_compliance", "B": "full_compliance"},
                        "dwell_ms": 9000 + 100 * i,
                    }
                    for k, reviewer in enumerate(("rev-north", "rev-south"))
                ],
                slices={"category": "billing" if i % 2 else "incident", "language": "en"},
                expected_behavior="answer",
                subject_id=f"cust-{i % 4}",
            )
        )
    return records


def conflicting_items(n: int = 4) -> list[dict[str, Any]]:
    """Items whose two imported human labels conflict (A vs B): adjudication material."""
    return [
        native_item(
            f"conf-{i}",
            prompt=f"Conflict prompt {i}: restart the pager service?",
            text_a=f"Answer one for conflict {i}.",
            text_b=f"Answer two for conflict {i}, longer.",
            judgments=[{"judge": "judge-a", "kind": "llm", "verdict": "A", "order": "AB"}],
            labels=[
                {
                    "reviewer": "rev-alpha",
                    "choice": "A",
                    "shown_left": "A",
                    "labeled_at": "2026-11-02T09:00:00Z",
                },
                {
                    "reviewer": "rev-beta",
                    "choice": "B",
                    "shown_left": "B",
                    "labeled_at": "2026-11-02T09:05:00Z",
                },
            ],
        )
        for i in range(n)
    ]


CANDIDATE, BASELINE = "sft-2026-11", "base-2026-10"


def build_with_roles(folder: Path, records: list[dict[str, Any]], name: str) -> Path:
    """Like ``support.build_project``, with candidate and baseline set (gate inputs need them)."""
    path = folder / f"{name}.reviewdesk"
    source = write_jsonl(folder / f"{name}-input.jsonl", records)
    with create_project(path, candidate=CANDIDATE, baseline=BASELINE, seed=7) as project:
        run_to_completion(import_file(project, source))
        build_queue(project, audit_rate=0.0, overlap=2)
    return path


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    """A small project with agreeing human labels and subjects (exports, audit, erasure)."""
    return build_with_roles(tmp_path, labelled_items(), "small-release")


def audit_rows(path: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT id, kind FROM audit_record ORDER BY id").fetchall()
    finally:
        con.close()
