"""Property tests of the importers: valid records round-trip, and no input makes a reader raise.

Example counts are kept modest so the io suite stays fast; the bad-input corpus in
``tests/io/test_io_bad_inputs.py`` pins the exact problem for each known kind of damage.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewdesk.domain.errors import InvalidInputError, UserError
from reviewdesk.domain.hashing import content_item_id
from reviewdesk.domain.model import (
    ExpectedBehavior,
    ItemRecord,
    JudgeKind,
    JudgmentRecord,
    LabelRecord,
    Message,
    Order,
    Panel,
    RefusalClass,
    ResponseRecord,
    Role,
    Skipped,
    Slot,
    Verdict,
)
from reviewdesk.io import Format, ReadOptions, Rejected, open_reader
from reviewdesk.io.importers.native import TOP_LEVEL_KEYS
from reviewdesk.io.streaming import LENIENT_DECODER, JsonArraySource
from tests.conftest import DATA as TEST_DATA

DATA = TEST_DATA / "import"

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- strategies -----------------------------------------------------------------------------

texts = st.text(max_size=40)
names = st.text(min_size=1, max_size=20).filter(lambda s: not s.isspace())
finite = st.floats(allow_nan=False, allow_infinity=False)
json_scalars = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | finite | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
slots = st.sampled_from(list(Slot))
refusals = st.dictionaries(slots, st.sampled_from(list(RefusalClass)), min_size=1)
moments = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
    st.integers(-23 * 60, 23 * 60),
)


@st.composite
def judgments(draw: st.DrawFn) -> JudgmentRecord:
    shape = draw(st.sampled_from(["verdict", "scores", "refusal"]))
    common: dict[str, Any] = {
        "judge": draw(names),
        "kind": draw(st.sampled_from(list(JudgeKind))),
        "order": draw(st.sampled_from(list(Order))),
        "rationale": draw(st.none() | texts),
        "probability_b": draw(st.none() | st.floats(0, 1)),
    }
    if shape == "verdict":
        return JudgmentRecord(verdict=draw(st.sampled_from(list(Verdict))), **common)
    if shape == "scores":
        a, b = draw(finite), draw(finite)
        verdict = Verdict.A if a > b else Verdict.B if b > a else Verdict.TIE
        scores = {Slot.A: a + 0.0, Slot.B: b + 0.0}  # -0.0 + 0.0 == 0.0: JSON keeps the sign
        return JudgmentRecord(verdict=verdict, scores=scores, **common)
    return JudgmentRecord(verdict=None, refusal=draw(refusals), **common)


labels = st.builds(
    LabelRecord,
    reviewer=names,
    choice=st.sampled_from(list(Verdict)),
    shown_left=st.none() | st.sampled_from(list(Slot)),
    labeled_at=st.none() | moments,
    refusal=st.none() | refusals,
    dwell_ms=st.none() | st.integers(0, 10**9),
    note=st.none() | texts,
)


@st.composite
def items(draw: st.DrawFn) -> tuple[ItemRecord, bool]:
    """A valid item and whether its file gives the item_id (else it is a content hash)."""
    chat = draw(st.booleans())
    prompt = None if chat else draw(texts)
    messages = (
        tuple(draw(st.lists(st.builds(Message, st.sampled_from(list(Role)), texts), min_size=1)))
        if chat
        else None
    )
    responses = {
        Slot.A: ResponseRecord(draw(names), draw(texts)),
        Slot.B: ResponseRecord(draw(names), draw(texts)),
    }
    has_id = draw(st.booleans())
    item_id = (
        draw(st.text(min_size=1, max_size=200).filter(lambda s: not s.isspace()))
        if has_id
        else content_item_id(prompt, messages, responses)
    )
    metadata_keys = texts.filter(lambda k: k not in TOP_LEVEL_KEYS)
    record = ItemRecord(
        item_id=item_id,
        prompt=prompt,
        messages=messages,
        responses=responses,
        line=1,
        slices=draw(st.dictionaries(names, texts, max_size=4)),
        expected_behavior=draw(st.none() | st.sampled_from(list(ExpectedBehavior))),
        subject_id=draw(st.none() | names),
        panel=draw(st.none() | st.sampled_from(list(Panel))),
        metadata=draw(st.dictionaries(metadata_keys, json_values, max_size=3)),
        judgments=tuple(draw(st.lists(judgments(), max_size=3))),
        labels=tuple(draw(st.lists(labels, max_size=2))),
    )
    return record, has_id


def _slots(mapping: Any) -> dict[str, Any] | None:
    return None if mapping is None else {slot.value: value for slot, value in mapping.items()}


def to_native(record: ItemRecord, with_id: bool) -> dict[str, Any]:
    """The native JSON of an item (SPEC §3.1), leaving out what is empty."""
    out: dict[str, Any] = dict(record.metadata)
    if with_id:
        out["item_id"] = record.item_id
    if record.messages is not None:
        out["messages"] = [{"role": m.role.value, "content": m.content} for m in record.messages]
    else:
        out["prompt"] = record.prompt
    out["responses"] = {
        slot.value: {"model": r.model, "text": r.text} for slot, r in record.responses.items()
    }
    if record.slices:
        out["slices"] = dict(record.slices)
    for key in ("expected_behavior", "subject_id", "panel"):
        if getattr(record, key) is not None:
            out[key] = str(getattr(record, key))
    out["judgments"] = [
        {
            "judge": j.judge,
            "kind": j.kind.value,
            "verdict": None if j.verdict is None or j.scores else j.verdict.value,
            "order": j.order.value,
            "probability_b": j.probability_b,
            "scores": _slots(j.scores),
            "refusal": _slots(j.refusal),
            "rationale": j.rationale,
        }
        for j in record.judgments
    ]
    out["labels"] = [
        {
            "reviewer": lab.reviewer,
            "choice": lab.choice.value,
            "shown_left": lab.shown_left,
            "labeled_at": None if lab.labeled_at is None else lab.labeled_at.isoformat(),
            "refusal": _slots(lab.refusal),
            "dwell_ms": lab.dwell_ms,
            "note": lab.note,
        }
        for lab in record.labels
    ]
    return out


def _read(
    path: Path, fmt: Format = Format.NATIVE, options: ReadOptions | None = None
) -> list[ItemRecord | Rejected | Skipped]:
    with open_reader(path, fmt, options or ReadOptions()) as reader:
        return list(reader)


def _expected(record: ItemRecord) -> ItemRecord:
    """What reading gives back: the same item, with time stamps in UTC."""
    fixed = tuple(
        LabelRecord(
            lab.reviewer,
            lab.choice,
            lab.shown_left,
            None if lab.labeled_at is None else lab.labeled_at.astimezone(UTC),
            lab.refusal,
            lab.dwell_ms,
            lab.note,
        )
        for lab in record.labels
    )
    return ItemRecord(**{**record.__dict__, "labels": fixed})


# --- (1) valid records round-trip ------------------------------------------------------------


@FUZZ
@given(case=items())
def test_valid_native_records_round_trip(tmp_path: Path, case: tuple[ItemRecord, bool]) -> None:
    record, with_id = case
    path = tmp_path / "item.jsonl"
    path.write_text(json.dumps(to_native(record, with_id), ensure_ascii=False) + "\n", "utf-8")
    (result,) = _read(path)
    assert result == _expected(record)
    for label, back in zip(record.labels, result.labels, strict=True):  # type: ignore[union-attr]
        assert back.labeled_at is None or back.labeled_at.tzinfo is UTC
        assert label.labeled_at == back.labeled_at


# --- (2) no input makes a reader raise -------------------------------------------------------


def _check_results(results: list[Any], lines: int | None = None) -> None:
    for result in results:
        assert isinstance(result, ItemRecord | Rejected | Skipped), result
        if isinstance(result, Rejected):
            assert result.line >= 1
            assert result.problems
            for problem in result.problems:
                assert problem.line >= 1
                assert problem.field
                assert problem.message
                if lines is not None:
                    assert problem.line <= lines


@FUZZ
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    for fmt in (Format.NATIVE, Format.ALPACA_EVAL, Format.ARENA):
        _check_results(_read(path, fmt), lines=data.count(b"\n") + 1)


@FUZZ
@given(lines=st.lists(st.text(alphabet=st.sampled_from('{}[]",:0-9.eE -+tfnul\\"ab'), max_size=30)))
def test_json_looking_text(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "fuzz.jsonl"
    text = "\n".join(lines)
    path.write_text(text)
    for fmt in (Format.NATIVE, Format.ARENA):
        _check_results(_read(path, fmt), lines=text.count("\n") + 1)
    array = tmp_path / "fuzz.json"
    array.write_text("[" + ",\n".join(lines) + "]")
    _check_results(_read(array, Format.ALPACA_EVAL))


@FUZZ
@given(values=st.lists(json_values, max_size=5))
def test_arbitrary_json_values(tmp_path: Path, values: list[Any]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values))
    results = _read(path)
    _check_results(results)
    assert len(results) == len(values)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))


@FUZZ
@given(case=items(), data=st.data())
def test_damaged_valid_records(tmp_path: Path, case: tuple[ItemRecord, bool], data: Any) -> None:
    """A valid record with one value replaced or removed: read or rejected, never a crash."""
    record, with_id = case
    native = to_native(record, with_id)
    path = data.draw(st.sampled_from([p for p in _paths(native) if p]))
    parent = native
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values)
    file = tmp_path / "damaged.jsonl"
    file.write_text(json.dumps(native) + "\n")
    results = _read(file)
    _check_results(results, lines=1)
    assert len(results) == 1


# --- (3) the incremental array reader agrees with json.loads --------------------------------


@FUZZ
@given(
    values=st.lists(json_values, max_size=8),
    indent=st.none() | st.integers(0, 3),
    chunk=st.integers(1, 64),
)
def test_array_reader_agrees_with_json_loads(
    values: list[Any], indent: int | None, chunk: int
) -> None:
    text = json.dumps(values, indent=indent, ensure_ascii=bool(chunk % 2))
    records = list(JsonArraySource(io.BytesIO(text.encode()), LENIENT_DECODER, chunk_size=chunk))
    assert [problem for _line, _value, _text, problem in records] == [None] * len(values)
    assert [value for _line, value, _text, _problem in records] == values
    lines = text.split("\n")  # only "\n" ends a line in JSON; U+0085 and friends do not
    for line, _value, raw, _problem in records:
        assert raw is not None
        assert raw.split("\n")[0] in lines[line - 1]


# --- (4) every importer, and format detection ------------------------------------------------
#
# The tests above feed native, AlpacaEval and Arena readers; these add MT-Bench (its judgment
# file and its two side files), the other formats' own records damaged one value at a time, and
# ``--format auto``. A reader may refuse to open a file with a ``UserError`` (detection failed,
# a broken side file as ``InvalidInputError`` naming its lines); nothing else may escape.

MT_BENCH = DATA / "mt_bench"
MT_OPTIONS = ReadOptions(questions=MT_BENCH / "question.jsonl", answers=MT_BENCH / "model_answer")
READ_OPTIONS = {Format.MT_BENCH: MT_OPTIONS}


def _first_record(path: Path) -> dict[str, Any]:
    """The first record of a fixture file (a JSON array or JSON Lines)."""
    text = path.read_text("utf-8")
    value = json.loads(text) if text.lstrip().startswith("[") else json.loads(text.splitlines()[0])
    first = value[0] if isinstance(value, list) else value
    assert isinstance(first, dict)
    return first


SAMPLES = {
    Format.NATIVE: (DATA / "native" / "items.jsonl", False),
    Format.ALPACA_EVAL: (DATA / "alpaca_eval" / "edge_preferences.json", True),
    Format.ARENA: (DATA / "arena" / "battles.jsonl", False),
    Format.MT_BENCH: (MT_BENCH / "model_judgment" / "gpt-4_pair.jsonl", False),
}


def _read_any(path: Path, fmt: Format) -> list[Any] | UserError:
    """Every result, or the UserError that refused the file (the only exception allowed)."""
    try:
        with open_reader(path, fmt, READ_OPTIONS.get(fmt, ReadOptions())) as reader:
            return list(reader)
    except UserError as exc:
        error = exc
    assert str(error).startswith(str(path)), error
    return error


@FUZZ
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes_other_readers(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    _check_results(_read(path, Format.MT_BENCH, MT_OPTIONS), lines=data.count(b"\n") + 1)
    results = _read_any(path, Format.AUTO)
    if not isinstance(results, UserError):
        _check_results(results, lines=data.count(b"\n") + 1)


@FUZZ
@given(values=st.lists(json_values, max_size=4), array=st.booleans())
def test_detection_of_arbitrary_records(tmp_path: Path, values: list[Any], array: bool) -> None:
    """``--format auto`` detects a format or says why not; whatever it picks reads cleanly."""
    path = tmp_path / ("fuzz.json" if array else "fuzz.jsonl")
    text = json.dumps(values) if array else "".join(json.dumps(v) + "\n" for v in values)
    path.write_text(text, "utf-8")
    results = _read_any(path, Format.AUTO)
    if not isinstance(results, UserError):
        _check_results(results)


@FUZZ
@given(fmt=st.sampled_from(list(SAMPLES)), data=st.data())
def test_damaged_records_of_every_format(tmp_path: Path, fmt: Format, data: Any) -> None:
    """A real record of each format with one value replaced or removed: read, rejected or
    skipped, one record in, never a crash; and ``--format auto`` says what it makes of it."""
    sample, as_array = SAMPLES[fmt]
    record = _first_record(sample)
    path = data.draw(st.sampled_from([p for p in _paths(record) if p]))
    parent = record
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values)
    file = tmp_path / ("damaged.json" if as_array else "damaged.jsonl")
    file.write_text(json.dumps([record]) if as_array else json.dumps(record) + "\n", "utf-8")
    results = _read(file, fmt, READ_OPTIONS.get(fmt, ReadOptions()))
    _check_results(results, lines=1 if not as_array else None)
    assert 1 <= len(results) <= 2  # MT-Bench: an item and a skipped 'error' game at most
    assert len({r.line for r in results}) == 1
    detected = _read_any(file, Format.AUTO)
    if not isinstance(detected, UserError):
        _check_results(detected)


@FUZZ
@given(side=st.sampled_from(["questions", "answers"]), damage=st.data())
def test_damaged_mt_bench_side_files(tmp_path: Path, side: str, damage: Any) -> None:
    """A broken question or answer file is refused whole, naming its own lines; never a crash."""
    source = MT_BENCH / "question.jsonl" if side == "questions" else MT_BENCH / "all_answers.jsonl"
    lines = source.read_text("utf-8").splitlines()
    index = damage.draw(st.integers(0, len(lines) - 1))
    if damage.draw(st.booleans()):
        record = json.loads(lines[index])
        path = damage.draw(st.sampled_from([p for p in _paths(record) if p]))
        parent = record
        for step in path[:-1]:
            parent = parent[step]
        if damage.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = damage.draw(json_values)
        lines[index] = json.dumps(record)
    else:
        lines[index] = damage.draw(st.text(max_size=40))
    broken = tmp_path / f"{side}.jsonl"
    text = "\n".join(lines) + "\n"
    broken.write_text(text, "utf-8")
    options = ReadOptions(
        questions=broken if side == "questions" else MT_OPTIONS.questions,
        answers=broken if side == "answers" else MT_OPTIONS.answers,
    )
    judgments = SAMPLES[Format.MT_BENCH][0]
    try:
        with open_reader(judgments, Format.MT_BENCH, options) as reader:
            results = list(reader)
    except InvalidInputError as exc:
        refused = exc
    else:
        _check_results(results)
        return
    assert refused.file.startswith(str(broken)), refused
    assert all(p.file == str(broken) for p in refused.problems)
    assert all(1 <= p.line <= text.count("\n") for p in refused.problems)
