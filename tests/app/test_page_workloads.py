"""Workloads page: empty state, one workload's shape, growth, mix, reasoning share, recommendation."""

from datetime import date, datetime, timezone

import polars as pl
import sqlalchemy as sa

from models.queries.workload_view import complete_weeks, demand_frame, weekly
from tests.app.conftest import assert_clean, assert_tornado_is_the_plans, frame_with, metrics, open_page, plan_of, texts


def test_workloads_empty_database_says_what_to_load(cli_env):
    at = open_page("workloads")
    assert_clean(at)
    assert at.title[0].value == "Workloads"
    assert "hybridcost demo load" in texts(at)


def test_workloads_on_demo_shows_shape_and_recommendation(demo_env):
    at = open_page("workloads", workloads_workload="code-review")
    assert_clean(at)
    shown = metrics(at)
    for label in ("Tokens in period", "Monthly volume", "Weekly growth", "Reasoning share", "On tokens alone",
                  "API bill", "Local tokens priced as the API", "Best plan", "Optimal replicas", "Breakeven volume",
                  "First replica pays"):
        assert label in shown
    assert shown["Reasoning share"] != "—"
    assert any(s.value.startswith(("Stay on tokens", "Own ", "Move", "Keep")) for s in at.success)
    body = texts(at)
    assert "DeepSeek-R1-0528 FP8 on 8x H200" in body and "default pairing, not chosen" in body  # o3: frontier


def test_workloads_plan_editor_saves_an_audited_plan(demo_env):
    at = open_page("workloads", workloads_workload="support-assistant")
    assert_clean(at)
    at.radio(key="workloads_plan_pricing").set_value("buy")
    next(b for b in at.button if b.label == "Save plan").click().run()
    assert_clean(at)
    assert any("Plan for support-assistant saved" in s.value for s in at.success)
    assert "chosen plan" in texts(at)
    engine = sa.create_engine(demo_env)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT pricing, updated_by FROM workload_plans "
                                   "WHERE workload = 'support-assistant'")).one()
        audited = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE entity = 'workload_plan' "
                                       "AND entity_key = 'support-assistant'")).scalar_one()
    engine.dispose()
    assert row.pricing == "buy" and audited == 1


def test_workloads_measured_throughput_is_flagged_beside_the_plan(demo_env):
    at = open_page("workloads", workloads_workload="segment-labeling")
    assert_clean(at)
    assert any("Use the measured figure in the plan" in w.value for w in at.warning)
    assert "Llama 3.1 8B FP8 on 1x H100, bought" in texts(at) and "chosen plan" in texts(at)


def test_workloads_selector_and_date_range_change_the_numbers(demo_env):
    a = metrics(open_page("workloads", workloads_workload="code-review"))["Tokens in period"]
    b = metrics(open_page("workloads", workloads_workload="segment-labeling"))["Tokens in period"]
    c = metrics(open_page("workloads", workloads_workload="code-review",
                          date_range=(date(2026, 11, 10), date(2026, 11, 20))))["Tokens in period"]
    assert len({a, b, c}) == 3


def test_workloads_out_of_range_says_to_widen(demo_env):
    at = open_page("workloads", date_range=(date(2025, 1, 1), date(2025, 1, 31)))
    assert_clean(at)
    assert "Widen the date range" in texts(at)


def test_workloads_growth_uses_complete_weeks_only(demo_env):
    """The default range (2026-10-22 to 2026-11-20 12:00Z) cuts its first and last week: neither is a bar or a point."""
    at = open_page("workloads", date_range=None, workloads_workload="segment-labeling")
    assert_clean(at)
    weeks = frame_with(at, "week_start", "growth_pct")
    assert weeks.height >= 3
    assert all(d.weekday() == 0 for d in weeks["week_start"].to_list())
    assert date(2026, 11, 16) not in [d.date() for d in weeks["week_start"].to_list()]  # the week in progress
    assert "Complete ISO weeks only" in texts(at) and "(108 h in range)" in texts(at)


def test_complete_weeks_drop_cut_weeks_and_grow_against_the_week_before():
    since = datetime(2026, 10, 7, tzinfo=timezone.utc)  # a Wednesday
    until = datetime(2026, 11, 3, 8, tzinfo=timezone.utc)  # 32 hours into a week
    hourly = pl.DataFrame({"hour": pl.datetime_range(since, until, "1h", closed="left", time_zone="UTC",
                                                     eager=True).dt.cast_time_unit("us")}).with_columns(
        pl.lit(1000).alias("input_tokens"), pl.lit(0).alias("cached_input_tokens"), pl.lit(0).alias("output_tokens"),
        pl.lit(0).alias("reasoning_tokens"))
    weeks = weekly(demand_frame(hourly, since=since, until=until))
    assert weeks["hours"].to_list() == [120, 168, 168, 168, 32]
    assert weeks["growth_pct"].to_list()[-1] < -75  # the cut week reads as a fall that did not happen
    full = complete_weeks(weeks)
    assert full["hours"].to_list() == [168, 168, 168]
    assert full["growth_pct"].to_list() == [None, 0.0, 0.0]
    assert complete_weeks(weeks.filter(pl.col("week_start") != weeks["week_start"][2]))["growth_pct"].to_list() \
        == [None, None]  # weeks that are not next to each other are not compared


def test_workloads_tornado_draws_the_plans_flip_points(demo_env):
    figures = plan_of(demo_env, "segment-labeling")
    at = open_page("workloads", date_range=None, workloads_workload="segment-labeling")
    assert_clean(at)
    assert figures.flip_sentence in [c.value for c in at.caption]
    assert_tornado_is_the_plans(at, figures)
