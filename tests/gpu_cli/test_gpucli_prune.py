"""`hybridcost db prune`: raw sample partitions past HYBRIDCOST_RAW_RETENTION_DAYS go; rollups stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from ingest.loader import load
from ingest.records import GpuSample


def _samples(day: datetime) -> list[GpuSample]:
    return [GpuSample(sampled_at=day + timedelta(minutes=m), host="h", gpu_uuid="GPU-1", source="nvml",
                      utilization_pct=50.0) for m in range(0, 60, 10)]


def test_prune_drops_old_raw_partitions_keeps_rollups(cli_env, engine, monkeypatch, pin_clock):
    today = pin_clock(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)).replace(minute=0)
    old, edge, recent = today - timedelta(days=10), today - timedelta(days=7), today - timedelta(days=1)
    for day in (old, edge, recent):
        load(engine, _samples(day), source="nvml", target="test")
    monkeypatch.setenv("HYBRIDCOST_RAW_RETENTION_DAYS", "7")
    context.reset()
    result = CliRunner().invoke(app, ["db", "prune"])
    context.reset()
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"gpu_samples_p{old:%Y%m%d}" in result.output and "dropped 1 raw partitions" in result.output
    with engine.connect() as conn:
        days = conn.execute(sa.text("SELECT DISTINCT date_trunc('day', sampled_at AT TIME ZONE 'UTC') "
                                    "FROM gpu_samples ORDER BY 1")).scalars().all()
        hourly = conn.execute(sa.text("SELECT count(*), sum(samples) FROM gpu_hourly")).one()
    assert [d.date() for d in days] == [edge.date(), recent.date()]  # the 7th day back is still kept
    assert tuple(hourly) == (3, 18)  # every hourly rollup survives
    context.reset()
    again = CliRunner().invoke(app, ["db", "prune", "--days", "1"])
    context.reset()
    assert again.exit_code == 0 and "dropped 1 raw partitions" in again.output
