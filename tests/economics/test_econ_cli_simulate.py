"""The simulate command through Typer's CliRunner on a small app that calls register()."""

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from app.cli.simulate import register

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tfd-labeling.yaml"
CONTRACT_KEYS = {"hours", "api_only_cost", "gpu_hourly_cost", "peak_replicas", "gpu_only_cost",
                 "optimal_replicas", "hybrid_cost", "breakeven_utilization", "replica_can_pay",
                 "breakeven_demand_multiplier", "breakeven_monthly_tokens"}


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def version() -> None:  # a second command so "simulate" is addressed by name, as in the real CLI
        typer.echo("0")

    return app


def run(*args):
    return CliRunner().invoke(make_app(), ["simulate", *map(str, args)])


def test_json_output_is_only_the_contract_object():
    result = run(EXAMPLE, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == CONTRACT_KEYS
    assert data["hours"] == 96 and isinstance(data["replica_can_pay"], bool)


def test_summary_formats_money_and_recommends():
    result = run(EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "$" in result.stdout and "per month" in result.stdout and "730 hours" in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(("Stay on tokens", "Own ", "Move entirely to owned GPUs"))


def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(EXAMPLE.read_text().replace("demand: demand.csv", "demand: d.csv"))
    (tmp_path / "d.csv").write_text("hour,input_tokens,cached_input_tokens,output_tokens\n"
                                    "2026-01-01T00:00:00Z,10,20,1\n")
    result = run(scenario, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'd.csv'}: line 2: ")
    assert "Traceback" not in result.output


def test_missing_scenario_exits_2(tmp_path):
    result = run(tmp_path / "missing.yaml")
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
