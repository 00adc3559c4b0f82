"""Numbers for alerting (the Prometheus exporter): spend rate, budget burn, GPU saturation and idle cost.

Each function takes a connection and `now`, and returns plain rows; all SQL is parameterised.
Definitions (also in docs/deploy.md):
- spend per hour: allocated token spend of the last 24 h (days whose start falls in the window,
  so a daily cost line counts from its day's start) divided by 24;
- budget burn: the month-end forecast (month to date / hours elapsed x hours in the month; none
  under 24 hours of the month) divided by the monthly budget;
- GPU saturation: mean utilisation (0..1) of each GPU's samples in the last 15 minutes;
- GPU idle cost: over the last 24 h of hourly rollups, idle GPU-hours (1 - busy fraction) times the
  hourly cost of the first cost profile whose host pattern matches (hosts without one are left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.economics.units import HOURS_PER_MONTH
from models.queries import month_end
from models.queries.spend import allocated_daily

SATURATION_WINDOW = timedelta(minutes=15)

GPU_SATURATION = """
SELECT gpu_uuid, avg(utilization_pct) / 100.0 AS saturation
FROM gpu_samples
WHERE sampled_at >= :since AND sampled_at <= :now AND utilization_pct IS NOT NULL
GROUP BY gpu_uuid ORDER BY gpu_uuid
"""

# The glob of a cost profile's host pattern as LIKE, with LIKE's own wildcards escaped.
_PROFILE_LIKE = ("replace(replace(replace(replace(replace(cp.host_pattern, '\\', '\\\\'), '%', '\\%'), "
                 "'_', '\\_'), '*', '%'), '?', '_')")

GPU_IDLE_COST = f"""
SELECT h.host, sum((1 - coalesce(h.busy_fraction, h.utilization_mean_pct / 100.0)) * rate.usd_per_gpu_hour)
       AS idle_cost_usd
FROM gpu_hourly h
JOIN LATERAL (
    SELECT CASE WHEN cp.pricing = 'rent' THEN cp.hourly_rate_usd
                ELSE coalesce(cp.hourly_rate_usd,
                              cp.purchase_price_usd / nullif(cp.amortization_months * :hours_per_month, 0))
           END
           + coalesce(cp.power_watts, 0) / 1000.0 * coalesce(cp.pue, 1) * coalesce(cp.electricity_usd_per_kwh, 0)
           + coalesce(cp.ops_usd_per_gpu_month, 0) / :hours_per_month AS usd_per_gpu_hour
    FROM gpu_cost_profiles cp
    WHERE coalesce(h.host, '') LIKE {_PROFILE_LIKE}
    ORDER BY cp.id LIMIT 1
) rate ON rate.usd_per_gpu_hour IS NOT NULL
WHERE h.hour_at >= :since AND h.hour_at < :now
  AND coalesce(h.busy_fraction, h.utilization_mean_pct) IS NOT NULL
GROUP BY h.host ORDER BY h.host
"""

BUDGETS = "SELECT scope, name, monthly_usd FROM budgets WHERE monthly_usd > 0 ORDER BY scope, name"


@dataclass(frozen=True)
class BudgetBurn:
    """Forecast month-end spend against one budget."""

    scope: str
    name: str
    month_to_date_usd: float
    forecast_usd: float
    budget_usd: float

    @property
    def ratio(self) -> float:
        """Forecast month-end spend divided by the budget (1.0 = exactly on budget)."""
        return self.forecast_usd / self.budget_usd


def spend_per_hour(conn: Connection, now: datetime) -> dict[str, float]:
    """USD per hour per workload, averaged over the last 24 hours."""
    daily = allocated_daily(conn, since=now - timedelta(hours=24), until=now)
    if daily.is_empty():
        return {}
    totals = daily.group_by("workload").agg(pl.col("cost_usd").sum())
    return {row["workload"]: float(row["cost_usd"]) / 24.0 for row in totals.iter_rows(named=True)}


def month_start(now: datetime) -> datetime:
    """Midnight UTC on the first day of now's month."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def budget_burn(conn: Connection, now: datetime) -> list[BudgetBurn]:
    """Each budget's month-end forecast (models.queries.month_end, by hours elapsed) against the budget.

    Under 24 hours of the month there is no forecast, so no burn ratio (the series is absent).
    """
    budgets = conn.execute(sa.text(BUDGETS)).all()
    if not budgets:
        return []
    start = month_start(now)
    daily = allocated_daily(conn, since=start, until=now)
    out = []
    for scope, name, monthly in budgets:
        found = month_end.for_name(daily, now, scope, name) if daily.height else month_end.forecast(0.0, [], now)
        if found.forecast_usd is None:
            continue
        out.append(BudgetBurn(scope=scope, name=name, month_to_date_usd=found.month_to_date_usd,
                              forecast_usd=found.forecast_usd, budget_usd=float(monthly)))
    return out


def gpu_saturation(conn: Connection, now: datetime) -> dict[str, float]:
    """Mean utilisation (0..1) per GPU over the last 15 minutes of samples."""
    rows = conn.execute(sa.text(GPU_SATURATION), {"since": now - SATURATION_WINDOW, "now": now}).all()
    return {uuid: float(value) for uuid, value in rows}


def gpu_idle_cost(conn: Connection, now: datetime) -> dict[str, float]:
    """USD spent on idle GPU-hours per host over the last 24 hours (hosts with a cost profile)."""
    rows = conn.execute(sa.text(GPU_IDLE_COST), {"since": now - timedelta(hours=24), "now": now,
                                                 "hours_per_month": HOURS_PER_MONTH}).all()
    return {host or "": float(value) for host, value in rows}
