"""Overview page: empty state, demo figures, GPU cost by team, anomalies, forecasts, budgets, filters."""

from datetime import date
from decimal import Decimal

import polars as pl

from app.ui.format import usd
from models import clock
from models.infra.database import make_engine
from models.queries.gpu_showback import gpu_cost_daily, total_usd
from tests.app.conftest import DEMO_RANGE, assert_clean, frame_with, metrics, open_page, texts
from tests_support import DEMO_NOW


def test_overview_empty_database_says_what_to_load(cli_env):
    at = open_page("overview")
    assert_clean(at)
    assert at.title[0].value == "Overview"
    assert "hybridcost demo load" in texts(at)


def test_overview_on_demo_shows_spend_gpu_and_budgets(demo_env):
    at = open_page("overview")
    assert_clean(at)
    shown = metrics(at)
    for label in ("Token spend", "GPU cost", "Unpriced tokens", "Unallocated spend", "Unpriced GPU-hours"):
        assert label in shown
    assert shown["Token spend"].startswith("$") and shown["Token spend"] != "$0.00"
    assert shown["GPU cost"] != "$0.00"
    assert shown["Unpriced tokens"] != "0 tok"  # the demo has an unpriced model
    assert all(m.help for m in at.metric)
    assert any(len(df.value) > 0 for df in at.dataframe)  # budgets, freshness


def test_overview_gpu_cost_by_team_sums_to_the_fleet(demo_env):
    """GPU cost per team, idle included, equals the GPU cost metric and the fleet's pool lines."""
    at = open_page("overview")
    assert_clean(at)
    by_team = frame_with(at, "team", "gpu_usd")
    body = by_team.filter(pl.col("team") != "Total")
    assert "idle" in body["team"].to_list() and "data-platform" in body["team"].to_list()
    gpu_by_team = sum(Decimal(str(v)) for v in body["gpu_usd"].to_list())
    since, until = clock.day_range(*DEMO_RANGE)  # the page's range, clamped to the pinned demo clock
    engine = make_engine(demo_env)
    with engine.connect() as conn:
        fleet = total_usd(gpu_cost_daily(conn, since=since, until=until, now=DEMO_NOW))
    engine.dispose()
    assert abs(gpu_by_team - fleet) < Decimal("0.01")
    assert metrics(at)["GPU cost"] == usd(fleet)
    total_row = by_team.filter(pl.col("team") == "Total").row(0, named=True)
    assert abs(Decimal(str(total_row["gpu_usd"])) - fleet) < Decimal("0.01")


def test_overview_team_filter_keeps_only_that_teams_gpu_share(demo_env):
    """A team that owns no GPU shows no GPU cost; the GPU team shows its measured share, never the idle."""
    none = metrics(open_page("overview", filters_teams=["engineering"]))
    assert none["GPU cost (their share)"] == "$0.00"
    owner = open_page("overview", filters_teams=["data-platform"])
    share = metrics(owner)["GPU cost (their share)"]
    fleet = metrics(open_page("overview"))["GPU cost"]
    assert share not in ("$0.00", fleet)
    assert float(share.strip("$").replace(",", "")) < float(fleet.strip("$").replace(",", ""))


def test_overview_lists_anomalies_with_their_dollar_impact(demo_env):
    """The demo's segment-labeling move to GPUs (2026-10-23) is an anomaly with a negative impact."""
    at = open_page("overview", date_range=(date(2026, 10, 20), date(2026, 10, 28)))
    assert_clean(at)
    found = frame_with(at, "impact_usd")
    row = found.filter((pl.col("name") == "segment-labeling")
                       & (pl.col("day").cast(pl.Date) == date(2026, 10, 24))).row(0, named=True)
    assert row["impact_usd"] < -500 and row["spend_usd"] < row["baseline_usd"]
    assert any("anomalous day" in w.value for w in at.warning)
    quiet = open_page("overview", date_range=(date(2026, 11, 9), date(2026, 11, 19)))
    assert any("No spend anomalies" in s.value for s in quiet.success)


def test_overview_month_end_forecast_has_a_total_row_and_a_range(demo_env):
    at = open_page("overview")
    forecast = frame_with(at, "forecast_low_usd", "team")
    total = forecast.filter(pl.col("team") == "Total").row(0, named=True)
    teams = forecast.filter(pl.col("team") != "Total")
    assert abs(total["month_to_date_usd"] - teams["month_to_date_usd"].sum()) < 0.01
    # 19.5 days of November (468 of 720 hours) at the demo anchor, 2026-11-20 12:00Z
    assert abs(total["forecast_month_end_usd"] - total["month_to_date_usd"] / 468 * 720) < 0.01
    assert total["forecast_low_usd"] <= total["forecast_month_end_usd"] <= total["forecast_high_usd"]


def test_overview_filters_change_the_numbers(demo_env):
    wide = metrics(open_page("overview"))["Token spend"]
    narrow = metrics(open_page("overview", date_range=(date(2026, 11, 10), date(2026, 11, 20))))["Token spend"]
    one_team = metrics(open_page("overview", filters_teams=["engineering"]))["Token spend"]
    assert len({wide, narrow, one_team}) == 3


def test_overview_budget_form_validates_and_saves(demo_env):
    at = open_page("overview")
    at.selectbox(key="overview_budget_scope").set_value("workload")
    at.selectbox(key="overview_budget_name").set_value("code-review")
    at.text_input(key="overview_budget_amount").set_value("-5")
    at.button[0].click()  # the form's submit button is the first button
    at.run()
    assert any("non-negative" in e.value for e in at.error)
    at.text_input(key="overview_budget_amount").set_value("1")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert any("code-review" in w.value and "exceeded" in w.value for w in at.warning)

