"""GPU fleet views from the hourly rollups: utilization per GPU and hour, idle cost, inference saturation.

Used until the gpu2 branch's `models/queries/fleet.py` lands; same shapes the page needs.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from models.queries.frames import frame
from models.queries.gpu_spend import PROFILE_JOIN

GPU_HOURS = f"""
SELECT g.hour_at AS hour, g.host, g.gpu_uuid, g.model_name,
       coalesce(g.utilization_mean_pct, 0) AS utilization_pct, coalesce(g.busy_fraction, 0) AS busy_fraction,
       coalesce(g.power_mean_watts, 0) AS power_watts,
       CAST(prof.usd_per_gpu_hour AS double precision) AS usd_per_gpu_hour,
       CAST(prof.usd_per_gpu_hour * CAST(1 - coalesce(g.busy_fraction, g.utilization_mean_pct / 100.0, 0) AS numeric)
            AS double precision) AS idle_cost_usd
FROM gpu_hourly g {PROFILE_JOIN}
WHERE g.hour_at >= :since AND g.hour_at < :until AND g.mig_instance = ''
ORDER BY 1, 2, 3
"""

INFERENCE = """
SELECT hour_at AS hour, endpoint, model_name, workload, prompt_tokens, generation_tokens,
       requests_running_mean, requests_waiting_mean, requests_waiting_max, kv_cache_max_frac,
       saturated_seconds, generation_tokens_per_s_saturated
FROM inference_hourly WHERE hour_at >= :since AND hour_at < :until ORDER BY 1, 2
"""


def gpu_hours(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """One row per GPU and hour: mean utilization %, busy fraction, power, USD per GPU-hour and idle USD."""
    return frame(conn, GPU_HOURS, {"since": since, "until": until}, {
        "hour": pl.Datetime("us", "UTC"), "host": pl.String, "gpu_uuid": pl.String, "model_name": pl.String,
        "utilization_pct": pl.Float64, "busy_fraction": pl.Float64, "power_watts": pl.Float64,
        "usd_per_gpu_hour": pl.Float64, "idle_cost_usd": pl.Float64})


def inference_hours(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """One row per inference endpoint and hour: tokens, queue depth, KV cache and saturated decode rate."""
    return frame(conn, INFERENCE, {"since": since, "until": until}, {
        "hour": pl.Datetime("us", "UTC"), "endpoint": pl.String, "model_name": pl.String, "workload": pl.String,
        "prompt_tokens": pl.Float64, "generation_tokens": pl.Float64, "requests_running_mean": pl.Float64,
        "requests_waiting_mean": pl.Float64, "requests_waiting_max": pl.Float64, "kv_cache_max_frac": pl.Float64,
        "saturated_seconds": pl.Float64, "generation_tokens_per_s_saturated": pl.Float64})


def fleet_summary(gpus: pl.DataFrame) -> dict[str, float | int | None]:
    """GPU count, GPU-hours, mean utilization %, total and idle cost (USD), unpriced GPU-hours."""
    if gpus.is_empty():
        return {"gpus": 0, "gpu_hours": 0, "utilization_pct": None, "cost_usd": 0.0, "idle_cost_usd": 0.0,
                "unpriced_gpu_hours": 0}
    return {"gpus": gpus["gpu_uuid"].n_unique(), "gpu_hours": gpus.height,
            "utilization_pct": float(gpus["utilization_pct"].mean()),
            "cost_usd": float(gpus["usd_per_gpu_hour"].fill_null(0).sum()),
            "idle_cost_usd": float(gpus["idle_cost_usd"].fill_null(0).sum()),
            "unpriced_gpu_hours": int(gpus["usd_per_gpu_hour"].is_null().sum())}


def per_gpu(gpus: pl.DataFrame) -> pl.DataFrame:
    """Per GPU: hours seen, mean utilization %, cost and idle cost (USD)."""
    return (gpus.group_by("host", "gpu_uuid", "model_name")
            .agg(pl.len().alias("hours"), pl.col("utilization_pct").mean(),
                 pl.col("usd_per_gpu_hour").sum().alias("cost_usd"), pl.col("idle_cost_usd").sum())
            .sort("host", "gpu_uuid"))


def capacity_signals(inference: pl.DataFrame, gpus: pl.DataFrame, *, breakeven_utilization_pct: float = 40.0,
                     queue_hours_share: float = 0.1) -> pl.DataFrame:
    """Per endpoint: 'add capacity' when requests queued in over `queue_hours_share` of hours or KV cache
    hit 95 %; and per GPU 'below breakeven' when mean utilization is under `breakeven_utilization_pct`."""
    rows: list[dict] = []
    if not inference.is_empty():
        per_endpoint = inference.group_by("endpoint", "model_name").agg(
            (pl.col("requests_waiting_max").fill_null(0) > 0).mean().alias("queued_hours_share"),
            pl.col("kv_cache_max_frac").max().alias("kv_cache_peak"),
            pl.col("requests_waiting_mean").mean().alias("queue_mean"))
        for r in per_endpoint.iter_rows(named=True):
            if (r["queued_hours_share"] or 0) > queue_hours_share or (r["kv_cache_peak"] or 0) >= 0.95:
                rows.append({"signal": "add capacity", "subject": f"{r['endpoint']} ({r['model_name']})",
                             "why": f"queued in {r['queued_hours_share'] * 100:.0f} % of hours, "
                                    f"KV cache peak {(r['kv_cache_peak'] or 0) * 100:.0f} %"})
    if not gpus.is_empty():
        for r in per_gpu(gpus).iter_rows(named=True):
            if r["utilization_pct"] < breakeven_utilization_pct:
                rows.append({"signal": "below breakeven", "subject": f"{r['host']} / {r['gpu_uuid']}",
                             "why": f"mean utilization {r['utilization_pct']:.0f} % < {breakeven_utilization_pct:.0f} %"})
    return pl.DataFrame(rows, schema={"signal": pl.String, "subject": pl.String, "why": pl.String})


def saturated_throughput(inference: pl.DataFrame) -> pl.DataFrame:
    """Per endpoint: measured generation tok/s per replica while requests were queued (saturation)."""
    if inference.is_empty():
        return pl.DataFrame(schema={"endpoint": pl.String, "model_name": pl.String, "saturated_hours": pl.Float64,
                                    "generation_tokens_per_s": pl.Float64})
    sat = inference.filter(pl.col("generation_tokens_per_s_saturated").is_not_null())
    return sat.group_by("endpoint", "model_name").agg(
        (pl.col("saturated_seconds").sum() / 3600).alias("saturated_hours"),
        ((pl.col("generation_tokens_per_s_saturated") * pl.col("saturated_seconds")).sum()
         / pl.col("saturated_seconds").sum()).alias("generation_tokens_per_s")).sort("endpoint")
