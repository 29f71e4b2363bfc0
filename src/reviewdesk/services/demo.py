"""The demo project: the incident-bot sample, built once into the user's data folder."""

from __future__ import annotations

from pathlib import Path

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.paths import demo_dir
from reviewdesk.services.samples import SampleManifest, build_sample_project, sample_folder

DEMO_SAMPLE = "incident-bot-release"


def demo_project_path() -> Path:
    return demo_dir() / f"{DEMO_SAMPLE}.reviewdesk"


def build_demo_project(*, reset: bool = False) -> Path:
    """Build the demo project unless it exists (``reset`` rebuilds it); return its path."""
    path = demo_project_path()
    if path.exists() and not reset:
        return path
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    manifest = SampleManifest.load(sample_folder(DEMO_SAMPLE))
    run_to_completion(build_sample_project(manifest, path)).close()
    return path
