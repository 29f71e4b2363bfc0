"""AlpacaEval ``annotations.json``: one JSON array of pairwise judgments.

Fields: ``instruction``, ``output_1``/``generator_1`` (slot A), ``output_2``/``generator_2`` (slot
B), ``annotator`` (the judge), ``preference``, ``dataset``, and bookkeeping this importer ignores
(``price_per_example``, ``time_per_example``, ``raw_completion`` — large, never stored —,
``referenced_models``). ``preference`` is in [1, 2]: below 1.5 prefers output_1, above prefers
output_2, 1.5 is a tie; ``probability_b = preference − 1``. AlpacaEval writes a missing
preference as ``null`` or a bare ``NaN`` token: such a record is skipped with a warning, not
rejected. Older AlpacaEval versions wrote 0 for a draw; it is read as a tie.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reviewdesk.domain.hashing import content_item_id
from reviewdesk.domain.model import (
    ItemRecord,
    JudgeKind,
    JudgmentRecord,
    Order,
    ResponseRecord,
    Skipped,
    Slot,
    Verdict,
)
from reviewdesk.io.reader import Errors, Format, ReadOptions, ReadResult, RecordReader
from reviewdesk.io.streaming import LENIENT_DECODER, RECORD, JsonArraySource
from reviewdesk.io.validation import MISSING, kind_of, show, string, text, wrong

_SKIP = object()
"""What :func:`parse_preference` returns for a null or NaN preference."""


class AlpacaEvalReader(RecordReader):
    """One LLM judgment (order AB) per annotation; items are identified by content hash."""

    def __init__(self, path: Path, options: ReadOptions) -> None:
        super().__init__(path, Format.ALPACA_EVAL)
        self._judge = options.judge

    def _records(self) -> Iterator[ReadResult]:
        for record in JsonArraySource(self._file, LENIENT_DECODER):
            line, value, raw, problem = record
            if problem is not None:
                yield self.source_rejected(record)
                continue
            errors: Errors = []
            if type(value) is dict:
                result = self._annotation(value, line, errors)
                if result is not None:
                    yield result
                    continue
            else:
                errors.append((RECORD, f"must be a JSON object, got {kind_of(value)}"))
            yield self.rejected(line, errors, raw)

    def _annotation(
        self, obj: dict[str, Any], line: int, errors: Errors
    ) -> ItemRecord | Skipped | None:
        get = obj.get
        prompt = string(get("instruction", MISSING), "instruction", errors, nonempty=False)
        output_1 = text(get("output_1", MISSING), "output_1", errors)
        generator_1 = string(get("generator_1", MISSING), "generator_1", errors)
        output_2 = text(get("output_2", MISSING), "output_2", errors)
        generator_2 = string(get("generator_2", MISSING), "generator_2", errors)
        judge = self._judge
        if judge is None:
            annotator = get("annotator", MISSING)
            if annotator is MISSING or annotator is None:
                errors.append(
                    ("annotator", "missing: the record names no judge; give --judge NAME")
                )
            else:
                judge = string(annotator, "annotator", errors)
        preference = parse_preference(get("preference", MISSING), errors)
        dataset = get("dataset")
        if dataset is not None and type(dataset) is not str:
            errors.append(("dataset", wrong(dataset, "a string")))

        if errors:
            return None
        if preference is _SKIP:
            return Skipped(line, "preference", "no preference (null or NaN): record skipped")
        # All were checked above (no errors); the asserts only inform the type checker.
        assert prompt is not None
        assert output_1 is not None
        assert output_2 is not None
        assert generator_1 is not None
        assert generator_2 is not None
        assert judge is not None
        assert isinstance(preference, float)
        responses = {
            Slot.A: ResponseRecord(generator_1, output_1),
            Slot.B: ResponseRecord(generator_2, output_2),
        }
        if preference == 0.0:  # AlpacaEval's old code for a draw
            preference = 1.5
        verdict = Verdict.A if preference < 1.5 else Verdict.B if preference > 1.5 else Verdict.TIE
        judgment = JudgmentRecord(
            judge, JudgeKind.LLM, verdict, order=Order.AB, probability_b=preference - 1.0
        )
        return ItemRecord(
            item_id=content_item_id(prompt, None, responses),
            prompt=prompt,
            messages=None,
            responses=responses,
            line=line,
            slices={"dataset": dataset} if dataset and dataset.strip() else {},
            judgments=(judgment,),
        )


def parse_preference(value: Any, errors: Errors) -> float | object | None:
    """The preference as a float in [1, 2] (or 0), ``_SKIP`` for null/NaN, None when invalid."""
    if value is None:
        return _SKIP
    if type(value) is float:
        if math.isnan(value):
            return _SKIP
        number = value
    elif type(value) is int:
        number = float(value) if -10 < value < 10 else math.inf
    else:
        errors.append(("preference", wrong(value, "a number in [1, 2]")))
        return None
    if number == 0.0 or 1.0 <= number <= 2.0:
        return number
    errors.append(("preference", f"must be between 1 and 2, got {show(value)}"))
    return None
