"""The monitor service end to end on the ``labeler-drift`` sample: import the twelve weeks, run
the monitor, see the alarm fire in the expected weeks, quarantine the drifting reviewers and make
the gates fail closed (STATISTICS.md §7, §8)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from reviewdesk.cli.main import main
from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services import monitor as svc
from reviewdesk.services.gate_inputs import build_gate_inputs
from reviewdesk.services.project import Project, open_project
from reviewdesk.services.samples import SampleManifest, build_sample_project
from reviewdesk.stats.gates import evaluate_gates, parse_gate_spec
from tests.conftest import REPO

SAMPLE = REPO / "sample_projects" / "labeler-drift"
WEEKS = [f"2026-W{w:02d}" for w in range(2, 14)]
DRIFTERS = {"rev-ana", "rev-ben", "rev-chen", "rev-dara"}


@pytest.fixture(scope="module")
def drift_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("drift") / "labeler-drift.reviewdesk"
    run_to_completion(build_sample_project(SampleManifest.load(SAMPLE), path)).close()
    return path


@pytest.fixture(scope="module")
def report(drift_project: Path) -> svc.MonitorReport:
    with open_project(drift_project) as project:
        return run_to_completion(svc.refresh_monitor(project))


def _flags(values: tuple[float, ...]) -> str:
    return "".join("." if math.isnan(v) else str(int(v)) for v in values)


def test_sample_files_are_generated_and_small() -> None:
    result = subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    total = sum(p.stat().st_size for p in SAMPLE.glob("*.jsonl"))
    assert total < 5_000_000


def test_weekly_dashboard_shows_the_alarm_from_week_nine(report: svc.MonitorReport) -> None:
    human = report.dashboard["human"]
    assert list(human.window_ids) == WEEKS
    assert human.baseline.window_ids == tuple(WEEKS[:4])
    # agreement climbs in the second half …
    alpha = human.columns["alpha"].estimate
    assert max(alpha[:6]) < min(alpha[-3:])
    # … the anchors' ties and disagreement collapse, positive controls do not improve
    ties = human.columns["h2_anchor_tie_rate"].estimate
    assert ties[-1] < 0.6 * ties[3]
    dis = human.columns["h1_disagreement"].estimate
    assert dis[-1] < dis[3] - 0.10
    acc = human.columns["h5_control_accuracy"].estimate
    assert abs(sum(acc[-4:]) / 4 - sum(acc[:4]) / 4) < 0.1
    # the alarm: quiet through week 7 (2026-W08), on from the 3rd week of the drift
    assert _flags(human.homogenization_alarm) == "000000001111"
    # the drift alarm fires first (anchor labels flip before agreement has risen)
    assert _flags(human.drift_alarm) == "000000110000"
    assert _flags(human.components["H3"]) == "....00111111"
    assert _flags(human.components["H5"]) == "....00111111"
    assert all(set(named) == DRIFTERS for named in human.named_labelers[8:])
    # judges are monitored on their own and stay quiet
    for judge in ("judge:judge-terse", "judge:judge-verbose"):
        assert _flags(report.dashboard[judge].homogenization_alarm) == "0" * 12


def test_alarm_windows_fire_after_the_drift_starts(report: svc.MonitorReport) -> None:
    human = report.alarms["human"]
    assert human.baseline.window_ids[0] == "count-00000500"
    flags = human.homogenization_alarm
    first = next(k for k, v in enumerate(flags) if v == 1.0)
    # week 7 starts after 6 × 680 labels: no window ending before that alarms
    assert int(human.window_ids[first].split("-")[1]) > 6 * 680
    assert flags[-1] == 1.0
    latest = report.latest_alarm()
    assert latest is not None
    assert latest[1] == 1.0


def test_quarantine_holds_the_drifting_reviewers_labels(report: svc.MonitorReport) -> None:
    q = report.quarantine
    assert q.quarantined_labelers == DRIFTERS
    assert len(q.label_ids) > 1000
    assert q.tainted_items
    # rev-eli and rev-fay never drifted: items they labelled twice are already cleared
    assert q.uncleared_items(2) < q.tainted_items
    assert report.config["monitor_baseline_version"].startswith("mb-")
    assert report.config["feature_standardization_version"].startswith("fs-")
    json.dumps(report.to_json(), allow_nan=False)


def test_gate_inputs_carry_the_monitor_and_fail_closed(drift_project: Path) -> None:
    with open_project(drift_project) as project:
        result = run_to_completion(build_gate_inputs(project, n_boot=200))
    doc = result.document
    assert doc["config"]["monitor_bootstrap"] == {"B": 200, "unit": "item"}  # the export's B
    assert doc["config"]["monitor_baseline_version"].startswith("mb-")
    assert doc["config"]["feature_standardization_version"].startswith("fs-")
    records = doc["records"]
    alarms = [r for r in records if r["metric"] == "homogenization_alarm"]
    assert alarms
    assert all(r["estimand"] == "monitor" for r in alarms)
    quarantined = [r for r in records if r["evidence_status"] == "quarantined"]
    assert any(r["metric"] == "cwr" and r["slice"] == {} for r in quarantined)
    assert all("fresh labelers" in r["extras"]["reason"] for r in quarantined)
    spec = parse_gate_spec(
        '[[gates]]\nmetric = "homogenization_alarm"\n'
        'slice = { population = "human", window = "latest" }\n'
        'require = { bound = "estimate", op = "==", value = 0 }\n'
        '[[gates]]\nmetric = "cwr"\nestimand = "contested_queue"\nslice = {}\n'
        'require = { bound = "ci_low", op = ">=", value = 0.0 }\n'
    )
    card = evaluate_gates(spec, doc, candidate="helpdesk-v5")
    assert not card.passed
    alarm_gate, cwr_gate = card.gates
    assert not alarm_gate.passed
    assert not cwr_gate.passed  # quarantined evidence fails closed
    assert "quarantined" in cwr_gate.checks[0].reason


def test_exports_bootstrap_the_windows_with_their_own_b(
    drift_project: Path, report: svc.MonitorReport
) -> None:
    """§7.2: windows use B = 1000 on dashboards, the export's B (2000) in exports."""
    assert report.config["monitor_bootstrap"]["B"] == 1000
    with open_project(drift_project) as project:
        exported = svc.monitor_gate_inputs(project, n_boot=300)
        again = svc.monitor_gate_inputs(project, n_boot=300)
        stored = svc.monitor_gate_inputs(project)
    assert exported.config["monitor_bootstrap"]["B"] == 300
    assert stored.config["monitor_bootstrap"]["B"] == 1000
    assert [r.to_dict() for r in stored.records] == [r.to_dict() for r in report.records]
    assert [r.to_dict() for r in again.records] == [r.to_dict() for r in exported.records]

    def intervals(records: tuple[object, ...]) -> list[object]:
        return [(r.ci_low, r.ci_high) for r in records if r.ci_low is not None]  # type: ignore[attr-defined]

    assert intervals(exported.records) != intervals(report.records)


def test_the_export_reads_the_monitor_in_the_snapshot_of_its_estimates(
    drift_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A label committed (by another connection) while the export reads is in neither the
    estimates nor the monitor: both are read in one transaction, one snapshot."""
    from reviewdesk.domain.model import ScreenChoice
    from reviewdesk.services import analysis_data as ad
    from reviewdesk.services import review

    copy = tmp_path / "copy.reviewdesk"
    copy.write_bytes(drift_project.read_bytes())
    with open_project(copy) as project:
        review.ensure_reviewer(project, "rev-late")
        before = svc.load_monitor_data(project).n_labels
    real_read, real_load = ad.read_analysis_data, svc.load_monitor_data
    seen: list[int] = []

    def read_then_someone_labels(*args: object, **kwargs: object) -> object:
        result = yield from real_read(*args, **kwargs)  # type: ignore[arg-type]
        with open_project(copy) as other:
            served = review.serve_next(other, "rev-late")
            assert served.token is not None
            review.answer_token(other, "rev-late", served.token, ScreenChoice.LEFT)
        return result

    def load(project: Project, session: object = None) -> svc.LoadedMonitorData:
        loaded = real_load(project, session)
        seen.append(loaded.n_labels)
        return loaded

    monkeypatch.setattr(ad, "read_analysis_data", read_then_someone_labels)
    monkeypatch.setattr(svc, "load_monitor_data", load)
    with open_project(copy) as project:
        run_to_completion(build_gate_inputs(project, n_boot=50))
    assert seen == [before]  # the monitor did not see the label the estimates did not see
    with open_project(copy) as project:
        assert real_load(project).n_labels == before + 1  # it was committed all the same


def test_manual_actions_are_logged_and_honoured(drift_project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.reviewdesk"
    copy.write_bytes(drift_project.read_bytes())
    with open_project(copy) as project:
        frozen = svc.freeze_baseline(project, actor="lead-1")
        assert frozen.monitor_baseline_version
        assert frozen.standardization_version
        settings = svc.monitor_settings(project)
        assert settings.frozen["iso_week"]["human"] == WEEKS[:4]
        before = run_to_completion(svc.refresh_monitor(project))
        window = next(
            w
            for w, v in zip(
                before.alarms["human"].window_ids,
                before.alarms["human"].homogenization_alarm,
                strict=True,
            )
            if v == 1.0
        )
        with pytest.raises(Exception, match="why"):
            svc.lift_quarantine(project, "human", window, actor="lead-1", why=" ")
        svc.lift_quarantine(project, "human", window, actor="lead-1", why="checked by hand")
        after = run_to_completion(svc.refresh_monitor(project))
        assert len(after.quarantine.label_ids) < len(before.quarantine.label_ids)
        overrides = after.config["quarantine_overrides"]
        assert overrides[0]["window"] == window
        assert overrides[0]["why"] == "checked by hand"
        assert after.config["monitor_baseline_frozen"] is True
    out = subprocess.run(
        [sys.executable, "-m", "reviewdesk", "audit", "verify", str(copy)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


def test_cache_survives_a_new_process(drift_project: Path, report: svc.MonitorReport) -> None:
    with open_project(drift_project) as project:
        run_to_completion(svc.refresh_monitor(project))  # persists into this test's home
        file = svc._cache_file(project)
        stored = json.loads(file.read_text(encoding="utf-8"))
        assert stored["schema"] == svc.CACHE_SCHEMA
        assert stored["entries"]
        svc._caches.clear()  # as in a new process: only the file is left
        again = run_to_completion(svc.refresh_monitor(project))
    assert [r.to_dict() for r in again.records] == [r.to_dict() for r in report.records]


def test_warm_export_is_byte_identical_to_a_cold_one(
    drift_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cold (nothing cached), warm in process, warm from the cache files in a new process: the
    same gate-input files apart from ``generated_at``, and the warm runs compute no window and
    read no response text."""
    from reviewdesk.services import gate_inputs as gi
    from reviewdesk.stats import monitor as engine
    from reviewdesk.storage import monitor_queries as mq

    copy = tmp_path / "copy.reviewdesk"
    copy.write_bytes(drift_project.read_bytes())
    monkeypatch.setenv("REVIEWDESK_HOME", str(tmp_path / "home"))
    svc._caches.clear()  # a new process with an empty cache folder: the cold (CI) case

    def export(name: str) -> None:
        with open_project(copy) as project:
            run_to_completion(gi.export_gate_inputs(project, tmp_path / name / "g.json", n_boot=50))

    export("cold")
    with open_project(copy) as project:
        assert svc._cache_file(project).exists()
        assert svc._style_file(project).exists()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a warm export recomputed a cached result")

    monkeypatch.setattr(engine, "_evaluate", refuse)
    monkeypatch.setattr(mq, "response_texts", refuse)
    export("warm")
    svc._caches.clear()  # as in a new process: only the files are left
    export("disk")
    for run in ("warm", "disk"):
        cold = (tmp_path / "cold" / "g.json").read_text(encoding="utf-8").splitlines()
        warm = (tmp_path / run / "g.json").read_text(encoding="utf-8").splitlines()
        diff = [(a, b) for a, b in zip(cold, warm, strict=True) if a != b]
        assert all('"generated_at"' in a for a, _ in diff)
        for name in ("g.records.jsonl", "g.records.csv"):
            assert (tmp_path / "cold" / name).read_bytes() == (tmp_path / run / name).read_bytes()
    doc = json.loads((tmp_path / "cold" / "g.json").read_text(encoding="utf-8"))
    assert any(r["estimand"] == "monitor" for r in doc["records"])
    assert any(r["evidence_status"] == "quarantined" for r in doc["records"])


def test_cli_monitor_prints_the_weekly_alarms(
    drift_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["monitor", str(drift_project)]) == 0
    out = capsys.readouterr().out
    assert "weekly windows, human" in out
    assert "2026-W10          1 0" in out
    assert "named labelers: rev-ana, rev-ben, rev-chen, rev-dara" in out
    assert main(["monitor", str(drift_project), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "reviewdesk.monitor/v1"
    assert doc["dashboard"]["human"]["window_ids"] == WEEKS


def test_project_without_enough_labels_has_no_monitor_records(tmp_path: Path) -> None:
    from reviewdesk.services.project import create_project

    with create_project(tmp_path / "empty.reviewdesk", seed=1) as project:
        assert isinstance(project, Project)
        gi = svc.monitor_gate_inputs(project)
    assert gi.records == ()
    assert not gi.quarantine.label_ids
    assert gi.config["monitor_baseline_version"] is None
