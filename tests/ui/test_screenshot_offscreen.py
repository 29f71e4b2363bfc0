"""The default suite proves rendering works: the start page and the review window render to
non-blank PNGs offscreen. (``tests/smoke`` takes the full set under a virtual screen.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from reviewdesk.ui.main_window import MainWindow
from tests.ui.screens import distinct_colors, review_at, save, set_theme
from tests.ui.support import build_project, showcase_records


def test_start_page_and_review_window_render(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    start = save(window, tmp_path, "start-page")
    project = build_project(tmp_path, showcase_records(4), name="incident-bot-release")
    review_at(qtbot, window, project, (1280, 800))
    light = save(window, tmp_path, "review-light")
    set_theme("dark")
    dark = save(window, tmp_path, "review-dark")
    images = [QImage(str(p)) for p in (start, light, dark)]
    assert all(img.width() == 1280 and img.height() == 800 for img in images)
    assert all(distinct_colors(img) >= 8 for img in images)
    # The dark theme really is dark: the average of the page is far below the light one.
    assert _mean(images[2]) < _mean(images[1]) - 60


def _mean(image: QImage) -> float:
    small = image.scaled(32, 32)
    values = [small.pixelColor(x, y).lightness() for x in range(32) for y in range(32)]
    return sum(values) / len(values)
