"""Driving the real review window by key presses, then checking the project file with sqlite3."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from reviewdesk.domain.model import Slot
from reviewdesk.ui.main_window import MainWindow
from reviewdesk.ui.review.review_controller import PREFETCH_DEPTH
from tests.ui.support import build_project, judged, label_rows, open_for_review, send_key


@pytest.fixture
def five_pairs(tmp_path: Path) -> Path:
    records = [
        judged(f"item-{n}", text_a=f"Slot A answer {n}: roll back.", text_b=f"Slot B answer {n}.")
        for n in range(5)
    ]
    return build_project(tmp_path, records)


def test_prefetch_depth_matches_the_queue_policy() -> None:
    from reviewdesk.queueing.policy import PREFETCH_DEPTH as POLICY_DEPTH

    assert PREFETCH_DEPTH == POLICY_DEPTH


def test_whole_queue_by_keys_for_two_reviewers(
    qtbot: Any, window: MainWindow, five_pairs: Path
) -> None:
    plans = {
        "rev-01": ["1", "2", "3", "4", "Left"],
        "rev-02": ["Right", "A", "B", "T", "X"],
    }
    for reviewer, keys in plans.items():
        controller = open_for_review(qtbot, window, five_pairs, reviewer)
        assert controller.state == "showing"
        assert window.windowTitle() == f"reviewdesk — {five_pairs.stem}"
        # Refusal classes on the first pair: Q (left complied) and P (right full refusal).
        first_pair = controller.pair
        send_key(window, "Q")
        send_key(window, "P")
        assert controller.pair_state.refusal_left.value == "full_compliance"
        assert controller.pair_state.refusal_right.value == "full_refusal"
        shown_lefts = []
        for n, key in enumerate(keys):
            pair = controller.pair
            shown_lefts.append(pair.left_slot)
            qtbot.wait(5)  # a little dwell
            send_key(window, key)
            qtbot.waitUntil(lambda n=n, c=controller: len(c._history) == n + 1, timeout=5000)
            qtbot.waitUntil(lambda c=controller: c.state in ("showing", "done"), timeout=5000)
            assert "Saved" in window.review_view.footer.save_label.text()
        assert controller.state == "done"
        assert window.review_view.message_page.title.text() == "All done"
        rows = [r for r in label_rows(five_pairs) if r["reviewer"] == reviewer]
        assert len(rows) == 5
        expected = {
            "1": "left",
            "A": "left",
            "Left": "left",
            "2": "right",
            "B": "right",
            "Right": "right",
            "3": "tie",
            "T": "tie",
            "4": "both_bad",
            "X": "both_bad",
        }
        for row, key, left in zip(rows, keys, shown_lefts, strict=True):
            screen = expected[key]
            assert row["screen_choice"] == screen
            assert row["left_slot"] == left.value
            if screen == "left":
                assert row["choice"] == left.value
            elif screen == "right":
                assert row["choice"] == Slot(left.value).other.value
            else:
                assert row["choice"] == screen
            assert row["dwell_ms"] > 0
            assert row["kind"] == "label"
        # The refusal classes landed on the slots that were shown left and right.
        first = rows[0]
        left_slot = first_pair.left_slot
        refusal = {left_slot.value: "full_compliance", left_slot.other.value: "full_refusal"}
        assert first["refusal_a"] == refusal["A"]
        assert first["refusal_b"] == refusal["B"]
        assert all(r["refusal_a"] is None and r["refusal_b"] is None for r in rows[1:])
        window.close_to_start()
        qtbot.waitUntil(lambda: window.opened is None)
    # Counterbalanced: each item was shown the other way round to the second reviewer.
    rows = label_rows(five_pairs)
    by_entry: dict[int, set[str]] = {}
    for row in rows:
        by_entry.setdefault(row["entry_id"], set()).add(row["left_slot"])
    assert all(sides == {"A", "B"} for sides in by_entry.values())


def test_note_flag_and_keys_suppressed_while_typing(
    qtbot: Any, window: MainWindow, five_pairs: Path
) -> None:
    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    view = window.review_view
    send_key(window, "F")
    assert controller.pair_state.flagged
    assert view.footer.flag_button.isChecked()
    send_key(window, "N")
    assert QApplication.focusWidget() is view.footer.note_edit
    for key in ("1", "A", "Q", "X", "Space", "F"):  # typed into the note, not review keys
        send_key(window, key)
    send_key(window, "Left")
    send_key(window, "Backspace")
    assert controller.state == "showing"
    assert label_rows(five_pairs) == []
    assert not controller.pair_state.refusal_left
    assert view.footer.note_edit.text() != ""
    view.footer.note_edit.setText("looks truncated")
    send_key(window, "Escape")
    assert QApplication.focusWidget() is view
    send_key(window, "2")
    qtbot.waitUntil(lambda: len(label_rows(five_pairs)) == 1)
    qtbot.waitUntil(lambda: controller.state == "showing")
    row = label_rows(five_pairs)[0]
    assert row["note"] == "looks truncated"
    assert row["flagged"] == 1
    assert row["screen_choice"] == "right"
    # The next pair starts clean.
    assert view.footer.note_edit.text() == ""
    assert not controller.pair_state.flagged
    assert not view.footer.flag_button.isChecked()


def test_auto_repeat_is_ignored(qtbot: Any, window: MainWindow, five_pairs: Path) -> None:
    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    for _ in range(5):
        send_key(window, "1", autorepeat=True)
    qtbot.wait(50)
    assert controller.state == "showing"
    assert label_rows(five_pairs) == []
    send_key(window, "1")
    qtbot.waitUntil(lambda: len(label_rows(five_pairs)) == 1)
    qtbot.waitUntil(lambda: controller.state == "showing")


def test_keys_while_saving_are_dropped(qtbot: Any, window: MainWindow, five_pairs: Path) -> None:
    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    send_key(window, "1")
    assert controller.state == "saving"
    for key in ("2", "3", "Space", "Q"):
        send_key(window, key)  # arrives before the write has committed
    qtbot.waitUntil(lambda: controller.state == "showing")
    qtbot.wait(50)
    rows = label_rows(five_pairs)
    assert len(rows) == 1
    assert rows[0]["screen_choice"] == "left"
    assert controller.dropped_keys >= 3
    assert controller.pair_state.refusal_left is None


def test_undo_restores_the_pair_and_appends_a_retraction(
    qtbot: Any, window: MainWindow, five_pairs: Path
) -> None:
    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    first = controller.pair
    send_key(window, "1")
    qtbot.waitUntil(lambda: controller.state == "showing" and controller.pair != first)
    second = controller.pair
    send_key(window, "2")
    qtbot.waitUntil(lambda: controller.state == "showing" and controller.pair != second)
    send_key(window, "Ctrl+Z")
    qtbot.waitUntil(lambda: controller.pair == second and controller.state == "showing")
    assert controller.pair.left == second.left  # same sides as before
    send_key(window, "Backspace")
    qtbot.waitUntil(lambda: controller.pair == first and controller.state == "showing")
    rows = label_rows(five_pairs)
    assert [r["kind"] for r in rows] == ["label", "label", "retract", "retract"]
    assert rows[2]["retracts_id"] == rows[1]["id"]
    assert rows[3]["retracts_id"] == rows[0]["id"]
    assert "Undone" in window.review_view.footer.notice_label.text()
    # Label again: the restored pair is recorded with the sides it was shown with.
    send_key(window, "4")
    qtbot.waitUntil(lambda: len(label_rows(five_pairs)) == 5)
    qtbot.waitUntil(lambda: controller.state == "showing")
    last = label_rows(five_pairs)[-1]
    assert last["left_slot"] == first.left_slot.value
    assert last["screen_choice"] == "both_bad"


def test_undo_depth_is_ten(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    path = build_project(tmp_path, [judged(f"i-{n}") for n in range(12)], overlap=1)
    controller = open_for_review(qtbot, window, path, "rev-01")
    for n in range(12):
        send_key(window, "1")
        qtbot.waitUntil(
            lambda n=n: (
                len(controller._history) == min(n + 1, 10)
                and controller.state in ("showing", "done")
                and len(label_rows(path)) == n + 1
            )
        )
    assert controller.state == "done"
    for n in range(10):
        send_key(window, "Ctrl+Z")
        qtbot.waitUntil(lambda n=n: sum(r["kind"] == "retract" for r in label_rows(path)) == n + 1)
        qtbot.waitUntil(lambda: controller.state == "showing")
    send_key(window, "Ctrl+Z")
    qtbot.waitUntil(lambda: "only the last 10" in window.review_view.footer.notice_label.text())
    assert sum(r["kind"] == "retract" for r in label_rows(path)) == 10


def test_skip_defers_the_pair(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    path = build_project(tmp_path, [judged("only")], overlap=1)
    controller = open_for_review(qtbot, window, path, "rev-01")
    pair = controller.pair
    send_key(window, "Space")
    qtbot.waitUntil(lambda: len(label_rows(path)) == 1)
    qtbot.waitUntil(lambda: controller.state == "showing")
    assert controller.pair.handle == pair.handle  # skipping defers, it does not drop
    assert label_rows(path)[0]["screen_choice"] == "skip"
    assert label_rows(path)[0]["choice"] == "skip"
    send_key(window, "3")
    qtbot.waitUntil(lambda: controller.state == "done")


def test_empty_queue_shows_all_done(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    path = build_project(tmp_path, [judged("x")], overlap=1)
    with sqlite3.connect(path) as con:
        con.execute("DELETE FROM queue_entry")
    controller = open_for_review(qtbot, window, path, "rev-01")
    assert controller.state == "done"
    view = window.review_view
    assert view.message_page.title.text() == "All done"
    send_key(window, "1")
    assert label_rows(path) == []
    send_key(window, "Ctrl+Z")
    qtbot.waitUntil(lambda: "Nothing to undo" in view.footer.notice_label.text())


def test_switching_reviewer_is_explicit(qtbot: Any, window: MainWindow, five_pairs: Path) -> None:
    from reviewdesk.ui.dialogs.reviewer_dialog import ReviewerDialog

    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    send_key(window, "1")
    qtbot.waitUntil(lambda: len(label_rows(five_pairs)) == 1)
    qtbot.waitUntil(lambda: controller.state == "showing")
    window.review_view.header.switch_action.trigger()
    dialog = next(
        w for w in QApplication.topLevelWidgets() if isinstance(w, ReviewerDialog) and w.isVisible()
    )
    assert dialog.list.count() == 1  # the existing profile is offered
    dialog.name_edit.setText("rev-02")
    dialog.accept()
    qtbot.waitUntil(lambda: window.controller is not None and window.controller is not controller)
    second = window.controller
    second.settle_s = 0.0
    qtbot.waitUntil(lambda: second.state == "showing")
    assert second.reviewer == "rev-02"
    assert window.review_view.header.reviewer_button.text().startswith("rev-02")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    send_key(window, "2")
    qtbot.waitUntil(lambda: len(label_rows(five_pairs)) == 2)
    qtbot.waitUntil(lambda: second.state == "showing")
    assert [r["reviewer"] for r in label_rows(five_pairs)] == ["rev-01", "rev-02"]


def test_help_key_opens_the_cheat_sheet_from_the_live_keymap(
    qtbot: Any, window: MainWindow, five_pairs: Path
) -> None:
    from reviewdesk.ui.dialogs.cheat_sheet import CheatSheet

    open_for_review(qtbot, window, five_pairs, "rev-01")
    send_key(window, "?")
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, CheatSheet) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
    )
    sheet = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CheatSheet))
    texts = " ".join(label.text() for label in sheet.findChildren(QLabel))
    assert "Left response is better" in texts
    assert "Ctrl+Z" in texts
    sheet.reject()
    qtbot.waitUntil(lambda: not sheet.isVisible())


def test_dwell_pauses_while_the_window_is_inactive(
    qtbot: Any, window: MainWindow, five_pairs: Path
) -> None:
    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    clock = controller.dwell
    view = window.review_view
    view.set_window_active(False)
    paused = clock.elapsed_s()
    qtbot.wait(120)
    assert clock.elapsed_s() == pytest.approx(paused, abs=0.01)
    view.set_window_active(True)
    qtbot.wait(60)
    assert clock.elapsed_s() > paused + 0.04
    window.showMinimized()
    qtbot.waitUntil(lambda: not clock.running)
    window.showNormal()
    window.activateWindow()
    qtbot.waitUntil(lambda: clock.running)


def test_fast_labels_get_a_gentle_pace_notice(
    qtbot: Any, window: MainWindow, five_pairs: Path
) -> None:
    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    send_key(window, "1")  # immediately: far below a plausible reading time
    qtbot.waitUntil(lambda: controller.pace.count == 1)
    notice = window.review_view.footer.notice_label
    assert notice.isVisible()
    assert "quick" in notice.text()
    assert controller.pace.too_fast == 1
    assert "pace" in window.review_view.header.pace_label.text()


def test_mouse_clicks_go_through_the_same_path(
    qtbot: Any, window: MainWindow, five_pairs: Path
) -> None:
    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    view = window.review_view
    qtbot.mouseClick(
        view.left_panel.refusal.buttons[next(iter(view.left_panel.refusal.buttons))],
        Qt.MouseButton.LeftButton,
    )
    assert controller.pair_state.refusal_left is not None
    qtbot.mouseClick(view.footer.choice_buttons["review.choose_tie"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(label_rows(five_pairs)) == 1)
    qtbot.waitUntil(lambda: controller.state == "showing")
    row = label_rows(five_pairs)[0]
    assert row["screen_choice"] == "tie"
    assert (row["refusal_a"], row["refusal_b"]).count("full_compliance") == 1


def test_a_double_press_does_not_label_the_next_pair(
    qtbot: Any, window: MainWindow, five_pairs: Path
) -> None:
    from reviewdesk.ui.review.review_controller import SETTLE_S

    controller = open_for_review(qtbot, window, five_pairs, "rev-01")
    controller.settle_s = SETTLE_S
    qtbot.wait(int(SETTLE_S * 1000) + 20)
    send_key(window, "1")
    qtbot.waitUntil(lambda: controller.state == "showing" and len(label_rows(five_pairs)) == 1)
    send_key(window, "1")  # the second tap of a double press, right as the next pair appears
    qtbot.wait(20)
    assert len(label_rows(five_pairs)) == 1
    assert "ignored" in window.review_view.footer.notice_label.text()
    qtbot.wait(int(SETTLE_S * 1000) + 20)
    send_key(window, "1")
    qtbot.waitUntil(lambda: len(label_rows(five_pairs)) == 2)
    qtbot.waitUntil(lambda: controller.state == "showing")


def test_find_and_diff_highlight_the_right_words(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    tail = " deploy/api\n```\n\nThen verify p99."
    left = "Roll back **now**.\n\n```bash\nkubectl rollout undo" + tail
    right = "Roll back **later**.\n\n```bash\nkubectl rollout status" + tail
    path = build_project(tmp_path, [judged("d", text_a=left, text_b=right)], overlap=1)
    controller = open_for_review(qtbot, window, path, "rev-d")
    view = window.review_view
    send_key(window, "D")
    qtbot.waitUntil(lambda: view.last_diff is not None)

    def highlighted(panel: Any) -> set[str]:
        return {s.cursor.selectedText() for s in panel.view.extraSelections()}

    words = highlighted(view.left_panel) | highlighted(view.right_panel)
    assert words == {"now", "later", "undo", "status"}
    send_key(window, "D")  # toggles off
    assert highlighted(view.left_panel) == set()
    send_key(window, "Ctrl+F")
    assert QApplication.focusWidget() is view.find_bar.edit
    send_key(window, "1")  # typed into the find box, not a label
    view.find_bar.edit.setText("rollout")
    assert view.find_bar.count.text() == "2 matches"
    assert {s.cursor.selectedText() for s in view.left_panel.view.extraSelections()} == {"rollout"}
    send_key(window, "Escape")
    assert not view.find_bar.isVisible()
    assert QApplication.focusWidget() is view
    assert label_rows(path) == []
    assert controller.state == "showing"
