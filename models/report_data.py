"""Everything a weekly report shows, assembled from the read queries (no rendering, no Streamlit).

Money stays Decimal from `allocated_daily` to the report, so the report's totals are the
same numbers `spend_by` gives for the same week.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.queries.spend import allocated_daily, summarise

ZERO = Decimal(0)
MONEY = pl.Decimal(38, 10)
CENT10 = Decimal("1e-10")
HOURS_PER_MONTH = 730


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
    now = now or datetime.now(timezone.utc)
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
               now: datetime | None = None) -> None:
    """Raise ReportInputError for a week in the future or before any data."""
    now = now or datetime.now(timezone.utc)
    if week.since > now:
        raise ReportInputError(f"week {week.label} starts {week.since:%Y-%m-%d}, in the future; "
                               f"the last full week is {week_of(now).previous.label}")
    lo, _ = bounds
    if lo is None:
        raise ReportInputError("there is no data yet: load some (hybridcost demo load, hybridcost ingest ...)")
    if week.until <= lo:
        raise ReportInputError(f"week {week.label} ends before the first data ({lo:%Y-%m-%d}, "
                               f"week {week_of(lo).label})")


@dataclass
class FleetSummary:
    """GPU fleet figures for one week: use, idle cost and saturation signals."""

    gpu_hours: float = 0.0
    busy_gpu_hours: float = 0.0
    cost_usd: Decimal | None = None
    idle_cost_usd: Decimal | None = None
    unpriced_gpu_hours: float = 0.0
    by_host: pl.DataFrame = field(default_factory=pl.DataFrame)
    saturation: pl.DataFrame = field(default_factory=pl.DataFrame)
    hourly: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def utilization(self) -> float | None:
        """Busy GPU-hours over GPU-hours; None without GPUs."""
        return self.busy_gpu_hours / self.gpu_hours if self.gpu_hours else None


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
    recommendations: pl.DataFrame | None = None
    levers: pl.DataFrame | None = None
    pending: list[str] = field(default_factory=list)

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
    """Ingest runs that started in the week and failed."""
    rows = conn.execute(sa.text(
        "SELECT id, source, target, started_at, coalesce(error, '') FROM ingest_runs "
        "WHERE status = 'failed' AND started_at >= :since AND started_at < :until ORDER BY started_at"),
        {"since": week.since, "until": week.until}).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "id": pl.Int64, "source": pl.String, "target": pl.String, "started_at": pl.Datetime("us", "UTC"),
        "error": pl.String})


def _profile_rate(p: dict[str, Any]) -> Decimal | None:
    """USD per GPU-hour of a cost profile, per ECONOMICS.md (rent or amortised purchase + power, plus ops)."""
    ops = Decimal(p["ops_usd_per_gpu_month"] or 0) / HOURS_PER_MONTH
    if p["pricing"] == "rent":
        return None if p["hourly_rate_usd"] is None else Decimal(p["hourly_rate_usd"]) + ops
    if p["purchase_price_usd"] is None or not p["amortization_months"]:
        return None
    power = (Decimal(str(p["power_watts"] or 0)) / 1000 * Decimal(str(p["pue"] or 1))
             * Decimal(p["electricity_usd_per_kwh"] or 0))
    return Decimal(p["purchase_price_usd"]) / (p["amortization_months"] * HOURS_PER_MONTH) + power + ops


GPU_WEEK = """
SELECT host, gpu_uuid, count(*) AS hours,
       sum(coalesce(busy_fraction, utilization_mean_pct / 100.0, 0)) AS busy_hours,
       avg(utilization_mean_pct) AS util_mean_pct, max(utilization_max_pct) AS util_max_pct
FROM gpu_hourly WHERE hour_at >= :since AND hour_at < :until GROUP BY host, gpu_uuid
"""
GPU_HOURS = """
SELECT hour_at, count(*) AS gpus, avg(coalesce(busy_fraction, utilization_mean_pct / 100.0, 0)) AS busy
FROM gpu_hourly WHERE hour_at >= :since AND hour_at < :until GROUP BY hour_at ORDER BY hour_at
"""
SATURATION = """
SELECT endpoint, model_name, coalesce(max(workload), '') AS workload,
       sum(prompt_tokens + generation_tokens) AS tokens,
       count(*) FILTER (WHERE saturated_seconds > 0) AS saturated_hours,
       sum(saturated_seconds) / 3600.0 AS saturated_hours_total,
       max(requests_waiting_max) AS queue_max, max(kv_cache_max_frac) AS kv_cache_max
FROM inference_hourly WHERE hour_at >= :since AND hour_at < :until
GROUP BY endpoint, model_name ORDER BY endpoint, model_name
"""


def fleet_summary(conn: Connection, week: ReportWeek) -> FleetSummary:
    """GPU-hours, busy share, cost and idle cost (by cost profile host pattern), saturation signals."""
    params = {"since": week.since, "until": week.until}
    profiles = [dict(r._mapping) for r in conn.execute(sa.text(
        "SELECT * FROM gpu_cost_profiles ORDER BY id")).all()]
    out = FleetSummary()
    host_rows = []
    cost = idle = ZERO
    priced_any = False
    for r in conn.execute(sa.text(GPU_WEEK), params).all():
        profile = next((p for p in profiles if fnmatch.fnmatch(r.host or "", p["host_pattern"] or "*")), None)
        rate = _profile_rate(profile) if profile else None
        hours, busy = float(r.hours), float(r.busy_hours or 0)
        out.gpu_hours += hours
        out.busy_gpu_hours += busy
        gpu_cost = gpu_idle = None
        if rate is None:
            out.unpriced_gpu_hours += hours
        else:
            priced_any = True
            gpu_cost = (rate * Decimal(int(r.hours))).quantize(CENT10)
            gpu_idle = (rate * Decimal(str(round(hours - busy, 6)))).quantize(CENT10)
            cost += gpu_cost
            idle += gpu_idle
        host_rows.append((r.host or "", r.gpu_uuid, hours, busy / hours if hours else None,
                          r.util_max_pct, gpu_cost, gpu_idle))
    if priced_any:
        out.cost_usd, out.idle_cost_usd = cost, idle
    hosts = pl.DataFrame(host_rows, orient="row", schema={
        "host": pl.String, "gpu_uuid": pl.String, "gpu_hours": pl.Float64, "busy_share": pl.Float64,
        "util_max_pct": pl.Float64, "cost_usd": MONEY, "idle_cost_usd": MONEY})
    out.by_host = hosts.sort(["host", "gpu_uuid"])
    out.hourly = pl.DataFrame([tuple(r) for r in conn.execute(sa.text(GPU_HOURS), params).all()], orient="row",
                              schema={"hour_at": pl.Datetime("us", "UTC"), "gpus": pl.Int64, "busy": pl.Float64})
    out.saturation = pl.DataFrame([tuple(r) for r in conn.execute(sa.text(SATURATION), params).all()],
                                  orient="row", schema={
        "endpoint": pl.String, "model": pl.String, "workload": pl.String, "tokens": pl.Float64,
        "saturated_hours": pl.Int64, "saturated_hours_total": pl.Float64, "queue_max": pl.Float64,
        "kv_cache_max": pl.Float64})
    return out


def weekly_report(conn: Connection, week: ReportWeek, *, now: datetime | None = None) -> WeeklyReport:
    """Assemble every section of the weekly report for `week` (validated against the data first)."""
    now = now or datetime.now(timezone.utc)
    bounds = data_bounds(conn)
    check_week(week, bounds, now=now)
    prev = week.previous
    daily = allocated_daily(conn, since=week.since, until=week.until)
    before = allocated_daily(conn, since=prev.since, until=prev.until)
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
        quality=quality, failed_runs=failed_runs(conn, week), fleet=fleet_summary(conn, week))
    _add_economics(conn, report)
    return report


def _add_economics(conn: Connection, report: WeeklyReport) -> None:
    """Recommendations and levers, where the economics and discipline modules are present."""
    try:
        from models import report_economics
    except ImportError:
        report.pending.append("Recommendations per workload and lever savings: the economics engine "
                              "is not in this build yet.")
        return
    report_economics.add_to(conn, report)
