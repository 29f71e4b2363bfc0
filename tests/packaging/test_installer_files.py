"""Static checks of the installer inputs; the build itself is `make installer` (minutes).

Icons: ``resources/icons`` holds the masters and ``src/reviewdesk/ui/assets/icons`` the copy the
app loads through importlib.resources (so a checkout and an editable install work without a
build step); they must stay identical.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.packaging.support import INSTALLER, REPO, payload, smoke_test

MASTERS = REPO / "resources" / "icons"
COPIES = REPO / "src" / "reviewdesk" / "ui" / "assets" / "icons"
LINUX = REPO / "resources" / "linux"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def test_packaged_icons_are_the_masters() -> None:
    masters = {p.name: p.read_bytes() for p in MASTERS.iterdir() if p.is_file()}
    copies = {p.name: p.read_bytes() for p in COPIES.iterdir() if p.is_file()}
    assert sorted(masters) == sorted(copies), "copy resources/icons/* to ui/assets/icons/"
    differ = sorted(name for name in masters if masters[name] != copies[name])
    assert not differ, f"ui/assets/icons differs from resources/icons for {differ}"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(LINUX / "reviewdesk.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_starts_the_windowed_executable_with_a_file() -> None:
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "reviewdesk-gui %f"
    assert entry["TryExec"] == "reviewdesk-gui"
    assert entry["Icon"] == "reviewdesk"
    assert entry["Terminal"] == "false"
    assert entry["StartupWMClass"] == "reviewdesk"  # QApplication.setDesktopFileName
    for key in ("Categories", "MimeType", "Keywords"):
        assert entry[key].endswith(";"), key


def test_the_mime_type_of_the_desktop_entry_is_defined() -> None:
    root = ET.parse(LINUX / "reviewdesk.xml").getroot()
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert desktop_entry()["MimeType"] == f"{mime.get('type')};"
    globs = [g.get("pattern") for g in mime.findall(f"{MIME_NS}glob")]
    assert globs == ["*.reviewdesk"]
    assert mime.find(f"{MIME_NS}icon").get("name") == desktop_entry()["Icon"]  # type: ignore[union-attr]


def test_the_app_icon_exists_for_the_desktop() -> None:
    svg = ET.parse(MASTERS / "app.svg").getroot()
    assert svg.tag.endswith("svg")
    assert "currentColor" not in (MASTERS / "app.svg").read_text()  # not a tinted UI icon


def test_the_spec_and_its_inputs_hold_together() -> None:
    spec = (INSTALLER / "reviewdesk.spec").read_text(encoding="utf-8")
    compile(spec, "reviewdesk.spec", "exec")
    for name in ("launch_cli.py", "launch_gui.py", "payload.py", "notices.py", "hooks"):
        assert name.removesuffix(".py") in spec, name
        assert (INSTALLER / name).exists(), name
    for hook in ("hook-PySide6.QtCore.py", "hook-PySide6.QtGui.py"):
        assert (INSTALLER / "hooks" / hook).is_file()
    assert (
        (INSTALLER / "licenses" / "LGPL-3.0.txt")
        .read_text()
        .lstrip()
        .startswith("GNU LESSER GENERAL PUBLIC LICENSE")
    )


@pytest.mark.slow  # imports alembic and the ORM to tell modules from names
def test_migration_imports_become_hidden_imports() -> None:
    names = payload().migration_imports(REPO)
    assert {"alembic.op", "alembic.context", "reviewdesk.storage.orm", "sqlalchemy"} <= set(names)


def test_bundle_datas_mirror_the_runtime_files() -> None:
    files = payload().runtime_files(REPO)
    datas = payload().pyinstaller_datas(REPO)
    assert len(datas) == len(files)
    for (source, folder), (target, path) in zip(datas, files.items(), strict=True):
        assert source == str(path)
        assert f"{folder}/{Path(source).name}" == target


@pytest.mark.parametrize(
    ("destination", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
        ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
        ("PySide6/Qt/translations/qtbase_de.qm", False),
        ("PySide6\\translations\\qtbase_de.qm", False),  # the Windows wheel's layout
        ("PySide6\\plugins\\imageformats\\qjpeg.dll", False),
        ("PySide6\\plugins\\platforms\\qwindows.dll", True),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.dylib", False),
        ("PySide6/Qt/lib/libQt6Core.so.6", True),
        ("numpy/_core/_multiarray_umath.so", True),
    ],
)
def test_qt_files_left_out(destination: str, kept: bool) -> None:
    assert payload().qt_keep(destination) is kept


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
@pytest.mark.parametrize("script", ["install.sh", "AppRun"])
def test_linux_scripts_parse(script: str) -> None:
    path = INSTALLER / "linux" / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    subprocess.run(["sh", "-n", str(path)], check=True)


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_the_smoke_test_fails_on_exit_codes_and_stray_stderr(tmp_path: Path) -> None:
    """installer/smoke_test.py's checker, against a fake executable (the real run is minutes)."""
    smoke = smoke_test()
    fake = tmp_path / "reviewdesk"
    fake.write_text('#!/bin/sh\necho "out $1"\n[ -n "$2" ] && echo "$2" >&2\nexit "${3:-0}"\n')
    fake.chmod(0o755)
    ctx = smoke.Context(bundle=tmp_path, work=tmp_path, env={"PATH": "/usr/bin:/bin"})
    exe = ctx.exe("reviewdesk")

    assert ctx.run(smoke.Step("clean", [exe, "a"])) == "out a\n"
    allowed = "QStandardPaths: XDG_RUNTIME_DIR not set, defaulting to '/tmp/runtime-x'"
    ctx.run(smoke.Step("allowlisted stderr", [exe, "b", allowed]))
    with pytest.raises(smoke.SmokeTestError, match="wrote to stderr"):
        ctx.run(smoke.Step("stray stderr", [exe, "c", "Traceback (most recent call last):"]))
    with pytest.raises(smoke.SmokeTestError, match="exited 3"):
        ctx.run(smoke.Step("exit code", [exe, "d", "", "3"]))
    with pytest.raises(smoke.SmokeTestError, match="unexpected output"):
        ctx.run(smoke.Step("check", [exe, "e"], check=lambda out: str(int(out))))
    with pytest.raises(smoke.SmokeTestError, match="missing"):
        ctx.exe("reviewdesk-gui")
