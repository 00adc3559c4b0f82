"""Per-workload breakeven status and move date for alerting (the exporter), from the database.

Demand and each hour's API cost are the same as `hybridcost simulate --workload` and the weekly
report (`workload_hourly`); the GPU option is the one the report uses (`gpu_option_for`: a saved
scenario named after the workload, else the fastest catalog model rented). The move date is the
report's bounded forecast of when the first replica pays; for that forecast the workload's API
cost is taken as one flat price per token (its real cost over the window divided by its tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.economics.contract import ApiPricing, Demand, GpuOption, SimulationResult, simulate
from models.queries.workload_demand import NotHourlyError, workload_hourly
from models.reports.economics import HOURS_PER_MONTH, WEEKLY_TOKENS, bounded_move_dates, gpu_option_for

WINDOW = timedelta(days=28)
HISTORY = timedelta(weeks=12)


@dataclass(frozen=True)
class WorkloadEconomics:
    """A workload's contract figures over a window, with the GPU option they assume."""

    workload: str
    result: SimulationResult
    gpu: GpuOption
    option: str  # the GPU option in words
    monthly_tokens: float
    api_tokens: float  # tokens bought from APIs in the window
    local_tokens: float  # tokens its own inference servers served


def workload_economics(conn: Connection, workload: str, since: datetime, until: datetime) -> WorkloadEconomics | None:
    """The contract on the workload's hourly demand and per-hour API cost (as `simulate --workload`).

    None when the workload has no priced usage or no GPU option; NotHourlyError for daily-only data.
    """
    gpu, option = gpu_option_for(conn, workload)
    frame = workload_hourly(conn, workload=workload, since=since, until=until)
    costs = frame["total_api_cost_usd"].to_numpy().astype(np.float64)
    tokens = float(frame["input_tokens"].sum() + frame["output_tokens"].sum())
    if gpu is None or tokens == 0 or costs.sum() == 0:
        return None
    demand = Demand.from_arrays(frame["input_tokens"].to_numpy(), frame["cached_input_tokens"].to_numpy(),
                                frame["output_tokens"].to_numpy())
    return WorkloadEconomics(
        workload=workload, result=simulate(demand, None, gpu, api_costs=costs), gpu=gpu, option=option,
        monthly_tokens=tokens * HOURS_PER_MONTH / demand.hours,
        api_tokens=float(frame["api_input_tokens"].sum() + frame["api_output_tokens"].sum()),
        local_tokens=float(frame["local_input_tokens"].sum() + frame["local_output_tokens"].sum()))


def workload_breakeven(conn: Connection, now: datetime) -> list[tuple[str, bool, date | None]]:
    """(workload, above its breakeven volume, the week the first replica pays or None) per workload."""
    until = now.replace(minute=0, second=0, microsecond=0)
    since = until - WINDOW
    weekly = pl.DataFrame([tuple(r) for r in conn.execute(sa.text(WEEKLY_TOKENS), {
        "since": until - HISTORY, "until": until}).all()], orient="row",
        schema={"workload": pl.String, "week_start": pl.Datetime("us"), "tokens": pl.Float64})
    out = []
    for (name,) in conn.execute(sa.text("SELECT name FROM workloads ORDER BY name")).all():
        try:
            found = workload_economics(conn, name, since, until)
        except NotHourlyError:
            continue
        if found is None:
            continue
        breakeven = found.result.breakeven_monthly_tokens
        above = breakeven is not None and found.monthly_tokens >= breakeven
        move = until.date() if above else None
        if not above and breakeven is not None:
            frame = workload_hourly(conn, workload=name, since=since, until=until)
            demand = Demand.from_arrays(frame["input_tokens"].to_numpy(), frame["cached_input_tokens"].to_numpy(),
                                        frame["output_tokens"].to_numpy())
            tokens = float(frame["input_tokens"].sum() + frame["output_tokens"].sum())
            flat = float(frame["total_api_cost_usd"].sum()) / tokens * 1e6
            api = ApiPricing(input_per_mtok=flat, cached_input_per_mtok=flat, output_per_mtok=flat)
            history = weekly.filter(pl.col("workload") == name).select("week_start", "tokens")
            dates, _, _ = bounded_move_dates(history, demand, api, found.gpu)
            week = dates.first_replica_week if dates is not None else None
            move = week.date() if isinstance(week, datetime) else week
        out.append((name, above, move))
    return out
