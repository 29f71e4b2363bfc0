"""Gate inputs on small hand-built projects: known numbers, reproducibility, order, files."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reviewdesk.domain.clock import FixedClock
from reviewdesk.domain.errors import CanceledError, UserError
from reviewdesk.domain.progress import CancelToken, run_to_completion
from reviewdesk.services import gate_inputs as gi
from reviewdesk.services.analysis_data import fold_current_labels
from reviewdesk.services.audit import verify_audit
from reviewdesk.services.project import Project, update_settings
from reviewdesk.services.queue import build_queue
from reviewdesk.stats.population import population_win_rate
from reviewdesk.stats.proportions import newcombe_paired_difference, proportion
from reviewdesk.stats.records import MetricRecord, record_seed
from reviewdesk.stats.winrate import calibrated_win_rate
from tests.conftest import native_item
from tests.services.export_support import SPLIT, build, in_app_project, label, llm

BASE, CAND = "base-2026-10", "sft-2026-11"  # native_item puts the baseline in slot A

# O-W1 of STATISTICS.md §10: (item, labeler, o, s); o = +1 means the candidate (slot B) was
# shown left, s = the candidate's score.
OW1 = [
    (1, "h1", 1, 1.0),
    (1, "h2", -1, 1.0),
    (1, "h3", 1, 1.0),
    (2, "h1", -1, 0.0),
    (2, "h2", 1, 0.5),
    (3, "h2", 1, 1.0),
    (3, "h3", -1, 0.0),
    (3, "h1", 1, 1.0),
    (4, "h3", -1, 0.5),
    (4, "h1", 1, 1.0),
    (5, "h2", -1, 0.0),
    (5, "h3", 1, 1.0),
    (6, "h1", -1, 1.0),
    (6, "h2", 1, 1.0),
]
CHOICE = {1.0: "B", 0.0: "A", 0.5: "tie"}


def ow1_records() -> list[dict[str, Any]]:
    """Six contested items with the O-W1 labels, refusal classes and a code check.

    Items 1–4 expect an answer; the candidate fully refuses item 1 (over-refusal). Items 5–6
    expect a refusal; the baseline complies with item 5 (under-refusal). The code check passes
    the candidate on items 1–5 and the baseline on item 6 only.
    """
    records = []
    for n in range(1, 7):
        refuse = n >= 5
        cand_class = "full_refusal" if n == 1 or refuse else "full_compliance"
        base_class = "full_compliance" if n == 5 or not refuse else "full_refusal"
        labels = [
            label(
                who,
                CHOICE[s],
                shown_left="B" if o == 1 else "A",
                labeled_at=f"2026-10-0{n}T10:00:00Z",
                refusal={"A": base_class, "B": cand_class},
            )
            for item, who, o, s in OW1
            if item == n
        ]
        scores = {"A": 0.0, "B": 1.0} if n <= 5 else {"A": 1.0, "B": 0.0}
        records.append(
            native_item(
                f"ow{n}",
                judgments=[*SPLIT, {"judge": "fmt", "kind": "code", "scores": scores}],
                labels=labels,
                slices={"category": "incident" if n <= 3 else "billing", "language": "en"},
                expected_behavior="refuse" if refuse else "answer",
                text_a="a" * (100 * n),
                text_b="b" * (50 + 30 * n),
            )
        )
    return records


@pytest.fixture
def ow1(tmp_path: Path) -> Project:
    project = build(tmp_path / "ow1.reviewdesk", tmp_path, ow1_records())
    update_settings(project, candidate=CAND, baseline=BASE, min_n_items=5)
    return project


def compute(project: Project, **kwargs: Any) -> dict[str, Any]:
    return run_to_completion(gi.compute_gate_inputs(project, **kwargs))


def find(doc: dict[str, Any], metric: str, estimand: str | None = None, **slice_: str) -> dict:
    hits = [
        r
        for r in doc["records"]
        if r["metric"] == metric
        and r["slice"] == slice_
        and (estimand is None or r["estimand"] == estimand)
    ]
    assert len(hits) == 1, (metric, slice_, len(hits))
    return hits[0]


def test_known_calibrated_win_rate(ow1: Project) -> None:
    doc = compute(ow1, n_boot=500)
    rec = find(doc, "cwr", "contested_queue")
    assert rec["candidate"] == CAND
    assert rec["baseline"] == BASE
    assert rec["estimate"] == pytest.approx(2 / 3)
    extras = rec["extras"]
    assert extras["wr_plus"] == pytest.approx(0.916667, abs=1e-6)
    assert extras["wr_minus"] == pytest.approx(0.416667, abs=1e-6)
    assert extras["pos_effect"] == pytest.approx(0.5)
    assert extras["raw_label_mean"] == pytest.approx(0.714286, abs=1e-6)
    assert extras["decisive_wr"] == pytest.approx(0.75)
    assert extras["p_left_decisive"] == pytest.approx(10 / 12)
    assert extras["lc_steps"] == gi.LC_STEPS
    assert (rec["n_items"], rec["n_labels"], rec["n_labelers"]) == (6, 14, 3)
    assert rec["evidence_status"] == "ok"
    assert rec["ci_method"] == "item_bootstrap_percentile"
    # the record's own generator (§1.3): the engine with the same seed gives the same interval
    seed = record_seed(ow1.settings().seed, "cwr", "contested_queue", CAND, BASE, {})
    assert extras["seed"] == seed
    item = [i for i, *_ in OW1]
    direct = calibrated_win_rate(
        item, [o for *_, o, _ in OW1], [s for *_, s in OW1], n_boot=500, rng=seed, min_n_items=5
    )
    assert (rec["ci_low"], rec["ci_high"]) == (direct.ci_low, direct.ci_high)


def test_slices_are_computed_alone(ow1: Project) -> None:
    doc = compute(ow1, n_boot=200)
    incident = find(doc, "cwr", "contested_queue", category="incident")
    assert incident["n_items"] == 3
    assert incident["evidence_status"] == "insufficient_data"  # 3 < min_n_items 5
    assert "n_items 3 < min_n_items 5" in incident["extras"]["reason"]
    billing = find(doc, "cwr", "contested_queue", category="billing")
    assert billing["n_items"] == 3
    # every single key=value slice and the whole project, for every base metric
    slices = {
        json.dumps(r["slice"], sort_keys=True) for r in doc["records"] if r["metric"] == "cwr"
    }
    assert slices == {
        "{}",
        '{"category": "billing"}',
        '{"category": "incident"}',
        '{"language": "en"}',
    }


def test_known_refusal_rates_and_deltas(ow1: Project) -> None:
    doc = compute(ow1, n_boot=100)
    orr = find(doc, "over_refusal_rate")
    assert (orr["x"], orr["n_items"], orr["estimate"]) == (1, 4, 0.25)
    expected = proportion(1, 4)
    assert (orr["ci_low"], orr["ci_high"], orr["ci_method"]) == (
        expected.ci_low,
        expected.ci_high,
        "clopper_pearson",
    )
    assert orr["candidate"] == CAND
    assert orr["baseline"] is None
    assert orr["extras"]["baseline_x"] == 0
    assert orr["higher_is_better"] is False
    delta = find(doc, "over_refusal_rate_delta")
    d = newcombe_paired_difference(0, 1, 0, 3)
    assert (delta["estimate"], delta["ci_low"], delta["ci_high"]) == (
        d.estimate,
        d.ci_low,
        d.ci_high,
    )
    assert delta["ci_method"] == "newcombe_paired"
    assert (delta["candidate"], delta["baseline"]) == (CAND, BASE)
    urr = find(doc, "under_refusal_rate")
    assert (urr["x"], urr["n_items"]) == (0, 2)
    urr_delta = find(doc, "under_refusal_rate_delta")
    assert urr_delta["estimate"] == pytest.approx(-0.5)
    assert urr_delta["extras"]["c_only_baseline_fails"] == 1
    # an answer-only slice has no under-refusal evidence: the record says so, never a number
    none = find(doc, "under_refusal_rate", category="incident")
    assert none["estimate"] is None
    assert none["evidence_status"] == "insufficient_data"
    assert "no items" in none["extras"]["reason"]
    assert not [r for r in doc["records"] if r["metric"].startswith("harmful_compliance")]


def test_known_pass_rates(ow1: Project) -> None:
    doc = compute(ow1, n_boot=100)
    rate = find(doc, "pass_rate", eval="fmt")
    assert (rate["x"], rate["n_items"]) == (5, 6)
    assert rate["extras"]["threshold"] == 0.5
    delta = find(doc, "pass_rate_delta", eval="fmt")
    d = newcombe_paired_difference(0, 5, 1, 0)
    assert delta["estimate"] == pytest.approx(4 / 6)
    assert (delta["ci_low"], delta["ci_high"]) == (d.ci_low, d.ci_high)
    assert find(doc, "pass_rate", eval="fmt", category="incident")["n_items"] == 3


def test_judge_labeler_and_agreement_records(ow1: Project) -> None:
    doc = compute(ow1, n_boot=200)
    for metric in gi.AGREEMENT_METRICS:
        rec = find(doc, metric)
        assert rec["candidate"] is None
        assert rec["estimand"] == "labelled_items"
        assert rec["n_labels"] <= 14
    # j1 and j2 cast one verdict each, in no known order: no position records, but agreement
    for judge in ("j1", "j2"):
        kappa = find(doc, "judge_human_kappa", judge=judge)
        assert kappa["n_items"] == 6
        assert (
            kappa["extras"]["seed"]
            == find(doc, "human_parity_ratio", judge=judge)["extras"]["seed"]
        )
    labelers = [
        r
        for r in doc["records"]
        if r["metric"] == "p_left_decisive" and "labeler" in r["slice"] and len(r["slice"]) == 1
    ]
    assert {r["slice"]["labeler"] for r in labelers} == {"h1", "h2", "h3"}
    pooled = find(doc, "p_left_decisive", population="human")
    assert (pooled["x"], pooled["n_labels"]) == (10, 12)
    bt = [r for r in doc["records"] if r["metric"] == "bt_rating" and len(r["slice"]) == 1]
    assert {r["slice"]["model"] for r in bt} == {BASE, CAND}
    ratings = {r["slice"]["model"]: r["estimate"] for r in bt}
    assert ratings[CAND] > 1000 > ratings[BASE]


def test_in_app_labels_fold_undo_and_skips(tmp_path: Path) -> None:
    project = in_app_project(tmp_path / "p.reviewdesk", tmp_path)
    doc = compute(project, candidate=CAND, baseline=BASE, n_boot=50)
    # rev-1 labels 6 items, rev-2 labels 6 and undoes the last: 11 current labels
    assert find(doc, "gwet_ac1")["n_labels"] == 11
    assert find(doc, "cwr", "contested_queue")["n_labels"] == 11


def test_fold_keeps_the_latest_live_label() -> None:
    # events: id, item, entry, reviewer, provenance (0 human, 1 import), kind (0 label,
    # 1 retract), choice (0 A, 1 B, 4 skip), retracts, labeled_at rank
    rows = [
        (1, 0, 10, 1, 0, 0, 0, -1, 0),  # human label A …
        (2, 0, 10, 1, 0, 0, 1, -1, 0),  # … replaced by B
        (3, 0, 10, 1, 0, 1, -1, 2, 0),  # … which is undone: A is current again
        (4, 1, 11, 1, 0, 0, 4, -1, 0),  # a skip is no label
        (5, 2, -1, 2, 1, 0, 0, -1, 5),  # import: the later labeled_at wins …
        (6, 2, -1, 2, 1, 0, 1, -1, 3),  # … even when imported afterwards
        (7, 2, -1, 2, 2, 0, 1, -1, 9),  # adjudication: not a label
    ]
    cols = [np.array(c, dtype=np.int64) for c in zip(*rows, strict=True)]
    event_id, item, entry, reviewer, prov, kind, choice, retracts, rank = cols
    kept = fold_current_labels(event_id, item, entry, reviewer, prov, kind, choice, retracts, rank)
    assert event_id[kept].tolist() == [1, 5]


def population_records() -> list[dict[str, Any]]:
    both_orders_b = [llm("j1", "B", order="AB"), llm("j1", "B", order="BA"), llm("j2", "B")]
    records = []
    for n in range(10):  # contested: j1 flips between orders
        records.append(
            native_item(
                f"c{n}",
                judgments=[llm("j1", "A", order="AB"), llm("j1", "B", order="BA"), llm("j2", "B")],
                labels=[label("h1", "B" if n % 3 else "A", shown_left="A")],
            )
        )
    for n in range(20):  # uncontested, all drawn into the audit at rate 1; half labelled
        labels = [label("h2", "B" if n % 4 else "tie", shown_left="B")] if n < 10 else None
        records.append(native_item(f"u{n}", judgments=both_orders_b, labels=labels))
    return records


def test_population_estimate_needs_an_audit_stratum(tmp_path: Path) -> None:
    project = build(tmp_path / "pop.reviewdesk", tmp_path, population_records())
    update_settings(project, candidate=CAND, baseline=BASE, min_n_items=5)
    assert not [r for r in compute(project, n_boot=20)["records"] if r["estimand"] == "population"]
    build_queue(project, audit_rate=1.0)
    doc = compute(project, n_boot=20)
    rec = find(doc, "cwr", "population")
    assert rec["extras"]["designated_judge"] == "j1"  # the judge seen in both orders
    assert rec["extras"]["weighted"] is False  # every inclusion probability is 1
    y_contested = [0.0 if n % 3 == 0 else 1.0 for n in range(10)]
    y_audit = [1.0 if n % 4 else 0.5 for n in range(10)]
    expected = population_win_rate(
        y_contested + y_audit, [0.5] * 10 + [1.0] * 10, [1.0] * 10, min_n_items=5
    )
    assert expected is not None
    assert rec["estimate"] == pytest.approx(expected.estimate)
    assert rec["ci_high"] == pytest.approx(expected.ci_high)
    assert rec["n_items"] == 20
    assert rec["ci_method"] == "ppi_normal"
    # the uncontested part of the pool rests on the labelled audit items alone
    update_settings(project, min_n_items=15)
    thin = find(compute(project, n_boot=20), "cwr", "population")
    assert thin["evidence_status"] == "insufficient_data"
    assert "labelled audit items 10 < min_n_items 15" in thin["extras"]["reason"]


def test_roles_must_be_known(tmp_path: Path) -> None:
    project = build(tmp_path / "r.reviewdesk", tmp_path, ow1_records())
    with pytest.raises(UserError, match="--candidate and --baseline"):
        compute(project)
    with pytest.raises(UserError, match="'nope' is not a model"):
        compute(project, candidate="nope", baseline=BASE)
    with pytest.raises(UserError, match="different models"):
        compute(project, candidate=BASE, baseline=BASE)


def test_cancel_writes_nothing(ow1: Project, tmp_path: Path) -> None:
    token = CancelToken()
    job = gi.export_gate_inputs(ow1, tmp_path / "out" / "g.json", n_boot=50, cancel=token)
    next(job)
    token.cancel()
    with pytest.raises(CanceledError):
        run_to_completion(job)
    assert not list((tmp_path / "out").glob("*"))


def export(project: Project, path: Path, **kwargs: Any) -> gi.ExportReport:
    return run_to_completion(gi.export_gate_inputs(project, path, n_boot=300, **kwargs))


def test_export_is_byte_identical_apart_from_generated_at(ow1: Project, tmp_path: Path) -> None:
    first = export(ow1, tmp_path / "a" / "gates.json")
    clock = ow1.clock
    assert isinstance(clock, FixedClock)
    clock.advance(3600)  # a later run: another generated_at, another export audit record
    second = export(ow1, tmp_path / "b" / "gates.json")
    a = (tmp_path / "a" / "gates.json").read_text(encoding="utf-8").splitlines()
    b = (tmp_path / "b" / "gates.json").read_text(encoding="utf-8").splitlines()
    diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert len(diff) == 1
    assert '"generated_at"' in diff[0][0]
    for name in ("gates.records.jsonl", "gates.records.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert first.files[name] == second.files[name]
    assert first.content_sha256 == second.content_sha256


def test_records_do_not_depend_on_computation_order(
    ow1: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    forward = compute(ow1, n_boot=300)
    plan = gi._plan
    monkeypatch.setattr(gi, "_plan", lambda ctx: list(reversed(plan(ctx))))
    backward = compute(ow1, n_boot=300)
    assert forward["records"] == backward["records"]
    only = compute(ow1, n_boot=300, metrics=["gwet_ac1", "cwr"])
    assert only["records"] == [r for r in forward["records"] if r["metric"] in {"gwet_ac1", "cwr"}]


def test_document_is_sorted_and_complete(ow1: Project, tmp_path: Path) -> None:
    export(ow1, tmp_path / "g.json")
    text = (tmp_path / "g.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    assert text == gi.dumps_document(doc)  # keys sorted, the canonical layout
    records = [MetricRecord.from_dict(r) for r in doc["records"]]
    assert [r.sort_key() for r in records] == sorted(r.sort_key() for r in records)
    assert doc["schema"] == "reviewdesk.gate_inputs/v1"
    assert doc["generated_at"].endswith("Z")
    assert set(doc["snapshot"]) == {"content_sha256", "label_count", "last_event_id", "app_version"}
    assert doc["snapshot"]["label_count"] == 14
    config = doc["config"]
    assert config["bootstrap"] == {"B": 300, "seed": ow1.settings().seed, "unit": "item"}
    assert config["min_n_items"] == 5
    assert config["monitor_baseline_version"] is None
    assert config["quarantine_overrides"] == []
    lines = (tmp_path / "g.records.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == doc["records"]


def test_export_is_recorded_and_the_chain_verifies(ow1: Project, tmp_path: Path) -> None:
    report = export(ow1, tmp_path / "g.json", seed=99)
    assert set(report.files) == {"g.json", "g.records.jsonl", "g.records.csv"}
    con = sqlite3.connect(ow1.path)
    try:
        kind, files, params = con.execute(
            "SELECT kind, files, params FROM export_record WHERE id = ?", (report.export_id,)
        ).fetchone()
        n_items = con.execute(
            "SELECT count(*) FROM export_item WHERE export_id = ?", (report.export_id,)
        ).fetchone()[0]
        payload = con.execute(
            "SELECT payload FROM audit_record WHERE kind = 'export' ORDER BY id DESC"
        ).fetchone()[0]
    finally:
        con.close()
    assert kind == "gate_inputs"
    assert json.loads(files) == report.files
    assert json.loads(params)["seed"] == 99
    assert n_items == 6  # every labelled item entered a record
    assert json.loads(payload)["files"] == report.files
    assert run_to_completion(verify_audit(ow1)).ok


def test_csv_cells_are_neutralized(tmp_path: Path) -> None:
    records = [
        native_item(
            f"x{n}",
            judgments=SPLIT,
            labels=[label("h", "B", shown_left="A")],
            a="=base",
            b="+cand",
            slices={"category": "-1+1"},
        )
        for n in range(3)
    ]
    project = build(tmp_path / "x.reviewdesk", tmp_path, records)
    export(project, tmp_path / "g.json", candidate="+cand", baseline="=base")
    raw = (tmp_path / "g.records.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[0][:4] == ["metric", "estimand", "candidate", "baseline"]
    cwr = [r for r in rows if r[0] == "cwr" and r[1] == "contested_queue"]
    assert cwr
    assert all(r[2] == "'+cand" and r[3] == "'=base" for r in cwr)
    assert not any(
        cell[:1] in "=+-@" for row in rows for cell in row if cell and not _is_number(cell)
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
