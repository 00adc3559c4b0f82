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


def _spy(monkeypatch) -> list[bool]:
    """Record whether each batch went straight into gpu_samples (the real function still runs)."""
    from ingest import gpu_partitions

    taken: list[bool] = []
    real = gpu_partitions.copy_new

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(gpu_partitions, "copy_new", spy)
    return taken


def test_fresh_samples_go_straight_in_and_a_later_batch_repeating_a_key_still_wins(engine, monkeypatch):
    taken = _spy(monkeypatch)
    batches = [_s("A", 0, 1.0), _s("A", 1, 1.0), _s("A", 1, 9.0), _s("B", 0, 4.0), _s("A", 2, 2.0)]
    result = load(engine, batches, source="t", target="t", batch_size=2)
    # The first batch is new and goes straight in; the second repeats A@1, so it and the rest are merged.
    assert taken == [True, False]
    assert (result.rows_read, result.rows_written, result.rows_skipped) == (5, 4, 1)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT gpu_uuid, utilization_pct FROM gpu_samples ORDER BY 1, sampled_at")).all()
        hourly = conn.execute(sa.text("SELECT gpu_uuid, samples, utilization_max_pct FROM gpu_hourly ORDER BY 1")).all()
    assert [tuple(x) for x in rows] == [("A", 1.0), ("A", 9.0), ("A", 2.0), ("B", 4.0)]
    assert [tuple(x) for x in hourly] == [("A", 3, 9.0), ("B", 1, 4.0)]


def test_samples_straight_in_count_once_when_the_same_file_is_loaded_again(engine, monkeypatch):
    taken = _spy(monkeypatch)
    samples = [_s(u, m, float(m)) for u in ("A", "B") for m in range(90)]  # two hours, two GPUs
    first = load(engine, samples, source="t", target="t")
    again = load(engine, samples, source="t", target="t")
    assert taken == [True, False]  # the second load finds every key stored and merges
    assert (first.rows_written, again.rows_written, again.rows_skipped) == (180, 0, 0)
    with engine.connect() as conn:
        hourly = conn.execute(sa.text("SELECT gpu_uuid, hour_at, samples FROM gpu_hourly ORDER BY 1, 2")).all()
        runs = conn.execute(sa.text("SELECT count(DISTINCT run_id) FROM gpu_samples")).scalar_one()
    assert [(u, n) for u, _, n in hourly] == [("A", 60), ("A", 30), ("B", 60), ("B", 30)]
    assert runs == 1  # nothing rewritten by the second load


def test_a_refused_sample_is_named_and_nothing_is_written_on_the_fast_path(engine):
    from ingest.loader import LoadDatabaseError

    samples = [_s("A", 0, 1.0), _s("A", 1, 1.0), GpuSample(sampled_at=T0 + timedelta(minutes=2), host="h\x00x",
                                                         gpu_uuid="A", source="nvml")]
    try:
        load(engine, samples, source="t", target="t", where="gpu.csv")
    except LoadDatabaseError as exc:
        assert "gpu.csv: record 3, field 'host'" in str(exc)
    else:
        raise AssertionError("a NUL byte was accepted")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM gpu_samples")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM gpu_hourly")).scalar_one() == 0
