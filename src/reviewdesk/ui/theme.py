"""Light and dark themes that follow the system color scheme (or the user's choice).

One stylesheet template (``assets/styles/app.qss``) with ``@token`` colors from ``light.json`` /
``dark.json``, plus a matching ``QPalette`` for what stylesheets do not reach. Widgets that paint
colors themselves (highlights in texts, tinted icons) ask ``current()`` for the active tokens and
re-apply on ``theme_changed``.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from reviewdesk.ui import resources

_TOKEN = re.compile(r"@([a-z_]+)")


class ThemeManager(QObject):
    """Holds the active theme and re-applies it when the system scheme changes."""

    theme_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.preference = "system"
        self.name = "light"

    def colors(self) -> dict[str, str]:
        return resources.theme_colors(self.name)

    def color(self, token: str) -> QColor:
        return QColor(self.colors()[token])

    def resolve(self, preference: str) -> str:
        if preference in ("light", "dark"):
            return preference
        app = QGuiApplication.instance()
        if (
            isinstance(app, QGuiApplication)
            and app.styleHints().colorScheme() == Qt.ColorScheme.Dark
        ):
            return "dark"
        return "light"

    def apply(self, preference: str | None = None) -> None:
        """Apply ``preference`` (``system``/``light``/``dark``) to the whole application."""
        if preference is not None:
            self.preference = preference
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.name = self.resolve(self.preference)
        colors = self.colors()
        if app.style().name().lower() != "fusion":
            app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(_palette(colors))
        app.setStyleSheet(_TOKEN.sub(lambda m: _color(colors, m.group(1)), stylesheet_template()))
        self.theme_changed.emit(self.name)

    def follow_system(self) -> None:
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)

    def _on_scheme_changed(self, _scheme: object) -> None:
        if self.preference == "system":
            self.apply()

    def icon(self, name: str, token: str = "muted"):  # type: ignore[no-untyped-def]
        return resources.icon(name, self.colors()[token])


def _color(colors: dict[str, str], token: str) -> str:
    value = colors[token]
    if len(value) == 9:  # #rrggbbaa → rgba(), which QSS understands
        r, g, b, a = (int(value[i : i + 2], 16) for i in (1, 3, 5, 7))
        return f"rgba({r}, {g}, {b}, {a})"
    return value


def stylesheet_template() -> str:
    return resources.asset_text("styles", "app.qss")


def _palette(c: dict[str, str]) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    p.setColor(role.Window, QColor(c["window"]))
    p.setColor(role.WindowText, QColor(c["text"]))
    p.setColor(role.Base, QColor(c["surface"]))
    p.setColor(role.AlternateBase, QColor(c["surface_alt"]))
    p.setColor(role.Text, QColor(c["text"]))
    p.setColor(role.Button, QColor(c["surface"]))
    p.setColor(role.ButtonText, QColor(c["text"]))
    p.setColor(role.Highlight, QColor(c["selection"]))
    p.setColor(role.HighlightedText, QColor(c["text"]))
    p.setColor(role.ToolTipBase, QColor(c["surface"]))
    p.setColor(role.ToolTipText, QColor(c["text"]))
    p.setColor(role.PlaceholderText, QColor(c["faint"]))
    p.setColor(role.Link, QColor(c["accent"]))
    p.setColor(role.BrightText, QColor(c["danger"]))
    p.setColor(role.Mid, QColor(c["border"]))
    p.setColor(role.Midlight, QColor(c["border"]))
    p.setColor(role.Dark, QColor(c["border_strong"]))
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor(c["faint"]))
    return p


def ui_font() -> QFont:
    """The system UI font at a comfortable size."""
    font = QGuiApplication.font()
    if font.pointSizeF() > 0 and font.pointSizeF() < 10:
        font.setPointSizeF(10)
    return font


#: The one theme manager of the process (created lazily with the application).
_manager: ThemeManager | None = None


def manager() -> ThemeManager:
    global _manager
    if _manager is None:
        _manager = ThemeManager()
    return _manager


def current() -> dict[str, str]:
    return manager().colors()
