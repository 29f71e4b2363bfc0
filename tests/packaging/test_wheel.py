"""The wheel carries every runtime file (ARCHITECTURE.md §3, §8), and an install finds them.

The wheel is built in process with hatchling (about 2 s); the install test makes a fresh venv
without pip and installs the wheel into it with ``--no-index`` (no network), borrowing the
dependencies from this environment through a ``.pth`` file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.packaging.support import REPO, build_wheel, payload

RUNTIME_PREFIXES = (
    "reviewdesk/storage/migrations/",
    "reviewdesk/ui/assets/",
    "reviewdesk/samples/",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_every_runtime_file_is_in_the_wheel_byte_for_byte(wheel: Path) -> None:
    expected = payload().runtime_files(REPO)
    assert any(n.startswith("reviewdesk/samples/incident-bot-release/") for n in expected)
    with zipfile.ZipFile(wheel) as archive:
        present = set(archive.namelist())
        missing = sorted(set(expected) - present)
        assert not missing, f"runtime files missing from the wheel: {missing}"
        differ = [n for n, src in expected.items() if archive.read(n) != src.read_bytes()]
    assert not differ


def test_the_wheel_has_no_runtime_file_the_bundle_lacks(names: set[str]) -> None:
    """The wheel's data folders equal the PyInstaller bundle's (payload.runtime_files)."""
    expected = payload().runtime_files(REPO)
    extra = sorted(n for n in names if n.startswith(RUNTIME_PREFIXES) and n not in expected)
    assert not extra, f"in the wheel but not in payload.runtime_files: {extra}"


def test_every_migration_script_ships_as_source(names: set[str]) -> None:
    versions = REPO / "src/reviewdesk/storage/migrations/versions"
    scripts = sorted(p.name for p in versions.glob("*.py"))
    assert scripts
    for name in scripts:
        assert f"reviewdesk/storage/migrations/versions/{name}" in names
    assert "reviewdesk/storage/migrations/env.py" in names
    assert "reviewdesk/storage/migrations/script.py.mako" in names


def test_every_module_is_in_the_wheel(names: set[str]) -> None:
    src = REPO / "src"
    modules = {
        p.relative_to(src).as_posix()
        for p in (src / "reviewdesk").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules <= names, sorted(modules - names)


def test_samples_ship_without_generators_or_caches(names: set[str]) -> None:
    for sample in payload().sample_names(REPO):
        folder = f"reviewdesk/samples/{sample}/"
        assert f"{folder}project.json" in names
        manifest = json.loads((REPO / "sample_projects" / sample / "project.json").read_text())
        for entry in manifest["imports"]:
            assert f"{folder}{entry['file']}" in names
    unwanted = [
        n
        for n in names
        if "__pycache__" in n or n.endswith((".pyc", "/generate.py")) or n.startswith("tests/")
    ]
    assert not unwanted


def test_both_executables_are_declared(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [
            n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")
        ]
        text = archive.read(entry_points).decode()
    assert "[console_scripts]\nreviewdesk = reviewdesk.cli.main:entry_point" in text
    assert "[gui_scripts]\nreviewdesk-gui = reviewdesk.ui.app:entry_point" in text


CHECK_INSTALLED = textwrap.dedent(
    """
    import json, sys
    from importlib import resources
    from pathlib import Path
    import reviewdesk
    from reviewdesk.services.samples import SampleManifest, sample_folder, samples_root
    from reviewdesk.storage.migrate import KNOWN_REVISIONS, revision_chain

    site = Path(sys.argv[1]).resolve()
    package = Path(reviewdesk.__file__).resolve().parent
    assert package.parent == site, (package, site)
    assert samples_root().resolve() == package / "samples", samples_root()
    manifest = SampleManifest.load(sample_folder("incident-bot-release"))
    assert all((manifest.folder / i.file).is_file() for i in manifest.imports)
    assert revision_chain() == list(KNOWN_REVISIONS), revision_chain()
    icons = resources.files("reviewdesk.ui.assets") / "icons"
    print(json.dumps(sorted(p.name for p in icons.iterdir())))
    """
)


@pytest.mark.slow
def test_a_fresh_install_finds_its_files(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    scheme = {"base": str(venv), "platbase": str(venv)}
    site = Path(sysconfig.get_path("purelib", vars=scheme))
    bindir = Path(sysconfig.get_path("scripts", vars=scheme))
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    # Dependencies from this environment, after the fresh site-packages (a .pth line appends
    # to sys.path; .pth files inside that folder, such as an editable install's, are not run).
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)],
        check=True,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in {"REVIEWDESK_SAMPLES", "PYTHONPATH"}}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
        )

    checked = run(str(python), "-c", CHECK_INSTALLED, str(site))
    assert checked.returncode == 0, checked.stderr
    shipped = sorted(p.name for p in (REPO / "src/reviewdesk/ui/assets/icons").iterdir())
    assert json.loads(checked.stdout) == shipped

    cli = str(bindir / "reviewdesk")
    version = run(cli, "--version")
    assert version.stdout.strip() == f"reviewdesk {read_version()}", version
    project = str(tmp_path / "fresh.reviewdesk")
    created = run(cli, "init", project, "--seed", "7")
    assert created.returncode == 0, created.stderr
    status = run(cli, "status", project, "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["schema"] == "reviewdesk.status/v1"
    assert (bindir / "reviewdesk-gui").is_file()


def read_version() -> str:
    text = (REPO / "src/reviewdesk/__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    assert match
    return match.group(1)
