"""Spend anomalies: each workload's and team's daily spend against its own weekday-seasonal baseline.

For one group (a workload or a team), with x_i its spend on day i (0 on a day without any, from
its first day with spend on):
- level(i) = the median of the LEVEL_DAYS (7) days before i: one of each weekday, so the level
  follows a real change of volume within a few days without following one odd day;
- weekday factor f(w) = the median of x_i / level(i) over the HISTORY_DAYS (56) days before the
  judged day that fall on weekday w (needs MIN_SAME_WEEKDAYS, 3, with a level above 0);
- baseline(d) = level(d) x f(weekday of d);
- residuals e_i = x_i - level(i) x f(weekday of i) over the same history;
- scale = max(1.4826 x median(|e - median(e)|), 10 % of the baseline, MIN_SCALE_USD): the MAD of
  the residuals as a robust standard deviation, floored so a flat series does not flag cents;
- score = (x_d - baseline(d)) / scale.
A day is an anomaly when |score| >= the threshold (HYBRIDCOST_ANOMALY_THRESHOLD, default 4) and
|x_d - baseline(d)| >= HYBRIDCOST_ANOMALY_MIN_USD (default $20); its dollar impact is
x_d - baseline(d) (negative: spend fell). A day in progress is never judged (it is not over).
The Overview, the weekly report and the exporter all call `detect` (through `spend_anomalies`
or `latest_day`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
from sqlalchemy import Connection

from models.queries.spend import allocated_daily

HISTORY_DAYS = 56
LEVEL_DAYS = 7
MIN_SAME_WEEKDAYS = 3
MAD_TO_SIGMA = 1.4826
MIN_SCALE_USD = 1.0
BASELINE_FLOOR_SHARE = 0.10
SCOPES = ("workload", "team")

SCHEMA = {"scope": pl.String, "name": pl.String, "day": pl.Date, "spend_usd": pl.Float64,
          "baseline_usd": pl.Float64, "impact_usd": pl.Float64, "score": pl.Float64}


@dataclass(frozen=True)
class AnomalyRule:
    """When a day counts as an anomaly: |score| at least `threshold` and |impact| at least `min_usd`."""

    threshold: float = 4.0
    min_usd: float = 20.0


def _series(daily: pl.DataFrame, column: str) -> dict[str, dict[date, float]]:
    """Spend per day for each value of `column`."""
    sums = daily.group_by(column, "day").agg(pl.col("cost_usd").cast(pl.Float64).sum())
    out: dict[str, dict[date, float]] = {}
    for name, day, usd in sums.iter_rows():
        out.setdefault(name, {})[day] = usd
    return out


class Series:
    """One group's daily spend from its first day with spend, with its rolling level."""

    def __init__(self, spend: dict[date, float]):
        """Daily spend (days missing from `spend` count as 0) and level(i) for every day from the first."""
        self.first = min(spend)
        days = (max(spend) - self.first).days + 1
        self.x = np.zeros(days)
        for day, usd in spend.items():
            self.x[(day - self.first).days] = usd
        self.level = np.full(days, np.nan)
        if days > LEVEL_DAYS:
            windows = np.lib.stride_tricks.sliding_window_view(self.x, LEVEL_DAYS)
            self.level[LEVEL_DAYS:] = np.median(windows[:-1], axis=1)

    def value(self, t: int) -> float:
        """Spend on day index t (0 past the last day with spend)."""
        return float(self.x[t]) if 0 <= t < len(self.x) else 0.0

    def level_at(self, t: int) -> float:
        """level(t), also for a day after the last one with spend (its days count as 0)."""
        if t < LEVEL_DAYS:
            return float("nan")
        if t < len(self.level):
            return float(self.level[t])
        return float(np.median([self.value(k) for k in range(t - LEVEL_DAYS, t)]))

    def judge(self, day: date) -> tuple[float, float, float] | None:
        """(spend, baseline, score) of one day; None without enough history."""
        t = (day - self.first).days
        level = self.level_at(t)
        if np.isnan(level):
            return None
        history = [i for i in range(max(LEVEL_DAYS, t - HISTORY_DAYS), t) if i < len(self.level)]
        ratios: dict[int, list[float]] = {}
        for i in history:
            if self.level[i] > 0:
                ratios.setdefault((self.first + timedelta(days=i)).weekday(), []).append(self.x[i] / self.level[i])
        weekday = day.weekday()
        if len(ratios.get(weekday, [])) < MIN_SAME_WEEKDAYS:
            return None
        factor = {w: float(np.median(v)) for w, v in ratios.items()}
        residuals = np.array([self.x[i] - self.level[i] * factor[(self.first + timedelta(days=i)).weekday()]
                              for i in history if (self.first + timedelta(days=i)).weekday() in factor])
        mad = float(np.median(np.abs(residuals - np.median(residuals))))
        baseline = level * factor[weekday]
        scale = max(MAD_TO_SIGMA * mad, BASELINE_FLOOR_SHARE * abs(baseline), MIN_SCALE_USD)
        value = self.value(t)
        return value, baseline, (value - baseline) / scale


def _judged(daily: pl.DataFrame, days: list[date], rule: AnomalyRule, *, every: bool) -> pl.DataFrame:
    """Per workload and team and each of `days`: the judged days that are anomalies (or all, `every`)."""
    rows = []
    for scope in SCOPES:
        for name, spend in sorted(_series(daily, scope).items()):
            series = Series(spend)
            for day in days:
                judged = series.judge(day) if day >= series.first else None
                if judged is None:
                    continue
                value, baseline, score = judged
                flagged = abs(score) >= rule.threshold and abs(value - baseline) >= rule.min_usd
                if flagged or every:
                    rows.append((scope, name, day, value, baseline, value - baseline if flagged else 0.0, score))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def detect(daily: pl.DataFrame, *, first_day: date, last_day: date, today: date,
           rule: AnomalyRule | None = None) -> pl.DataFrame:
    """Anomalous days in [first_day, last_day] (complete days only: before `today`) per workload and team.

    `daily` is an allocated daily frame that also covers the HISTORY_DAYS before first_day.
    """
    rule = rule or AnomalyRule()
    last = min(last_day, today - timedelta(days=1))
    days = [first_day + timedelta(days=k) for k in range((last - first_day).days + 1)] if daily.height else []
    frame = _judged(daily, days, rule, every=False)
    return frame.with_columns(pl.col("impact_usd").abs().alias("_abs")).sort(
        ["_abs", "day", "scope", "name"], descending=[True, True, False, False]).drop("_abs")


def history_since(since: datetime) -> datetime:
    """Where the daily spend an anomaly check of [since, ...) needs must start."""
    return since - timedelta(days=HISTORY_DAYS + LEVEL_DAYS)


def spend_anomalies(conn: Connection, *, since: datetime, until: datetime, today: date,
                    rule: AnomalyRule | None = None) -> pl.DataFrame:
    """Anomalous complete days in [since, until) per workload and team, read from the system of record."""
    daily = allocated_daily(conn, since=history_since(since), until=until)
    last_day = (until - timedelta(microseconds=1)).date()
    return detect(daily, first_day=since.date(), last_day=last_day, today=today, rule=rule)


def latest_day(conn: Connection, *, today: date, rule: AnomalyRule | None = None) -> pl.DataFrame:
    """Every workload and team judged on the last complete day (yesterday): spend, baseline, impact, score.

    Groups without enough history are left out; impact is 0 where the day is not an anomaly
    (the exporter's hybridcost_spend_anomaly_usd).
    """
    rule = rule or AnomalyRule()
    day = today - timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), UTC)
    daily = allocated_daily(conn, since=history_since(start), until=start + timedelta(days=1))
    return _judged(daily, [day], rule, every=True)


def scoped(found: pl.DataFrame, workloads: Iterable[str], teams: Iterable[str],
           team_of: Mapping[str, str]) -> pl.DataFrame:
    """The anomalies a workload/team filter keeps: picked workloads (and the workloads of picked teams), picked teams."""
    workloads, teams = set(workloads), set(teams)
    if not workloads and not teams:
        return found
    kept_workloads = workloads | {w for w, t in team_of.items() if t in teams}
    return found.filter(((pl.col("scope") == "workload") & pl.col("name").is_in(sorted(kept_workloads)))
                        | ((pl.col("scope") == "team") & pl.col("name").is_in(sorted(teams))))
