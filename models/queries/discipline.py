"""Workflow discipline from per-request rows: repeats, reasoning, loops, batch candidates, saturation.

Works on any usage_requests rows (the instrumented client, OTel GenAI, LiteLLM, Langfuse), in
two steps with one definition each:
1. `flag_rows_sql`: each request is flagged once, within its workload (a response cache, a loop
   and a bulk sender are per workload): a repeat (its fingerprint served in the workload within
   `repeat_window_s` before it), in a loop burst (bursts are cut at UTC midnight, so a day's flags
   never depend on the range asked for), sent in a minute its user/key sent >= `bulk_per_minute`,
   with a short visible output; then summed per hour, key and flags (rollup-shaped rows).
   `request_discipline_hourly` stores these rows for the default thresholds, kept by the loader
   (models/discipline_rollup.py); other thresholds compute them on the fly from the raw rows.
2. `_AGGREGATE`: those rows priced and summed per group with the levers applied in order
   cache -> batch -> route, so no dollar is saved twice:
   - a repeat is saved whole by the cache and counts for nothing else;
   - a non-repeat batch candidate saves `batch_discount` of its cost;
   - a non-repeat routable request saves (cost - cheap cost), times (1 - batch_discount) when it
     was also a batch candidate (routing acts on what batching left); max(..., 0) per rollup row.
Cost is tokens x the catalog price in effect (else the reported cost); unpriced is NULL, never 0,
and is left out of the dollar sums (and counted). Reasoning models, off-hours, the cheap model's
prices and the batch discount apply at query time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.queries.sql_fragments import attribution_join, price_join, priced_cost
from models.request_rollups import SERVED, stored_tag_keys, tags_expression

GROUP_COLUMNS = {"team": "team", "workload": "workload"}
# The thresholds the stored flags were computed with (DisciplineConfig's defaults).
ROLLUP_THRESHOLDS: dict[str, Any] = {"repeat_window_s": 24 * 3600.0, "short_output_tokens": 200, "loop_gap_s": 120.0,
                                     "loop_min_requests": 3, "loop_size_tolerance": 0.05, "bulk_per_minute": 20}
FLAG_KEY = ("hour_at", "provider", "account_id", "model", "endpoint_kind", "project_id", "api_key_id", "user_id",
            "team", "workload_tag", "is_batch", "tags", "is_demo", "served", "is_repeat", "is_loop", "is_bulk",
            "short_output", "has_reasoning_tokens", "rate_limited", "has_fingerprint")
FLAG_MEASURES = ("requests", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens",
                 "reported_cost_usd", "latencies_ms")


def flag_rows_sql(tag_keys: Sequence[str]) -> tuple[str, dict[str, str]]:
    """SELECT of flagged, hour-summed rows (FLAG_KEY + FLAG_MEASURES) for requests in [:lo, :hi).

    :lo and :hi are UTC midnights; rows from :lo - repeat_window_s are read as the repeats' lookback.
    """
    tags, params = tags_expression(tag_keys)
    sql = f"""
WITH base AS (
    SELECT q.id, q.started_at, q.provider, q.account_id, q.model, q.endpoint_kind, q.project_id, q.api_key_id,
           q.user_id, q.team, q.workload_tag, q.is_batch, q.is_demo, q.fingerprint, q.status_code, q.latency_ms,
           q.input_tokens, q.cached_input_tokens, q.output_tokens, q.reasoning_tokens, q.reported_cost_usd,
           {tags} AS tags_kept, {SERVED} AS served,
           coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated') AS workload,
           coalesce(nullif(q.user_id, ''), nullif(q.api_key_id, ''), 'workload:' || q.workload_tag) AS actor
    FROM usage_requests q {attribution_join('q', has_tags=True)}
    WHERE q.started_at >= CAST(:lo AS timestamptz) - make_interval(secs => :repeat_window_s)
      AND q.started_at < :hi
), repeats AS (
    -- the latest earlier served request with the same fingerprint (lookback included)
    SELECT id, lag(started_at) OVER (PARTITION BY workload, fingerprint ORDER BY started_at, id) AS previous_at
    FROM base WHERE served AND fingerprint <> ''
), period AS (
    SELECT b.*, coalesce(r.previous_at IS NOT NULL
                         AND r.previous_at >= b.started_at - make_interval(secs => :repeat_window_s), FALSE) AS is_repeat
    FROM base b LEFT JOIN repeats r ON r.id = b.id
    WHERE b.started_at >= :lo
), chain AS (
    SELECT id, workload, actor, model, started_at, date_trunc('day', started_at, 'UTC') AS day,
           CASE WHEN lag(started_at) OVER w IS NOT NULL
                     AND started_at - lag(started_at) OVER w <= make_interval(secs => :loop_gap_s)
                     AND ((fingerprint <> '' AND fingerprint = lag(fingerprint) OVER w)
                          OR abs(input_tokens - lag(input_tokens) OVER w)
                             <= :loop_size_tolerance * greatest(input_tokens, lag(input_tokens) OVER w))
                THEN 0 ELSE 1 END AS starts_burst
    FROM period WHERE served
    WINDOW w AS (PARTITION BY workload, actor, model, date_trunc('day', started_at, 'UTC') ORDER BY started_at, id)
), bursts AS (
    SELECT id, workload, actor, model, day,
           sum(starts_burst) OVER (PARTITION BY workload, actor, model, day ORDER BY started_at, id) AS burst
    FROM chain
), burst_sizes AS (
    SELECT id, count(*) OVER (PARTITION BY workload, actor, model, day, burst) AS burst_size FROM bursts
), per_minute AS (
    SELECT id, count(*) OVER (PARTITION BY workload, actor, date_trunc('minute', started_at)) AS actor_minute_requests
    FROM period WHERE served
)
SELECT date_trunc('hour', p.started_at, 'UTC') AS hour_at, p.provider, p.account_id, p.model, p.endpoint_kind,
       p.project_id, p.api_key_id, p.user_id, p.team, p.workload_tag, p.is_batch, p.tags_kept AS tags, p.is_demo,
       p.served, p.is_repeat, coalesce(s.burst_size >= :loop_min_requests, FALSE) AS is_loop,
       coalesce(m.actor_minute_requests >= :bulk_per_minute, FALSE) AS is_bulk,
       (p.output_tokens - p.reasoning_tokens < :short_output_tokens) AS short_output,
       (p.reasoning_tokens > 0) AS has_reasoning_tokens, coalesce(p.status_code = 429, FALSE) AS rate_limited,
       (p.fingerprint <> '') AS has_fingerprint,
       count(*) AS requests, sum(p.input_tokens) AS input_tokens, sum(p.cached_input_tokens) AS cached_input_tokens,
       sum(p.output_tokens) AS output_tokens, sum(p.reasoning_tokens) AS reasoning_tokens,
       sum(p.reported_cost_usd) AS reported_cost_usd,
       coalesce(array_agg(p.latency_ms ORDER BY p.latency_ms) FILTER (WHERE p.latency_ms IS NOT NULL),
                CAST('{{}}' AS double precision[])) AS latencies_ms
FROM period p LEFT JOIN burst_sizes s ON s.id = p.id LEFT JOIN per_minute m ON m.id = p.id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21"""
    return sql, params


_PRICED = f"""
WITH rows AS ({{rows}}
), priced AS (
    SELECT r.*, coalesce(nullif(r.workload_tag, ''), wl.workload, 'unallocated') AS workload,
           coalesce(nullif(r.team, ''), wl.team, 'unallocated') AS team_name,
           coalesce({priced_cost('r', cache_write=False)}, r.reported_cost_usd) AS cost,
           (((r.input_tokens - r.cached_input_tokens) * coalesce(cp.input_usd_per_mtok, :cheap_input)
             + r.cached_input_tokens * coalesce(cp.cached_input_usd_per_mtok, cp.input_usd_per_mtok, :cheap_cached)
             + r.output_tokens * coalesce(cp.output_usd_per_mtok, :cheap_output)) / 1000000.0
            * (CASE WHEN r.is_batch THEN 0.5 ELSE 1 END)) AS cheap_cost,
           (regexp_replace(lower(r.model), '^.*/', '') LIKE ANY (CAST(:reasoning_patterns AS text[]))
            OR r.has_reasoning_tokens) AS is_reasoning
    FROM rows r {price_join('r', 'hour_at')} {attribution_join('r', has_tags=True)}
    LEFT JOIN LATERAL (
        SELECT pr.input_usd_per_mtok, pr.cached_input_usd_per_mtok, pr.output_usd_per_mtok
        FROM prices pr
        WHERE pr.provider = :cheap_provider AND pr.model = :cheap_model AND pr.above_context_tokens = 0
          AND pr.effective_from <= CAST((r.hour_at AT TIME ZONE 'UTC') AS date)
        ORDER BY pr.effective_from DESC LIMIT 1
    ) cp ON TRUE
    WHERE r.hour_at >= :since AND r.hour_at < :until
), flagged AS (
    SELECT *, workload AS workload_name,
           (served AND endpoint_kind = 'api' AND NOT is_batch
            AND ((extract(hour FROM hour_at AT TIME ZONE 'UTC') >= :offhours_start
                  AND extract(hour FROM hour_at AT TIME ZONE 'UTC') < :offhours_end) OR is_bulk)) AS is_batch_candidate,
           (served AND endpoint_kind = 'api' AND is_reasoning AND short_output) AS is_routable
    FROM priced {{where}}
)"""

_AGGREGATE = """, latency AS (
    SELECT {group} AS g, percentile_cont(0.5) WITHIN GROUP (ORDER BY l) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY l) AS p95
    FROM flagged, unnest(latencies_ms) AS l WHERE served GROUP BY 1
), totals AS (
    SELECT {group} AS "group",
       sum(requests) AS attempts,
       coalesce(sum(requests) FILTER (WHERE served), 0) AS requests,
       coalesce(sum(requests) FILTER (WHERE served AND has_fingerprint), 0) AS fingerprinted_requests,
       coalesce(sum(requests) FILTER (WHERE served AND is_repeat), 0) AS repeat_requests,
       sum(cost) FILTER (WHERE served AND is_repeat) AS repeat_savings_usd,
       coalesce(sum(requests) FILTER (WHERE served AND is_reasoning), 0) AS reasoning_requests,
       coalesce(sum(reasoning_tokens) FILTER (WHERE served AND is_reasoning), 0) AS reasoning_tokens,
       coalesce(sum(requests) FILTER (WHERE is_routable), 0) AS routable_requests,
       coalesce(sum(requests) FILTER (WHERE is_routable AND NOT is_repeat), 0) AS routable_after_cache,
       sum(greatest(cost - cheap_cost, 0) * (CASE WHEN is_batch_candidate THEN 1 - :batch_discount ELSE 1 END))
           FILTER (WHERE is_routable AND NOT is_repeat) AS reasoning_savings_usd,
       coalesce(sum(requests) FILTER (WHERE is_loop), 0) AS loop_requests,
       coalesce(sum(requests) FILTER (WHERE is_batch_candidate), 0) AS batch_candidates,
       coalesce(sum(requests) FILTER (WHERE is_batch_candidate AND NOT is_repeat), 0) AS batch_after_cache,
       sum(cost * :batch_discount) FILTER (WHERE is_batch_candidate AND NOT is_repeat) AS batch_savings_usd,
       coalesce(sum(requests) FILTER (WHERE rate_limited), 0) AS rate_limited,
       sum(cost) FILTER (WHERE served) AS priced_cost_usd,
       coalesce(sum(requests) FILTER (WHERE served AND cost IS NULL AND endpoint_kind = 'api'), 0) AS unpriced_requests,
       sum(cost) FILTER (WHERE served AND NOT is_repeat) AS cost_after_cache_usd,
       sum(cost) FILTER (WHERE is_batch_candidate AND NOT is_repeat) AS batchable_cost_usd,
       sum(cost) FILTER (WHERE is_routable AND NOT is_repeat) AS routable_cost_usd
    FROM flagged
    GROUP BY 1
)
SELECT t.*, l.p50 AS latency_p50_ms, l.p95 AS latency_p95_ms
FROM totals t LEFT JOIN latency l ON l.g = t."group"
ORDER BY 1
"""
_GROUPS = {"team": "team_name", "workload": "workload_name"}

MONEY = ("repeat_savings_usd", "reasoning_savings_usd", "batch_savings_usd", "priced_cost_usd",
         "cost_after_cache_usd", "batchable_cost_usd", "routable_cost_usd")
FLOATS = ("latency_p50_ms", "latency_p95_ms")


def uses_rollup(params: dict[str, Any]) -> bool:
    """True when the thresholds are the ones the stored flags were computed with."""
    return all(float(params[k]) == float(v) for k, v in ROLLUP_THRESHOLDS.items())


def _day_bounds(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The UTC midnights around [since, until): flags are computed for whole days."""
    lo = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    top = until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return lo, top if top == until.astimezone(UTC) else top + timedelta(days=1)


def discipline_rows(conn: Connection, *, since: datetime, until: datetime, by: str | None,
                    params: dict[str, Any], workload: str | None = None, stored: bool | None = None) -> pl.DataFrame:
    """Counts and dollars per group (team, workload, or one 'all' row when by is None).

    Reads the stored flags (request_discipline_hourly) for the default thresholds; other
    thresholds (or stored=False) flag the raw requests of the range's UTC days on the fly.
    """
    if by is not None and by not in GROUP_COLUMNS:
        raise ValueError(f"--by must be team or workload, not {by!r}")
    group = _GROUPS[by] if by else "'all'"
    where = "WHERE workload = :workload" if workload else ""
    bound = {**params, "since": since, "until": until, "workload": workload}
    if stored if stored is not None else uses_rollup(params):
        rows = f"SELECT {', '.join(FLAG_KEY + FLAG_MEASURES)} FROM request_discipline_hourly"
    else:
        rows, tag_params = flag_rows_sql(stored_tag_keys(conn) or [])
        lo, hi = _day_bounds(since, until)
        bound |= {**tag_params, "lo": lo, "hi": hi}
    sql = _PRICED.format(rows=rows, where=where) + _AGGREGATE.format(group=group)
    result = conn.execute(sa.text(sql), bound)
    columns = list(result.keys())
    data = [tuple(r) for r in result.all()]
    schema: dict[str, Any] = {}
    for c in columns:
        if c == "group":
            schema[c] = pl.String
        elif c in MONEY:
            schema[c] = pl.Decimal(38, 10)
        elif c in FLOATS:
            schema[c] = pl.Float64
        else:
            schema[c] = pl.Int64
    return pl.DataFrame(data, schema=schema, orient="row")
