"""Recently opened projects, for the start page.

A small JSON list in the data folder, newest first, capped at ``MAX_RECENT``. Entries whose file
has disappeared are kept (a network drive may come back) but reported as missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reviewdesk.services.paths import home
from reviewdesk.services.ui_settings import write_json_atomic

RECENT_FILE = "recent-projects.json"
MAX_RECENT = 12


@dataclass(frozen=True)
class RecentProject:
    path: Path
    name: str
    exists: bool


def _recent_path() -> Path:
    return home() / RECENT_FILE


def _load_paths() -> list[str]:
    path = _recent_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # a lost list of shortcuts is not worth an error dialog
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        return []
    return [p for p in data["projects"] if isinstance(p, str)]


def list_recent_projects() -> list[RecentProject]:
    out = []
    for text in _load_paths():
        p = Path(text)
        out.append(RecentProject(path=p, name=p.stem, exists=p.is_file()))
    return out


def remember_project(path: Path) -> None:
    """Put ``path`` at the top of the list."""
    resolved = str(Path(path).resolve())
    paths = [resolved, *(p for p in _load_paths() if p != resolved)][:MAX_RECENT]
    write_json_atomic(_recent_path(), {"projects": paths})


def forget_project(path: Path) -> None:
    resolved = str(Path(path).resolve())
    paths = [p for p in _load_paths() if p != resolved and p != str(path)]
    write_json_atomic(_recent_path(), {"projects": paths})
