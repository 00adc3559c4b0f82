"""Hourly rollups of raw telemetry, maintained on load; everything downstream reads them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection

BUSY_THRESHOLD_PCT = 5.0  # a sample above this counts as busy time

GPU_HOURLY_COLUMNS = ("hour_at", "gpu_uuid", "mig_instance", "mig_profile", "host", "model_name", "namespace", "pod", "samples",
                      "utilization_mean_pct", "utilization_max_pct", "busy_fraction", "power_mean_watts",
                      "memory_used_max_bytes", "memory_total_bytes", "is_demo", "sm_active_mean_frac")

# date_bin on a UTC origin is the UTC hour by integer arithmetic (date_trunc with a time zone converts
# every row: half the statement's time); the busy share is averaged as float8, not numeric.
SAMPLE_HOUR = "date_bin('1 hour', sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
_GPU_AGGREGATE = """
SELECT {hour} AS hour_at, gpu_uuid, mig_instance, max(mig_profile) AS mig_profile,
       max(host) AS host, max(model_name) AS model_name, max(namespace) AS namespace, max(pod) AS pod,
       count(*) AS samples, avg(utilization_pct) AS utilization_mean_pct, max(utilization_pct) AS utilization_max_pct,
       avg(CASE WHEN utilization_pct IS NULL THEN NULL WHEN utilization_pct > :busy THEN 1.0::float8 ELSE 0.0::float8 END)
           AS busy_fraction,
       avg(power_watts) AS power_mean_watts, max(memory_used_bytes) AS memory_used_max_bytes,
       max(memory_total_bytes) AS memory_total_bytes, bool_and(is_demo) AS is_demo,
       avg(sm_active_frac) AS sm_active_mean_frac
FROM {table}
WHERE ({hours}) {only_gpus}
GROUP BY 1, 2, 3
"""
# A whole day of a big fleet is millions of samples: aggregate those in parallel (a parallel plan is
# only possible for a CREATE TABLE AS, never for INSERT ... SELECT). A daemon tick stays serial.
PARALLEL_FROM_HOURS = 6
PARALLEL_FROM_GPUS = 64

_INFERENCE_HOURLY = """
WITH ordered AS (
    SELECT sampled_at, endpoint, model_name, engine, requests_running, requests_waiting, kv_cache_usage_frac,
           prompt_tokens_total, generation_tokens_total, is_demo,
           lag(sampled_at) OVER w AS prev_at,
           lag(prompt_tokens_total) OVER w AS prev_prompt,
           lag(generation_tokens_total) OVER w AS prev_gen,
           lag(requests_waiting) OVER w AS prev_waiting
    FROM inference_samples
    WHERE sampled_at >= date_trunc('hour', CAST(:lo AS timestamptz)) - interval '1 hour'
      AND sampled_at < date_trunc('hour', CAST(:hi AS timestamptz)) + interval '1 hour'
    WINDOW w AS (PARTITION BY endpoint, model_name, engine ORDER BY sampled_at)
), intervals AS (
    SELECT *, extract(epoch FROM sampled_at - prev_at) AS seconds,
           -- a counter that went down was reset: the new value is the whole delta
           CASE WHEN prev_prompt IS NULL THEN 0 WHEN prompt_tokens_total >= prev_prompt
                THEN prompt_tokens_total - prev_prompt ELSE prompt_tokens_total END AS d_prompt,
           CASE WHEN prev_gen IS NULL THEN 0 WHEN generation_tokens_total >= prev_gen
                THEN generation_tokens_total - prev_gen ELSE generation_tokens_total END AS d_gen,
           (coalesce(requests_waiting, 0) > 0 OR coalesce(prev_waiting, 0) > 0) AS saturated
    FROM ordered
    WHERE sampled_at >= date_trunc('hour', CAST(:lo AS timestamptz))
)
INSERT INTO inference_hourly (hour_at, endpoint, model_name, prompt_tokens, generation_tokens,
    requests_running_mean, requests_waiting_mean, requests_waiting_max, kv_cache_max_frac,
    saturated_seconds, generation_tokens_per_s_saturated, is_demo)
SELECT date_trunc('hour', sampled_at), endpoint, model_name,
       coalesce(sum(d_prompt), 0), coalesce(sum(d_gen), 0),
       avg(requests_running), avg(requests_waiting), max(requests_waiting), max(kv_cache_usage_frac),
       coalesce(sum(seconds) FILTER (WHERE saturated AND prev_at IS NOT NULL), 0),
       sum(d_gen) FILTER (WHERE saturated AND prev_at IS NOT NULL)
           / nullif(sum(seconds) FILTER (WHERE saturated AND prev_at IS NOT NULL), 0),
       bool_and(is_demo)
FROM intervals
GROUP BY 1, 2, 3
"""

# Each bucket of a histogram is its own cumulative counter. A scrape where any bucket of one
# histogram (endpoint, model, engine, metric) went down is a restart of that server: like
# counter_delta, every bucket's new value is then the whole increase (a per-bucket rule could mix
# pre- and post-restart counts across buckets). Engines are summed once their deltas are taken.
_LATENCY_HOURLY = """
WITH ordered AS (
    SELECT sampled_at, endpoint, model_name, engine, metric, le_seconds, cumulative_count, is_demo,
           lag(cumulative_count) OVER w AS prev_count
    FROM inference_latency_buckets
    WHERE sampled_at >= date_trunc('hour', CAST(:lo AS timestamptz)) - interval '1 hour'
      AND sampled_at < date_trunc('hour', CAST(:hi AS timestamptz)) + interval '1 hour'
    WINDOW w AS (PARTITION BY endpoint, model_name, engine, metric, le_seconds ORDER BY sampled_at)
), flagged AS (
    SELECT *, bool_or(prev_count IS NOT NULL AND cumulative_count < prev_count)
                  OVER (PARTITION BY sampled_at, endpoint, model_name, engine, metric) AS reset
    FROM ordered
)
INSERT INTO inference_latency_hourly (hour_at, endpoint, model_name, metric, le_seconds, observations, is_demo)
SELECT date_trunc('hour', sampled_at), endpoint, model_name, metric, le_seconds,
       sum(CASE WHEN prev_count IS NULL THEN 0 WHEN reset THEN cumulative_count
                ELSE cumulative_count - prev_count END), bool_and(is_demo)
FROM flagged
WHERE sampled_at >= date_trunc('hour', CAST(:lo AS timestamptz))
GROUP BY 1, 2, 3, 4, 5
"""


def physical_gpu_hours(where: str = "TRUE") -> str:
    """SELECT of gpu_hourly rows (filtered by `where` on alias g) with what makes one physical GPU-hour.

    A MIG parent and its instances are one physical GPU: per (hour, GPU) exactly one row carries
    ``gpu_hours`` = 1 and the physical power (``gpu_power_watts``: the parent's reading, else any
    instance's). ``weight`` is a row's share of the GPU's busy time: 1 for a GPU without MIG; for a
    MIG instance its profile's compute slices out of the GPU's (3g.40gb on an A100 or H100 is 3/7,
    on an A30 the slices are 4), or 1/n of the reporting instances without a profile; 0 for the
    parent while its instances are measured (their profiling metrics say how busy it is), else 1.
    So ``busy_fraction * weight`` summed over a GPU-hour is its busy GPU-hours, never more than 1.
    """
    return f"""
SELECT h.*, CASE WHEN h.pos = 1 THEN 1 ELSE 0 END AS gpu_hours,
       CASE WHEN h.pos = 1 THEN coalesce(h.parent_power, h.any_power) END AS gpu_power_watts,
       CASE WHEN NOT h.has_mig THEN 1.0
            WHEN h.mig_instance = '' THEN CASE WHEN h.instances_measured THEN 0.0 ELSE 1.0 END
            ELSE coalesce(CAST(substring(h.mig_profile FROM '^([0-9]+)g') AS double precision)
                          / CASE WHEN h.model_name ILIKE '%A30%' THEN 4 ELSE 7 END, 1.0 / h.n_instances) END AS weight
FROM (SELECT g.*,
             bool_or(g.mig_instance <> '') OVER w AS has_mig,
             count(*) FILTER (WHERE g.mig_instance <> '') OVER w AS n_instances,
             coalesce(bool_or(g.mig_instance <> '' AND g.busy_fraction IS NOT NULL) OVER w, FALSE) AS instances_measured,
             max(g.power_mean_watts) FILTER (WHERE g.mig_instance = '') OVER w AS parent_power,
             max(g.power_mean_watts) OVER w AS any_power,
             row_number() OVER (PARTITION BY g.hour_at, g.gpu_uuid ORDER BY g.mig_instance) AS pos
      FROM gpu_hourly g WHERE {where}
      WINDOW w AS (PARTITION BY g.hour_at, g.gpu_uuid)) h"""


def _hour_runs(hours: Sequence[datetime]) -> list[tuple[datetime, datetime]]:
    """Distinct hour starts as [start, end) runs of consecutive hours."""
    runs: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], hour + timedelta(hours=1))
        else:
            runs.append((hour, hour + timedelta(hours=1)))
    return runs


@contextmanager
def _local(conn: Connection, **values: str):
    """SET LOCAL planner settings for the statements inside, then put back what was there."""
    before = {k: conn.exec_driver_sql(f"SELECT current_setting('{k}')").scalar_one() for k in values}
    for k, v in values.items():
        conn.exec_driver_sql(f"SET LOCAL {k} = '{v}'")
    yield  # on an error the transaction is lost anyway: nothing to put back
    for k, v in before.items():
        conn.exec_driver_sql(f"SET LOCAL {k} = '{v}'")


def refresh_gpu_hours(conn: Connection, hours: Sequence[datetime], gpu_uuids: Sequence[str] | None = None) -> int:
    """Recompute the GPU hourly rollup of exactly these UTC hours (only these GPUs, if given); rows written.

    Set-based, one statement per day partition: the day's partition is read directly (a sequential
    scan hashed by hour and GPU, never a sort), restricted to the hours asked for.
    """
    by_day: dict[datetime, list[datetime]] = defaultdict(list)
    for hour in set(hours):
        hour = hour.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        by_day[hour.replace(hour=0)].append(hour)
    only = "AND gpu_uuid = ANY(:uuids)" if gpu_uuids is not None else ""
    base = {"busy": BUSY_THRESHOLD_PCT, "uuids": list(gpu_uuids or [])}
    written = 0
    for day, day_hours in sorted(by_day.items()):
        runs = _hour_runs(day_hours)
        params = {**base, **{f"lo{i}": lo for i, (lo, _) in enumerate(runs)},
                  **{f"hi{i}": hi for i, (_, hi) in enumerate(runs)}}
        partition = f"gpu_samples_p{day:%Y%m%d}"
        exists = conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": partition}).scalar() is not None
        raw = " OR ".join(f"(sampled_at >= :lo{i} AND sampled_at < :hi{i})" for i in range(len(runs)))
        rolled = " OR ".join(f"(hour_at >= :lo{i} AND hour_at < :hi{i})" for i in range(len(runs)))
        conn.execute(sa.text(f"DELETE FROM gpu_hourly WHERE ({rolled}) {only}"), params)
        select = _GPU_AGGREGATE.format(hour=SAMPLE_HOUR, table=partition if exists else "gpu_samples", hours=raw,
                                       only_gpus=only)
        columns = ", ".join(GPU_HOURLY_COLUMNS)
        big = len(day_hours) >= PARALLEL_FROM_HOURS and (gpu_uuids is None or len(gpu_uuids) >= PARALLEL_FROM_GPUS)
        # No sort of any kind: without statistics the planner walks the (gpu_uuid, sampled_at) index and
        # sorts each GPU's rows by hour (2.3x slower on a day of 1,000 GPUs than hashing them).
        with _local(conn, enable_sort="off", enable_incremental_sort="off", work_mem="256MB"):
            if not big:
                written += conn.execute(sa.text(f"INSERT INTO gpu_hourly ({columns}) {select}"), params).rowcount
                continue
            with _local(conn, parallel_setup_cost="0", parallel_tuple_cost="0", min_parallel_table_scan_size="0"):
                conn.execute(sa.text(f"CREATE TEMP TABLE gpu_hourly_fresh ON COMMIT DROP AS {select}"), params)
            written += conn.exec_driver_sql(
                f"INSERT INTO gpu_hourly ({columns}) SELECT {columns} FROM gpu_hourly_fresh").rowcount
            conn.exec_driver_sql("DROP TABLE gpu_hourly_fresh")
    return written


def refresh_gpu_hourly(conn: Connection, lo: datetime, hi: datetime, gpu_uuids: Sequence[str] | None = None) -> int:
    """Recompute the GPU hourly rollup for every hour touched by [lo, hi] (only these GPUs, if given)."""
    # A daemon tick of one host must not re-aggregate the whole fleet's hour, only its own GPUs.
    first = lo.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [first + timedelta(hours=i) for i in range(int((hi - first).total_seconds() // 3600) + 1)]
    return refresh_gpu_hours(conn, hours, gpu_uuids)


def rebuild_gpu_hourly(conn: Connection) -> int:
    """Recompute gpu_hourly for the hours that still have raw samples, for the GPUs that have any; rows written.

    Hours whose raw partitions retention dropped are left as they are, and so are GPUs known only
    from Prometheus aggregates (no raw samples behind them).
    """
    hours = conn.exec_driver_sql(
        "SELECT DISTINCT date_trunc('hour', sampled_at, 'UTC') FROM gpu_samples").scalars().all()
    uuids = conn.exec_driver_sql("SELECT DISTINCT gpu_uuid FROM gpu_samples").scalars().all()
    return refresh_gpu_hours(conn, hours, uuids) if hours else 0


def refresh_inference_hourly(conn: Connection, lo: datetime, hi: datetime) -> None:
    """Recompute the inference hourly rollup for every hour touched by [lo, hi]."""
    conn.execute(sa.text("DELETE FROM inference_hourly WHERE hour_at >= date_trunc('hour', CAST(:lo AS timestamptz)) "
                         "AND hour_at <= date_trunc('hour', CAST(:hi AS timestamptz))"), {"lo": lo, "hi": hi})
    conn.execute(sa.text(_INFERENCE_HOURLY), {"lo": lo, "hi": hi})


def refresh_inference_latency_hourly(conn: Connection, lo: datetime, hi: datetime) -> None:
    """Recompute the hourly latency-histogram bucket increases for every hour touched by [lo, hi]."""
    conn.execute(sa.text("DELETE FROM inference_latency_hourly WHERE hour_at >= date_trunc('hour', "
                         "CAST(:lo AS timestamptz)) AND hour_at <= date_trunc('hour', CAST(:hi AS timestamptz))"),
                 {"lo": lo, "hi": hi})
    conn.execute(sa.text(_LATENCY_HOURLY), {"lo": lo, "hi": hi})


def drop_raw_partitions_before(conn: Connection, cutoff: datetime) -> list[str]:
    """Drop raw GPU sample partitions wholly before cutoff (retention); rollups are kept."""
    names = conn.execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'gpu_samples' AND c.relname ~ '^gpu_samples_p[0-9]{8}$'"
    )).scalars().all()
    dropped = []
    for name in sorted(names):
        day = datetime.strptime(name[-8:], "%Y%m%d").replace(tzinfo=cutoff.tzinfo)
        if day.date() < cutoff.date():
            conn.exec_driver_sql(f"DROP TABLE {name}")
            dropped.append(name)
    return dropped
