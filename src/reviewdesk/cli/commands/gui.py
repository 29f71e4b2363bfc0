"""``gui`` and ``demo``: the only links from the command line to the Qt application.

The GUI module is loaded with ``importlib`` when these commands run, never at import time, so
every other subcommand works where PySide6 is not installed.
"""

from __future__ import annotations

import argparse
import gc
import importlib
from pathlib import Path
from types import ModuleType

from reviewdesk.domain.errors import UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("gui", help="open the review application (default with no command)")
    p.add_argument("project", nargs="?", type=Path, metavar="PROJECT")
    p.add_argument("--reviewer", metavar="NAME", help="start as this reviewer profile")
    p.add_argument("--smoke-test", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(run=run_gui)

    p = sub.add_parser("demo", help="build the demo project from the samples and open it")
    p.add_argument("--reset", action="store_true", help="rebuild the demo project from scratch")
    p.add_argument("--no-gui", action="store_true", help="only build it and print its path")
    p.set_defaults(run=run_demo)


def _load_app() -> ModuleType:
    """``reviewdesk.ui.app``, loaded with the garbage collector paused.

    The GUI's modules live as long as the process, so collecting while they load is wasted
    work; ``ui.app.run_gui`` hands collection to the GUI thread once the window is built,
    before its event loop (and here it is turned back on if loading fails).
    """
    gc.disable()
    loaded = False
    try:
        module = importlib.import_module("reviewdesk.ui.app")
        loaded = True
        return module
    except ImportError as exc:
        raise UserError(
            f"the GUI needs PySide6 and pyqtgraph ({exc}); install them with "
            "`pip install reviewdesk` or use the command line"
        ) from exc
    finally:
        if not loaded:
            gc.enable()


def run_gui(args: argparse.Namespace) -> int:
    app = _load_app()
    return int(
        app.run_gui(project=args.project, reviewer=args.reviewer, smoke_test=args.smoke_test)
    )


def run_demo(args: argparse.Namespace) -> int:
    from reviewdesk.services.demo import build_demo_project

    path = build_demo_project(reset=args.reset)
    if args.no_gui:
        print(path)
        return 0
    app = _load_app()
    return int(app.run_gui(project=path, reviewer=None, smoke_test=False))
