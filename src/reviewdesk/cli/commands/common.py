"""Helpers shared by subcommands: opening projects and printing JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewdesk.services.project import Project


def project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "project", type=Path, metavar="PROJECT", help="the .reviewdesk project file"
    )


def open_project(path: Path) -> Project:
    from reviewdesk.services.project import open_project as _open

    project = _open(path)
    if project.migrated_backup is not None:
        print(
            f"reviewdesk: upgraded {path} to this version's schema; "
            f"the previous file was backed up to {project.migrated_backup}",
            file=sys.stderr,
        )
    return project


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
