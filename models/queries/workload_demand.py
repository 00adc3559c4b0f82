"""A workload's hourly demand and API cost from the database, for the economics engine."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.queries.sql_fragments import attribution_join, price_join, priced_cost


class NotHourlyError(ValueError):
    """The workload has usage in the period but only at daily (or coarser) grain."""


_SQL = f"""
WITH hours AS (
    SELECT generate_series(CAST(:since AS timestamptz), CAST(:until AS timestamptz) - interval '1 hour',
                           interval '1 hour') AS hour
), api_rows AS (
    SELECT date_trunc('hour', u.bucket_start_at) AS hour, u.input_tokens, u.cached_input_tokens, u.output_tokens,
           {priced_cost('u')} AS cost, (u.bucket_end_at - u.bucket_start_at) <= interval '1 hour' AS hourly
    FROM usage_hourly u {price_join('u', 'bucket_start_at')} {attribution_join('u')}
    WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until AND wl.workload = :workload
    UNION ALL
    SELECT date_trunc('hour', q.started_at), q.input_tokens, q.cached_input_tokens, q.output_tokens,
           coalesce({priced_cost('q', cache_write=False)}, q.reported_cost_usd), TRUE
    FROM usage_requests q {price_join('q', 'started_at')} {attribution_join('q', has_tags=True)}
    WHERE q.started_at >= :since AND q.started_at < :until AND q.endpoint_kind = 'api'
      AND coalesce(nullif(q.workload_tag, ''), wl.workload) = :workload
      AND NOT EXISTS (SELECT 1 FROM usage_hourly h WHERE h.provider = q.provider AND h.account_id = q.account_id
                      AND h.bucket_start_at <= q.started_at AND h.bucket_end_at > q.started_at)
), local_rows AS (
    SELECT hour_at AS hour, sum(prompt_tokens) AS input_tokens, sum(generation_tokens) AS output_tokens
    FROM inference_hourly WHERE workload = :workload AND hour_at >= :since AND hour_at < :until
    GROUP BY 1
), api_hourly AS (
    SELECT hour, sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens,
           sum(output_tokens) AS output_tokens, sum(cost) AS cost,
           count(*) FILTER (WHERE cost IS NULL) AS unpriced_rows, bool_and(hourly) AS hourly
    FROM api_rows GROUP BY 1
)
SELECT h.hour, coalesce(a.input_tokens, 0) AS api_input_tokens, coalesce(a.cached_input_tokens, 0) AS api_cached_tokens,
       coalesce(a.output_tokens, 0) AS api_output_tokens, coalesce(a.cost, 0) AS api_cost_usd,
       coalesce(l.input_tokens, 0) AS local_input_tokens, coalesce(l.output_tokens, 0) AS local_output_tokens,
       coalesce(a.unpriced_rows, 0) AS unpriced_rows, coalesce(a.hourly, TRUE) AS hourly
FROM hours h LEFT JOIN api_hourly a ON a.hour = h.hour LEFT JOIN local_rows l ON l.hour = h.hour
ORDER BY h.hour
"""


def workload_hourly(conn: Connection, *, workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """One row per hour of [since, until): API tokens and cost, local tokens, missing hours as zero.

    Local tokens (served by the workload's own inference servers) are priced at the workload's
    average API price per input and per output token over the period, since that is what the
    same traffic would have cost on the API. Raises NotHourlyError for daily-only usage.
    """
    rows = conn.execute(sa.text(_SQL), {"since": since, "until": until, "workload": workload}).all()
    frame = pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "hour": pl.Datetime("us", "UTC"), "api_input_tokens": pl.Float64, "api_cached_tokens": pl.Float64,
        "api_output_tokens": pl.Float64, "api_cost_usd": pl.Float64, "local_input_tokens": pl.Float64,
        "local_output_tokens": pl.Float64, "unpriced_rows": pl.Int64, "hourly": pl.Boolean})
    if not frame.is_empty() and not frame["hourly"].all():
        raise NotHourlyError(f"workload {workload!r} has only daily usage buckets in this period; "
                             "the breakeven needs hourly demand (pull usage with bucket_width 1h)")
    api_in, api_out = frame["api_input_tokens"].sum(), frame["api_output_tokens"].sum()
    cost = frame["api_cost_usd"].sum()
    # Average API price per token of this workload's traffic, split by tokens as the API bills them.
    per_token = cost / (api_in + api_out) if api_in + api_out > 0 else 0.0
    return frame.with_columns(
        (pl.col("api_input_tokens") + pl.col("local_input_tokens")).alias("input_tokens"),
        pl.col("api_cached_tokens").alias("cached_input_tokens"),
        (pl.col("api_output_tokens") + pl.col("local_output_tokens")).alias("output_tokens"),
        (pl.col("api_cost_usd") + (pl.col("local_input_tokens") + pl.col("local_output_tokens")) * per_token)
        .alias("total_api_cost_usd"),
    )

