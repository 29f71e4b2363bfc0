"""The record sources under every importer: JSON Lines and incremental JSON arrays."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from reviewdesk.io.streaming import (
    FILE,
    LENIENT_DECODER,
    RECORD,
    STRICT_DECODER,
    JsonArraySource,
    JsonLinesSource,
    RawRecord,
    RecordSyntaxError,
    decode_record,
    sniff_first_byte,
)
from tests.io.io_support import DATA


def _lines(data: bytes, **kwargs: Any) -> list[RawRecord]:
    return list(JsonLinesSource(io.BytesIO(data), **kwargs))


def _array(data: bytes, **kwargs: Any) -> list[RawRecord]:
    return list(JsonArraySource(io.BytesIO(data), **kwargs))


def _summary(records: list[RawRecord]) -> list[tuple[int, Any, Any]]:
    return [(line, value, problem) for line, value, _text, problem in records]


# --- JSON Lines ---------------------------------------------------------------------------


def test_lines_numbers_blank_lines_crlf_and_bom() -> None:
    data = b'\xef\xbb\xbf{"a": 1}\r\n\n   \n{"a": 2}\n\t\n{"a": 3}'
    assert _summary(_lines(data)) == [(1, {"a": 1}, None), (4, {"a": 2}, None), (6, {"a": 3}, None)]


def test_bom_is_only_allowed_at_the_start() -> None:
    ((line, _value, _text, problem),) = _lines(b'\n\xef\xbb\xbf{"a": 1}\n')
    assert line == 2
    assert problem is not None
    assert problem.field == RECORD


def test_oversized_line_is_rejected_and_the_next_one_read() -> None:
    data = b'{"a": 1}\n{"big": "' + b"x" * 5000 + b'"}\n{"a": 3}\n'
    records = _lines(data, max_record_bytes=1000)
    assert [(r[0], r[1]) for r in records] == [(1, {"a": 1}), (2, None), (3, {"a": 3})]
    problem = records[1][3]
    assert problem is not None
    assert "larger than" in problem.message


def test_a_line_at_the_limit_is_read() -> None:
    record = b'{"k": "' + b"x" * 91 + b'"}'
    assert len(record) == 100
    assert _lines(record + b"\n", max_record_bytes=100)[0][1] == {"k": "x" * 91}
    assert _lines(record, max_record_bytes=100)[0][1] == {"k": "x" * 91}
    assert _lines(record + b"\n", max_record_bytes=99)[0][3] is not None


def test_strict_and_lenient_constants() -> None:
    strict = _lines(b'{"p": NaN}\n{"p": -Infinity}\n')
    assert [p.message for _l, _v, _t, p in strict if p] == [
        "NaN is not valid JSON (numbers must be finite)",
        "-Infinity is not valid JSON (numbers must be finite)",
    ]
    ((_line, value, _text, problem),) = _lines(b'{"p": NaN}\n', decoder=LENIENT_DECODER)
    assert problem is None
    assert value["p"] != value["p"]


def test_invalid_utf8_names_the_byte() -> None:
    ((line, value, text, problem),) = _lines(b'{"a": "\xc3"}\n')
    assert (line, value, text) == (1, None, None)
    assert problem is not None
    assert problem.message == "invalid UTF-8 (byte 8 of the line)"


def test_sniff_first_byte() -> None:
    assert sniff_first_byte(io.BytesIO(b"\xef\xbb\xbf \n [1]")) == b"["
    assert sniff_first_byte(io.BytesIO(b"")) == b""
    assert sniff_first_byte(io.BytesIO(b" " * 200_000 + b"{")) == b"{"


# --- JSON arrays --------------------------------------------------------------------------


ARRAYS = [
    *sorted((DATA / "alpaca_eval").glob("*.json")),
    DATA / "arena" / "battles.json",
    *sorted((DATA / "bad").glob("*.json")),
]


@pytest.mark.parametrize("path", ARRAYS, ids=lambda p: p.name)
@pytest.mark.parametrize("chunk", [1, 3, 17, 4096])
def test_any_chunk_size_gives_the_same_records(path: Path, chunk: int) -> None:
    """Small chunks force every element through the resumable scanner and split UTF-8
    sequences, escapes and tokens across reads."""
    data = path.read_bytes()
    assert _array(data, chunk_size=chunk) == _array(data)


def test_elements_with_their_lines() -> None:
    data = b'[\n  {"a": "[{\\"}]"},\n  2,\n\n  "x\\\\",\n  [1, {"b": []}], null\n]\n'
    assert _summary(_array(data)) == [
        (2, {"a": '[{"}]'}, None),
        (3, 2, None),
        (5, "x\\", None),
        (6, [1, {"b": []}], None),
        (6, None, None),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", [(1, FILE, "the file is empty; expected a JSON array")]),
        (b"\n\n", [(1, FILE, "the file is empty; expected a JSON array")]),
        (
            b'\n{"a": 1}',
            [(2, FILE, "expected a JSON array ('[') at the top level, found an object")],
        ),
        (b"[1,\n2", [(2, FILE, "the file ends before the array is closed with ']' (truncated?)")]),
        (b"[1,\n", [(1, FILE, "the file ends before the array is closed with ']' (truncated?)")]),
        (b'[1,\n{"a": [', [(2, RECORD, "the file ends inside this record (truncated?)")]),
        (b"[1,\n]", [(2, RECORD, "missing value (an extra ',' in the array?)")]),
        (b"[1] [2]", [(1, FILE, "unexpected data after the end of the array")]),
    ],
)
def test_structural_problems(data: bytes, expected: list[tuple[int, str, str]]) -> None:
    problems = [p for _l, _v, _t, p in _array(data) if p is not None]
    assert [(p.line, p.field, p.message) for p in problems] == expected


def test_a_bad_element_does_not_stop_the_array() -> None:
    data = b'[{"a": 1},\n {"a": tru},\n {"a": }},\n {"a": 4}]'
    records = _array(data)
    assert [r[1] for r in records] == [{"a": 1}, None, None, {"a": 4}]
    assert [r[3].line for r in records if r[3]] == [2, 3]
    assert records[1][2] == '{"a": tru}'  # the raw text of the rejected element


def test_oversized_element_is_skipped_without_being_kept() -> None:
    big = json.dumps({"text": "x" * 10_000 + '\\"]}' + "y" * 10_000}).encode()
    data = b'[{"a": 1},\n' + big + b',\n{"a": 3}]'
    records = _array(data, max_record_bytes=1000, chunk_size=256)
    assert [(r[0], r[1]) for r in records] == [(1, {"a": 1}), (2, None), (3, {"a": 3})]
    problem = records[1][3]
    assert problem is not None
    assert "larger than" in problem.message


def test_invalid_utf8_in_an_array_element_names_its_line() -> None:
    data = b'[{"a": 1},\n {"b":\n "\xff"},\n {"c": 3}]'
    records = _array(data)
    assert [r[1] for r in records] == [{"a": 1}, None, {"c": 3}]
    problem = records[1][3]
    assert problem is not None
    assert (problem.line, problem.message) == (3, "invalid UTF-8")
    assert records[1][2] is None


def test_bom_before_the_array() -> None:
    assert _summary(_array(b"\xef\xbb\xbf[1]")) == [(1, 1, None)]


# --- decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"a": 1,\n "b" 2}', 2, "invalid JSON: Expecting ':' delimiter (column 6)"),
        ('{"a": ', 1, "the record ends too early (truncated?)"),
        ('{"a": "abc', 1, "the record ends too early (truncated?)"),
        ("[" * 5000 + "]" * 5000, 1, "nested too deeply"),
        ("9" * 5000, 1, "a number has too many digits"),
        ('{"a": "\\udc00"}', 1, "unpaired UTF-16 surrogate"),
        ('{"a":\n  Infinity}', 2, "Infinity is not valid JSON"),
    ],
)
def test_decode_problems(text: str, line: int, message: str) -> None:
    with pytest.raises(RecordSyntaxError) as caught:
        decode_record(STRICT_DECODER, text)
    assert caught.value.line == line
    assert message in caught.value.message


def test_surrogate_pairs_are_fine() -> None:
    assert decode_record(STRICT_DECODER, '"\\ud83d\\ude00"') == "😀"
