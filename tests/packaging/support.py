"""Helpers of the packaging tests: ``installer/payload.py`` loaded by path, a built wheel."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "installer"


def _load(name: str) -> ModuleType:
    """``installer/<name>.py`` (not a package: the spec imports them from their own folder)."""
    spec = importlib.util.spec_from_file_location(
        f"reviewdesk_installer_{name}", INSTALLER / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@cache
def payload() -> ModuleType:
    return _load("payload")


@cache
def smoke_test() -> ModuleType:
    return _load("smoke_test")


def build_wheel(directory: Path) -> Path:
    """Build the wheel of the working tree in process (hatchling from the test extra: no
    build isolation, so no network)."""
    try:
        from hatchling.builders.wheel import WheelBuilder
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        raise AssertionError(
            "hatchling is missing: `make test` installs it with the test extra"
        ) from exc
    (path,) = WheelBuilder(str(REPO)).build(directory=str(directory), versions=["standard"])
    return Path(path)
