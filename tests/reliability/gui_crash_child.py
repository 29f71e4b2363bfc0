"""Child process for the GUI crash tests: the real main window labels by key presses until killed.

Run as ``python -m tests.reliability.gui_crash_child`` with ``QT_QPA_PLATFORM=offscreen``. The
process is a small fork server, because importing PySide6 and reviewdesk takes about two seconds
and a crash trial only a fraction of that:

- it imports everything once (no ``QApplication``, no thread, no database connection yet),
  prints ``READY`` and reads commands from stdin;
- ``RUN <project> <reviewer>`` forks a child that creates its own ``QApplication`` and the real
  ``MainWindow``, opens the project for review as that reviewer, and presses choice keys of the
  default key map on the window (``QTest.keyClick``: the window's own shortcuts take them, as a
  reviewer's keys) as fast as the window accepts them. The child prints ``PID <pid>`` first, then
  ``ACK <entry>.<slot> <screen_choice>`` each time the window tells the reviewer a label is saved
  (the controller's ``label_saved`` signal, which drives the footer's "✓ Saved"), naming the pair
  that was on screen when the key was taken (the pair the controller was saving), and ``DONE``
  if the queue runs out. It runs until it is killed; any bug ends it with exit status 3;
- the server reaps the child and prints ``EXIT <raw wait status>``; EOF on stdin ends the server.

Every line is written with one ``write()`` of less than ``PIPE_BUF`` bytes, so a SIGKILL never
leaves half a line in the pipe, and an ``ACK`` line is printed only after the label was shown as
saved.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from reviewdesk.domain.keymap import DEFAULT_KEYMAP
from reviewdesk.ui import crash
from reviewdesk.ui.app import ensure_app
from reviewdesk.ui.main_window import MainWindow, Mode
from reviewdesk.ui.review.review_controller import SavedLabel
from reviewdesk.ui.review.review_view import ReviewView

#: The keys pressed, in turn: every key of the four choices, then a skip (default key map).
CHOICE_ACTIONS = (
    "review.choose_left",
    "review.choose_right",
    "review.choose_tie",
    "review.choose_both_bad",
)
KEYS = tuple(key for action in CHOICE_ACTIONS for key in DEFAULT_KEYMAP[action]) + tuple(
    DEFAULT_KEYMAP["review.skip"]
)
#: Every few labels a refusal class and the flag are set first, so labels differ in size.
MARK_KEYS = (DEFAULT_KEYMAP["review.refusal_left_partial"][0], DEFAULT_KEYMAP["review.flag"][0])
BUG_EXIT = 3


def say(line: str) -> None:
    """One line to stdout with a single write (atomic on a pipe), flushed at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _die(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write("".join(traceback.format_exception(exc_type, exc, tb)))
    sys.stderr.flush()
    os._exit(BUG_EXIT)


class Labeler:
    """Presses keys on the review window and reports every label the window shows as saved."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.view: ReviewView | None = None
        self.presses = 0
        self.saving: str | None = None  # the handle of the pair being saved

    def attach(self, view: ReviewView) -> None:
        controller = view.controller
        assert controller is not None
        self.view = view
        controller.settle_s = 0.0  # keys at machine speed (the double-press guard is tested)
        controller.state_changed.connect(self.on_state)
        controller.label_saved.connect(self.on_saved)

    def on_state(self, state: str) -> None:
        controller = self.view.controller if self.view is not None else None
        if controller is None:
            return
        if state == "saving":
            pair = controller.pair
            self.saving = pair.handle if pair is not None else None
        elif state == "showing":
            QTimer.singleShot(0, self.press)
        elif state == "done":
            say("DONE")

    def on_saved(self, saved: SavedLabel) -> None:
        assert self.saving is not None, "a label was saved that no key press started"
        say(f"ACK {self.saving} {saved.choice.value} {saved.event_id}")
        self.saving = None

    def press(self) -> None:
        self.check_errors()
        view = self.view
        if view is None or view.controller is None or view.controller.state != "showing":
            return
        if not self.window.isActiveWindow():  # window shortcuts need the active window
            self.window.activateWindow()
            QTimer.singleShot(5, self.press)
            return
        n = self.presses
        self.presses += 1
        if n % 7 == 3:
            for key in MARK_KEYS:
                self.click(key)
        self.click(KEYS[n % len(KEYS)])

    def click(self, key: str) -> None:
        target = QApplication.focusWidget() or self.view
        assert target is not None
        combo = QKeySequence(key)[0]
        QTest.keyClick(target, combo.key(), combo.keyboardModifiers())

    @staticmethod
    def check_errors() -> None:
        problems = [repr(b) for b in crash.reported_bugs] + list(crash.shown_user_errors)
        if problems:
            sys.stderr.write("the GUI reported: " + "; ".join(problems) + "\n")
            sys.stderr.flush()
            os._exit(BUG_EXIT)


def _orphaned(server: int, owner: int) -> bool:
    """Whether the server or the test process that started it has gone away."""
    if os.getppid() != server:
        return True
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


def label_until_killed(project: Path, reviewer: str, owner: int) -> None:
    """In the forked child: open the real window on ``project`` and label until killed.

    ``owner`` is the test process: should it die without killing this child, the child ends
    itself instead of labeling (or idling) forever.
    """
    sys.excepthook = _die
    server = os.getppid()
    say(f"PID {os.getpid()}")
    app = ensure_app(["reviewdesk"])
    window = MainWindow()
    labeler = Labeler(window)
    window.review_started.connect(labeler.attach)
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    window.open_project(project, Mode.REVIEW, reviewer=reviewer)
    checker = QTimer()
    checker.timeout.connect(labeler.check_errors)
    checker.timeout.connect(lambda: _orphaned(server, owner) and os._exit(BUG_EXIT))
    checker.start(50)
    app.exec()
    os._exit(BUG_EXIT)  # never reached: the window stays open until the process is killed


def serve() -> None:
    owner = os.getppid()
    say("READY")
    for line in sys.stdin:
        command, *args = line.split()
        if command != "RUN":
            raise SystemExit(f"unknown command {line!r}")
        project, reviewer = args
        pid = os.fork()
        if pid == 0:
            try:
                label_until_killed(Path(project), reviewer, owner)
            except BaseException:  # noqa: BLE001 - report anything, then leave the child
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(BUG_EXIT)
        _, status = os.waitpid(pid, 0)
        say(f"EXIT {status}")


if __name__ == "__main__":
    serve()
