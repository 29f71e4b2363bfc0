"""Reading streams: memory stays far below the file size, and progress reaches the end.

Tracing every allocation makes reading several times slower, so the files are tens of thousands
of records with kilobyte texts: large enough that holding the file would show, quick to read.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from reviewdesk.domain.model import ItemRecord
from reviewdesk.io import Format, open_reader

pytestmark = pytest.mark.slow

RECORDS = 12_000


def _native_record(n: int) -> str:
    return json.dumps(
        {
            "item_id": f"item-{n:06d}",
            "prompt": f"Question {n}: what should on-call check first when checkout latency rises?",
            "responses": {
                "A": {"model": "base-2026-10", "text": f"Check the deploy log first ({n}). " * 30},
                "B": {"model": "sft-2026-11", "text": f"Roll back the last deploy ({n}). " * 30},
            },
            "judgments": [{"judge": "judge-llm-v3", "kind": "llm", "verdict": "A", "order": "AB"}],
        }
    )


def _read_measuring(path: Path, fmt: Format) -> tuple[int, int, int, int]:
    """(records read, peak traced bytes, bytes_read, total_bytes)."""
    tracemalloc.start()
    try:
        count = 0
        with open_reader(path, fmt) as reader:
            for result in reader:
                assert isinstance(result, ItemRecord)
                count += 1
            bytes_read, total = reader.bytes_read, reader.total_bytes
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak, bytes_read, total


def test_native_jsonl_memory_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "large.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for n in range(RECORDS):
            f.write(_native_record(n) + "\n")
    size = path.stat().st_size
    count, peak, bytes_read, total = _read_measuring(path, Format.NATIVE)
    assert count == RECORDS
    assert bytes_read == total == size
    # What grows is the item_id -> line map of the duplicate check (about 150 bytes an item).
    assert size > 20_000_000
    assert peak < size / 5, (peak, size)


def test_json_array_memory_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "annotations.json"
    record = {
        "instruction": "Explain the difference between a process and a thread.",
        "output_1": "A process has its own memory; threads share their process's memory. " * 24,
        "generator_1": "gpt4_1106_preview",
        "dataset": "helpful_base",
        "output_2": "Threads are lighter than processes. " * 24,
        "generator_2": "cohere",
        "annotator": "alpaca_eval_gpt4_turbo_fn",
        "preference": 1.0,
    }
    with path.open("w", encoding="utf-8") as f:
        f.write("[\n")
        for n in range(RECORDS // 4):  # about 3 kB each
            if n:
                f.write(",\n")
            f.write(
                json.dumps(record | {"instruction": f"{record['instruction']} ({n})"}, indent=1)
            )
        f.write("\n]\n")
    size = path.stat().st_size
    assert size > 8_000_000
    count, peak, bytes_read, total = _read_measuring(path, Format.ALPACA_EVAL)
    assert count == RECORDS // 4
    assert bytes_read == total == size
    assert peak < 2 * 1024 * 1024, (peak, size)  # a read chunk and one element, not the file
