"""Making files and folders really read-only for a test, also when the tests run as root.

Root ignores permission bits, so as root the immutable attribute (``chattr +i``) is used: not
even root can write, rename or delete an immutable file, or create a file in an immutable
folder. Without ``chattr`` (or the capability to set it) the test is skipped. Everyone else gets
plain permission bits. The attribute is always removed again, or pytest could not clean up.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _chattr(flag: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True, check=False)


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make ``paths`` (files or folders) unwritable for the duration of the block."""
    done: list[tuple[Path, int | None]] = []
    try:
        for path in paths:
            if os.geteuid() != 0:
                before = path.stat().st_mode
                path.chmod(stat.S_IMODE(before) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
                done.append((path, before))
                continue
            if shutil.which("chattr") is None:
                pytest.skip("running as root, and without chattr nothing is read-only for root")
            result = _chattr("+i", path)
            if result.returncode != 0:
                pytest.skip(f"running as root, and chattr +i is not allowed here: {result.stderr}")
            done.append((path, None))
        yield
    finally:
        for path, mode in reversed(done):
            if mode is None:
                _chattr("-i", path)
            else:
                path.chmod(stat.S_IMODE(mode))
