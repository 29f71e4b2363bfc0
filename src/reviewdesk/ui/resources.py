"""Runtime files of the GUI (icons, styles), read through ``importlib.resources`` only.

Never from the working directory or ``__file__``: the same code then works from a source
checkout, a wheel and a PyInstaller bundle (ARCHITECTURE.md §3). Icons are single-color SVGs
drawn with ``currentColor``; they are tinted for the current theme when loaded and cached.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

ASSETS = "reviewdesk.ui.assets"
ICON_SIZES = (16, 20, 24, 32, 48)


@cache
def _assets() -> Traversable:
    """The ``ui/assets/`` folder (looked up once: each lookup costs about a millisecond)."""
    return resources.files(ASSETS)


def asset_text(*parts: str) -> str:
    """The text of a file under ``ui/assets/``."""
    node = _assets()
    for part in parts:
        node = node / part
    return node.read_text(encoding="utf-8")


def icon_names() -> list[str]:
    folder = _assets() / "icons"
    return sorted(p.name.removesuffix(".svg") for p in folder.iterdir() if p.name.endswith(".svg"))


@cache
def theme_colors(name: str) -> dict[str, str]:
    """Color tokens of a theme (``light``/``dark``)."""
    data: dict[str, str] = json.loads(asset_text("styles", f"{name}.json"))
    return data


def _render(svg: bytes, size: int, ratio: float = 2.0) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg))
    pixels = int(size * ratio)
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


@cache
def icon(name: str, color: str = "#5d6671") -> QIcon:
    """The icon ``name`` tinted ``color`` (the SVG's ``currentColor``), at the usual sizes."""
    svg = asset_text("icons", f"{name}.svg").replace("currentColor", color).encode("utf-8")
    result = QIcon()
    for size in ICON_SIZES:
        result.addPixmap(_render(svg, size))
    return result


def app_icon() -> QIcon:
    return icon("app", "#000000")


def pixmap(name: str, size: int, color: str) -> QPixmap:
    return icon(name, color).pixmap(QSize(size, size))
