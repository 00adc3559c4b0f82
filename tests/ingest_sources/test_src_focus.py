"""FOCUS CSV and Parquet: the FinOps sample, sums checked independently, and bad input."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.base import SourceError
from ingest.sources.focus import FocusSource, classify

UTC = timezone.utc


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _write(tmp_path, header, rows, name="f.csv"):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / name
    path.write_text(buf.getvalue())
    return path


@pytest.mark.parametrize("name", ["focus_sample_subset.csv", "focus_sample_ai_ml_rows.csv"])
def test_sums_match_independent_decimal_sum(samples, name):
    path = samples / "focus" / name
    raw = _rows(path)
    lines = list(FocusSource(path).collect())
    assert len(lines) == len(raw)
    assert sum((x.billed_cost for x in lines), Decimal(0)) == sum((Decimal(r["BilledCost"]) for r in raw), Decimal(0))
    assert sum((x.effective_cost for x in lines), Decimal(0)) == sum(
        (Decimal(r["EffectiveCost"]) for r in raw), Decimal(0))
    assert len({x.source_line_key for x in lines}) == len(lines)


def test_sample_rows_mapped(samples):
    src = FocusSource(samples / "focus/focus_sample_ai_ml_rows.csv")
    lines = list(src.collect())
    first = lines[0]
    assert first.basis == "focus" and first.provider == "Microsoft"
    assert first.account_id == "/providers/Microsoft.Billing/billingAccounts/8611537"
    assert first.billed_cost == Decimal("-0.01288992000") and first.charge_category == "usage"
    assert first.charge_period_start_at == datetime(2024, 9, 19, tzinfo=UTC)
    assert first.billing_period_start_at == datetime(2024, 9, 1, tzinfo=UTC)
    assert first.tags == {"ComputeType": "Compute Instance", "CostAllocationTest": "Sameer"}
    assert first.consumed_quantity == Decimal("-0.001389000000000") and first.consumed_unit == "Units/Month"
    assert first.source_line_key == "id:5234737" and first.sub_account_id.startswith("/subscriptions/")
    assert {x.ai_class for x in lines} == {"other_ai"}
    assert src.replacement_scopes() == {("Microsoft", first.account_id, datetime(2024, 9, 1, tzinfo=UTC))}


def test_subset_classes_and_categories(samples):
    src = FocusSource(samples / "focus/focus_sample_subset.csv")
    lines = list(src.collect())
    assert Counter(x.ai_class for x in lines) == Counter(other_ai=9, other=149)
    assert Counter(x.charge_category for x in lines) == Counter(usage=156, adjustment=2)
    assert {p for p, _, _ in src.replacement_scopes()} == {"AWS", "Microsoft", "Oracle"}
    assert any(x.billed_cost < 0 for x in lines)


@pytest.mark.parametrize("row, expected", [
    ({"ServiceSubcategory": "Generative AI", "ServiceCategory": "AI and Machine Learning"}, "token"),
    ({"ConsumedUnit": "1K Tokens", "ServiceCategory": "AI and Machine Learning"}, "token"),
    ({"PricingUnit": "Million Tokens"}, "token"),
    ({"SkuId": "p5.48xlarge", "ServiceCategory": "Compute"}, "gpu"),
    ({"ChargeDescription": "Virtual Machines NDv5 Series - ND96isr H100 v5 - East US", "ServiceCategory": "Compute"},
     "gpu"),
    ({"ChargeDescription": "A3 High GPU instance running in Americas", "SkuId": "a3-highgpu-8g"}, "gpu"),
    ({"ChargeDescription": "Savings plan commitment for GPU instances", "ChargeCategory": "Purchase"}, "gpu"),
    ({"ServiceCategory": "AI and Machine Learning", "ChargeDescription": "Virtual Machines Dv2 Series"}, "other_ai"),
    ({"ServiceCategory": "Compute", "SkuId": "m5.large"}, "other"),
])
def test_classify(row, expected):
    assert classify(row) == expected


def _ai_header_and_rows(samples):
    with open(samples / "focus/focus_sample_ai_ml_rows.csv", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, list(reader)


@pytest.mark.parametrize("column", ["BilledCost", "BillingCurrency", "ChargePeriodStart", "ServiceCategory"])
def test_missing_column_named(tmp_path, samples, column):
    header, rows = _ai_header_and_rows(samples)
    idx = header.index(column)
    path = _write(tmp_path, header[:idx] + header[idx + 1:], [r[:idx] + r[idx + 1:] for r in rows])
    with pytest.raises(SourceError, match=f"missing required FOCUS column '{column}'") as err:
        list(FocusSource(path).collect())
    assert err.value.line == 1 and err.value.field == column and str(path) in str(err.value)


def test_renamed_column_hinted(tmp_path, samples):
    header, rows = _ai_header_and_rows(samples)
    header = ["billed_cost" if h == "BilledCost" else h for h in header]
    path = _write(tmp_path, header, rows)
    with pytest.raises(SourceError, match="'billed_cost', which looks like a renamed BilledCost"):
        list(FocusSource(path).collect())


@pytest.mark.parametrize("column, value, problem", [
    ("BilledCost", "12,34", "not a number"),
    ("EffectiveCost", "abc", "not a number"),
    ("BilledCost", "NULL", "required cost is NULL"),
    ("BillingCurrency", "XXY", "unknown currency"),
    ("ChargePeriodStart", "18/09/2024", "not an ISO 8601"),
    ("Tags", "{not json", "Tags is not valid JSON"),
    ("ChargeCategory", "Spend", "unknown ChargeCategory"),
])
def test_bad_cell_names_line_and_field(tmp_path, samples, column, value, problem):
    header, rows = _ai_header_and_rows(samples)
    rows[3][header.index(column)] = value
    path = _write(tmp_path, header, rows)
    with pytest.raises(SourceError, match=problem) as err:
        list(FocusSource(path).collect())
    assert err.value.line == 5 and err.value.field == column  # header is line 1, rows[3] is line 5


def test_iso_datetimes_with_zone_and_refund_and_duplicates(tmp_path, samples):
    header, rows = _ai_header_and_rows(samples)
    row = list(rows[0])
    row[header.index("ChargePeriodStart")] = "2024-09-19T02:00:00+02:00"
    row[header.index("ChargePeriodEnd")] = "2024-09-20T00:00:00Z"
    row[header.index("ChargeDescription")] = "Refund for outage credit"
    row[header.index("Id")] = "NULL"
    path = _write(tmp_path, header, [row, row])
    lines = list(FocusSource(path).collect())
    assert lines[0].charge_period_start_at == datetime(2024, 9, 19, 0, tzinfo=UTC)
    assert lines[0].charge_period_end_at == datetime(2024, 9, 20, tzinfo=UTC)
    assert lines[0].charge_category == "refund"
    assert lines[1].source_line_key == lines[0].source_line_key + "#2"
    assert lines[0].source_line_key == list(FocusSource(path).collect())[0].source_line_key


def test_short_row(tmp_path, samples):
    header, rows = _ai_header_and_rows(samples)
    rows[1] = rows[1][:-3]
    with pytest.raises(SourceError, match="cells") as err:
        list(FocusSource(_write(tmp_path, header, rows)).collect())
    assert err.value.line == 3


def test_parquet_matches_csv(tmp_path, samples):
    path = samples / "focus/focus_sample_subset.csv"
    raw = _rows(path)
    columns = {k: [None if r[k] == "NULL" else r[k] for r in raw] for k in raw[0]}
    columns["BilledCost"] = pa.array([Decimal(x) for x in columns["BilledCost"]], pa.decimal128(38, 12))
    columns["ChargePeriodStart"] = pa.array(
        [datetime.fromisoformat(x).replace(tzinfo=UTC) for x in columns["ChargePeriodStart"]], pa.timestamp("us", "UTC"))
    out = tmp_path / "focus.parquet"
    pq.write_table(pa.table(columns), out, row_group_size=50)
    pq_lines = list(FocusSource(out, batch_rows=40).collect())
    csv_lines = list(FocusSource(path).collect())
    assert pq_lines == csv_lines
