"""Workloads page: empty state, one workload's shape, growth, mix, reasoning share, recommendation."""

from datetime import date

from tests.app.conftest import assert_clean, metrics, open_page, texts


def test_workloads_empty_database_says_what_to_load(cli_env):
    at = open_page("workloads")
    assert_clean(at)
    assert at.title[0].value == "Workloads"
    assert "hybridcost demo load" in texts(at)


def test_workloads_on_demo_shows_shape_and_recommendation(demo_env):
    at = open_page("workloads", workloads_workload="code-review")
    assert_clean(at)
    shown = metrics(at)
    for label in ("Tokens in period", "Monthly volume", "Weekly growth", "Reasoning share", "API only",
                  "Best hybrid", "Optimal replicas", "Breakeven utilization"):
        assert label in shown
    assert shown["Reasoning share"] != "—"
    assert any(s.value.startswith(("Stay on", "Go hybrid", "Move fully")) for s in at.success)


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
