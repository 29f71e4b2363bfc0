"""Instrumentation of the monitor (STATISTICS.md §7.1): anchor panel by label entropy, anchor
rounds re-served blind (test–retest), and controls that look like any other pair."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.model import ScreenChoice, Slot
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.queueing import instrumentation as policy
from reviewdesk.services.importing import import_file
from reviewdesk.services.instrumentation import (
    add_controls,
    build_anchor_panel,
    schedule_anchor_round,
)
from reviewdesk.services.monitor import load_monitor_data
from reviewdesk.services.project import Project, create_project
from reviewdesk.services.queue import build_queue
from reviewdesk.services.review import ensure_reviewer, fetch_pairs, record_label
from reviewdesk.stats.homogenization import PANEL_ANCHOR
from tests.conftest import native_item, write_jsonl

LN3 = math.log(3)

# -------------------------------------------------------------------------------------------
# Pure policy
# -------------------------------------------------------------------------------------------


def test_label_entropy_threshold_needs_three_values() -> None:
    assert policy.label_entropy((1, 1, 1)) == pytest.approx(LN3)
    assert policy.label_entropy((2, 1, 1)) >= policy.ENTROPY_THRESHOLD
    assert policy.label_entropy((2, 2, 0)) < policy.ENTROPY_THRESHOLD  # 0.69 < 0.88
    assert policy.label_entropy((1, 1, 0)) < policy.ENTROPY_THRESHOLD
    assert policy.pairwise_disagreement((1, 1, 0)) == 1.0
    assert policy.pairwise_disagreement((3, 0, 0)) == 0.0


def test_anchor_selection_prefers_entropy_keeps_preselected_and_reports_relaxing() -> None:
    cands = (
        [policy.AnchorCandidate(f"hi-{k}", (2, 1, 1)) for k in range(30)]
        + [policy.AnchorCandidate(f"top-{k}", (1, 1, 1)) for k in range(10)]
        + [policy.AnchorCandidate(f"split-{k}", (1, 0, 1)) for k in range(30)]
        + [policy.AnchorCandidate(f"calm-{k}", (3, 0, 0)) for k in range(30)]
        + [policy.AnchorCandidate("marked", (0, 0, 0), preselected=True)]
    )
    sel = policy.select_anchor_panel(cands, seed=5, min_size=50, max_size=100)
    assert sel.chosen[0] == "marked"
    # the highest entropy first (ties in a seeded hash order)
    assert set(sel.chosen[1:11]) == {f"top-{k}" for k in range(10)}
    assert sel.n_at_threshold == 40
    assert sel.n_relaxed == 9  # filled to the minimum with contested items below the threshold
    assert all(k.startswith("split-") for k in sel.chosen[41:])
    assert not any(k.startswith("calm-") for k in sel.chosen)
    assert sel.shortfall == 0
    assert policy.select_anchor_panel(cands, seed=5) == sel  # deterministic
    small = policy.select_anchor_panel(cands[:5], seed=5)
    assert small.shortfall == 45


def test_rounds_and_priorities() -> None:
    from datetime import UTC, datetime

    r = policy.anchor_round(datetime(2026, 2, 18, 12, tzinfo=UTC))
    assert r == 202608
    assert policy.anchor_round_label(r) == "2026-W08"
    contested = [0.5, 0.6, 1.0, 1.0]
    p1 = policy.anchor_entry_priority(1, "item-1", 202608, contested)
    assert p1 in contested
    assert policy.anchor_entry_order_key(1, "item-1", 202608) != policy.anchor_entry_order_key(
        1, "item-1", 202609
    )
    assert policy.control_counts(190, 0.05) == (5, 5)
    assert policy.control_counts(0) == (0, 0)


TEXT = (
    "Thanks for reaching out!\n\n1. Restart the VPN client.\n2. Switch the profile to full "
    "tunnel and reconnect, then check the routes.\n3. Flush the DNS cache.\n\nLet me know."
)


@pytest.mark.parametrize("method", policy.POSITIVE_METHODS)
def test_degraded_copies_are_deterministic_and_different(method: str) -> None:
    a = policy.degrade(TEXT, method, 1, "k")
    assert a == policy.degrade(TEXT, method, 1, "k")
    assert a != TEXT
    if method in ("drop_key_step", "truncate"):
        assert len(a) < len(TEXT)
    if method == "drop_key_step":
        assert "full tunnel" not in a  # the longest step is the key step here
    if method == "shuffle_sentences":
        lines = [line for line in a.split("\n") if line]
        assert sorted(lines) == sorted(line for line in TEXT.split("\n") if line)
    if method == "filler_for_key_step":
        assert policy.FILLER in a
    single = policy.degrade("Restart the router and wait two minutes", method, 1, "k")
    assert single
    assert single != "Restart the router and wait two minutes"


def test_negative_control_texts() -> None:
    plan = policy.ControlPlan("src", "ctl-1", "control_negative", "paraphrase", Slot.B, Slot.A)
    texts = policy.control_texts("You are right: do not restart it.", plan, 1)
    assert texts[Slot.B] == "You are right: do not restart it."
    assert texts[Slot.A] != texts[Slot.B]
    assert "don't" in texts[Slot.A]
    same = dataclasses.replace(plan, method="identical")
    assert len(set(policy.control_texts("x", same, 1).values())) == 1


# -------------------------------------------------------------------------------------------
# Services on a project
# -------------------------------------------------------------------------------------------


def _label(reviewer: str, choice: str, day: int, left: str = "A") -> dict[str, Any]:
    return {
        "reviewer": reviewer,
        "choice": choice,
        "shown_left": left,
        "labeled_at": f"2026-01-{day:02d}T10:00:00Z",
    }


def _project(path: Path, tmp: Path, clock: FixedClock) -> Project:
    """60 split items with 3–4 labels (half of them 3-way splits), 60 unlabelled plain items."""
    judgments = [
        {"judge": "j1", "kind": "llm", "verdict": "A", "order": "AB"},
        {"judge": "j2", "kind": "llm", "verdict": "B", "order": "AB"},
    ]
    records = []
    for n in range(60):
        choices = ["A", "tie", "B", "A"] if n % 2 == 0 else ["A", "A", "A", "B"]
        labels = [_label(f"r{k}", c, 5 + k, "A" if k % 2 else "B") for k, c in enumerate(choices)]
        records.append(
            native_item(f"split-{n:02d}", judgments=judgments, labels=labels, prompt=f"Q{n}?")
        )
    plain = [
        {"judge": "j1", "kind": "llm", "verdict": "A"},
        {"judge": "j2", "kind": "llm", "verdict": "A"},
    ]
    for n in range(60):
        records.append(
            native_item(
                f"plain-{n:02d}",
                judgments=plain,
                text_a=TEXT,
                text_b=f"1. Reboot.\n2. Call support {n}.",
                subject_id=f"subj-{n}",
            )
        )
    project = create_project(
        path, seed=42, clock=clock, candidate="sft-2026-11", baseline="base-2026-10"
    )
    run_to_completion(import_file(project, write_jsonl(tmp / "in.jsonl", records)))
    build_queue(project, audit_rate=0.0, overlap=2)
    return project


def test_anchor_panel_is_chosen_by_entropy(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with _project(project_path, tmp_path, clock) as project:
        report = build_anchor_panel(project, min_size=20, max_size=40)
        assert report.selection.n_at_threshold == 30  # the 3-way splits
        assert report.selection.n_relaxed == 0
        assert report.panel_size == 30
        with sqlite3.connect(project_path) as con:
            anchors = {k for (k,) in con.execute("SELECT item_key FROM item WHERE panel='anchor'")}
        assert anchors == {f"split-{n:02d}" for n in range(0, 60, 2)}
        # labels after --before do not count: nothing qualifies before the first label
        from datetime import UTC, datetime

        again = build_anchor_panel(project, before=datetime(2026, 1, 1, tzinfo=UTC), min_size=1)
        assert again.selection.n_preselected == 30  # marked ones stay


def test_anchor_rounds_reserve_anchors_and_give_test_retest(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with _project(project_path, tmp_path, clock) as project:
        build_anchor_panel(project, min_size=20, max_size=40)
        first = schedule_anchor_round(project, round_=202602)
        assert first.added == 30
        assert first.window == "2026-W02"
        assert schedule_anchor_round(project, round_=202602).added == 0  # idempotent
        second = schedule_anchor_round(project, round_=202603, labels_needed=4)
        assert second.added == 30
        with sqlite3.connect(project_path) as con:
            rows = con.execute(
                "SELECT round, reason, labels_needed FROM queue_entry WHERE round > 0"
            ).fetchall()
            contested = {
                p
                for (p,) in con.execute(
                    "SELECT priority FROM queue_entry WHERE reason = 'contested'"
                )
            }
            anchor_prio = {
                p
                for (p,) in con.execute(
                    "SELECT priority FROM queue_entry WHERE reason = 'anchor' AND round > 0"
                )
            }
        assert {(r, reason) for r, reason, _ in rows} == {(202602, "anchor"), (202603, "anchor")}
        assert anchor_prio <= contested  # interleaved with contested entries
        # the same reviewer labels one anchor in both rounds: two labels, a test–retest pair
        ensure_reviewer(project, "rev-x")
        seen: dict[str, int] = {}
        for _ in range(200):
            pairs, _ = fetch_pairs(project, "rev-x", 1)
            if not pairs:
                break
            pair = pairs[0]
            seen[pair.prompt or ""] = seen.get(pair.prompt or "", 0) + 1
            record_label(project, "rev-x", pair.handle, ScreenChoice.LEFT)
            clock.advance(60)
        assert max(seen.values()) >= 2
        data = load_monitor_data(project).data
        anchors = data.items.panel[data.humans.item] == PANEL_ANCHOR
        per_item: dict[int, int] = {}
        rev = data.humans.labelers.index("rev-x")
        for it, lab in zip(data.humans.item[anchors], data.humans.labeler[anchors], strict=True):
            if lab == rev:
                per_item[int(it)] = per_item.get(int(it), 0) + 1
        assert max(per_item.values()) >= 2


def test_controls_are_deterministic_and_blinded(tmp_path: Path, clock: FixedClock) -> None:
    made = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.reviewdesk"
        sub = tmp_path / name
        sub.mkdir()
        with _project(path, sub, clock) as project:
            report = add_controls(project, positive=4, negative=3)
            assert (report.positive, report.negative) == (4, 3)
            with sqlite3.connect(path) as con:
                made.append(
                    con.execute(
                        "SELECT i.item_key, i.panel, i.prompt, i.subject_id, i.meta, a.model, "
                        "a.text, b.model, b.text FROM item i "
                        "JOIN response a ON a.item_id = i.id AND a.slot = 'A' "
                        "JOIN response b ON b.item_id = i.id AND b.slot = 'B' "
                        "WHERE i.panel LIKE 'control%' ORDER BY i.item_key"
                    ).fetchall()
                )
            if name == "a":
                _check_blinding(project, path)
    assert made[0] == made[1]  # same seed, same controls, same texts
    rows = made[0]
    assert sum(r[1] == "control_positive" for r in rows) == 4
    for key, panel, prompt, subject, meta, model_a, text_a, model_b, text_b in rows:
        assert key.startswith("ctl-")
        assert prompt.startswith("Prompt of plain-")  # the source's prompt
        assert subject is not None  # erasure reaches it
        assert subject.startswith("subj-")
        assert (model_a, model_b) == ("base-2026-10", "sft-2026-11")  # the source's models
        if panel == "control_positive":
            assert text_a != text_b
        assert '"reference_slot"' in meta


def _check_blinding(project: Project, path: Path) -> None:
    """Every served pair has the same fields; control pairs carry nothing that sets them apart."""
    ensure_reviewer(project, "rev-b")
    pairs, _ = fetch_pairs(project, "rev-b", 500)
    with sqlite3.connect(path) as con:
        control_entries = {
            str(e) for (e,) in con.execute("SELECT id FROM queue_entry WHERE reason = 'control'")
        }
    controls = [p for p in pairs if p.handle.split(".")[0] in control_entries]
    others = [p for p in pairs if p.handle.split(".")[0] not in control_entries]
    assert len(controls) == 7
    assert others
    fields = [f.name for f in dataclasses.fields(controls[0])]
    for p in controls:
        assert [f.name for f in dataclasses.fields(p)] == fields
        handle_entry, handle_side = p.handle.split(".")
        assert handle_entry.isdigit()  # like every other handle
        assert handle_side in ("A", "B")
        visible = " ".join(str(v) for v in (p.prompt, p.left, p.right))
        for word in ("control", "ctl-", "degrad", "reference", "panel", "anchor", "sft-", "base-"):
            assert word not in visible
        assert p.messages is None
    # controls are spread through the queue, not bunched at its end
    positions = [k for k, p in enumerate(pairs) if p in controls]
    assert positions[0] < len(pairs) - len(controls)


def test_control_rate_fills_to_five_percent(
    project_path: Path, tmp_path: Path, clock: FixedClock
) -> None:
    with _project(project_path, tmp_path, clock) as project:
        report = add_controls(project)  # 60 contested entries → 3 controls at 5 %
        assert report.wanted == (2, 1)
        assert (report.positive, report.negative) == (2, 1)
        assert add_controls(project).positive == 0  # already at the rate
