"""Data freshness and ingest run status."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

# Rows that start after the as-of moment do not exist yet as of then; an open end (NULL) is no bound.
FRESHNESS = """
SELECT 'token usage' AS dataset, max(least(bucket_end_at, :as_of)) AS latest_at, count(*) AS rows
  FROM usage_hourly WHERE bucket_start_at < :as_of
UNION ALL SELECT 'request logs', (SELECT max(started_at) FROM usage_requests WHERE started_at < :as_of),
  -- whole hours from the rollup, the as-of hour's part from the raw rows (an index range)
  (SELECT coalesce(sum(requests), 0) FROM request_hourly WHERE hour_at < date_trunc('hour', CAST(:as_of AS timestamptz), 'UTC'))
  + (SELECT count(*) FROM usage_requests
     WHERE started_at >= date_trunc('hour', CAST(:as_of AS timestamptz), 'UTC') AND started_at < :as_of)
UNION ALL SELECT 'cost lines', max(least(charge_period_end_at, :as_of)), count(*)
  FROM cost_lines WHERE charge_period_start_at < :as_of
UNION ALL SELECT 'GPU hourly', max(least(hour_at + interval '1 hour', :as_of)), count(*)
  FROM gpu_hourly WHERE hour_at < :as_of
UNION ALL SELECT 'inference hourly', max(least(hour_at + interval '1 hour', :as_of)), count(*)
  FROM inference_hourly WHERE hour_at < :as_of
"""
OPEN_END = datetime(9999, 1, 1, tzinfo=UTC)


def freshness(conn: Connection, *, as_of: datetime | None = None) -> pl.DataFrame:
    """One row per dataset: the newest timestamp and the row count (as of a moment, when given)."""
    rows = conn.execute(sa.text(FRESHNESS), {"as_of": as_of or OPEN_END}).all()
    return pl.DataFrame([tuple(r) for r in rows], schema={"dataset": pl.String,
                        "latest_at": pl.Datetime("us", "UTC"), "rows": pl.Int64}, orient="row")


def ingest_runs(conn: Connection, *, limit: int = 200) -> pl.DataFrame:
    """The latest ingest runs, newest first."""
    rows = conn.execute(sa.text(
        "SELECT id, source, target, started_at, finished_at, status, rows_read, rows_written, rows_skipped, "
        "coalesce(error, '') AS error FROM ingest_runs ORDER BY id DESC LIMIT :n"), {"n": limit}).all()
    return pl.DataFrame([tuple(r) for r in rows], schema={
        "id": pl.Int64, "source": pl.String, "target": pl.String, "started_at": pl.Datetime("us", "UTC"),
        "finished_at": pl.Datetime("us", "UTC"), "status": pl.String, "rows_read": pl.Int64,
        "rows_written": pl.Int64, "rows_skipped": pl.Int64, "error": pl.String}, orient="row")


def has_facts(conn: Connection) -> bool:
    """True when any usage, cost line or GPU rollup is stored (`up` loads the demo only when not)."""
    return bool(conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM usage_hourly) OR EXISTS (SELECT 1 FROM cost_lines) "
        "OR EXISTS (SELECT 1 FROM gpu_hourly)")).scalar())
