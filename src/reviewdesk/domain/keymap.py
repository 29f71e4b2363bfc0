"""The keyboard map as data: dotted action ids → key strings (SPEC §5, ARCHITECTURE.md §4.8).

Keeping the map as plain data (not as Qt shortcuts scattered over widgets) lets the settings
dialog remap keys, the cheat sheet describe the live map, a test prove no key is bound twice,
and the headless core stay Qt-free. Key strings use Qt's portable ``QKeySequence`` text
(``"Ctrl+Z"``, ``"Left"``, ``"Space"``, ``"?"``), one key combination each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reviewdesk.domain.errors import UserError

KeyMap = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Action:
    """One thing a key can do, with the words the cheat sheet and settings show for it."""

    id: str
    label: str
    group: str


#: Every action that can be bound, in the order the cheat sheet lists them.
ACTIONS: tuple[Action, ...] = (
    Action("review.choose_left", "Left response is better", "Choose"),
    Action("review.choose_right", "Right response is better", "Choose"),
    Action("review.choose_tie", "Tie: equally good", "Choose"),
    Action("review.choose_both_bad", "Both are bad", "Choose"),
    Action("review.skip", "Skip for now (comes back later)", "Choose"),
    Action("review.refusal_left_complied", "Left response complied", "Refusal class"),
    Action("review.refusal_left_partial", "Left response partly refused", "Refusal class"),
    Action("review.refusal_left_full", "Left response fully refused", "Refusal class"),
    Action("review.refusal_right_complied", "Right response complied", "Refusal class"),
    Action("review.refusal_right_partial", "Right response partly refused", "Refusal class"),
    Action("review.refusal_right_full", "Right response fully refused", "Refusal class"),
    Action("review.note", "Write a note on this pair", "This pair"),
    Action("review.flag", "Flag this pair for the lead", "This pair"),
    Action("review.undo", "Undo the last label (up to 10)", "This pair"),
    Action(
        "review.reveal", "Reveal the sources of the pair just labeled (if allowed)", "This pair"
    ),
    Action("review.find", "Find in the texts", "View"),
    Action("review.diff", "Highlight the words that differ", "View"),
    Action("app.help", "Show this cheat sheet", "Help"),
)

ACTION_IDS: frozenset[str] = frozenset(a.id for a in ACTIONS)
ACTIONS_BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}

#: The defaults of SPEC §5.
DEFAULT_KEYMAP: dict[str, tuple[str, ...]] = {
    "review.choose_left": ("1", "A", "Left"),
    "review.choose_right": ("2", "B", "Right"),
    "review.choose_tie": ("3", "T"),
    "review.choose_both_bad": ("4", "X"),
    "review.skip": ("Space",),
    "review.refusal_left_complied": ("Q",),
    "review.refusal_left_partial": ("W",),
    "review.refusal_left_full": ("E",),
    "review.refusal_right_complied": ("I",),
    "review.refusal_right_partial": ("O",),
    "review.refusal_right_full": ("P",),
    "review.note": ("N",),
    "review.flag": ("F",),
    "review.undo": ("Ctrl+Z", "Backspace"),
    "review.reveal": ("R",),
    "review.find": ("Ctrl+F",),
    "review.diff": ("D",),
    "app.help": ("?",),
}

_MODIFIERS = ("Ctrl", "Alt", "Shift", "Meta")
_MODIFIER_ALIASES = {
    "control": "Ctrl",
    "ctrl": "Ctrl",
    "alt": "Alt",
    "shift": "Shift",
    "meta": "Meta",
    "cmd": "Meta",
    "win": "Meta",
}
_KEY_ALIASES = {
    "esc": "Escape",
    "del": "Delete",
    "return": "Enter",
    "ins": "Insert",
    "pgup": "PgUp",
    "pgdown": "PgDown",
    "spacebar": "Space",
    "arrowleft": "Left",
    "arrowright": "Right",
    "arrowup": "Up",
    "arrowdown": "Down",
}
_NAMED_KEYS = {
    "Space",
    "Backspace",
    "Tab",
    "Enter",
    "Escape",
    "Delete",
    "Insert",
    "Home",
    "End",
    "PgUp",
    "PgDown",
    "Left",
    "Right",
    "Up",
    "Down",
    *(f"F{n}" for n in range(1, 25)),
}


def normalize_key(key: str) -> str:
    """The canonical spelling of one key combination (``"ctrl+z"`` → ``"Ctrl+Z"``).

    Two spellings that Qt treats as the same key must normalize equally, or the duplicate check
    would miss them. Raises ``UserError`` for something that is not one key combination.
    """
    text = key.strip()
    if not text:
        raise UserError("an empty key is not a key")
    if text.endswith("+"):  # "+" itself, or "Ctrl++"
        head = text[:-1].rstrip()
        mods, base = ([p.strip() for p in head[:-1].split("+")] if head else []), "+"
    else:
        *mods, base = [p.strip() for p in text.split("+")]
    modifiers: set[str] = set()
    for mod in mods:
        canonical = _MODIFIER_ALIASES.get(mod.lower())
        if canonical is None:
            raise UserError(f"{key!r}: {mod!r} is not a modifier (use Ctrl, Alt, Shift or Meta)")
        modifiers.add(canonical)
    if not base:
        raise UserError(f"{key!r}: a key is missing after the modifiers")
    if len(base) == 1:
        base = base.upper()
    else:
        alias = _KEY_ALIASES.get(base.lower())
        named = {n.lower(): n for n in _NAMED_KEYS}
        base = alias or named.get(base.lower(), "")
        if not base:
            raise UserError(f"{key!r}: not a key this app understands")
    return "+".join([*(m for m in _MODIFIERS if m in modifiers), base])


def validate_keymap(keymap: Mapping[str, Iterable[str]]) -> list[str]:
    """Every problem with a (remapped) key map, as sentences; empty when it is usable.

    Problems: unknown action ids, keys that do not parse, and any key bound to two actions
    (or twice to one), since a key must never do two things.
    """
    problems: list[str] = []
    owner: dict[str, str] = {}
    for action_id, keys in keymap.items():
        if action_id not in ACTION_IDS:
            problems.append(f"unknown action {action_id!r}")
            continue
        for key in keys:
            try:
                canonical = normalize_key(key)
            except UserError as exc:
                problems.append(f"{action_id}: {exc}")
                continue
            previous = owner.get(canonical)
            if previous is not None:
                if previous == action_id:
                    problems.append(f"{canonical} is listed twice for {action_id}")
                else:
                    problems.append(f"{canonical} is bound to both {previous} and {action_id}")
                continue
            owner[canonical] = action_id
    return problems


def merged_keymap(overrides: Mapping[str, Iterable[str]] | None) -> dict[str, tuple[str, ...]]:
    """The defaults with the user's remapped actions on top, normalized and validated.

    Raises ``UserError`` listing every problem, so a broken settings file is reported, never
    silently half-applied.
    """
    merged = dict(DEFAULT_KEYMAP)
    for action_id, keys in (overrides or {}).items():
        merged[action_id] = tuple(keys)
    problems = validate_keymap(merged)
    if problems:
        raise UserError("the key map has problems: " + "; ".join(problems))
    return {action_id: tuple(normalize_key(k) for k in keys) for action_id, keys in merged.items()}


def keymap_overrides(keymap: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Only the actions whose keys differ from the defaults (what the settings file stores)."""
    out: dict[str, list[str]] = {}
    for action_id, keys in keymap.items():
        normalized = [normalize_key(k) for k in keys]
        default = [normalize_key(k) for k in DEFAULT_KEYMAP.get(action_id, ())]
        if normalized != default:
            out[action_id] = normalized
    return out


def key_owner(keymap: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Normalized key → action id, for a valid key map."""
    return {normalize_key(k): action_id for action_id, keys in keymap.items() for k in keys}
