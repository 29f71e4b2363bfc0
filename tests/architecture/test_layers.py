"""Layer rules of ARCHITECTURE.md §2, checked on the source and in a clean interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "reviewdesk"

#: Which reviewdesk packages each layer may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "queueing": {"domain"},
    "stats": {"domain"},
    "io": {"domain"},
    "storage": {"domain"},
    "services": {"domain", "queueing", "stats", "io", "storage"},
    "cli": {"domain", "services"},
    "ui": {"domain", "services"},
}
#: Third-party packages only some layers may import.
THIRD_PARTY = {
    "sqlalchemy": {"storage"},
    "alembic": {"storage"},
    "PySide6": {"ui"},
    "pyqtgraph": {"ui"},
    "shiboken6": {"ui"},
    "numpy": {"stats", "services", "ui"},
    "krippendorff": {"stats"},
    "rich": {"cli"},
}


def imports_of(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def layer_files() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        if len(parts) > 1 and parts[0] in ALLOWED:
            out.append((parts[0], path))
    return out


def test_every_package_is_a_known_layer() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert packages - {"samples"} <= set(ALLOWED)


@pytest.mark.parametrize(
    ("layer", "path"), layer_files(), ids=lambda v: str(v).split("reviewdesk/")[-1]
)
def test_imports_follow_the_layers(layer: str, path: Path) -> None:
    for module, line in imports_of(path):
        top, _, rest = module.partition(".")
        where = f"{path.relative_to(SRC)}:{line}"
        if top == "reviewdesk":
            target = rest.split(".")[0]
            if target in ALLOWED and target != layer:
                assert target in ALLOWED[layer], f"{where}: {layer} must not import {target}"
        elif top in THIRD_PARTY:
            assert layer in THIRD_PARTY[top], f"{where}: {layer} must not import {top}"


HEAVY = {"PySide6", "pyqtgraph", "numpy", "krippendorff", "sqlalchemy", "rich", "alembic"}


def test_cli_help_is_qt_free_and_light() -> None:
    probe = (
        "import sys\nfrom reviewdesk.cli.main import main\n"
        "for argv in (['--help'], ['import', '--help'], ['next', '--help']):\n"
        "    try: main(argv)\n    except SystemExit: pass\n"
        f"leaked = {HEAVY!r} & {{m.split('.')[0] for m in sys.modules}}\n"
        "assert not leaked, leaked"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True)


def test_core_runs_without_qt(tmp_path: Path) -> None:
    """Create, import, queue, review and report with PySide6 and pyqtgraph made unimportable."""
    sample = tmp_path / "items.jsonl"
    sample.write_text(
        '{"item_id": "i1", "prompt": "p", "responses": {"A": {"model": "m1", "text": "a"}, '
        '"B": {"model": "m2", "text": "b"}}, "judgments": [{"judge": "j1", "kind": "llm", '
        '"verdict": "A"}, {"judge": "j2", "kind": "llm", "verdict": "B"}]}\n',
        encoding="utf-8",
    )
    project = tmp_path / "p.reviewdesk"
    probe = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
from reviewdesk.cli.main import main
for argv in (['init', {str(project)!r}], ['import', {str(project)!r}, {str(sample)!r}],
             ['queue', 'build', {str(project)!r}], ['status', {str(project)!r}, '--json'],
             ['next', {str(project)!r}, '--reviewer', 'r1', '--json']):
    assert main(argv) == 0, argv
assert not any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
