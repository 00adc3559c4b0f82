"""Spend page: empty state, breakdowns, movers, shares, reconciliation, filters."""

from datetime import date

import polars as pl

from app.ui.format import usd
from tests.app.conftest import assert_clean, frame_with, metrics, open_page, texts


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
    recon = frame_with(at, "basis", "variance_usd", "variance_pct", "flagged")
    assert {"cost_api", "usage_price", "request_estimate"} <= set(recon["basis"])
    # request logs are a sample of the traffic: far below the system of record, so flagged past the 5 % threshold
    assert recon.filter(pl.col("basis") == "request_estimate")["flagged"].all()
    assert not recon.filter(pl.col("days_chosen") > 0)["flagged"].any()  # the chosen basis is the reference
    why = frame_with(at, "why")
    assert why["why"].str.contains("the best basis present those days").all()
    assert any("past ±5 %" in w.value for w in at.warning)


def test_spend_gpu_cost_by_workload_sums_to_the_fleet_and_exports(demo_env):
    at = open_page("spend")
    assert_clean(at)
    table = frame_with(at, "workload", "gpu_usd", "token_usd")
    assert "idle" in table["workload"].to_list() and "segment-labeling" in table["workload"].to_list()
    fleet = metrics(at)["GPU cost"]
    assert usd(table["gpu_usd"].sum()) == fleet
    pools = frame_with(at, "profile", "cost_usd")
    assert usd(pools["cost_usd"].sum()) == fleet
    assert any(b.proto.label.startswith("Download tokens and GPUs") for b in at.get("download_button"))


def test_spend_filters_change_the_numbers(demo_env):
    wide = metrics(open_page("spend"))["Token spend"]
    narrow = metrics(open_page("spend", date_range=(date(2026, 11, 1), date(2026, 11, 20))))["Token spend"]
    one = metrics(open_page("spend", filters_workloads=["support-assistant"]))
    assert len({wide, narrow, one["Token spend"]}) == 3
    assert one["Cached share"] != metrics(open_page("spend", filters_workloads=["code-review"]))["Cached share"]


def test_spend_breakdown_selector_changes_the_table(demo_env):
    at = open_page("spend", spend_by="team")
    assert_clean(at)
    assert "engineering" in set(frame_with(at, "group", "cost_basis")["group"])
