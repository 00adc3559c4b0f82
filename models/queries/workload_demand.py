"""A workload's hourly demand and what it costs on tokens, from the database, for the planning path.

Every hour of [since, until) is one row. API tokens come from provider usage buckets and, for a
provider, account and UTC day with no bucket, from request logs summed per hour and key (the same
rule as the dashboard's token views); each is priced per model at the prices in effect that day.
Tokens the workload's own inference servers served are priced as the API model they replaced,
by token kind, at that model's prices in effect that day: prompt tokens as input (vLLM does not
report which of them hit its prefix cache) and generated tokens as output.

No range join: requests meet buckets on (provider, account, day) and local rows on the hour.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.queries.request_hours import HOURLY_DAYS_CTE, prefer_hash_grouping, request_hours_cte
from models.queries.sql_fragments import attribution_join, price_join, priced_cost


class NotHourlyError(ValueError):
    """The workload has usage in the period but only at daily (or coarser) grain."""


_SQL = f"""
WITH hours AS (
    SELECT generate_series(CAST(:since AS timestamptz), CAST(:until AS timestamptz) - interval '1 hour',
                           interval '1 hour') AS hour
), hourly_days AS ({HOURLY_DAYS_CTE}
), request_hours AS ({request_hours_cte()}
), api_rows AS (
    SELECT date_trunc('hour', u.bucket_start_at) AS hour, u.input_tokens, u.cached_input_tokens, u.output_tokens,
           {priced_cost('u')} AS cost, 1 AS rows_,
           (u.bucket_end_at - u.bucket_start_at) <= interval '1 hour' AS hourly
    FROM usage_hourly u {price_join('u', 'bucket_start_at')} {attribution_join('u')}
    WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until AND wl.workload = :workload
    UNION ALL
    SELECT q.started_at, q.input_tokens, q.cached_input_tokens, q.output_tokens,
           coalesce({priced_cost('q', cache_write=False)}, CASE WHEN q.unreported_rows = 0 THEN q.reported_cost_usd END),
           q.rows_, TRUE
    FROM request_hours q {price_join('q', 'started_at')} {attribution_join('q', has_tags=True)}
    WHERE coalesce(nullif(q.workload_tag, ''), wl.workload) = :workload
), api_hourly AS (
    SELECT hour, sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens,
           sum(output_tokens) AS output_tokens, sum(cost) AS cost,
           sum(rows_) FILTER (WHERE cost IS NULL) AS unpriced_rows, bool_and(hourly) AS hourly
    FROM api_rows GROUP BY 1
), local_rows AS (
    SELECT hour_at AS hour, sum(prompt_tokens) AS input_tokens, sum(generation_tokens) AS output_tokens
    FROM inference_hourly WHERE workload = :workload AND hour_at >= :since AND hour_at < :until
    GROUP BY 1
), local_priced AS (
    SELECT l.hour, l.input_tokens, l.output_tokens,
           (l.input_tokens * p.input_usd_per_mtok + l.output_tokens * p.output_usd_per_mtok) / 1000000.0 AS cost
    FROM local_rows l LEFT JOIN LATERAL (
        SELECT pr.input_usd_per_mtok, pr.output_usd_per_mtok FROM prices pr
        WHERE pr.provider = :replaced_provider AND pr.model = :replaced_model AND pr.above_context_tokens = 0
          AND NOT pr.pending AND pr.input_usd_per_mtok IS NOT NULL AND pr.output_usd_per_mtok IS NOT NULL
          AND pr.effective_from <= CAST((l.hour AT TIME ZONE 'UTC') AS date)
        ORDER BY pr.effective_from DESC LIMIT 1
    ) p ON TRUE
)
SELECT h.hour, coalesce(a.input_tokens, 0) AS api_input_tokens, coalesce(a.cached_input_tokens, 0) AS api_cached_tokens,
       coalesce(a.output_tokens, 0) AS api_output_tokens, coalesce(a.cost, 0) AS api_cost_usd,
       coalesce(a.unpriced_rows, 0) AS unpriced_rows,
       coalesce(l.input_tokens, 0) AS local_input_tokens, coalesce(l.output_tokens, 0) AS local_output_tokens,
       coalesce(l.cost, 0) AS local_cost_usd,
       (l.cost IS NULL AND coalesce(l.input_tokens, 0) + coalesce(l.output_tokens, 0) > 0) AS local_unpriced,
       coalesce(a.hourly, TRUE) AS hourly
FROM hours h LEFT JOIN api_hourly a ON a.hour = h.hour LEFT JOIN local_priced l ON l.hour = h.hour
ORDER BY h.hour
"""

SCHEMA = {
    "hour": pl.Datetime("us", "UTC"), "api_input_tokens": pl.Float64, "api_cached_tokens": pl.Float64,
    "api_output_tokens": pl.Float64, "api_cost_usd": pl.Float64, "unpriced_rows": pl.Int64,
    "local_input_tokens": pl.Float64, "local_output_tokens": pl.Float64, "local_cost_usd": pl.Float64,
    "local_unpriced": pl.Boolean, "hourly": pl.Boolean,
}


def workload_hourly(conn: Connection, *, workload: str, since: datetime, until: datetime,
                    replaced: tuple[str, str] | None = None) -> pl.DataFrame:
    """One row per hour of [since, until): API tokens and cost, local tokens priced as `replaced` by kind.

    Adds the totals the engine needs: `input_tokens` (API + local, cached included),
    `cached_input_tokens`, `output_tokens` and `total_api_cost_usd` (the API bill plus the local
    tokens priced as the replaced model). Raises NotHourlyError for daily-only usage.
    """
    prefer_hash_grouping(conn)
    provider, model = replaced or ("", "")
    rows = conn.execute(sa.text(_SQL), {"since": since, "until": until, "workload": workload,
                                        "replaced_provider": provider, "replaced_model": model}).all()
    frame = pl.DataFrame([tuple(r) for r in rows], orient="row", schema=SCHEMA)
    if not frame.is_empty() and not frame["hourly"].all():
        raise NotHourlyError(f"workload {workload!r} has only daily usage buckets in this period; "
                             "the breakeven needs hourly demand (pull usage with bucket_width 1h)")
    return frame.with_columns(
        (pl.col("api_input_tokens") + pl.col("local_input_tokens")).alias("input_tokens"),
        pl.col("api_cached_tokens").alias("cached_input_tokens"),
        (pl.col("api_output_tokens") + pl.col("local_output_tokens")).alias("output_tokens"),
        (pl.col("api_cost_usd") + pl.col("local_cost_usd")).alias("total_api_cost_usd"),
    )


MAIN_MODEL = f"""
WITH hourly_days AS ({HOURLY_DAYS_CTE}
), request_hours AS ({request_hours_cte()}
), tokens AS (
    SELECT u.provider, u.model, u.input_tokens + u.output_tokens AS tokens
    FROM usage_hourly u {attribution_join('u')}
    WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until AND wl.workload = :workload
    UNION ALL
    SELECT q.provider, q.model, q.input_tokens + q.output_tokens
    FROM request_hours q {attribution_join('q', has_tags=True)}
    WHERE coalesce(nullif(q.workload_tag, ''), wl.workload) = :workload
)
SELECT provider, model, sum(tokens) AS tokens FROM tokens GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 1
"""


def main_api_model(conn: Connection, *, workload: str, since: datetime, until: datetime) -> tuple[str, str] | None:
    """(provider, model) of the API model that served the most of the workload's tokens in [since, until)."""
    prefer_hash_grouping(conn)
    row = conn.execute(sa.text(MAIN_MODEL), {"since": since, "until": until, "workload": workload}).first()
    return None if row is None else (row.provider, row.model)
