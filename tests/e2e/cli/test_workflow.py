"""The headless workflow through real subprocess runs: init, import, queue, status, review."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import native_item, write_jsonl
from tests.e2e.cli.conftest import run_cli


def judged(item_id: str, *judgments: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return native_item(item_id, judgments=list(judgments), **extra)


def llm(
    judge: str, verdict: str, order: str | None = None, p: float | None = None
) -> dict[str, Any]:
    j: dict[str, Any] = {"judge": judge, "kind": "llm", "verdict": verdict}
    if order:
        j["order"] = order
    if p is not None:
        j["probability_b"] = p
    return j


def make_inputs(tmp_path: Path, count: int = 40) -> tuple[Path, Path]:
    """Two judge files about the same 40 items, with hand-counted disagreements.

    judge-one: both orders on every item; judge-two: one verdict per item.
    i00–i04 judge_split; i05–i07 position_flip (+ tie_split, judge-two decisive);
    i08–i09 tie_split (judge-two says tie); i10–i12 low_confidence; the rest agree.
    """
    one, two = [], []
    for n in range(count):
        key = f"i{n:02d}"
        ab, ba, second, p = "A", "A", "A", 0.9
        if n < 5:
            second = "B"
        elif n < 8:
            ba = "B"
        elif n < 10:
            second = "tie"
        elif n < 13:
            p = 0.45
        one.append(judged(key, llm("judge-one", ab, "AB", p), llm("judge-one", ba, "BA", p)))
        two.append(judged(key, llm("judge-two", second)))
    return write_jsonl(tmp_path / "one.jsonl", one), write_jsonl(tmp_path / "two.jsonl", two)


def test_init_import_queue_status(tmp_path: Path) -> None:
    project = tmp_path / "p.reviewdesk"
    one, two = make_inputs(tmp_path)
    run_cli(
        "init", project, "--candidate", "sft-2026-11", "--baseline", "base-2026-10", "--seed", "7"
    )
    first = run_cli("import", project, one)
    assert "40 new items" in first.out
    second = run_cli("import", project, two, "--json").json()
    assert second["items_added"] == 0
    assert second["items_existing"] == 40
    assert second["judgments_added"] == 40
    again = run_cli("import", project, two, "--json").json()  # idempotent
    assert again["judgments_added"] == 0
    assert again["judgments_duplicate"] == 40
    run_cli("queue", "build", project, "--audit-rate", "0.25", "--overlap", "2")
    status = run_cli("status", project, "--json").json()
    assert status["schema"] == "reviewdesk.status/v1"
    assert status["items"] == 40
    assert status["judgments"] == 120
    assert status["judges"] == ["judge-one", "judge-two"]
    assert status["models"] == ["base-2026-10", "sft-2026-11"]
    assert status["contested_by_reason"] == {
        "judge_split": 5,
        "position_flip": 3,
        "tie_split": 5,
        "low_confidence": 3,
    }
    assert status["contested"] == 13
    queue = status["queue"]
    assert queue["by_reason"]["contested"] == 13
    audit = queue["by_reason"]["audit"]
    assert 1 <= audit <= 15  # 27 uncontested items at rate 0.25
    assert queue["total"] == 13 + audit
    assert queue["labels_needed"] == 2 * queue["total"]
    assert queue["labels_done"] == 0
    assert status["labels"] == {"human": 0, "in_app": 0, "imported": 0, "reviewers": 0}
    # Rebuilding adds nothing.
    rebuilt = run_cli("queue", "build", project, "--audit-rate", "0.25", "--json").json()
    assert sum(rebuilt["added"].values()) == 0
    assert run_cli("status", project, "--json").json()["queue"] == queue
    text = run_cli("status", project).out
    assert "contested   13" in text


def review_all(project: Path, reviewer: str, choose: Any) -> list[dict[str, Any]]:
    """Label everything the queue has for ``reviewer``; return what was shown and answered."""
    seen: list[dict[str, Any]] = []
    while True:
        served = run_cli("next", project, "--reviewer", reviewer, "--json").json()
        if served["token"] is None:
            assert served["remaining"] == 0
            return seen
        if not seen:
            again = run_cli("next", project, "--reviewer", reviewer, "--json").json()
            assert again == served  # asking twice serves the same pair
        choice = choose(served)
        answered = run_cli(
            "answer",
            project,
            "--reviewer",
            reviewer,
            "--token",
            served["token"],
            "--choice",
            choice,
            "--refusal-left",
            "full_compliance",
            "--json",
        ).json()
        assert answered["saved"] is True
        assert answered["done"] == served["done"] + 1
        seen.append({**served, "choice": choice})


def test_two_reviewers_work_through_the_queue(tmp_path: Path) -> None:
    project = tmp_path / "p.reviewdesk"
    one, two = make_inputs(tmp_path, count=4)  # i00–i03 all contested
    run_cli("init", project, "--seed", "11")
    run_cli("import", project, one)
    run_cli("import", project, two)
    run_cli("queue", "build", project, "--audit-rate", "0", "--overlap", "2")
    # Reviewer 1 always picks the longer text shown; reviewer 2 always the left one.
    first = review_all(
        project, "rev-1", lambda s: "left" if len(s["left"]) >= len(s["right"]) else "right"
    )
    second = review_all(project, "rev-2", lambda s: "left")
    assert len(first) == len(second) == 4
    done = run_cli("next", project, "--reviewer", "rev-1", "--json").json()
    assert done == {"token": None, "done": 4, "remaining": 0}
    status = run_cli("status", project, "--json").json()
    assert status["queue"]["labels_done"] == status["queue"]["labels_needed"] == 8
    assert status["labels"]["in_app"] == 8
    assert status["labels"]["reviewers"] == 2

    con = sqlite3.connect(project)
    rows = con.execute(
        "SELECT e.item_id, r.name, e.left_slot, e.screen_choice, e.choice, e.refusal_a, "
        "e.refusal_b, e.dwell_ms FROM label_event e JOIN reviewer r ON r.id = e.reviewer_id "
        "ORDER BY e.id"
    ).fetchall()
    assert len(rows) == 8
    by_item: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        item, _name, left, screen, choice, ref_a, ref_b, dwell = row
        # The canonical choice follows from the screen choice and the side shown.
        expected = left if screen == "left" else ("B" if left == "A" else "A")
        assert choice == expected
        # The refusal class given for the left response lands on the slot that was on the left.
        assert (ref_a if left == "A" else ref_b) == "full_compliance"
        assert dwell is not None
        assert dwell >= 0
        by_item.setdefault(item, []).append(row)
    # Counterbalancing: an item's second label is shown the other way round from its first.
    assert all(len(v) == 2 and v[0][2] != v[1][2] for v in by_item.values())
    # Reviewer 2 always chose left, so the canonical choices alternate with the sides.
    rev2 = [r for r in rows if r[1] == "rev-2"]
    assert {r[4] for r in rev2} == {"A", "B"}


def test_undo_restores_the_pair(tmp_path: Path) -> None:
    project = tmp_path / "p.reviewdesk"
    one, _ = make_inputs(tmp_path, count=14)  # judge-one alone: 6 contested (flips, low conf.)
    run_cli("init", project, "--seed", "3")
    run_cli("import", project, one)
    run_cli("queue", "build", project, "--audit-rate", "0")
    nothing = run_cli("undo", project, "--reviewer", "rev-1", check=1)
    assert "no reviewer profile" in nothing.err
    served = run_cli("next", project, "--reviewer", "rev-1", "--json").json()
    assert run_cli("undo", project, "--reviewer", "rev-1", check=1).err.strip() == (
        "reviewdesk: nothing to undo"
    )
    run_cli("answer", project, "--reviewer", "rev-1", "--token", served["token"], "--choice", "tie")
    after = run_cli("next", project, "--reviewer", "rev-1", "--json").json()
    assert after["left"] != served["left"] or after["prompt"] != served["prompt"]
    assert after["done"] == 1
    undone = run_cli("undo", project, "--reviewer", "rev-1")
    assert "undid the last label (tie)" in undone.out
    back = run_cli("next", project, "--reviewer", "rev-1", "--json").json()
    assert back["done"] == 0
    assert (back["prompt"], back["left"], back["right"]) == (
        served["prompt"],
        served["left"],
        served["right"],
    )
    # Undo appended a retraction; the original event is still there.
    con = sqlite3.connect(project)
    kinds = [r[0] for r in con.execute("SELECT kind FROM label_event ORDER BY id")]
    assert kinds == ["label", "retract"]
    # A used token cannot be answered twice.
    reused = run_cli(
        "answer",
        project,
        "--reviewer",
        "rev-1",
        "--token",
        served["token"],
        "--choice",
        "left",
        check=1,
    )
    assert "already answered" in reused.err


def test_next_reveals_no_identity(tmp_path: Path) -> None:
    """Distinctive model, judge and item names never reach the reviewer."""
    project = tmp_path / "p.reviewdesk"
    secret = ["ZEPHYR-MODEL-X9", "QUOKKA-BASE-77", "JUDGE-MARMOSET", "ITEM-PANGOLIN"]
    records = [
        native_item(
            f"ITEM-PANGOLIN-{n}",
            prompt=f"How do I rotate the TLS certificate of service {n}?",
            text_a="Use the cert-manager renew command.",
            text_b="Rotate it by hand, then restart the ingress.",
            a="QUOKKA-BASE-77",
            b="ZEPHYR-MODEL-X9",
            judgments=[
                {"judge": "JUDGE-MARMOSET", "kind": "llm", "verdict": "A", "rationale": "r"},
                {"judge": "JUDGE-MARMOSET-2", "kind": "llm", "verdict": "B"},
            ],
        )
        for n in range(3)
    ]
    data = write_jsonl(tmp_path / "x.jsonl", records)
    run_cli("init", project)
    run_cli("import", project, data)
    run_cli("queue", "build", project)
    for fmt in (["--json"], []):
        out = run_cli("next", project, "--reviewer", "r", *fmt).out
        for word in [*secret, "judge_split", "contested", "audit"]:
            assert word not in out, word
    served = json.loads(run_cli("next", project, "--reviewer", "r", "--json").out)
    assert set(served) == {"token", "prompt", "left", "right", "done", "remaining"}
