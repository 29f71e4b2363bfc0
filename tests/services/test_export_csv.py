"""CSV export: formula injection neutralized, numbers kept, BOM + UTF-8 read back by csv."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.audit import verify_audit
from reviewdesk.services.csv_export import FORMULA_STARTS, export_csv, neutralize, write_rows
from reviewdesk.services.export_files import HashingWriter
from tests.conftest import native_item
from tests.services.export_support import SPLIT, build, in_app_project, label


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def one_cell(value: object) -> str:
    """Write one cell the way the exporter does and read it back with csv.reader."""
    buffer = io.BytesIO()
    sink = HashingWriter("x", buffer)
    write_rows(sink, ["h"], [[value]])
    rows = list(csv.reader(io.StringIO(buffer.getvalue().decode("utf-8"), newline="")))
    assert rows[0] == ["h"]
    assert len(rows) == 2
    return rows[1][0]


@given(st.text())
def test_any_string_round_trips_to_itself_or_quoted(text: str) -> None:
    cell = one_cell(text)
    assert cell in (text, "'" + text)
    assert not cell or cell[0] not in FORMULA_STARTS


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_stay_numbers(number: float) -> None:
    assert one_cell(number) == repr(number)  # negative numbers too: not neutralized


def test_neutralize_cases() -> None:
    assert neutralize("=1+1") == "'=1+1"
    assert neutralize("-1+1") == "'-1+1"
    assert neutralize("+49 30 1234") == "'+49 30 1234"
    assert neutralize("@SUM(A1)") == "'@SUM(A1)"
    assert neutralize("\t=cmd") == "'\t=cmd"
    assert neutralize("\r=cmd") == "'\r=cmd"
    assert neutralize("\uff1dcmd") == "'\uff1dcmd"  # full-width equals sign
    assert neutralize(-1.5) == -1.5
    assert neutralize(-3) == -3
    assert neutralize(True) == "true"
    assert neutralize(None) == ""
    assert neutralize("plain = text") == "plain = text"


def test_labels_and_items_csv(tmp_path: Path) -> None:
    records = [
        native_item(
            '=HYPERLINK("http://x")',
            judgments=SPLIT,
            labels=[label("-evil", "A", note="=cmd|' /C calc'!A0", dwell_ms=1200)],
            slices={"category": "@billing", "language": "de"},
        ),
        native_item("plain", judgments=SPLIT, slices={"region": "eu"}),
    ]
    out = tmp_path / "csv"
    with build(tmp_path / "p.reviewdesk", tmp_path, records) as project:
        result = run_to_completion(export_csv(project, out))
        assert run_to_completion(verify_audit(project)).ok
    raw = (out / "labels.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    for name in ("labels.csv", "items.csv"):
        assert result.files[name] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    labels = read_csv(out / "labels.csv")
    assert len(labels) == 1
    row = labels[0]
    assert row["item"] == '\'=HYPERLINK("http://x")'
    assert row["reviewer"] == "'-evil"
    assert row["note"] == "'=cmd|' /C calc'!A0"
    assert row["dwell_ms"] == "1200"
    assert row["provenance"] == "import"
    assert row["retracted"] == "false"
    items = read_csv(out / "items.csv")
    assert [r["item"] for r in items] == ['\'=HYPERLINK("http://x")', "plain"]
    assert items[0]["slice:category"] == "'@billing"
    assert items[0]["slice:region"] == ""
    assert items[1]["slice:region"] == "eu"
    assert items[0]["disagreement_reasons"] == "judge_split"
    assert items[0]["model_a"] == "base-2026-10"
    assert result.rows == {"labels.csv": 1, "items.csv": 2}


def test_labels_csv_has_every_event_with_retractions(tmp_path: Path) -> None:
    out = tmp_path / "csv"
    with in_app_project(tmp_path / "p.reviewdesk", tmp_path) as project:
        run_to_completion(export_csv(project, out))
    rows = read_csv(out / "labels.csv")
    assert len(rows) == 13  # 12 labels and one retraction
    retract = [r for r in rows if r["kind"] == "retract"]
    assert len(retract) == 1
    target = next(r for r in rows if r["event_id"] == retract[0]["retracts_id"])
    assert target["retracted"] == "true"
    assert {r["queue_reason"] for r in rows} == {"contested"}
    assert all(r["inclusion_prob"] == "1.0" for r in rows)
    assert all(r["left_slot"] in ("A", "B") for r in rows if r["kind"] == "label")
    manifest_like = json.dumps(rows[0])  # plain strings only
    assert "note by rev-1" in manifest_like or "note by rev-2" in manifest_like
