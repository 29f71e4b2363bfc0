"""Chatbot Arena / FastChat battles (a JSON array or JSON Lines).

Fields of a battle: ``question_id``, ``model_a``, ``model_b``, ``winner`` (``model_a``,
``model_b``, ``tie``, ``tie (bothbad)``), ``judge``, ``conversation_a``/``conversation_b`` (lists of
``{role, content}``), ``turn``, ``anony``, ``language``, ``tstamp`` (Unix seconds), plus moderation
fields this importer ignores. The arena shows ``model_a`` on the left, so a vote is a judgment in
order ``AB``; with ``as_labels`` it becomes a human label shown with slot A on the left.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reviewdesk.domain.hashing import content_item_id
from reviewdesk.domain.model import (
    ItemRecord,
    JudgeKind,
    JudgmentRecord,
    LabelRecord,
    Message,
    Order,
    ResponseRecord,
    Role,
    Slot,
    Verdict,
)
from reviewdesk.io.importers.conversation import (
    parse_conversation,
    render_reply,
    split_conversation,
)
from reviewdesk.io.reader import Errors, Format, ReadOptions, ReadResult, RecordReader
from reviewdesk.io.streaming import (
    LENIENT_DECODER,
    RECORD,
    JsonArraySource,
    JsonLinesSource,
    RawRecord,
    sniff_first_byte,
)
from reviewdesk.io.validation import (
    MISSING,
    enum_value,
    kind_of,
    string,
    text,
    unix_time,
    wrong,
)

WINNERS = {
    "model_a": Verdict.A,
    "model_b": Verdict.B,
    "tie": Verdict.TIE,
    "tie (bothbad)": Verdict.BOTH_BAD,
}


class ArenaReader(RecordReader):
    """Battles as judgments (kind llm, order AB) or, with ``as_labels``, as human labels."""

    def __init__(self, path: Path, options: ReadOptions) -> None:
        super().__init__(path, Format.ARENA)
        self._judge = options.judge
        self._as_labels = options.as_labels

    def _records(self) -> Iterator[ReadResult]:
        source: Iterator[RawRecord]
        if sniff_first_byte(self._file) == b"[":
            source = iter(JsonArraySource(self._file, LENIENT_DECODER))
        else:
            source = iter(JsonLinesSource(self._file, LENIENT_DECODER))
        for record in source:
            line, value, raw, problem = record
            if problem is not None:
                yield self.source_rejected(record)
                continue
            errors: Errors = []
            if type(value) is dict:
                item = self._battle(value, line, errors)
                if item is not None:
                    yield item
                    continue
            else:
                errors.append((RECORD, f"must be a JSON object, got {kind_of(value)}"))
            yield self.rejected(line, errors, raw.strip() if raw else raw)

    def _battle(self, obj: dict[str, Any], line: int, errors: Errors) -> ItemRecord | None:
        get = obj.get
        model_a = string(get("model_a", MISSING), "model_a", errors)
        model_b = string(get("model_b", MISSING), "model_b", errors)
        verdict = enum_value(get("winner", MISSING), WINNERS, "winner", errors)
        judge = self._judge
        if judge is None:
            raw_judge = get("judge", MISSING)
            if raw_judge is MISSING or raw_judge is None:
                errors.append(("judge", "missing: the battle names no judge; give --judge NAME"))
            else:
                judge = string(raw_judge, "judge", errors)

        conv_a = parse_conversation(get("conversation_a", MISSING), "conversation_a", errors)
        conv_b = parse_conversation(get("conversation_b", MISSING), "conversation_b", errors)
        split_a = split_conversation(conv_a, "conversation_a", errors) if conv_a else None
        split_b = split_conversation(conv_b, "conversation_b", errors) if conv_b else None
        prompt: str | None = None
        messages: tuple[Message, ...] | None = None
        text_a = text_b = None
        if split_a is not None and split_b is not None:
            system_a, user_a, rest_a = split_a
            system_b, user_b, rest_b = split_b
            first_b = len(system_b)
            if system_a != system_b:
                errors.append(("conversation_b", "its system messages differ from conversation_a"))
            elif user_a != user_b:
                message = "the first user message differs from conversation_a's"
                errors.append((f"conversation_b[{first_b}].content", message))
            elif system_a:
                messages = (*system_a, Message(Role.USER, user_a))
            else:
                prompt = user_a
            text_a = text(render_reply(rest_a), "conversation_a", errors)
            text_b = text(render_reply(rest_b), "conversation_b", errors)

        slices: dict[str, str] = {}
        language = get("language")
        if language is not None:
            if type(language) is str:
                if language.strip():
                    slices["language"] = language
            else:
                errors.append(("language", wrong(language, "a string")))
        turn = get("turn")
        if turn is not None:
            if type(turn) is int and turn >= 1:
                slices["turn"] = str(turn)
            else:
                errors.append(("turn", f"must be a positive integer, got {kind_of(turn)}"))

        labeled_at = None
        if self._as_labels:
            tstamp = get("tstamp")
            if tstamp is not None:
                labeled_at = unix_time(tstamp, "tstamp", errors)

        if errors or model_a is None or model_b is None or text_a is None or text_b is None:
            return None
        responses = {
            Slot.A: ResponseRecord(model_a, text_a),
            Slot.B: ResponseRecord(model_b, text_b),
        }
        metadata: dict[str, Any] = {}
        question_id = get("question_id")
        if type(question_id) in (str, int):
            metadata["question_id"] = question_id
        if type(get("anony")) is bool:
            metadata["anony"] = obj["anony"]
        assert judge is not None
        assert verdict is not None
        judgments: tuple[JudgmentRecord, ...] = ()
        labels: tuple[LabelRecord, ...] = ()
        if self._as_labels:
            labels = (LabelRecord(judge, verdict, shown_left=Slot.A, labeled_at=labeled_at),)
        else:
            judgments = (JudgmentRecord(judge, JudgeKind.LLM, verdict, order=Order.AB),)
        return ItemRecord(
            item_id=content_item_id(prompt, messages, responses),
            prompt=prompt,
            messages=messages,
            responses=responses,
            line=line,
            slices=slices,
            metadata=metadata,
            judgments=judgments,
            labels=labels,
        )
