"""Per-workload figures of the planning path, kept in `workload_plan_figures` for the exporter.

A scrape reads this table instead of running the planning path for every workload. It is
refreshed from `plan_all` over the default period: by the exporter on a schedule and whenever
the data version changes (a finished load, an audited edit such as a plan or a price), and by
`hybridcost plan refresh` / `hybridcost plan set`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from models.planning.figures import PlanFigures
from models.planning.path import default_period, plan_all

VERSION_SQL = """
SELECT concat_ws(':',
    (SELECT coalesce(max(id), 0) FROM ingest_runs WHERE status = 'succeeded'),
    (SELECT coalesce(max(id), 0) FROM audit_log),
    (SELECT coalesce(extract(epoch FROM max(updated_at)), 0) FROM workload_plans),
    (SELECT count(*) FROM workloads))
"""


@dataclass(frozen=True)
class StoredFigures:
    """One workload's precomputed row, as the exporter needs it."""

    workload: str
    computed_at: datetime
    data_version: str
    assessed: bool
    above_breakeven: bool | None
    move_date: date | None
    optimal_replicas: int | None
    api_only_usd_month: float | None
    hybrid_usd_month: float | None
    throughput_gap: float | None
    candidate: str


def data_version(conn: Connection) -> str:
    """A cheap fingerprint of what the figures depend on: loads, audited edits, plans, workloads."""
    return conn.execute(sa.text(VERSION_SQL)).scalar_one()


def _row(f: PlanFigures, now: datetime, version: str) -> dict:
    res = f.result
    today = f.until.date()
    move = f.move.move_date(today) if f.move is not None else None
    return {
        "workload": f.workload, "computed_at": now, "since_at": f.since, "until_at": f.until,
        "data_version": version, "assessed": f.assessed,
        "above_breakeven": (res.optimal_replicas > 0) if res else None, "move_date": move,
        "optimal_replicas": res.optimal_replicas if res else None,
        "api_only_usd_month": f.monthly(f.api_only_usd) if f.status == "assessed" else None,
        "hybrid_usd_month": f.monthly(res.hybrid_cost) if res else None,
        "throughput_gap": f.measured.gap if f.measured else None,
        "candidate": f"{f.candidate.label} ({f.candidate.marker})",
        "figures": json.dumps(f.as_dict(), allow_nan=False),
    }


def refresh(engine: Engine, now: datetime) -> int:
    """Recompute every workload's figures for the default period at `now` and replace the table; returns rows."""
    since, until = default_period(now)
    with engine.connect() as conn:
        version = data_version(conn)
        rows = [_row(f, now, version) for f in plan_all(conn, since, until, now=now)]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM workload_plan_figures"))
        if rows:
            conn.execute(sa.text(
                "INSERT INTO workload_plan_figures (workload, computed_at, since_at, until_at, data_version, assessed, "
                "above_breakeven, move_date, optimal_replicas, api_only_usd_month, hybrid_usd_month, throughput_gap, "
                "candidate, figures) VALUES (:workload, :computed_at, :since_at, :until_at, :data_version, :assessed, "
                ":above_breakeven, :move_date, :optimal_replicas, :api_only_usd_month, :hybrid_usd_month, "
                ":throughput_gap, :candidate, CAST(:figures AS jsonb))"), rows)
    return len(rows)


def stored(conn: Connection) -> list[StoredFigures]:
    """The precomputed rows, in workload order (empty before the first refresh)."""
    rows = conn.execute(sa.text(
        "SELECT workload, computed_at, data_version, assessed, above_breakeven, move_date, optimal_replicas, "
        "api_only_usd_month, hybrid_usd_month, throughput_gap, candidate FROM workload_plan_figures "
        "ORDER BY workload")).all()
    return [StoredFigures(r.workload, r.computed_at, r.data_version, r.assessed, r.above_breakeven, r.move_date,
                          r.optimal_replicas, None if r.api_only_usd_month is None else float(r.api_only_usd_month),
                          None if r.hybrid_usd_month is None else float(r.hybrid_usd_month), r.throughput_gap,
                          r.candidate) for r in rows]
