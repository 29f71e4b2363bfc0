"""``export preferences|csv``, ``audit verify``, ``erase`` and ``adjudicate`` from the command line.

The contract (exit codes, the one-line error on stderr, JSON output) runs as real subprocesses;
the rest calls ``main`` in process, which is the same code without the interpreter start-up.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reviewdesk.cli.main import main
from tests.conftest import native_item
from tests.e2e.cli.conftest import run_cli
from tests.services.export_support import SPLIT, build, label, tamper


@pytest.fixture
def project(tmp_path: Path) -> Path:
    records = [
        native_item("a1", judgments=SPLIT, labels=[label("x", "A"), label("y", "A")]),
        native_item("a2", judgments=SPLIT, labels=[label("x", "A"), label("y", "B")]),
        native_item("s1", judgments=SPLIT, labels=[label("x", "B")], subject_id="cust-7"),
    ]
    path = tmp_path / "p.reviewdesk"
    build(path, tmp_path, records).close()
    return path


def test_export_verify_tamper(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "prefs"
    result = run_cli("export", "preferences", project, "-o", out, "--json").json()
    assert result["pairs"] == 2
    assert result["dropped"] == {"conflicting_human_labels": 1}
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "preferences.audit.jsonl",
        "preferences.trl.jsonl",
    ]
    ok = run_cli("audit", "verify", project)
    assert ok.out.startswith("audit chain ok: ")
    tamper(project, "UPDATE response SET text = 'edited' WHERE id = 1")
    broken = run_cli("audit", "verify", project, check=1)
    assert broken.out == ""
    assert re.fullmatch(
        r"reviewdesk: audit chain broken at record \d+ \(import, [0-9T:.\-]+Z\): "
        r"item 'a1': .+\n",
        broken.err,
    ), broken.err


def test_erase_dry_run_unknown_and_real(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "csv", str(project), "-o", str(tmp_path / "csv")]) == 0
    dry = run_cli("erase", project, "--subject", "cust-7", "--dry-run")
    assert "would erase 1 items" in dry.out
    assert str((tmp_path / "csv").resolve()) in dry.out
    assert "dry run: nothing was changed" in dry.out
    capsys.readouterr()
    assert main(["erase", str(project), "--subject", "nobody"]) == 1
    assert capsys.readouterr().err == (
        "reviewdesk: no items with subject ID 'nobody' in this project\n"
    )
    report = run_cli("erase", project, "--subject", "cust-7", "--json").json()
    assert report["items"] == ["s1"]
    assert report["file_purged"] is True
    assert [x["kind"] for x in report["stale_exports"]] == ["csv"]
    assert main(["audit", "verify", str(project)]) == 0


def test_adjudicate_next_and_answer(project: Path) -> None:
    served = run_cli("adjudicate", project, "--reviewer", "adj", "--json").json()
    assert set(served) == {"token", "prompt", "left", "right", "remaining", "left_for_others"}
    assert served["remaining"] == 1
    saved = run_cli(
        "adjudicate",
        "answer",
        project,
        "--reviewer",
        "adj",
        "--token",
        served["token"],
        "--choice",
        "right",
        "--json",
    ).json()
    assert saved == {"saved": True, "choice": "right", "remaining": 0}


def test_usage_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["export", str(project)],
        ["adjudicate", "answer", str(project), "--reviewer", "adj"],
        ["adjudicate", str(project), "--reviewer", "adj", "--choice", "left"],
        ["erase", str(project)],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv
    capsys.readouterr()
    assert main(["adjudicate", str(project), "--reviewer", "adj"]) == 0
    assert "conflicts to adjudicate" in capsys.readouterr().out


def test_help_of_these_commands_stays_light() -> None:
    heavy = {"PySide6", "pyqtgraph", "numpy", "krippendorff", "sqlalchemy", "rich", "alembic"}
    probe = (
        "import sys\nfrom reviewdesk.cli.main import main\n"
        "for argv in (['export', 'preferences', '--help'], ['export', 'csv', '--help'],\n"
        "             ['audit', 'verify', '--help'], ['erase', '--help'],\n"
        "             ['adjudicate', '--help']):\n"
        "    try: main(argv)\n    except SystemExit: pass\n"
        f"leaked = {heavy!r} & {{m.split('.')[0] for m in sys.modules}}\n"
        "assert not leaked, leaked"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True)


def test_manifest_hashes_match_from_the_cli(project: Path, tmp_path: Path) -> None:
    import hashlib

    out = tmp_path / "conv"
    assert main(["export", "preferences", str(project), "-o", str(out), "--conversational"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, info in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == info["sha256"]
    first = json.loads((out / "preferences.trl.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["prompt"][0]["role"] == "user"
