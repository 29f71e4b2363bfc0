"""``LICENSE`` and ``THIRD-PARTY-NOTICES.txt`` for the frozen bundle (ARCHITECTURE.md §8).

Called by ``reviewdesk.spec`` after ``COLLECT`` with what PyInstaller actually bundled, so the
notices list exactly the Python distributions and native libraries inside the folder:

* every Python distribution with a module in the bundle: name, version, license and the license
  texts from its ``.dist-info`` (PySide6 and shiboken6 ship none: the LGPL-3.0 text is in
  ``installer/licenses/``), plus Python's own license and PyInstaller's bootloader;
* how the LGPL is honoured for Qt: the one-folder layout keeps Qt as separate, replaceable
  shared libraries, unmodified from the PySide6 wheels;
* native libraries copied from the build machine, with their Debian ``copyright`` files where
  ``dpkg`` can name the package (elsewhere just the list).

Stdlib only; runs inside PyInstaller with the build environment's metadata.
"""

from __future__ import annotations

import importlib.metadata as metadata
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OURS = "reviewdesk"
LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)
RULE = "=" * 100

QT_NOTE = """\
Qt and PySide6 (LGPL-3.0-only)
------------------------------
reviewdesk uses Qt {qt} through PySide6 {pyside} (Qt for Python), licensed under the GNU Lesser
General Public License version 3 (text below; its GPL-3.0 base is reviewdesk's own LICENSE).
The Qt and PySide6 libraries are the unmodified builds from the PySide6-Essentials and shiboken6
wheels on PyPI. This is a one-folder build, so they stay separate shared libraries that you may
replace with your own builds of the same version (ABI-compatible), without relinking reviewdesk:

    _internal/PySide6/Qt/lib/      Qt libraries (libQt6*.so.6; on Windows _internal/PySide6/*.dll)
    _internal/PySide6/Qt/plugins/  Qt plugins
    _internal/PySide6/, _internal/shiboken6/   the Python bindings

Source code: Qt at https://download.qt.io/official_releases/qt/ and https://code.qt.io/,
PySide6 and shiboken6 at https://code.qt.io/cgit/pyside/pyside-setup.git (tag v{pyside}).
Qt's own third-party parts (ICU in _internal/PySide6/Qt/lib/libicu*, and others compiled into
Qt) and their licenses: https://doc.qt.io/qt-6/licenses-used-in-qt.html.
reviewdesk's own source is the sdist of this version or the project repository (GPL-3.0+).
"""


def _dist_name(top_level: str, mapping: Mapping[str, list[str]]) -> str | None:
    names = mapping.get(top_level)
    return names[0] if names else None


def bundled_distributions(modules: Iterable[str], binary_dests: Iterable[str]) -> list[str]:
    """Names of the installed distributions that own a bundled module or binary."""
    mapping = metadata.packages_distributions()
    tops = {m.split(".")[0] for m in modules}
    for dest in binary_dests:
        parts = dest.replace("\\", "/").split("/")
        if len(parts) > 1:
            tops.add(parts[0].removesuffix(".libs"))
        elif parts[0].endswith((".pyd", ".so")) or ".so." in parts[0]:
            tops.add(parts[0].split(".")[0])  # extension modules at the top (e.g. _cffi_backend)
    names = {n for n in (_dist_name(t, mapping) for t in tops) if n}
    names.discard(OURS)
    return sorted(names, key=str.lower)


def _field(meta: metadata.PackageMetadata, key: str) -> str:
    values = meta.get_all(key) or []
    return str(values[0]) if values else ""


def _license_of(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = _field(meta, "License-Expression")
    if expression:
        return expression
    text = _field(meta, "License")
    if text and "\n" not in text.strip() and len(text) < 120:
        return text.strip()
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::")
    ]
    return "; ".join(classifiers) or "see the license text"


def _license_texts(dist: metadata.Distribution) -> list[tuple[str, str]]:
    texts = []
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if not parts or not parts[0].endswith(".dist-info"):
            continue
        if "licenses" in parts[1:-1] or LICENSE_FILE.match(parts[-1]):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                texts.append(
                    ("/".join(parts[1:]), path.read_text(encoding="utf-8", errors="replace"))
                )
    return texts


def _system_libraries(binaries: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(bundle name, source path) of native libraries from outside any Python package."""
    prefixes = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    found = []
    for dest, source in binaries:
        if "/" in dest.replace("\\", "/"):
            continue  # inside a package folder: covered by that distribution
        src = Path(source).resolve()
        if "site-packages" in src.parts or any(p in src.parents for p in prefixes):
            continue  # a wheel's own library (numpy.libs, PySide6) or Python's libpython
        found.append((dest, source))
    return sorted(found)


def _debian_package(path: str) -> str | None:
    if not shutil.which("dpkg"):
        return None
    for candidate in dict.fromkeys((path, str(Path(path).resolve()), _usr(path))):
        result = subprocess.run(
            ["dpkg", "-S", candidate], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and ":" in result.stdout:
            return result.stdout.split(":", 1)[0].strip()
    return None


def _usr(path: str) -> str:
    return "/usr" + path if path.startswith(("/lib/", "/lib64/")) else path


def _host() -> str:
    try:
        release = platform.freedesktop_os_release()
        return release.get("PRETTY_NAME", release.get("NAME", "Linux"))
    except OSError:
        return f"{platform.system()} {platform.release()}"


def write_notices(
    bundle: Path, modules: Iterable[str], binaries: Iterable[tuple[str, str]]
) -> Path:
    """Write ``LICENSE`` and ``THIRD-PARTY-NOTICES.txt`` into ``bundle``; return the latter."""
    binaries = list(binaries)
    shutil.copyfile(ROOT / "LICENSE", bundle / "LICENSE")
    names = bundled_distributions(modules, (dest for dest, _ in binaries))
    dists = [metadata.distribution(n) for n in names]
    versions = {d.metadata["Name"].lower(): d.version for d in dists}
    pyside = versions.get("pyside6_essentials") or versions.get("pyside6", "?")

    out: list[str] = [
        "reviewdesk — third-party notices",
        "",
        "reviewdesk is free software under the GNU General Public License, version 3 or later",
        "(see LICENSE). This folder also contains the software listed below, each under its own",
        "license. Full texts follow the summary.",
        "",
        "Python distributions",
        "--------------------",
    ]
    width = max((len(d.metadata["Name"]) for d in dists), default=10) + 2
    for d in dists:
        out.append(f"  {d.metadata['Name']:<{width}}{d.version:<12}{_license_of(d)}")
    out.append(
        f"  {'Python':<{width}}{platform.python_version():<12}PSF-2.0 (with the licenses of "
        "the libraries in Python's own LICENSE)"
    )
    try:
        pyi = metadata.distribution("pyinstaller")
        out.append(
            f"  {'PyInstaller':<{width}}{pyi.version:<12}the bootloader in the executables: "
            "GPL-2.0-or-later with the bootloader exception"
        )
    except metadata.PackageNotFoundError:
        pyi = None
    out += ["", QT_NOTE.format(qt=pyside, pyside=pyside)]

    system = _system_libraries(binaries)
    packages: dict[str, list[str]] = {}
    if system:
        out += [
            f"Native libraries from the build machine ({_host()})",
            "-" * 60,
        ]
        for dest, source in system:
            package = _debian_package(source)
            out.append(f"  {dest:<44}{package or '(package unknown)'}")
            if package:
                packages.setdefault(package.split(":")[0], []).append(dest)
        out.append("")

    out += [RULE, "License texts", RULE, ""]
    lgpl = (HERE / "licenses" / "LGPL-3.0.txt").read_text(encoding="utf-8")
    out += ["PySide6, shiboken6 and Qt: GNU Lesser General Public License v3", "", lgpl, RULE]
    for d in dists:
        texts = _license_texts(d)
        if not texts:
            out += [f"{d.metadata['Name']} {d.version}: {_license_of(d)} (no text shipped)", RULE]
        for name, text in texts:
            out += [f"{d.metadata['Name']} {d.version}: {name}", "", text.rstrip(), "", RULE]
    python_license = (
        Path(sys.base_prefix)
        / "lib"
        / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        / "LICENSE.txt"
    )
    if not python_license.is_file():
        python_license = Path(sys.base_prefix) / "LICENSE.txt"  # Windows layout
    if python_license.is_file():
        out += [
            f"Python {platform.python_version()}: LICENSE",
            "",
            python_license.read_text(encoding="utf-8", errors="replace").rstrip(),
            "",
            RULE,
        ]
    if pyi is not None:
        for name, text in _license_texts(pyi):
            out += [f"PyInstaller {pyi.version}: {name}", "", text.rstrip(), "", RULE]
    for package, files in sorted(packages.items()):
        copyright_file = Path("/usr/share/doc") / package / "copyright"
        if copyright_file.is_file():
            out += [
                f"{package} (Debian package; {', '.join(files)}): copyright",
                "",
                copyright_file.read_text(encoding="utf-8", errors="replace").rstrip(),
                "",
                RULE,
            ]

    target = bundle / "THIRD-PARTY-NOTICES.txt"
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target
