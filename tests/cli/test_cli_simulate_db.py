"""simulate --workload: demand and per-hour API cost from the database, the GPU side from the scenario."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from ingest import records as r
from ingest.loader import load
from models.economics.contract import Demand, GpuOption, simulate
from models.infra.database import make_engine

runner = CliRunner()
DAY0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
SCENARIO = """name: labeling-on-h100
gpu:
  pricing: rent
  hourly_rate: 2.99
  ops_per_gpu_month: 150
  replica_gpus: 1
  input_tokens_per_s: 20000
  output_tokens_per_s: 2500
  max_utilization: 0.8
"""


def _run(*args):
    context.reset()
    return runner.invoke(app, list(args))


@pytest.fixture
def seeded(cli_env):
    engine = make_engine(cli_env)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('labeling', 'data')"))
        conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                             "SELECT 1, id, 'project_id', 'proj_lab' FROM workloads"))
    hours = [(h, 10_000_000 * (1 + h % 5), 1_000_000 * (1 + h % 3)) for h in range(48)]
    load(engine, [r.Price(provider="openai", model="gpt-4.1", effective_from=DAY0.date(),
                          input_usd_per_mtok=Decimal("2"), output_usd_per_mtok=Decimal("8"))]
         + [r.UsageHourly(provider="openai", account_id="a", bucket_start_at=DAY0 + timedelta(hours=h),
                          bucket_end_at=DAY0 + timedelta(hours=h + 1), model="gpt-4.1", project_id="proj_lab",
                          input_tokens=i, output_tokens=o) for h, i, o in hours], source="t", target="t")
    engine.dispose()
    return hours


def test_workload_mode_matches_the_contract_on_the_same_hours(seeded, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    result = _run("simulate", str(path), "--workload", "labeling", "--since", "2026-10-01", "--until", "2026-10-02",
                  "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    inp = np.array([i for _, i, _ in seeded], dtype=float)
    out = np.array([o for _, _, o in seeded], dtype=float)
    gpu = GpuOption(pricing="rent", hourly_rate=2.99, ops_per_gpu_month=150, replica_gpus=1,
                    input_tokens_per_s=20000, output_tokens_per_s=2500, max_utilization=0.8)
    expected = simulate(Demand.from_arrays(inp, np.zeros(48), out), None, gpu,
                        api_costs=(inp * 2 + out * 8) / 1e6).as_contract_dict()
    assert got["hours"] == 48 and got["peak_replicas"] == expected["peak_replicas"]
    assert got["api_only_cost"] == pytest.approx(expected["api_only_cost"], rel=1e-9)
    assert got["optimal_replicas"] == expected["optimal_replicas"]
    assert "scenario's API prices were not used" in result.output


def test_unknown_workload_and_daily_only_data_are_refused(seeded, tmp_path, cli_env):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    result = _run("simulate", str(path), "--workload", "nope", "--since", "2026-10-01", "--until", "2026-10-02")
    assert result.exit_code == 2 and "no usage" in result.output
    engine = make_engine(cli_env)
    load(engine, [r.UsageHourly(provider="openai", account_id="a", bucket_start_at=DAY0 + timedelta(days=5),
                                bucket_end_at=DAY0 + timedelta(days=6), model="gpt-4.1", project_id="proj_lab",
                                input_tokens=5, output_tokens=5)], source="t", target="t")
    engine.dispose()
    result = _run("simulate", str(path), "--workload", "labeling", "--since", "2026-10-06", "--until", "2026-10-06")
    assert result.exit_code == 2 and "only daily" in result.output


def test_save_stores_the_scenario(cli_env, tmp_path):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    assert _run("simulate", str(examples / "tfd-labeling.yaml"), "--save").exit_code == 0
    engine = make_engine(cli_env)
    with engine.connect() as conn:
        body = conn.execute(sa.text("SELECT body FROM scenarios WHERE name = 'tfd-labeling'")).scalar()
    engine.dispose()
    assert body["gpu"]["hourly_rate"] == 2.99 or "gpu" in body
