"""GUI tests run offscreen, on real project files, with Qt warnings as failures."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.ui.support import _no_dangling_workers, _qt_environment, mark_qt_items, window

__all__ = ["_no_dangling_workers", "_qt_environment", "window"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_qt_items(items)
