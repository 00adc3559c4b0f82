"""The GPU fleet's view of the plans: per workload its own servers serve, the plan beside the measurement.

GPU fleet signals ("add capacity", "below breakeven") are measurements; these rows put the
planning path's answer next to them: the replicas the plan owns at its assumed throughput, the
replicas it would own at the throughput its vLLM servers measured, and the gap between the two
assumptions. The GPU fleet page and `hybridcost fleet` show the same rows.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.planning.figures import PlanFigures
from models.planning.path import plan_workload

FLEET_PLAN_SCHEMA = {
    "workload": pl.String, "candidate": pl.String, "servers": pl.Int64, "plan_replicas": pl.Int64,
    "plan_gpus": pl.Int64, "measured_output_tokens_per_s": pl.Float64, "assumed_output_tokens_per_s": pl.Float64,
    "gap": pl.Float64, "flagged": pl.Boolean, "replicas_at_measured": pl.Int64, "gpus_at_measured": pl.Int64,
    "advice": pl.String,
}


def local_workloads(conn: Connection, since: datetime, until: datetime) -> list[str]:
    """Workloads whose own inference servers reported in [since, until)."""
    return conn.execute(sa.text(
        "SELECT DISTINCT workload FROM inference_hourly WHERE hour_at >= :s AND hour_at < :u AND workload <> '' "
        "ORDER BY 1"), {"s": since, "u": until}).scalars().all()


def fleet_plans(conn: Connection, since: datetime, until: datetime, *, now: datetime) -> list[PlanFigures]:
    """The planning path for every workload served on its own GPUs in the period."""
    return [plan_workload(conn, w, since, until, now=now) for w in local_workloads(conn, since, until)]


def _advice(f: PlanFigures) -> str:
    if f.result is None:
        return f.sentence()
    m, at = f.measured, f.measured_result
    if m is None or m.gap is None or at is None:
        return f"plan: {f.action}; no saturated measurement to check its throughput against"
    if not m.flagged:
        return f"plan: {f.action}; measured throughput agrees within 1.5x"
    gpus = at.optimal_replicas * at.replica_gpus
    return (f"plan: {f.action} at the assumed throughput; at the measured one it needs {at.optimal_replicas:,} "
            f"replica{'s' if at.optimal_replicas != 1 else ''} ({gpus:,} GPU{'s' if gpus != 1 else ''}): "
            "use the measured figure in the plan")


def fleet_plan_rows(figures: list[PlanFigures]) -> pl.DataFrame:
    """One row per locally served workload: plan replicas, measured vs assumed throughput, replicas at measured."""
    rows = []
    for f in figures:
        res, m, at = f.result, f.measured, f.measured_result
        rows.append({
            "workload": f.workload, "candidate": f"{f.candidate.label} ({f.candidate.marker})",
            "servers": m.servers if m else 0, "plan_replicas": res.optimal_replicas if res else None,
            "plan_gpus": f.gpus, "measured_output_tokens_per_s": m.output_tokens_per_s if m else None,
            "assumed_output_tokens_per_s": m.assumed_output_tokens_per_s if m else None,
            "gap": m.gap if m else None, "flagged": m.flagged if m else False,
            "replicas_at_measured": at.optimal_replicas if at else None,
            "gpus_at_measured": at.optimal_replicas * at.replica_gpus if at else None,
            "advice": _advice(f),
        })
    return pl.DataFrame(rows, schema=FLEET_PLAN_SCHEMA)
