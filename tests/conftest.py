"""Shared fixtures: an isolated home for every test, a fixed clock, and project builders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.domain.clock import FixedClock

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point REVIEWDESK_HOME at a temporary folder: tests never touch real user data."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("REVIEWDESK_HOME", str(home))
    return home


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def native_item(
    item_id: str,
    *,
    judgments: list[dict[str, Any]] | None = None,
    labels: list[dict[str, Any]] | None = None,
    prompt: str | None = None,
    a: str = "base-2026-10",
    b: str = "sft-2026-11",
    slices: dict[str, str] | None = None,
    text_a: str | None = None,
    text_b: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid native-format record (SPEC §3.1) for tests."""
    record: dict[str, Any] = {
        "item_id": item_id,
        "prompt": prompt if prompt is not None else f"Prompt of {item_id}: what should on-call do?",
        "responses": {
            "A": {"model": a, "text": text_a or f"Answer A to {item_id}."},
            "B": {"model": b, "text": text_b or f"Answer B to {item_id}, with more detail."},
        },
        "slices": slices if slices is not None else {"category": "incident", "language": "en"},
    }
    if judgments is not None:
        record["judgments"] = judgments
    if labels is not None:
        record["labels"] = labels
    record.update(extra)
    return record


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def project_path(tmp_path: Path) -> Iterator[Path]:
    return tmp_path / "test.reviewdesk"
