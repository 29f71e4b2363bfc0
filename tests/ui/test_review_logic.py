"""The Qt-free rules behind the review window: key map data, dwell, pace, word diff."""

from __future__ import annotations

import pytest

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.keymap import (
    ACTION_IDS,
    ACTIONS,
    DEFAULT_KEYMAP,
    key_owner,
    keymap_overrides,
    merged_keymap,
    normalize_key,
    validate_keymap,
)
from reviewdesk.ui.review.pacing import DwellClock, SessionPace, plausible_reading_s, too_fast
from reviewdesk.ui.review.text_diff import word_diff


def test_default_keymap_matches_the_spec_and_binds_each_key_once() -> None:
    assert validate_keymap(DEFAULT_KEYMAP) == []
    assert set(DEFAULT_KEYMAP) == ACTION_IDS == {a.id for a in ACTIONS}
    owner = key_owner(DEFAULT_KEYMAP)
    spec = {
        "1": "review.choose_left",
        "A": "review.choose_left",
        "Left": "review.choose_left",
        "2": "review.choose_right",
        "B": "review.choose_right",
        "Right": "review.choose_right",
        "3": "review.choose_tie",
        "T": "review.choose_tie",
        "4": "review.choose_both_bad",
        "X": "review.choose_both_bad",
        "Space": "review.skip",
        "Q": "review.refusal_left_complied",
        "W": "review.refusal_left_partial",
        "E": "review.refusal_left_full",
        "I": "review.refusal_right_complied",
        "O": "review.refusal_right_partial",
        "P": "review.refusal_right_full",
        "N": "review.note",
        "F": "review.flag",
        "Ctrl+Z": "review.undo",
        "Backspace": "review.undo",
        "Ctrl+F": "review.find",
        "D": "review.diff",
        "?": "app.help",
    }
    for key, action in spec.items():
        assert owner[key] == action


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("ctrl+z", "Ctrl+Z"),
        ("Shift+Ctrl+x", "Ctrl+Shift+X"),
        ("esc", "Escape"),
        ("a", "A"),
        ("Ctrl++", "Ctrl++"),
        ("space", "Space"),
        ("f5", "F5"),
    ],
)
def test_key_spellings_normalize(spelling: str, canonical: str) -> None:
    assert normalize_key(spelling) == canonical


@pytest.mark.parametrize("bad", ["", "Hyper+A", "Ctrl+", "Banana"])
def test_bad_keys_are_refused(bad: str) -> None:
    with pytest.raises(UserError):
        normalize_key(bad)


def test_validation_finds_duplicates_and_unknown_actions() -> None:
    remapped = {**DEFAULT_KEYMAP, "review.flag": ("a",), "review.teleport": ("K",)}
    problems = validate_keymap(remapped)
    assert any("A is bound to both review.choose_left and review.flag" in p for p in problems)
    assert any("unknown action 'review.teleport'" in p for p in problems)
    assert validate_keymap({"review.flag": ("G", "g")}) == ["G is listed twice for review.flag"]
    with pytest.raises(UserError, match="bound to both"):
        merged_keymap({"review.skip": ("1",)})


def test_overrides_store_only_differences() -> None:
    merged = merged_keymap({"review.flag": ("G",)})
    assert merged["review.flag"] == ("G",)
    assert keymap_overrides(merged) == {"review.flag": ["G"]}
    assert keymap_overrides(DEFAULT_KEYMAP) == {}


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_dwell_counts_only_active_time() -> None:
    now = FakeTime()
    clock = DwellClock(now)
    clock.restart()
    now.t += 2
    clock.set_active(False)
    now.t += 50  # minimized or another app in front: not counted
    clock.set_active(True)
    now.t += 1.5
    assert clock.elapsed_ms() == 3500
    clock.stop()
    now.t += 10
    assert clock.elapsed_ms() == 3500
    clock.resume()
    now.t += 0.5
    assert clock.elapsed_ms() == 4000
    clock.set_active(False)
    clock.restart()  # a pair shown while inactive starts counting on activation
    now.t += 5
    assert clock.elapsed_ms() == 0
    clock.set_active(True)
    now.t += 1
    assert clock.elapsed_ms() == 1000


def test_pace_rule_and_session_figures() -> None:
    assert plausible_reading_s("", "") == 1.5
    assert plausible_reading_s("x" * 1000, "y" * 1000) == pytest.approx(7.0)
    assert too_fast(1.0, "a", "b")
    assert not too_fast(2.0, "a", "b")
    pace = SessionPace()
    assert pace.describe() == "pace —"
    for seconds in (4.0, 8.0, 30.0):
        pace.add(seconds, seconds < 5)
    assert pace.median_s() == 8.0
    assert pace.too_fast == 1
    assert pace.describe() == "pace 8.0 s/pair"
    pace.remove_last()
    assert pace.count == 2


def test_word_diff_marks_what_differs() -> None:
    left = "Roll back the deploy now, then check the error budget."
    right = "Roll back the release now, then page the owner."
    diff = word_diff(left, right)
    left_words = [left[a:b] for a, b in diff.left]
    right_words = [right[a:b] for a, b in diff.right]
    assert "deploy" in left_words
    assert "release" in right_words
    assert "check" in left_words
    assert "error budget" in left_words
    assert all("Roll" not in w for w in left_words + right_words)
    assert not diff.truncated
    assert word_diff("same text", "same text").left == []


def test_word_diff_has_a_budget() -> None:
    long_left = " ".join(f"a{i}" for i in range(10_000))
    long_right = " ".join(f"b{i}" for i in range(10_000))
    diff = word_diff(long_left, long_right, max_tokens=500)
    assert diff.truncated
    assert diff.left
    assert diff.left[-1][1] <= len(" ".join(f"a{i}" for i in range(500)))
