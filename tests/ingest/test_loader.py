"""The loader: all or nothing, idempotent re-runs, partitions on demand, rollups on load."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ingest import records as r
from ingest.base import SourceError
from ingest.loader import LoadError, load
from models.infra import migrate

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)


def _usage(hours: int) -> list[r.UsageHourly]:
    return [r.UsageHourly(provider="openai", account_id="org-1", bucket_start_at=T0 + timedelta(hours=h),
                          bucket_end_at=T0 + timedelta(hours=h + 1), model="gpt-4.1", input_tokens=1000 * (h + 1),
                          output_tokens=10) for h in range(hours)]


def _sum(engine, sql):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def test_rerun_changes_no_totals(engine):
    first = load(engine, _usage(24), source="test", target="t")
    second = load(engine, _usage(24), source="test", target="t")
    assert first.rows_written == 24 and second.rows_written == 0
    assert _sum(engine, "SELECT sum(input_tokens) FROM usage_hourly") == sum(1000 * (h + 1) for h in range(24))
    statuses = _sum(engine, "SELECT string_agg(status, ',' ORDER BY id) FROM ingest_runs")
    assert statuses == "succeeded,succeeded"


def test_failed_load_writes_nothing_and_records_failure(engine):
    def broken():
        yield from _usage(5)
        raise SourceError("usage.json", "not a number", line=7, field="input_tokens")

    with pytest.raises(LoadError, match=r"usage.json, line 7, field 'input_tokens'"):
        load(engine, broken(), source="test", target="usage.json", batch_size=2)
    assert _sum(engine, "SELECT count(*) FROM usage_hourly") == 0
    assert _sum(engine, "SELECT status || ':' || error FROM ingest_runs").startswith("failed:usage.json")


def test_duplicates_in_one_file_count_once(engine):
    rows = _usage(3) + _usage(3)
    res = load(engine, rows, source="test", target="t")
    assert res.rows_read == 6 and res.rows_skipped == 3
    assert _sum(engine, "SELECT count(*) FROM usage_hourly") == 3


def test_cost_lines_keep_exact_decimals(engine):
    line = r.CostLine(basis="cost_api", provider="openai", account_id="org-1", source_line_key="k1",
                      charge_period_start_at=T0, charge_period_end_at=T0 + timedelta(days=1),
                      billed_cost=Decimal("10.1425634"))
    load(engine, [line, dataclasses_replace(line, source_line_key="k2", billed_cost=Decimal("0.0000001"))],
         source="test", target="t")
    assert _sum(engine, "SELECT sum(billed_cost) FROM cost_lines") == Decimal("10.1425635")


def dataclasses_replace(obj, **kw):
    import dataclasses

    return dataclasses.replace(obj, **kw)


def test_gpu_samples_make_partitions_and_rollups(engine, db_url):
    samples = [r.GpuSample(sampled_at=T0 + timedelta(minutes=m), host="h1", gpu_uuid="GPU-1", source="test",
                           utilization_pct=float(m % 2) * 100, power_watts=300.0) for m in range(0, 180)]
    load(engine, samples, source="test", target="t")
    assert _sum(engine, "SELECT count(*) FROM gpu_samples_p20261001") == 180
    assert _sum(engine, "SELECT count(*) FROM gpu_samples_default") == 0
    assert _sum(engine, "SELECT count(*) FROM gpu_hourly") == 3
    assert _sum(engine, "SELECT round(avg(busy_fraction)::numeric, 2) FROM gpu_hourly") == Decimal("0.50")
    migrate.check(db_url)  # partitions made on demand are not drift


def test_inference_rollup_rates_and_reset(engine):
    vals = [0, 600, 1200, 100, 700]  # a reset between the 3rd and 4th scrape
    samples = [r.InferenceSample(sampled_at=T0 + timedelta(minutes=i), endpoint="vllm-a", model_name="m",
                                 generation_tokens_total=float(v), prompt_tokens_total=0.0,
                                 requests_waiting=1.0 if i >= 3 else 0.0) for i, v in enumerate(vals)]
    load(engine, samples, source="test", target="t")
    with engine.connect() as conn:
        gen, sat, rate = conn.execute(sa.text(
            "SELECT generation_tokens, saturated_seconds, generation_tokens_per_s_saturated FROM inference_hourly")).one()
    assert gen == 600 + 600 + 100 + 600
    assert sat == 120 and rate == pytest.approx(700 / 120)
