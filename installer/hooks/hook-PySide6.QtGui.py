"""PyInstaller's own PySide6.QtGui hook, minus the Qt files reviewdesk never loads.

Overrides the built-in hook (hooks in the spec's ``hookspath`` take priority); the list of what
is left out is ``QT_DROP`` in installer/payload.py.
"""

import sys
from pathlib import Path

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from payload import qt_keep  # installer/payload.py, on the path since the line above

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(src, dest) for src, dest in binaries if qt_keep(f"{dest}/{Path(src).name}")]
datas = [(src, dest) for src, dest in datas if qt_keep(f"{dest}/{Path(src).name}")]
