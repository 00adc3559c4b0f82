"""Breakeven page: empty state, curve with markers, move date, payback, and inputs that change it."""

import json
from datetime import date

from tests.app.conftest import assert_clean, assert_tornado_is_the_plans, metrics, open_page, plan_of, texts

QUARTER = (date(2026, 8, 22), date(2026, 11, 20))


def test_breakeven_empty_database_says_what_to_load(cli_env):
    at = open_page("breakeven")
    assert_clean(at)
    assert at.title[0].value == "Breakeven"
    assert "hybridcost demo load" in texts(at)


def test_breakeven_on_demo_shows_volume_breakeven_move_date_and_payback(demo_env):
    at = open_page("breakeven", date_range=QUARTER, breakeven_workload="support-assistant")
    assert_clean(at)
    shown = metrics(at)
    for label in ("Today's volume", "Breakeven volume", "GPU cost per GPU-hour", "Forecast volume"):
        assert label in shown
    assert shown["Today's volume"].endswith("tok/mo")
    body = texts(at)
    assert "First replica pays" in body and "Full move pays" in body
    assert "Payback vs tokens" in shown or "insufficient history" in body


def test_breakeven_workload_changes_the_numbers_and_names_the_candidate(demo_env):
    support = open_page("breakeven", date_range=QUARTER, breakeven_workload="support-assistant")
    docs = open_page("breakeven", date_range=QUARTER, breakeven_workload="doc-summaries")
    assert_clean(support)
    assert_clean(docs)
    assert metrics(support)["Today's volume"] != metrics(docs)["Today's volume"]
    # claude-sonnet-4 is mid-size (a 70B model on 2 GPUs), gpt-4.1-mini small (an 8B model on one)
    assert "Llama 3.3 70B FP8 on 2x H100" in texts(support) and "Llama 3.1 8B FP8 on 1x H100" in texts(docs)
    assert metrics(support)["GPU cost per GPU-hour"] == metrics(docs)["GPU cost per GPU-hour"]  # both rent H100s


def test_breakeven_forecast_fits_complete_weeks_only(demo_env):
    """The range ends 12:00 on a Friday: that week (and the cut first one) is not history the trend is fitted to."""
    at = open_page("breakeven", date_range=QUARTER, breakeven_workload="support-assistant")
    assert_clean(at)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    forecast = next(c for c in charts if any(t.get("name") == "History" for t in c["data"]))
    history = next(t for t in forecast["data"] if t["name"] == "History")
    weeks = [date.fromisoformat(x[:10]) for x in history["x"]]
    assert weeks and all(w.weekday() == 0 for w in weeks)
    assert date(2026, 11, 16) not in weeks and date(2026, 8, 17) not in weeks  # the last and first, both cut


def test_breakeven_shows_the_plans_flip_sentence_and_tornado(demo_env):
    figures = plan_of(demo_env, "support-assistant")
    at = open_page("breakeven", date_range=None, breakeven_workload="support-assistant")
    assert_clean(at)
    sentence = figures.flip_sentence
    assert sentence and sentence.startswith("This answer") and sentence in texts(at)
    assert_tornado_is_the_plans(at, figures)
