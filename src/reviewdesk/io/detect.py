"""Telling an input file's format from its first record (``--format auto``).

Only the first record is read. Each format has fields no other has: native ``responses``,
AlpacaEval ``instruction`` and ``output_1``, Arena ``model_a`` and ``winner``, MT-Bench
``g1_winner``. A record matching none or several is an error the user fixes with ``--format``.
"""

from __future__ import annotations

from pathlib import Path

from reviewdesk.domain.errors import UserError
from reviewdesk.io.reader import Format, open_input
from reviewdesk.io.streaming import (
    LENIENT_DECODER,
    JsonArraySource,
    JsonLinesSource,
    RawRecord,
    sniff_first_byte,
)
from reviewdesk.io.validation import kind_of

SIGNATURES: tuple[tuple[Format, tuple[str, ...]], ...] = (
    (Format.NATIVE, ("responses",)),
    (Format.ALPACA_EVAL, ("instruction", "output_1")),
    (Format.ARENA, ("model_a", "winner")),
    (Format.MT_BENCH, ("g1_winner",)),
)

HINT = "give --format " + ", ".join(fmt.value for fmt, _ in SIGNATURES[:-1])
HINT += f" or {SIGNATURES[-1][0].value}"


def detect_format(path: Path) -> Format:
    """The format of ``path``, judged by its first record; raises ``UserError`` naming the file
    when the format is unknown or ambiguous."""
    first: RawRecord | None = None
    with open_input(path) as file:
        start = sniff_first_byte(file)
        if not start:
            raise UserError(f"{path}: the file is empty; cannot detect its format")
        if start == b"[":
            source = iter(JsonArraySource(file, LENIENT_DECODER))
        else:
            source = iter(JsonLinesSource(file, LENIENT_DECODER))
        first = next(source, None)
    if first is None:
        raise UserError(f"{path}: the file holds no records; cannot detect its format")
    line, value, _raw, problem = first
    if problem is not None:
        raise UserError(
            f"{path}:{problem.line}: cannot detect the format: {problem.message}; {HINT}"
        )
    if type(value) is not dict:
        raise UserError(
            f"{path}:{line}: cannot detect the format: the first record is {kind_of(value)}, "
            f"not an object; {HINT}"
        )
    matches = [fmt for fmt, keys in SIGNATURES if all(key in value for key in keys)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserError(
            f"{path}:{line}: cannot detect the format: the first record has none of the fields "
            f"that identify one (native 'responses', alpaca_eval 'instruction' and 'output_1', "
            f"arena 'model_a' and 'winner', mt_bench 'g1_winner'); {HINT}"
        )
    names = " and ".join(fmt.value for fmt in matches)
    raise UserError(
        f"{path}:{line}: the format is ambiguous: the first record looks like {names}; {HINT}"
    )
