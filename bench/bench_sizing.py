"""Database size and load time per million request rows, per million GPU samples, per GPU-month of rollups.

Run: python bench/bench_sizing.py [--rows 1000000]   (by hand; never in pytest or CI)
On a throwaway embedded PostgreSQL 18 (the major version docker-compose.yml runs), loads
`--rows` request-log rows (what LiteLLM, OpenTelemetry or Langfuse exports and the instrumented
client produce: one row per API call, with a fingerprint, tags and cost) and `--rows` NVML-shaped
GPU samples (every field NVML gives, 5 s apart, 8 GPUs) through the real loader, which also
maintains the hourly rollups. Sizes are pg_total_relation_size (table + indexes + TOAST) after
ANALYZE; times are wall seconds of `ingest.loader.load`. The baseline, measured in the same
run, is a plain COPY of the same request rows into a bare table with no index: the ratio says
what the loader's validation, staging, merge and indexes cost. Then one month of hourly rollups
for 500 GPUs is written directly, to give bytes per GPU-month, and `db prune`'s retention is run
on a day-partitioned month to show what it keeps.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_engine, scratch_database  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
MODELS = [("openai", "gpt-4.1-mini"), ("openai", "o3"), ("anthropic", "claude-sonnet-4"), ("openai", "gpt-4.1")]
GPUS = 8
FLEET_GPUS = 500
MiB = 1024 * 1024


def requests(n: int, seed: int = 7):
    """Request-log rows one a ~second apart, with the fields the log sources fill."""
    from ingest import records as r

    rng = np.random.default_rng(seed)
    inp, out = rng.integers(200, 6000, n), rng.integers(20, 1500, n)
    for i in range(n):
        provider, model = MODELS[i % len(MODELS)]
        yield r.UsageRequest(source="litellm", request_id=f"chatcmpl-{i:012d}-{i * 7919 % 1000003:07d}",
                             started_at=START + timedelta(seconds=i * 0.9), provider=provider, model=model,
                             account_id="org-main", project_id=f"proj_{i % 40:02d}", api_key_id=f"key_{i % 200:03d}",
                             user_id=f"user-{i % 2000:04d}@example.com", team=f"team-{i % 12}",
                             tags={"env": "prod", "feature": f"f{i % 30}"}, input_tokens=int(inp[i]),
                             cached_input_tokens=int(inp[i]) // 5, output_tokens=int(out[i]),
                             latency_ms=float(200 + i % 3000), status_code=200,
                             fingerprint=f"{i * 2654435761 % 2**64:016x}{i:016x}",
                             reported_cost_usd=Decimal(int(inp[i]) * 2 + int(out[i]) * 8) / Decimal(1_000_000))


def gpu_samples(n: int, seed: int = 7):
    """NVML-shaped samples, 5 s apart, GPUS GPUs on one host."""
    from ingest import records as r

    rng = np.random.default_rng(seed)
    util = rng.uniform(0, 100, n)
    per_gpu = n // GPUS
    for k in range(per_gpu):
        at = START + timedelta(seconds=5 * k)
        for g in range(GPUS):
            u = float(util[k * GPUS + g])
            yield r.GpuSample(sampled_at=at, host="gpu-node-01", gpu_uuid=f"GPU-{g:02d}-5f0c6a1e-8d3b-4b7e-9a61",
                              source="nvml", gpu_index=g, model_name="NVIDIA H100 80GB HBM3", utilization_pct=u,
                              memory_used_bytes=int(u * 800 * MiB), memory_total_bytes=80 * 1024 * MiB,
                              power_watts=100 + 6 * u, energy_mj=1e9 + k * 3500.0, temperature_c=40 + u / 3,
                              sm_clock_mhz=1980.0)


def table_bytes(conn, table: str) -> int:
    """Table + indexes + TOAST, every partition of a partitioned table included."""
    return int(conn.execute(sa.text(
        "SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(CAST(:t AS regclass))), "
        "pg_total_relation_size(CAST(:t AS regclass)))"), {"t": table}).scalar_one())


def copy_baseline(engine, n: int) -> float:
    """Seconds for a plain COPY of the same request rows into a bare table (no index, no validation)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("CREATE TEMP TABLE bare (request_id text, started_at timestamptz, provider text, model text, "
                    "account_id text, project_id text, api_key_id text, user_id text, team text, tags jsonb, "
                    "input_tokens bigint, cached bigint, output_tokens bigint, latency_ms float8, "
                    "status_code int, fingerprint text, cost numeric)")
        t = time.perf_counter()  # the same record generator as the loader's run, so only the writing differs
        with cur.copy("COPY bare FROM STDIN") as copy:
            for q in requests(n):
                copy.write_row((q.request_id, q.started_at, q.provider, q.model, q.account_id, q.project_id,
                                q.api_key_id, q.user_id, q.team, '{"env": "prod"}', q.input_tokens,
                                q.cached_input_tokens, q.output_tokens, q.latency_ms, q.status_code, q.fingerprint,
                                q.reported_cost_usd))
        raw.commit()
        return time.perf_counter() - t
    finally:
        raw.close()


def rollup_month(engine) -> tuple[int, int]:
    """Write one 30-day month of hourly rollups for FLEET_GPUS GPUs; (rows, bytes of gpu_hourly)."""
    with engine.begin() as conn:
        before = table_bytes(conn, "gpu_hourly")
        conn.execute(sa.text(
            "INSERT INTO gpu_hourly (hour_at, gpu_uuid, host, model_name, samples, utilization_mean_pct, "
            "utilization_max_pct, busy_fraction, power_mean_watts, memory_used_max_bytes, memory_total_bytes) "
            "SELECT TIMESTAMPTZ '2026-06-01 00:00Z' + h * interval '1 hour', "
            "'GPU-' || lpad(g::text, 4, '0') || '-5f0c6a1e-8d3b-4b7e-9a61', 'gpu-node-' || (g / 8), "
            "'NVIDIA H100 80GB HBM3', 720, random() * 100, 100, random(), 400 + random() * 300, 70e9, 80e9 "
            "FROM generate_series(0, 719) h, generate_series(1, :n) g"), {"n": FLEET_GPUS})
        conn.exec_driver_sql("ANALYZE gpu_hourly")
        rows = conn.execute(sa.text("SELECT count(*) FROM gpu_hourly WHERE hour_at >= '2026-06-01' "
                                    "AND hour_at < '2026-07-01'")).scalar_one()
        return rows, table_bytes(conn, "gpu_hourly") - before


def exporter_read(engine, n: int) -> float:
    """Median seconds of one uncached exporter read (every metric family), at the end of the request data."""
    from app.exporter import HybridcostCollector

    with engine.begin() as conn:  # a budget, so the month-to-date path runs too
        conn.execute(sa.text("INSERT INTO budgets (scope, name, monthly_usd) VALUES ('team', 'team-1', 1000)"))
    end = START + timedelta(seconds=n * 0.9)
    collector = HybridcostCollector(engine, cache_seconds=0, clock=lambda: end)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        list(collector.collect())
        times.append(time.perf_counter() - t)
    return sorted(times)[1]


def retention(engine, days_kept: int) -> tuple[int, int, int, int]:
    """`db prune` on the samples already loaded: (partitions before, after, sample bytes before, after)."""
    from models.rollups import drop_raw_partitions_before

    with engine.begin() as conn:
        parts = "SELECT count(*) FROM pg_partition_tree('gpu_samples') WHERE isleaf"
        before_n, before_b = conn.execute(sa.text(parts)).scalar_one(), table_bytes(conn, "gpu_samples")
        newest = conn.execute(sa.text("SELECT max(sampled_at) FROM gpu_samples")).scalar_one()
        drop_raw_partitions_before(conn, newest - timedelta(days=days_kept))
        return before_n, conn.execute(sa.text(parts)).scalar_one(), before_b, table_bytes(conn, "gpu_samples")


def main() -> None:
    """Load, measure and print a Markdown table of bytes and seconds per million rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="request rows and GPU samples (default 1M)")
    args = parser.parse_args()
    from ingest.loader import load

    n, per_m = args.rows, 1_000_000 / args.rows
    print(f"load average {os.getloadavg()[0]:.1f} at start; {n:,} rows of each kind")
    with scratch_database("sizing") as url:
        engine = make_engine(url)
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar_one()
            base_db = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        t = time.perf_counter()
        load(engine, requests(n), source="litellm", target="sizing", batch_size=100_000)
        req_s = time.perf_counter() - t
        copy_s = copy_baseline(engine, n)
        t = time.perf_counter()
        load(engine, gpu_samples(n), source="nvml", target="sizing", batch_size=100_000)
        gpu_s = time.perf_counter() - t
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
            req_b, gpu_b = table_bytes(conn, "usage_requests"), table_bytes(conn, "gpu_samples")
            hourly_rows = conn.execute(sa.text("SELECT count(*) FROM gpu_hourly")).scalar_one()
            hourly_b = table_bytes(conn, "gpu_hourly")
            db_b = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one() - base_db
        scrape_s = exporter_read(engine, n)
        fleet_rows, fleet_b = rollup_month(engine)
        kept = 3
        parts_before, parts_after, samples_before, samples_after = retention(engine, kept)
        engine.dispose()
    print(f"PostgreSQL {version}\n")
    print("| what | per million rows: disk | per million rows: load time | bytes per row | notes |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(f"| request-log rows (`usage_requests`) | {req_b * per_m / MiB:,.0f} MiB | {req_s * per_m:,.0f} s "
          f"({n / req_s:,.0f} rows/s) | {req_b / n:,.0f} | plain COPY of the same rows {copy_s * per_m:,.0f} s: "
          f"loader/COPY = {copy_s / req_s:.2f}x |")
    print(f"| GPU samples (`gpu_samples`, day partitions) | {gpu_b * per_m / MiB:,.0f} MiB | {gpu_s * per_m:,.0f} s "
          f"({n / gpu_s:,.0f} rows/s) | {gpu_b / n:,.0f} | includes refreshing {hourly_rows:,} hourly rollup rows "
          f"({hourly_b / max(hourly_rows, 1):,.0f} B each) |")
    per_gpu_month = fleet_b / FLEET_GPUS
    print(f"| hourly rollups (`gpu_hourly`), one GPU-month = 720 rows | {per_gpu_month / 1024:,.0f} KiB per GPU-month "
          f"| written by the loader with the samples | {fleet_b / fleet_rows:,.0f} | {FLEET_GPUS} GPUs x 30 days: "
          f"{fleet_rows:,} rows, {fleet_b / MiB:,.1f} MiB |")
    print(f"\nexporter: one uncached read of every metric over these rows {scrape_s:.2f} s (median of 3)")
    print(f"whole database growth for the two loads: {db_b / MiB:,.0f} MiB")
    print(f"retention: `db prune` keeping {kept} days dropped {parts_before - parts_after} of {parts_before} day "
          f"partitions; raw samples {samples_before / MiB:,.0f} MiB -> {samples_after / MiB:,.0f} MiB; "
          f"rollups untouched")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
