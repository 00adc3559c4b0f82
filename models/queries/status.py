"""Data freshness and ingest run status."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

FRESHNESS = """
SELECT 'token usage' AS dataset, max(bucket_end_at) AS latest_at, count(*) AS rows FROM usage_hourly
UNION ALL SELECT 'request logs', max(started_at), count(*) FROM usage_requests
UNION ALL SELECT 'cost lines', max(charge_period_end_at), count(*) FROM cost_lines
UNION ALL SELECT 'GPU hourly', max(hour_at) + interval '1 hour', count(*) FROM gpu_hourly
UNION ALL SELECT 'inference hourly', max(hour_at) + interval '1 hour', count(*) FROM inference_hourly
"""


def freshness(conn: Connection) -> pl.DataFrame:
    """One row per dataset: the newest timestamp and the row count."""
    rows = conn.execute(sa.text(FRESHNESS)).all()
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
