"""The native format (SPEC §3.1): JSON Lines, one item per line, validated field by field.

Validation is straight-line code rather than a schema interpreter, because the import benchmark
compares against a bare ``json.loads`` loop. The common, valid case costs a few dict lookups and
``type(x) is`` tests per field; field paths (``responses.A.text``, ``judgments[2].verdict``) and
messages are only built when something is wrong. Every record reports all of its problems at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    Slot,
    Verdict,
    record_maker,
)
from reviewdesk.io.reader import Errors, Format, ReadOptions, ReadResult, RecordReader
from reviewdesk.io.streaming import RECORD, STRICT_DECODER, JsonLinesSource
from reviewdesk.io.validation import (
    MAX_FLOAT,
    MAX_ID_CHARS,
    MAX_SLICES,
    MAX_TEXT_BYTES,
    MISSING,
    REFUSAL_CLASSES,
    ROLES,
    SLOTS,
    VERDICTS,
    finite_number,
    identifier,
    key_path,
    kind_of,
    not_one_of,
    refusal,
    show,
    string,
    text,
    timestamp,
    unknown_keys,
    wrong,
)

TOP_LEVEL_KEYS = frozenset(
    {
        "item_id",
        "prompt",
        "messages",
        "responses",
        "slices",
        "expected_behavior",
        "subject_id",
        "panel",
        "judgments",
        "labels",
    }
)
"""Every other top-level key is kept as item metadata."""

_MESSAGE_KEYS = frozenset({"role", "content"})
_RESPONSE_KEYS = frozenset({"model", "text"})
_SCORE_KEYS = frozenset({"A", "B"})
_JUDGMENT_KEYS = frozenset(
    {"judge", "kind", "verdict", "order", "probability_b", "scores", "refusal", "rationale"}
)
_LABEL_KEYS = frozenset(
    {"reviewer", "choice", "shown_left", "labeled_at", "refusal", "dwell_ms", "note"}
)

_KINDS = {k.value: k for k in JudgeKind}
_ORDERS = {o.value: o for o in Order}
_PANELS = {p.value: p for p in Panel}
_BEHAVIORS = {b.value: b for b in ExpectedBehavior}

# Enum members as module constants: attribute access on an enum class is slow in Python 3.11.
_A, _B = Slot.A, Slot.B
_VERDICT_A, _VERDICT_B, _TIE = Verdict.A, Verdict.B, Verdict.TIE
_UNKNOWN_ORDER = Order.UNKNOWN
_QUICK_TEXT = MAX_TEXT_BYTES // 4  # at most 4 UTF-8 bytes per character: no need to measure

# Positional constructors of the records (several times faster than the frozen __init__s).
_item_record = record_maker(ItemRecord)
_response_record = record_maker(ResponseRecord)
_judgment_record = record_maker(JudgmentRecord)
_label_record = record_maker(LabelRecord)
_message = record_maker(Message)


class NativeReader(RecordReader):
    """Reads native JSON Lines; ``item_id`` must be unique within the file."""

    def __init__(self, path: Path, options: ReadOptions) -> None:
        super().__init__(path, Format.NATIVE)
        self._judge = options.judge
        self._seen: dict[str, int] = {}  # item_id -> line of its first use

    def _records(self) -> Iterator[ReadResult]:
        judge, seen = self._judge, self._seen
        for record in JsonLinesSource(self._file, STRICT_DECODER):
            line, value, raw, problem = record
            if problem is not None:
                yield self.source_rejected(record)
                continue
            errors: Errors = []
            if type(value) is dict:
                item = parse_item(value, line, errors, judge, seen)
                if item is not None:
                    yield item
                    continue
            else:
                errors.append((RECORD, f"must be a JSON object, got {kind_of(value)}"))
            yield self.rejected(line, errors, raw.rstrip("\r\n") if raw else raw)


def parse_item(
    obj: dict[str, Any],
    line: int,
    errors: Errors,
    judge_override: str | None = None,
    seen: dict[str, int] | None = None,
) -> ItemRecord | None:
    """Validate one native record; None (with ``errors`` filled) when it is invalid.

    ``seen`` maps item ids to the line of their first use, for the duplicate check; ``item_id``
    may be left out, and the item is then identified by its content hash. ``judge_override``
    replaces every judgment's judge (``--judge``).
    """
    get = obj.get

    item_id = get("item_id", MISSING)
    if item_id is MISSING:
        item_id = None
    else:
        if not (
            type(item_id) is str
            and item_id
            and len(item_id) <= MAX_ID_CHARS
            and not item_id.isspace()
        ):
            item_id = identifier(item_id, "item_id", errors)
        if item_id is not None and seen is not None:
            first = seen.get(item_id)
            if first is None:
                seen[item_id] = line
            else:
                message = f"duplicate item_id {show(item_id)}; first used on line {first}"
                errors.append(("item_id", message))

    prompt = get("prompt")
    raw_messages = get("messages")
    messages = None
    if raw_messages is None:
        if type(prompt) is not str:
            if prompt is None:
                errors.append(("prompt", "missing: give prompt (a string) or messages (a list)"))
            else:
                errors.append(("prompt", wrong(prompt, "a string")))
            prompt = None
    elif prompt is not None:
        errors.append(("prompt", "give either prompt or messages, not both"))
        prompt = None
    else:
        messages = parse_messages(raw_messages, errors)

    responses = parse_responses(get("responses", MISSING), errors)

    slices = get("slices")
    if slices is None:
        slices = {}
    elif type(slices) is not dict or len(slices) > MAX_SLICES or not _plain_slices(slices):
        slices_problems(slices, errors)

    expected = get("expected_behavior")
    if expected is not None:
        raw = expected
        expected = _BEHAVIORS.get(raw) if type(raw) is str else None
        if expected is None:
            errors.append(("expected_behavior", not_one_of(raw, _BEHAVIORS)))
    subject_id = get("subject_id")
    if subject_id is not None:
        subject_id = identifier(subject_id, "subject_id", errors)
    panel = get("panel")
    if panel is not None:
        raw = panel
        panel = _PANELS.get(raw) if type(raw) is str else None
        if panel is None:
            errors.append(("panel", not_one_of(raw, _PANELS)))

    # An invalid judgment or label is None, but then ``errors`` is not empty and no item is built.
    judgments: tuple[Any, ...] = ()
    raw_judgments = get("judgments")
    if raw_judgments is not None:
        if type(raw_judgments) is list:
            judgments = tuple(
                [
                    parse_judgment(entry, i, errors, judge_override)
                    for i, entry in enumerate(raw_judgments)
                ]
            )
        else:
            errors.append(("judgments", wrong(raw_judgments, "a list")))

    labels: tuple[Any, ...] = ()
    raw_labels = get("labels")
    if raw_labels is not None:
        if type(raw_labels) is list:
            labels = tuple([parse_label(entry, i, errors) for i, entry in enumerate(raw_labels)])
        else:
            errors.append(("labels", wrong(raw_labels, "a list")))

    if errors or responses is None:
        return None
    metadata: dict[str, Any] = {}
    if not obj.keys() <= TOP_LEVEL_KEYS:
        metadata = {k: v for k, v in obj.items() if k not in TOP_LEVEL_KEYS}
    if item_id is None:
        item_id = content_item_id(prompt, messages, responses)
    return _item_record(
        item_id,
        prompt,
        messages,
        responses,
        line,
        slices,
        expected,
        subject_id,
        panel,
        metadata,
        judgments,
        labels,
    )


def parse_messages(value: Any, errors: Errors) -> tuple[Message, ...] | None:
    """A non-empty list of ``{role, content}`` chat messages."""
    if type(value) is not list:
        errors.append(("messages", wrong(value, "a list of {role, content} messages")))
        return None
    if not value:
        errors.append(("messages", "must not be empty"))
        return None
    result: list[Message] = []
    ok = True
    for i, entry in enumerate(value):
        if type(entry) is dict:
            role = entry.get("role")
            role = ROLES.get(role) if type(role) is str else None
            content = entry.get("content")
            if role is not None and type(content) is str and len(entry) == 2:
                result.append(_message(role, content))
                continue
        ok = False
        at = f"messages[{i}]"
        if type(entry) is not dict:
            errors.append((at, wrong(entry, "an object with role and content")))
            continue
        unknown_keys(entry, _MESSAGE_KEYS, at, errors)
        role = entry.get("role", MISSING)
        if type(role) is not str or role not in ROLES:
            errors.append((f"{at}.role", not_one_of(role, ROLES)))
        string(entry.get("content", MISSING), f"{at}.content", errors, nonempty=False)
    return tuple(result) if ok else None


def parse_responses(value: Any, errors: Errors) -> dict[Slot, ResponseRecord] | None:
    """Exactly slots A and B, each with a non-empty model and a text of at most 1 MiB."""
    if type(value) is dict and len(value) == 2:
        a = value.get("A")
        b = value.get("B")
        if type(a) is dict and type(b) is dict and len(a) == 2 and len(b) == 2:
            model_a, text_a = a.get("model"), a.get("text")
            model_b, text_b = b.get("model"), b.get("text")
            if (
                type(model_a) is str
                and type(model_b) is str
                and type(text_a) is str
                and type(text_b) is str
                and model_a
                and model_b
                and not model_a.isspace()
                and not model_b.isspace()
                and len(text_a) <= _QUICK_TEXT
                and len(text_b) <= _QUICK_TEXT
            ):
                return {
                    _A: _response_record(model_a, text_a),
                    _B: _response_record(model_b, text_b),
                }
    return _responses_in_detail(value, errors)


def _responses_in_detail(value: Any, errors: Errors) -> dict[Slot, ResponseRecord] | None:
    """The full check of ``responses``, for what the quick test above did not accept."""
    if type(value) is not dict:
        errors.append(("responses", wrong(value, "an object with slots A and B")))
        return None
    result: dict[Slot, ResponseRecord] = {}
    ok = True
    for key in value:
        if key not in SLOTS:
            errors.append((key_path("responses", key), "unknown slot; only A and B exist"))
            ok = False
    for slot in (_A, _B):
        at = f"responses.{slot.value}"
        entry = value.get(slot.value, MISSING)
        if type(entry) is not dict:
            errors.append((at, wrong(entry, "an object with model and text")))
            ok = False
            continue
        unknown_keys(entry, _RESPONSE_KEYS, at, errors)
        model = string(entry.get("model", MISSING), f"{at}.model", errors)
        body = text(entry.get("text", MISSING), f"{at}.text", errors)
        if model is None or body is None or not entry.keys() <= _RESPONSE_KEYS:
            ok = False
        else:
            result[slot] = _response_record(model, body)
    return result if ok else None


def _plain_slices(value: dict[str, Any]) -> bool:
    """True when every slice is a non-blank name with a string value."""
    return all(type(tag) is str and key and not key.isspace() for key, tag in value.items())


def slices_problems(value: Any, errors: Errors) -> None:
    """Explain why ``slices`` is not at most 32 string→string pairs."""
    if type(value) is not dict:
        errors.append(("slices", wrong(value, "an object of string values")))
    elif len(value) > MAX_SLICES:
        errors.append(("slices", f"at most {MAX_SLICES} slices are allowed, got {len(value)}"))
    else:
        for key, tag in value.items():
            if not key or key.isspace():
                errors.append((key_path("slices", key), "slice names must not be empty"))
            elif type(tag) is not str:
                errors.append((key_path("slices", key), wrong(tag, "a string")))


def parse_judgment(
    value: Any, index: int, errors: Errors, judge_override: str | None
) -> JudgmentRecord | None:
    """A verdict, scores (verdict derived, and checked if both are given), or refusal only."""
    if type(value) is not dict:
        errors.append((f"judgments[{index}]", wrong(value, "an object")))
        return None
    before = len(errors)
    get = value.get
    if not value.keys() <= _JUDGMENT_KEYS:
        unknown_keys(value, _JUDGMENT_KEYS, f"judgments[{index}]", errors)

    judge = judge_override
    if judge is None:
        judge = get("judge", MISSING)
        if type(judge) is not str or not judge or judge.isspace():
            string(judge, f"judgments[{index}].judge", errors)
            judge = None
    raw = get("kind", MISSING)
    kind = _KINDS.get(raw) if type(raw) is str else None
    if kind is None:
        errors.append((f"judgments[{index}].kind", not_one_of(raw, _KINDS)))

    verdict = raw = get("verdict")
    if raw is not None:
        verdict = VERDICTS.get(raw) if type(raw) is str else None
        if verdict is None:
            errors.append((f"judgments[{index}].verdict", not_one_of(raw, VERDICTS)))
    order = _UNKNOWN_ORDER
    raw = get("order")
    if raw is not None:
        order = _ORDERS.get(raw) if type(raw) is str else None  # type: ignore[assignment]
        if order is None:
            errors.append((f"judgments[{index}].order", not_one_of(raw, _ORDERS)))
    probability_b = raw = get("probability_b")
    if raw is not None:
        if (type(raw) is float or type(raw) is int) and 0 <= raw <= 1:
            probability_b = float(raw)
        else:
            at = f"judgments[{index}].probability_b"
            if finite_number(raw, at, errors) is not None:
                errors.append((at, f"must be between 0 and 1, got {show(raw)}"))
    scores = raw = get("scores")
    if raw is not None:
        scores = _scores(raw)
        if scores is None:
            scores_problems(raw, f"judgments[{index}].scores", errors)
    refusals = raw = get("refusal")
    if raw is not None:
        refusals = _refusals(raw)
        if refusals is None:
            refusal(raw, f"judgments[{index}].refusal", errors)
    rationale = get("rationale")
    if rationale is not None and type(rationale) is not str:
        errors.append((f"judgments[{index}].rationale", wrong(rationale, "a string or null")))

    if len(errors) > before:
        return None
    if scores is not None:
        a, b = scores[_A], scores[_B]
        derived = _VERDICT_A if a > b else _VERDICT_B if b > a else _TIE
        if verdict is None:
            verdict = derived
        elif verdict is not derived:
            message = (
                f"{verdict.value} contradicts the scores (A {a:g}, B {b:g} give {derived.value})"
            )
            errors.append((f"judgments[{index}].verdict", message))
            return None
    elif verdict is None and refusals is None:
        message = "needs a verdict, scores, or a refusal classification"
        errors.append((f"judgments[{index}]", message))
        return None
    return _judgment_record(
        judge,
        kind,
        verdict,
        order,
        probability_b,
        scores,
        refusals,
        rationale,
    )


def _scores(value: Any) -> dict[Slot, float] | None:
    """Both slots, finite numbers (not booleans); None when anything is off."""
    if type(value) is not dict or len(value) != 2:
        return None
    a = value.get("A")
    b = value.get("B")
    if (
        (type(a) is float or type(a) is int)
        and (type(b) is float or type(b) is int)
        and -MAX_FLOAT <= a <= MAX_FLOAT
        and -MAX_FLOAT <= b <= MAX_FLOAT
    ):
        return {_A: float(a), _B: float(b)}
    return None


def scores_problems(value: Any, field: str, errors: Errors) -> None:
    """Explain why ``scores`` is not both slots with finite numbers."""
    if type(value) is not dict:
        errors.append((field, wrong(value, "an object with slots A and B")))
        return
    missing = [s for s in ("A", "B") if s not in value]
    if missing:
        errors.append((field, f"must have both slots A and B (missing {', '.join(missing)})"))
        return
    unknown_keys(value, _SCORE_KEYS, field, errors)
    finite_number(value["A"], f"{field}.A", errors)
    finite_number(value["B"], f"{field}.B", errors)


def _refusals(value: Any) -> dict[Slot, RefusalClass] | None:
    """Per-slot refusal classes for slot A and/or B; None when anything is off."""
    if type(value) is not dict or not value:
        return None
    try:
        return {SLOTS[k]: REFUSAL_CLASSES[v] for k, v in value.items()}
    except (KeyError, TypeError):  # an unknown slot or class, or an unhashable value
        return None


def parse_label(value: Any, index: int, errors: Errors) -> LabelRecord | None:
    """A human label collected elsewhere."""
    if type(value) is not dict:
        errors.append((f"labels[{index}]", wrong(value, "an object")))
        return None
    before = len(errors)
    get = value.get
    if not value.keys() <= _LABEL_KEYS:
        unknown_keys(value, _LABEL_KEYS, f"labels[{index}]", errors)
    reviewer = get("reviewer", MISSING)
    if type(reviewer) is not str or not reviewer or reviewer.isspace():
        string(reviewer, f"labels[{index}].reviewer", errors)
    raw = get("choice", MISSING)
    choice = VERDICTS.get(raw) if type(raw) is str else None
    if choice is None:
        errors.append((f"labels[{index}].choice", not_one_of(raw, VERDICTS)))
    shown_left = raw = get("shown_left")
    if raw is not None:
        shown_left = SLOTS.get(raw) if type(raw) is str else None
        if shown_left is None:
            errors.append((f"labels[{index}].shown_left", not_one_of(raw, SLOTS)))
    labeled_at = get("labeled_at")
    if labeled_at is not None:
        labeled_at = timestamp(labeled_at, f"labels[{index}].labeled_at", errors)
    refusals = raw = get("refusal")
    if raw is not None:
        refusals = _refusals(raw)
        if refusals is None:
            refusal(raw, f"labels[{index}].refusal", errors)
    dwell_ms = get("dwell_ms")
    if dwell_ms is not None and (type(dwell_ms) is not int or dwell_ms < 0):
        message = f"must be a non-negative integer, got {show(dwell_ms)}"
        errors.append((f"labels[{index}].dwell_ms", message))
    note = get("note")
    if note is not None and type(note) is not str:
        errors.append((f"labels[{index}].note", wrong(note, "a string or null")))
    if len(errors) > before:
        return None
    return _label_record(
        reviewer,
        choice,
        shown_left,
        labeled_at,
        refusals,
        dwell_ms,
        note,
    )
