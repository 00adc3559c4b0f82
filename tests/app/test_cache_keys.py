"""Dashboard caches are keyed to the data: reused until a write to a table they read, warm after a change."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.ui import cost_views, data, economics, ledger_data, warm, workflow_data
from conftest import assert_clean, open_page
from ingest.loader import load
from ingest.records import UsageRequest
from models import clock, data_versions
from tests_support import DEMO_NOW

SINCE, UNTIL = clock.day_range(date(2026, 10, 21), date(2026, 11, 20))


class CountingEngine:
    """The real reader engine, counting the connections the loaders open."""

    def __init__(self, engine):
        self.engine = engine
        self.connects = 0

    def connect(self):
        self.connects += 1
        return self.engine.connect()


@pytest.fixture
def counting(demo_env, monkeypatch):
    real = data.engine()
    counter = CountingEngine(real)
    for module in (data, workflow_data, ledger_data):
        monkeypatch.setattr(module, "engine", lambda: counter)
    return counter


def _one_request(minute: int) -> UsageRequest:
    return UsageRequest(source="test", request_id=f"late-{minute}", provider="openai", model="gpt-4.1",
                        started_at=DEMO_NOW - timedelta(hours=30, minutes=minute), input_tokens=1000,
                        output_tokens=100)


def test_loader_reuses_until_a_table_it_reads_changes(counting, demo_env):
    first = data.spend_daily(SINCE, UNTIL)
    before = counting.connects
    assert data.spend_daily(SINCE, UNTIL).equals(first)
    assert counting.connects == before + 1  # only the versions were read
    with counting.engine.begin() as conn:  # a table spend does not read: the answer stays cached
        conn.execute(sa.text("INSERT INTO scenarios (name, body) VALUES ('x', '{}')"))
    data.spend_daily(SINCE, UNTIL)
    assert counting.connects == before + 2
    load(counting.engine, [_one_request(1)], source="test", target="one more request")
    again = data.spend_daily(SINCE, UNTIL)
    assert counting.connects == before + 4  # versions, then the recomputation
    assert int(again["input_tokens"].sum()) == int(first["input_tokens"].sum()) + 1000


def test_versions_bump_on_every_kind_of_write(engine):
    with engine.begin() as conn:
        start = data_versions.current(conn)
        conn.execute(sa.text("INSERT INTO budgets (scope, name, monthly_usd) VALUES ('team', 't', 1)"))
        conn.execute(sa.text("UPDATE budgets SET monthly_usd = 2"))
        conn.execute(sa.text("DELETE FROM budgets"))
        conn.exec_driver_sql("TRUNCATE scenarios")
        after = data_versions.current(conn)
    assert after["budgets"] == start.get("budgets", 0) + 3
    assert after["scenarios"] == start.get("scenarios", 0) + 1


def test_every_table_has_the_version_trigger(engine):
    with engine.connect() as conn:
        missing = conn.execute(sa.text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "AND c.relname NOT IN ('data_versions', 'alembic_version') AND NOT EXISTS (SELECT 1 FROM pg_trigger t "
            "WHERE t.tgrelid = c.oid AND t.tgname = 'hybridcost_data_version')")).scalars().all()
    assert missing == []


class OneConnection:
    """Hands the loaders one connection inside one transaction, so its table statistics show what they read."""

    def __init__(self, conn):
        self.conn = conn

    def connect(self):
        return contextlib.nullcontext(self.conn)


LOADER_CALLS = {
    "spend_daily": lambda: data.spend_daily(SINCE, UNTIL),
    "gpu_spend_daily": lambda: data.gpu_spend_daily(SINCE, UNTIL),
    "batch_daily": lambda: data.batch_daily(SINCE, UNTIL),
    "reconciliation": lambda: data.reconciliation(SINCE, UNTIL),
    "workload_hourly": lambda: data.workload_hourly("segment-labeling", SINCE, UNTIL),
    "fleet_gpus": lambda: data.fleet_gpus(SINCE, UNTIL, 30.0),
    "gpu_heatmap": lambda: data.gpu_heatmap(SINCE, UNTIL),
    "inference_saturation": lambda: data.inference_saturation(SINCE, UNTIL),
    "inference_pressure": lambda: data.inference_pressure(SINCE, UNTIL),
    "sm_delivery": lambda: data.sm_delivery(SINCE, UNTIL),
    "gpu_sm_activity": lambda: data.gpu_sm_activity(SINCE, UNTIL),
    "unpriced_usage": lambda: data.unpriced_usage(SINCE, UNTIL),
    "data_freshness": lambda: data.data_freshness(DEMO_NOW),
    "budgets": data.budgets, "workloads": data.workloads, "prices": data.prices, "scenarios": data.scenarios,
    "attribution_rules": data.attribution_rules, "ingest_runs": data.ingest_runs, "cost_profiles": data.cost_profiles,
    "gpu_indexes": lambda: data.gpu_indexes(("GPU-0000", "GPU-0001")),
    "not_token_spend": lambda: data.not_token_spend(SINCE, UNTIL),
    "lookalike_names": data.lookalike_names,
    "gpu_lines": lambda: cost_views.gpu_lines(SINCE, UNTIL, DEMO_NOW),
    "anomalies": lambda: cost_views.anomalies(SINCE, UNTIL, DEMO_NOW.date(), 4.0, 20.0),
    "reasoning_costs": lambda: workflow_data.reasoning_costs(SINCE, UNTIL),
    "request_groups": lambda: workflow_data.request_groups(SINCE, UNTIL),
    "discipline_scorecard": lambda: workflow_data.discipline_scorecard(SINCE, UNTIL, "team"),
    "measured_lever_shares": lambda: workflow_data.measured_lever_shares(SINCE, UNTIL),
    "periods": ledger_data.periods, "restatements": ledger_data.restatements, "fx_rates": ledger_data.fx_rates,
    "audit_entries": ledger_data.audit_entries,
    "plan": lambda: economics.plan("segment-labeling", SINCE, UNTIL, DEMO_NOW),
    "payback": lambda: economics.payback("segment-labeling", SINCE, UNTIL, DEMO_NOW),
    "fleet_plan_table": lambda: economics.fleet_plan_table(SINCE, UNTIL, DEMO_NOW),
}
LOADERS = {n: getattr(m, n) for n in LOADER_CALLS for m in (data, workflow_data, ledger_data, cost_views, economics)
           if hasattr(m, n)}


@pytest.mark.parametrize("name", sorted(LOADER_CALLS))
def test_each_loader_is_keyed_on_every_table_it_reads(name, demo_env, monkeypatch):
    real = data.engine()
    with real.connect() as conn, conn.begin():
        versions = data_versions.current(conn)  # read before the statistics are looked at
        monkeypatch.setattr(data, "versions", lambda: versions)
        for module in (data, workflow_data, ledger_data):
            monkeypatch.setattr(module, "engine", lambda: OneConnection(conn))
        LOADER_CALLS[name]()
        read = set(conn.execute(sa.text(
            "SELECT relname FROM pg_stat_xact_user_tables WHERE coalesce(seq_scan, 0) + coalesce(idx_scan, 0) > 0"
        )).scalars())
    read = {t for t in read if not t.startswith("gpu_samples_")} | (
        {"gpu_samples"} if any(t.startswith("gpu_samples_") for t in read) else set())
    assert read - set(LOADERS[name].tables) - {"data_versions"} == set(), f"{name} reads tables it is not keyed on"


PAGES = ["overview", "spend", "workloads", "fleet", "workflow", "data", "breakeven", "whatif"]


def test_after_warming_the_default_views_open_without_a_query(counting):
    """What a load leaves behind is warm: each page's default view reads only the data versions."""
    warm.default_views()
    for page in PAGES:
        before = counting.connects
        at = open_page(page, date_range=None)
        assert_clean(at)
        assert counting.connects - before == 1, f"{page} queried beyond the versions"
