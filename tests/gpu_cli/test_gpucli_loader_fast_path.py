"""The loader's fast path for fresh GPU samples counts, dedupes and falls back exactly like the merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ingest.loader import load
from ingest.records import GpuSample

T0 = datetime(2026, 4, 1, 10, tzinfo=UTC)


def _s(uuid: str, minute: int, util: float) -> GpuSample:
    return GpuSample(sampled_at=T0 + timedelta(minutes=minute), host="h", gpu_uuid=uuid, source="nvml",
                     utilization_pct=util)


def test_fresh_load_with_duplicates_inside_keeps_last_and_counts_skips(engine):
    result = load(engine, [_s("A", 0, 1.0), _s("A", 0, 2.0), _s("A", 1, 3.0)], source="t", target="t")
    assert (result.rows_read, result.rows_written, result.rows_skipped) == (3, 2, 1)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT utilization_pct FROM gpu_samples ORDER BY sampled_at")).scalars().all() \
            == [2.0, 3.0]


def test_overlapping_load_falls_back_to_merge(engine):
    load(engine, [_s("A", 0, 1.0), _s("A", 1, 1.0)], source="t", target="t")
    result = load(engine, [_s("A", 1, 5.0), _s("A", 2, 1.0), _s("B", 1, 1.0)], source="t", target="t")
    assert (result.rows_read, result.rows_written, result.rows_skipped) == (3, 3, 0)  # 1 updated, 2 new
    again = load(engine, [_s("A", 1, 5.0)], source="t", target="t")
    assert (again.rows_written, again.rows_skipped) == (0, 0)  # unchanged: nothing written
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT gpu_uuid, utilization_pct FROM gpu_samples ORDER BY 1, sampled_at")).all()
        hourly = conn.execute(sa.text("SELECT gpu_uuid, samples, utilization_mean_pct FROM gpu_hourly ORDER BY 1")).all()
    assert [tuple(r) for r in rows] == [("A", 1.0), ("A", 5.0), ("A", 1.0), ("B", 1.0)]
    assert [tuple(r) for r in hourly] == [("A", 3, 7.0 / 3), ("B", 1, 1.0)]


def test_rollup_refresh_touches_only_the_loaded_gpus(engine):
    from ingest.records import GpuHourlyAggregate

    load(engine, [GpuHourlyAggregate(hour_at=T0, gpu_uuid="FLEET-1", host="other", samples=360,
                                     utilization_mean_pct=70.0, busy_fraction=1.0)], source="prometheus", target="t")
    load(engine, [_s("A", 0, 10.0)], source="nvml", target="h")  # same hour, another GPU
    load(engine, [_s("A", 1, 30.0)], source="nvml", target="h")
    with engine.connect() as conn:
        hourly = conn.execute(sa.text("SELECT gpu_uuid, samples, utilization_mean_pct FROM gpu_hourly ORDER BY 1")).all()
    assert [tuple(r) for r in hourly] == [("A", 2, 20.0), ("FLEET-1", 360, 70.0)]
