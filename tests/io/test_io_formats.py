"""Format detection, ``open_reader`` and the reader's life cycle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.model import ItemRecord
from reviewdesk.io import Format, ReadOptions, detect_format, open_reader
from tests.io.io_support import DATA

NATIVE = DATA / "native" / "items.jsonl"
ALPACA = DATA / "alpaca_eval" / "cohere_alpaca_eval_gpt4_turbo_fn_first20.json"
FORMAT_NAMES = "native, alpaca_eval, arena or mt_bench"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (NATIVE, Format.NATIVE),
        (DATA / "native" / "items_bom.jsonl", Format.NATIVE),
        (
            DATA / "alpaca_eval" / "cohere_alpaca_eval_gpt4_turbo_fn_first20.json",
            Format.ALPACA_EVAL,
        ),
        (DATA / "arena" / "battles.json", Format.ARENA),
        (DATA / "arena" / "battles.jsonl", Format.ARENA),
        (DATA / "mt_bench" / "model_judgment" / "gpt-4_pair.jsonl", Format.MT_BENCH),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_detects_every_format(path: Path, expected: Format) -> None:
    assert detect_format(path) is expected


def test_detection_skips_leading_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("\n\n   \n" + NATIVE.read_text().splitlines()[0] + "\n")
    assert detect_format(path) is Format.NATIVE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("   \n\n", "the file is empty"),
        ("[]", "holds no records"),
        ('{"question": "what?", "answer": 42}\n', "none of the fields"),
        ('{"responses": {}, "model_a": "x", "winner": "tie"}\n', "ambiguous.*native and arena"),
        ("[1, 2]", "the first record is a number"),
        ('{"responses": \n', "cannot detect the format"),
        ("hello", "cannot detect the format"),
    ],
)
def test_unknown_or_ambiguous_format_names_the_file_and_the_choices(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)
    with pytest.raises(UserError, match=message) as caught:
        detect_format(path)
    text = str(caught.value)
    assert text.startswith(str(path))
    if "empty" not in message and "no records" not in message:
        assert FORMAT_NAMES in text


def test_open_reader_detects_and_reports_the_format() -> None:
    with open_reader(NATIVE, Format.AUTO) as reader:
        assert reader.format is Format.NATIVE
        assert reader.path == NATIVE
    with open_reader(NATIVE, "native") as reader:
        assert reader.format is Format.NATIVE


def test_unknown_format_name_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown format 'csv'"):
        open_reader(NATIVE, "csv")


def test_missing_file_and_directory_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        open_reader(tmp_path / "missing.jsonl", Format.NATIVE)
    with pytest.raises(UserError, match="no such file"):
        detect_format(tmp_path / "missing.jsonl")
    with pytest.raises(UserError, match="is a directory"):
        open_reader(tmp_path, Format.NATIVE)


def test_options_that_do_not_apply_are_refused() -> None:
    with pytest.raises(UserError, match="--as-labels applies only to --format arena"):
        open_reader(NATIVE, Format.NATIVE, ReadOptions(as_labels=True))
    with pytest.raises(UserError, match="--questions and --answers apply only"):
        open_reader(NATIVE, Format.AUTO, ReadOptions(questions=Path("question.jsonl")))


def test_progress_follows_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    record = json.loads(NATIVE.read_text().splitlines()[0])
    lines = [json.dumps(record | {"item_id": f"i{n}"}) for n in range(2000)]
    path.write_text("\n".join(lines) + "\n")
    seen = []
    with open_reader(path, Format.NATIVE) as reader:
        assert reader.total_bytes == path.stat().st_size
        assert reader.bytes_read == 0
        for n, result in enumerate(reader):
            assert isinstance(result, ItemRecord)
            if n % 500 == 0:
                seen.append(reader.bytes_read)
        assert reader.bytes_read == reader.total_bytes
    assert seen == sorted(seen)
    assert 0 < seen[1] < reader.total_bytes
    assert reader.bytes_read == reader.total_bytes  # still answers after close


def test_close_releases_the_file() -> None:
    reader = open_reader(NATIVE, Format.NATIVE)
    iterator = iter(reader)
    next(iterator)
    reader.close()
    reader.close()  # idempotent
    assert reader.bytes_read > 0
