"""Screenshots of every main screen, light and dark, at the sizes reviewers use.

Saved to ``screenshots/`` (git-ignored; ``REVIEWDESK_SCREENSHOTS`` overrides) for CI artifacts
and for people to look at; each must be non-blank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTabWidget

from reviewdesk.services.recent import remember_project
from reviewdesk.ui.main_window import MainWindow, Mode
from tests.conftest import write_jsonl
from tests.ui.screens import dialog_shot, review_at, save, set_theme
from tests.ui.support import build_project, label_rows, send_key, showcase_records

pytestmark = pytest.mark.smoke


@pytest.fixture
def showcase(tmp_path: Path) -> Path:
    return build_project(tmp_path, showcase_records(12), name="incident-bot-release")


def test_platform_is_reported(screenshot_dir: Path) -> None:
    print(f"\nscreenshots in {screenshot_dir} (platform {QGuiApplication.platformName()})")


def test_start_page(
    qtbot: Any, window: MainWindow, tmp_path: Path, screenshot_dir: Path, showcase: Path
) -> None:
    for name in ("gpu-cluster-triage", "support-bot-q4"):
        other = build_project(tmp_path, showcase_records(2), name=name)
        remember_project(other)
    remember_project(showcase)
    for theme_name in ("light", "dark"):
        set_theme(theme_name)
        window.close_to_start()
        save(window, screenshot_dir, f"start-page-{theme_name}")


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280x800", "1920x1080"])
@pytest.mark.parametrize("theme_name", ["light", "dark"])
def test_review_window(
    qtbot: Any,
    window: MainWindow,
    showcase: Path,
    screenshot_dir: Path,
    size: tuple[int, int],
    theme_name: str,
) -> None:
    set_theme(theme_name)
    review_at(qtbot, window, showcase, size)
    qtbot.wait(1100)  # let the dwell timer tick once
    save(window, screenshot_dir, f"review-{theme_name}-{size[0]}x{size[1]}")


def test_review_working_states(
    qtbot: Any, window: MainWindow, showcase: Path, screenshot_dir: Path
) -> None:
    """Refusal marked, a note, saved state, then find and diff highlights."""
    set_theme("light")
    controller = review_at(qtbot, window, showcase, (1280, 800))
    send_key(window, "1")
    qtbot.waitUntil(lambda: len(label_rows(showcase)) == 1)
    qtbot.waitUntil(lambda: controller.state == "showing")
    send_key(window, "Q")
    send_key(window, "O")
    send_key(window, "F")
    view = window.review_view
    view.footer.note_edit.setText("Right one hedges; left misses the rollback.")
    send_key(window, "D")
    qtbot.waitUntil(lambda: view.last_diff is not None)
    save(window, screenshot_dir, "review-working-diff")
    send_key(window, "Ctrl+F")
    view.find_bar.edit.setText("rollout")
    save(window, screenshot_dir, "review-find")


def test_review_narrow_stacked(
    qtbot: Any, window: MainWindow, showcase: Path, screenshot_dir: Path
) -> None:
    set_theme("light")
    review_at(qtbot, window, showcase, (900, 860))
    assert window.review_view.stacked
    save(window, screenshot_dir, "review-narrow-stacked")


def test_all_done(qtbot: Any, window: MainWindow, tmp_path: Path, screenshot_dir: Path) -> None:
    set_theme("light")
    path = build_project(tmp_path, showcase_records(1), name="one-pair", overlap=1)
    controller = review_at(qtbot, window, path, (1280, 800))
    qtbot.wait(1600)
    send_key(window, "2")
    qtbot.waitUntil(lambda: controller.state == "done")
    save(window, screenshot_dir, "review-all-done")


def test_cheat_sheet(qtbot: Any, window: MainWindow, showcase: Path, screenshot_dir: Path) -> None:
    for theme_name in ("light", "dark"):
        set_theme(theme_name)
        review_at(qtbot, window, showcase, (1280, 800))
        dialog_shot(
            qtbot, window.review_view.show_cheat_sheet, screenshot_dir, f"cheat-sheet-{theme_name}"
        )
        window.close_to_start()


def test_lead_windows(
    qtbot: Any, window: MainWindow, showcase: Path, tmp_path: Path, screenshot_dir: Path
) -> None:
    set_theme("light")
    window.resize(1280, 800)
    window.open_project(showcase, Mode.LEAD)
    qtbot.waitUntil(
        lambda: window.project_page is not None and window.project_page.status is not None,
        timeout=10_000,
    )
    save(window, screenshot_dir, "lead-project-page")
    source = write_jsonl(tmp_path / "judge-llm-v4.jsonl", showcase_records(30))

    dialog = window.open_import()
    dialog.set_path(source)
    qtbot.waitUntil(lambda: dialog.preview is not None)
    qtbot.wait(50)
    save(dialog, screenshot_dir, "import-dialog")
    dialog.close()
    dialog_shot(
        qtbot,
        window.open_queue_overview,
        screenshot_dir,
        "queue-overview",
        ready=lambda d: d.loaded is not None,
        prepare=lambda d: d.findChild(QTabWidget).setCurrentIndex(2),
    )
    dialog_shot(
        qtbot,
        window.open_settings,
        screenshot_dir,
        "settings-project",
        ready=lambda d: d._loaded is not None,
    )
    dialog_shot(
        qtbot,
        window.open_settings,
        screenshot_dir,
        "settings-keys",
        ready=lambda d: d._loaded is not None,
        prepare=lambda d: d.tabs.setCurrentWidget(d.keys),
    )
