"""When the first replica pays and when a full move pays: the bounded forecast every surface shows.

History is the workload's tokens (API and its own servers) per complete ISO week of the period.
The forecast (`models.economics.forecast`) is stopped at the week its fast line passes 50x
today's volume: a short, steep history would otherwise run to volumes nobody can plan for, and
pricing them means nothing. "Now" when the plan already owns a replica at today's volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

from models.economics.contract import Demand, GpuOption, OutOfRangeError, PreparedWorkload, SimulationResult
from models.economics.forecast import DEFAULT_HORIZON_WEEKS, forecast_monthly_volume, move_dates, move_dates_prepared
from models.economics.plan import PlanResult
from models.economics.plan_inputs import PlanningInputs

MAX_FORECAST_GROWTH = 50.0
MIN_WEEKS = 2


@dataclass(frozen=True)
class MoveForecast:
    """The forecast move dates (None: not within the horizon) or why there is no forecast."""

    paying_now: bool
    full_move_now: bool
    first_replica: date | None = None
    first_replica_earliest: date | None = None
    first_replica_latest: date | None = None
    full_move: date | None = None
    full_move_earliest: date | None = None
    full_move_latest: date | None = None
    horizon_weeks: int = 0
    weekly_growth: float | None = None
    problem: str | None = None
    interval_note: str | None = None  # why the forecast has no interval (history too short)
    forecast: pl.DataFrame | None = None
    lead_time_days: float = 0.0
    order_by: date | None = None  # first_replica minus the plan's lead time
    order_by_earliest: date | None = None
    order_by_latest: date | None = None

    @property
    def first_replica_words(self) -> str:
        """'now', '2026-12-07 (between ... and ...)', 'not within 52 weeks' or why there is no forecast."""
        if self.paying_now:
            return "now"
        if self.problem:
            return self.problem
        if self.first_replica is None:
            return f"not within {self.horizon_weeks} weeks"
        lo, hi = self.first_replica_earliest, self.first_replica_latest
        if self.interval_note:
            return f"{self.first_replica:%Y-%m-%d} ({self.interval_note})"
        if lo and hi:
            return f"{self.first_replica:%Y-%m-%d} (between {lo:%Y-%m-%d} and {hi:%Y-%m-%d})"
        return f"{self.first_replica:%Y-%m-%d} (earliest {lo:%Y-%m-%d})" if lo else f"{self.first_replica:%Y-%m-%d}"

    @property
    def first_replica_headline(self) -> str:
        """``first_replica_words`` short enough for a metric: 'now', 'never', the week, 'not within 52 weeks',
        'no forecast' or 'out of range'; the reason and the interval go in the metric's help."""
        if self.paying_now:
            return "now"
        if self.problem:
            head = self.problem.split(":")[0].split(" (")[0]
            return {"never": "never", "forecast out of range": "out of range"}.get(head, "no forecast")
        if self.first_replica is None:
            return f"not within {self.horizon_weeks} weeks"
        return f"{self.first_replica:%Y-%m-%d}"

    @property
    def full_move_words(self) -> str:
        """When GPU-only costs less than API-only, in the same words."""
        if self.full_move_now:
            return "now"
        if self.problem:
            return self.problem
        if self.full_move is None:
            return f"not within {self.horizon_weeks} weeks"
        return f"{self.full_move:%Y-%m-%d}"

    def move_date(self, today: date) -> date | None:
        """The date the first replica pays (today when it pays now); None when not forecast."""
        return today if self.paying_now else self.first_replica

    def as_dict(self) -> dict:
        """JSON-ready (dates as ISO text; the forecast frame left out)."""
        iso = (lambda d: d.isoformat() if d else None)
        return {"paying_now": self.paying_now, "full_move_now": self.full_move_now,
                "first_replica": iso(self.first_replica), "first_replica_earliest": iso(self.first_replica_earliest),
                "first_replica_latest": iso(self.first_replica_latest), "full_move": iso(self.full_move),
                "full_move_earliest": iso(self.full_move_earliest), "full_move_latest": iso(self.full_move_latest),
                "horizon_weeks": self.horizon_weeks, "weekly_growth": self.weekly_growth, "problem": self.problem,
                "interval_note": self.interval_note, "lead_time_days": self.lead_time_days,
                "order_by": iso(self.order_by), "order_by_earliest": iso(self.order_by_earliest),
                "order_by_latest": iso(self.order_by_latest),
                "first_replica_words": self.first_replica_words, "full_move_words": self.full_move_words}


def weekly_history(frame: pl.DataFrame) -> pl.DataFrame:
    """Tokens per complete ISO week (168 hours inside the period) of an hourly planning frame."""
    if frame.is_empty():
        return pl.DataFrame(schema={"week_start": pl.Datetime("us", "UTC"), "tokens": pl.Float64, "hours": pl.UInt32})
    return (frame.with_columns(pl.col("hour").dt.truncate("1w").alias("week_start"))
            .group_by("week_start").agg((pl.col("input_tokens") + pl.col("output_tokens")).sum().alias("tokens"),
                                        pl.len().alias("hours"))
            .filter(pl.col("hours") == 168).sort("week_start"))


def _day(value) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def forecast_moves(weekly: pl.DataFrame, prep: PreparedWorkload, gpu: GpuOption, result: SimulationResult | PlanResult,
                   monthly_tokens: float, v2: tuple[Demand, np.ndarray, PlanningInputs] | None = None) -> MoveForecast:
    """The bounded move dates for a prepared workload and its contract result (v2: demand, API costs, inputs)."""
    paying = result.optimal_replicas > 0
    full = (result.peak_replicas > 0 and result.gpu_only_cost is not None
            and result.gpu_only_cost < result.api_only_cost)
    if not paying and result.breakeven_monthly_tokens is None:
        return MoveForecast(paying, full, problem="never: no volume with this hourly shape makes one replica pay")
    history = weekly.filter(pl.col("tokens") > 0).select("week_start", "tokens")
    if history.height < MIN_WEEKS:
        return MoveForecast(paying, full, problem=f"not enough history to forecast ({history.height} complete "
                                                  f"week{'s' if history.height != 1 else ''} with tokens, "
                                                  f"{MIN_WEEKS} needed)")
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            _, forecast = forecast_monthly_volume(history)
            # the fast line is null when history is too short for an interval: bound the central line then
            high = forecast["monthly_tokens_high"].fill_null(forecast["monthly_tokens"]).to_numpy()
            within = np.isfinite(high) & (high <= MAX_FORECAST_GROWTH * monthly_tokens)
        horizon = DEFAULT_HORIZON_WEEKS if within.all() else int(np.argmin(within))
        if monthly_tokens <= 0 or horizon == 0:
            return MoveForecast(paying, full, problem="forecast out of range (growth too steep to extrapolate)")
        with np.errstate(over="ignore", invalid="ignore"):
            dates = (move_dates_prepared(history, prep, gpu, horizon_weeks=horizon) if v2 is None else
                     move_dates(history, v2[0], None, gpu, horizon_weeks=horizon, planning=v2[2], api_costs=v2[1]))
    except (ArithmeticError, OutOfRangeError):
        return MoveForecast(paying, full, problem="forecast out of range (growth too steep to extrapolate)")
    except ValueError as exc:
        return MoveForecast(paying, full, problem=f"no forecast: {exc}")
    growth = dates.weekly_growth
    return MoveForecast(
        paying, full, first_replica=_day(dates.first_replica_week),
        first_replica_earliest=_day(dates.first_replica_earliest), first_replica_latest=_day(dates.first_replica_latest),
        full_move=_day(dates.full_move_week), full_move_earliest=_day(dates.full_move_earliest),
        full_move_latest=_day(dates.full_move_latest), horizon_weeks=horizon,
        weekly_growth=float(growth) if np.isfinite(growth) else None, interval_note=dates.interval_note,
        forecast=dates.forecast, lead_time_days=dates.lead_time_days, order_by=_day(dates.order_by),
        order_by_earliest=_day(dates.order_by_earliest), order_by_latest=_day(dates.order_by_latest))
