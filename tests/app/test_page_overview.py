"""Overview page: empty state, demo figures, budgets form, filters that change the numbers."""

from datetime import date

from tests.app.conftest import assert_clean, metrics, open_page, texts


def test_overview_empty_database_says_what_to_load(cli_env):
    at = open_page("overview")
    assert_clean(at)
    assert at.title[0].value == "Overview"
    assert "hybridcost demo load" in texts(at)


def test_overview_on_demo_shows_spend_gpu_and_budgets(demo_env):
    at = open_page("overview")
    assert_clean(at)
    shown = metrics(at)
    for label in ("Token spend", "GPU spend", "Unpriced tokens", "Unallocated spend", "Unpriced GPU-hours"):
        assert label in shown
    assert shown["Token spend"].startswith("$") and shown["Token spend"] != "$0.00"
    assert shown["GPU spend"] != "$0.00"
    assert shown["Unpriced tokens"] != "0 tok"  # the demo has an unpriced model
    assert all(m.help for m in at.metric)
    assert any(len(df.value) > 0 for df in at.dataframe)  # budgets, freshness


def test_overview_filters_change_the_numbers(demo_env):
    wide = metrics(open_page("overview"))["Token spend"]
    narrow = metrics(open_page("overview", date_range=(date(2026, 11, 10), date(2026, 11, 20))))["Token spend"]
    one_team = metrics(open_page("overview", filters_teams=["engineering"]))["Token spend"]
    assert len({wide, narrow, one_team}) == 3


def test_overview_budget_form_validates_and_saves(demo_env):
    at = open_page("overview")
    at.selectbox(key="overview_budget_scope").set_value("workload")
    at.text_input(key="overview_budget_name").set_value("code-review")
    at.text_input(key="overview_budget_amount").set_value("-5")
    at.button[0].click()  # the form's submit button is the only button
    at.run()
    assert any("non-negative" in e.value for e in at.error)
    at.text_input(key="overview_budget_amount").set_value("1")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert any("code-review" in w.value and "exceeded" in w.value for w in at.warning)
