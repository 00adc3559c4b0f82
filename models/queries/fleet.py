"""GPU fleet signals from the hourly rollups: utilisation, busy and idle hours, idle cost, capacity.

Everything reads ``gpu_hourly`` and ``inference_hourly`` (never raw samples), so it works
the same for NVML/dcgm/nvidia-smi data and for Prometheus fleet aggregates. A MIG parent and
its instances are one physical GPU (models.rollups.physical_gpu_hours): one GPU, one GPU-hour
an hour, busy by its instances' profiling metrics weighted by their slices. Hours whose
utilisation is unknown count neither as busy nor idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from urllib.parse import urlparse

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.rollups import physical_gpu_hours

HOURS_PER_MONTH = 730  # the ECONOMICS.md convention


@dataclass(frozen=True)
class SignalThresholds:
    """When a GPU or pool raises a signal; every field is configurable."""

    breakeven_util_pct: float = 30.0  # below_breakeven: mean utilisation under this
    saturated_util_pct: float = 90.0  # add_capacity: p95 above this ...
    sustained_hours: int = 3  # ... with at least this many hours above it
    queue_waiting_mean: float = 1.0  # add_capacity: mean waiting requests above this ...
    queue_hours: int = 3  # ... for at least this many hours
    kv_cache_frac: float = 0.9  # add_capacity: KV cache peak above this


# One row per physical GPU and hour: utilisation and busy share are the instances' weighted sum.
_PHYSICAL_HOURS = f"""
SELECT hour_at, gpu_uuid, max(host) AS host, max(model_name) AS model_name,
       string_agg(DISTINCT nullif(mig_instance, ''), ',') AS instances,
       CASE WHEN count(utilization_mean_pct) FILTER (WHERE weight > 0) > 0
            THEN sum(utilization_mean_pct * weight) FILTER (WHERE weight > 0) END AS utilization,
       CASE WHEN count(busy_fraction) FILTER (WHERE weight > 0) > 0
            THEN least(sum(busy_fraction * weight) FILTER (WHERE weight > 0), 1.0) END AS busy,
       max(gpu_power_watts) AS power
FROM ({physical_gpu_hours("g.hour_at >= :since AND g.hour_at < :until")}) p
GROUP BY hour_at, gpu_uuid
"""

_PER_GPU = f"""
WITH h AS ({_PHYSICAL_HOURS})
SELECT gpu_uuid, coalesce(string_agg(DISTINCT instances, ','), '') AS mig_instance, max(host) AS host,
       max(model_name) AS model,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY utilization) AS utilization_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY utilization) AS utilization_p95,
       avg(utilization) AS utilization_mean,
       avg(power) AS power_mean_watts,
       count(*) FILTER (WHERE busy IS NOT NULL) AS hours,
       coalesce(sum(busy), 0) AS busy_hours,
       coalesce(sum(1 - busy), 0) AS idle_cost_gpu_hours,
       count(*) FILTER (WHERE utilization > :hot) AS hot_hours
FROM h GROUP BY gpu_uuid ORDER BY 3, 1
"""

_PER_POOL = f"""
WITH h AS ({_PHYSICAL_HOURS})
SELECT host, count(DISTINCT gpu_uuid) AS gpus,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY utilization) AS utilization_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY utilization) AS utilization_p95,
       avg(power) AS power_mean_watts
FROM h GROUP BY host ORDER BY host
"""

_INFERENCE = """
SELECT endpoint, count(*) FILTER (WHERE requests_waiting_mean > :q) AS queued_hours,
       max(kv_cache_max_frac) AS kv_cache_max_frac
FROM inference_hourly WHERE hour_at >= :since AND hour_at < :until GROUP BY endpoint ORDER BY endpoint
"""

FLEET_SCHEMA = {
    "gpu_uuid": pl.String, "mig_instance": pl.String, "host": pl.String, "model": pl.String,
    "utilization_p50": pl.Float64, "utilization_p95": pl.Float64, "utilization_mean": pl.Float64,
    "power_mean_watts": pl.Float64, "hours": pl.Int64, "busy_hours": pl.Float64, "idle_hours": pl.Float64,
    "cost_profile": pl.String, "gpu_hour_cost_usd": pl.Float64, "idle_cost_usd": pl.Float64,
    "signals": pl.List(pl.String),
}


def gpu_hour_cost_usd(profile: dict) -> float | None:
    """USD per GPU-hour of a cost profile (ECONOMICS.md); None when a field it needs is missing."""
    ops = float(profile.get("ops_usd_per_gpu_month") or 0) / HOURS_PER_MONTH
    if profile.get("pricing") == "rent":
        rate = profile.get("hourly_rate_usd")
        return None if rate is None else float(rate) + ops
    needed = ("purchase_price_usd", "amortization_months", "power_watts", "pue", "electricity_usd_per_kwh")
    if any(profile.get(k) is None for k in needed) or not profile["amortization_months"]:
        return None
    return (float(profile["purchase_price_usd"]) / (profile["amortization_months"] * HOURS_PER_MONTH)
            + profile["power_watts"] / 1000 * profile["pue"] * float(profile["electricity_usd_per_kwh"]) + ops)


def cost_profiles(conn: Connection) -> list[dict]:
    """Every GPU cost profile, most specific host pattern first (fewest wildcards, longest)."""
    rows = conn.execute(sa.text("SELECT * FROM gpu_cost_profiles ORDER BY id")).mappings().all()
    profiles = [dict(r) for r in rows]
    return sorted(profiles, key=lambda p: (("*" in p["host_pattern"]) + ("?" in p["host_pattern"]),
                                           -len(p["host_pattern"]), p["id"]))


def match_profile(host: str, profiles: list[dict]) -> dict | None:
    """The first profile whose host_pattern glob matches host, or None."""
    return next((p for p in profiles if fnmatchcase(host, p["host_pattern"] or "*")), None)


def _frame(rows, schema: dict) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _window(since: datetime, until: datetime) -> dict:
    return {"since": since, "until": until}


def inference_pressure(conn: Connection, since: datetime, until: datetime,
                       thresholds: SignalThresholds = SignalThresholds()) -> pl.DataFrame:
    """Per inference endpoint: hours with a queue over the threshold, KV cache peak, and its host."""
    rows = conn.execute(sa.text(_INFERENCE), {**_window(since, until), "q": thresholds.queue_waiting_mean}).all()
    df = _frame(rows, {"endpoint": pl.String, "queued_hours": pl.Int64, "kv_cache_max_frac": pl.Float64})
    hosts = [urlparse(e).hostname or e for e in df["endpoint"].to_list()]
    saturated = [(q >= thresholds.queue_hours) or (kv is not None and kv > thresholds.kv_cache_frac)
                 for q, kv in zip(df["queued_hours"].to_list(), df["kv_cache_max_frac"].to_list())]
    return df.with_columns(pl.Series("host", hosts, pl.String), pl.Series("saturated", saturated, pl.Boolean))


def fleet_gpus(conn: Connection, since: datetime, until: datetime,
               thresholds: SignalThresholds = SignalThresholds()) -> pl.DataFrame:
    """One row per physical GPU (a MIG GPU once, its instances listed in mig_instance): percentiles, power,
    busy/idle hours, idle cost, signals."""
    rows = conn.execute(sa.text(_PER_GPU), {**_window(since, until), "hot": thresholds.saturated_util_pct}).all()
    profiles = cost_profiles(conn)
    # An inference endpoint on a host with a long queue or a full KV cache needs more GPUs there.
    pressured = set(inference_pressure(conn, since, until, thresholds).filter(pl.col("saturated"))["host"].to_list())
    out = []
    for r in rows:
        idle_hours = float(r.hours) - float(r.busy_hours)
        profile = match_profile(r.host, profiles)
        rate = gpu_hour_cost_usd(profile) if profile else None
        signals = []
        p95 = r.utilization_p95
        if (p95 is not None and p95 > thresholds.saturated_util_pct and r.hot_hours >= thresholds.sustained_hours) \
                or r.host in pressured:
            signals.append("add_capacity")
        if r.utilization_mean is not None and r.utilization_mean < thresholds.breakeven_util_pct:
            signals.append("below_breakeven")
        out.append((r.gpu_uuid, r.mig_instance, r.host, r.model, r.utilization_p50, p95, r.utilization_mean,
                    r.power_mean_watts, int(r.hours), float(r.busy_hours), idle_hours,
                    profile["name"] if profile else "no cost profile", rate,
                    rate * float(r.idle_cost_gpu_hours) if rate is not None else None, signals))
    return pl.DataFrame(out, schema=FLEET_SCHEMA, orient="row")


def fleet_summary(conn: Connection, since: datetime, until: datetime,
                  thresholds: SignalThresholds = SignalThresholds()) -> pl.DataFrame:
    """One row per pool (host): GPUs, utilisation p50/p95 over all its GPU-hours, busy/idle hours, idle cost."""
    pools = _frame(conn.execute(sa.text(_PER_POOL), _window(since, until)).all(), {
        "host": pl.String, "gpus": pl.Int64, "utilization_p50": pl.Float64, "utilization_p95": pl.Float64,
        "power_mean_watts": pl.Float64})
    gpus = fleet_gpus(conn, since, until, thresholds)
    per_host = gpus.group_by("host").agg(
        pl.col("busy_hours").sum(), pl.col("idle_hours").sum(),
        # null, not 0, when no GPU of the pool has a cost profile
        pl.when(pl.col("idle_cost_usd").is_not_null().any()).then(pl.col("idle_cost_usd").sum()).alias("idle_cost_usd"),
        (pl.col("cost_profile") == "no cost profile").sum().cast(pl.Int64).alias("gpus_without_cost_profile"),
        pl.col("signals").list.contains("add_capacity").sum().cast(pl.Int64).alias("add_capacity_gpus"),
        pl.col("signals").list.contains("below_breakeven").sum().cast(pl.Int64).alias("below_breakeven_gpus"),
    )
    return pools.join(per_host, on="host", how="left").sort("host")


def gpu_heatmap(conn: Connection, since: datetime, until: datetime) -> pl.DataFrame:
    """GPU x hour utilisation (long form): gpu label, hour_at, mean utilisation, busy fraction."""
    rows = conn.execute(sa.text(
        "SELECT host || '/' || gpu_uuid || CASE WHEN mig_instance = '' THEN '' ELSE ':' || mig_instance END, "
        "hour_at, utilization_mean_pct, busy_fraction FROM gpu_hourly "
        "WHERE hour_at >= :since AND hour_at < :until ORDER BY 1, 2"), _window(since, until)).all()
    return _frame(rows, {"gpu": pl.String, "hour_at": pl.Datetime("us", "UTC"),
                         "utilization_mean_pct": pl.Float64, "busy_fraction": pl.Float64})


def inference_saturation(conn: Connection, since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint and hour: queue depth, KV cache peak, observed generation tok/s vs tok/s measured at saturation."""
    rows = _saturation_rows(conn, since, until)
    df = _frame(rows, {"endpoint": pl.String, "model_name": pl.String, "hour_at": pl.Datetime("us", "UTC"),
                       "requests_waiting_mean": pl.Float64, "requests_waiting_max": pl.Float64,
                       "kv_cache_max_frac": pl.Float64, "generation_tokens_per_s_observed": pl.Float64,
                       "generation_tokens_per_s_saturated": pl.Float64, "saturated_seconds": pl.Float64,
                       "capacity_tokens_per_s": pl.Float64})
    return df.with_columns((pl.col("generation_tokens_per_s_observed") / pl.col("capacity_tokens_per_s"))
                           .alias("load_vs_capacity"))


def _saturation_rows(conn: Connection, since: datetime, until: datetime):
    # Capacity = median of the hourly tok/s measured while requests were waiting (ordered-set
    # aggregates cannot be window functions, hence the join).
    return conn.execute(sa.text("""
        WITH cap AS (
            SELECT endpoint, model_name,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY generation_tokens_per_s_saturated) AS capacity
            FROM inference_hourly WHERE hour_at >= :since AND hour_at < :until GROUP BY 1, 2)
        SELECT i.endpoint, i.model_name, i.hour_at, i.requests_waiting_mean, i.requests_waiting_max,
               i.kv_cache_max_frac, i.generation_tokens / 3600.0, i.generation_tokens_per_s_saturated,
               i.saturated_seconds, cap.capacity
        FROM inference_hourly i JOIN cap USING (endpoint, model_name)
        WHERE i.hour_at >= :since AND i.hour_at < :until ORDER BY 1, 2, 3"""), _window(since, until)).all()
