"""The one planning path: a workload, a period and its plan in; the figures every surface shows out.

`plan_workload` reads what it needs (the plan, the replaced API model, the hourly demand with
each hour priced per model and per token kind, the vLLM measurement) and `compute` turns it into
`PlanFigures` with no database: the same hours, prices, candidate and result on every surface.
The period ends at the current hour at the latest (hours that have not happened hold no demand).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import polars as pl
from sqlalchemy import Connection

from models import clock
from models.economics.contract import Demand, GpuOption, OutOfRangeError, simulate
from models.planning.candidate import Candidate, resolve
from models.planning.figures import ASSESSED, PlanFigures
from models.planning.measured import Measured, compare, measure
from models.planning.moves import forecast_moves, weekly_history
from models.planning.plans import plan_for
from models.queries.workload_demand import SCHEMA, NotHourlyError, main_api_model, workload_hourly

MAIN_MODEL_LOOKBACK = timedelta(days=90)
DEFAULT_DAYS = 30  # the same default as the pages' date range and the CLI's --since/--until


def default_period(now: datetime) -> tuple[datetime, datetime]:
    """The last 30 UTC days through today (what the pages and the CLI show without a choice), clipped to now."""
    today = now.date()
    return planning_period(*clock.day_range(today - timedelta(days=DEFAULT_DAYS - 1), today), now)


def planning_period(since: datetime, until: datetime, now: datetime) -> tuple[datetime, datetime]:
    """[since, until) ending no later than the start of the current hour (and never before since)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    end = min(until, hour)
    return since, max(since, end)


def plan_workload(conn: Connection, workload: str, since: datetime, until: datetime, *, now: datetime,
                  gpu: GpuOption | None = None, gpu_label: str = "") -> PlanFigures:
    """The figures of `workload` over [since, until) against its plan (or `gpu`, a scenario file's, when given)."""
    since, until = planning_period(since, until, now)
    plan = plan_for(conn, workload)
    main = main_api_model(conn, workload=workload, since=until - MAIN_MODEL_LOOKBACK, until=until)
    candidate = resolve(conn, workload, plan, main)
    if gpu is not None:
        candidate = replace(candidate, gpu=gpu, other_pricing=None, reason="", chosen=True, throughput_source="entered",
                            model=gpu_label or "the scenario file's GPU option", gpu_type=None,
                            tensor_parallel=gpu.replica_gpus, pricing=gpu.pricing,
                            throughput_note="from the scenario file")
    try:
        frame = workload_hourly(conn, workload=workload, since=since, until=until, replaced=candidate.replaces)
    except NotHourlyError as exc:
        return _unassessed(workload, since, until, candidate, "not hourly", str(exc))
    return compute(workload, since, until, frame, candidate, measure(conn, workload, since, until))


def _unassessed(workload: str, since: datetime, until: datetime, candidate: Candidate, status: str,
                message: str, frame: pl.DataFrame | None = None, measured: Measured | None = None) -> PlanFigures:
    empty = pl.DataFrame(schema={**SCHEMA, **{c: pl.Float64 for c in (
        "input_tokens", "cached_input_tokens", "output_tokens", "total_api_cost_usd")}})
    return PlanFigures(workload, since, until, candidate, status, message, empty if frame is None else frame,
                       weekly_history(pl.DataFrame()), None, None, measured, None)


def _engine(demand: Demand, api_costs, gpu: GpuOption):
    """The contract on the planning hours (the one place a v2 plan/slo block will be passed to the engine)."""
    return simulate(demand, None, gpu, api_costs=api_costs)


def compute(workload: str, since: datetime, until: datetime, frame: pl.DataFrame, candidate: Candidate,
            measured: Measured | None) -> PlanFigures:
    """PlanFigures from an hourly planning frame, a candidate and a measurement (pure: no database)."""
    if frame.is_empty():
        return _unassessed(workload, since, until, candidate, "no hours",
                           f"the period {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC holds no hours yet",
                           frame, measured)
    tokens = float(frame["input_tokens"].sum() + frame["output_tokens"].sum())
    if tokens == 0:
        return _unassessed(workload, since, until, candidate, "no demand",
                           f"{workload} has no tokens between {since:%Y-%m-%d} and {until:%Y-%m-%d}", frame, measured)
    if float(frame["total_api_cost_usd"].sum()) <= 0:
        model = "/".join(candidate.replaces) if candidate.replaces else "its API model"
        return _unassessed(workload, since, until, candidate, "unpriced",
                           f"{workload}'s tokens have no price in this period ({model}): add one on the Data page "
                           "(USD per 1M tokens)", frame, measured)
    weekly = weekly_history(frame)
    figures = PlanFigures(workload, since, until, candidate, ASSESSED, "", frame, weekly, None, None,
                          compare(measured, candidate.gpu), None)
    if candidate.gpu is None:
        return figures
    demand, costs = figures.demand(), figures.api_costs()
    try:
        result = _engine(demand, costs, candidate.gpu)
        move = forecast_moves(weekly, figures.prepared(), candidate.gpu, result, figures.monthly_tokens or 0.0)
        at_measured = _at_measured(demand, costs, candidate.gpu, figures.measured)
    except OutOfRangeError as exc:
        return _unassessed(workload, since, until, candidate, "out of range", str(exc), frame, figures.measured)
    return replace(figures, result=result, move=move, measured_result=at_measured)


def _at_measured(demand: Demand, costs, gpu: GpuOption, measured: Measured | None):
    """The same plan with the measured throughput (None without a saturated measurement)."""
    if measured is None or measured.suggested_output_tokens_per_s is None:
        return None
    faster = gpu.model_copy(update={"input_tokens_per_s": measured.suggested_input_tokens_per_s,
                                    "output_tokens_per_s": measured.suggested_output_tokens_per_s})
    return _engine(demand, costs, faster)


def plan_all(conn: Connection, since: datetime, until: datetime, *, now: datetime) -> list[PlanFigures]:
    """PlanFigures for every workload, in name order."""
    names = conn.exec_driver_sql("SELECT name FROM workloads ORDER BY name").scalars().all()
    return [plan_workload(conn, name, since, until, now=now) for name in names]
