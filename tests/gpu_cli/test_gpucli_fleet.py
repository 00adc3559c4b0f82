"""`hybridcost fleet` and the fleet queries on a small synthetic rollup, checked against hand-computed numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.gpu import day_window
from app.cli.main import app
from ingest.loader import load
from ingest.records import GpuHourlyAggregate
from models.queries import fleet as fq

DAY = datetime(2026, 3, 1, tzinfo=UTC)
# $30,000 over 36 months, 700 W at PUE 1.3 and $0.10/kWh, $150 ops a month: USD per GPU-hour
BUY_RATE = 30000 / (36 * 730) + 0.7 * 1.3 * 0.1 + 150 / 730


def _hours(uuid: str, host: str, n: int, util: float, busy: float, mig: str = "", start: datetime = DAY):
    return [GpuHourlyAggregate(hour_at=start + timedelta(hours=h), gpu_uuid=uuid, mig_instance=mig, host=host,
                               model_name="NVIDIA H100 80GB HBM3", samples=360, utilization_mean_pct=util,
                               utilization_max_pct=util, busy_fraction=busy, power_mean_watts=None if mig else 400.0)
            for h in range(n)]


@pytest.fixture
def fleet_db(engine):
    records = (_hours("GPU-idle", "pool-a-1", 10, 20.0, 0.25)  # 2.5 busy, 7.5 idle hours
               + _hours("GPU-hot", "pool-a-1", 5, 95.0, 1.0)  # saturated 5 h
               + _hours("GPU-other", "other", 4, 50.0, 0.5)  # no cost profile; its vLLM endpoint queues
               + _hours("GPU-mig", "pool-a-1", 2, 40.0, 0.5, mig="1")  # two MIG instances share one GPU
               + _hours("GPU-mig", "pool-a-1", 2, 40.0, 0.5, mig="2")
               + _hours("GPU-idle", "pool-a-1", 3, 0.0, 0.0, start=DAY - timedelta(hours=3)))  # before the window
    load(engine, records, source="test", target="synthetic rollup")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO gpu_cost_profiles (name, gpu_type, gpu_count, pricing, host_pattern, purchase_price_usd, "
            "amortization_months, power_watts, pue, electricity_usd_per_kwh, ops_usd_per_gpu_month) "
            "VALUES ('pool-a', 'H100', 8, 'buy', 'pool-a-*', 30000, 36, 700, 1.3, 0.10, 150)"))
        for h in range(3):
            conn.execute(sa.text(
                "INSERT INTO inference_hourly (hour_at, endpoint, model_name, requests_waiting_mean, kv_cache_max_frac, "
                "generation_tokens, generation_tokens_per_s_saturated) VALUES (:t, 'http://other:8000/metrics', 'm', 5, "
                "0.5, 3600000, 2000)"), {"t": DAY + timedelta(hours=h)})
    return engine


def _fleet_json(*args):
    context.reset()
    result = CliRunner().invoke(app, ["fleet", "--since", "2026-03-01", "--until", "2026-03-01", "--json", *args])
    context.reset()
    assert result.exit_code == 0, (result.output, result.exception)
    return {(g["gpu_uuid"], g["mig_instance"]): g for g in json.loads(result.stdout)}


def test_fleet_json_busy_idle_cost_and_signals(fleet_db, cli_env):
    gpus = _fleet_json()
    # a MIG GPU is one GPU: its instances are listed, not counted as GPUs
    assert set(gpus) == {("GPU-idle", ""), ("GPU-hot", ""), ("GPU-other", ""), ("GPU-mig", "1,2")}
    idle = gpus[("GPU-idle", "")]
    assert set(idle) >= {"gpu_uuid", "mig_instance", "host", "model", "utilization_p50", "utilization_p95",
                         "power_mean_watts", "busy_hours", "idle_hours", "idle_cost_usd", "signals"}
    assert idle["busy_hours"] == pytest.approx(2.5) and idle["idle_hours"] == pytest.approx(7.5)
    assert idle["idle_cost_usd"] == pytest.approx(7.5 * BUY_RATE)
    assert idle["utilization_p50"] == 20.0 and idle["power_mean_watts"] == 400.0
    assert idle["signals"] == ["below_breakeven"] and idle["cost_profile"] == "pool-a"
    hot = gpus[("GPU-hot", "")]
    assert hot["signals"] == ["add_capacity"] and hot["idle_cost_usd"] == 0 and hot["utilization_p95"] == 95.0
    other = gpus[("GPU-other", "")]
    assert other["idle_cost_usd"] is None and other["cost_profile"] == "no cost profile"
    assert other["signals"] == ["add_capacity"]  # its host's endpoint queued for 3 h
    # two instances without a profile share the GPU half and half: 50 % busy of 2 GPU-hours
    g = gpus[("GPU-mig", "1,2")]
    assert g["busy_hours"] == pytest.approx(1.0) and g["idle_hours"] == pytest.approx(1.0)
    assert g["idle_cost_usd"] == pytest.approx(1.0 * BUY_RATE) and g["utilization_p50"] == pytest.approx(40.0)
    assert g["power_mean_watts"] is None and g["signals"] == []


def test_breakeven_threshold_is_configurable(fleet_db, cli_env):
    gpus = _fleet_json("--breakeven-util", "45")
    assert gpus[("GPU-mig", "1,2")]["signals"] == ["below_breakeven"]
    assert "below_breakeven" not in gpus[("GPU-other", "")]["signals"]


def test_fleet_table_and_empty_window(fleet_db, cli_env):
    context.reset()
    out = CliRunner().invoke(app, ["fleet", "--since", "2026-03-01", "--until", "2026-03-01"])
    assert out.exit_code == 0 and "no cost profile" in out.output and f"${7.5 * BUY_RATE:,.2f}" in out.output
    assert "pool pool-a-1        3 GPUs" in out.output and f"${8.5 * BUY_RATE:,.2f}" in out.output
    context.reset()
    empty = CliRunner().invoke(app, ["fleet", "--since", "2025-01-01", "--until", "2025-01-02", "--json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []


def test_dashboard_frames(fleet_db):
    since, until = day_window("2026-03-01", "2026-03-01")
    with fleet_db.connect() as conn:
        summary = fq.fleet_summary(conn, since, until)
        heat = fq.gpu_heatmap(conn, since, until)
        sat = fq.inference_saturation(conn, since, until)
    pool = summary.filter(summary["host"] == "pool-a-1").row(0, named=True)
    assert pool["gpus"] == 3 and pool["gpus_without_cost_profile"] == 0
    assert pool["idle_cost_usd"] == pytest.approx((7.5 + 1.0) * BUY_RATE)
    assert pool["add_capacity_gpus"] == 1 and pool["below_breakeven_gpus"] == 1
    other = summary.filter(summary["host"] == "other").row(0, named=True)
    assert other["idle_cost_usd"] is None and other["gpus_without_cost_profile"] == 1
    assert heat.height == 10 + 5 + 4 + 2 + 2 and "pool-a-1/GPU-mig:1" in heat["gpu"].to_list()
    assert sat.height == 3 and sat["capacity_tokens_per_s"].to_list() == [2000.0] * 3
    assert sat["load_vs_capacity"].to_list() == pytest.approx([0.5] * 3)  # 1000 tok/s observed of 2000


def test_cost_formulas_and_profile_matching():
    rent = {"pricing": "rent", "hourly_rate_usd": 2.99, "ops_usd_per_gpu_month": 150}
    assert fq.gpu_hour_cost_usd(rent) == pytest.approx(2.99 + 150 / 730)
    buy = {"pricing": "buy", "purchase_price_usd": 30000, "amortization_months": 36, "power_watts": 700, "pue": 1.3,
           "electricity_usd_per_kwh": 0.10, "ops_usd_per_gpu_month": 150}
    assert fq.gpu_hour_cost_usd(buy) == pytest.approx(BUY_RATE)
    assert fq.gpu_hour_cost_usd({**buy, "pue": None}) is None
    profiles = [{"id": 1, "name": "all", "host_pattern": "*"}, {"id": 2, "name": "a", "host_pattern": "pool-a-*"}]
    ordered = sorted(profiles, key=lambda p: (("*" in p["host_pattern"]), -len(p["host_pattern"]), p["id"]))
    assert fq.match_profile("pool-a-7", ordered)["name"] == "a"
    assert fq.match_profile("x", [p for p in profiles if p["id"] == 2]) is None


def test_day_window_is_utc_calendar_days():
    assert day_window("2026-03-01", "2026-03-02") == (DAY, DAY + timedelta(days=2))
    since, until = day_window(None, None, today=datetime(2026, 3, 30).date())
    assert (since, until) == (DAY, DAY + timedelta(days=30))
