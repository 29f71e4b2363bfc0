"""Stable hashing: canonical JSON, content hashes, and seeded BLAKE2b draws.

Never Python's ``hash()``: it is salted per process, and blinding, sampling and identities must be
the same on every machine and every run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from reviewdesk.domain.model import Message, ResponseRecord, Slot

_canonical_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the same value always gives the same text.

    One encoder for every call: ``json.dumps`` with options builds a new ``JSONEncoder`` each
    time, which was most of the cost for the many small values of an import or an export.
    """
    return _canonical_encode(value)


def sha256_hex(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def fields_sha256(*parts: str | int | float | bool | None) -> str:
    """SHA-256 over the ``repr`` of the parts: unambiguous, stable, and far cheaper than JSON.

    Parts must be plain ``str``/``int``/``float``/``bool``/``None`` (pass an enum's ``.value``):
    their ``repr`` is fixed by the language (floats shortest round-trip), quotes and escapes
    keep strings apart, and escaped lone surrogates can still be hashed.
    """
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def item_content(
    prompt: str | None,
    messages: Sequence[Message] | None,
    responses: Mapping[Slot, ResponseRecord],
) -> dict[str, Any]:
    """The part of an item that identifies it: the prompt and both slots' model and text."""
    return {
        "prompt": prompt,
        "messages": None if messages is None else [[m.role.value, m.content] for m in messages],
        "A": [responses[Slot.A].model, responses[Slot.A].text],
        "B": [responses[Slot.B].model, responses[Slot.B].text],
    }


def content_item_id(
    prompt: str | None,
    messages: Sequence[Message] | None,
    responses: Mapping[Slot, ResponseRecord],
) -> str:
    """Item id for formats without one: ``c-`` and 24 hex digits of SHA-256 over the content."""
    return "c-" + sha256_hex(canonical_json(item_content(prompt, messages, responses)))[:24]


def blake2b_int(*parts: object, bits: int = 63) -> int:
    """A deterministic integer in ``[0, 2**bits)`` from the parts (joined unambiguously)."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        data = str(part).encode("utf-8")
        h.update(len(data).to_bytes(4, "big"))
        h.update(data)
    return int.from_bytes(h.digest(), "big") >> (64 - bits)


def blake2b_unit(*parts: object) -> float:
    """A deterministic float in ``[0, 1)`` from the parts."""
    return blake2b_int(*parts, bits=53) / float(1 << 53)


def blake2b_coin(*parts: object) -> bool:
    """A fair deterministic coin."""
    return blake2b_int(*parts, bits=1) == 1


#: The label-event fields covered by its content hash, in hashing order. Ids and bookkeeping
#: (row id, write time, app version, import batch) are left out so an imported label hashes the
#: same on every re-import, which is how duplicates are recognized.
LABEL_EVENT_FIELDS = (
    "kind",
    "item",
    "entry_id",
    "reviewer",
    "provenance",
    "screen_choice",
    "left_slot",
    "choice",
    "refusal_a",
    "refusal_b",
    "tags",
    "note",
    "flagged",
    "dwell_ms",
    "queue_reason",
    "inclusion_prob",
    "labeled_at",
    "retracts_id",
)


def label_event_sha256(fields: Mapping[str, Any]) -> str:
    """Content hash of one label event (``item`` is the item key, ``reviewer`` the name)."""
    return fields_sha256("label_event/v1", *(fields.get(name) for name in LABEL_EVENT_FIELDS))
