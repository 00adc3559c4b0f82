"""The GPU hourly rollup is recomputed for exactly the hours a load touched, per day partition, serial or parallel."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ingest.loader import load
from ingest.records import GpuSample
from models import rollups

T0 = datetime(2026, 4, 6, 16, tzinfo=UTC)  # spans midnight: two day partitions, 8 hours in the first


def _samples(gpus: int, hours: int, step_s: int = 600, offset_util: int = 0) -> list[GpuSample]:
    out = []
    for t in range(hours * 3600 // step_s):
        at = T0 + timedelta(seconds=t * step_s)
        for g in range(gpus):
            util = None if (t + g) % 11 == 0 else float((t * 7 + g * 13 + offset_util) % 101)
            out.append(GpuSample(sampled_at=at, gpu_uuid=f"GPU-{g:03d}", source="test", host=f"h{g // 8}",
                                 utilization_pct=util, power_watts=100.0 + (util or 0), memory_used_bytes=g * 10))
    return out


def _expected(engine) -> dict:
    groups = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(sa.text("SELECT * FROM gpu_samples")).mappings():
            hour = row["sampled_at"].astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            groups[(hour, row["gpu_uuid"])].append(row)
    out = {}
    for key, rows in groups.items():
        utils = [r["utilization_pct"] for r in rows if r["utilization_pct"] is not None]
        out[key] = (len(rows), sum(utils) / len(utils) if utils else None, max(utils) if utils else None,
                    sum(u > rollups.BUSY_THRESHOLD_PCT for u in utils) / len(utils) if utils else None,
                    sum(r["power_watts"] for r in rows) / len(rows), max(r["memory_used_bytes"] for r in rows))
    return out


def _stored(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT hour_at, gpu_uuid, samples, utilization_mean_pct, utilization_max_pct, busy_fraction, "
            "power_mean_watts, memory_used_max_bytes FROM gpu_hourly")).all()
    return {(r[0].astimezone(UTC), r[1]): tuple(r[2:]) for r in rows}


def _close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-12, abs=1e-12), k


def test_big_refresh_in_parallel_equals_the_raw_aggregation(engine):
    """70 GPUs x 10 hours: the parallel path (8 hours of day one); then a re-load of two hours with other values (serial path)."""
    load(engine, _samples(70, 10), source="test", target="fleet")
    _close(_stored(engine), _expected(engine))
    again = [s for s in _samples(70, 10, offset_util=5) if T0 + timedelta(hours=3) <= s.sampled_at < T0 + timedelta(hours=5)]
    load(engine, again, source="test", target="re-load two hours")
    _close(_stored(engine), _expected(engine))


def test_refresh_touches_only_the_hours_asked(engine):
    load(engine, _samples(3, 5), source="test", target="fleet")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE gpu_hourly SET samples = -1")
        rollups.refresh_gpu_hours(conn, [T0 + timedelta(hours=1), T0 + timedelta(hours=4)], ["GPU-001"])
        left = dict(conn.execute(sa.text("SELECT hour_at, samples FROM gpu_hourly WHERE gpu_uuid = 'GPU-001'")).all())
        others = conn.execute(sa.text("SELECT count(*) FROM gpu_hourly WHERE gpu_uuid <> 'GPU-001' AND samples <> -1"
                                      )).scalar()
    assert others == 0
    assert sorted(h.astimezone(UTC) for h, n in left.items() if n != -1) == [T0 + timedelta(hours=1),
                                                                              T0 + timedelta(hours=4)]


def test_rebuild_recomputes_from_raw(engine):
    load(engine, _samples(4, 3), source="test", target="fleet")
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM gpu_hourly")
        assert rollups.rebuild_gpu_hourly(conn) == 4 * 3
    _close(_stored(engine), _expected(engine))


def test_rollup_hours_are_utc_hours_for_any_time_given_in_any_offset(engine):
    from datetime import timezone

    india = timezone(timedelta(hours=5, minutes=30))
    times = [datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC),
             datetime(2028, 2, 29, 23, 30, tzinfo=UTC), datetime(2028, 3, 1, 5, 15, tzinfo=india),
             datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(1970, 1, 1, 0, 30, tzinfo=UTC)]
    load(engine, [GpuSample(sampled_at=t, gpu_uuid="GPU-T", source="test", host="h", utilization_pct=50.0)
                  for t in times], source="test", target="t")
    with engine.connect() as conn:
        hours = conn.execute(sa.text("SELECT hour_at FROM gpu_hourly ORDER BY 1")).scalars().all()
    want = sorted({t.astimezone(UTC).replace(minute=0, second=0, microsecond=0) for t in times})
    assert [h.astimezone(UTC) for h in hours] == want
