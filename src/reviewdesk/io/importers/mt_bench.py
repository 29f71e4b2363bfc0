"""MT-Bench pairwise judgments (FastChat ``data/mt_bench/model_judgment/*_pair.jsonl``).

A judgment line holds ``question_id``, ``model_1``, ``model_2``, ``g1_winner`` and ``g2_winner``
(``model_1``/``model_2``/``tie``/``error``: FastChat has already mapped the judge's A/B back to
model names), ``judge`` (a list such as ``["gpt-4", "pair-v2"]``), ``g1_judgment``/``g2_judgment``
(the judge's text), ``turn`` and ``tstamp``. Game 1 showed model_1 first (order ``AB``), game 2
model_2 first (``BA``); ``model_1`` is slot A. A winner of ``error`` means the judge gave no
verdict: that judgment is skipped with a warning, the other one kept.

The texts are not in the judgment file: questions come from ``question.jsonl`` (question_id,
category, turns) and answers from ``model_answer/<model>.jsonl`` (question_id, model_id,
``choices[0].turns``). Both side files are small and loaded into dicts; the judgment file streams.
A broken side file raises :class:`InvalidInputError` naming its own lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewdesk.domain.errors import InvalidInputError, Problem, UserError
from reviewdesk.domain.hashing import content_item_id
from reviewdesk.domain.model import (
    ItemRecord,
    JudgeKind,
    JudgmentRecord,
    Message,
    Order,
    ResponseRecord,
    Role,
    Skipped,
    Slot,
    Verdict,
)
from reviewdesk.io.importers.conversation import render_reply
from reviewdesk.io.reader import Errors, Format, ReadOptions, ReadResult, RecordReader, open_input
from reviewdesk.io.streaming import LENIENT_DECODER, RECORD, JsonLinesSource
from reviewdesk.io.validation import MISSING, kind_of, show, string, text, wrong

_ERROR = "error"
WINNERS: dict[str, Verdict | str] = {
    "model_1": Verdict.A,
    "model_2": Verdict.B,
    "tie": Verdict.TIE,
    _ERROR: _ERROR,
}


@dataclass(frozen=True)
class Question:
    category: str | None
    turns: tuple[str, ...]


def question_key(value: Any, field: str, errors: Errors) -> str | None:
    """Question ids are integers in FastChat's files; strings are accepted too."""
    if type(value) is int or (type(value) is str and value.strip()):
        return str(value)
    errors.append((field, wrong(value, "an integer or a string")))
    return None


def string_list(value: Any, field: str, errors: Errors) -> tuple[str, ...] | None:
    if type(value) is not list or not value:
        errors.append((field, "must not be empty" if value == [] else wrong(value, "a list")))
        return None
    ok = True
    for i, entry in enumerate(value):
        if type(entry) is not str:
            errors.append((f"{field}[{i}]", wrong(entry, "a string")))
            ok = False
    return tuple(value) if ok else None


def _read_side_file(path: Path, what: str) -> Iterator[tuple[int, dict[str, Any], Errors]]:
    """Yield (line, object, errors) per record of a side file; raise if any record is bad.

    ``errors`` is filled by the caller while validating; all problems are collected and raised
    together once the file has been read.
    """
    problems: list[Problem] = []
    name = str(path)
    with open_input(path) as file:
        for line, value, _raw, problem in JsonLinesSource(file, LENIENT_DECODER):
            if problem is not None:
                problems.append(Problem(name, *problem))
                continue
            if type(value) is not dict:
                message = f"must be a JSON object, got {kind_of(value)}"
                problems.append(Problem(name, line, RECORD, message))
                continue
            errors: Errors = []
            yield line, value, errors
            problems.extend(Problem(name, line, field, message) for field, message in errors)
    if problems:
        raise InvalidInputError(f"{name} ({what})", problems, len(problems))


def load_questions(path: Path) -> dict[str, Question]:
    """question.jsonl: question_id → (category, turns)."""
    questions: dict[str, Question] = {}
    lines: dict[str, int] = {}
    for line, obj, errors in _read_side_file(path, "--questions"):
        key = question_key(obj.get("question_id", MISSING), "question_id", errors)
        turns = string_list(obj.get("turns", MISSING), "turns", errors)
        category = obj.get("category")
        if category is not None and type(category) is not str:
            errors.append(("category", wrong(category, "a string")))
            category = None
        if key is None or turns is None:
            continue
        if key in questions:
            errors.append(("question_id", f"duplicate question {key}; first on line {lines[key]}"))
            continue
        questions[key] = Question(category, turns)
        lines[key] = line
    return questions


def _answer_turns(obj: dict[str, Any], errors: Errors) -> tuple[str, ...] | None:
    choices = obj.get("choices", MISSING)
    if type(choices) is not list or not choices:
        errors.append(("choices", wrong(choices, "a non-empty list")))
        return None
    first = choices[0]
    if type(first) is not dict:
        errors.append(("choices[0]", wrong(first, "an object with turns")))
        return None
    return string_list(first.get("turns", MISSING), "choices[0].turns", errors)


def _load_answers(path: Path, keyed_by_model: bool) -> dict[tuple[str, str], tuple[str, ...]]:
    """(model or "", question key) → answer turns."""
    answers: dict[tuple[str, str], tuple[str, ...]] = {}
    for _line, obj, errors in _read_side_file(path, "--answers"):
        key = question_key(obj.get("question_id", MISSING), "question_id", errors)
        model = ""
        if keyed_by_model:
            model = string(obj.get("model_id", MISSING), "model_id", errors) or ""
        turns = _answer_turns(obj, errors)
        if key is not None and turns is not None and not errors:
            answers[(model, key)] = turns
    return answers


class AnswerStore:
    """Model answers: a FastChat ``model_answer/`` directory (files loaded when first needed) or
    one JSON Lines file with the answers of several models (told apart by ``model_id``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._by_model: dict[str, dict[str, tuple[str, ...]] | str] = {}
        if path.is_dir():
            self._dir: Path | None = path
        elif path.is_file():
            self._dir = None
            for (model, key), turns in _load_answers(path, keyed_by_model=True).items():
                entry = self._by_model.setdefault(model, {})
                assert isinstance(entry, dict)
                entry[key] = turns
        else:
            raise UserError(f"{path}: no such file or directory (--answers)")

    def turns(self, model: str, key: str) -> tuple[str, ...] | str:
        """The answer turns of ``model`` to question ``key``, or a message saying what's missing."""
        answers = self._by_model.get(model)
        if answers is None:
            answers = self._load(model)
            self._by_model[model] = answers
        if isinstance(answers, str):
            return answers
        found = answers.get(key)
        if found is None:
            return f"no answer of model {show(model)} to question {key} in {self._source(model)}"
        return found

    def _source(self, model: str) -> str:
        return str(self._dir / f"{model}.jsonl") if self._dir is not None else str(self.path)

    def _load(self, model: str) -> dict[str, tuple[str, ...]] | str:
        if self._dir is None:
            return f"no answers of model {show(model)} in {self.path}"
        if Path(model).name != model or model.startswith("."):
            return f"cannot look up the answers of model {show(model)} in a directory"
        path = self._dir / f"{model}.jsonl"
        if not path.is_file():
            return f"no answers of model {show(model)}: {path} does not exist"
        return {key: turns for (_m, key), turns in _load_answers(path, False).items()}


class MtBenchReader(RecordReader):
    """Each pair judgment gives one item with up to two judgments (orders AB and BA)."""

    def __init__(self, path: Path, options: ReadOptions) -> None:
        if options.questions is None or options.answers is None:
            missing = " and ".join(
                flag
                for flag, given in (
                    ("--questions", options.questions),
                    ("--answers", options.answers),
                )
                if given is None
            )
            raise UserError(
                f"{path}: MT-Bench judgments hold no texts; give {missing} "
                "(question.jsonl and the model_answer/ directory of FastChat's data/mt_bench)"
            )
        self._questions_path = options.questions
        self._questions = load_questions(options.questions)
        self._answers = AnswerStore(options.answers)
        super().__init__(path, Format.MT_BENCH)
        self._judge = options.judge

    def _records(self) -> Iterator[ReadResult]:
        for record in JsonLinesSource(self._file, LENIENT_DECODER):
            line, value, raw, problem = record
            if problem is not None:
                yield self.source_rejected(record)
                continue
            errors: Errors = []
            if type(value) is dict:
                results = self._judgment(value, line, errors)
                if results is not None:
                    yield from results
                    continue
            else:
                errors.append((RECORD, f"must be a JSON object, got {kind_of(value)}"))
            yield self.rejected(line, errors, raw.rstrip("\r\n") if raw else raw)

    def _judgment(
        self, obj: dict[str, Any], line: int, errors: Errors
    ) -> list[ItemRecord | Skipped] | None:
        get = obj.get
        key = question_key(get("question_id", MISSING), "question_id", errors)
        model_1 = string(get("model_1", MISSING), "model_1", errors)
        model_2 = string(get("model_2", MISSING), "model_2", errors)
        g1 = _winner(get("g1_winner", MISSING), "g1_winner", errors)
        g2 = _winner(get("g2_winner", MISSING), "g2_winner", errors)
        judge = self._judge or self._judge_name(get("judge", MISSING), errors)
        rationale_1 = self._rationale(get("g1_judgment"), "g1_judgment", errors)
        rationale_2 = self._rationale(get("g2_judgment"), "g2_judgment", errors)
        turn = get("turn", 1)
        if type(turn) is not int or turn not in (1, 2):
            errors.append(("turn", f"must be 1 or 2, got {show(turn)}"))
            turn = None

        question = None
        if key is not None:
            question = self._questions.get(key)
            if question is None:
                message = f"question {key} is not in {self._questions_path} (--questions)"
                errors.append(("question_id", message))
            elif turn is not None and len(question.turns) < turn:
                errors.append(("turn", f"question {key} has only {len(question.turns)} turn(s)"))
                question = None
        responses: dict[Slot, ResponseRecord] = {}
        if question is not None and turn is not None:
            for slot, field, model in ((Slot.A, "model_1", model_1), (Slot.B, "model_2", model_2)):
                if model is None:
                    continue
                found = self._answers.turns(model, key)  # type: ignore[arg-type]
                if isinstance(found, str):
                    errors.append((field, found))
                elif len(found) < turn:
                    message = f"the answer of {show(model)} to question {key} has only one turn"
                    errors.append((field, message))
                else:
                    body = found[0] if turn == 1 else _second_turn(found, question.turns[1])
                    checked = text(body, field, errors)
                    if checked is not None:
                        responses[slot] = ResponseRecord(model, checked)

        if errors or question is None or turn is None or len(responses) != 2:
            return None
        results: list[ItemRecord | Skipped] = []
        judgments: list[JudgmentRecord] = []
        for field, winner, order, rationale in (
            ("g1_winner", g1, Order.AB, rationale_1),
            ("g2_winner", g2, Order.BA, rationale_2),
        ):
            if winner == _ERROR or winner is None:
                message = "the judge gave no verdict ('error'): this judgment is skipped"
                results.append(Skipped(line, field, message))
            else:
                assert isinstance(winner, Verdict)
                assert judge is not None
                judgments.append(
                    JudgmentRecord(judge, JudgeKind.LLM, winner, order=order, rationale=rationale)
                )
        if judgments:
            prompt = question.turns[0]
            slices = {}
            if question.category and question.category.strip():
                slices["category"] = question.category
            slices["turn"] = str(turn)
            results.append(
                ItemRecord(
                    item_id=content_item_id(prompt, None, responses),
                    prompt=prompt,
                    messages=None,
                    responses=responses,
                    line=line,
                    slices=slices,
                    metadata={"question_id": get("question_id")},
                    judgments=tuple(judgments),
                )
            )
        return results

    @staticmethod
    def _judge_name(value: Any, errors: Errors) -> str | None:
        """FastChat writes the judge as ``[model, prompt template]``; joined with ``/``."""
        if type(value) is str and value.strip():
            return value
        if type(value) is list and value and all(type(v) is str and v.strip() for v in value):
            return "/".join(value)
        if value is MISSING or value is None:
            errors.append(("judge", "missing: the record names no judge; give --judge NAME"))
        else:
            errors.append(
                (
                    "judge",
                    f'must be a list of strings such as ["gpt-4", "pair-v2"], got {show(value)}',
                )
            )
        return None

    @staticmethod
    def _rationale(value: Any, field: str, errors: Errors) -> str | None:
        if value is None or type(value) is str:
            return value
        errors.append((field, wrong(value, "a string")))
        return None


def _winner(value: Any, field: str, errors: Errors) -> Verdict | str | None:
    """A game's winner as a verdict in canonical slots, or ``"error"``."""
    if type(value) is str:
        found = WINNERS.get(value)
        if found is not None:
            return found
    if value is MISSING:
        errors.append((field, "missing"))
    else:
        errors.append((field, f"must be one of {', '.join(WINNERS)}, got {show(value)}"))
    return None


def _second_turn(answer: tuple[str, ...], second_question: str) -> str:
    """The model's two answers with the second user turn between them."""
    return render_reply(
        [
            Message(Role.ASSISTANT, answer[0]),
            Message(Role.USER, second_question),
            Message(Role.ASSISTANT, answer[1]),
        ]
    )
