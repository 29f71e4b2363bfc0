"""Helpers for running the real command line in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*args: str | Path, check: int | None = 0, stdin: str | None = None) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "reviewdesk", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    if check is not None:
        assert proc.returncode == check, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return result


@pytest.fixture
def cli() -> Any:
    return run_cli
