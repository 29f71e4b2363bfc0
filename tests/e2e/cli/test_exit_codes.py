"""Exit codes and messages of SPEC §8: 0 ok, 1 user error, 2 usage, 70 internal."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewdesk.cli.main import main
from tests.conftest import native_item, write_jsonl
from tests.e2e.cli.conftest import run_cli


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert "usage:" in run_cli("frobnicate", check=2).err
    assert "required" in run_cli("next", tmp_path / "p.reviewdesk", check=2).err
    run_cli(
        "answer",
        tmp_path / "p.reviewdesk",
        "--reviewer",
        "r",
        "--token",
        "t",
        "--choice",
        "up",
        check=2,
    )


def test_user_errors_exit_1_with_one_line(tmp_path: Path) -> None:
    missing = run_cli("status", tmp_path / "nope.reviewdesk", check=1)
    assert missing.err.count("\n") == 1
    assert "no such project" in missing.err
    project = tmp_path / "p.reviewdesk"
    run_cli("init", project)
    exists = run_cli("init", project, check=1)
    assert "already exists" in exists.err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"item_id": "x"}\n', encoding="utf-8")
    invalid = run_cli("import", project, bad, check=1)
    assert f"{bad}:1:" in invalid.err
    assert run_cli("status", project, "--json").json()["items"] == 0


def test_version(tmp_path: Path) -> None:
    assert run_cli("--version").out.startswith("reviewdesk ")


def test_internal_error_exits_70_and_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "p.reviewdesk"
    assert main(["init", str(project)]) == 0

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("reviewdesk.services.status.get_status", boom)
    assert main(["status", str(project)]) == 70
    err = capsys.readouterr().err
    assert "internal error, details in" in err
    log = Path(err.strip().rsplit(" ", 1)[-1])
    assert "RuntimeError: a bug" in log.read_text(encoding="utf-8")


def test_gui_without_qt_is_a_user_error(tmp_path: Path) -> None:
    probe = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'PySide6': raise ImportError('No module named PySide6')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from reviewdesk.cli.main import main\n"
        "sys.exit(main(['gui']))\n"
    )
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 1
    assert "the GUI needs PySide6" in result.stderr


def test_import_with_skip_bad_writes_rejects(tmp_path: Path) -> None:
    project = tmp_path / "p.reviewdesk"
    run_cli("init", project)
    records = [native_item("ok-1"), {"item_id": "broken"}, native_item("ok-2")]
    data = write_jsonl(tmp_path / "mixed.jsonl", records)
    run_cli("import", project, data, check=1)
    assert run_cli("status", project, "--json").json()["items"] == 0
    report = run_cli("import", project, data, "--skip-bad", "--json").json()
    assert report["items_added"] == 2
    assert report["rejected"] == 1
    rejects = Path(report["rejects_path"])
    assert rejects == tmp_path / "mixed.jsonl.rejects.jsonl"
    line = rejects.read_text(encoding="utf-8").splitlines()
    assert len(line) == 1
    assert '"line": 2' in line[0]
