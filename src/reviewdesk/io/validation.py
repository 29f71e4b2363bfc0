"""Small checks shared by the importers, written as straight-line code for speed.

Each check takes the value, its dotted field path and the record's error list; it returns the
converted value, or None after appending ``(field, message)``. Checks compare ``type(x) is ...``
on purpose: ``True`` is an ``int`` in Python, but a boolean is never a valid number here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from reviewdesk.domain.errors import brief
from reviewdesk.domain.model import RefusalClass, Role, Slot, Verdict
from reviewdesk.io.reader import Errors

E = TypeVar("E", bound=StrEnum)


class _Missing:
    """Marks a key that is absent, so messages can say "missing" rather than "got null"."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Pass ``obj.get(key, MISSING)`` to a check to have an absent key reported as missing."""

MAX_TEXT_BYTES = 1024 * 1024
"""A response text may hold at most 1 MiB of UTF-8."""

MAX_ID_CHARS = 200
MAX_SLICES = 32

MAX_FLOAT = sys.float_info.max
"""``-MAX_FLOAT <= x <= MAX_FLOAT`` holds for finite numbers only (NaN compares false), and
for integers too large for a float it is false as well: one comparison checks both."""

SLOTS: dict[str, Slot] = {s.value: s for s in Slot}
VERDICTS: dict[str, Verdict] = {v.value: v for v in Verdict}
REFUSAL_CLASSES: dict[str, RefusalClass] = {r.value: r for r in RefusalClass}
ROLES: dict[str, Role] = {r.value: r for r in Role}


def wrong(value: Any, expected: str) -> str:
    """The message for a value of the wrong type: "missing" or "must be X, got Y"."""
    if value is MISSING:
        return "missing"
    return f"must be {expected}, got {kind_of(value)}"


def kind_of(value: Any) -> str:
    """The JSON type of a value, as a user would name it."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "a boolean"
    if type(value) in (int, float):
        return "a number"
    if type(value) is str:
        return "a string"
    if type(value) is list:
        return "an array"
    if type(value) is dict:
        return "an object"
    return type(value).__name__


show = brief
"""A short JSON rendering of a bad value for a message."""


def key_path(parent: str, key: str) -> str:
    """``parent.key``, or ``parent["odd key"]`` when the key would not read well dotted."""
    if key.isidentifier():
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{show(key)}]"


def choices(mapping: Mapping[str, Any]) -> str:
    return ", ".join(mapping)


def not_one_of(value: Any, table: Mapping[str, Any]) -> str:
    """The message for a value outside a closed set of strings."""
    if value is MISSING:
        return "missing"
    return f"must be one of {choices(table)}, got {show(value)}"


def enum_value(value: Any, table: Mapping[str, E], field: str, errors: Errors) -> E | None:
    """A value of a closed set of strings (verdicts, roles, ...)."""
    if type(value) is str:
        member = table.get(value)
        if member is not None:
            return member
    errors.append((field, not_one_of(value, table)))
    return None


def string(value: Any, field: str, errors: Errors, *, nonempty: bool = True) -> str | None:
    """A string; ``nonempty`` also refuses blank ones."""
    if type(value) is not str:
        errors.append((field, wrong(value, "a string")))
        return None
    if nonempty and not value.strip():
        errors.append((field, "must not be empty"))
        return None
    return value


def optional_string(value: Any, field: str, errors: Errors) -> str | None:
    """A string or null (absent)."""
    if value is None or type(value) is str:
        return value
    errors.append((field, f"must be a string or null, got {kind_of(value)}"))
    return None


def identifier(value: Any, field: str, errors: Errors) -> str | None:
    """A non-empty string of at most 200 characters (item and subject ids)."""
    if type(value) is not str:
        errors.append((field, wrong(value, "a string")))
        return None
    if not value.strip():
        errors.append((field, "must not be empty"))
        return None
    if len(value) > MAX_ID_CHARS:
        errors.append((field, f"must be at most {MAX_ID_CHARS} characters, got {len(value)}"))
        return None
    return value


def text(value: Any, field: str, errors: Errors) -> str | None:
    """A response text: a string of at most 1 MiB of UTF-8 (may be empty)."""
    if type(value) is not str:
        errors.append((field, wrong(value, "a string")))
        return None
    # Four UTF-8 bytes per character at most: only long texts need encoding to be measured.
    if len(value) > MAX_TEXT_BYTES // 4:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_TEXT_BYTES:
            errors.append((field, f"is {size} bytes of UTF-8; at most 1 MiB is allowed"))
            return None
    return value


def finite_number(value: Any, field: str, errors: Errors) -> float | None:
    """A finite JSON number (not a boolean), as a float."""
    if type(value) is float:
        if math.isfinite(value):
            return value
        errors.append((field, f"must be a finite number, got {value}"))
        return None
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            errors.append((field, "is out of range"))
            return None
    errors.append((field, wrong(value, "a number")))
    return None


def probability(value: Any, field: str, errors: Errors) -> float | None:
    """A number in [0, 1]."""
    number = finite_number(value, field, errors)
    if number is None:
        return None
    if not 0.0 <= number <= 1.0:
        errors.append((field, f"must be between 0 and 1, got {show(value)}"))
        return None
    return number


def refusal(value: Any, field: str, errors: Errors) -> dict[Slot, RefusalClass] | None:
    """Per-slot refusal classes: an object with slot A and/or B."""
    if type(value) is not dict:
        errors.append((field, wrong(value, "an object with slots A and/or B")))
        return None
    if not value:
        errors.append((field, "must name slot A and/or B"))
        return None
    result: dict[Slot, RefusalClass] = {}
    ok = True
    for key, cls in value.items():
        slot = SLOTS.get(key)
        if slot is None:
            errors.append((key_path(field, key), "unknown slot; only A and B exist"))
            ok = False
            continue
        member = enum_value(cls, REFUSAL_CLASSES, f"{field}.{key}", errors)
        if member is None:
            ok = False
        else:
            result[slot] = member
    return result if ok else None


def timestamp(value: Any, field: str, errors: Errors) -> datetime | None:
    """An ISO 8601 date-time with a timezone (``Z`` or an offset), converted to UTC."""
    if type(value) is not str:
        errors.append((field, wrong(value, "an ISO 8601 date-time string")))
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors.append((field, f"is not an ISO 8601 date-time: {show(value)}"))
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        errors.append((field, f"needs a timezone (e.g. 'Z' or '+01:00'): {show(value)}"))
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before the first UTC date
        errors.append((field, f"is out of range: {show(value)}"))
        return None


def unix_time(value: Any, field: str, errors: Errors) -> datetime | None:
    """Seconds since the epoch (a finite number) as an aware UTC date-time."""
    seconds = finite_number(value, field, errors)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        errors.append((field, f"is not a valid Unix time: {show(value)}"))
        return None


def unknown_keys(obj: dict[str, Any], known: frozenset[str], parent: str, errors: Errors) -> None:
    """Report keys of a nested object that the format does not define, in file order."""
    if obj.keys() <= known:
        return
    for key in obj:
        if key not in known:
            errors.append((key_path(parent, key), "unknown key"))
