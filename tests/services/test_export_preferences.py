"""The audited preference export: TRL compatibility, selection rules, manifest and provenance."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.domain.errors import CanceledError
from reviewdesk.domain.progress import CancelToken, run_to_completion
from reviewdesk.services.audit import verify_audit
from reviewdesk.services.preferences import (
    AUDIT_FILE,
    MANIFEST_FILE,
    TRL_FILE,
    PreferenceOptions,
    export_preferences,
)
from tests.services.export_support import build, in_app_project, read_jsonl

# ------------------------------------------------------------------ TRL's expectations
# Restated from trl/data_utils.py (is_conversational, apply_chat_template) and the DPO trainer's
# dataset preparation, since TRL itself cannot be installed here.

_TRL_KEYS = ("prompt", "chosen", "rejected", "completion", "messages")
_TEMPLATE_KEYS = {"prompt", "chosen", "rejected", "completion", "messages", "label"}


def trl_is_conversational(example: dict[str, Any]) -> bool:
    """``trl.data_utils.is_conversational``: a supported key holding a list of role/content
    dicts."""
    found = [k for k in example if k in _TRL_KEYS]
    if not found:
        return False
    value = example[found[0]]
    if isinstance(value, list) and value:
        first = value[0]
        return isinstance(first, dict) and "role" in first and "content" in first
    return False


def _messages(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(m, dict) and set(m) == {"role", "content"} and isinstance(m["content"], str)
        for m in value
    )


def assert_dpo_ready(path: Path) -> list[dict[str, Any]]:
    """Load ``path`` as ``datasets.load_dataset("json")`` and DPOTrainer would, and check it.

    - JSON Lines, UTF-8, one object per line; one Arrow schema for all rows, so every row has
      the same columns with the same value shapes;
    - explicit prompt (no ``extract_prompt``): ``prompt``, ``chosen``, ``rejected`` present;
    - the first row decides conversational or standard for the whole set (the trainer looks at
      ``next(iter(dataset))``), so every row must be the same kind;
    - standard: strings (the trainer appends EOS with ``str.endswith``);
    - conversational: ``apply_chat_template`` accepts exactly the key set {prompt, chosen,
      rejected}; the prompt's last role is user or assistant (else ValueError); chosen and
      rejected are assistant messages.
    """
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "JSON Lines must not start with a BOM"
    rows = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    assert rows, "empty preference file"
    assert {frozenset(r) for r in rows} == {frozenset({"id", "prompt", "chosen", "rejected"})}
    conversational = trl_is_conversational(rows[0])
    for row in rows:
        assert isinstance(row["id"], str)
        assert trl_is_conversational(row) is conversational
        if conversational:
            assert {k for k in row if k in _TEMPLATE_KEYS} == {"prompt", "chosen", "rejected"}
            assert all(_messages(row[k]) for k in ("prompt", "chosen", "rejected"))
            assert row["prompt"][-1]["role"] in ("user", "assistant")
            assert [m["role"] for m in row["chosen"]] == ["assistant"]
            assert [m["role"] for m in row["rejected"]] == ["assistant"]
        else:
            assert all(isinstance(row[k], str) for k in ("prompt", "chosen", "rejected"))
    return rows


# ------------------------------------------------------------------ tests


def export(project: Any, out: Path, **options: Any) -> Any:
    return run_to_completion(export_preferences(project, out, PreferenceOptions(**options)))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_standard_export_rules_manifest_and_record(tmp_path: Path) -> None:
    project = build(tmp_path / "p.reviewdesk", tmp_path)
    out = tmp_path / "out"
    with project:
        result = export(project, out)
        trl = assert_dpo_ready(out / TRL_FILE)
        assert [r["id"] for r in trl] == ["pair-a", "pair-b", "a-and-tie", "chat-one"]
        pair_a = trl[0]
        assert pair_a["prompt"] == "Prompt of pair-a: what should on-call do?"
        assert (pair_a["chosen"], pair_a["rejected"]) == (
            "Answer A to pair-a.",
            "Answer B to pair-a, with more detail.",
        )
        assert trl[1]["chosen"] == "Answer B to pair-b, with more detail."
        assert trl[3]["prompt"] == "Single user turn?"  # one user message: nothing lost
        assert result.dropped == {
            "chat_prompt_needs_conversational": 2,
            "conflicting_human_labels": 1,
            "no_human_label": 4,
            "tie_or_both_bad": 2,
        }
        manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
        assert manifest["dropped"] == result.dropped
        assert manifest["counts"] == {
            "items": 13,
            "pairs": 4,
            "pairs_by_source": {"human": 4, "adjudication": 0, "llm": 0},
            "synthetic": 0,
            "dropped": 9,
        }
        assert manifest["app_version"]
        assert manifest["project"]["id"] == project.settings().project_id
        assert manifest["filters"]["include_llm"] is False
        assert manifest["snapshot"]["label_events"] == 14
        assert manifest["snapshot"]["audit_head_sha256"]
        for name in (TRL_FILE, AUDIT_FILE):
            assert manifest["files"][name]["sha256"] == sha256_file(out / name)
            assert manifest["files"][name]["rows"] == 4
        assert result.files[MANIFEST_FILE] == sha256_file(out / MANIFEST_FILE)
        assert sorted(p.name for p in out.iterdir()) == sorted(
            [TRL_FILE, AUDIT_FILE, MANIFEST_FILE]
        )
        report = run_to_completion(verify_audit(project))
        assert report.ok, report.summary()
        assert report.kinds["export"] == 1
    with sqlite3.connect(tmp_path / "p.reviewdesk") as con:
        kind, files = con.execute("SELECT kind, files FROM export_record").fetchone()
        keys = [
            r[0]
            for r in con.execute(
                "SELECT i.item_key FROM export_item x JOIN item i ON i.id = x.item_id ORDER BY i.id"
            )
        ]
    assert kind == "preferences"
    assert json.loads(files) == result.files
    assert keys == ["pair-a", "pair-b", "a-and-tie", "chat-one"]


def test_audit_file_unblinds_models_and_lists_every_label(tmp_path: Path) -> None:
    with build(tmp_path / "p.reviewdesk", tmp_path) as project:
        export(project, tmp_path / "out")
    rows = {r["id"]: r for r in read_jsonl(tmp_path / "out" / AUDIT_FILE)}
    a = rows["pair-a"]
    assert a["synthetic"] is False
    assert a["source"] == "human"
    assert a["chosen"] == {"slot": "A", "model": "base-2026-10"}
    assert a["rejected"] == {"slot": "B", "model": "sft-2026-11"}
    assert a["models"] == {"A": "base-2026-10", "B": "sft-2026-11"}
    assert [
        (lb["reviewer"], lb["shown_left"], lb["dwell_ms"], lb["screen_choice"])
        for lb in a["labels"]
    ] == [
        ("ext-1", "B", 8400, "right"),
        ("ext-2", "A", 5100, "left"),
    ]
    assert all(lb["labeled_at"] == "2026-10-01T10:00:00.000Z" for lb in a["labels"])
    assert a["agreement"] == 1.0
    assert a["judges_merged"] == {"j1": "A", "j2": "B"}
    assert {j["judge"]: j["verdict"] for j in a["judges"]} == {"j1": "A", "j2": "B"}
    assert a["disagreement_reasons"] == ["judge_split"]
    assert a["stratum"] is None  # no queue was built
    assert a["slices"] == {"category": "incident", "language": "en"}
    assert rows["a-and-tie"]["agreement"] == 0.0
    assert rows["chat-one"]["agreement"] is None  # a single label


def test_conversational_with_llm_marks_synthetic_pairs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with build(tmp_path / "p.reviewdesk", tmp_path) as project:
        result = export(project, out, conversational=True, include_llm=True)
    trl = {r["id"]: r for r in assert_dpo_ready(out / TRL_FILE)}
    assert set(trl) == {"pair-a", "pair-b", "a-and-tie", "chat-one", "chat-multi", "llm-a"}
    assert trl["pair-a"]["prompt"] == [
        {"role": "user", "content": "Prompt of pair-a: what should on-call do?"}
    ]
    assert trl["chat-multi"]["prompt"][0] == {"role": "system", "content": "Be brief."}
    assert len(trl["chat-multi"]["prompt"]) == 4  # the full message list is kept
    assert trl["llm-a"]["chosen"] == [{"role": "assistant", "content": "Answer A to llm-a."}]
    assert result.dropped == {
        "conflicting_human_labels": 1,
        "conflicting_llm_judges": 1,
        "llm_tie_or_both_bad": 1,  # one judge flipped with the display order: merged tie
        "no_human_label": 1,  # a code judge casts no LLM preference
        "prompt_not_ending_with_user": 1,
        "tie_or_both_bad": 2,
    }
    assert result.pairs_by_source == {"human": 5, "adjudication": 0, "llm": 1}
    audit = {r["id"]: r for r in read_jsonl(out / AUDIT_FILE)}
    assert audit["llm-a"]["synthetic"] is True
    assert audit["llm-a"]["source"] == "llm"
    assert audit["llm-a"]["labels"] == []
    assert [r["id"] for r in audit.values() if r["synthetic"]] == ["llm-a"]
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["counts"]["synthetic"] == 1
    assert manifest["format"] == "conversational"
    assert manifest["filters"]["judge_kinds"] == ["llm"]


def test_strict_policy_treats_a_tie_beside_a_winner_as_conflict(tmp_path: Path) -> None:
    with build(tmp_path / "p.reviewdesk", tmp_path) as project:
        result = export(project, tmp_path / "out", strict=True)
    assert result.dropped["conflicting_human_labels"] == 2
    assert result.pairs == 3


def test_in_app_labels_fold_retractions_and_report_agreement(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with in_app_project(tmp_path / "p.reviewdesk", tmp_path) as project:
        result = export(project, out)
        assert run_to_completion(verify_audit(project)).ok
    assert result.pairs == 6
    audit = read_jsonl(out / AUDIT_FILE)
    assert Counter(r["agreement"] for r in audit) == Counter({1.0: 3, 0.0: 2, None: 1})
    assert all(r["stratum"] == "contested" for r in audit)
    assert all(lb["queue_reason"] == "contested" for r in audit for lb in r["labels"])
    undone = next(r for r in audit if r["agreement"] is None)
    assert [lb["reviewer"] for lb in undone["labels"]] == ["rev-1"]  # the retracted one is gone
    assert all(lb["provenance"] == "human" for r in audit for lb in r["labels"])


def test_cancel_leaves_no_files_and_no_record(tmp_path: Path) -> None:
    out = tmp_path / "out"
    token = CancelToken()
    token.cancel()
    with build(tmp_path / "p.reviewdesk", tmp_path) as project:
        with pytest.raises(CanceledError):
            run_to_completion(export_preferences(project, out, PreferenceOptions(), cancel=token))
        assert list(out.iterdir()) == []
        assert run_to_completion(verify_audit(project)).kinds.get("export") is None


def test_output_path_that_is_a_file_is_a_user_error(tmp_path: Path) -> None:
    from reviewdesk.domain.errors import UserError

    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with build(tmp_path / "p.reviewdesk", tmp_path) as project, pytest.raises(UserError):
        export(project, blocker)
