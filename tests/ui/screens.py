"""Taking screenshots of the real windows (shared by the smoke suite and the offscreen test)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from reviewdesk.ui import theme
from reviewdesk.ui.main_window import MainWindow
from tests.ui.support import open_for_review


def distinct_colors(image: QImage, grid: int = 48) -> int:
    small = image.scaled(grid, grid, Qt.AspectRatioMode.IgnoreAspectRatio)
    return len({small.pixel(x, y) for x in range(small.width()) for y in range(small.height())})


def save(widget: QWidget, folder: Path, name: str) -> Path:
    """Render ``widget`` (after pending layout and paint) to ``folder/name.png``."""
    QApplication.processEvents()
    image = widget.grab().toImage()
    path = folder / f"{name}.png"
    assert image.save(str(path)), path
    assert distinct_colors(image) >= 8, f"{name} looks blank"
    return path


def set_theme(name: str) -> None:
    theme.manager().apply(name)
    QApplication.processEvents()


def review_at(
    qtbot: Any, window: MainWindow, project: Path, size: tuple[int, int], reviewer: str = "rev-01"
) -> Any:
    window.resize(*size)
    controller = open_for_review(qtbot, window, project, reviewer)
    qtbot.waitUntil(lambda: window.review_view.pages.currentIndex() == 0)
    qtbot.wait(50)
    return controller


def dialog_shot(
    qtbot: Any,
    open_dialog: Callable[[], QWidget | None],
    folder: Path,
    name: str,
    ready: Callable[[QWidget], bool] = lambda _d: True,
    prepare: Callable[[QWidget], None] = lambda _d: None,
) -> Path:
    dialog = open_dialog()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: ready(dialog), timeout=10_000)
    prepare(dialog)
    qtbot.wait(50)
    path = save(dialog, folder, name)
    dialog.close()
    return path
