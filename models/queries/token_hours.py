"""Hourly API tokens and their cost per workload, team, provider and model, read from the rollups.

For the planning path (a workload's hourly demand and API bill) and anything else that needs
tokens by hour without scanning raw requests. Two sources, never added twice:
- provider usage buckets (`usage_hourly`, already hourly or daily);
- request logs (`request_hourly`, the request rollup) for the hours no provider bucket of the
  same provider and account covers: an equality join on (provider, account, hour), no range join.
Attribution rules and the prices in effect apply at query time, on each rollup row. Cost is
split by token kind as the API bills it (uncached input, cached input, cache writes, output;
batch traffic at batch prices or half); a request-log row the catalog cannot price keeps the
cost its log reported in `cost_usd`, with no split. Unpriced rows are counted, never $0.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from models.queries.frames import frame
from models.queries.request_hours import prefer_hash_grouping
from models.queries.sql_fragments import attribution_join, price_join


def _kind_costs(alias: str, *, cache_write: bool) -> dict[str, str]:
    """NUMERIC expressions (USD) per token kind at the joined prices `p`; each NULL when unpriced."""
    cw = f"{alias}.cache_write_input_tokens" if cache_write else "0"
    half = f"(CASE WHEN {alias}.is_batch THEN 0.5 ELSE 1 END)"
    inp = (f"(CASE WHEN {alias}.is_batch THEN coalesce(p.batch_input_usd_per_mtok, p.input_usd_per_mtok * 0.5) "
           f"ELSE p.input_usd_per_mtok END)")
    out = (f"(CASE WHEN {alias}.is_batch THEN coalesce(p.batch_output_usd_per_mtok, p.output_usd_per_mtok * 0.5) "
           f"ELSE p.output_usd_per_mtok END)")
    priced = "p.input_usd_per_mtok IS NOT NULL AND p.output_usd_per_mtok IS NOT NULL"

    def when(expr: str) -> str:
        return f"(CASE WHEN {priced} THEN ({expr}) / 1000000.0 END)"

    return {
        "input_cost_usd": when(f"({alias}.input_tokens - {alias}.cached_input_tokens - {cw}) * {inp}"),
        "cached_input_cost_usd": when(
            f"{alias}.cached_input_tokens * coalesce(p.cached_input_usd_per_mtok, p.input_usd_per_mtok) * {half}"),
        "cache_write_cost_usd": when(f"{cw} * coalesce(p.cache_write_usd_per_mtok, p.input_usd_per_mtok)"),
        "output_cost_usd": when(f"{alias}.output_tokens * {out}"),
    }


def _select(alias: str, *, cache_write: bool, reported: str | None) -> str:
    costs = _kind_costs(alias, cache_write=cache_write)
    total = " + ".join(costs.values())
    if reported:
        total = f"coalesce({total}, {reported})"
    return ", ".join(f"{expr} AS {name}" for name, expr in costs.items()) + f", {total} AS cost_usd"


def _sql(workload_filter: bool) -> str:
    usage_where = "AND coalesce(wl.workload, 'unallocated') = :workload" if workload_filter else ""
    request_where = ("AND coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated') = :workload"
                     if workload_filter else "")
    return f"""
WITH covered AS (
    SELECT DISTINCT u.provider, u.account_id, h.hour_at
    FROM usage_hourly u
    CROSS JOIN LATERAL generate_series(date_trunc('hour', u.bucket_start_at, 'UTC'),
                                       u.bucket_end_at - interval '1 microsecond', interval '1 hour') AS h(hour_at)
    WHERE u.bucket_start_at < :until AND u.bucket_end_at > :since
), token_rows AS (
    SELECT date_trunc('hour', u.bucket_start_at, 'UTC') AS hour, 'usage' AS source,
           coalesce(wl.workload, 'unallocated') AS workload, coalesce(wl.team, 'unallocated') AS team,
           u.provider, u.model, u.input_tokens, u.cached_input_tokens, u.cache_write_input_tokens, u.output_tokens,
           u.reasoning_tokens, {_select('u', cache_write=True, reported=None)},
           (u.bucket_end_at - u.bucket_start_at) <= interval '1 hour' AS hourly, u.num_requests AS requests
    FROM usage_hourly u {price_join('u', 'bucket_start_at')} {attribution_join('u')}
    WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until {usage_where}
    UNION ALL
    SELECT q.hour_at, 'request', coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated'),
           coalesce(nullif(q.team, ''), wl.team, 'unallocated'),
           q.provider, q.model, q.input_tokens, q.cached_input_tokens, 0, q.output_tokens, q.reasoning_tokens,
           {_select('q', cache_write=False, reported='q.reported_cost_usd')}, TRUE, q.requests
    FROM request_hourly q {price_join('q', 'hour_at')} {attribution_join('q', has_tags=True)}
    WHERE q.hour_at >= :since AND q.hour_at < :until AND q.endpoint_kind = 'api' {request_where}
      AND NOT EXISTS (SELECT 1 FROM covered c WHERE c.provider = q.provider AND c.account_id = q.account_id
                      AND c.hour_at = q.hour_at)
)
SELECT hour, source, workload, team, provider, model,
       sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens,
       sum(cache_write_input_tokens) AS cache_write_input_tokens, sum(output_tokens) AS output_tokens,
       sum(reasoning_tokens) AS reasoning_tokens,
       CAST(sum(input_cost_usd) AS double precision) AS input_cost_usd,
       CAST(sum(cached_input_cost_usd) AS double precision) AS cached_input_cost_usd,
       CAST(sum(cache_write_cost_usd) AS double precision) AS cache_write_cost_usd,
       CAST(sum(output_cost_usd) AS double precision) AS output_cost_usd,
       CAST(sum(cost_usd) AS double precision) AS cost_usd,
       count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_rows, bool_and(hourly) AS hourly, sum(requests) AS requests
FROM token_rows
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6
"""


SCHEMA = {
    "hour": pl.Datetime("us", "UTC"), "source": pl.String, "workload": pl.String, "team": pl.String,
    "provider": pl.String, "model": pl.String, "input_tokens": pl.Int64, "cached_input_tokens": pl.Int64,
    "cache_write_input_tokens": pl.Int64, "output_tokens": pl.Int64, "reasoning_tokens": pl.Int64,
    "input_cost_usd": pl.Float64, "cached_input_cost_usd": pl.Float64, "cache_write_cost_usd": pl.Float64,
    "output_cost_usd": pl.Float64, "cost_usd": pl.Float64, "unpriced_rows": pl.Int64, "hourly": pl.Boolean,
    "requests": pl.Int64,
}


def token_hours(conn: Connection, *, since: datetime, until: datetime, workload: str | None = None) -> pl.DataFrame:
    """Per UTC hour, source ('usage' or 'request'), workload, team, provider and model: API tokens and USD.

    Columns: input_tokens (cached included), cached_input_tokens, cache_write_input_tokens,
    output_tokens, reasoning_tokens; input_cost_usd (uncached input), cached_input_cost_usd,
    cache_write_cost_usd, output_cost_usd, cost_usd (their sum, or a log's reported cost when the
    catalog has no price); unpriced_rows (rollup rows with no cost at all); hourly (False where a
    provider bucket is longer than an hour); requests. Only hours with tokens appear. With
    `workload`, only that workload's rows (the attributed workload, 'unallocated' included).
    """
    prefer_hash_grouping(conn)
    params = {"since": since, "until": until, "workload": workload}
    return frame(conn, _sql(workload is not None), params, SCHEMA)
