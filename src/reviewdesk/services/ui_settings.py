"""The GUI's per-user preferences (key map, theme), stored as JSON in the data folder.

Per-user, not per-project: a reviewer's remapped keys follow them from project to project, while
project settings (overlap, reveal-after-submit, ...) live in the project file. Writes go through a
temporary file and ``os.replace`` so a crash never leaves half a settings file behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.keymap import keymap_overrides, merged_keymap
from reviewdesk.services.paths import home

SETTINGS_FILE = "ui-settings.json"
THEMES = ("system", "light", "dark")


def settings_path() -> Path:
    return home() / SETTINGS_FILE


@dataclass(frozen=True)
class UiSettings:
    """What the GUI remembers between runs."""

    keymap_overrides: dict[str, list[str]] = field(default_factory=dict)
    theme: str = "system"

    def keymap(self) -> dict[str, tuple[str, ...]]:
        """The live key map: defaults plus the user's remapped actions."""
        return merged_keymap(self.keymap_overrides)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{path}: cannot read the settings ({exc}); delete it to start over"
        ) from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: the settings file is not a JSON object; delete it to start over")
    return data


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON through a temporary file so readers never see a partial file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load_ui_settings() -> UiSettings:
    """The saved preferences; a broken key map is a ``UserError`` naming the file."""
    path = settings_path()
    data = _read_json(path)
    overrides = data.get("keymap") or {}
    if not isinstance(overrides, dict) or not all(isinstance(v, list) for v in overrides.values()):
        raise UserError(f"{path}: 'keymap' must map action ids to lists of keys")
    try:
        merged_keymap(overrides)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from exc
    theme = data.get("theme", "system")
    return UiSettings(
        keymap_overrides={k: [str(x) for x in v] for k, v in overrides.items()},
        theme=theme if theme in THEMES else "system",
    )


def save_keymap(keymap: Mapping[str, Iterable[str]]) -> UiSettings:
    """Validate and store a remapped key map (only the differences from the defaults)."""
    merged = merged_keymap({k: tuple(v) for k, v in keymap.items()})
    data = _read_json(settings_path())
    data["keymap"] = keymap_overrides(merged)
    write_json_atomic(settings_path(), data)
    return load_ui_settings()


def save_theme(theme: str) -> UiSettings:
    if theme not in THEMES:
        raise UserError(f"unknown theme {theme!r}; use one of {', '.join(THEMES)}")
    data = _read_json(settings_path())
    data["theme"] = theme
    write_json_atomic(settings_path(), data)
    return load_ui_settings()
