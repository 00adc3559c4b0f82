"""Everything a weekly report shows, assembled from the read queries (no rendering, no Streamlit).

Money stays Decimal from `allocated_daily` to the report, so the report's totals are the
same numbers `spend_by` gives for the same week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models import clock
from models.anomalies import AnomalyRule, spend_anomalies
from models.infra.settings import get_settings
from models.ledger.periods import restatements
from models.queries.spend import allocated_daily, summarise
from models.reports.economics import recommendations_and_levers
from models.reports.fleet import FleetSummary, fleet_week

ZERO = Decimal(0)
MONEY = pl.Decimal(38, 10)


class ReportInputError(ValueError):
    """A week or option the report cannot be made for; the message is for the user."""


@dataclass(frozen=True)
class ReportWeek:
    """An ISO week: Monday 00:00 UTC (inclusive) to the next Monday 00:00 UTC (exclusive)."""

    label: str
    since: datetime
    until: datetime

    @property
    def previous(self) -> ReportWeek:
        """The ISO week before this one."""
        return week_of(self.since - timedelta(days=7))


def week_of(moment: datetime | date) -> ReportWeek:
    """The ISO week that contains `moment` (UTC)."""
    day = moment.astimezone(timezone.utc).date() if isinstance(moment, datetime) else moment
    year, week, weekday = day.isocalendar()
    monday = day - timedelta(days=weekday - 1)
    since = datetime(monday.year, monday.month, monday.day, tzinfo=timezone.utc)
    return ReportWeek(f"{year}-W{week:02d}", since, since + timedelta(days=7))


def parse_week(text: str | None, *, now: datetime | None = None) -> ReportWeek:
    """`2026-W47` as a ReportWeek; None means the last full ISO week before `now`."""
    now = now or clock.now()
    if not text:
        return week_of(now).previous
    try:
        year_text, week_text = text.strip().upper().split("-W")
        monday = date.fromisocalendar(int(year_text), int(week_text), 1)
    except ValueError:
        raise ReportInputError(f"--week must look like 2026-W47 (ISO year and week), not {text!r}") from None
    return week_of(monday)


DATA_BOUNDS = """
SELECT min(lo), max(hi) FROM (
    SELECT min(bucket_start_at) AS lo, max(bucket_end_at) AS hi FROM usage_hourly
    UNION ALL SELECT min(started_at), max(started_at) FROM usage_requests
    UNION ALL SELECT min(charge_period_start_at), max(charge_period_end_at) FROM cost_lines
    UNION ALL SELECT min(hour_at), max(hour_at) + interval '1 hour' FROM gpu_hourly
) b
"""


def data_bounds(conn: Connection) -> tuple[datetime | None, datetime | None]:
    """The oldest and the newest data timestamp over usage, requests, cost lines and GPU hours."""
    lo, hi = conn.execute(sa.text(DATA_BOUNDS)).one()
    return lo, hi


def check_week(week: ReportWeek, bounds: tuple[datetime | None, datetime | None], *,
               now: datetime | None = None, partial: bool = False) -> None:
    """Raise ReportInputError for a week in the future, before any data, or in progress (unless `partial`)."""
    now = now or clock.now()
    if week.since > now:
        raise ReportInputError(f"week {week.label} starts {week.since:%Y-%m-%d}, in the future; "
                               f"the last full week is {week_of(now).previous.label}")
    if week.until > now and not partial:
        hours = (now - week.since).total_seconds() / 3600
        raise ReportInputError(f"week {week.label} is in progress: {hours:.0f} of 168 hours so far (it ends "
                               f"{week.until:%a %Y-%m-%d} 00:00 UTC); the last complete week is "
                               f"{week_of(now).previous.label}, or add --partial for the hours so far (nothing scaled)")
    lo, _ = bounds
    if lo is None:
        raise ReportInputError("there is no data yet: load some (hybridcost demo load, hybridcost ingest ...)")
    if week.until <= lo:
        raise ReportInputError(f"week {week.label} ends before the first data ({lo:%Y-%m-%d}, "
                               f"week {week_of(lo).label})")


@dataclass
class WeeklyReport:
    """The numbers behind one weekly report."""

    week: ReportWeek
    as_of: datetime | None
    generated_at: datetime
    daily: pl.DataFrame
    previous_daily: pl.DataFrame
    total_usd: Decimal
    previous_total_usd: Decimal
    by_provider: pl.DataFrame
    by_workload: pl.DataFrame
    by_team: pl.DataFrame
    movers: pl.DataFrame
    quality: dict[str, Any]
    failed_runs: pl.DataFrame
    fleet: FleetSummary
    restatements: pl.DataFrame = field(default_factory=pl.DataFrame)
    recommendations: pl.DataFrame | None = None
    levers: pl.DataFrame | None = None
    pending: list[str] = field(default_factory=list)
    anomalies: pl.DataFrame = field(default_factory=pl.DataFrame)
    # A week in progress (--partial): the report covers [week start, until) and compares the same hours
    until: datetime | None = None

    @property
    def partial(self) -> bool:
        """True for a week still in progress: figures cover only its first `hours` hours."""
        return self.until is not None and self.until < self.week.until

    @property
    def hours(self) -> float:
        """Hours of the week the report covers (168 for a complete week)."""
        end = self.until if self.partial else self.week.until
        return (end - self.week.since).total_seconds() / 3600

    @property
    def title(self) -> str:
        """'2026-W47', or '2026-W49 (partial: 32 of 168 hours)' for a week in progress."""
        return f"{self.week.label} (partial: {self.hours:.0f} of 168 hours)" if self.partial else self.week.label

    @property
    def change_pct(self) -> float | None:
        """Week-over-week change of total spend as a fraction; None when last week had none."""
        if not self.previous_total_usd:
            return None
        return float((self.total_usd - self.previous_total_usd) / self.previous_total_usd)


def _total(daily: pl.DataFrame) -> Decimal:
    return Decimal(daily["cost_usd"].sum()) if daily.height else ZERO


def compare(now: pl.DataFrame, before: pl.DataFrame, column: str) -> pl.DataFrame:
    """Spend per value of `column` this week and last week, with the change in USD and as a fraction."""
    cur = summarise(now, column).select("group", "cost_usd", "input_tokens", "output_tokens", "unpriced_tokens")
    prev = summarise(before, column).select("group", pl.col("cost_usd").alias("previous_usd"))
    zero = pl.lit(ZERO, dtype=MONEY)
    frame = cur.join(prev, on="group", how="full", coalesce=True).with_columns(
        pl.col("cost_usd").cast(MONEY).fill_null(zero), pl.col("previous_usd").cast(MONEY).fill_null(zero),
        pl.col("input_tokens", "output_tokens", "unpriced_tokens").fill_null(0))
    frame = frame.with_columns((pl.col("cost_usd") - pl.col("previous_usd")).cast(MONEY).alias("change_usd"))
    frame = frame.with_columns(
        pl.when(pl.col("previous_usd") != zero)
        .then(pl.col("change_usd").cast(pl.Float64) / pl.col("previous_usd").cast(pl.Float64))
        .otherwise(None).alias("change_pct"))
    return frame.sort(["cost_usd", "group"], descending=[True, False])


def top_movers(tables: dict[str, pl.DataFrame], limit: int = 5) -> pl.DataFrame:
    """The biggest week-over-week changes in USD across several `compare` frames."""
    parts = [t.select(pl.lit(dim).alias("dimension"), "group", "previous_usd", "cost_usd", "change_usd",
                      "change_pct") for dim, t in tables.items()]
    frame = pl.concat(parts) if parts else pl.DataFrame()
    frame = frame.filter(pl.col("change_usd") != pl.lit(ZERO, dtype=MONEY))
    return (frame.with_columns(pl.col("change_usd").cast(pl.Float64).abs().alias("_abs"))
            .sort(["_abs", "dimension", "group"], descending=[True, False, False]).drop("_abs").head(limit))


def failed_runs(conn: Connection, week: ReportWeek) -> pl.DataFrame:
    """Ingest runs that started in the week and failed (or were abandoned by a process that died)."""
    rows = conn.execute(sa.text(
        "SELECT id, source, target, started_at, coalesce(error, '') FROM ingest_runs "
        "WHERE status IN ('failed', 'abandoned') AND started_at >= :since AND started_at < :until "
        "ORDER BY started_at"),
        {"since": week.since, "until": week.until}).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "id": pl.Int64, "source": pl.String, "target": pl.String, "started_at": pl.Datetime("us", "UTC"),
        "error": pl.String})


def restatements_in(conn: Connection, week: ReportWeek) -> pl.DataFrame:
    """Restatements of closed months recorded during the week (the ledger keeps closed totals frozen)."""
    frame = restatements(conn)
    if frame.is_empty():
        return frame
    return frame.filter((pl.col("created_at") >= week.since) & (pl.col("created_at") < week.until))


def weekly_report(conn: Connection, week: ReportWeek, *, now: datetime | None = None,
                  partial: bool = False) -> WeeklyReport:
    """Assemble every section of the weekly report for `week` (validated against the data first).

    A week in progress is refused unless `partial`; then the report covers its hours so far,
    compares them with the same hours of the week before, and scales nothing to a whole week or
    month (the per-month economics are left out and say why).
    """
    now = now or clock.now()
    bounds = data_bounds(conn)
    check_week(week, bounds, now=now, partial=partial)
    prev = week.previous
    until = min(week.until, now)
    span = until - week.since
    daily = allocated_daily(conn, since=week.since, until=until)
    before = allocated_daily(conn, since=prev.since, until=prev.since + span)
    tables = {dim: compare(daily, before, dim) for dim in ("provider", "workload", "team", "model")}
    unallocated = daily.filter(pl.col("workload") == "unallocated")
    quality = {
        "unpriced_tokens": int(daily["unpriced_tokens"].sum()) if daily.height else 0,
        "unpriced_rows": int(daily["unpriced_rows"].sum()) if daily.height else 0,
        "unpriced_models": sorted(daily.filter(pl.col("unpriced_tokens") > 0)["model"].unique().to_list()),
        "unallocated_usd": _total(unallocated),
        "bases": sorted(daily["cost_basis"].drop_nulls().unique().to_list()),
    }
    report = WeeklyReport(
        week=week, as_of=min(bounds[1], now) if bounds[1] else None, generated_at=now,
        daily=daily, previous_daily=before,
        total_usd=_total(daily), previous_total_usd=_total(before),
        by_provider=tables["provider"], by_workload=tables["workload"], by_team=tables["team"],
        movers=top_movers({"workload": tables["workload"], "model": tables["model"]}),
        quality=quality, failed_runs=failed_runs(conn, week), fleet=fleet_week(conn, week.since, until),
        restatements=restatements_in(conn, week), until=until if until < week.until else None,
        anomalies=_anomalies(conn, week, until, now))
    if report.partial:
        report.pending.append(f"Recommendations and lever savings are per month: not computed for a week in "
                              f"progress ({report.hours:.0f} of 168 hours), since that would scale a part of a "
                              "week to a month. Run the report again once the week is complete.")
        return report
    report.recommendations, report.levers = recommendations_and_levers(conn, week.since, week.until, now=now)
    return report


def _anomalies(conn: Connection, week: ReportWeek, until: datetime, now: datetime) -> pl.DataFrame:
    """Spend anomalies on the week's complete days (models.anomalies, the Overview's rule and settings)."""
    settings = get_settings()
    return spend_anomalies(conn, since=week.since, until=until, today=now.date(),
                           rule=AnomalyRule(threshold=settings.anomaly_threshold, min_usd=settings.anomaly_min_usd))
