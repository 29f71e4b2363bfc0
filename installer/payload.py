"""What the frozen bundle and the wheel carry besides Python modules (ARCHITECTURE.md §3, §8).

One list for both: ``reviewdesk.spec`` turns it into PyInstaller ``datas`` and
``tests/packaging`` checks the wheel against it, so the two cannot drift apart.

* ``reviewdesk/storage/migrations/**``: Alembic's ``env.py``, ``script.py.mako`` and the revision
  scripts, as real ``.py`` files (Alembic loads them by path, not by import);
* ``reviewdesk/ui/assets/**``: icons and styles (``ui/resources.py``);
* ``reviewdesk/samples/<name>/**``: the sample projects from ``sample_projects/<name>/``
  (``services/samples.py``), without the generators that only rewrite their data.

It also says which of PySide6's Qt files the bundle leaves out (``QT_DROP``), for the spec and
the Qt hooks in ``installer/hooks/``.

Stdlib only: the spec imports this module inside PyInstaller, the tests import it by path.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = Path("src")
SAMPLES = Path("sample_projects")

#: Package folders shipped as files (relative to ``src``), each to the same path in the bundle.
PACKAGE_DATA = ("reviewdesk/storage/migrations", "reviewdesk/ui/assets")
#: Where the sample projects go inside the package.
SAMPLES_TARGET = "reviewdesk/samples"
#: Sample files the application never opens (keep in step with ``pyproject.toml``'s excludes).
SAMPLE_SKIP_NAMES = frozenset({"generate.py"})
SAMPLE_SKIP_SUFFIXES = (".reviewdesk", ".reviewdesk-wal", ".reviewdesk-shm", ".rejects.jsonl")
#: Never shipped from anywhere.
SKIP_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
SKIP_SUFFIXES = (".pyc", ".pyo", "~", ".swp")

#: Qt files PyInstaller's hooks would collect but reviewdesk never loads, as path prefixes
#: relative to the Qt folder of the PySide6 wheel (``PySide6/Qt/`` on Linux and macOS,
#: ``PySide6/`` on Windows) with file names free of ``lib`` and suffix, so one list serves
#: ``libqjpeg.so``, ``libqjpeg.dylib`` and ``qjpeg.dll``. Kept: the desktop platforms (xcb,
#: wayland with its client plugins, windows, cocoa), offscreen and minimal (smoke test,
#: headless), input methods, the xdg-desktop-portal theme, styles, the SVG icon engine and the
#: image formats SVG, GIF, ICO. Dropped:
QT_DROP = (
    # translations: reviewdesk installs no QTranslator (about 14 MB)
    "translations/",
    # embedded-device platforms (no window system) and the input plugins only they use
    "plugins/platforms/qeglfs",
    "plugins/platforms/qlinuxfb",
    "plugins/platforms/qvnc",
    "plugins/platforms/qvkkhrdisplay",
    "plugins/platforms/qminimalegl",
    "plugins/egldeviceintegrations/",
    "plugins/generic/",
    # the GTK3 theme: it needs the host's GTK and drags cairo and pango in; the app draws its
    # own Fusion theme and follows the color scheme (through the portal theme where present)
    "plugins/platformthemes/qgtk3",
    # image formats no asset or screen uses
    "plugins/imageformats/qjpeg",
    "plugins/imageformats/qtiff",
    "plugins/imageformats/qwebp",
    "plugins/imageformats/qicns",
    "plugins/imageformats/qtga",
    "plugins/imageformats/qwbmp",
    "plugins/imageformats/qpdf",
    # no networking, printing, SQL through Qt, QML or Designer
    "plugins/tls/",
    "plugins/networkinformation/",
    "plugins/printsupport/",
    "plugins/sqldrivers/",
    "plugins/qmltooling/",
    "plugins/designer/",
    "plugins/wayland-graphics-integration-server/",
    "qml/",
)


def qt_keep(destination: str) -> bool:
    """False for a bundle path (``PySide6/Qt/plugins/...``, any separator) under ``QT_DROP``."""
    path = destination.replace("\\", "/")
    for prefix in ("PySide6/Qt/", "PySide6/"):
        if path.startswith(prefix):
            path = path.removeprefix(prefix)
            break
    else:
        return True  # not a Qt file
    folder, _, name = path.rpartition("/")
    name = name.removeprefix("lib")
    return not f"{folder}/{name}".startswith(QT_DROP)


def _walk(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not SKIP_DIRS.intersection(p.relative_to(folder).parts)
        and not p.name.endswith(SKIP_SUFFIXES)
    )


def sample_names(root: Path = ROOT) -> list[str]:
    """The sample projects: folders of ``sample_projects/`` with a ``project.json``."""
    folder = root / SAMPLES
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "project.json").is_file())


def runtime_files(root: Path = ROOT) -> dict[str, Path]:
    """Every runtime file: its path inside the installed package tree -> its source file."""
    files: dict[str, Path] = {}
    for package_dir in PACKAGE_DATA:
        base = root / SRC / package_dir
        for path in _walk(base):
            files[f"{package_dir}/{path.relative_to(base).as_posix()}"] = path
    for name in sample_names(root):
        base = root / SAMPLES / name
        for path in _walk(base):
            if path.name in SAMPLE_SKIP_NAMES or path.name.endswith(SAMPLE_SKIP_SUFFIXES):
                continue
            files[f"{SAMPLES_TARGET}/{name}/{path.relative_to(base).as_posix()}"] = path
    return files


def pyinstaller_datas(root: Path = ROOT) -> list[tuple[str, str]]:
    """``runtime_files`` as PyInstaller ``datas``: (source file, destination folder)."""
    return [
        (str(source), target.rsplit("/", 1)[0]) for target, source in runtime_files(root).items()
    ]


def migration_imports(root: Path = ROOT) -> list[str]:
    """Modules the migration scripts import. They are data to PyInstaller, so its import
    analysis never reads them: the spec lists these as hidden imports."""
    names: set[str] = set()
    for path in _walk(root / SRC / "reviewdesk/storage/migrations"):
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                # ``from alembic import op``: ``op`` may be a module (it is here).
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(n for n in names if not n.startswith("__future__") and _is_module(n))


def _is_module(name: str) -> bool:
    """True for an importable module (``alembic.op``), False for a name in one (``sa.Column``)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
