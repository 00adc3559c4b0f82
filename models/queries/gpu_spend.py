"""GPU spend: every GPU-hour in gpu_hourly priced by the cost profile whose host pattern matches.

Hourly cost per GPU (ECONOMICS.md):
- buy:  purchase / (amortization_months * 730) + power_watts / 1000 * pue * electricity + ops / 730
- rent: hourly_rate + ops / 730
A GPU whose host matches no profile is counted as unpriced GPU-hours, never as $0. A MIG GPU
counts once: its instances share its GPU-hour by their slices.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from models.queries.frames import frame
from models.rollups import physical_gpu_hours

HOURS_PER_MONTH = 730

# NUMERIC expression: USD per GPU-hour of a gpu_cost_profiles row `gp`.
PROFILE_HOURLY_USD = """(CASE gp.pricing
    WHEN 'rent' THEN coalesce(gp.hourly_rate_usd, 0) + gp.ops_usd_per_gpu_month / 730
    ELSE coalesce(gp.purchase_price_usd, 0) / (nullif(gp.amortization_months, 0) * 730)
         + CAST(coalesce(gp.power_watts, 0) AS numeric) / 1000 * CAST(coalesce(gp.pue, 1) AS numeric)
           * coalesce(gp.electricity_usd_per_kwh, 0)
         + gp.ops_usd_per_gpu_month / 730 END)"""

PROFILE_JOIN = f"""
    LEFT JOIN LATERAL (
        SELECT gp.name AS profile, gp.gpu_type, gp.pricing, {PROFILE_HOURLY_USD} AS usd_per_gpu_hour
        FROM gpu_cost_profiles gp
        WHERE g.host LIKE replace(replace(gp.host_pattern, '*', '%'), '?', '_')
        -- the most specific pattern wins, as in models.queries.fleet.cost_profiles
        ORDER BY (CAST(position('*' IN gp.host_pattern) > 0 AS int) + CAST(position('?' IN gp.host_pattern) > 0 AS int)),
                 length(gp.host_pattern) DESC, gp.id LIMIT 1
    ) prof ON TRUE"""

GPU_SPEND_DAILY = f"""
-- one physical GPU-hour per GPU and hour: a MIG GPU's instances share its busy time, never add GPUs
SELECT CAST((g.hour_at AT TIME ZONE 'UTC') AS date) AS day, coalesce(prof.profile, '') AS profile,
       coalesce(prof.gpu_type, '') AS gpu_type, coalesce(prof.pricing, '') AS pricing,
       sum(g.gpu_hours) AS gpu_hours,
       CAST(sum(prof.usd_per_gpu_hour * g.gpu_hours) AS double precision) AS cost_usd,
       CAST(sum(prof.usd_per_gpu_hour * CAST(g.gpu_hours - g.weight
                * coalesce(g.busy_fraction, g.utilization_mean_pct / 100.0, 0) AS numeric)) AS double precision)
           AS idle_cost_usd,
       sum(g.gpu_hours) FILTER (WHERE prof.profile IS NULL) AS unpriced_gpu_hours
FROM ({physical_gpu_hours("g.hour_at >= :since AND g.hour_at < :until")}) g {PROFILE_JOIN}
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2
"""

SCHEMA = {"day": pl.Date, "profile": pl.String, "gpu_type": pl.String, "pricing": pl.String,
          "gpu_hours": pl.Int64, "cost_usd": pl.Float64, "idle_cost_usd": pl.Float64,
          "unpriced_gpu_hours": pl.Int64}


def gpu_spend_daily(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """GPU-hours, cost and idle cost (USD) per UTC day and cost profile."""
    return frame(conn, GPU_SPEND_DAILY, {"since": since, "until": until}, SCHEMA)


def cost_profiles(conn: Connection) -> pl.DataFrame:
    """Every GPU cost profile with its USD per GPU-hour by the ECONOMICS.md formula."""
    return frame(conn, f"""
        SELECT gp.name, gp.gpu_type, gp.gpu_count, gp.pricing, gp.host_pattern,
               CAST({PROFILE_HOURLY_USD} AS double precision) AS usd_per_gpu_hour,
               CAST(gp.hourly_rate_usd AS double precision), CAST(gp.purchase_price_usd AS double precision),
               gp.amortization_months, gp.power_watts, gp.pue,
               CAST(gp.electricity_usd_per_kwh AS double precision),
               CAST(gp.ops_usd_per_gpu_month AS double precision)
        FROM gpu_cost_profiles gp ORDER BY gp.id""", {}, {
        "name": pl.String, "gpu_type": pl.String, "gpu_count": pl.Int64, "pricing": pl.String,
        "host_pattern": pl.String, "usd_per_gpu_hour": pl.Float64, "hourly_rate_usd": pl.Float64,
        "purchase_price_usd": pl.Float64, "amortization_months": pl.Int64, "power_watts": pl.Float64,
        "pue": pl.Float64, "electricity_usd_per_kwh": pl.Float64, "ops_usd_per_gpu_month": pl.Float64})
