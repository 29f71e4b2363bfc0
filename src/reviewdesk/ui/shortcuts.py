"""``QShortcut``s made from the key map data (ARCHITECTURE.md §4.8).

- Auto-repeat is off: holding a key down labels one pair, not twenty.
- A key bound twice is refused when binding (``validate_keymap``), never silently ambiguous.
- While a text box has the keyboard (the note, the find bar), review keys are suppressed: text
  boxes claim printable keys through Qt's shortcut override, and ``dispatch`` double-checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QKeySequenceEdit,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from reviewdesk.domain.errors import UserError
from reviewdesk.domain.keymap import normalize_key, validate_keymap

#: Actions that still work while typing (they do not type anything themselves).
WORKS_WHILE_TYPING = frozenset({"review.find"})
#: Symbols typed with Shift on common layouts: bound with and without Shift, since platforms
#: differ in whether the key event carries the modifier.
SHIFTED_SYMBOLS = frozenset('?!@#$%^&*()_+{}|:"<>~')


def is_typing(widget: QWidget | None = None) -> bool:
    """Whether the keyboard is in a text input (so single-key shortcuts must not fire)."""
    focus = widget if widget is not None else QApplication.focusWidget()
    if focus is None:
        return False
    if isinstance(focus, QLineEdit | QPlainTextEdit | QAbstractSpinBox | QKeySequenceEdit):
        return not getattr(focus, "isReadOnly", lambda: False)()
    if isinstance(focus, QTextEdit):
        return not focus.isReadOnly()
    if isinstance(focus, QComboBox):
        return focus.isEditable()
    return False


class ShortcutBinder:
    """Owns the shortcuts of one widget and rebinds them when the key map changes."""

    def __init__(self, parent: QWidget, dispatch: Callable[[str], object]) -> None:
        self._parent = parent
        self._dispatch = dispatch
        self.shortcuts: list[tuple[str, QShortcut]] = []

    def bind(self, keymap: Mapping[str, tuple[str, ...]], prefixes: tuple[str, ...]) -> None:
        """(Re)create shortcuts for the actions whose id starts with one of ``prefixes``."""
        problems = validate_keymap(keymap)
        if problems:
            raise UserError("the key map has problems: " + "; ".join(problems))
        self.clear()
        taken = {normalize_key(k) for keys in keymap.values() for k in keys}
        for action_id, keys in keymap.items():
            if not action_id.startswith(prefixes):
                continue
            for key in keys:
                self._add(action_id, normalize_key(key))
                if key in SHIFTED_SYMBOLS and f"Shift+{key}" not in taken:
                    self._add(action_id, f"Shift+{key}")

    def _add(self, action_id: str, key: str) -> None:
        shortcut = QShortcut(QKeySequence(key), self._parent)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.setAutoRepeat(False)
        shortcut.activated.connect(lambda a=action_id: self._fire(a))
        self.shortcuts.append((action_id, shortcut))

    def _fire(self, action_id: str) -> None:
        if action_id not in WORKS_WHILE_TYPING and is_typing():
            return
        self._dispatch(action_id)

    def set_enabled(self, enabled: bool) -> None:
        for _action, shortcut in self.shortcuts:
            shortcut.setEnabled(enabled)

    def clear(self) -> None:
        for _action, shortcut in self.shortcuts:
            shortcut.setEnabled(False)
            shortcut.setParent(None)
            shortcut.deleteLater()
        self.shortcuts = []

    def keys_by_action(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for action_id, shortcut in self.shortcuts:
            out.setdefault(action_id, []).append(shortcut.key().toString())
        return out
