"""What the v2 planning inputs are measured from: request minutes per hour, and vLLM throughput per scrape.

`minute_peaks` reads usage_requests (request logs, API and local) attributed to the workload by the
attribution rules and gives, per UTC hour, the served requests and the busiest minute's tokens
over the hour's mean minute (hour tokens / 60, idle minutes included). `vllm_intervals` reads the
workload's vLLM scrapes (inference_samples of the endpoints inference_hourly tags with it) as
intervals between consecutive scrapes: prompt and generated tokens per second, and the running
requests over the interval. `vllm_latency_steps` gives, for the same scrapes, how many observations
each bucket of the latency histograms (time to first token, inter-token latency) gained in the
interval, engines summed, a restart of a server's histogram handled as in the hourly rollup.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.queries.sql_fragments import attribution_join

_MINUTES = f"""
WITH minutes AS (
    SELECT date_trunc('minute', u.started_at) AS minute_at, u.provider, u.account_id, u.model, u.project_id,
           u.api_key_id, u.user_id, u.tags, count(*) AS requests,
           sum(u.input_tokens + u.output_tokens) AS tokens
    FROM usage_requests u
    WHERE u.started_at >= :since AND u.started_at < :until
      AND (u.status_code IS NULL OR u.status_code < 400)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
), attributed AS (
    SELECT m.minute_at, sum(m.requests) AS requests, sum(m.tokens) AS tokens
    FROM minutes m {attribution_join('m', has_tags=True)}
    WHERE wl.workload = :workload
    GROUP BY 1
)
SELECT date_trunc('hour', minute_at) AS hour_at, sum(requests)::bigint AS requests,
       sum(tokens)::float8 AS tokens, max(tokens)::float8 AS busiest_minute_tokens
FROM attributed GROUP BY 1 ORDER BY 1
"""

_INTERVALS = """
WITH tagged AS (
    SELECT DISTINCT endpoint, model_name FROM inference_hourly
    WHERE workload = :workload AND hour_at >= :since AND hour_at < :until
), scrapes AS (
    SELECT s.sampled_at, s.endpoint, s.model_name, sum(s.prompt_tokens_total) AS prompt,
           sum(s.generation_tokens_total) AS gen, sum(s.requests_running) AS running
    FROM inference_samples s JOIN tagged t ON t.endpoint = s.endpoint AND t.model_name = s.model_name
    WHERE s.sampled_at >= :since AND s.sampled_at < :until
    GROUP BY 1, 2, 3
), steps AS (
    SELECT endpoint, sampled_at,
           extract(epoch FROM sampled_at - lag(sampled_at) OVER w) AS seconds,
           prompt - lag(prompt) OVER w AS prompt_tokens, gen - lag(gen) OVER w AS generation_tokens,
           (running + lag(running) OVER w) / 2.0 AS running
    FROM scrapes WINDOW w AS (PARTITION BY endpoint, model_name ORDER BY sampled_at)
)
SELECT endpoint, sampled_at, seconds::float8 AS seconds, (prompt_tokens / seconds)::float8 AS prompt_tokens_per_s,
       (generation_tokens / seconds)::float8 AS generation_tokens_per_s, running::float8 AS running
FROM steps
WHERE seconds > 0 AND seconds <= :max_gap_s AND prompt_tokens >= 0 AND generation_tokens > 0 AND running > 0
ORDER BY endpoint, sampled_at
"""

_LATENCY_STEPS = """
WITH tagged AS (
    SELECT DISTINCT endpoint, model_name FROM inference_hourly
    WHERE workload = :workload AND hour_at >= :since AND hour_at < :until
), buckets AS (
    SELECT b.sampled_at, b.endpoint, b.model_name, b.engine, b.metric, b.le_seconds, b.cumulative_count,
           lag(b.cumulative_count) OVER w AS prev_count
    FROM inference_latency_buckets b JOIN tagged t ON t.endpoint = b.endpoint AND t.model_name = b.model_name
    WHERE b.sampled_at >= :since AND b.sampled_at < :until
    WINDOW w AS (PARTITION BY b.endpoint, b.model_name, b.engine, b.metric, b.le_seconds ORDER BY b.sampled_at)
), flagged AS (
    SELECT *, bool_or(cumulative_count < prev_count)
                  OVER (PARTITION BY sampled_at, endpoint, model_name, engine, metric) AS reset
    FROM buckets WHERE prev_count IS NOT NULL
)
SELECT endpoint, sampled_at, metric, le_seconds,
       sum(CASE WHEN reset THEN cumulative_count ELSE cumulative_count - prev_count END)::float8 AS observations
FROM flagged GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
"""

MAX_SCRAPE_GAP_S = 600  # a longer gap is a collector outage, not one interval


def minute_peaks(conn: Connection, workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """Per UTC hour with requests: requests, tokens, and the busiest minute's tokens (request logs)."""
    rows = conn.execute(sa.text(_MINUTES), {"workload": workload, "since": since, "until": until}).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row",
                        schema={"hour_at": pl.Datetime("us", "UTC"), "requests": pl.Int64, "tokens": pl.Float64,
                                "busiest_minute_tokens": pl.Float64})


def vllm_intervals(conn: Connection, workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """Intervals between consecutive vLLM scrapes of the workload's servers: tokens/s and running requests."""
    rows = conn.execute(sa.text(_INTERVALS), {"workload": workload, "since": since, "until": until,
                                              "max_gap_s": MAX_SCRAPE_GAP_S}).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row",
                        schema={"endpoint": pl.String, "sampled_at": pl.Datetime("us", "UTC"), "seconds": pl.Float64,
                                "prompt_tokens_per_s": pl.Float64, "generation_tokens_per_s": pl.Float64,
                                "running": pl.Float64})


def vllm_latency_steps(conn: Connection, workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """Per scrape of the workload's servers: observations each latency-histogram bucket gained since the last."""
    rows = conn.execute(sa.text(_LATENCY_STEPS), {"workload": workload, "since": since, "until": until}).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row",
                        schema={"endpoint": pl.String, "sampled_at": pl.Datetime("us", "UTC"), "metric": pl.String,
                                "le_seconds": pl.Float64, "observations": pl.Float64})
