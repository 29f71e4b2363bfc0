"""Finding and loading the sample projects that ship with reviewdesk.

A sample folder holds a ``project.json`` manifest (init settings and the files to import, in
order), so the demo, the tests and the installer's smoke test all build samples the same way.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.services.importing import ImportOptions, import_file
from reviewdesk.services.project import Project, create_project
from reviewdesk.services.queue import build_queue

MANIFEST = "project.json"


def samples_root() -> Path:
    """The folder holding the sample projects.

    In a wheel or frozen build they are package data (``reviewdesk/samples``); in a source
    checkout they are the repository's ``sample_projects/``. ``REVIEWDESK_SAMPLES`` overrides both.
    """
    override = os.environ.get("REVIEWDESK_SAMPLES")
    if override:
        return Path(override)
    packaged = resources.files("reviewdesk") / "samples"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(str(resources.files("reviewdesk"))).parents[1] / "sample_projects"
    if checkout.is_dir():
        return checkout
    raise UserError("the sample projects are not installed with this copy of reviewdesk")


@dataclass(frozen=True)
class SampleImport:
    file: str
    format: str = "native"
    judge: str | None = None


@dataclass(frozen=True)
class SampleManifest:
    name: str
    folder: Path
    candidate: str | None
    baseline: str | None
    seed: int
    imports: tuple[SampleImport, ...]
    audit_rate: float
    overlap: int

    @classmethod
    def load(cls, folder: Path) -> SampleManifest:
        path = folder / MANIFEST
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: cannot read the sample manifest ({exc})") from exc
        return cls(
            name=data["name"],
            folder=folder,
            candidate=data.get("candidate"),
            baseline=data.get("baseline"),
            seed=int(data["seed"]),
            imports=tuple(SampleImport(**entry) for entry in data["imports"]),
            audit_rate=float(data.get("audit_rate", 0.1)),
            overlap=int(data.get("overlap", 2)),
        )


def sample_folder(name: str) -> Path:
    folder = samples_root() / name
    if not (folder / MANIFEST).is_file():
        raise UserError(f"no sample project named {name!r} in {samples_root()}")
    return folder


def build_sample_project(
    manifest: SampleManifest, target: Path, cancel: CancelToken | None = None
) -> Job[Project]:
    """Create ``target`` from a sample: init, import every file, build the queue."""
    project = create_project(
        target, candidate=manifest.candidate, baseline=manifest.baseline, seed=manifest.seed
    )
    try:
        total = len(manifest.imports) + 1
        for n, entry in enumerate(manifest.imports):
            yield Progress(n, total, f"Importing {entry.file}")
            job = import_file(
                project,
                manifest.folder / entry.file,
                entry.format,
                ImportOptions(judge=entry.judge),
                cancel=cancel,
            )
            for _ in job:
                pass
        yield Progress(total - 1, total, "Building the queue")
        build_queue(project, audit_rate=manifest.audit_rate, overlap=manifest.overlap)
        yield Progress(total, total, "Done")
    except BaseException:
        project.close()
        target.unlink(missing_ok=True)
        raise
    return project
