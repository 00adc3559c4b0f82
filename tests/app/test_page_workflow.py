"""Workflow page on the demo: request-log coverage, savings scaled only when asked, reasoning dollars, drill-down."""


import polars as pl
import pytest
import sqlalchemy as sa

from models.infra.database import make_engine
from tests.app.conftest import assert_clean, frame_with, metrics, open_page, texts


def _usd(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def test_workflow_shows_coverage_and_scales_savings_only_when_asked(demo_env):
    logged = open_page("workflow", workflow_by="workload")
    assert_clean(logged)
    assert "Request logs cover" in texts(logged) and "not scaled" in texts(logged)
    card = frame_with(logged, "coverage", "batch_savings_usd")
    doc = card.filter(pl.col("group") == "doc-summaries").row(0, named=True)
    assert 0 < doc["coverage"] < 0.05  # the demo logs about 0.6 % of doc-summaries' spend
    scaled = open_page("workflow", workflow_by="workload", workflow_scale=True)
    assert_clean(scaled)
    scaled_doc = frame_with(scaled, "coverage", "batch_savings_usd").filter(
        pl.col("group") == "doc-summaries").row(0, named=True)
    assert scaled_doc["batch_savings_usd"] == pytest.approx(doc["batch_savings_usd"] / doc["coverage"], rel=1e-6)
    assert "scaled to the whole spend" in texts(scaled)
    assert _usd(metrics(scaled)["Batch could save (scaled)"]) > _usd(metrics(logged)["Batch could save (in logs)"])


def test_workflow_reasoning_dollars_are_a_part_of_each_teams_spend(demo_env):
    at = open_page("workflow")
    teams = frame_with(at, "team", "reasoning_usd")
    engineering = teams.filter(pl.col("team") == "engineering").row(0, named=True)
    assert 0 < engineering["reasoning_usd"] < engineering["cost_usd"]
    assert 0.3 < engineering["reasoning_share"] < 0.8  # code-review is reasoning-heavy
    assert (teams["reasoning_usd"] <= teams["cost_usd"] + 1e-9).all()
    workloads = frame_with(at, "workload", "reasoning_usd")
    assert workloads["reasoning_usd"].sum() == pytest.approx(teams["reasoning_usd"].sum())


def test_workflow_drill_down_team_workload_user_fingerprints_without_prompt_text(demo_env):
    at = open_page("workflow", workflow_drill_team="customer-success")
    assert_clean(at)
    workloads = frame_with(at, "workload", "repeat_usd")
    assert workloads["workload"].to_list() == ["support-assistant"]
    users = frame_with(at, "user", "repeats")
    assert users.height > 1 and users["requests"].sum() == workloads["requests"].sum()
    top = frame_with(at, "fingerprint", "repeats")
    assert top.height > 0 and (top["repeats"] == top["requests"] - 1).all()
    assert "prompt" not in top.columns and "prompt capture is off" in texts(at)


def test_workflow_drill_down_shows_prompt_text_only_where_captured(demo_env):
    engine = make_engine(demo_env)
    with engine.begin() as conn:
        fingerprint = conn.execute(sa.text(
            "SELECT fingerprint FROM usage_requests WHERE workload_tag = 'support-assistant' AND fingerprint <> '' "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar_one()
        conn.execute(sa.text(
            "UPDATE usage_requests SET tags = tags || jsonb_build_object('request', 'Where is my order #123?') "
            "WHERE fingerprint = :f"), {"f": fingerprint})
    engine.dispose()
    at = open_page("workflow", workflow_drill_team="customer-success")
    top = frame_with(at, "fingerprint", "prompt")
    row = top.filter(pl.col("fingerprint") == fingerprint).row(0, named=True)
    assert row["prompt"] == "Where is my order #123?"
    assert top.filter(pl.col("fingerprint") != fingerprint)["prompt"].is_null().all()
