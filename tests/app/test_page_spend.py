"""Spend page: empty state, breakdowns, movers, shares, reconciliation, filters."""

from datetime import date

from tests.app.conftest import assert_clean, metrics, open_page, texts


def test_spend_empty_database_says_what_to_load(cli_env):
    at = open_page("spend")
    assert_clean(at)
    assert at.title[0].value == "Spend"
    assert "hybridcost demo load" in texts(at)


def test_spend_on_demo_shows_shares_movers_and_reconciliation(demo_env):
    at = open_page("spend")
    assert_clean(at)
    shown = metrics(at)
    assert shown["Cached share"].endswith("%") and shown["Cached share"] != "—"
    assert shown["Batch share"].endswith("%")
    assert "Week-over-week movers" in [h.value for h in at.subheader]
    assert len(at.dataframe) == 3  # summary, movers, reconciliation
    recon = at.dataframe[-1].value
    assert {"cost_api", "usage_price"} <= set(recon.columns)
    assert any("variance %" in c for c in recon.columns)


def test_spend_filters_change_the_numbers(demo_env):
    wide = metrics(open_page("spend"))["Token spend"]
    narrow = metrics(open_page("spend", date_range=(date(2026, 11, 1), date(2026, 11, 20))))["Token spend"]
    one = metrics(open_page("spend", filters_workloads=["support-assistant"]))
    assert len({wide, narrow, one["Token spend"]}) == 3
    assert one["Cached share"] != metrics(open_page("spend", filters_workloads=["code-review"]))["Cached share"]


def test_spend_breakdown_selector_changes_the_table(demo_env):
    at = open_page("spend", spend_by="team")
    assert_clean(at)
    assert "engineering" in set(at.dataframe[0].value["group"])
