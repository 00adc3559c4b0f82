"""Spend anomalies against a weekday-seasonal baseline: robust to outliers, quick to accept a new level, never today."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import polars as pl
import pytest
import sqlalchemy as sa

from app.exporter import HybridcostCollector
from ingest import records as r
from ingest.loader import load
from models.anomalies import AnomalyRule, detect, scoped

START = date(2026, 8, 3)  # a Monday
WEEKDAY_USD = [100.0, 104.0, 98.0, 102.0, 96.0, 20.0, 22.0]  # busy weekdays, quiet weekends


def _series(days: int, *, overrides: dict[date, float] | None = None, workload: str = "review",
            team: str = "eng") -> pl.DataFrame:
    rows = []
    for k in range(days):
        day = START + timedelta(days=k)
        usd = WEEKDAY_USD[day.weekday()] * (1 + 0.02 * ((k * 7) % 5 - 2))  # a little noise
        rows.append((day, workload, team, (overrides or {}).get(day, usd)))
    return pl.DataFrame(rows, schema={"day": pl.Date, "workload": pl.String, "team": pl.String,
                                      "cost_usd": pl.Float64}, orient="row")


def test_a_spike_is_found_with_its_dollar_impact_for_workload_and_team():
    spike = START + timedelta(days=66)  # a Monday
    daily = _series(70, overrides={spike: 400.0})
    found = detect(daily, first_day=START + timedelta(days=56), last_day=START + timedelta(days=69),
                   today=START + timedelta(days=70))
    assert found["day"].unique().to_list() == [spike]
    row = found.filter(pl.col("scope") == "workload").row(0, named=True)
    assert row["baseline_usd"] == pytest.approx(100, rel=0.05)
    assert row["impact_usd"] == pytest.approx(400 - row["baseline_usd"])
    assert set(found["scope"]) == {"workload", "team"}


def test_weekends_are_not_anomalies_against_weekdays():
    """Saturday's $20 next to Friday's $96 is the weekly shape, not a drop."""
    daily = _series(84)
    assert detect(daily, first_day=START + timedelta(days=56), last_day=START + timedelta(days=83),
                  today=START + timedelta(days=84)).is_empty()


def test_a_new_level_is_flagged_briefly_then_becomes_the_baseline():
    change = START + timedelta(days=63)
    daily = _series(84, overrides={START + timedelta(days=k): WEEKDAY_USD[(START + timedelta(days=k)).weekday()] / 4
                                   for k in range(63, 84)})
    found = detect(daily, first_day=START + timedelta(days=56), last_day=START + timedelta(days=83),
                   today=START + timedelta(days=84), rule=AnomalyRule(threshold=4, min_usd=20))
    days = sorted(found.filter(pl.col("scope") == "workload")["day"].to_list())
    assert days and days[0] == change and days[-1] <= change + timedelta(days=4)
    assert all(v < 0 for v in found["impact_usd"].to_list())


def test_one_old_outlier_does_not_blind_the_check():
    """Median and MAD: a single huge day in the history neither raises the baseline nor hides a later spike."""
    old = START + timedelta(days=30)
    spike = START + timedelta(days=67)
    daily = _series(70, overrides={old: 5000.0, spike: 300.0})
    found = detect(daily, first_day=START + timedelta(days=60), last_day=START + timedelta(days=69),
                   today=START + timedelta(days=70))
    assert found.filter(pl.col("scope") == "workload")["day"].to_list() == [spike]


def test_the_day_in_progress_and_short_histories_are_not_judged():
    daily = _series(70, overrides={START + timedelta(days=69): 900.0})
    assert detect(daily, first_day=START + timedelta(days=60), last_day=START + timedelta(days=69),
                  today=START + timedelta(days=69)).is_empty()  # today: not over yet
    young = _series(14, overrides={START + timedelta(days=13): 900.0})
    assert detect(young, first_day=START, last_day=START + timedelta(days=13),
                  today=START + timedelta(days=20)).is_empty()  # under 3 weeks: no baseline


def test_scoped_keeps_the_picked_workloads_and_teams():
    spike = START + timedelta(days=66)
    daily = pl.concat([_series(70, overrides={spike: 400.0}),
                       _series(70, overrides={spike: 500.0}, workload="chat", team="cs")])
    found = detect(daily, first_day=spike, last_day=spike, today=spike + timedelta(days=1))
    team_of = {"review": "eng", "chat": "cs"}
    assert set(scoped(found, [], ["cs"], team_of)["name"]) == {"chat", "cs"}
    assert set(scoped(found, ["review"], [], team_of)["name"]) == {"review"}
    assert scoped(found, [], [], team_of).height == 4


def test_exporter_reports_yesterdays_anomaly(engine):
    """hybridcost_spend_anomaly_usd carries yesterday's impact for the workload and its team (0 when normal)."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('labeling', 'data'), ('chat', 'cs')"))
        conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                             "SELECT CASE name WHEN 'labeling' THEN 1 ELSE 2 END, id, 'project_id', "
                             "'proj_' || name FROM workloads"))
    records = [r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1), input_usd_per_mtok=1,
                       output_usd_per_mtok=1)]
    today = START + timedelta(days=70)
    for k in range(70):
        day = START + timedelta(days=k)
        at = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=9)
        for project, usd in (("proj_labeling", 500.0 if k == 69 else WEEKDAY_USD[day.weekday()]),
                             ("proj_chat", WEEKDAY_USD[day.weekday()])):
            records.append(r.UsageHourly(provider="openai", account_id="a", bucket_start_at=at,
                                         bucket_end_at=at + timedelta(hours=1), model="gpt-4.1", project_id=project,
                                         input_tokens=int(usd * 1_000_000)))
    load(engine, records, source="test", target="anomalies")
    now = datetime.combine(today, datetime.min.time(), timezone.utc) + timedelta(hours=3)
    families = HybridcostCollector(engine, cache_seconds=0, clock=lambda: now).collect()
    values = {tuple(sorted(s.labels.items())): s.value for f in families for s in f.samples
              if s.name == "hybridcost_spend_anomaly_usd"}
    labeling = values[(("name", "labeling"), ("scope", "workload"))]
    assert labeling == pytest.approx(500 - WEEKDAY_USD[(today - timedelta(days=1)).weekday()], rel=0.05)
    assert values[(("name", "data"), ("scope", "team"))] == pytest.approx(labeling)
    assert values[(("name", "chat"), ("scope", "workload"))] == 0.0
