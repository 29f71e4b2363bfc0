"""Worker-side steps for opening and creating projects (run on the database worker only).

They only combine service calls; the main window runs them through ``Ops`` and receives plain
results on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewdesk.services.project import Project, create_project, open_project
from reviewdesk.services.review import ensure_reviewer, list_reviewer_profiles


@dataclass(frozen=True)
class OpenedProject:
    project: Project
    reveal_allowed: bool
    profiles: list[str]
    migrated_backup: Path | None

    @property
    def name(self) -> str:
        return self.project.name

    @property
    def path(self) -> Path:
        return self.project.path


def open_for_session(path: Path) -> OpenedProject:
    project = open_project(path)
    try:
        settings = project.settings()
        profiles = list_reviewer_profiles(project)
    except BaseException:
        project.close()
        raise
    return OpenedProject(project, settings.reveal_after_submit, profiles, project.migrated_backup)


def create_for_session(path: Path, candidate: str | None, baseline: str | None) -> OpenedProject:
    project = create_project(path, candidate=candidate, baseline=baseline)
    project.close()
    return open_for_session(path)


def build_demo() -> Path:
    # Imported when used: the demo pulls in the importers, which opening a project for review
    # never needs (a faster start).
    from reviewdesk.services.demo import build_demo_project

    return build_demo_project()


def start_reviewer(project: Project, reviewer: str) -> tuple[str, bool]:
    """Create the profile if needed; returns the name and whether reveal is allowed."""
    ensure_reviewer(project, reviewer)
    return reviewer.strip(), project.settings().reveal_after_submit


def close_project(project: Project) -> None:
    project.close()
