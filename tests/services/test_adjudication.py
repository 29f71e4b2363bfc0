"""Blind adjudication of conflicting human labels, and what it does to the preference export."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.model import ScreenChoice
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.adjudication import answer_adjudication, serve_adjudication
from reviewdesk.services.audit import verify_audit
from reviewdesk.services.preferences import AUDIT_FILE, PreferenceOptions, export_preferences
from tests.conftest import native_item
from tests.services.export_support import SPLIT, build, label, read_jsonl


def conflicts() -> list[dict[str, object]]:
    return [
        native_item("c1", judgments=SPLIT, labels=[label("ext-1", "A"), label("ext-2", "B")]),
        native_item("c2", judgments=SPLIT, labels=[label("ext-1", "B"), label("ext-3", "A")]),
        native_item("fine", judgments=SPLIT, labels=[label("ext-1", "A"), label("ext-2", "A")]),
    ]


def test_adjudication_is_blind_and_decides_the_export(tmp_path: Path) -> None:
    path = tmp_path / "p.reviewdesk"
    with build(path, tmp_path, conflicts()) as project:
        served = serve_adjudication(project, "adj")
        assert served.remaining == 2
        pair = served.pair
        assert pair is not None
        shown = repr((pair.handle, pair.prompt, pair.messages, pair.left, pair.right))
        for secret in ("base-2026-10", "sft-2026-11", "ext-1", "ext-2", "ext-3", "judge"):
            assert secret not in shown  # (the sample texts name their item on purpose)
        assert len(pair.handle) == 32  # an opaque keyed hash
        assert serve_adjudication(project, "adj").pair == pair  # stable until answered
        first = answer_adjudication(project, "adj", pair.handle, ScreenChoice.LEFT)
        assert first.remaining == 1
        with pytest.raises(UserError, match="already settled"):
            answer_adjudication(project, "adj", pair.handle, ScreenChoice.LEFT)
        second = serve_adjudication(project, "adj").pair
        assert second is not None
        with pytest.raises(UserError, match="must decide"):
            answer_adjudication(project, "adj", second.handle, ScreenChoice.SKIP)
        answer_adjudication(project, "adj", second.handle, ScreenChoice.TIE, note="both fine")
        done = serve_adjudication(project, "adj")
        assert done.pair is None
        assert done.remaining == 0
        result = run_to_completion(
            export_preferences(project, tmp_path / "out", PreferenceOptions())
        )
        assert result.pairs_by_source == {"human": 1, "adjudication": 1, "llm": 0}
        assert result.dropped == {"adjudicated_tie_or_both_bad": 1}
        assert run_to_completion(verify_audit(project)).kinds["adjudicate"] == 2
    audit = {r["id"]: r for r in read_jsonl(tmp_path / "out" / AUDIT_FILE)}
    decided = next(r for r in audit.values() if r["source"] == "adjudication")
    assert decided["chosen"]["slot"] == pair.left_slot.value  # "left" was the shown left slot
    assert decided["adjudication"]["reviewer"] == "adj"
    assert decided["adjudication"]["shown_left"] == pair.left_slot.value
    assert decided["agreement"] == 0.0  # the conflict stays visible
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT provenance, entry_id, screen_choice FROM label_event "
            "WHERE provenance = 'adjudication' ORDER BY id"
        ).fetchall()
    con.close()
    assert rows == [("adjudication", None, "left"), ("adjudication", None, "tie")]


def test_labelers_do_not_adjudicate_their_own_conflicts(tmp_path: Path) -> None:
    with build(tmp_path / "p.reviewdesk", tmp_path, conflicts()) as project:
        own = serve_adjudication(project, "ext-2")
        assert own.remaining == 1  # c2 only; c1 has ext-2's own label
        assert own.own == 1
        nothing = serve_adjudication(project, "ext-1")
        assert nothing.pair is None
        assert nothing.own == 2
        with pytest.raises(UserError, match="unknown"):
            answer_adjudication(project, "ext-1", "0" * 32, ScreenChoice.LEFT)
