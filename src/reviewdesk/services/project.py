"""Creating, opening and describing projects.

``Project`` is the handle the CLI and GUI hold: it hides the storage engine behind services, so
neither front end ever sees SQLAlchemy.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewdesk import __version__
from reviewdesk.domain.clock import Clock, SystemClock, to_iso
from reviewdesk.domain.errors import UserError
from reviewdesk.queueing.policy import DEFAULT_AUDIT_RATE, DEFAULT_OVERLAP
from reviewdesk.storage import repositories as repo
from reviewdesk.storage.store import ProjectStore, create_store, open_store

PROJECT_SUFFIX = ".reviewdesk"


@dataclass(frozen=True)
class ProjectSettings:
    """The project's configuration as stored in the file."""

    project_id: str
    seed: int
    candidate: str | None = None
    baseline: str | None = None
    overlap: int = DEFAULT_OVERLAP
    audit_rate: float = DEFAULT_AUDIT_RATE
    reveal_after_submit: bool = False
    min_n_items: int = 30
    slice_weights: dict[str, float] = field(default_factory=dict)
    #: The llm judge whose scores the population estimate rectifies (STATISTICS.md §3.4);
    #: ``None``: the llm judge with the most items judged in both orders.
    designated_judge: str | None = None

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> ProjectSettings:
        known = {k: v for k, v in stored.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_stored(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Project:
    """An open project file."""

    def __init__(self, store: ProjectStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def name(self) -> str:
        return self.store.path.stem

    @property
    def migrated_backup(self) -> Path | None:
        return self.store.migrated_backup

    def settings(self) -> ProjectSettings:
        with self.store.read() as uow:
            return ProjectSettings.from_stored(repo.get_settings(uow.session))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_project(
    path: Path,
    *,
    candidate: str | None = None,
    baseline: str | None = None,
    seed: int | None = None,
    clock: Clock | None = None,
) -> Project:
    """Create a new, empty project file; the seed is random unless given (and then stored)."""
    clock = clock or SystemClock()
    if seed is not None and not 0 <= seed < 2**63:
        raise UserError(f"--seed must be between 0 and {2**63 - 1}")
    if candidate is not None and candidate == baseline:
        raise UserError("--candidate and --baseline must name different models")
    settings = ProjectSettings(
        project_id=str(uuid.uuid4()),
        seed=secrets.randbits(63) if seed is None else seed,
        candidate=candidate,
        baseline=baseline,
    )
    stored = settings.to_stored() | {"created_at": to_iso(clock.now()), "created_by": __version__}
    return Project(create_store(path, stored, clock), clock)


def open_project(path: Path, *, clock: Clock | None = None) -> Project:
    clock = clock or SystemClock()
    return Project(open_store(path, clock), clock)


def update_settings(project: Project, actor: str = "lead", **changes: Any) -> ProjectSettings:
    """Change settings (validated) and log the change in the audit chain."""
    current = project.settings()
    unknown = set(changes) - set(ProjectSettings.__dataclass_fields__) - {"project_id", "seed"}
    if unknown:
        raise UserError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    updated = ProjectSettings.from_stored(current.to_stored() | changes)
    if updated.overlap < 1:
        raise UserError("overlap must be at least 1")
    if not 0.0 <= updated.audit_rate <= 1.0:
        raise UserError("audit rate must be between 0 and 1")
    if updated.candidate is not None and updated.candidate == updated.baseline:
        raise UserError("candidate and baseline must be different models")
    with project.store.write() as uow:
        repo.put_settings(uow.session, changes)
        repo.append_audit(uow.session, "settings", actor, {"changes": changes}, project.clock.now())
    return updated
