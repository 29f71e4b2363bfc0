"""Where reviewdesk keeps its own files: one place, overridable by ``REVIEWDESK_HOME``.

Tests point ``REVIEWDESK_HOME`` at a temporary folder so they never touch real user data.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "reviewdesk"


def home() -> Path:
    """The data folder: ``$REVIEWDESK_HOME`` or the platform's user data directory."""
    override = os.environ.get("REVIEWDESK_HOME")
    if override:
        path = Path(override)
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    path = home() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file() -> Path:
    return log_dir() / "reviewdesk.log"


def demo_dir() -> Path:
    path = home() / "demo"
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_file() -> Path:
    return home() / "config.json"
