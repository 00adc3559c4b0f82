"""The weekly report on the demo data: economics sections filled, totals equal spend_by, page downloads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.reports.pdf import browser_available
from app.reports.summary import headlines
from app.reports.weekly import available_weeks, write_weekly
from app.ui.format import usd
from ingest.demo import load_demo
from models.queries.spend import spend_by

NOW = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
PAGE = str(Path(__file__).resolve().parents[2] / "app" / "app_pages" / "reports.py")


def test_rep_demo_report_has_recommendations_levers_and_fleet(engine, tmp_path):
    load_demo(engine, now=NOW)
    outcome = write_weekly(engine, week=None, out=tmp_path, formats=["html", "xlsx"], now=NOW)
    rep = outcome.report
    assert rep.week.label == "2026-W47" and not outcome.failed
    with engine.connect() as conn:
        by_team = spend_by(conn, since=rep.week.since, until=rep.week.until, by="team")
    assert rep.total_usd == sum(by_team["cost_usd"].to_list(), Decimal(0))
    recs = {r["workload"]: r for r in rep.recommendations.iter_rows(named=True)}
    assert "segment-labeling" in recs and recs["segment-labeling"]["breakeven_monthly_tokens"] > 0
    assert all(r["action"] for r in recs.values())
    assert set(rep.levers["lever"].to_list()) == {"cache", "batch", "route", "move"}
    assert rep.fleet.gpu_hours > 0 and rep.fleet.idle_cost_usd is not None
    lines = headlines(rep)
    assert lines[0].startswith("Token spend") and usd(rep.total_usd) in lines[0]
    from models.discipline import lever_shares_by_workload, levers_inputs

    with engine.connect() as conn:
        shares = lever_shares_by_workload(conn, rep.week.since, rep.week.until)
        for workload in ("segment-labeling", "code-review"):  # one query for all equals the per-workload one
            one = levers_inputs(conn, rep.week.since, rep.week.until, workload=workload)
            for key, mine in (("repeat_share", "repeat_share"), ("batchable_share", "batchable_share"),
                              ("routable_share", "routable_share")):
                assert shares[workload][mine] == one[key]
    page = (tmp_path / "hybridcost-weekly-2026-W47.html").read_text()
    assert "segment-labeling" in page and "Savings available per lever" in page and not rep.pending


def test_rep_recommendation_agrees_with_simulate_workload(engine, cli_env, tmp_path):
    import json

    import rep_seed

    from models.reports.economics import planning_period

    load_demo(engine, now=NOW)
    with engine.connect() as conn:
        from models.reports.data import parse_week, weekly_report

        rep = weekly_report(conn, parse_week("2026-W47"), now=NOW)
    row = next(r for r in rep.recommendations.iter_rows(named=True) if r["workload"] == "segment-labeling")
    assert row["option"] == "Llama 3.1 8B FP8 on 1x H100, bought (chosen plan)"  # the demo's plan, no scenario name
    since, until = planning_period(rep.week.until)
    result = rep_seed.run_cli(["simulate", "--workload", "segment-labeling", "--since", f"{since:%Y-%m-%d}",
                               "--until", f"{until.date() - timedelta(days=1)}", "--json"],
                              {"DATABASE_URL": cli_env, "HYBRIDCOST_AS_OF": NOW.isoformat()})
    assert result.exit_code == 0, result.stderr
    contract = json.loads(result.stdout)
    hours = contract["hours"]
    # on tokens alone (the real bill); under contract v2 the contract's api_only_cost prices deferrable work batched
    assert abs(row["api_usd_month"] - contract["api_only_usd_month"]) < 1e-6 * max(1, row["api_usd_month"])
    if contract["contract_version"] == "v1":
        assert abs(row["api_usd_month"] - contract["api_only_cost"] * 730 / hours) < 1e-6 * max(1, row["api_usd_month"])
    assert abs(row["hybrid_usd_month"] - contract["hybrid_cost"] * 730 / hours) < 1e-6 * max(1, row["hybrid_usd_month"])
    assert row["replicas"] == contract["optimal_replicas"]
    assert row["breakeven_monthly_tokens"] == int(contract["breakeven_monthly_tokens"])
    assert row["move_date"] == contract["first_replica_pays"]
    assert row["api_billed_usd_month"] + row["local_priced_usd_month"] == pytest.approx(row["api_usd_month"])


def test_rep_page_generates_downloads(engine, cli_env):
    load_demo(engine, now=NOW)
    # complete weeks only: the week in progress (2026-W48) is offered only when asked for
    assert available_weeks(engine, now=NOW)[0] == "2026-W47"
    assert available_weeks(engine, now=NOW, include_partial=True)[0] == "2026-W48"
    st.cache_resource.clear()
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Reports"
    at.button[0].click().run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Download HTML" in labels and "Download XLSX" in labels
    if browser_available():
        assert "Download PDF" in labels


def test_rep_weekly_says_when_gpus_look_busy_but_produce_little(engine, tmp_path):
    load_demo(engine, now=NOW)
    rep = write_weekly(engine, week=None, out=tmp_path, formats=["html"], now=NOW).report
    (row,) = rep.fleet.sm_delivery.filter(rep.fleet.sm_delivery["hours"] > 0).iter_rows(named=True)
    assert row["target"] == "gpu-node-1" and row["mapping"] == "host" and row["capacity_not_delivered_usd"] > 0
    lines = headlines(rep)
    said = [line for line in lines if line.startswith("gpu-node-1 (8 GPUs, gpu-node-1:8000")]
    assert said and "of SM time was active" in said[0] and "on the model's curve" in said[0]
    assert any("looks busy but does little work per cycle" in line for line in lines)
    page = (tmp_path / "hybridcost-weekly-2026-W47.html").read_text()
    assert "SM activity against tokens served" in page and "Busy capacity not delivered (USD)" in page
