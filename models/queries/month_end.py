"""Month-end forecasts by hours elapsed, with a range, honest about a month that has barely begun.

forecast = month to date / hours elapsed x hours in the month. Under MIN_HOURS (24) of the month
there is no forecast: a few hours say nothing about a month ("not enough of the month yet").
The range: month to date + the remaining days x the 10th and 90th percentile of the complete
days' spend so far this month (the spread of real days, not a confidence interval). The Overview
budgets and forecast table, the exporter's budget burn and `hybridcost spend` all call `forecast`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

MIN_HOURS = 24.0
LOW_QUANTILE, HIGH_QUANTILE = 0.1, 0.9
TOTAL = "Total"


@dataclass(frozen=True)
class MonthEndForecast:
    """One month-end forecast: what was spent, how much of the month passed, and where it ends up."""

    month_to_date_usd: float
    hours_elapsed: float
    hours_in_month: float
    forecast_usd: float | None
    low_usd: float | None
    high_usd: float | None
    note: str

    def as_row(self) -> dict[str, object]:
        """The forecast as a plain row (the page and the exporter show these fields)."""
        return {"month_to_date_usd": self.month_to_date_usd, "forecast_month_end_usd": self.forecast_usd,
                "forecast_low_usd": self.low_usd, "forecast_high_usd": self.high_usd,
                "hours_elapsed": self.hours_elapsed, "note": self.note}


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """[first of now's month 00:00Z, first of the next month 00:00Z)."""
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    days = calendar.monthrange(now.year, now.month)[1]
    return start, start + timedelta(days=days)


def hours_elapsed(now: datetime) -> float:
    """Hours of the month before `now`."""
    return (now - month_bounds(now)[0]).total_seconds() / 3600


def _quantile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile of a non-empty list."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def forecast(month_to_date_usd: float, complete_days_usd: list[float], now: datetime) -> MonthEndForecast:
    """The month-end forecast from month-to-date spend and the spend of the month's complete days."""
    start, end = month_bounds(now)
    elapsed = hours_elapsed(now)
    in_month = (end - start).total_seconds() / 3600
    mtd = float(month_to_date_usd)
    if elapsed < MIN_HOURS:
        return MonthEndForecast(mtd, elapsed, in_month, None, None, None,
                                f"only {elapsed:.0f} h of the month so far: no forecast before {MIN_HOURS:.0f} h")
    rate = mtd / elapsed * in_month
    remaining_days = (in_month - elapsed) / 24
    if complete_days_usd:
        low = mtd + remaining_days * _quantile(complete_days_usd, LOW_QUANTILE)
        high = mtd + remaining_days * _quantile(complete_days_usd, HIGH_QUANTILE)
        low, high = min(low, rate), max(high, rate)
    else:
        low = high = rate
    return MonthEndForecast(mtd, elapsed, in_month, rate, low, high,
                            f"{elapsed:.0f} of {in_month:.0f} h elapsed")


def _complete_days(month: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Days of the month before today (whole days), with their spend (0 for a day without any)."""
    today = now.date()
    first = month_bounds(now)[0].date()
    days = pl.DataFrame({"day": pl.date_range(first, today, "1d", closed="left", eager=True)}
                        if today > first else {"day": []}, schema={"day": pl.Date})
    spent = month.group_by("day").agg(pl.col("cost_usd").sum())
    return days.join(spent, on="day", how="left").with_columns(pl.col("cost_usd").fill_null(0.0))


def forecast_frame(daily: pl.DataFrame, now: datetime, column: str) -> pl.DataFrame:
    """Per value of `column` (team or workload) plus a Total row: month to date, forecast, low, high, note.

    `daily` is an allocated daily frame (day, cost_usd, the column) covering this month to `now`.
    """
    start, _ = month_bounds(now)
    month = daily.filter((pl.col("day") >= start.date()) & (pl.col("day") <= now.date())).with_columns(
        pl.col("cost_usd").cast(pl.Float64))
    rows = []
    names = sorted(month[column].unique().to_list()) if month.height else []
    for name in [*names, TOTAL]:
        part = month if name == TOTAL else month.filter(pl.col(column) == name)
        days = _complete_days(part, now)["cost_usd"].to_list()
        rows.append({column: name, **forecast(float(part["cost_usd"].sum()), days, now).as_row()})
    return pl.DataFrame(rows, schema={column: pl.String, "month_to_date_usd": pl.Float64,
                                      "forecast_month_end_usd": pl.Float64, "forecast_low_usd": pl.Float64,
                                      "forecast_high_usd": pl.Float64, "hours_elapsed": pl.Float64,
                                      "note": pl.String})


def for_name(daily: pl.DataFrame, now: datetime, column: str, name: str) -> MonthEndForecast:
    """The forecast of one team or workload (no spend yet: a forecast of $0, if the month is old enough)."""
    start, _ = month_bounds(now)
    part = daily.filter((pl.col(column) == name) & (pl.col("day") >= start.date())
                        & (pl.col("day") <= now.date())).with_columns(pl.col("cost_usd").cast(pl.Float64))
    return forecast(float(part["cost_usd"].sum()), _complete_days(part, now)["cost_usd"].to_list(), now)
