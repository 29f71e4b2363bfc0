"""``stats``, ``export gates`` and ``gate check`` end to end on the sample project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reviewdesk.cli.main import main
from tests.conftest import REPO
from tests.e2e.cli.conftest import Result, run_cli

SAMPLE = REPO / "sample_projects" / "incident-bot-release"
CANDIDATE, BASELINE = "incident-bot-sft-2026-11", "incident-bot-2026-10"
FILES = (
    "items.jsonl",
    "judge-llm-v3.jsonl",
    "judge-llm-alt.jsonl",
    "format-check.jsonl",
    "refusal-clf.jsonl",
    "review-round-1.jsonl",
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample project with every file imported, and its exported gate inputs."""
    tmp = tmp_path_factory.mktemp("sample")
    project = tmp / "incident.reviewdesk"
    # init and imports through the real command line, in process (their own e2e tests run them
    # as subprocesses); export, stats and gate check below run as subprocesses
    argv = ["init", str(project), "--candidate", CANDIDATE, "--baseline", BASELINE]
    assert main([*argv, "--seed", "20261121"]) == 0
    for name in FILES:
        assert main(["import", str(project), str(SAMPLE / name), "--format", "native"]) == 0
    out = tmp / "out" / "gate-inputs.json"
    exported = run_cli("export", "gates", project, "-o", out, "--json").json()
    assert set(exported["files"]) == {
        "gate-inputs.json",
        "gate-inputs.records.jsonl",
        "gate-inputs.records.csv",
    }
    return project, out


def check(inputs: Path, spec: Path, *extra: str, code: int) -> Result:
    return run_cli("gate", "check", "--inputs", inputs, "--spec", spec, *extra, check=code)


def test_sample_release_fails_on_scary_ops_not_on_the_aggregate(sample: tuple[Path, Path]) -> None:
    _, inputs = sample
    result = check(inputs, SAMPLE / "gates.toml", code=1)
    out = result.out
    assert out.startswith(f"RELEASE FAILS: {CANDIDATE} — 4 of 8 gates pass")
    assert "hypothesis: SFT on curated incident rows" in out
    assert "[PASS] gates[2] cwr: ci_low >= 0.5, n_items >= 100 on slice {}" in out
    assert (
        "FAIL category=scary_ops: ci_high 0.285529 fails ci_high <= 0.01; the whole "
        "interval [0.0547579, 0.285529] lies beyond 0.01: an effect, not noise" in out
    )
    assert (
        "FAIL category=incident_triage: ci_high 0.0611294 fails ci_high <= 0.01; the "
        "estimate 0 meets 0.01, but the interval [-0.0611294, 0.0611294] is too wide at "
        "n_items 59 to certify it: more evidence is needed" in out
    )
    assert "FAIL category=billing_support" in out
    assert "no 'homogenization_alarm' record at all" in out
    assert "[budget]" in out
    assert "checkpoint = incident-bot-2026-10" in out

    report = check(inputs, SAMPLE / "gates.toml", "--json", code=1).json()
    assert report["schema"] == "reviewdesk.gate_report/v1"
    assert report["passed"] is False
    assert report["release"] == CANDIDATE
    by_index = {g["index"]: g for g in report["gates"]}
    assert [i for i, g in by_index.items() if g["passed"]] == [0, 1, 2, 6]
    assert by_index[2]["worst"]["bound_value"] == pytest.approx(0.547244, abs=1e-6)
    assert by_index[5]["worst"]["slice"] == {"category": "scary_ops"}
    assert by_index[7]["n_matched"] == 0
    assert report["rollback"]["checkpoint"] == BASELINE
    assert report["budget"]["training_gpu_hours"] == 96


def test_passing_spec_exits_0(sample: tuple[Path, Path], tmp_path: Path) -> None:
    _, inputs = sample
    spec = tmp_path / "pass.toml"
    spec.write_text(
        '[[gates]]\nmetric = "cwr"\nestimand = "contested_queue"\nslice = {}\n'
        'require = { bound = "ci_low", op = ">=", value = 0.5 }\nmin_n_items = 100\n',
        encoding="utf-8",
    )
    result = check(inputs, spec, code=0)
    assert result.out.startswith(f"RELEASE PASSES: {CANDIDATE} — 1 of 1 gates pass")


def test_invalid_files_exit_2(sample: tuple[Path, Path], tmp_path: Path) -> None:
    _, inputs = sample
    bad_spec = tmp_path / "bad.toml"
    bad_spec.write_text('[[gates]]\nmetric = "cwr"\nslice = {}\n', encoding="utf-8")
    result = check(inputs, bad_spec, code=2)
    assert result.err == f"reviewdesk: {bad_spec}: gates[0] (metric 'cwr'): require: missing\n"
    truncated = tmp_path / "truncated.json"
    truncated.write_text(inputs.read_text(encoding="utf-8")[:500], encoding="utf-8")
    result = check(truncated, SAMPLE / "gates.toml", code=2)
    assert f"{truncated}:" in result.err
    assert "not valid JSON" in result.err
    result = check(tmp_path / "missing.json", SAMPLE / "gates.toml", code=2)
    assert "no such gate inputs file" in result.err


def test_stats_json_is_the_exported_document(sample: tuple[Path, Path]) -> None:
    project, inputs = sample
    printed = run_cli("stats", project, "--json").json()
    exported = json.loads(inputs.read_text(encoding="utf-8"))
    printed.pop("generated_at")
    exported.pop("generated_at")
    assert printed == exported
    table = run_cli("stats", project).out
    assert "cwr (contested_queue; incident-bot-sft-2026-11 vs incident-bot-2026-10)" in table
    assert "over_refusal_rate_delta" in table


def test_help_loads_no_heavy_module() -> None:
    probe = (
        "import sys\nfrom reviewdesk.cli.main import main\n"
        "for argv in (['stats', '--help'], ['gate', 'check', '--help'], "
        "['export', 'gates', '--help']):\n"
        "    try: main(argv)\n"
        "    except SystemExit: pass\n"
        "leaked = {'numpy', 'sqlalchemy', 'krippendorff', 'rich'} & set(sys.modules)\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True)
