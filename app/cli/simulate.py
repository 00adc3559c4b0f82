"""``hybridcost simulate``: the ECONOMICS.md figures for one scenario, as text or JSON.

The command body is short on purpose: demand comes from a loader function (today the CSV the
scenario names; the database-backed mode plugs in another loader), the numbers come from
``models.economics.contract.simulate`` and the wording from ``format_summary``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import typer

from models.economics.contract import Demand, SimulationResult, simulate as run_contract
from models.scenario_file import Scenario, ScenarioError, load_demand_csv, load_scenario
from models.economics.units import HOURS_PER_MONTH

DemandLoader = Callable[[Scenario], Demand]


def demand_from_scenario_file(scenario: Scenario) -> Demand:
    """Load the demand CSV named by the scenario YAML (relative to the YAML file)."""
    if scenario.demand_path is None:
        raise ScenarioError(f"{scenario.path}: demand: missing (path to the hourly demand CSV)")
    return load_demand_csv(scenario.demand_path)


def usd(amount: float) -> str:
    """Format money like $12,345.67."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def recommendation(result: SimulationResult) -> str:
    """One sentence: stay on tokens, own N replicas and burst, or move entirely to GPUs."""
    n = result.optimal_replicas
    if n == 0:
        return "Stay on tokens: no number of replicas costs less than the API for this workload."
    if n >= result.peak_replicas:
        return (f"Move entirely to owned GPUs: {n} replica{'s' if n != 1 else ''} "
                f"({n * result.replica_gpus} GPUs) serve the peak for less than the API.")
    gpus = n * result.replica_gpus
    return (f"Own {n} replica{'s' if n != 1 else ''} ({gpus} GPU{'s' if gpus != 1 else ''}) "
            "and burst the rest to the API.")


def _replicas(n: int) -> str:
    return f"{n} replica{'s' if n != 1 else ''}"


def format_summary(name: str, result: SimulationResult) -> str:
    """A readable multi-line summary of a simulation, money per file and per 730-hour month."""
    m = result.monthly
    lines = [
        f"Scenario {name}: {result.hours:,} hours of demand (a month is {HOURS_PER_MONTH} hours)",
        f"  GPU cost:          ${result.gpu_hourly_cost:,.4f} per GPU-hour "
        f"({result.replica_gpus} GPU{'s' if result.replica_gpus != 1 else ''} per replica)",
        f"  {'':18} {'this file':>16} {'per month':>16}",
        f"  {'API only':18} {usd(result.api_only_cost):>16} {usd(m(result.api_only_cost)):>16}",
        f"  {'GPU only':18} {usd(result.gpu_only_cost):>16} {usd(m(result.gpu_only_cost)):>16}"
        f"   ({_replicas(result.peak_replicas)} for the peak)",
        f"  {'Best hybrid':18} {usd(result.hybrid_cost):>16} {usd(m(result.hybrid_cost)):>16}"
        f"   ({_replicas(result.optimal_replicas)} + API overflow)",
    ]
    if result.breakeven_utilization is None:
        lines.append("  Breakeven utilization: n/a (no demand or no API cost)")
    else:
        lines.append(f"  Breakeven utilization: {result.breakeven_utilization:.1%} of a replica's hours busy")
    if result.breakeven_demand_multiplier is None:
        lines.append("  First replica pays: never, at any volume with this hourly shape")
    else:
        lines.append(
            f"  First replica pays at {result.breakeven_demand_multiplier:.3g}x today's volume "
            f"= {result.breakeven_monthly_tokens / 1e6:,.1f} M tokens per month"
        )
    lines.append("")
    lines.append(recommendation(result))
    return "\n".join(lines)


def run_scenario(scenario_path: Path, demand_loader: DemandLoader = demand_from_scenario_file
                 ) -> tuple[Scenario, SimulationResult]:
    """Load a scenario, fetch its demand through ``demand_loader`` and simulate it."""
    scenario = load_scenario(scenario_path)
    demand = demand_loader(scenario)
    return scenario, run_contract(demand, scenario.api, scenario.gpu)


def simulate(
    scenario: Path = typer.Argument(..., help="Scenario YAML (its demand CSV path is relative to it)."),
    json_output: bool = typer.Option(False, "--json", help="Print only the contract figures as JSON."),
) -> None:
    """Compare API-only, GPU-only and hybrid cost for a scenario and recommend one."""
    try:
        loaded, result = run_scenario(scenario)
    except ScenarioError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if json_output:
        typer.echo(json.dumps(result.as_contract_dict()))
    else:
        typer.echo(format_summary(loaded.name, result))


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to a Typer app."""
    app.command("simulate")(simulate)
