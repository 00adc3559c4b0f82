"""Hourly rollups of raw telemetry, maintained on load; everything downstream reads them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

BUSY_THRESHOLD_PCT = 5.0  # a sample above this counts as busy time

_GPU_HOURLY = """
INSERT INTO gpu_hourly (hour_at, gpu_uuid, mig_instance, mig_profile, host, model_name, namespace, pod, samples,
    utilization_mean_pct, utilization_max_pct, busy_fraction, power_mean_watts,
    memory_used_max_bytes, memory_total_bytes, is_demo)
SELECT date_trunc('hour', sampled_at) AS hour_at, gpu_uuid, mig_instance, max(mig_profile),
       max(host), max(model_name), max(namespace), max(pod), count(*),
       avg(utilization_pct), max(utilization_pct),
       avg(CASE WHEN utilization_pct IS NULL THEN NULL WHEN utilization_pct > :busy THEN 1.0 ELSE 0.0 END),
       avg(power_watts), max(memory_used_bytes), max(memory_total_bytes), bool_and(is_demo)
FROM gpu_samples
WHERE sampled_at >= date_trunc('hour', CAST(:lo AS timestamptz))
  AND sampled_at < date_trunc('hour', CAST(:hi AS timestamptz)) + interval '1 hour'
  {only_gpus}
GROUP BY 1, 2, 3
"""

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


def refresh_gpu_hourly(conn: Connection, lo: datetime, hi: datetime, gpu_uuids: Sequence[str] | None = None) -> None:
    """Recompute the GPU hourly rollup for every hour touched by [lo, hi] (only these GPUs, if given)."""
    # A daemon tick of one host must not re-aggregate the whole fleet's hour, only its own GPUs.
    only = "AND gpu_uuid = ANY(:uuids)" if gpu_uuids is not None else ""
    params = {"lo": lo, "hi": hi, "busy": BUSY_THRESHOLD_PCT, "uuids": list(gpu_uuids or [])}
    conn.execute(sa.text("DELETE FROM gpu_hourly WHERE hour_at >= date_trunc('hour', CAST(:lo AS timestamptz)) "
                         f"AND hour_at <= date_trunc('hour', CAST(:hi AS timestamptz)) {only}"), params)
    conn.execute(sa.text(_GPU_HOURLY.format(only_gpus=only)), params)


def refresh_inference_hourly(conn: Connection, lo: datetime, hi: datetime) -> None:
    """Recompute the inference hourly rollup for every hour touched by [lo, hi]."""
    conn.execute(sa.text("DELETE FROM inference_hourly WHERE hour_at >= date_trunc('hour', CAST(:lo AS timestamptz)) "
                         "AND hour_at <= date_trunc('hour', CAST(:hi AS timestamptz))"), {"lo": lo, "hi": hi})
    conn.execute(sa.text(_INFERENCE_HOURLY), {"lo": lo, "hi": hi})


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
