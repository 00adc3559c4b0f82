"""One figure, one computation: the exporter's budget burn ratio is the Overview page's forecast / budget.

Both come from models.queries.month_end (month to date / hours elapsed x hours in the month); in the
first 24 hours of a month neither forecasts.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load
from models.queries import signals
from models.queries.overview import budget_status, budgets
from models.queries.spend import allocated_daily


@pytest.mark.parametrize("now", [datetime(2026, 11, 23, 6, tzinfo=timezone.utc),  # early on a day
                                 datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc),  # last half hour of a month
                                 datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc)])  # first half hour of one
def test_exporter_burn_ratio_equals_the_overview_forecast(engine, now):
    start = now.replace(day=1, hour=0, minute=0)
    lines = [r.CostLine(basis="cost_api", provider="openai", account_id="acct", source_line_key=f"d{i}",
                        charge_period_start_at=start + timedelta(days=i),
                        charge_period_end_at=start + timedelta(days=i + 1), billed_cost=Decimal("12.34"))
             for i in range(now.day)]
    load(engine, lines, source="test", target="surfaces")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO budgets (scope, name, monthly_usd) VALUES ('team', 'unallocated', 100)"))
    with engine.connect() as conn:
        exported = {(b.scope, b.name): b.ratio for b in signals.budget_burn(conn, now)}
        page = budget_status(allocated_daily(conn, since=start, until=now), budgets(conn), now)
    shown = {(row["scope"], row["name"]): row["forecast_vs_budget"] for row in page.iter_rows(named=True)}
    assert shown.keys() == {("team", "unallocated")}
    if now - start < timedelta(hours=24):  # no forecast yet: the page says so and the exporter has no series
        assert exported == {} and shown[("team", "unallocated")] is None
        return
    assert exported.keys() == shown.keys()
    assert exported[("team", "unallocated")] == pytest.approx(shown[("team", "unallocated")], rel=1e-12)
    assert exported[("team", "unallocated")] > 0
