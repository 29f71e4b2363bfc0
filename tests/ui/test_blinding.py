"""Blinding: nothing anywhere in the review window names a model, judge, item, queue reason,
verdict, rationale or another reviewer, nor leaks the pair's handle or slot (SPEC §4, §9).

The project uses distinctive names, then every widget of the window is walked at several
moments of a session: texts, tooltips, status tips, accessible names and descriptions, object
names, dynamic properties, documents, actions, the title, the status bar, and the clipboard
after every copy action.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from reviewdesk.ui.main_window import MainWindow, Mode
from reviewdesk.ui.review.markdown_view import InertMarkdownView
from tests.conftest import native_item
from tests.ui.support import build_project, label_rows, open_for_review, send_key

MODEL_X = "ZEPHYR-MODEL-X9"
MODEL_Y = "ORCA-BASELINE-Q4"
JUDGES = ("JUDGE-MARMOSET", "JUDGE-KESTREL")
RATIONALE = "RATIONALE-NARWHAL"
SLICE = "SLICE-OCELOT"
OTHER_REVIEWER = "REVIEWER-IMPORTED-YAK"
FORBIDDEN_WORDS = [
    MODEL_X,
    MODEL_Y,
    *JUDGES,
    RATIONALE,
    SLICE,
    OTHER_REVIEWER,
    "PANGOLIN",
    "judge_split",
    "position_flip",
    "tie_split",
    "low_confidence",
    "contested",
    "audit",
    "incident-slice",
]


def distinctive_records() -> list[dict[str, Any]]:
    records = []
    for n in range(4):
        records.append(
            native_item(
                f"ITEM-PANGOLIN-{n}",
                a=MODEL_X,
                b=MODEL_Y,
                prompt=f"Question {n}: the pager fired for checkout, what first?",
                text_a=(
                    f"Answer one to question {n}: **roll back** first.\n\n"
                    "```bash\nkubectl rollout undo\n```"
                ),
                text_b=f"Answer two to question {n}: scale up and wait.",
                slices={"category": SLICE, "language": "en"},
                judgments=[
                    {
                        "judge": JUDGES[0],
                        "kind": "llm",
                        "verdict": "A",
                        "order": "AB",
                        "probability_b": 0.2,
                        "rationale": RATIONALE,
                    },
                    {"judge": JUDGES[1], "kind": "llm", "verdict": "B", "rationale": RATIONALE},
                ],
                labels=[{"reviewer": OTHER_REVIEWER, "choice": "A", "shown_left": "B"}],
            )
        )
    return records


def _strings_of(widget: QWidget) -> list[str]:
    out = [
        widget.objectName(),
        widget.toolTip(),
        widget.statusTip(),
        widget.whatsThis(),
        widget.accessibleName(),
        widget.accessibleDescription(),
        widget.windowTitle(),
    ]
    for raw in widget.dynamicPropertyNames():
        name = bytes(raw).decode()
        try:
            out.append(f"{name}={widget.property(name)}")
        except RuntimeError:
            assert name.startswith(("_q_", "qt_", "_PySide")), name  # Qt and PySide bookkeeping
    if isinstance(widget, QLabel | QAbstractButton):
        out.append(widget.text())
    if isinstance(widget, QLineEdit):
        out += [widget.text(), widget.placeholderText()]
    if isinstance(widget, QTextEdit):
        out += [widget.toPlainText(), widget.document().toHtml(), widget.placeholderText()]
    if isinstance(widget, QPlainTextEdit):
        out.append(widget.toPlainText())
    if isinstance(widget, QComboBox):
        out += [widget.itemText(i) for i in range(widget.count())]
    return out


def window_strings(window: MainWindow) -> list[str]:
    out = [window.windowTitle(), window.statusBar().currentMessage(), window.windowFilePath()]
    for widget in [window, *window.findChildren(QWidget)]:
        out += _strings_of(widget)
    for action in window.findChildren(QAction):
        out += [
            action.text(),
            action.toolTip(),
            action.statusTip(),
            action.whatsThis(),
            action.objectName(),
        ]
    return out


def clipboard_after_copies(window: MainWindow) -> list[str]:
    copies = []
    for view in window.review_view.findChildren(InertMarkdownView):
        view.copy_all_action.trigger()
        copies.append(QGuiApplication.clipboard().text())
        view.selectAll()
        view.copy_selection()
        copies.append(QGuiApplication.clipboard().text())
    return copies


def assert_blind(window: MainWindow, handles: set[str], moment: str) -> None:
    strings = window_strings(window) + clipboard_after_copies(window)
    haystack = "\n".join(s for s in strings if s)
    lowered = haystack.lower()
    for word in FORBIDDEN_WORDS:
        assert word.lower() not in lowered, f"{word!r} is visible in the review window ({moment})"
    for handle in handles:
        for s in strings:
            assert s != handle, f"a pair handle is exposed ({moment})"
        assert f"handle={handle}" not in haystack


@pytest.mark.parametrize("via_lead", [False, True], ids=["direct", "after-lead-page"])
def test_review_window_never_names_sources(
    qtbot: Any, window: MainWindow, tmp_path: Path, via_lead: bool
) -> None:
    path = build_project(tmp_path, distinctive_records(), name="blind-project")
    if via_lead:
        window.open_project(path, Mode.LEAD)
        qtbot.waitUntil(
            lambda: window.project_page is not None and window.project_page.status is not None,
            timeout=10_000,
        )
        assert MODEL_X in "\n".join(window_strings(window))  # the lead page does show them
        window.project_page.review_requested.emit()
        from reviewdesk.ui.dialogs.reviewer_dialog import ReviewerDialog

        qtbot.waitUntil(lambda: window.findChild(ReviewerDialog) is not None)
        dialog = window.findChild(ReviewerDialog)
        dialog.name_edit.setText("rev-blind")
        dialog.accept()
        qtbot.waitUntil(lambda: window.controller is not None, timeout=10_000)
        controller = window.controller
        controller.settle_s = 0.0
        qtbot.waitUntil(lambda: controller.state == "showing", timeout=10_000)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
    else:
        controller = open_for_review(qtbot, window, path, "rev-blind")
    assert window.windowTitle() == "reviewdesk — blind-project"
    handles = {controller.pair.handle, *(p.handle for p in controller.ready)}
    assert_blind(window, handles, "first pair")
    # Note, flag, refusal, find and diff all on.
    send_key(window, "W")
    send_key(window, "F")
    send_key(window, "N")
    window.review_view.footer.note_edit.setText("a note")
    send_key(window, "Escape")
    send_key(window, "D")
    qtbot.waitUntil(lambda: window.review_view.last_diff is not None)
    send_key(window, "Ctrl+F")
    window.review_view.find_bar.edit.setText("roll")
    assert_blind(window, handles, "with find, diff, note and flag")
    window.review_view.close_find()
    # After labels: saved state, pace notice; reveal is off by default, so R does nothing.
    for n in range(2):
        handles |= {controller.pair.handle, *(p.handle for p in controller.ready)}
        send_key(window, "1")
        qtbot.waitUntil(lambda n=n: len(label_rows(path)) == n + 1)
        qtbot.waitUntil(lambda: controller.state == "showing")
    send_key(window, "R")
    qtbot.wait(50)
    assert not window.review_view.footer.reveal_label.isVisible()
    assert not window.review_view.footer.reveal_button.isVisible()
    handles |= {controller.pair.handle, *(p.handle for p in controller.ready)}
    assert_blind(window, handles, "after labels")
    # Undo and the all-done screen.
    send_key(window, "Ctrl+Z")
    qtbot.waitUntil(lambda: controller.state == "showing" and controller.undo_available == 1)
    assert_blind(window, handles, "after undo")
    while controller.state != "done":
        count = len(label_rows(path))
        send_key(window, "2")
        qtbot.waitUntil(lambda count=count: len(label_rows(path)) == count + 1)
        qtbot.waitUntil(lambda: controller.state in ("showing", "done"))
    assert_blind(window, handles, "all done")


def test_reveal_after_submit_is_opt_in_and_audited(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    import sqlite3

    path = build_project(tmp_path, distinctive_records(), name="reveal-project", reveal=True)
    controller = open_for_review(qtbot, window, path, "rev-r")
    assert MODEL_X not in "\n".join(window_strings(window))
    send_key(window, "R")  # nothing labeled yet: nothing to reveal
    qtbot.wait(30)
    assert not window.review_view.footer.reveal_label.isVisible()
    pair = controller.pair
    send_key(window, "1")
    qtbot.waitUntil(lambda: controller.state == "showing" and controller.pair != pair)
    assert MODEL_X not in "\n".join(window_strings(window))  # still blind until asked
    assert window.review_view.footer.reveal_button.isVisible()
    send_key(window, "R")
    qtbot.waitUntil(lambda: window.review_view.footer.reveal_label.isVisible())
    text = window.review_view.footer.reveal_label.text()
    left_model = MODEL_X if pair.left_slot.value == "A" else MODEL_Y
    assert f"left was {left_model}" in text
    with sqlite3.connect(path) as con:
        reveals = con.execute(
            "SELECT actor, payload FROM audit_record WHERE kind = 'reveal'"
        ).fetchall()
    assert len(reveals) == 1
    assert reveals[0][0] == "rev-r"
    # The next label hides the reveal again.
    send_key(window, "2")
    qtbot.waitUntil(lambda: len(label_rows(path)) == 2)
    qtbot.waitUntil(lambda: controller.state == "showing")
    assert not window.review_view.footer.reveal_label.isVisible()


def test_review_mode_has_no_path_to_lead_windows(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = build_project(tmp_path, distinctive_records(), name="modes")
    open_for_review(qtbot, window, path, "rev-m")
    assert not window.menuBar().isVisible()
    for action in window.lead_actions:
        assert not action.isEnabled()
    assert not window.settings_action.isEnabled()
    assert window.open_settings() is None
    assert window.open_queue_overview() is None
    assert window.open_import() is None
    texts = "\n".join(window_strings(window)).lower()
    for word in ("queue overview", "import results", "settings…"):
        visible = [
            a for a in window.findChildren(QAction) if a.text().lower() == word and a.isEnabled()
        ]
        assert not visible, word
    assert "lead view" not in texts
    assert window.project_page is None
