"""GPU cost by team and workload (showback): the ledger's pool lines, one computation for every surface.

Each GPU pool's daily cost (models.ledger.gpu.pool_lines) is shared to workloads by their measured
busy GPU-hours; what no workload used is the 'idle' line. So the lines of a pool-day sum exactly
to its cost, and GPU cost per team, idle included, sums to the fleet's GPU cost wherever it is
shown (Overview, Spend, `hybridcost spend --gpu`, the CSV export). A team or workload filter keeps
that team's measured share; idle belongs to no team and shows only in the unfiltered view.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

import polars as pl
from sqlalchemy import Connection

from models.ledger.gpu import IDLE, pool_lines

MONEY = pl.Decimal(38, 10)
LINE_SCHEMA = {"day": pl.Date, "profile": pl.String, "pricing": pl.String, "workload": pl.String,
               "team": pl.String, "gpu_hours": pl.Float64, "cost_usd": MONEY}


def gpu_cost_daily(conn: Connection, *, since: datetime, until: datetime, now: datetime) -> pl.DataFrame:
    """Per UTC day, pool, workload and team in [since, until): GPU-hours used and USD; 'idle' is its own line.

    `now` ends a day in progress: hours after it are not cost yet (a pool bills by the hour it exists).
    """
    stop = min(until, now)
    if stop <= since:
        return pl.DataFrame(schema=LINE_SCHEMA)
    last_day = (stop - timedelta(microseconds=1)).date()
    lines = pool_lines(conn, since=since.date(), until=last_day + timedelta(days=1), until_at=stop)
    if lines.is_empty():
        return pl.DataFrame(schema=LINE_SCHEMA)
    return lines.select("day", "profile", "pricing", "workload", "team", "gpu_hours",
                        pl.col("cost_usd").cast(MONEY)).sort("day", "profile", "workload")


def scoped(lines: pl.DataFrame, workloads: Iterable[str] = (), teams: Iterable[str] = ()) -> pl.DataFrame:
    """The lines a workload/team filter keeps: those teams' and workloads' measured shares (no idle line)."""
    workloads, teams = list(workloads), list(teams)
    if workloads:
        lines = lines.filter(pl.col("workload").is_in(workloads))
    if teams:
        lines = lines.filter(pl.col("team").is_in(teams))
    return lines


def total_usd(lines: pl.DataFrame) -> Decimal:
    """Σ cost of the lines (USD, exact)."""
    return Decimal(lines["cost_usd"].sum()) if lines.height else Decimal(0)


def by(lines: pl.DataFrame, column: str) -> pl.DataFrame:
    """GPU-hours and cost per `column` (team, workload or profile), the idle line last, with its share of the total."""
    if lines.is_empty():
        return pl.DataFrame(schema={column: pl.String, "gpu_hours": pl.Float64, "cost_usd": MONEY,
                                    "share": pl.Float64})
    total = float(total_usd(lines)) or None
    out = lines.group_by(column).agg(pl.col("gpu_hours").sum(), pl.col("cost_usd").sum().cast(MONEY))
    return (out.with_columns((pl.col("cost_usd").cast(pl.Float64) / total if total else pl.lit(None, pl.Float64))
                             .alias("share"), (pl.col(column) == IDLE).alias("_idle"))
            .sort(["_idle", "cost_usd", column], descending=[False, True, False]).drop("_idle"))


def team_costs(token_daily: pl.DataFrame, lines: pl.DataFrame, column: str = "team") -> pl.DataFrame:
    """Token spend, GPU cost and both per team (or workload): the showback table; idle is its own row.

    Token spend is the system of record (`allocated_daily`); GPU cost the pool lines. Sums of each
    column equal the totals shown beside it.
    """
    tokens = (token_daily.group_by(column).agg(pl.col("cost_usd").sum().cast(MONEY).alias("token_usd"))
              if token_daily.height else pl.DataFrame(schema={column: pl.String, "token_usd": MONEY}))
    gpu = (lines.group_by(column).agg(pl.col("cost_usd").sum().cast(MONEY).alias("gpu_usd"),
                                      pl.col("gpu_hours").sum())
           if lines.height else pl.DataFrame(schema={column: pl.String, "gpu_usd": MONEY, "gpu_hours": pl.Float64}))
    zero = pl.lit(Decimal(0), dtype=MONEY)
    out = tokens.join(gpu, on=column, how="full", coalesce=True).with_columns(
        pl.col("token_usd").fill_null(zero), pl.col("gpu_usd").fill_null(zero), pl.col("gpu_hours").fill_null(0.0))
    out = out.with_columns((pl.col("token_usd") + pl.col("gpu_usd")).cast(MONEY).alias("total_usd"))
    return (out.with_columns((pl.col(column) == IDLE).alias("_idle"))
            .sort(["_idle", "total_usd", column], descending=[False, True, False]).drop("_idle")
            .select(column, "token_usd", "gpu_usd", "gpu_hours", "total_usd"))


def daily_totals(lines: pl.DataFrame) -> pl.DataFrame:
    """GPU cost per UTC day (USD), for the token-vs-GPU chart."""
    if lines.is_empty():
        return pl.DataFrame(schema={"day": pl.Date, "cost_usd": pl.Float64})
    return lines.group_by("day").agg(pl.col("cost_usd").sum().cast(pl.Float64)).sort("day")
