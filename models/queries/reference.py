"""Reference data the Data page shows: attribution rules, unpriced usage, saved scenarios."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.queries.frames import frame
from models.queries.request_hours import prefer_hash_grouping, request_hours_cte
from models.queries.sql_fragments import price_join

UNPRICED = f"""
WITH request_hours AS ({request_hours_cte(only_without_buckets=False)}
)
SELECT u.provider, u.model, min(u.bucket_start_at) AS first_at, max(u.bucket_start_at) AS last_at,
       count(*) AS rows, sum(u.input_tokens) AS input_tokens, sum(u.output_tokens) AS output_tokens
FROM usage_hourly u {price_join('u', 'bucket_start_at')}
WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until
  AND (p.input_usd_per_mtok IS NULL OR p.output_usd_per_mtok IS NULL)
GROUP BY 1, 2
UNION ALL
SELECT q.provider, q.model, min(q.started_at), max(q.started_at), sum(q.unreported_rows), sum(q.input_tokens),
       sum(q.output_tokens)
FROM request_hours q {price_join('q', 'started_at')}
WHERE (p.input_usd_per_mtok IS NULL OR p.output_usd_per_mtok IS NULL) AND q.unreported_rows > 0
GROUP BY 1, 2
ORDER BY 1, 2
"""

def attribution_rules(conn: Connection) -> pl.DataFrame:
    """Attribution rules in the order they apply (first match wins)."""
    return frame(conn, "SELECT ar.id, ar.priority, w.name AS workload, w.team, ar.match_field, ar.tag_key, "
                       "ar.pattern, ar.enabled FROM attribution_rules ar JOIN workloads w ON w.id = ar.workload_id "
                       "ORDER BY ar.priority, ar.id", {},
                 {"id": pl.Int64, "priority": pl.Int64, "workload": pl.String, "team": pl.String,
                  "match_field": pl.String, "tag_key": pl.String, "pattern": pl.String, "enabled": pl.Boolean})


def unpriced_usage(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """Usage whose model had no price in effect, per provider and model (never summed as $0)."""
    prefer_hash_grouping(conn)
    return frame(conn, UNPRICED, {"since": since, "until": until}, {
        "provider": pl.String, "model": pl.String, "first_at": pl.Datetime("us", "UTC"),
        "last_at": pl.Datetime("us", "UTC"), "rows": pl.Int64, "input_tokens": pl.Int64, "output_tokens": pl.Int64})


def scenarios(conn: Connection) -> pl.DataFrame:
    """Saved what-if scenarios: name, body (JSON text), last update."""
    return frame(conn, "SELECT name, CAST(body AS text), updated_at FROM scenarios ORDER BY name", {},
                 {"name": pl.String, "body": pl.String, "updated_at": pl.Datetime("us", "UTC")})


def workload_exists(conn: Connection, name: str) -> bool:
    """True when a workload of this exact name is defined."""
    return conn.execute(sa.text("SELECT 1 FROM workloads WHERE name = :w"), {"w": name}).first() is not None
