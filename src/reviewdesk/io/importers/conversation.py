"""Turning multi-turn chats into reviewdesk's shape: one prompt and one response per slot.

An item holds a prompt and two responses. A multi-turn battle (Arena) or a second-turn MT-Bench
judgment is mapped onto that by keeping the first user message as the prompt and rendering the rest
of each model's conversation as its response, with the later user turns marked in Markdown so a
reviewer sees what each reply answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reviewdesk.domain.model import Message, Role
from reviewdesk.io.reader import Errors
from reviewdesk.io.validation import MISSING, ROLES, enum_value, string, wrong

_SPEAKERS = {
    Role.USER: "User",
    Role.ASSISTANT: "Assistant",
    Role.SYSTEM: "System",
    Role.TOOL: "Tool",
}


def render_reply(rest: Sequence[Message]) -> str:
    """The first assistant reply as is, then each later turn as ``**User:** ...`` and so on."""
    parts = [rest[0].content]
    parts.extend(f"**{_SPEAKERS[m.role]}:** {m.content}" for m in rest[1:])
    return "\n\n".join(parts)


def parse_conversation(value: Any, field: str, errors: Errors) -> list[Message] | None:
    """A non-empty list of ``{role, content}`` messages (other keys are ignored)."""
    if type(value) is not list or not value:
        expected = "a non-empty list of {role, content} messages"
        errors.append((field, "must not be empty" if value == [] else wrong(value, expected)))
        return None
    messages: list[Message] = []
    ok = True
    for i, entry in enumerate(value):
        at = f"{field}[{i}]"
        if type(entry) is not dict:
            errors.append((at, wrong(entry, "an object with role and content")))
            ok = False
            continue
        role = enum_value(entry.get("role", MISSING), ROLES, f"{at}.role", errors)
        content = string(entry.get("content", MISSING), f"{at}.content", errors, nonempty=False)
        if role is None or content is None:
            ok = False
        else:
            messages.append(Message(role, content))
    return messages if ok else None


def split_conversation(
    messages: Sequence[Message], field: str, errors: Errors
) -> tuple[tuple[Message, ...], str, list[Message]] | None:
    """(leading system messages, first user message, the rest starting with the reply)."""
    i = 0
    while i < len(messages) and messages[i].role is Role.SYSTEM:
        i += 1
    if i >= len(messages) or messages[i].role is not Role.USER:
        at = f"{field}[{i}].role" if i < len(messages) else field
        errors.append((at, "expected the first user message here"))
        return None
    rest = list(messages[i + 1 :])
    if not rest or rest[0].role is not Role.ASSISTANT:
        errors.append((field, "has no assistant reply to the first user message"))
        return None
    return tuple(messages[:i]), messages[i].content, rest
