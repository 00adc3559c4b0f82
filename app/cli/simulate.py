"""``hybridcost simulate``: the ECONOMICS.md figures for one scenario, as text or JSON.

With a scenario file, demand comes from the CSV it names and the numbers from
``models.economics.contract.simulate``. With ``--workload`` the numbers come from the planning
path (``models.planning.plan_workload``), the same figures every other surface shows; the
workload's plan is the scenario, and a file, when given, replaces its GPU side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import typer
import yaml

from app.cli import context
from app.cli.dates import utc_window
from app.cli.errors import UserError
from app.cli.plan import summary_lines
from models import clock
from models.economics.contract import Demand, OutOfRangeError, SimulationResult
from models.economics.flips import flip_sentence
from models.economics.plan import PlanResult, simulate_any
from models.economics.units import HOURS_PER_MONTH
from models.planning import PlanFigures, plan_workload
from models.queries.reference import workload_exists
from models.scenario_file import Scenario, ScenarioError, load_demand_csv, load_scenario
from models.scenario_store import save_scenario as store

DemandLoader = Callable[[Scenario], Demand]


def demand_from_scenario_file(scenario: Scenario) -> Demand:
    """Load the demand CSV named by the scenario YAML (relative to the YAML file)."""
    if scenario.demand_path is None:
        raise ScenarioError(f"{scenario.path}: demand: missing (path to the hourly demand CSV)")
    return load_demand_csv(scenario.demand_path, peak_factor=scenario.plan is not None)


def usd(amount: float) -> str:
    """Format money like $12,345.67."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def recommendation(result: SimulationResult | PlanResult) -> str:
    """One sentence: stay on tokens, own N replicas and burst, or move entirely to GPUs."""
    n = result.optimal_replicas
    if isinstance(result, PlanResult):
        if not result.slo_met:
            return "Stay on tokens: no point of the SLO curve meets both latency targets, so no replica can serve it."
        if n == 0 and result.on_demand_replica_hours:
            return (f"Rent replicas by the hour ({_od_hours(result.on_demand_replica_hours)}) "
                    "for the busiest hours and keep the rest on the API.")
        if 0 < n < result.peak_replicas and result.on_demand_replica_hours:
            gpus = n * result.replica_gpus
            return (f"Own {_replicas(n)} ({gpus} GPU{'s' if gpus != 1 else ''}), rent "
                    f"{_od_hours(result.on_demand_replica_hours)} for the busiest hours "
                    "and send the rest to the API.")
    if n == 0:
        return "Stay on tokens: no number of replicas costs less than the API for this workload."
    if n >= result.peak_replicas:
        gpus = n * result.replica_gpus
        return (f"Move entirely to owned GPUs: {n} replica{'s' if n != 1 else ''} "
                f"({gpus} GPU{'s' if gpus != 1 else ''}) serve the peak for less than the API.")
    gpus = n * result.replica_gpus
    return (f"Own {n} replica{'s' if n != 1 else ''} ({gpus} GPU{'s' if gpus != 1 else ''}) "
            "and burst the rest to the API.")


def _replicas(n: int) -> str:
    return f"{n} replica{'s' if n != 1 else ''}"


def _od_hours(n: int) -> str:
    return f"{n:,} on-demand replica-hour{'s' if n != 1 else ''}"


def _plan_lines(result: PlanResult) -> list[str]:
    """The contract v2 figures of a summary: operating point, escalation, fixed and on-demand cost, flips."""
    m = result.monthly
    op = result.operating
    lines = [
        "  Operating point:   " + ("gpu block rates (no slo block)" if op is None and result.slo_met else
                                   "none meets the SLO" if op is None else
                                   f"concurrency {op.concurrency:g}: {op.output_tokens_per_s:,.0f} output and "
                                   f"{op.input_tokens_per_s:,.0f} input tok/s per replica"),
        f"  {'Escalated (API)':18} {usd(result.escalated_cost):>16} {usd(m(result.escalated_cost)):>16}",
        f"  {'Fixed platform':18} {usd(result.fixed_cost):>16} {usd(m(result.fixed_cost)):>16}",
        f"  {'On-demand':18} {usd(result.on_demand_cost):>16} {usd(m(result.on_demand_cost)):>16}"
        f"   ({result.on_demand_replica_hours:,} replica-hour{'s' if result.on_demand_replica_hours != 1 else ''})",
    ]
    if result.deferred_local_share is not None:
        lines.append(f"  Deferrable work served locally: {result.deferred_local_share:.1%}")
    lines.append(f"  API peak: {result.api_peak_tokens_per_minute:,.0f} tokens per minute; plan: {result.plan_class}")
    lines.append("  " + flip_sentence(result.flips, result.plan_class, result.flip_to))
    return lines


def format_summary(name: str, result: SimulationResult | PlanResult, *, kind: str = "Scenario",
                   advice: bool = True) -> str:
    """A readable multi-line summary of a simulation, money per file and per 730-hour month."""
    m = result.monthly
    lines = [
        f"{kind} {name}: {result.hours:,} hours of demand (a month is {HOURS_PER_MONTH} hours)",
        f"  GPU cost:          ${result.gpu_hourly_cost:,.4f} per GPU-hour "
        f"({result.replica_gpus} GPU{'s' if result.replica_gpus != 1 else ''} per replica)",
        f"  {'':18} {'these hours':>16} {'per month':>16}",
        f"  {'API only':18} {usd(result.api_only_cost):>16} {usd(m(result.api_only_cost)):>16}",
        f"  {'GPU only':18} {'n/a':>16} {'n/a':>16}   (no replica meets the SLO)" if result.gpu_only_cost is None else
        f"  {'GPU only':18} {usd(result.gpu_only_cost):>16} {usd(m(result.gpu_only_cost)):>16}"
        f"   ({_replicas(result.peak_replicas)} for the peak)",
        f"  {'Best hybrid':18} {usd(result.hybrid_cost):>16} {usd(m(result.hybrid_cost)):>16}"
        f"   ({_replicas(result.optimal_replicas)} + API overflow)",
    ]
    if result.breakeven_utilization is None:
        why = "no replica meets the SLO" if isinstance(result, PlanResult) and not result.slo_met \
            else "no demand or no API cost"
        lines.append(f"  Breakeven utilization: n/a ({why})")
    else:
        lines.append(f"  Breakeven utilization: {result.breakeven_utilization:.1%} of a replica's hours busy")
    if result.breakeven_demand_multiplier is None:
        lines.append("  First replica pays: never, at any volume with this hourly shape")
    else:
        lines.append(
            f"  First replica pays at {result.breakeven_demand_multiplier:.3g}x today's volume "
            f"= {result.breakeven_monthly_tokens / 1e6:,.1f} M tokens per month"
        )
    if isinstance(result, PlanResult):
        lines.extend(_plan_lines(result))
    if advice:
        lines += ["", recommendation(result)]
    return "\n".join(lines)


def run_scenario(scenario_path: Path, demand_loader: DemandLoader = demand_from_scenario_file
                 ) -> tuple[Scenario, SimulationResult | PlanResult]:
    """Load a scenario, fetch its demand through ``demand_loader`` and simulate it (v2 with a plan or slo block)."""
    scenario = load_scenario(scenario_path)
    demand = demand_loader(scenario)
    return scenario, simulate_any(demand, scenario.api, scenario.gpu, scenario.planning)


def simulate_workload(scenario: Scenario | None, workload: str, since: str | None, until: str | None) -> PlanFigures:
    """The planning path for a workload from the database; a scenario file, when given, replaces its candidate."""
    with context.engine().connect() as conn:
        if not workload_exists(conn, workload):
            raise UserError(f"workload {workload!r} is unknown: it has no usage between the dates given "
                            "(see hybridcost spend --by workload)")
    start, end = utc_window(since, until)
    with context.engine().connect() as conn:
        figures = plan_workload(conn, workload, start, end, now=clock.now(),
                                gpu=scenario.gpu if scenario else None,
                                gpu_label=f"scenario {scenario.name!r}" if scenario else "")
    if figures.status in ("no hours", "no demand"):
        raise UserError(f"workload {workload!r} has no usage between {start:%Y-%m-%d} and {end:%Y-%m-%d}")
    if figures.status != "assessed":
        raise UserError(figures.message)
    if figures.result is None:
        raise UserError(f"{workload} has no self-hosted candidate ({figures.candidate.reason}); set one with "
                        "`hybridcost plan set` or pass a scenario file with a gpu section")
    typer.echo(f"Demand and API cost of {workload!r} from the database, {start:%Y-%m-%d} to {figures.until:%Y-%m-%d %H:%M} "
               "UTC: each hour priced per model at the prices then in effect"
               + ("; the scenario file gives the GPU side, the scenario's API prices were not used" if scenario
                  else f"; the GPU side is the workload's plan: {figures.candidate.label} ({figures.candidate.marker})")
               + (f"; {figures.unpriced_rows} unpriced usage rows add no API cost" if figures.unpriced_rows else "")
               + ".", err=True)
    return figures


def save_scenario(scenario_path: Path, name: str) -> None:
    """Store the scenario YAML (as JSON) under its name, replacing an earlier one."""
    with context.engine().begin() as conn:
        store(conn, name, yaml.safe_load(scenario_path.read_text()))
    typer.echo(f"scenario {name!r} saved", err=True)


def simulate(
    scenario: Path = typer.Argument(None, help="Scenario YAML (its demand CSV path is relative to it); with "
                                               "--workload optional: the workload's plan is the scenario."),
    json_output: bool = typer.Option(False, "--json", help="Print only the figures as JSON."),
    workload: str = typer.Option(None, "--workload", help="Take demand and API cost of this workload from the "
                                                          "database; its plan gives the GPU side unless a "
                                                          "scenario file is given."),
    since: str = typer.Option(None, "--since", help="With --workload: first UTC day (default: 30 days back)."),
    until: str = typer.Option(None, "--until", help="With --workload: last UTC day, included (default: today)."),
    save: bool = typer.Option(False, "--save", help="Store the scenario in the database under its name."),
) -> None:
    """Compare API-only, GPU-only and hybrid cost for a scenario (or a workload's plan) and recommend one."""
    if scenario is None and not workload:
        raise UserError("give a scenario YAML, or --workload NAME to use the workload's plan")
    try:
        if workload:
            loaded = load_scenario(scenario, require_api=False) if scenario else None
            figures = simulate_workload(loaded, workload, since, until)
            result = figures.result
        else:
            loaded, result = run_scenario(scenario)
    except ScenarioError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except OutOfRangeError as exc:
        raise UserError(str(exc)) from None
    if save and loaded is not None:
        save_scenario(scenario, loaded.name)
    if workload:
        if json_output:
            typer.echo(json.dumps({**result.as_contract_dict(), **figures.as_dict()}, allow_nan=False))
        else:
            typer.echo(format_summary(workload, result, kind="Workload", advice=False) + "\n"
                       + "\n".join(summary_lines(figures)[1:]))
        return
    if json_output:
        typer.echo(json.dumps(result.as_contract_dict(), allow_nan=False))
    else:
        typer.echo(format_summary(loaded.name, result))


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to a Typer app."""
    app.command("simulate")(simulate)
