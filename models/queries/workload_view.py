"""Dashboard views of a workload's hourly tokens: provider usage buckets, request logs where no bucket exists,
and tokens served by its own GPU endpoints (inference_hourly rows tagged with the workload)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import polars as pl
from sqlalchemy import Connection

from models.queries.frames import frame
from models.queries.request_hours import HOURLY_DAYS_CTE, prefer_hash_grouping, request_hours_cte
from models.queries.sql_fragments import attribution_join

WORKLOAD_HOURLY = f"""
WITH hourly_days AS ({HOURLY_DAYS_CTE}
), request_hours AS ({request_hours_cte()}
)
SELECT hour, source, provider, model, sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens,
       sum(output_tokens) AS output_tokens, sum(reasoning_tokens) AS reasoning_tokens
FROM (
    SELECT date_trunc('hour', u.bucket_start_at) AS hour, 'api' AS source, u.provider, u.model, u.input_tokens,
           u.cached_input_tokens, u.output_tokens, u.reasoning_tokens
    FROM usage_hourly u {attribution_join('u')}
    WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until
      AND coalesce(wl.workload, 'unallocated') = :workload
    UNION ALL
    SELECT q.started_at, 'api', q.provider, q.model, q.input_tokens, q.cached_input_tokens, q.output_tokens, q.reasoning_tokens
    FROM request_hours q {attribution_join('q', has_tags=True)}
    WHERE coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated') = :workload
    UNION ALL
    SELECT i.hour_at, 'gpu', 'self-hosted', i.model_name, CAST(i.prompt_tokens AS bigint), 0, CAST(i.generation_tokens AS bigint), 0
    FROM inference_hourly i
    WHERE i.hour_at >= :since AND i.hour_at < :until AND i.workload = :workload
) x
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
"""

SCHEMA = {"hour": pl.Datetime("us", "UTC"), "source": pl.String, "provider": pl.String, "model": pl.String,
          "input_tokens": pl.Int64,
          "cached_input_tokens": pl.Int64, "output_tokens": pl.Int64, "reasoning_tokens": pl.Int64}
TOKEN_COLUMNS = ["input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens"]


def workloads(conn: Connection) -> pl.DataFrame:
    """Every workload with its team and whether people wait on it."""
    return frame(conn, "SELECT name, team, interactive, description FROM workloads ORDER BY name", {},
                 {"name": pl.String, "team": pl.String, "interactive": pl.Boolean, "description": pl.String})


def workload_hourly(conn: Connection, *, workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """Tokens per UTC hour, source ('api' or 'gpu'), provider and model for one workload (input includes cached)."""
    prefer_hash_grouping(conn)
    return frame(conn, WORKLOAD_HOURLY, {"since": since, "until": until, "workload": workload}, SCHEMA)


def demand_frame(hourly: pl.DataFrame, *, since: datetime, until: datetime) -> pl.DataFrame:
    """All sources summed per hour, with every hour of [since, until) present (zero where no tokens)."""
    hours = pl.DataFrame({"hour": pl.datetime_range(since, until, "1h", closed="left", time_zone="UTC",
                                                    eager=True).dt.cast_time_unit("us")})
    summed = hourly.group_by("hour").agg(pl.col(c).sum() for c in TOKEN_COLUMNS)
    return hours.join(summed, on="hour", how="left").with_columns(
        pl.col(c).fill_null(0) for c in TOKEN_COLUMNS).sort("hour")


def hourly_shape(demand: pl.DataFrame) -> pl.DataFrame:
    """Mean tokens per hour by weekday (0 = Monday) and UTC hour of day."""
    return (demand.with_columns((pl.col("input_tokens") + pl.col("output_tokens")).alias("tokens"),
                                (pl.col("hour").dt.weekday() - 1).alias("weekday"),
                                pl.col("hour").dt.hour().alias("hour_of_day"))
            .group_by("weekday", "hour_of_day").agg(pl.col("tokens").mean()).sort("weekday", "hour_of_day"))


def weekly(demand: pl.DataFrame) -> pl.DataFrame:
    """Tokens per week (weeks start on Monday), with growth % against the week before."""
    out = (demand.with_columns(pl.col("hour").dt.truncate("1w").alias("week_start"))
           .group_by("week_start").agg(*[pl.col(c).sum() for c in TOKEN_COLUMNS], pl.len().alias("hours"))
           .with_columns((pl.col("input_tokens") + pl.col("output_tokens")).alias("tokens"))
           .sort("week_start"))
    return out.with_columns(
        pl.when(pl.col("tokens").shift(1) > 0).then((pl.col("tokens") / pl.col("tokens").shift(1) - 1) * 100)
        .otherwise(None).alias("growth_pct"))


HOURS_PER_WEEK = 168


def complete_weeks(weeks: pl.DataFrame) -> pl.DataFrame:
    """The weeks of a `weekly` frame with all 168 hours, growth % against the complete week just before.

    A week cut by the range's ends (or still in progress) is left out: its tokens would read as a
    fall (or a rise) that did not happen, and forecasts would fit it as a whole week.
    """
    full = weeks.filter(pl.col("hours") == HOURS_PER_WEEK).sort("week_start")
    before = pl.col("week_start").shift(1)
    return full.with_columns(
        pl.when((pl.col("tokens").shift(1) > 0) & (pl.col("week_start") - before == pl.duration(days=7)))
        .then((pl.col("tokens") / pl.col("tokens").shift(1) - 1) * 100).otherwise(None).alias("growth_pct"))


def token_mix(demand: pl.DataFrame) -> pl.DataFrame:
    """Totals of uncached input, cached input, output without reasoning and reasoning tokens."""
    s = {c: int(demand[c].sum()) if not demand.is_empty() else 0 for c in TOKEN_COLUMNS}
    return pl.DataFrame({
        "kind": ["input (uncached)", "input (cached)", "output (not reasoning)", "reasoning"],
        "tokens": [s["input_tokens"] - s["cached_input_tokens"], s["cached_input_tokens"],
                   s["output_tokens"] - s["reasoning_tokens"], s["reasoning_tokens"]],
    })


def synthetic_demand(monthly_tokens: float, *, input_share: float = 0.8, start: datetime | None = None) -> pl.DataFrame:
    """A 4-week diurnal demand (busy 08-20 UTC weekdays) totalling `monthly_tokens` per 730 hours."""
    start = start or datetime(2026, 1, 5, tzinfo=timezone.utc)
    hours = pl.datetime_range(start, start + timedelta(days=28), "1h", closed="left", time_zone="UTC",
                              eager=True).dt.cast_time_unit("us")
    weights = [(1.0 + 2.0 * (8 <= h.hour < 20)) * (0.4 if h.weekday() >= 5 else 1.0)
               + 0.2 * math.sin(h.hour / 24 * 2 * math.pi) for h in hours]
    per_hour = monthly_tokens * len(weights) / 730 / sum(weights)
    total = [w * per_hour for w in weights]
    return pl.DataFrame({"hour": hours,
                         "input_tokens": [round(t * input_share) for t in total],
                         "cached_input_tokens": [0] * len(total),
                         "output_tokens": [round(t * (1 - input_share)) for t in total],
                         "reasoning_tokens": [0] * len(total)})
