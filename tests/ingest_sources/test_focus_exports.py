"""FOCUS exports as units: parts in any partition and order, re-issues in any order, other exports untouched."""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.base import SourceError
from ingest.focus_exports import preparer
from ingest.loader import load
from ingest.sources.focus_export import FocusExportSource, discover

FOCUS = Path(__file__).resolve().parents[1] / "fixtures" / "focus"
MONTH = FOCUS / "ai_multi_model_month.csv"
MONTH_TOTAL = Decimal("1209.52")
PREPAY = FOCUS / "ai_prepayment_drawdown.csv"
T0 = 1_750_000_000  # a fixed file time (2025-06-15); issues are ordered by it, never by the wall clock


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        return next(reader), list(reader)


def _write(path: Path, header: list[str], rows: list[list[str]], mtime: int) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_text(buf.getvalue())
    os.utime(path, (mtime, mtime))
    return path


def load_export(engine, *paths, export=None, issued_at=None):
    """What `hybridcost ingest focus PATHS...` does: one load per export unit; the last run's detail."""
    details = []
    for unit in discover(paths):
        src = FocusExportSource(unit)
        result = load(engine, src.collect(), source="focus", target=src.describe(),
                      prepare=preparer(unit, name=export, issued_at=issued_at,
                                       issued_from="option" if issued_at else None))
        details.append(result.detail)
    return details[-1]


def _lines(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*), coalesce(sum(billed_cost), 0) FROM cost_lines WHERE basis = 'focus'")).one()


def _reset(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE cost_lines, focus_exports, ingest_runs CASCADE"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 3), min_size=8, max_size=8), st.randoms(use_true_random=False), st.booleans())
def test_any_partition_in_any_order_equals_one_file(engine, tmp_path_factory, parts_of_rows, rnd, together):
    _reset(engine)
    folder = tmp_path_factory.mktemp("parts")
    header, rows = _read(MONTH)
    parts = {}
    for row, part in zip(rows, parts_of_rows):
        parts.setdefault(part, []).append(row)
    files = [_write(folder / f"part-{k}.csv", header, part_rows, T0 + k) for k, part_rows in sorted(parts.items())]
    rnd.shuffle(files)
    if together:
        load_export(engine, *files)
    else:
        for f in files:
            load_export(engine, f)
    assert _lines(engine) == (8, MONTH_TOTAL)


def test_an_unrelated_export_of_the_same_month_is_left_alone(engine, tmp_path):
    load_export(engine, PREPAY)
    detail = load_export(engine, MONTH)
    assert detail["left_alone"] == {"rows": 3, "money": "365000.00", "exports": 1}
    assert detail["added"] == {"rows": 8, "money": "1209.52"} and detail["changed_rows"] == 8
    assert _lines(engine) == (11, MONTH_TOTAL + Decimal("365000.00"))
    detail = load_export(engine, PREPAY)  # loading it again changes nothing, and leaves the month alone
    assert detail["changed_rows"] == 0 and detail["unchanged"] == {"rows": 3, "money": "365000.00"}
    assert _lines(engine) == (11, MONTH_TOTAL + Decimal("365000.00"))


def _issues(tmp_path):
    """Three issues of one month: v2 changes a price and drops a row, v3 adds a late row."""
    header, rows = _read(MONTH)
    bill = header.index("BilledCost")
    v1 = [list(r) for r in rows]
    v2 = [list(r) for r in rows[:-1]]
    v2[0][bill] = "412.00"
    late = list(rows[-1])
    late[header.index("ChargeDescription")] = "Late input tokens for Corvid Lyra 1"
    late[bill] = "0.35"
    v3 = [list(r) for r in v2] + [late]
    totals = [sum(Decimal(r[bill]) for r in v) for v in (v1, v2, v3)]
    files = [_write(tmp_path / f"issue-{i}.csv", header, v, T0 + 3600 * i) for i, v in enumerate((v1, v2, v3))]
    return files, totals, [len(v) for v in (v1, v2, v3)]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations([0, 1, 2]), st.booleans())
def test_reissues_in_any_order_leave_the_newest(engine, tmp_path_factory, order, with_other):
    _reset(engine)
    files, totals, counts = _issues(tmp_path_factory.mktemp("issues"))
    if with_other:
        load_export(engine, PREPAY)
    for i in order:
        load_export(engine, files[i])
    other = (3, Decimal("365000.00")) if with_other else (0, Decimal(0))
    assert _lines(engine) == (counts[2] + other[0], totals[2] + other[1])


def test_older_issue_after_newer_is_superseded_and_says_so(engine, tmp_path):
    files, totals, counts = _issues(tmp_path)
    load_export(engine, files[2])
    detail = load_export(engine, files[0])
    assert detail["superseded"]["rows"] == counts[0] and detail["changed_rows"] == 0
    assert Decimal(detail["superseded"]["money"]) == totals[0]
    assert _lines(engine) == (counts[2], totals[2])


def test_newer_issue_reports_added_replaced_removed(engine, tmp_path):
    files, _, _ = _issues(tmp_path)
    load_export(engine, files[0])
    detail = load_export(engine, files[1])
    assert detail["replaced"] == {"rows": 1, "before": "400.00", "after": "412.00"}
    assert detail["removed"] == {"rows": 1, "money": "0.10"} and detail["added"]["rows"] == 0
    assert detail["unchanged"]["rows"] == 6 and detail["changed_rows"] == 2
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT detail FROM ingest_runs ORDER BY id DESC LIMIT 1")).scalar_one()
    assert stored["replaced"]["after"] == "412.00" and stored["changed_rows"] == 2


def test_byte_identical_reimport_is_the_same_export(engine):
    first = load_export(engine, MONTH)
    again = load_export(engine, MONTH)
    assert again["export_id"] == first["export_id"] and not again["new_export"]
    assert again["changed_rows"] == 0 and again["unchanged"] == {"rows": 8, "money": "1209.52"}


def test_named_export_series_replaces_even_without_shared_lines(engine, tmp_path):
    header, rows = _read(MONTH)
    old = _write(tmp_path / "a.csv", header, rows[:4], T0)
    new = _write(tmp_path / "b.csv", header, rows[4:], T0 + 60)
    load_export(engine, old, export="corvid-monthly")
    detail = load_export(engine, new, export="corvid-monthly")
    assert detail["removed"]["rows"] == 4 and detail["replaced_exports"]
    assert _lines(engine)[0] == 4


def test_issued_at_option_orders_issues(engine, tmp_path):
    from datetime import UTC, datetime

    files, totals, counts = _issues(tmp_path)
    load_export(engine, files[0], issued_at=datetime(2025, 7, 1, tzinfo=UTC))
    detail = load_export(engine, files[2], issued_at=datetime(2025, 6, 1, tzinfo=UTC))
    assert detail["superseded"]["rows"] == counts[2]
    assert _lines(engine) == (counts[0], totals[0])


def _azure_manifest(folder: Path, parts: list[Path], submitted: str, name="corvid-focus") -> Path:
    doc = {"manifestVersion": "2024-04-01", "dataRowCount": 8, "blobCount": len(parts),
           "exportConfig": {"exportName": name, "type": "FocusCost", "dataVersion": "1.0r2", "timeFrame": "MonthToDate"},
           "runInfo": {"executionType": "Scheduled", "submittedTime": submitted, "runId": "r-1"},
           "blobs": [{"blobName": f"exports/{name}/20250501-20250531/{p.name}", "byteCount": p.stat().st_size}
                     for p in parts]}
    path = folder / "manifest.json"
    path.write_text(json.dumps(doc))
    return path


def test_azure_manifest_is_one_export_ordered_by_its_submitted_time(engine, tmp_path):
    header, rows = _read(MONTH)
    newer, older = tmp_path / "run2", tmp_path / "run1"
    newer.mkdir(), older.mkdir()
    # The newer run's files are written first: file times must not decide, the manifests do.
    parts_new = [_write(newer / "part_0_0001.csv", header, rows[:5], T0), _write(newer / "part_0_0002.csv", header,
                                                                               rows[5:], T0)]
    _azure_manifest(newer, parts_new, "2025-06-03T05:00:00Z")
    changed = [list(r) for r in rows]
    changed[0][0] = "1.00"
    parts_old = [_write(older / "part_0_0001.csv", header, changed, T0 + 999)]
    manifest_old = _azure_manifest(older, parts_old, "2025-06-02T05:00:00Z")
    detail = load_export(engine, newer)
    assert detail["issued_from"] == "manifest" and detail["export_name"] == "corvid-focus"
    assert len(detail["files"]) == 2 and detail["added"]["rows"] == 8
    detail = load_export(engine, manifest_old)
    assert detail["superseded"]["rows"] == 8
    assert _lines(engine) == (8, MONTH_TOTAL)


def test_aws_manifest_resolves_its_data_files(engine, tmp_path):
    header, rows = _read(MONTH)
    data = tmp_path / "corvid" / "data" / "BILLING_PERIOD=2025-05"
    meta = tmp_path / "corvid" / "metadata" / "BILLING_PERIOD=2025-05"
    data.mkdir(parents=True), meta.mkdir(parents=True)
    _write(data / "corvid-00001.csv", header, rows[:3], T0)
    _write(data / "corvid-00002.csv", header, rows[3:], T0)
    manifest = meta / "corvid-Manifest.json"
    manifest.write_text(json.dumps({
        "executionId": "exec-1", "exportArn": "arn:aws:bcm-data-exports:us-east-1:111122223333:export/corvid",
        "dataFiles": [f"s3://bucket/prefix/corvid/data/BILLING_PERIOD=2025-05/corvid-0000{i}.csv" for i in (1, 2)]}))
    detail = load_export(engine, manifest)
    assert detail["export_name"].endswith("export/corvid") and len(detail["files"]) == 2
    assert _lines(engine) == (8, MONTH_TOTAL)


def test_focus_13_metadata_gives_name_and_issue_time(engine, tmp_path):
    header, rows = _read(MONTH)
    _write(tmp_path / "cost_and_usage.csv", header, rows, T0)
    (tmp_path / "recency.json").write_text(json.dumps({
        "DatasetInstanceId": "1234-abcde", "RecencyLastUpdateDate": "2025-06-02T12:01:03.083z",
        "TimeSectors": [{"TimeSectorStart": "2025-05-01T0:00:00z", "TimeSectorEnd": "2025-06-01T0:00:00z",
                         "TimeSectorComplete": True, "TimeSectorLastUpdated": "2025-06-02T04:00:00z"}]}))
    detail = load_export(engine, tmp_path)
    assert detail["export_name"] == "1234-abcde" and detail["issued_from"] == "metadata"
    assert detail["issued_at"].startswith("2025-06-02T04:00:00")
    assert _lines(engine) == (8, MONTH_TOTAL)


def test_every_missing_required_column_is_named_at_once(tmp_path):
    header, rows = _read(MONTH)
    drop = {"BilledCost", "ChargePeriodStart", "ServiceProviderName"}
    keep = [i for i, h in enumerate(header) if h not in drop]
    path = _write(tmp_path / "bad.csv", [header[i] for i in keep], [[r[i] for i in keep] for r in rows], T0)
    with pytest.raises(SourceError) as err:
        list(FocusExportSource(discover([path])[0]).collect())
    message = str(err.value)
    assert "missing required FOCUS columns" in message
    assert all(f"'{c}'" in message for c in ("BilledCost", "ChargePeriodStart", "ProviderName"))
    assert err.value.line == 1


def test_a_bad_part_writes_nothing(engine, tmp_path):
    header, rows = _read(MONTH)
    good = _write(tmp_path / "a.csv", header, rows[:4], T0)
    broken = [list(r) for r in rows[4:]]
    broken[1][0] = "12,34"
    bad = _write(tmp_path / "b.csv", header, broken, T0)
    with pytest.raises(Exception, match="b.csv, line 3, field 'BilledCost'"):
        load_export(engine, good, bad)
    assert _lines(engine) == (0, 0)


def test_cli_prints_what_each_load_did(cli_env, tmp_path):
    from typer.testing import CliRunner

    from app.cli import context
    from app.cli.main import app

    runner = CliRunner()
    files, _, _ = _issues(tmp_path)
    prepay = _write(tmp_path / "prepay.csv", *_read(PREPAY), T0)
    context.reset()
    assert runner.invoke(app, ["ingest", "focus", str(prepay)]).exit_code == 0
    context.reset()
    first = runner.invoke(app, ["ingest", "focus", str(files[0])])
    assert first.exit_code == 0, first.output
    assert "added 8 rows (1,209.52)" in first.output and "\n  8 changed" in first.output
    context.reset()
    again = runner.invoke(app, ["ingest", "focus", str(files[0])])
    assert again.exit_code == 0 and "\n  0 changed" in again.output and "unchanged 8 rows (1,209.52)" in again.output
    context.reset()
    newer = runner.invoke(app, ["ingest", "focus", str(files[1])])
    assert "replaced 1 rows (400.00 -> 412.00); removed 1 rows (0.10)" in newer.output
    assert "left alone: 3 rows (365,000.00) of 1 other export(s)" in newer.output
    context.reset()
    bad = runner.invoke(app, ["ingest", "focus", str(tmp_path / "nope.csv")])
    assert bad.exit_code == 2 and "no such file or folder" in bad.output
