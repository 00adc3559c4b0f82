"""Month-end forecasts by hours elapsed: no forecast under 24 hours, a range, a total row, one function everywhere."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.exporter import HybridcostCollector
from ingest import records as r
from ingest.loader import load
from models.queries import month_end
from models.queries.overview import budget_status

UTC = timezone.utc


def _daily(rows):
    return pl.DataFrame(rows, schema={"day": pl.Date, "team": pl.String, "workload": pl.String,
                                      "cost_usd": pl.Float64}, orient="row")


def test_eight_hours_of_a_month_are_not_a_day():
    """The issue's case: 8 hours into December there is no forecast, and the status says so, not 'on track'."""
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    found = month_end.forecast(40.0, [], now)
    assert found.forecast_usd is None and found.low_usd is None
    assert "8 h of the month" in found.note
    daily = _daily([(date(2026, 12, 1), "cs", "support", 40.0), (date(2026, 11, 30), "cs", "support", 999.0)])
    budgets = pl.DataFrame({"scope": ["team", "team"], "name": ["cs", "engineering"], "monthly_usd": [1389.0, 500.0]})
    status = {r["name"]: r for r in budget_status(daily, budgets, now).iter_rows(named=True)}
    assert status["cs"]["status"] == "too early to forecast" and status["cs"]["month_to_date_usd"] == 40.0
    assert status["engineering"]["status"] == "too early to forecast"  # $0 so far is not "on track"


def test_forecast_divides_by_hours_elapsed_not_whole_days():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)  # 19.5 days of a 30-day month
    found = month_end.forecast(975.0, [50.0] * 19, now)
    assert found.hours_elapsed == 468 and found.hours_in_month == 720
    assert found.forecast_usd == pytest.approx(975 / 468 * 720)
    assert found.low_usd == pytest.approx(975 + 10.5 * 50) and found.high_usd == pytest.approx(975 + 10.5 * 50)


def test_range_spans_the_spread_of_complete_days():
    now = datetime(2026, 11, 11, 0, tzinfo=UTC)  # 10 complete days
    days = [10.0, 10.0, 10.0, 10.0, 10.0, 30.0, 30.0, 10.0, 10.0, 10.0]
    found = month_end.forecast(sum(days), days, now)
    assert found.low_usd < found.forecast_usd < found.high_usd
    assert found.forecast_usd == pytest.approx(140 / 240 * 720)  # 10 of 30 days: the run rate
    assert found.low_usd == pytest.approx(140 + 20 * 10.0)  # 20 days left at the 10th percentile day
    assert found.high_usd == pytest.approx(140 + 20 * 30.0)  # ... and at the 90th


@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)),
       st.floats(0, 1e6), st.lists(st.floats(0, 1e5), max_size=31))
def test_forecast_is_bounded_and_honest_at_any_moment(moment, spent, days):
    """Any moment (month ends, leap days): no forecast under 24 h; otherwise low <= forecast <= high, >= spent."""
    now = moment.replace(tzinfo=UTC)
    found = month_end.forecast(spent, days, now)
    if found.hours_elapsed < 24:
        assert found.forecast_usd is None
    else:
        assert found.low_usd <= found.forecast_usd + 1e-6 <= found.high_usd + 2e-6
        assert found.forecast_usd >= spent - 1e-6
        assert found.hours_in_month in (672, 696, 720, 744)


def test_forecast_frame_has_a_total_row_equal_to_the_sum():
    now = datetime(2026, 11, 15, 0, tzinfo=UTC)
    daily = _daily([(date(2026, 11, d), team, "w", usd) for d in range(1, 15)
                    for team, usd in (("a", 10.0), ("b", 5.0))] + [(date(2026, 10, 31), "a", "w", 1000.0)])
    frame = month_end.forecast_frame(daily, now, "team")
    assert frame["team"].to_list() == ["a", "b", "Total"]
    total = frame.row(2, named=True)
    assert total["month_to_date_usd"] == 210.0  # October is not this month
    assert total["forecast_month_end_usd"] == pytest.approx(210 / 336 * 720)
    assert total["forecast_month_end_usd"] == pytest.approx(frame["forecast_month_end_usd"].head(2).sum())


def test_exporter_burn_ratio_uses_the_same_forecast_and_is_absent_early(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('labeling', 'data')"))
        conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                             "SELECT 1, id, 'project_id', 'proj_lab*' FROM workloads"))
        conn.execute(sa.text("INSERT INTO budgets (scope, name, monthly_usd) VALUES ('team', 'data', 100)"))
    start = datetime(2026, 12, 1, 1, tzinfo=UTC)
    load(engine, [
        r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1), input_usd_per_mtok=2,
                output_usd_per_mtok=8),
        r.UsageHourly(provider="openai", account_id="acct", bucket_start_at=start, bucket_end_at=start + timedelta(hours=1),
                      model="gpt-4.1", project_id="proj_labeling", input_tokens=12_000_000)], source="t", target="t")

    def burn(now):
        families = HybridcostCollector(engine, cache_seconds=0, clock=lambda: now).collect()
        return {tuple(s.labels.values()): s.value for f in families for s in f.samples
                if s.name == "hybridcost_budget_burn_ratio"}

    assert burn(datetime(2026, 12, 1, 8, tzinfo=UTC)) == {}  # 8 hours: no forecast, no ratio
    now = datetime(2026, 12, 3, 0, tzinfo=UTC)
    expected = month_end.forecast(24.0, [24.0, 0.0], now).forecast_usd / 100
    assert burn(now) == {("team", "data"): pytest.approx(expected)}
