"""Bench: load a fleet's GPU samples through the real loader vs a plain COPY; time the hourly rollup.

    python bench/bench_gpu_load.py [--scale 0.1]

Generates 10,000,000 x scale samples (1,000 x scale GPUs, 10 s apart) and loads them with
``ingest.loader.load`` into a fresh database on a throwaway embedded server; then COPYs the
same rows, in the same run, into a bare unpartitioned table with no keys and into one with
gpu_samples' key and indexes. All three turn the same records into rows, so the ratios are the
cost of making day partitions, writing into them (fresh batches go straight in; others through
staging and the merge on the natural key) and refreshing the hourly rollup. Not run by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from ingest.loader import SPECS, load  # noqa: E402
from ingest.records import GpuHourlyAggregate, GpuSample  # noqa: E402
from models import rollups  # noqa: E402
from models.infra import embedded  # noqa: E402
from models.infra.database import ensure_database, make_engine  # noqa: E402
from models.infra.migrate import upgrade  # noqa: E402
from models.queries.fleet import fleet_gpus  # noqa: E402

# The refresh before it went per day partition and set-based (one statement on the parent table,
# the planner's own choice of plan), timed on the same day in the same run as the baseline.
BASELINE_REFRESH = """
INSERT INTO gpu_hourly (hour_at, gpu_uuid, mig_instance, host, model_name, namespace, pod, samples,
    utilization_mean_pct, utilization_max_pct, busy_fraction, power_mean_watts,
    memory_used_max_bytes, memory_total_bytes, is_demo)
SELECT date_trunc('hour', sampled_at) AS hour_at, gpu_uuid, mig_instance,
       max(host), max(model_name), max(namespace), max(pod), count(*),
       avg(utilization_pct), max(utilization_pct),
       avg(CASE WHEN utilization_pct IS NULL THEN NULL WHEN utilization_pct > 5 THEN 1.0 ELSE 0.0 END),
       avg(power_watts), max(memory_used_bytes), max(memory_total_bytes), bool_and(is_demo)
FROM gpu_samples
WHERE sampled_at >= date_trunc('hour', CAST(:lo AS timestamptz))
  AND sampled_at < date_trunc('hour', CAST(:hi AS timestamptz)) + interval '1 hour'
GROUP BY 1, 2, 3
"""
FULL_SAMPLES = 10_000_000
FULL_GPUS = 1_000
STEP_S = 10
START = datetime(2026, 6, 1, tzinfo=UTC)


def make_samples(gpus: int, ticks: int) -> list[GpuSample]:
    """ticks readings of gpus GPUs on 8-GPU hosts, 10 s apart, with varied utilisation and power."""
    out = []
    for t in range(ticks):
        at = START + timedelta(seconds=STEP_S * t)
        for g in range(gpus):
            util = float((t * 7 + g * 13) % 101)
            out.append(GpuSample(sampled_at=at, host=f"node-{g // 8:04d}", gpu_uuid=f"GPU-{g:06d}", source="nvml",
                                 gpu_index=g % 8, model_name="NVIDIA H100 80GB HBM3", utilization_pct=util,
                                 memory_used_bytes=int(util * 800_000_000), memory_total_bytes=85_899_345_920,
                                 power_watts=100.0 + util * 6, energy_mj=float(t * 1_000_000),
                                 temperature_c=40.0 + util / 5, sm_clock_mhz=1980.0))
    return out


def plain_copy(engine: sa.Engine, samples: list[GpuSample], *, indexed: bool = False) -> float:
    """Seconds to COPY the same rows into a bare table, or one with gpu_samples' key and indexes.

    The indexed table is unpartitioned, so it is the cost of the key and indexes alone: what any
    loader into gpu_samples pays at least (issue 21's second baseline).
    """
    cols = SPECS[GpuSample].columns
    table = "indexed_samples" if indexed else "bare_samples"
    with engine.begin() as conn:
        if indexed:
            conn.exec_driver_sql(f"CREATE TABLE {table} (LIKE gpu_samples INCLUDING DEFAULTS INCLUDING INDEXES)")
        else:
            conn.exec_driver_sql(f"CREATE TABLE {table} AS SELECT {', '.join(cols)} FROM gpu_samples WITH NO DATA")
    t0 = time.perf_counter()
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for s in samples:
                copy.write_row(tuple(getattr(s, c) for c in cols))
    return time.perf_counter() - t0


def time_full_fleet_queries(engine: sa.Engine) -> float:
    """Seconds for fleet_gpus over one day of a full 1,000-GPU rollup (24,000 hourly rows, loaded here)."""
    day = START + timedelta(days=10)
    rows = [GpuHourlyAggregate(hour_at=day + timedelta(hours=h), gpu_uuid=f"FULL-{g:06d}", host=f"full-{g // 8:04d}",
                               samples=360, utilization_mean_pct=float((g + h) % 101), busy_fraction=((g + h) % 101) / 100,
                               power_mean_watts=400.0) for g in range(FULL_GPUS) for h in range(24)]
    load(engine, rows, source="bench", target="full-size rollup")
    with engine.connect() as conn:
        t0 = time.perf_counter()
        fleet_gpus(conn, day, day + timedelta(days=1))
        return time.perf_counter() - t0


def write_nvidia_smi(path: Path, samples: int) -> None:
    """An nvidia-smi --query-gpu CSV log of 8 GPUs, `samples` rows, 10 s apart, with its units as nvidia-smi writes them."""
    with path.open("w") as out:
        out.write("timestamp, name, uuid, index, utilization.gpu [%], memory.used [MiB], memory.total [MiB], "
                  "power.draw [W]\n")
        for i in range(samples):
            t, g = divmod(i, 8)
            util = (t * 7 + g * 13) % 101
            at = START + timedelta(seconds=STEP_S * t)
            out.write(f"{at:%Y/%m/%d %H:%M:%S}.000, NVIDIA H100 80GB HBM3, GPU-{g:08d}-0000-0000-0000-000000000000, "
                      f"{g}, {util} %, {util * 800} MiB, 81559 MiB, {100 + util * 6:.2f} W\n")


def file_memory(sizes: list[int]) -> None:
    """Peak RSS of `hybridcost ingest nvidia-smi` (a child process) loading a log of each size into a scratch database."""
    tmp = Path(tempfile.mkdtemp(prefix="hybridcost-bench-"))
    try:
        socket_dir = embedded.start(tmp)
        for n in sizes:
            name = f"smi{n}"
            ensure_database(embedded.url_for(socket_dir, "postgres"), name)
            url = embedded.url_for(socket_dir, name)
            upgrade(url)
            path = tmp / f"{name}.csv"
            write_nvidia_smi(path, n)
            code = ("import sys; sys.argv = ['hybridcost', 'ingest', 'nvidia-smi', %r, '--tz', 'UTC']; "
                    "from app.cli.main import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
                    "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])" % str(path))
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 env={**os.environ, "DATABASE_URL": url}, cwd=Path(__file__).resolve().parent.parent)
            rss_mb = int(out.stdout.strip().splitlines()[-1]) / 1024
            print(f"{n:>10,} samples ({path.stat().st_size / 2**20:5.0f} MB): {time.perf_counter() - t0:6.1f} s, "
                  f"peak RSS {rss_mb:5.0f} MB", flush=True)
            path.unlink()
    finally:
        embedded.stop(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Run the bench and print samples/s, the ratio to plain COPY, rollup timings and full-size estimates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 1,000-GPU, 10M-sample fleet")
    parser.add_argument("--file-memory", default="", help="comma-separated sample counts: only the peak RSS of "
                        "`hybridcost ingest nvidia-smi` on a log of each size, e.g. 10000,100000,1000000")
    args = parser.parse_args()
    if args.file_memory:
        file_memory([int(n) for n in args.file_memory.split(",")])
        return
    gpus = max(1, round(FULL_GPUS * args.scale))
    ticks = round(FULL_SAMPLES * args.scale / gpus)
    t0 = time.perf_counter()
    samples = make_samples(gpus, ticks)
    print(f"generated {len(samples):,} samples ({gpus} GPUs x {ticks} ticks at {STEP_S} s) "
          f"in {time.perf_counter() - t0:.1f} s", flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="hybridcost-bench-"))
    try:
        socket_dir = embedded.start(tmp)
        ensure_database(embedded.url_for(socket_dir, "postgres"), "bench")
        url = embedded.url_for(socket_dir, "bench")
        upgrade(url)
        engine = make_engine(url)

        t0 = time.perf_counter()
        result = load(engine, samples, source="bench", target=f"scale {args.scale}")
        loader_s = time.perf_counter() - t0
        copy_s = plain_copy(engine, samples)
        indexed_s = plain_copy(engine, samples, indexed=True)
        day = (START, START + timedelta(days=1) - timedelta(microseconds=1))
        with engine.begin() as conn:
            day_rows = conn.execute(sa.text("SELECT count(*) FROM gpu_samples WHERE sampled_at >= :a AND "
                                            "sampled_at <= :b"), {"a": day[0], "b": day[1]}).scalar_one()
            # Both refreshes read the day from the page cache: the first one would pay the disk alone.
            conn.execute(sa.text("SELECT sum(utilization_pct) FROM gpu_samples WHERE sampled_at >= :a AND "
                                 "sampled_at <= :b"), {"a": day[0], "b": day[1]})
            t0 = time.perf_counter()
            conn.execute(sa.text("DELETE FROM gpu_hourly WHERE hour_at >= :lo AND hour_at <= :hi"),
                         {"lo": day[0], "hi": day[1]})
            conn.execute(sa.text(BASELINE_REFRESH), {"lo": day[0], "hi": day[1]})
            baseline_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            rollups.refresh_gpu_hourly(conn, *day)
            rollup_s = time.perf_counter() - t0
            # What each daemon tick of one 8-GPU host costs: its own GPUs, one hour.
            noon = START + timedelta(hours=12)
            t0 = time.perf_counter()
            rollups.refresh_gpu_hourly(conn, noon, noon, gpu_uuids=[f"GPU-{g:06d}" for g in range(min(8, gpus))])
            tick_s = time.perf_counter() - t0
        with engine.connect() as conn:
            t0 = time.perf_counter()
            fleet = fleet_gpus(conn, START, START + timedelta(days=1))
            fleet_s = time.perf_counter() - t0
        full_query_s = time_full_fleet_queries(engine)
        engine.dispose()
    finally:
        embedded.stop(tmp)
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(samples)
    loader_rate, copy_rate = n / loader_s, n / copy_s
    full_day_rows = FULL_GPUS * 86_400 // STEP_S
    print(f"loader:      {loader_rate:12,.0f} samples/s ({loader_s:.1f} s, {result.rows_written:,} rows written)")
    print(f"plain COPY:  {copy_rate:12,.0f} samples/s ({copy_s:.1f} s)")
    print(f"COPY into a table with gpu_samples' key and indexes: {n / indexed_s:12,.0f} samples/s ({indexed_s:.1f} s)")
    print(f"ratio loader / plain COPY: {loader_rate / copy_rate:.2f} (goal >= 0.5)")
    print(f"ratio loader / indexed COPY: {indexed_s / loader_s:.2f} (goal >= 0.8)")
    print(f"hourly rollup of one day ({day_rows:,} raw rows, {gpus} GPUs): {rollup_s:.3f} s "
          f"(the previous single statement: {baseline_s:.3f} s, {baseline_s / rollup_s:.1f}x)")
    print(f"rollup refresh of one host's hour (8 GPUs, what a daemon tick does): {tick_s * 1000:.1f} ms")
    print(f"fleet query over that day's rollup ({fleet.height} GPUs): {fleet_s:.3f} s")
    print(f"fleet query over a day of a full {FULL_GPUS}-GPU rollup (measured): {full_query_s:.3f} s (goal < 1 s)")
    print(f"full size estimates: load {FULL_SAMPLES / loader_rate:.0f} s for {FULL_SAMPLES:,} samples; "
          f"rollup of a day of {FULL_GPUS} GPUs ({full_day_rows:,} rows) ~{rollup_s * full_day_rows / day_rows:.1f} s "
          f"(a day at once; the daemon refreshes one host's hour per tick)")


if __name__ == "__main__":
    main()
