"""Frozen entry point of the ``reviewdesk`` console executable (the CLI; ``gui`` opens the window).

The same function as ``[project.scripts]``, so a pip install and the bundle behave alike.

With ``REVIEWDESK_FROZEN_SELF_TEST=imports`` it instead imports every reviewdesk module and
exits: installer/smoke_test.py uses it to find modules PyInstaller missed (one reached only
through ``importlib``, a dashboard's pyqtgraph part) without driving every screen.
"""

import os
import sys


def import_everything() -> int:
    import importlib
    import pkgutil

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import reviewdesk

    skip = ("reviewdesk.__main__", "reviewdesk.storage.migrations.")  # runs the CLI / Alembic's
    names = [
        m.name
        for m in pkgutil.walk_packages(reviewdesk.__path__, "reviewdesk.")
        if not m.name.startswith(skip)
    ]
    for name in names:
        importlib.import_module(name)
    extras = [
        m for m in ("PySide6", "pyqtgraph", "numpy", "sqlalchemy", "alembic") if m in sys.modules
    ]
    print(f"imported {len(names)} reviewdesk modules; loaded {', '.join(extras)}")
    return 0


if __name__ == "__main__":
    # First of all: an import reads large files, and the monitor computes half of its windows,
    # in child processes started with ``spawn``, which in the bundle run this executable again;
    # freeze_support() turns that run into the child (and then exits) before anything else.
    import multiprocessing

    multiprocessing.freeze_support()
    if os.environ.get("REVIEWDESK_FROZEN_SELF_TEST") == "imports":
        sys.exit(import_everything())
    from reviewdesk.cli.main import entry_point

    entry_point()
