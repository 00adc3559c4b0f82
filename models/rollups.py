"""Hourly rollups of raw telemetry, maintained on load; everything downstream reads them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

BUSY_THRESHOLD_PCT = 5.0  # a sample above this counts as busy time

_GPU_HOURLY = """
INSERT INTO gpu_hourly (hour_at, gpu_uuid, mig_instance, host, model_name, namespace, pod, samples,
    utilization_mean_pct, utilization_max_pct, busy_fraction, power_mean_watts,
    memory_used_max_bytes, memory_total_bytes, is_demo)
SELECT date_trunc('hour', sampled_at) AS hour_at, gpu_uuid, mig_instance,
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
