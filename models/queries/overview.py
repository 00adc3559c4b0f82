"""Overview figures: month over month by provider, budgets with month-end forecasts (models.queries.month_end).

Transformations here are pure polars on frames from `allocated_daily`; only `budgets` reads SQL.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection

from models.queries import month_end
from models.queries.frames import frame


def month_start(day: date) -> date:
    """The first day of the month of `day`."""
    return day.replace(day=1)


def previous_month_start(day: date) -> date:
    """The first day of the month before the month of `day`."""
    return (month_start(day) - timedelta(days=1)).replace(day=1)


def two_month_window(today: date) -> tuple[datetime, datetime]:
    """[first of last month 00:00Z, tomorrow 00:00Z): the data the month comparison needs."""
    start = previous_month_start(today)
    return (datetime(start.year, start.month, 1, tzinfo=UTC),
            datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC))


def within(daily: pl.DataFrame, since: datetime, until: datetime) -> pl.DataFrame:
    """The rows of a daily frame whose UTC day lies in [since, until)."""
    return daily.filter((pl.col("day") >= since.date()) & (pl.col("day") < until.date()))


def month_over_month(daily: pl.DataFrame, today: date) -> pl.DataFrame:
    """Per provider: last month's total, this month to date, last month to the same day, change %."""
    this, last = month_start(today), previous_month_start(today)
    same_day_last = min(today.day, calendar.monthrange(last.year, last.month)[1])
    frame_ = daily.with_columns(pl.col("cost_usd").cast(pl.Float64))
    out = frame_.group_by("provider").agg(
        pl.col("cost_usd").filter(pl.col("day") >= this).sum().alias("this_month_usd"),
        pl.col("cost_usd").filter((pl.col("day") >= last) & (pl.col("day") < this)).sum().alias("last_month_usd"),
        pl.col("cost_usd").filter((pl.col("day") >= last) & (pl.col("day") < this)
                                  & (pl.col("day").dt.day() <= same_day_last)).sum().alias("last_month_to_date_usd"),
    )
    return out.with_columns(
        pl.when(pl.col("last_month_to_date_usd") > 0)
        .then(pl.col("this_month_usd") / pl.col("last_month_to_date_usd") - 1).otherwise(None)
        .alias("change_vs_same_days"),
    ).sort("this_month_usd", descending=True)


def budgets(conn: Connection) -> pl.DataFrame:
    """Every monthly budget: scope (team or workload), name, USD per month."""
    return frame(conn, "SELECT scope, name, CAST(monthly_usd AS double precision) FROM budgets ORDER BY scope, name",
                 {}, {"scope": pl.String, "name": pl.String, "monthly_usd": pl.Float64})


def budget_status(daily: pl.DataFrame, budget_frame: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Month-to-date spend, the month-end forecast (by hours elapsed, with a range) and each budget's status.

    forecast = month_to_date / hours elapsed x hours in the month (models.queries.month_end); under
    24 hours of the month there is no forecast and the status says so.
    """
    rows = []
    for budget in budget_frame.iter_rows(named=True):
        found = month_end.for_name(daily, now, budget["scope"], budget["name"])
        monthly = budget["monthly_usd"]
        if found.month_to_date_usd > monthly:
            status = "exceeded"
        elif found.forecast_usd is None:
            status = "too early to forecast"
        elif found.forecast_usd > monthly:
            status = "forecast over"
        else:
            status = "on track"
        rows.append({"scope": budget["scope"], "name": budget["name"], "monthly_usd": monthly, **found.as_row(),
                     "forecast_vs_budget": None if found.forecast_usd is None or not monthly
                     else found.forecast_usd / monthly, "status": status})
    return pl.DataFrame(rows, schema={
        "scope": pl.String, "name": pl.String, "monthly_usd": pl.Float64, "month_to_date_usd": pl.Float64,
        "forecast_month_end_usd": pl.Float64, "forecast_low_usd": pl.Float64, "forecast_high_usd": pl.Float64,
        "hours_elapsed": pl.Float64, "note": pl.String, "forecast_vs_budget": pl.Float64, "status": pl.String,
    }).sort(["scope", "name"])


def token_vs_gpu_daily(token_daily: pl.DataFrame, gpu_daily: pl.DataFrame) -> pl.DataFrame:
    """Per UTC day: token spend and GPU spend (USD), long format with a `kind` column."""
    tok = token_daily.group_by("day").agg(pl.col("cost_usd").cast(pl.Float64).sum()).with_columns(
        pl.lit("token APIs").alias("kind"))
    gpu = gpu_daily.group_by("day").agg(pl.col("cost_usd").fill_null(0.0).sum()).with_columns(
        pl.lit("GPUs").alias("kind"))
    return pl.concat([tok.select("day", "kind", "cost_usd"), gpu.select("day", "kind", "cost_usd")]).sort("day")
