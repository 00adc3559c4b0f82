"""token_hours: hourly API tokens and cost from the rollups, agreeing with the planning path's raw query."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load
from models.queries.token_hours import token_hours
from models.queries.workload_demand import workload_hourly

D0 = datetime(2026, 10, 5, tzinfo=timezone.utc)


@pytest.fixture
def seeded(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('labeling', 'data')"))
        conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                             "SELECT 1, id, 'project_id', 'lab*' FROM workloads WHERE name = 'labeling'"))
    load(engine, [r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1),
                          input_usd_per_mtok=Decimal("2"), output_usd_per_mtok=Decimal("8"),
                          cached_input_usd_per_mtok=Decimal("0.5"))], source="test", target="prices")
    buckets = [r.UsageHourly(provider="openai", account_id="a", bucket_start_at=D0 + timedelta(hours=h),
                             bucket_end_at=D0 + timedelta(hours=h + 1), model="gpt-4.1", project_id="lab1",
                             input_tokens=1000, cached_input_tokens=100, output_tokens=50) for h in (1, 2)]
    requests = [r.UsageRequest(source="log", request_id=f"q{i}", started_at=D0 + timedelta(hours=h, minutes=m),
                               provider="openai", account_id=acct, model=model, project_id="lab2",
                               input_tokens=500, cached_input_tokens=50, output_tokens=20, is_batch=i % 3 == 0,
                               reported_cost_usd=Decimal("0.01") if model == "mystery" else None)
                for i, (h, m, acct, model) in enumerate([(1, 5, "a", "gpt-4.1"),  # covered by a bucket: left out
                                                         (3, 0, "a", "gpt-4.1"), (3, 30, "a", "gpt-4.1"),
                                                         (1, 10, "b", "gpt-4.1"),  # another account: counted
                                                         (4, 0, "a", "mystery")])]  # unpriced, reported cost
    load(engine, buckets + requests, source="test", target="seed")
    return engine


def test_token_hours_match_the_planning_query(seeded):
    with seeded.connect() as conn:
        got = token_hours(conn, since=D0, until=D0 + timedelta(days=1), workload="labeling")
        raw = workload_hourly(conn, workload="labeling", since=D0, until=D0 + timedelta(days=1))
    by_hour = {row["hour"]: row for row in got.group_by("hour").agg(
        pl.col("input_tokens").sum(), pl.col("output_tokens").sum(), pl.col("cost_usd").sum()).iter_rows(named=True)}
    assert len(by_hour) == raw.filter(pl.col("api_input_tokens") > 0).height
    for row in raw.filter(raw["api_input_tokens"] > 0).iter_rows(named=True):
        mine = by_hour[row["hour"]]
        assert mine["input_tokens"] == row["api_input_tokens"]
        assert mine["output_tokens"] == row["api_output_tokens"]
        assert mine["cost_usd"] == pytest.approx(row["api_cost_usd"], rel=1e-12)
    assert int(got["input_tokens"].sum()) == int(raw["api_input_tokens"].sum()) == 2 * 1000 + 4 * 500


def test_token_hours_split_cost_by_kind(seeded):
    with seeded.connect() as conn:
        got = token_hours(conn, since=D0, until=D0 + timedelta(days=1))
    priced = got.filter(got["model"] == "gpt-4.1")
    parts = priced["input_cost_usd"] + priced["cached_input_cost_usd"] + priced["cache_write_cost_usd"] + \
        priced["output_cost_usd"]
    assert (parts - priced["cost_usd"]).abs().max() < 1e-12
    usage = got.filter(got["source"] == "usage").row(0, named=True)
    assert usage["input_cost_usd"] == pytest.approx(900 * 2 / 1e6)
    assert usage["cached_input_cost_usd"] == pytest.approx(100 * 0.5 / 1e6)
    assert usage["output_cost_usd"] == pytest.approx(50 * 8 / 1e6)
    mystery = got.filter(got["model"] == "mystery").row(0, named=True)
    assert mystery["cost_usd"] == pytest.approx(0.01) and mystery["input_cost_usd"] is None
    assert mystery["unpriced_rows"] == 0  # a reported cost is a cost
    assert set(got["workload"]) == {"labeling"} and set(got["team"]) == {"data"}
