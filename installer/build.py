"""``make installer``: build, finish, pack and smoke-test the frozen app (ARCHITECTURE.md §8).

    .venv/bin/python installer/build.py [--clean] [--skip-smoke] [--keep-smoke-dir]

1. PyInstaller with ``installer/reviewdesk.spec`` -> ``dist/reviewdesk/`` (one folder, two
   executables, LICENSE and THIRD-PARTY-NOTICES.txt);
2. on Linux, the desktop files: ``reviewdesk.desktop``, icons (SVG and hicolor PNGs), the
   ``*.reviewdesk`` MIME type, ``install.sh``, ``README.txt`` and ``AppRun``, which make the
   folder an AppDir too (``appimagetool`` is not needed for anything here);
3. ``dist/reviewdesk-<version>-linux-x86_64.tar.gz`` and its ``.sha256``;
4. the archive unpacked into a temporary folder (so the test also covers the archive and a move
   to another path), and ``installer/smoke_test.py`` run on that copy; a failure removes the
   archive and exits 1;
5. the figures: bundle size, archive size, minimum glibc, time per step.

``REVIEWDESK_PYINSTALLER_DEBUG=1`` builds the troubleshooting variant (console, verbose
imports; see the spec) and stops after step 2: it is for reading logs, not for shipping.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
BUNDLE = DIST / "reviewdesk"
SPEC = HERE / "reviewdesk.spec"
ICON_SVG = ROOT / "resources" / "icons" / "app.svg"
DESKTOP = ROOT / "resources" / "linux" / "reviewdesk.desktop"
MIME_XML = ROOT / "resources" / "linux" / "reviewdesk.xml"
GOLDEN = ROOT / "tests" / "storage" / "migrations" / "golden"
DEBUG = os.environ.get("REVIEWDESK_PYINSTALLER_DEBUG") == "1"


def version() -> str:
    text = (ROOT / "src" / "reviewdesk" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not match:
        raise SystemExit("build: no __version__ in src/reviewdesk/__init__.py")
    return match.group(1)


def module_count() -> int:
    """The reviewdesk modules the frozen self-test must import (``launch_cli.py``): every
    ``.py`` but the package's own ``__init__``/``__main__`` and the migration scripts."""
    package = ROOT / "src" / "reviewdesk"
    count = 0
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        if "__pycache__" in rel or rel in {"__init__.py", "__main__.py"}:
            continue
        if rel.startswith("storage/migrations/") and rel != "storage/migrations/__init__.py":
            continue
        count += 1
    return count


def platform_tag() -> str:
    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, "")
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")
    return f"{system or sys.platform}-{machine}"


def host() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "Linux")
    except OSError:
        return f"{platform.system()} {platform.release()}"


def step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def run_pyinstaller(clean: bool) -> None:
    if BUNDLE.exists():
        shutil.rmtree(BUNDLE)
    argv = [
        sys.executable, "-m", "PyInstaller", "--noconfirm",
        "--distpath", str(DIST), "--workpath", str(WORK),
        "--log-level", "INFO" if DEBUG else "WARN",
    ]  # fmt: skip
    if clean:
        argv.append("--clean")
    subprocess.run([*argv, str(SPEC)], cwd=ROOT, check=True)
    for exe in ("reviewdesk", "reviewdesk-gui"):
        suffix = ".exe" if sys.platform == "win32" else ""
        if not (BUNDLE / f"{exe}{suffix}").is_file():
            raise SystemExit(f"build: PyInstaller made no {exe}{suffix} in {BUNDLE}")


def add_linux_files(bundle: Path, ver: str, glibc: str) -> None:
    """Desktop entry, icons, MIME type, install.sh, README.txt, AppRun (an AppDir)."""
    shutil.copyfile(DESKTOP, bundle / "reviewdesk.desktop")
    shutil.copyfile(ICON_SVG, bundle / "reviewdesk.svg")
    mime = bundle / "share" / "mime" / "packages"
    mime.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MIME_XML, mime / "reviewdesk.xml")
    icons = bundle / "share" / "icons" / "hicolor"
    subprocess.run(
        [sys.executable, str(HERE / "linux" / "render_icons.py"), str(ICON_SVG), str(icons)],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    scalable = icons / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICON_SVG, scalable / "reviewdesk.svg")
    shutil.copyfile(icons / "256x256" / "apps" / "reviewdesk.png", bundle / "reviewdesk.png")
    (bundle / ".DirIcon").unlink(missing_ok=True)
    (bundle / ".DirIcon").symlink_to("reviewdesk.png")
    for script in ("install.sh", "AppRun"):
        shutil.copyfile(HERE / "linux" / script, bundle / script)
        (bundle / script).chmod(0o755)
    readme = (HERE / "linux" / "README.txt").read_text(encoding="utf-8")
    (bundle / "README.txt").write_text(
        readme.format(version=ver, glibc=glibc, host=host()), encoding="utf-8"
    )


def glibc_floor(bundle: Path) -> str:
    """The newest ``GLIBC_2.x`` symbol version any bundled ELF file asks for."""
    pattern = re.compile(rb"GLIBC_2\.(\d+)(?:\.(\d+))?")
    newest = (0, 0)
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
            data = handle.read()
        for match in pattern.finditer(data):
            newest = max(newest, (int(match.group(1)), int(match.group(2) or 0)))
    minor, patch = newest
    return f"2.{minor}" + (f".{patch}" if patch else "")


def make_archive(bundle: Path, archive: Path, top: str) -> None:
    """A .tar.gz of ``bundle`` under the folder name ``top``; symlinks kept, owners blanked."""

    def normalize(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if "__pycache__" in Path(info.name).parts:
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    archive.unlink(missing_ok=True)
    partial = archive.with_name(archive.name + ".part")
    # level 6: within 0.5 % of level 9's size here, in a third of the time
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top, filter=normalize)
    partial.replace(archive)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    archive.with_name(archive.name + ".sha256").write_text(
        f"{digest}  {archive.name}\n", encoding="utf-8"
    )


def unpack(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description="Build and smoke-test the reviewdesk bundle.")
    parser.add_argument("--clean", action="store_true", help="rebuild PyInstaller's caches")
    parser.add_argument("--skip-smoke", action="store_true", help="do not run the smoke test")
    parser.add_argument("--keep-smoke-dir", action="store_true", help="keep the test's files")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from smoke_test import disk_usage  # installer/smoke_test.py, stdlib only

    ver = version()
    tag = platform_tag()
    timings: list[tuple[str, float]] = []
    started = time.perf_counter()

    # An archive from an earlier build must not outlive a failed one.
    for old in DIST.glob(f"reviewdesk-{ver}-{tag}.tar.gz*"):
        old.unlink()
    t = step(f"PyInstaller: {SPEC.relative_to(ROOT)} -> {BUNDLE.relative_to(ROOT)}/")
    try:
        run_pyinstaller(args.clean)
    except subprocess.CalledProcessError as exc:
        print(f"\nbuild: PyInstaller failed (exit {exc.returncode})", file=sys.stderr)
        return 1
    timings.append(("PyInstaller", time.perf_counter() - t))

    linux = sys.platform.startswith("linux")
    glibc = glibc_floor(BUNDLE) if linux else ""
    if linux:
        t = step("desktop files (the folder is an AppDir too)")
        add_linux_files(BUNDLE, ver, glibc)
        timings.append(("desktop files", time.perf_counter() - t))
    if DEBUG:
        print(f"\ndebug build in {BUNDLE}: not packed and not smoke-tested (stderr is verbose)")
        return 0

    archive = None
    smoke_target = BUNDLE
    scratch = Path(tempfile.mkdtemp(prefix="reviewdesk-build-"))
    try:
        if linux:
            top = f"reviewdesk-{ver}"
            archive = DIST / f"reviewdesk-{ver}-{tag}.tar.gz"
            t = step(f"archive: {archive.relative_to(ROOT)}")
            make_archive(BUNDLE, archive, top)
            timings.append(("archive", time.perf_counter() - t))
            unpack(archive, scratch)
            smoke_target = scratch / top
        else:
            print(f"\n(no archive on {sys.platform}: see installer/{tag.split('-')[0]}/README.md)")

        if args.skip_smoke:
            print("\nsmoke test skipped (--skip-smoke)")
        else:
            t = step(f"smoke test of {'the unpacked archive' if archive else 'the bundle'}")
            argv = [sys.executable, str(HERE / "smoke_test.py"), str(smoke_target)]
            argv += ["--expect-version", ver, "--expect-modules", str(module_count())]
            argv += ["--golden", str(GOLDEN)]
            if args.keep_smoke_dir:
                argv.append("--keep")
            if subprocess.run(argv, check=False).returncode != 0:
                if archive is not None:
                    archive.unlink(missing_ok=True)
                    archive.with_name(archive.name + ".sha256").unlink(missing_ok=True)
                print("\nbuild: the smoke test failed; no archive was kept", file=sys.stderr)
                return 1
            timings.append(("smoke test", time.perf_counter() - t))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    on_disk, in_files = disk_usage(BUNDLE)
    print("\n== reviewdesk", ver, tag)
    where = BUNDLE.relative_to(ROOT)
    print(f"bundle   {where}/  {mib(on_disk)} on disk (du), {mib(in_files)} in files")
    if archive is not None:
        print(f"archive  {archive.relative_to(ROOT)}  {mib(archive.stat().st_size)}")
    if glibc:
        print(f"needs    glibc {glibc} or newer (built on {host()})")
    total = time.perf_counter() - started
    print(
        "time     "
        + ", ".join(f"{name} {sec:.0f} s" for name, sec in timings)
        + f"; total {total:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
