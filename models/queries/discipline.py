"""Workflow discipline from per-request rows: repeats, reasoning, loops, batch candidates, saturation.

Works on any usage_requests rows (the instrumented client, OTel GenAI, LiteLLM, Langfuse).
Each request in [since, until) is flagged once, within its workload (a response cache, a
loop and a bulk sender are per workload), then the flags are summed per group with
the levers applied in order cache -> batch -> route, so no dollar is saved twice:
- a repeat is saved whole by the cache and counts for nothing else;
- a non-repeat batch candidate saves `batch_discount` of its cost;
- a non-repeat routable request saves (cost - cheap cost), times (1 - batch_discount) when
  it was also a batch candidate (routing acts on what batching left).
Cost is tokens x the catalog price in effect (else the reported cost); unpriced is NULL,
never 0, and is left out of the dollar sums (and counted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.queries.sql_fragments import attribution_join, price_join, priced_cost

GROUP_COLUMNS = {"team": "team", "workload": "workload"}

_FLAGGED = f"""
WITH base AS (
    SELECT q.id, q.started_at, q.model, q.fingerprint, q.endpoint_kind, q.is_batch, q.status_code,
           q.latency_ms, q.input_tokens, q.cached_input_tokens, q.output_tokens, q.reasoning_tokens,
           coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated') AS workload,
           coalesce(nullif(q.team, ''), wl.team, 'unallocated') AS team,
           coalesce(nullif(q.user_id, ''), nullif(q.api_key_id, ''), 'workload:' || q.workload_tag) AS actor,
           ((q.status_code IS NULL AND q.tags ->> 'error' IS NULL) OR q.status_code < 400) AS served,
           coalesce({priced_cost('q', cache_write=False)}, q.reported_cost_usd) AS cost,
           (((q.input_tokens - q.cached_input_tokens) * coalesce(cp.input_usd_per_mtok, :cheap_input)
             + q.cached_input_tokens * coalesce(cp.cached_input_usd_per_mtok, cp.input_usd_per_mtok, :cheap_cached)
             + q.output_tokens * coalesce(cp.output_usd_per_mtok, :cheap_output)) / 1000000.0
            * (CASE WHEN q.is_batch THEN 0.5 ELSE 1 END)) AS cheap_cost,
           (regexp_replace(lower(q.model), '^.*/', '') LIKE ANY (CAST(:reasoning_patterns AS text[]))
            OR q.reasoning_tokens > 0) AS is_reasoning
    FROM usage_requests q {price_join('q', 'started_at')} {attribution_join('q', has_tags=True)}
    LEFT JOIN LATERAL (
        SELECT pr.input_usd_per_mtok, pr.cached_input_usd_per_mtok, pr.output_usd_per_mtok
        FROM prices pr
        WHERE pr.provider = :cheap_provider AND pr.model = :cheap_model AND pr.above_context_tokens = 0
          AND pr.effective_from <= CAST((q.started_at AT TIME ZONE 'UTC') AS date)
        ORDER BY pr.effective_from DESC LIMIT 1
    ) cp ON TRUE
    WHERE q.started_at >= CAST(:since AS timestamptz) - make_interval(secs => :repeat_window_s)
      AND q.started_at < :until {{where}}
), repeats AS (
    -- the latest earlier served request with the same fingerprint (lookback included)
    SELECT id, lag(started_at) OVER (PARTITION BY workload, fingerprint ORDER BY started_at, id) AS previous_at
    FROM base WHERE served AND fingerprint <> ''
), period AS (
    SELECT b.*, (r.previous_at IS NOT NULL
                 AND r.previous_at >= b.started_at - make_interval(secs => :repeat_window_s)) AS is_repeat
    FROM base b LEFT JOIN repeats r ON r.id = b.id
    WHERE b.started_at >= :since
), chain AS (
    SELECT id, workload, actor, model, started_at,
           CASE WHEN lag(started_at) OVER w IS NOT NULL
                     AND started_at - lag(started_at) OVER w <= make_interval(secs => :loop_gap_s)
                     AND ((fingerprint <> '' AND fingerprint = lag(fingerprint) OVER w)
                          OR abs(input_tokens - lag(input_tokens) OVER w)
                             <= :loop_size_tolerance * greatest(input_tokens, lag(input_tokens) OVER w))
                THEN 0 ELSE 1 END AS starts_burst
    FROM period WHERE served
    WINDOW w AS (PARTITION BY workload, actor, model ORDER BY started_at, id)
), bursts AS (
    SELECT id, workload, actor, model,
           sum(starts_burst) OVER (PARTITION BY workload, actor, model ORDER BY started_at, id) AS burst
    FROM chain
), burst_sizes AS (
    SELECT id, count(*) OVER (PARTITION BY workload, actor, model, burst) AS burst_size FROM bursts
), per_minute AS (
    SELECT id, count(*) OVER (PARTITION BY workload, actor, date_trunc('minute', started_at)) AS actor_minute_requests
    FROM period WHERE served
), flagged AS (
    SELECT p.*,
           coalesce(s.burst_size >= :loop_min_requests, FALSE) AS is_loop,
           (p.served AND p.endpoint_kind = 'api' AND NOT p.is_batch
            AND ((extract(hour FROM p.started_at AT TIME ZONE 'UTC') >= :offhours_start
                  AND extract(hour FROM p.started_at AT TIME ZONE 'UTC') < :offhours_end)
                 OR m.actor_minute_requests >= :bulk_per_minute)) AS is_batch_candidate,
           (p.served AND p.endpoint_kind = 'api' AND p.is_reasoning
            AND p.output_tokens - p.reasoning_tokens < :short_output_tokens) AS is_routable
    FROM period p LEFT JOIN burst_sizes s ON s.id = p.id LEFT JOIN per_minute m ON m.id = p.id
)
"""

_AGGREGATE = """
SELECT {group} AS "group",
       count(*) AS attempts,
       count(*) FILTER (WHERE served) AS requests,
       count(*) FILTER (WHERE served AND fingerprint <> '') AS fingerprinted_requests,
       count(*) FILTER (WHERE served AND is_repeat) AS repeat_requests,
       sum(cost) FILTER (WHERE served AND is_repeat) AS repeat_savings_usd,
       count(*) FILTER (WHERE served AND is_reasoning) AS reasoning_requests,
       coalesce(sum(reasoning_tokens) FILTER (WHERE served AND is_reasoning), 0) AS reasoning_tokens,
       count(*) FILTER (WHERE is_routable) AS routable_requests,
       count(*) FILTER (WHERE is_routable AND NOT is_repeat) AS routable_after_cache,
       sum(greatest(cost - cheap_cost, 0) * (CASE WHEN is_batch_candidate THEN 1 - :batch_discount ELSE 1 END))
           FILTER (WHERE is_routable AND NOT is_repeat) AS reasoning_savings_usd,
       count(*) FILTER (WHERE is_loop) AS loop_requests,
       count(*) FILTER (WHERE is_batch_candidate) AS batch_candidates,
       count(*) FILTER (WHERE is_batch_candidate AND NOT is_repeat) AS batch_after_cache,
       sum(cost * :batch_discount) FILTER (WHERE is_batch_candidate AND NOT is_repeat) AS batch_savings_usd,
       count(*) FILTER (WHERE status_code = 429) AS rate_limited,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE served) AS latency_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE served) AS latency_p95_ms,
       sum(cost) FILTER (WHERE served) AS priced_cost_usd,
       count(*) FILTER (WHERE served AND cost IS NULL AND endpoint_kind = 'api') AS unpriced_requests,
       sum(cost) FILTER (WHERE served AND NOT is_repeat) AS cost_after_cache_usd,
       sum(cost) FILTER (WHERE is_batch_candidate AND NOT is_repeat) AS batchable_cost_usd,
       sum(cost) FILTER (WHERE is_routable AND NOT is_repeat) AS routable_cost_usd
FROM flagged
GROUP BY 1
ORDER BY 1
"""

MONEY = ("repeat_savings_usd", "reasoning_savings_usd", "batch_savings_usd", "priced_cost_usd",
         "cost_after_cache_usd", "batchable_cost_usd", "routable_cost_usd")
FLOATS = ("latency_p50_ms", "latency_p95_ms")


def discipline_rows(conn: Connection, *, since: datetime, until: datetime, by: str | None,
                    params: dict[str, Any], workload: str | None = None) -> pl.DataFrame:
    """Counts and dollars per group (team, workload, or one 'all' row when by is None)."""
    if by is not None and by not in GROUP_COLUMNS:
        raise ValueError(f"--by must be team or workload, not {by!r}")
    where = "AND coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated') = :workload" if workload else ""
    group = GROUP_COLUMNS[by] if by else "'all'"
    sql = _FLAGGED.replace("{where}", where) + _AGGREGATE.format(group=group)
    bound = {**params, "since": since, "until": until, "workload": workload}
    result = conn.execute(sa.text(sql), bound)
    columns = list(result.keys())
    rows = [tuple(r) for r in result.all()]
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
    return pl.DataFrame(rows, schema=schema, orient="row")
