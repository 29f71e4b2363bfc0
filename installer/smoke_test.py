"""Smoke test of a frozen reviewdesk bundle (ARCHITECTURE.md §8): ``python smoke_test.py DIR``.

Runs the executables in DIR the way a reviewer would, in a temporary ``REVIEWDESK_HOME`` and
working folder, with nothing from the source tree or the build venv on any path:

* ``reviewdesk --version`` (and it must match ``--expect-version`` when given);
* every reviewdesk module imported in the frozen interpreter (``launch_cli.py``'s self-test;
  ``--expect-modules`` says how many there must be), which finds what PyInstaller missed in
  code no other step reaches (the dashboards' pyqtgraph, say);
* the sample project as the bundle carries it: ``init`` and every ``import`` of its
  ``project.json``, the earlier review round's labels, ``queue build``, ``status --json``;
* a review round trip: ``next``/``answer``/``undo``;
* ``stats --json``, ``monitor --json``, ``export gates`` + ``gate check`` with the sample's
  ``gates.toml``, ``export preferences``, ``export csv``, ``audit verify``;
* golden old-schema projects from ``tests/storage/migrations/golden/`` when given and present
  (upgrade with backup);
* a user error (missing project): exit 1 and one line on stderr, nothing else;
* ``reviewdesk gui PROJECT --smoke-test`` and ``reviewdesk-gui --smoke-test`` (which builds the
  demo project from the bundled samples) under ``QT_QPA_PLATFORM=offscreen``;
* ``install.sh`` into a temporary home and back out again (Linux bundles).

A wrong exit code, unexpected output or a stderr line off the allowlist fails the test (exit 1).
The bundle must not change while it runs (no ``__pycache__`` or other writes into it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT_S = 300
SAMPLE = "incident-bot-release"
#: stderr lines that are not failures, on any step: what Qt says in an offscreen session or in a
#: container without a desktop session bus. Keep it short; add a reason with every entry.
STDERR_ALLOWED = (
    # Qt on a host without a user session (CI containers): it falls back to /tmp/runtime-$USER.
    re.compile(r"^QStandardPaths: (XDG_RUNTIME_DIR not set|wrong permissions on runtime dir)"),
    # the offscreen platform cannot do what a window manager does
    re.compile(r"^This plugin does not support (propagateSizeHints|raise|grabbing)"),
    # fontconfig on hosts whose fonts.conf is newer than the bundled libfontconfig
    re.compile(r"^Fontconfig (warning|error): .*(unknown element|invalid attribute)"),
)


class SmokeTestError(Exception):
    pass


@dataclass
class Step:
    name: str
    argv: list[str]
    codes: tuple[int, ...] = (0,)
    check: Callable[[str], str | None] | None = None  # returns a summary, raises on failure
    stderr_expected: tuple[re.Pattern[str], ...] = ()
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    bundle: Path
    work: Path
    env: dict[str, str]
    results: list[tuple[str, float, str]] = field(default_factory=list)

    def exe(self, name: str) -> str:
        suffix = ".exe" if sys.platform == "win32" else ""
        path = self.bundle / f"{name}{suffix}"
        if not path.is_file():
            raise SmokeTestError(f"{path}: the executable is missing")
        return str(path)

    def run(self, step: Step) -> str:
        env = {**self.env, **step.env}
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                step.argv,
                cwd=self.work,
                env=env,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SmokeTestError(f"{step.name}: no exit within {TIMEOUT_S} s") from exc
        elapsed = time.perf_counter() - started
        shown = " ".join(_short(a, self) for a in step.argv)
        if proc.returncode not in step.codes:
            raise SmokeTestError(
                f"{step.name}: `{shown}` exited {proc.returncode} (expected {step.codes})\n"
                f"--- stdout (tail)\n{_tail(proc.stdout)}\n--- stderr\n{_tail(proc.stderr)}"
            )
        stray = [
            line
            for line in proc.stderr.splitlines()
            if line.strip()
            and not any(p.search(line) for p in (*STDERR_ALLOWED, *step.stderr_expected))
        ]
        if stray:
            raise SmokeTestError(
                f"{step.name}: `{shown}` wrote to stderr:\n" + "\n".join(stray[:20])
            )
        try:
            summary = step.check(proc.stdout) if step.check else None
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            raise SmokeTestError(
                f"{step.name}: unexpected output ({exc!r})\n--- stdout (tail)\n{_tail(proc.stdout)}"
            ) from exc
        shown_summary = _short(summary or "", self)
        if len(shown_summary) > 90:
            shown_summary = shown_summary[:89] + "…"
        line = f"  ok  {step.name:<28} {elapsed:6.2f} s  {shown_summary}".rstrip()
        print(line, flush=True)
        self.results.append((step.name, elapsed, summary or ""))
        return proc.stdout


def _short(arg: str, ctx: Context) -> str:
    return arg.replace(str(ctx.bundle), "<bundle>").replace(str(ctx.work), "<tmp>")


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _json(stdout: str) -> Any:
    return json.loads(stdout)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
        if not p.is_dir() or p.is_symlink()
    }


def find_sample(bundle: Path, name: str) -> Path:
    hits = sorted(bundle.glob(f"**/reviewdesk/samples/{name}/project.json"))
    if not hits:
        raise SmokeTestError(f"{bundle}: the sample project {name!r} is not in the bundle")
    return hits[0].parent


def disk_usage(folder: Path) -> tuple[int, int]:
    """(bytes on disk as ``du`` counts them, bytes in files) of ``folder``; links not followed."""
    apparent = sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_dir())
    du = shutil.which("du")
    if du:
        out = subprocess.run([du, "-sk", str(folder)], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            return int(out.stdout.split()[0]) * 1024, apparent
    return apparent, apparent


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def steps_for_project(ctx: Context, sample: Path, project: Path) -> list[Step]:
    cli = ctx.exe("reviewdesk")
    manifest = json.loads((sample / "project.json").read_text(encoding="utf-8"))
    p = str(project)
    steps = [
        Step(
            "init",
            [cli, "init", p, "--candidate", manifest["candidate"], "--baseline",
             manifest["baseline"], "--seed", str(manifest["seed"])],
        )
    ]  # fmt: skip
    for entry in manifest["imports"]:
        argv = [cli, "import", p, str(sample / entry["file"])]
        if entry.get("format"):
            argv += ["--format", entry["format"]]
        if entry.get("judge"):
            argv += ["--judge", entry["judge"]]
        steps.append(Step(f"import {entry['file']}", argv, check=_imported))
    for labels in sorted(sample.glob("review-round-*.jsonl")):
        steps.append(
            Step(f"import {labels.name}", [cli, "import", p, str(labels)], check=_imported)
        )
    steps.append(
        Step(
            "queue build",
            [cli, "queue", "build", p, "--audit-rate", str(manifest.get("audit_rate", 0.1)),
             "--overlap", str(manifest.get("overlap", 2))],
            check=lambda out: out.strip().splitlines()[-1],
        )
    )  # fmt: skip
    steps.append(Step("status --json", [cli, "status", p, "--json"], check=_status))
    return steps


def _imported(stdout: str) -> str:
    match = re.search(r"imported (\d+) new items, (\d+) judgments", stdout)
    assert match, "no import summary"
    labels = re.search(r"(\d+) imported labels", stdout)
    extra = f", {labels.group(1)} labels" if labels else ""
    return f"{match.group(1)} items, {match.group(2)} judgments{extra}"


def _status(stdout: str) -> str:
    s = _json(stdout)
    assert s["schema"] == "reviewdesk.status/v1", s.get("schema")
    assert s["items"] > 0, "no items"
    assert s["judgments"] > 0, "no judgments"
    assert s["queue"]["total"] > 0, "an empty queue"
    return (
        f"{s['items']} items, {s['judgments']} judgments, {s['contested']} contested, "
        f"queue {s['queue']['total']}"
    )


def run_smoke_test(
    bundle: Path,
    expect_version: str | None,
    golden: Path | None,
    keep: bool,
    expect_modules: int | None = None,
) -> float:
    bundle = bundle.resolve()
    cli_name = "reviewdesk"
    work = Path(tempfile.mkdtemp(prefix="reviewdesk-smoke-"))
    home = work / "home"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REVIEWDESK_SAMPLES", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
        and not k.startswith(("QT_", "PYTHON"))
    }
    env.update(
        REVIEWDESK_HOME=str(home),
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(work / "xdg-config"),
        XDG_CACHE_HOME=str(work / "xdg-cache"),
        XDG_DATA_HOME=str(work / "xdg-data"),
        HOME=str(work / "user"),
    )
    (work / "user").mkdir()
    ctx = Context(bundle=bundle, work=work, env=env)
    before = _snapshot(bundle)
    started = time.perf_counter()
    print(f"smoke test of {bundle} (temp folder {work})", flush=True)
    try:
        cli = ctx.exe(cli_name)
        gui = ctx.exe("reviewdesk-gui")
        sample = find_sample(bundle, SAMPLE)
        project = work / "smoke.reviewdesk"
        p = str(project)

        def version(out: str) -> str:
            text = out.strip()
            assert text.startswith("reviewdesk "), text
            if expect_version:
                assert text == f"reviewdesk {expect_version}", f"{text} != {expect_version}"
            return text

        def imported(out: str) -> str:
            match = re.fullmatch(r"imported (\d+) reviewdesk modules; loaded (.*)", out.strip())
            assert match, out
            if expect_modules is not None:
                assert int(match.group(1)) == expect_modules, (
                    f"{match.group(1)} != {expect_modules}"
                )
            return f"{match.group(1)} modules; {match.group(2)}"

        steps = [
            Step("--version", [cli, "--version"], check=version),
            Step(
                "import every module",
                [cli],
                env={"REVIEWDESK_FROZEN_SELF_TEST": "imports"},
                check=imported,
            ),
        ]
        steps += steps_for_project(ctx, sample, project)
        for step in steps:
            ctx.run(step)

        served = _json(ctx.run(Step("next", [cli, "next", p, "--reviewer", "smoke", "--json"])))
        ctx.run(
            Step(
                "answer",
                [cli, "answer", p, "--reviewer", "smoke", "--token", served["token"],
                 "--choice", "left", "--json"],
                check=lambda out: "saved" if _json(out)["saved"] else "NOT SAVED",
            )
        )  # fmt: skip
        ctx.run(Step("undo", [cli, "undo", p, "--reviewer", "smoke"], check=str.strip))

        def stats(out: str) -> str:
            doc = _json(out)
            records = doc["records"]
            assert records, "no records"
            return f"{len(records)} gate-input records"

        ctx.run(Step("stats --json", [cli, "stats", p, "--json"], check=stats))
        ctx.run(
            Step(
                "monitor --json",
                [cli, "monitor", p, "--json"],
                check=lambda out: _json(out)["schema"],
            )
        )
        inputs = work / "gate-inputs.json"
        ctx.run(
            Step(
                "export gates",
                [cli, "export", "gates", p, "-o", str(inputs)],
                check=lambda out: out.strip().splitlines()[-1],
            )
        )
        if (sample / "gates.toml").is_file():

            def scorecard(out: str) -> str:
                doc = _json(out)
                verdict = "passes" if doc["passed"] else "fails"
                return f"{doc['gates_passed']} of {len(doc['gates'])} gates pass, release {verdict}"

            ctx.run(
                Step(
                    "gate check",
                    [cli, "gate", "check", "--inputs", str(inputs), "--spec",
                     str(sample / "gates.toml"), "--json"],
                    codes=(0, 1),  # 1: a gate fails, a verdict like any other
                    check=scorecard,
                )
            )  # fmt: skip
        for what in ("preferences", "csv"):
            ctx.run(
                Step(
                    f"export {what}",
                    [cli, "export", what, p, "-o", str(work / f"export-{what}"), "--json"],
                    check=lambda out: f"{len(_json(out)['files'])} files",
                )
            )
        ctx.run(
            Step(
                "audit verify",
                [cli, "audit", "verify", p, "--json"],
                check=lambda out: "chain ok" if _json(out)["ok"] else "BROKEN",
            )
        )
        run_golden(ctx, cli, golden)
        ctx.run(
            Step(
                "user error",
                [cli, "status", str(work / "missing.reviewdesk")],
                codes=(1,),
                stderr_expected=(re.compile(r"^reviewdesk: .*missing\.reviewdesk"),),
                check=lambda out: "exit 1, one line on stderr",
            )
        )
        gui_ok = re.compile(r"^reviewdesk gui smoke test ok: (.*)$", re.MULTILINE)

        def gui_check(out: str) -> str:
            match = gui_ok.search(out)
            assert match, "no 'smoke test ok' line"
            return match.group(1)

        ctx.run(Step("gui --smoke-test", [cli, "gui", p, "--smoke-test"], check=gui_check))
        if sys.platform == "win32":
            # a windowed .exe has no stdout/stderr to report on (installer/windows/README.md)
            print("  --  reviewdesk-gui (demo)       skipped on Windows (no console to read)")
        else:
            ctx.run(Step("reviewdesk-gui (demo)", [gui, "--smoke-test"], check=gui_check))
        if sys.platform.startswith("linux") and (bundle / "install.sh").is_file():
            run_install_script(ctx)
        after = _snapshot(bundle)
        if after != before:
            changed = sorted(set(after.items()) ^ set(before.items()))
            raise SmokeTestError(
                "the bundle changed while it ran:\n" + "\n".join(n for n, _ in changed[:20])
            )
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return time.perf_counter() - started


def run_golden(ctx: Context, cli: str, golden: Path | None) -> None:
    files = sorted(golden.glob("*.reviewdesk")) if golden and golden.is_dir() else []
    if not files:
        print("  --  golden old-schema files     none yet (the schema has one revision): skipped")
        return
    for source in files:
        copy = ctx.work / f"golden-{source.name}"
        shutil.copyfile(source, copy)
        ctx.run(
            Step(
                f"upgrade {source.name}",
                [cli, "status", str(copy), "--json"],
                stderr_expected=(re.compile(r"^reviewdesk: upgraded .* backed up to "),),
                check=lambda out: _json(out)["schema"],
            )
        )


def run_install_script(ctx: Context) -> None:
    """install.sh into a temporary home, start the installed copy, uninstall."""
    target = ctx.work / "user" / ".local" / "opt" / "reviewdesk"
    bin_dir = ctx.work / "user" / ".local" / "bin"
    ctx.run(Step("install.sh", ["sh", str(ctx.bundle / "install.sh")], check=_last_line))
    desktop = ctx.work / "xdg-data" / "applications" / "reviewdesk.desktop"
    text = desktop.read_text(encoding="utf-8")
    if f"Exec={target / 'reviewdesk-gui'}" not in text and f'Exec="{target}' not in text:
        raise SmokeTestError(f"install.sh: {desktop} does not start the installed copy:\n{text}")
    ctx.run(
        Step(
            "installed --version",
            [str(bin_dir / "reviewdesk"), "--version"],
            check=str.strip,
        )
    )
    ctx.run(
        Step(
            "install.sh --uninstall",
            ["sh", str(target / "install.sh"), "--uninstall"],
            check=_last_line,
        )
    )
    leftovers = [p for p in (target, desktop, bin_dir / "reviewdesk") if p.exists()]
    if leftovers:
        raise SmokeTestError(f"install.sh --uninstall left {leftovers}")


def _last_line(out: str) -> str:
    return out.strip().splitlines()[-1] if out.strip() else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("bundle", type=Path, help="the one-folder bundle (dist/reviewdesk)")
    parser.add_argument("--expect-version", help="the version --version must print")
    parser.add_argument(
        "--golden", type=Path, help="folder of old-schema projects to upgrade (optional)"
    )
    parser.add_argument(
        "--expect-modules", type=int, help="how many reviewdesk modules the bundle must import"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    try:
        elapsed = run_smoke_test(
            args.bundle, args.expect_version, args.golden, args.keep, args.expect_modules
        )
    except SmokeTestError as exc:
        print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr)
        return 1
    on_disk, in_files = disk_usage(args.bundle)
    print(
        f"smoke test passed in {elapsed:.1f} s; bundle {mib(on_disk)} on disk (du), "
        f"{mib(in_files)} in files"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
