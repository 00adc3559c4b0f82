"""GPU cost by team and workload: measured shares plus idle sum to the fleet on every surface; the clock bounds it."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from models.ledger import edits, gpu
from models.queries import gpu_showback

DAY = date(2026, 10, 1)
H0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
runner = CliRunner()


def _seed(engine, days: int = 2) -> None:
    """An owned 8-GPU pool: 4 GPUs of labeling (team data) 75 % busy, 2 of support (team cs) 50 %, 2 idle."""
    with engine.begin() as conn:
        edits.save_gpu_profile(conn, "h100-pool", {
            "gpu_type": "H100", "gpu_count": 8, "pricing": "buy", "host_pattern": "gpu-node-*",
            "purchase_price_usd": Decimal("30000"), "amortization_months": 36, "power_watts": 700.0, "pue": 1.5,
            "electricity_usd_per_kwh": Decimal("0.10"), "ops_usd_per_gpu_month": Decimal("150"),
            "started_on": DAY}, actor="tester")
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('labeling', 'data'), ('support', 'cs')"))
        for workload, field, pattern, priority in (("labeling", "namespace", "labeling", 1),
                                                   ("support", "pod", "chat-*", 2)):
            conn.execute(sa.text(
                "INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                "SELECT :p, id, :f, :pat FROM workloads WHERE name = :w"),
                {"p": priority, "f": field, "pat": pattern, "w": workload})
        rows = []
        for hour in range(24 * days):
            for index in range(8):
                ns, pod, busy = (("labeling", f"label-{index}", 0.75) if index < 4 else
                                 ("serving", f"chat-{index}", 0.5) if index < 6 else ("", "", 0.0))
                rows.append({"h": H0 + timedelta(hours=hour), "u": f"GPU-{index}", "ns": ns, "pod": pod, "b": busy})
        conn.execute(sa.text(
            "INSERT INTO gpu_hourly (hour_at, gpu_uuid, host, namespace, pod, samples, busy_fraction) "
            "VALUES (:h, :u, 'gpu-node-1', :ns, :pod, 60, :b)"), rows)


def test_team_shares_and_idle_sum_exactly_to_the_pools(engine):
    _seed(engine)
    with engine.connect() as conn:
        lines = gpu_showback.gpu_cost_daily(conn, since=H0, until=H0 + timedelta(days=2), now=H0 + timedelta(days=5))
        pools = gpu.pool_lines(conn, since=DAY, until=DAY + timedelta(days=2))
    fleet = sum(pools["cost_usd"].to_list(), Decimal(0))
    by_team = gpu_showback.by(lines, "team")
    assert by_team["team"].to_list() == ["data", "cs", "idle"]  # idle its own line, last
    assert sum(by_team["cost_usd"].to_list(), Decimal(0)) == fleet == gpu_showback.total_usd(lines)
    hours = dict(zip(by_team["team"].to_list(), by_team["gpu_hours"].to_list()))
    assert hours == {"data": 2 * 72.0, "cs": 2 * 24.0, "idle": 2 * 96.0}  # 4x0.75, 2x0.5, the rest, per hour
    assert abs(by_team["share"].sum() - 1.0) < 1e-12


def test_a_day_in_progress_costs_only_its_elapsed_hours(engine):
    """At 06:00 on the second day the pool has existed 30 hours: 8 x 30 GPU-hours, not 8 x 48."""
    _seed(engine)
    now = H0 + timedelta(days=1, hours=6)
    with engine.connect() as conn:
        lines = gpu_showback.gpu_cost_daily(conn, since=H0, until=H0 + timedelta(days=2), now=now)
        whole_day = gpu_showback.total_usd(gpu_showback.gpu_cost_daily(conn, since=H0, until=H0 + timedelta(days=1),
                                                                       now=now))
    assert sum(lines["gpu_hours"].to_list()) == pytest.approx(8 * 30)
    second = gpu_showback.total_usd(lines.filter(pl.col("day") == DAY + timedelta(days=1)))
    assert abs(second - whole_day / 4) < Decimal("1e-6")  # 6 of 24 hours, no telemetry-measured watts here
    with engine.connect() as conn:
        before = gpu_showback.gpu_cost_daily(conn, since=H0, until=H0 + timedelta(days=2), now=H0)
    assert before.is_empty()  # nothing has happened yet


def test_filters_keep_the_team_share_and_never_the_idle(engine):
    _seed(engine)
    with engine.connect() as conn:
        lines = gpu_showback.gpu_cost_daily(conn, since=H0, until=H0 + timedelta(days=2), now=H0 + timedelta(days=2))
    data = gpu_showback.scoped(lines, teams=["data"])
    assert set(data["team"].to_list()) == {"data"}
    nobody = gpu_showback.scoped(lines, teams=["engineering"])
    assert gpu_showback.total_usd(nobody) == 0  # a team that owns no GPU gets none of the fleet
    both = gpu_showback.scoped(lines, workloads=["labeling", "support"])
    assert gpu_showback.total_usd(both) + gpu_showback.total_usd(lines.filter(pl.col("team") == "idle")) \
        == gpu_showback.total_usd(lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(busy=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(0, 30)), max_size=6),
       cost=st.decimals(min_value=0, max_value=10_000, places=4), capacity=st.integers(1, 200))
def test_share_out_sums_to_the_pool_cost_for_any_use(busy, cost, capacity):
    """Whatever the measured use (even above capacity), the lines sum exactly to the pool-day's cost."""
    parts = [(w, f"team-{w}", 1, b, 0, 0) for w, b in busy]
    lines = gpu.share_out(Decimal(cost), capacity, parts)
    assert sum((line[3] for line in lines), Decimal(0)) == Decimal(cost)
    assert lines[-1][0] == "idle" and all(line[3] >= -Decimal("1e-9") for line in lines[:-1])


def test_team_costs_add_tokens_and_gpus_per_team():
    tokens = pl.DataFrame({"team": ["data", "eng"], "cost_usd": [Decimal("10.5"), Decimal("3")]},
                          schema={"team": pl.String, "cost_usd": pl.Decimal(38, 18)})
    lines = pl.DataFrame({"team": ["data", "idle"], "workload": ["labeling", "idle"], "gpu_hours": [5.0, 3.0],
                          "cost_usd": [Decimal("7"), Decimal("4.25")]},
                         schema={"team": pl.String, "workload": pl.String, "gpu_hours": pl.Float64,
                                 "cost_usd": pl.Decimal(38, 10)})
    table = gpu_showback.team_costs(tokens, lines)
    assert table["team"].to_list() == ["data", "eng", "idle"]
    assert table["total_usd"].to_list() == [Decimal("17.5"), Decimal("3"), Decimal("4.25")]
    assert sum(table["gpu_usd"].to_list(), Decimal(0)) == Decimal("11.25")


def test_cli_showback_json_and_csv_sum_to_the_fleet(engine, cli_env, pin_clock, tmp_path):
    """`hybridcost showback` (table, JSON, CSV export) gives the same fleet GPU cost as the pool lines."""
    _seed(engine)
    pin_clock(H0 + timedelta(days=2))
    context.reset()
    out = tmp_path / "lines.csv"
    result = runner.invoke(app, ["showback", "--since", "2026-10-01", "--until", "2026-10-02", "--json",
                                 "--csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    with engine.connect() as conn:
        fleet = gpu_showback.total_usd(gpu.pool_lines(conn, since=DAY, until=DAY + timedelta(days=2)).pipe(
            lambda f: f.with_columns(pl.col("cost_usd").cast(pl.Decimal(38, 10)))))
    assert sum(Decimal(str(r["gpu_usd"])) for r in rows) == pytest.approx(fleet, abs=Decimal("0.000001"))
    assert {r["team"] for r in rows} == {"data", "cs", "idle"}
    with out.open() as handle:
        exported = sum(Decimal(r["cost_usd"]) for r in csv.DictReader(handle))
    assert abs(exported - fleet) < Decimal("1e-9")
    context.reset()
    table = runner.invoke(app, ["showback", "--since", "2026-10-01", "--until", "2026-10-02"])
    assert table.exit_code == 0 and "idle" in table.stdout
    assert f"${fleet:,.2f}" in table.stderr
