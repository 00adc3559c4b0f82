"""Forecast monthly token volume from weekly history, and the move dates it implies, with how sure we are.

Method (robust to a few odd weeks): fit ``ln(weekly tokens) = a + b * week`` on complete weeks
only with Sen's slope: ``b`` is the median of the slopes between every pair of weeks and ``a`` the
median of ``ln(tokens) - b * week``. How sure we are is Sen's nonparametric confidence interval
for ``b`` (Sen 1968; Gilbert 1987, ch. 16), 80 % by default: with ``N`` pairwise slopes in
ascending order and Kendall's variance ``Var(S) = [n(n-1)(2n+5) - sum_ties t(t-1)(2t+5)] / 18``,
``C = z_{1 - alpha/2} * sqrt(Var(S))``; the limits are the slopes of rank ``(N - C) / 2`` and
``(N + C) / 2 + 1`` (1-based, interpolated between neighbours). The interval narrows as history
grows (roughly as ``n^-1.5``); it needs at least four complete weeks at 80 % (with three the
lower rank falls below 1) and is then reported as missing, with the reason. Each limit gives a
slow and a fast growth line through the median of the data. Weeks with no tokens cannot be
logged and are left out. Weekly volume becomes monthly as ``x 730 / 168``.

Move dates: the first forecast week whose monthly volume reaches the contract's
``breakeven_monthly_tokens`` (the first replica pays), for the central line and the fast
(earliest) and slow (latest) lines; the "order by" dates are those weeks minus the plan's lead
time. Also the first week in which GPU-only costs less than API-only (a full move pays). None
means "not within the horizon".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from statistics import NormalDist

import numpy as np
import polars as pl

from models.economics.contract import ApiPricing, Demand, GpuOption, PreparedWorkload, prepare, simulate_prepared
from models.economics.plan import plan_cost_lines, simulate_plan
from models.economics.plan_inputs import PlanningInputs
from models.economics.units import HOURS_PER_MONTH, HOURS_PER_WEEK, weekly_to_monthly

DEFAULT_HORIZON_WEEKS = 52
DEFAULT_INTERVAL = 0.8
WEEK = timedelta(weeks=1)


def _naive_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    return datetime(value.year, value.month, value.day)


def complete_weeks(history: pl.DataFrame, since: date | datetime | None = None,
                   until: date | datetime | None = None) -> pl.DataFrame:
    """Only the weeks whose every hour was observed.

    With an ``hours`` column, a week is complete when it has all 168 hours; with the data window
    ``[since, until)``, when its seven days lie inside it (the first and the running week usually
    do not). Both rules apply when both are given.
    """
    frame = history
    if "hours" in frame.columns:
        frame = frame.filter(pl.col("hours") >= HOURS_PER_WEEK)
    if since is None and until is None or frame.is_empty():
        return frame
    lo = _naive_utc(since) if since is not None else None
    hi = _naive_utc(until) if until is not None else None
    keep = [(lo is None or _naive_utc(s) >= lo) and (hi is None or _naive_utc(s) + WEEK <= hi)
            for s in frame["week_start"].to_list()]
    return frame.filter(pl.Series(keep, dtype=pl.Boolean))


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Median pairwise slope, median intercept and all pairwise slopes of y on x (ascending)."""
    i, j = np.triu_indices(x.size, k=1)
    dx = x[j] - x[i]
    keep = dx != 0
    slopes = np.sort((y[j] - y[i])[keep] / dx[keep])
    slope = float(np.median(slopes))
    return slope, float(np.median(y - slope * x)), slopes


def _rank(slopes: np.ndarray, rank: float) -> float:
    """The order statistic of 1-based ``rank``, interpolated linearly between neighbours."""
    lo = int(np.floor(rank))
    frac = rank - lo
    if frac == 0 or lo >= slopes.size:
        return float(slopes[lo - 1])
    return float(slopes[lo - 1] + frac * (slopes[lo] - slopes[lo - 1]))


def sen_interval(y: np.ndarray, slopes: np.ndarray, confidence: float = DEFAULT_INTERVAL
                 ) -> tuple[float, float] | None:
    """Sen's nonparametric confidence interval for the slope; None when history is too short for it."""
    n, count = y.size, slopes.size
    _, ties = np.unique(y, return_counts=True)
    variance = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18.0
    c = NormalDist().inv_cdf(0.5 + confidence / 2.0) * np.sqrt(max(variance, 0.0))
    lower, upper = (count - c) / 2.0, (count + c) / 2.0 + 1.0
    if count == 0 or lower < 1 or upper > count:
        return None
    return _rank(slopes, lower), _rank(slopes, upper)


def weeks_needed(confidence: float = DEFAULT_INTERVAL) -> int:
    """The fewest complete weeks for which Sen's interval at ``confidence`` exists."""
    n = 2
    while sen_interval(np.arange(n, dtype=np.float64), np.arange(n * (n - 1) // 2, dtype=np.float64),
                       confidence) is None:
        n += 1
    return n


@dataclass(frozen=True)
class TrendFit:
    """A Sen line on log weekly volume, with slow and fast lines from the slope's confidence interval."""

    start: date | datetime
    last_week: float
    slope: float
    intercept: float
    slope_low: float | None
    intercept_low: float | None
    slope_high: float | None
    intercept_high: float | None
    weeks: int = 0
    confidence: float = DEFAULT_INTERVAL

    @property
    def weekly_growth(self) -> float:
        """Central growth per week as a fraction (0.05 = +5 % a week)."""
        return float(np.expm1(self.slope))

    @property
    def interval_note(self) -> str | None:
        """Why there is no interval (too little history), or None when there is one."""
        if self.slope_low is not None:
            return None
        need = weeks_needed(self.confidence)
        return (f"history too short for the {self.confidence * 100:g} % interval: {self.weeks} complete "
                f"week{'s' if self.weeks != 1 else ''} with tokens, {need} needed")


def fit_trend(history: pl.DataFrame, interval: float = DEFAULT_INTERVAL, *, since: date | datetime | None = None,
              until: date | datetime | None = None) -> TrendFit:
    """Fit Sen's line to the complete weeks of a frame of ``week_start`` and weekly ``tokens``."""
    missing = {"week_start", "tokens"} - set(history.columns)
    if missing:
        raise ValueError(f"history is missing column(s) {', '.join(sorted(missing))}")
    frame = complete_weeks(history.sort("week_start"), since, until).filter(pl.col("tokens") > 0)
    if frame.height < 2:
        raise ValueError("need at least two weeks with tokens (complete weeks) to fit a trend")
    starts = frame["week_start"].to_list()
    x = np.array([(s - starts[0]).total_seconds() / WEEK.total_seconds() for s in starts])
    y = np.log(frame["tokens"].to_numpy().astype(np.float64))
    slope, intercept, slopes = theil_sen(x, y)
    limits = sen_interval(y, slopes, interval)
    low, high = limits if limits is not None else (None, None)
    return TrendFit(
        start=starts[0], last_week=float(x[-1]), slope=slope, intercept=intercept,
        slope_low=low, intercept_low=None if low is None else float(np.median(y - low * x)),
        slope_high=high, intercept_high=None if high is None else float(np.median(y - high * x)),
        weeks=frame.height, confidence=interval,
    )


def forecast_monthly_volume(history: pl.DataFrame, horizon_weeks: int = DEFAULT_HORIZON_WEEKS,
                            interval: float = DEFAULT_INTERVAL, *, since: date | datetime | None = None,
                            until: date | datetime | None = None) -> tuple[TrendFit, pl.DataFrame]:
    """Monthly tokens for each of the next ``horizon_weeks`` weeks; the interval columns null when too short."""
    fit = fit_trend(history, interval, since=since, until=until)
    weeks = fit.last_week + np.arange(1, horizon_weeks + 1, dtype=np.float64)

    def line(a: float | None, b: float | None) -> list[float | None]:
        """Monthly volume along ln(weekly) = a + b * week."""
        if a is None or b is None:
            return [None] * weeks.size
        return weekly_to_monthly(np.exp(a + b * weeks)).tolist()

    frame = pl.DataFrame({
        "week_start": [fit.start + timedelta(weeks=float(w)) for w in weeks],
        "monthly_tokens": line(fit.intercept, fit.slope),
        "monthly_tokens_low": line(fit.intercept_low, fit.slope_low),
        "monthly_tokens_high": line(fit.intercept_high, fit.slope_high),
    }, schema_overrides={"monthly_tokens_low": pl.Float64, "monthly_tokens_high": pl.Float64})
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
    weekly_growth_low: float | None = None
    weekly_growth_high: float | None = None
    weeks: int = 0
    confidence: float = DEFAULT_INTERVAL
    interval_note: str | None = None  # set when history is too short for the interval
    lead_time_days: float = 0.0
    order_by: date | datetime | None = None  # first_replica_week minus the lead time
    order_by_earliest: date | datetime | None = None
    order_by_latest: date | datetime | None = None


def _v1_cost_lines(prep: PreparedWorkload, monthly_tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monthly API-only and GPU-only cost at each volume: the breakeven curve's two lines, without its optimum.

    The same figures as ``curves.costs_at_monthly_tokens`` (``k * api_total`` and
    ``R_peak(k) * h_rep`` per month) without pricing every replica count up to the peak.
    """
    per_month_today = prep.tokens_total * HOURS_PER_MONTH / prep.hours if prep.hours else 0.0
    if per_month_today <= 0:
        raise ValueError("the demand has no tokens, so it has no shape to scale")
    k = np.asarray(monthly_tokens, dtype=np.float64) / per_month_today
    peaks = np.array([prep.peak(float(x)) for x in k], dtype=np.float64)
    return k * prep.api_total * HOURS_PER_MONTH / prep.hours, peaks * prep.h_rep * HOURS_PER_MONTH


def _first_week(weeks: list, hit: np.ndarray):
    return weeks[int(np.argmax(hit))] if hit.any() else None


def move_dates(history: pl.DataFrame, demand: Demand, api: ApiPricing, gpu: GpuOption,
               horizon_weeks: int = DEFAULT_HORIZON_WEEKS, interval: float = DEFAULT_INTERVAL, *,
               planning: PlanningInputs | None = None, lead_time_days: float | None = None,
               since: date | datetime | None = None, until: date | datetime | None = None) -> MoveDates:
    """First forecast weeks at which one replica pays and at which GPU-only beats API-only, with order-by dates.

    With ``planning`` (a v2 plan or slo) the thresholds are contract v2's and the lead time the
    plan's ``lead_time_days`` unless ``lead_time_days`` is given.
    """
    if lead_time_days is None:
        lead_time_days = planning.plan.lead_time_days if planning is not None and planning.plan else 0.0
    if planning is None or planning.is_v1:
        return move_dates_prepared(history, prepare(demand, api, gpu), gpu, horizon_weeks, interval,
                                   lead_time_days=lead_time_days, since=since, until=until)
    fit, frame = forecast_monthly_volume(history, horizon_weeks, interval, since=since, until=until)
    breakeven = simulate_plan(demand, api, gpu, planning, with_flips=False).breakeven_monthly_tokens
    return _dates(fit, frame, breakeven, lambda volume: plan_cost_lines(demand, api, gpu, planning, volume),
                  interval, lead_time_days)


def move_dates_prepared(history: pl.DataFrame, prep: PreparedWorkload, gpu: GpuOption,
                        horizon_weeks: int = DEFAULT_HORIZON_WEEKS, interval: float = DEFAULT_INTERVAL, *,
                        lead_time_days: float = 0.0, since: date | datetime | None = None,
                        until: date | datetime | None = None) -> MoveDates:
    """`move_dates` under contract v1 on an already prepared workload (its hours priced however the caller did)."""
    fit, frame = forecast_monthly_volume(history, horizon_weeks, interval, since=since, until=until)
    breakeven = simulate_prepared(prep, gpu).breakeven_monthly_tokens
    return _dates(fit, frame, breakeven, lambda volume: _v1_cost_lines(prep, volume), interval, lead_time_days)


def _dates(fit: TrendFit, frame: pl.DataFrame, breakeven: float | None, cost_lines, interval: float,
           lead_time_days: float) -> MoveDates:
    """The move dates along the central, fast and slow lines, given the API-only and GPU-only cost lines."""
    weeks = frame["week_start"].to_list()
    found: dict[str, object] = {}
    for label, column in (("week", "monthly_tokens"), ("earliest", "monthly_tokens_high"),
                          ("latest", "monthly_tokens_low")):
        volume = frame[column].to_numpy()
        if np.isnan(volume).all():
            found[f"first_replica_{label}"] = found[f"full_move_{label}"] = None
            continue
        replica_hit = volume >= breakeven if breakeven is not None else np.zeros(volume.size, bool)
        api_usd, gpu_usd = cost_lines(volume)
        found[f"first_replica_{label}"] = _first_week(weeks, replica_hit)
        found[f"full_move_{label}"] = _first_week(weeks, gpu_usd < api_usd)
    lead = timedelta(days=lead_time_days)

    def minus_lead(week):
        return None if week is None else week - lead

    return MoveDates(
        breakeven_monthly_tokens=breakeven, weekly_growth=fit.weekly_growth, forecast=frame,
        weekly_growth_low=None if fit.slope_low is None else float(np.expm1(fit.slope_low)),
        weekly_growth_high=None if fit.slope_high is None else float(np.expm1(fit.slope_high)),
        weeks=fit.weeks, confidence=interval, interval_note=fit.interval_note, lead_time_days=lead_time_days,
        order_by=minus_lead(found["first_replica_week"]),
        order_by_earliest=minus_lead(found["first_replica_earliest"]),
        order_by_latest=minus_lead(found["first_replica_latest"]),
        **found,
    )
