"""The Prometheus exporter: values from the database, cached between scrapes, served over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from app.exporter import HybridcostCollector, serve
from ingest import records as r
from ingest.loader import load
from tests_support import REPO_ROOT

NOW = datetime(2026, 10, 15, 12, 0, tzinfo=timezone.utc)


def _seed(engine, now: datetime) -> None:
    hour = now.replace(minute=0, second=0, microsecond=0)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('labeling', 'data')"))
        conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                             "SELECT 1, id, 'project_id', 'proj_lab*' FROM workloads"))
        conn.execute(sa.text("INSERT INTO budgets (scope, name, monthly_usd) VALUES ('team', 'data', 100), "
                             "('workload', 'labeling', 1000)"))
        conn.execute(sa.text(
            "INSERT INTO gpu_cost_profiles (name, gpu_type, gpu_count, pricing, host_pattern, hourly_rate_usd) "
            "VALUES ('rented', 'H100', 8, 'rent', 'node-*', 2.00)"))
        for i in range(4):  # four hours at 25 % busy on node-1: 3 idle GPU-hours x $2
            conn.execute(sa.text(
                "INSERT INTO gpu_hourly (hour_at, gpu_uuid, host, samples, utilization_mean_pct, busy_fraction) "
                "VALUES (:h, 'GPU-aaa', 'node-1', 60, 25, 0.25)"), {"h": hour - timedelta(hours=i + 1)})
        conn.execute(sa.text(
            "INSERT INTO gpu_samples (sampled_at, gpu_uuid, source, host, utilization_pct) "
            "VALUES (:t1, 'GPU-aaa', 'nvml', 'node-1', 80), (:t2, 'GPU-aaa', 'nvml', 'node-1', 60)"),
            {"t1": now - timedelta(minutes=5), "t2": now - timedelta(minutes=1)})
    start = hour - timedelta(hours=2)
    load(engine, [
        r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1),
                input_usd_per_mtok=Decimal("2"), output_usd_per_mtok=Decimal("8")),
        r.UsageHourly(provider="openai", account_id="acct", bucket_start_at=start,
                      bucket_end_at=start + timedelta(hours=1), model="gpt-4.1", project_id="proj_labeling",
                      input_tokens=12_000_000, cached_input_tokens=0, output_tokens=0),  # $24 in the window
    ], source="test", target="exporter")


def _values(families) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_deploy_collector_values_and_cache(engine):
    _seed(engine, NOW)
    collector = HybridcostCollector(engine, cache_seconds=60, clock=lambda: NOW)
    values = _values(collector.collect())
    assert values[("hybridcost_exporter_up", ())] == 1
    assert values[("hybridcost_spend_usd_per_hour", (("workload", "labeling"),))] == pytest.approx(1.0)
    # $24 month-to-date at 12:00 on the 15th: 348 of October's 744 hours elapsed (the dashboard's forecast,
    # models.queries.month_end), against $100 and $1000
    forecast = 24 / 348 * 744
    assert values[("hybridcost_budget_burn_ratio", (("name", "data"), ("scope", "team")))] == pytest.approx(
        forecast / 100)
    assert values[("hybridcost_budget_burn_ratio", (("name", "labeling"), ("scope", "workload")))] == pytest.approx(
        forecast / 1000)
    assert values[("hybridcost_gpu_saturation", (("gpu_uuid", "GPU-aaa"),))] == pytest.approx(0.7)
    assert values[("hybridcost_gpu_idle_cost_usd", (("host", "node-1"),))] == pytest.approx(6.0)
    list(collector.collect())
    assert collector.reads == 1  # the second scrape within cache_seconds reused the first read


def test_deploy_collector_answers_when_database_is_away():
    dead = sa.create_engine("postgresql+psycopg://nobody@/none?host=/nonexistent-socket-dir")
    values = _values(HybridcostCollector(dead, cache_seconds=0).collect())
    assert values[("hybridcost_exporter_up", ())] == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_deploy_exporter_serves_http(engine, pin_clock):
    _seed(engine, pin_clock(NOW))
    port = _free_port()
    server, _thread = serve(engine, "127.0.0.1", port, cache_seconds=1)
    try:
        body = _get(f"http://127.0.0.1:{port}/metrics")
    finally:
        server.shutdown()
    names = {f.name for f in text_string_to_metric_families(body)}
    assert {"hybridcost_spend_usd_per_hour", "hybridcost_budget_burn_ratio", "hybridcost_breakeven_status",
            "hybridcost_move_date_days", "hybridcost_gpu_saturation", "hybridcost_gpu_idle_cost_usd"} <= names
    assert 'hybridcost_spend_usd_per_hour{workload="labeling"}' in body


def test_deploy_exporter_cli_command(cli_env):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HYBRIDCOST_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-c", "from app.cli.main import main; main()", "exporter",
                             "--port", str(port), "--host", "127.0.0.1"], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = _get(f"http://127.0.0.1:{port}/metrics")
        assert "hybridcost_exporter_up 1.0" in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)
