"""The review session's state machine: what is on screen, what is saving, what is prefetched.

Anki-style (ARCHITECTURE.md §4.8): the controller owns the flow, the view only renders it.

- States: ``idle`` (not started), ``loading`` (waiting for a pair), ``showing`` (a pair is on
  screen and accepts keys), ``saving`` (a label or undo is being written: review keys are
  dropped, so a double press can never label the next pair by accident) and ``done``.
- A label is written on the database worker and the next pair appears only once the write has
  committed, so whatever the screen shows as saved is on disk (SPEC §5).
- ``PREFETCH_DEPTH`` pairs are kept ready, fetched on the worker after each label, so advancing
  shows a pair already in memory and never waits on the disk.
- Every worker result carries the session generation; results of an ended session are dropped.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from PySide6.QtCore import QObject, QTimer, Signal

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.model import (
    Pair,
    RefusalClass,
    ReviewProgress,
    ScreenChoice,
    UndoStatus,
)
from reviewdesk.services.project import Project
from reviewdesk.services.review import (
    UNDO_DEPTH,
    checkpoint_idle,
    commit_label,
    next_pairs,
    pair_for_handle,
    review_progress,
    undo_last,
)
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.review.pacing import DwellClock, SessionPace, too_fast

log = logging.getLogger("reviewdesk.ui")

#: Pairs kept ready behind the one on screen. Mirrors ``queueing.policy.PREFETCH_DEPTH`` (the GUI
#: may not import ``queueing``; a test keeps the two equal).
PREFETCH_DEPTH = 3
#: Exact progress counts scan the whole queue (over a second at 1M items), so between refreshes
#: the controller counts its own labels and asks for exact figures at most this often (seconds),
#: right after a label has committed (when the reviewer is reading the next pair).
PROGRESS_REFRESH_S = 60.0
#: How long after a pair appeared the prefetch is topped up (after the paint, long before the
#: reviewer has read anything).
REFILL_DELAY_MS = 30
#: A choice key this soon after a pair appeared is taken for a double press meant for the pair
#: before, and ignored: nobody reads two responses in 150 ms.
SETTLE_S = 0.15
#: Labels between two WAL checkpoints. Commits do not checkpoint during a review session (an
#: inline checkpoint writes and fsyncs the main file, the worst spike between a key press and
#: the next pair); the controller asks for one after the prefetch refill, while the reviewer
#: reads. Sixteen labels are about 200 WAL pages: a few milliseconds of copying.
CHECKPOINT_EVERY = 16


class State(StrEnum):
    IDLE = "idle"
    LOADING = "loading"
    SHOWING = "showing"
    SAVING = "saving"
    DONE = "done"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class PairState:
    """What the reviewer has set on the pair on screen, before choosing."""

    refusal_left: RefusalClass | None = None
    refusal_right: RefusalClass | None = None
    note: str = ""
    flagged: bool = False


@dataclass(frozen=True)
class SavedLabel:
    """A label that is on disk: what the footer confirms (``event_id``: its label event)."""

    choice: ScreenChoice
    fast: bool
    dwell_ms: int
    event_id: int


CHOICES: dict[str, ScreenChoice] = {
    "review.choose_left": ScreenChoice.LEFT,
    "review.choose_right": ScreenChoice.RIGHT,
    "review.choose_tie": ScreenChoice.TIE,
    "review.choose_both_bad": ScreenChoice.BOTH_BAD,
    "review.skip": ScreenChoice.SKIP,
}
REFUSALS: dict[str, tuple[Side, RefusalClass]] = {
    "review.refusal_left_complied": (Side.LEFT, RefusalClass.FULL_COMPLIANCE),
    "review.refusal_left_partial": (Side.LEFT, RefusalClass.PARTIAL_REFUSAL),
    "review.refusal_left_full": (Side.LEFT, RefusalClass.FULL_REFUSAL),
    "review.refusal_right_complied": (Side.RIGHT, RefusalClass.FULL_COMPLIANCE),
    "review.refusal_right_partial": (Side.RIGHT, RefusalClass.PARTIAL_REFUSAL),
    "review.refusal_right_full": (Side.RIGHT, RefusalClass.FULL_REFUSAL),
}


def undo_and_restore(project: Project, reviewer: str) -> tuple[UndoStatus, Pair | None]:
    """Worker side of undo: retract, then load the restored pair with the sides it had."""
    status = undo_last(project, reviewer)
    pair = None
    if status.undone and status.restored_handle is not None:
        pair = pair_for_handle(project, status.restored_handle)
    return status, pair


def adjusted(progress: ReviewProgress, labels: int) -> ReviewProgress:
    """Progress after this reviewer gave (``labels`` > 0) or retracted (< 0) non-skip labels."""
    return ReviewProgress(
        done=max(0, progress.done + labels),
        remaining=max(0, progress.remaining - labels),
        queue_done=max(0, progress.queue_done + labels),
        queue_needed=progress.queue_needed,
    )


class ReviewController(QObject):
    """Drives one reviewer's session on one open project."""

    state_changed = Signal(str)
    pair_shown = Signal(object)  # Pair
    pair_state_changed = Signal(object)  # PairState
    upcoming_changed = Signal(object)  # list[Pair]: prefetched, for the view to prepare
    progress_changed = Signal(object)  # ReviewProgress
    label_saved = Signal(object)  # SavedLabel
    notice = Signal(str, str)  # kind: "pace" | "info" | "error", text
    revealed = Signal(object)  # services.reveal.Revealed
    reveal_available = Signal(bool)

    def __init__(
        self,
        ops: Ops,
        project: Project,
        reviewer: str,
        *,
        reveal_allowed: bool = False,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._ops = ops
        self._project = project
        self.reviewer = reviewer
        self.reveal_allowed = reveal_allowed
        self._state = State.IDLE
        self._pair: Pair | None = None
        self._pair_state = PairState()
        self._ready: deque[Pair] = deque()
        self._fetching = False
        self._exhausted = False
        self._dead = False
        self._session = 0  # bumped by refresh(), so results from before it are dropped
        self._last_saved_handle: str | None = None
        self._undo_available = 0
        self.progress: ReviewProgress | None = None
        self._progress_pending = False
        self._progress_asked_at: float | None = None
        self._history: deque[tuple[str, ScreenChoice]] = deque(maxlen=UNDO_DEPTH)
        self._now = now
        self._shown_at = 0.0
        self.settle_s = SETTLE_S
        self._refill = QTimer(self)
        self._refill.setSingleShot(True)
        self._refill.setInterval(REFILL_DELAY_MS)
        self._refill.timeout.connect(self._fetch)
        self.dwell = DwellClock(now)
        self.pace = SessionPace()
        self.dropped_keys = 0  # keys ignored while saving (tests and diagnostics)
        self._unchecked_labels = 0  # labels committed since the last WAL checkpoint
        self._checkpointing = False

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> State:
        return self._state

    @property
    def pair(self) -> Pair | None:
        return self._pair

    @property
    def pair_state(self) -> PairState:
        return self._pair_state

    @property
    def ready(self) -> list[Pair]:
        return list(self._ready)

    @property
    def undo_available(self) -> int:
        return self._undo_available

    def _set_state(self, state: State) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state.value)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Fetch the first pairs; the first one is shown as soon as it arrives."""
        self._set_state(State.LOADING)
        self._fetch()

    def refresh(self) -> None:
        """Look for pairs again (e.g. from the "all done" screen after the lead added items)."""
        if self._state in (State.DONE, State.IDLE):
            self._session += 1
            self._fetching = False
            self._progress_pending = False
            self._exhausted = False
            self._ready.clear()
            self._set_state(State.LOADING)
            self._fetch()

    def shutdown(self) -> None:
        """End the session: late worker results are ignored from now on."""
        self._dead = True
        self._refill.stop()
        self.dwell.stop()

    def set_window_active(self, active: bool) -> None:
        """Dwell counts only while the window is active and not minimized."""
        self.dwell.set_active(active)

    # ------------------------------------------------------------------ keys

    def handle(self, action_id: str) -> bool:
        """Run a review action by id; False when it was not applicable right now (dropped)."""
        if action_id == "review.undo":
            return self.undo()
        if action_id == "review.reveal":
            return self.reveal()
        if self._state is not State.SHOWING:
            if action_id in CHOICES or action_id in REFUSALS or action_id == "review.flag":
                self.dropped_keys += 1
            return False
        if action_id in CHOICES:
            return self.choose(CHOICES[action_id])
        if action_id in REFUSALS:
            side, refusal = REFUSALS[action_id]
            return self.set_refusal(side, refusal)
        if action_id == "review.flag":
            return self.toggle_flag()
        return False

    def set_refusal(self, side: Side, refusal: RefusalClass) -> bool:
        """Set a response's refusal class; pressing the same class again clears it."""
        if self._state is not State.SHOWING:
            return False
        current = self._pair_state
        if side is Side.LEFT:
            value = None if current.refusal_left is refusal else refusal
            self._pair_state = replace(current, refusal_left=value)
        else:
            value = None if current.refusal_right is refusal else refusal
            self._pair_state = replace(current, refusal_right=value)
        self.pair_state_changed.emit(self._pair_state)
        return True

    def toggle_flag(self) -> bool:
        if self._state is not State.SHOWING:
            return False
        self._pair_state = replace(self._pair_state, flagged=not self._pair_state.flagged)
        self.pair_state_changed.emit(self._pair_state)
        return True

    def set_note(self, text: str) -> None:
        if self._state is State.SHOWING:
            self._pair_state = replace(self._pair_state, note=text)

    # ------------------------------------------------------------------ labeling

    def choose(self, choice: ScreenChoice) -> bool:
        """Record the label on the worker; the next pair appears once it has committed."""
        if self._state is not State.SHOWING or self._pair is None:
            self.dropped_keys += 1
            return False
        if self._now() - self._shown_at < self.settle_s:
            self.dropped_keys += 1
            self.notice.emit("info", "Key ignored: the pair had only just appeared.")
            return False
        pair, marks = self._pair, self._pair_state
        self.dwell.stop()
        dwell_ms = max(1, self.dwell.elapsed_ms())
        fast = choice is not ScreenChoice.SKIP and too_fast(dwell_ms / 1000, pair.left, pair.right)
        self._set_state(State.SAVING)
        generation = self._generation()
        self._ops.call(
            commit_label,
            self._project,
            self.reviewer,
            pair.handle,
            choice,
            refusal_left=marks.refusal_left,
            refusal_right=marks.refusal_right,
            note=marks.note.strip() or None,
            flagged=marks.flagged,
            dwell_ms=dwell_ms,
            on_done=lambda event_id: self._on_saved(
                generation, pair, choice, fast, dwell_ms, event_id
            ),
            on_error=lambda error: self._on_save_failed(generation, error),
            changes=Changes(labels=True, initiator=self),
        )
        return True

    def _generation(self) -> int:
        return self._session

    def _alive(self, generation: int) -> bool:
        """Whether a worker result still belongs to the live session."""
        return not self._dead and generation == self._session

    def _on_saved(
        self,
        generation: int,
        pair: Pair,
        choice: ScreenChoice,
        fast: bool,
        dwell_ms: int,
        event_id: int,
    ) -> None:
        if not self._alive(generation):
            return
        self._last_saved_handle = pair.handle
        self._unchecked_labels += 1
        self._history.append((pair.handle, choice))
        self._undo_available = min(UNDO_DEPTH, self._undo_available + 1)
        self._exhausted = False
        if choice is not ScreenChoice.SKIP:
            self.pace.add(dwell_ms / 1000, fast)
            if self.progress is not None:
                self._set_progress(adjusted(self.progress, 1))
        self.label_saved.emit(SavedLabel(choice, fast, dwell_ms, event_id))
        self.reveal_available.emit(self.reveal_allowed and choice is not ScreenChoice.SKIP)
        if fast:
            self.notice.emit(
                "pace",
                "That was quick. Take the time you need to read both responses.",
            )
        self._pair = None
        self._advance()
        if self._progress_due():
            self._request_progress()

    def _on_save_failed(self, generation: int, error: BaseException) -> bool:
        if not self._alive(generation):
            return True
        self._set_state(State.SHOWING)
        self.dwell.resume()
        self.notice.emit("error", "Not saved. The pair is still here; try again.")
        return False  # let the error dialog explain what happened

    # ------------------------------------------------------------------ undo / reveal

    def undo(self) -> bool:
        """Retract the last label and show that pair again, with the same sides."""
        if self._state not in (State.SHOWING, State.DONE):
            self.dropped_keys += 1
            return False
        previous = self._state
        self.dwell.stop()
        self._set_state(State.SAVING)
        generation = self._generation()
        self._ops.call(
            undo_and_restore,
            self._project,
            self.reviewer,
            on_done=lambda result: self._on_undone(generation, previous, result),
            on_error=lambda error: self._on_undo_failed(generation, previous),
            changes=Changes(labels=True, initiator=self),
        )
        return True

    def _on_undone(
        self, generation: int, previous: State, result: tuple[UndoStatus, Pair | None]
    ) -> None:
        if not self._alive(generation):
            return
        status, restored = result
        if status.undone:
            known = self._history.pop() if self._history else None
            if known is None or self.progress is None:
                self._request_progress()  # a label from an earlier session: count exactly
            elif known[1] is not ScreenChoice.SKIP:
                self._set_progress(adjusted(self.progress, -1))
        if not status.undone or restored is None:
            self._set_state(previous)
            if previous is State.SHOWING:
                self.dwell.resume()
            self.notice.emit("info", status.message.capitalize())
            return
        self._undo_available = max(0, self._undo_available - 1)
        self.pace.remove_last()
        self._last_saved_handle = None
        self.reveal_available.emit(False)
        self._ready = deque(p for p in self._ready if p.handle != restored.handle)
        if self._pair is not None and self._pair.handle != restored.handle:
            self._ready.appendleft(self._pair)
        left = status.remaining_undos
        self.notice.emit(
            "info",
            f"Undone. The pair is back; {left} more undo{'s' if left != 1 else ''} available.",
        )
        self._show(restored)

    def _on_undo_failed(self, generation: int, previous: State) -> bool:
        if self._alive(generation):
            self._set_state(previous)
            if previous is State.SHOWING:
                self.dwell.resume()
        return False

    def reveal(self) -> bool:
        """Reveal which model wrote which side of the pair just labeled (if the project allows)."""
        handle = self._last_saved_handle
        if not self.reveal_allowed or handle is None or self._state is State.SAVING:
            return False
        generation = self._generation()
        from reviewdesk.services.reveal import reveal_pair

        self._ops.call(
            reveal_pair,
            self._project,
            self.reviewer,
            handle,
            on_done=lambda revealed: self._on_revealed(generation, revealed),
        )
        return True

    def _on_revealed(self, generation: int, revealed: object) -> None:
        if self._alive(generation):
            self.revealed.emit(revealed)

    # ------------------------------------------------------------------ serving

    def _show(self, pair: Pair) -> None:
        self._pair = pair
        self._pair_state = PairState()
        self._set_state(State.SHOWING)
        self.dwell.restart()
        self._shown_at = self._now()
        self.pair_shown.emit(pair)
        self.pair_state_changed.emit(self._pair_state)
        # Top up the prefetch a moment later: the new pair is painted first, without the
        # worker's query competing with the paint for the interpreter.
        self._refill.start()
        self.upcoming_changed.emit(list(self._ready))

    def _advance(self) -> None:
        if self._ready:
            self._show(self._ready.popleft())
            return
        self._set_state(State.LOADING)
        self._fetch()

    def _held(self) -> list[str]:
        held = [p.handle for p in self._ready]
        if self._pair is not None:
            held.append(self._pair.handle)
        return held

    def _fetch(self) -> None:
        """Top up the prefetched pairs (one fetch in flight at a time)."""
        if self._fetching or self._dead:
            return
        want = PREFETCH_DEPTH - len(self._ready) + (0 if self._pair is not None else 1)
        if want <= 0 or (self._exhausted and self._state is not State.LOADING):
            return
        self._fetching = True
        generation = self._generation()
        self._ops.call(
            next_pairs,
            self._project,
            self.reviewer,
            want,
            self._held(),
            on_done=lambda pairs: self._on_fetched(generation, want, pairs),
            on_error=lambda error: self._on_fetch_failed(generation),
        )

    def _on_fetched(self, generation: int, wanted: int, pairs: Sequence[Pair]) -> None:
        if not self._alive(generation):
            return
        self._fetching = False
        held = set(self._held())
        fresh = [p for p in pairs if p.handle not in held]
        self._ready.extend(fresh)
        self._exhausted = len(pairs) < wanted
        if self._state is State.LOADING:
            if self._ready:
                self._show(self._ready.popleft())
                if self.progress is None:
                    self._request_progress()  # after the first pair is on screen, not before
                return
            if self._exhausted:
                self._set_state(State.DONE)
                self._request_progress()
                return
        if fresh:
            self.upcoming_changed.emit(list(self._ready))
        if not self._exhausted:
            self._fetch()
        if not self._fetching:
            self._checkpoint_if_due()

    def _checkpoint_if_due(self) -> None:
        """Fold the WAL into the project file on the worker (after a refill: the reviewer reads)."""
        if self._checkpointing or self._dead or self._unchecked_labels < CHECKPOINT_EVERY:
            return
        self._checkpointing = True
        self._unchecked_labels = 0
        self._ops.call(
            checkpoint_idle,
            self._project,
            on_done=lambda _pages: self._on_checkpointed(),
            on_error=self._on_checkpoint_failed,
        )

    def _on_checkpointed(self) -> None:
        self._checkpointing = False

    def _on_checkpoint_failed(self, error: BaseException) -> bool:
        """Labels are safe in the WAL either way; the next commit or close checkpoints."""
        self._checkpointing = False
        log.warning("WAL checkpoint failed: %s", error)
        return True

    def _on_fetch_failed(self, generation: int) -> bool:
        if self._alive(generation):
            self._fetching = False
            if self._state is State.LOADING:
                self._set_state(State.DONE if self._pair is None else State.SHOWING)
        return False

    def _progress_due(self) -> bool:
        asked = self._progress_asked_at
        return asked is None or self._now() - asked >= PROGRESS_REFRESH_S

    def _request_progress(self) -> None:
        """Ask for exact progress counts on the worker (one request in flight at a time)."""
        if self._progress_pending or self._dead:
            return
        self._progress_pending = True
        self._progress_asked_at = self._now()
        generation = self._generation()
        self._ops.call(
            review_progress,
            self._project,
            self.reviewer,
            on_done=lambda progress: self._on_progress(generation, progress),
            on_error=lambda error: self._on_progress_failed(generation),
        )

    def _on_progress(self, generation: int, progress: ReviewProgress) -> None:
        if self._alive(generation):
            self._progress_pending = False
            self._set_progress(progress)

    def _on_progress_failed(self, generation: int) -> bool:
        if self._alive(generation):
            self._progress_pending = False
        return False

    def _set_progress(self, progress: ReviewProgress) -> None:
        self.progress = progress
        self.progress_changed.emit(progress)
