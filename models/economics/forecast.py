"""Forecast monthly token volume from weekly history, and the move dates it implies.

Method (robust to a few odd weeks): fit ``ln(weekly tokens) = a + b * week`` with the
Theil-Sen estimator: ``b`` is the median of the slopes between every pair of weeks and ``a``
the median of ``ln(tokens) - b * week``. The interval comes from the spread of the pairwise
slopes: the lower and upper quantiles (10 % and 90 % for the default 0.8) give a slow and a
fast growth line, each through the median of the data. It is a plain description of how much
the week-to-week trend varies, not a formal confidence interval. Weeks with no tokens cannot
be logged and are left out of the fit. Weekly volume becomes monthly as ``x 730 / 168``.

Move dates: the first forecast week whose monthly volume reaches the contract's
``breakeven_monthly_tokens`` (the first replica pays), and the first week in which GPU-only
costs less than API-only at that volume (a full move pays). Each is given for the central line
and for the fast (earliest) and slow (latest) lines; None means "not within the horizon".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from models.economics.contract import ApiPricing, Demand, GpuOption, PreparedWorkload, prepare, simulate_prepared
from models.economics.curves import costs_at_monthly_tokens
from models.economics.units import weekly_to_monthly

DEFAULT_HORIZON_WEEKS = 52
DEFAULT_INTERVAL = 0.8


@dataclass(frozen=True)
class TrendFit:
    """A Theil-Sen line on log weekly volume, with slow and fast lines from the slope spread."""

    start: date | datetime
    last_week: float
    slope: float
    intercept: float
    slope_low: float
    intercept_low: float
    slope_high: float
    intercept_high: float

    @property
    def weekly_growth(self) -> float:
        """Central growth per week as a fraction (0.05 = +5 % a week)."""
        return float(np.expm1(self.slope))


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Median pairwise slope, median intercept and all pairwise slopes of y on x."""
    i, j = np.triu_indices(x.size, k=1)
    dx = x[j] - x[i]
    keep = dx != 0
    slopes = (y[j] - y[i])[keep] / dx[keep]
    slope = float(np.median(slopes))
    return slope, float(np.median(y - slope * x)), slopes


def fit_trend(history: pl.DataFrame, interval: float = DEFAULT_INTERVAL) -> TrendFit:
    """Fit the robust log-linear trend to a frame of ``week_start`` and weekly ``tokens``."""
    missing = {"week_start", "tokens"} - set(history.columns)
    if missing:
        raise ValueError(f"history is missing column(s) {', '.join(sorted(missing))}")
    frame = history.sort("week_start").filter(pl.col("tokens") > 0)
    if frame.height < 2:
        raise ValueError("need at least two weeks with tokens to fit a trend")
    starts = frame["week_start"].to_list()
    x = np.array([(s - starts[0]).total_seconds() / 604800.0 for s in starts])
    y = np.log(frame["tokens"].to_numpy().astype(np.float64))
    slope, intercept, slopes = theil_sen(x, y)
    tail = (1.0 - interval) / 2.0
    low, high = (float(np.quantile(slopes, q)) for q in (tail, 1.0 - tail))
    return TrendFit(
        start=starts[0], last_week=float(x[-1]), slope=slope, intercept=intercept,
        slope_low=low, intercept_low=float(np.median(y - low * x)),
        slope_high=high, intercept_high=float(np.median(y - high * x)),
    )


def forecast_monthly_volume(history: pl.DataFrame, horizon_weeks: int = DEFAULT_HORIZON_WEEKS,
                            interval: float = DEFAULT_INTERVAL) -> tuple[TrendFit, pl.DataFrame]:
    """Forecast monthly tokens for each of the next ``horizon_weeks`` weeks, with an interval."""
    fit = fit_trend(history, interval)
    weeks = fit.last_week + np.arange(1, horizon_weeks + 1, dtype=np.float64)

    def line(a: float, b: float) -> np.ndarray:
        """Monthly volume along ln(weekly) = a + b * week."""
        return weekly_to_monthly(np.exp(a + b * weeks))

    frame = pl.DataFrame({
        "week_start": [fit.start + timedelta(weeks=float(w)) for w in weeks],
        "monthly_tokens": line(fit.intercept, fit.slope),
        "monthly_tokens_low": line(fit.intercept_low, fit.slope_low),
        "monthly_tokens_high": line(fit.intercept_high, fit.slope_high),
    })
    return fit, frame


@dataclass(frozen=True)
class MoveDates:
    """When the forecast says the first replica pays and when a full move pays (None: not in horizon)."""

    breakeven_monthly_tokens: float | None
    first_replica_week: date | datetime | None
    first_replica_earliest: date | datetime | None
    first_replica_latest: date | datetime | None
    full_move_week: date | datetime | None
    full_move_earliest: date | datetime | None
    full_move_latest: date | datetime | None
    weekly_growth: float
    forecast: pl.DataFrame


def _first_week(weeks: list, hit: np.ndarray):
    return weeks[int(np.argmax(hit))] if hit.any() else None


def move_dates(history: pl.DataFrame, demand: Demand, api: ApiPricing, gpu: GpuOption,
               horizon_weeks: int = DEFAULT_HORIZON_WEEKS, interval: float = DEFAULT_INTERVAL) -> MoveDates:
    """First forecast weeks at which one replica pays and at which GPU-only beats API-only."""
    return move_dates_prepared(history, prepare(demand, api, gpu), gpu, horizon_weeks, interval)


def move_dates_prepared(history: pl.DataFrame, prep: PreparedWorkload, gpu: GpuOption,
                        horizon_weeks: int = DEFAULT_HORIZON_WEEKS,
                        interval: float = DEFAULT_INTERVAL) -> MoveDates:
    """`move_dates` on an already prepared workload (its hours priced however the caller priced them)."""
    fit, frame = forecast_monthly_volume(history, horizon_weeks, interval)
    breakeven = simulate_prepared(prep, gpu).breakeven_monthly_tokens
    weeks = frame["week_start"].to_list()
    found: dict[str, object] = {}
    for label, column in (("", "monthly_tokens"), ("earliest", "monthly_tokens_high"),
                          ("latest", "monthly_tokens_low")):
        volume = frame[column].to_numpy()
        replica_hit = volume >= breakeven if breakeven is not None else np.zeros(volume.size, bool)
        costs = costs_at_monthly_tokens(prep, volume)
        full_hit = (costs["gpu_only_usd"] < costs["api_only_usd"]).to_numpy()
        found["first_replica" + ("_" + label if label else "_week")] = _first_week(weeks, replica_hit)
        found["full_move" + ("_" + label if label else "_week")] = _first_week(weeks, full_hit)
    return MoveDates(breakeven_monthly_tokens=breakeven, weekly_growth=fit.weekly_growth,
                     forecast=frame, **found)
