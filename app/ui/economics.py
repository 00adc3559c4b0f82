"""Cached wrappers of the planning path for the pages: they lay out what `models.planning` computed.

Nothing here re-derives a figure: `plan` is `models.planning.plan_workload` for the page's date
range and the current hour (passed in, never read inside a cached function), and the curve,
payback, levers and What-if results are computed on the same hours, prices and candidate.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from app.ui import data
from models.economics.buy_vs_rent import buy_vs_rent as payback_of
from models.economics.contract import (
    ApiPricing,
    Demand,
    GpuOption,
    OutOfRangeError,
    api_cost_per_hour,
)
from models.economics.curves import cost_curve, reach_of
from models.economics.levers import levers_waterfall
from models.economics.plan import plan_total, simulate_any
from models.economics.plan_inputs import PlanningInputs
from models.planning import PlanFigures, plan_workload
from models.planning.fleet import fleet_plan_rows, fleet_plans
from models.planning.plans import Plan, clear_plan, set_plan
from models.planning.whatif import V2Controls, starting_controls, whatif_planning

MAX_CURVE_REACH = 6.0  # the curve runs at most to 6x today's volume, so one wild forecast cannot flatten it


# What the planning path reads: a write to any of these makes a cached plan stale.
PLANNING = data.TOKENS + data.GPU + ("workload_plans", "request_discipline_hourly")  # batch candidates: v2 input


@data.keyed_to(PLANNING, spinner="Planning: demand, prices and the candidate…")
def plan(workload: str, since: datetime, until: datetime, now: datetime) -> PlanFigures:
    """The planning path's figures for one workload over the page's range (as `simulate --workload`)."""
    with data.engine().connect() as conn:
        return plan_workload(conn, workload, since, until, now=now)


@data.keyed_to(PLANNING, spinner=False)
def curve(workload: str, since: datetime, until: datetime, now: datetime,
          reach_monthly_tokens: float | None = None) -> pl.DataFrame:
    """Monthly cost of API only, GPU only and the best hybrid against monthly tokens, by the plan's own contract."""
    figures = plan(workload, since, until, now)
    if figures.result is None:
        return pl.DataFrame()
    k_max = reach_of(figures.result.breakeven_demand_multiplier)
    today = figures.monthly_tokens or 0.0
    if reach_monthly_tokens and today > 0:
        k_max = max(k_max, min(MAX_CURVE_REACH, 1.1 * reach_monthly_tokens / today))
    return figures.curve(k_max)


@data.keyed_to(PLANNING, spinner=False)
def payback(workload: str, since: datetime, until: datetime, now: datetime) -> dict | None:
    """Buying the plan's candidate against tokens and against renting it, on the plan's hours; None without both."""
    figures = plan(workload, since, until, now)
    c = figures.candidate
    options = {g.pricing: g for g in (c.gpu, c.other_pricing) if g is not None}
    if figures.result is None or set(options) != {"buy", "rent"}:
        return None
    return payback_of(figures.demand(), None, options["buy"], options["rent"], api_costs=figures.api_costs(),
                      self_hosted_model=c.label).as_dict()


@data.keyed_to(PLANNING, spinner="Fleet: planning the workloads its GPUs serve…")
def fleet_plan_table(since: datetime, until: datetime, now: datetime) -> pl.DataFrame:
    """Per workload served on its own GPUs: the plan beside the measurement (the same rows as `hybridcost fleet`)."""
    with data.engine().connect() as conn:
        return fleet_plan_rows(fleet_plans(conn, since, until, now=now))


def monthly(result: dict[str, Any], total: float) -> float:
    """A total over the demand's H hours as USD per month (x 730 / H)."""
    return total * 730 / result["hours"] if result["hours"] else 0.0


def recommendation(result: dict[str, Any]) -> str:
    """What-if's answer in one sentence: stay on tokens, go hybrid with N replicas, or move fully, with the saving."""
    api_m, hybrid_m, gpu_m = (monthly(result, result[k]) for k in ("api_only_cost", "hybrid_cost", "gpu_only_cost"))
    n, gpus = result["optimal_replicas"], result["optimal_replicas"] * result["replica_gpus"]
    if n == 0:
        where = ("" if result["breakeven_monthly_tokens"] is None else
                 f" until volume reaches {result['breakeven_monthly_tokens'] / 1e6:,.0f}M tokens/month")
        return f"Stay on token APIs{where}: no GPU replica pays at this volume (API only ${api_m:,.0f}/month)."
    if n >= result["peak_replicas"]:
        return (f"Move fully to {n:,} replica(s) ({gpus:,} GPUs): ${gpu_m:,.0f}/month "
                f"vs ${api_m:,.0f}/month on tokens (saves ${api_m - gpu_m:,.0f}/month).")
    return (f"Go hybrid: {n:,} replica(s) ({gpus:,} GPUs) for the base load, burst the rest to the API: "
            f"${hybrid_m:,.0f}/month vs ${api_m:,.0f}/month on tokens (saves ${api_m - hybrid_m:,.0f}/month).")


@data.keyed_to(PLANNING, spinner=False)
def whatif(workload: str | None, since: datetime, until: datetime, now: datetime, gpu: dict[str, Any],
           price_scale: float, demand_factor: float, api: dict[str, float] | None = None,
           synthetic: pl.DataFrame | None = None, v2: dict[str, Any] | None = None) -> dict[str, Any]:
    """The contract on the plan's hours (or a synthetic shape), with What-if's GPU option, price and demand scale.

    ``v2`` holds What-if's contract v2 controls (``V2Controls.as_dict``); None means the plan's own
    v2 inputs. With every control at its starting value this is the plan's own result: the same
    demand, per-hour prices, candidate and v2 inputs. Returns the contract outputs, or {"error": one line}.
    """
    try:
        option = GpuOption(**gpu)
        demand, costs = _whatif_inputs(workload, since, until, now, price_scale, demand_factor, api, synthetic)
        planning = _whatif_planning(workload, since, until, now, option, v2)
        result = simulate_any(demand, None, option, planning, api_costs=costs)
    except (OutOfRangeError, ValueError, TypeError) as exc:  # TypeError: a saved scenario's v2 keys are not ours
        return {"error": str(exc).splitlines()[0]}
    return {**result.as_contract_dict(), "replica_gpus": option.replica_gpus,
            "contract_version": "v1" if planning is None else "v2"}


def whatif_start(workload: str, since: datetime, until: datetime, now: datetime) -> V2Controls:
    """What-if's v2 controls at the plan's values (measured where measured) for one workload and period."""
    return starting_controls(plan(workload, since, until, now))


def _whatif_planning(workload: str | None, since: datetime, until: datetime, now: datetime, option: GpuOption,
                     v2: dict[str, Any] | None) -> PlanningInputs | None:
    """The v2 inputs for What-if's controls; its throughput controls scale the SLO curve by control / plan's rate."""
    if workload is None:
        return None
    figures = plan(workload, since, until, now)
    gpu = figures.candidate.gpu
    ratio = option.output_tokens_per_s / gpu.output_tokens_per_s if gpu is not None else 1.0
    return whatif_planning(figures, None if v2 is None else V2Controls(**v2), ratio)


def _whatif_inputs(workload: str | None, since: datetime, until: datetime, now: datetime, price_scale: float,
                   demand_factor: float, api: dict[str, float] | None, synthetic: pl.DataFrame | None
                   ) -> tuple[Demand, np.ndarray]:
    """Demand and per-hour API cost for What-if: the plan's (scaled) or a synthetic shape priced by `api`."""
    if workload is not None:
        figures = plan(workload, since, until, now)
        return figures.demand().scaled(demand_factor), figures.api_costs() * price_scale * demand_factor
    demand = Demand.from_arrays(synthetic["input_tokens"].to_numpy(), synthetic["cached_input_tokens"].to_numpy(),
                                synthetic["output_tokens"].to_numpy()).scaled(demand_factor)
    return demand, api_cost_per_hour(demand, ApiPricing(**api)) * price_scale


@data.keyed_to(PLANNING, spinner=False)
def whatif_curve(workload: str | None, since: datetime, until: datetime, now: datetime, gpu: dict[str, Any],
                 price_scale: float, demand_factor: float, api: dict[str, float] | None = None,
                 synthetic: pl.DataFrame | None = None, v2: dict[str, Any] | None = None) -> pl.DataFrame:
    """The breakeven curve for What-if's inputs by the contract its other figures use (empty when out of range)."""
    try:
        option = GpuOption(**gpu)
        demand, costs = _whatif_inputs(workload, since, until, now, price_scale, demand_factor, api, synthetic)
        return cost_curve(demand, option, _whatif_planning(workload, since, until, now, option, v2), costs)
    except (OutOfRangeError, ValueError):
        return pl.DataFrame()


@data.keyed_to(PLANNING, spinner=False)
def whatif_total(workload: str | None, since: datetime, until: datetime, now: datetime, gpu: dict[str, Any],
                 price_scale: float, demand_factor: float, replicas: int, api: dict[str, float] | None = None,
                 synthetic: pl.DataFrame | None = None, v2: dict[str, Any] | None = None) -> float | None:
    """Monthly cost (USD) with exactly `replicas` committed replicas: Total(R) x 730 / H, by the contract
    What-if's other figures use (v2 with the v2 controls: on-demand, deferrable work and fixed cost included)."""
    try:
        option = GpuOption(**gpu)
        demand, costs = _whatif_inputs(workload, since, until, now, price_scale, demand_factor, api, synthetic)
        total = plan_total(demand, None, option, _whatif_planning(workload, since, until, now, option, v2),
                           int(replicas), api_costs=costs)
    except (OutOfRangeError, ValueError):
        return None
    return total * 730 / demand.hours if total is not None and demand.hours and np.isfinite(total) else None


@data.keyed_to(PLANNING, spinner=False)
def whatif_levers(workload: str | None, since: datetime, until: datetime, now: datetime, gpu: dict[str, Any],
                  price_scale: float, demand_factor: float, shares: dict[str, float | None],
                  api: dict[str, float] | None = None, synthetic: pl.DataFrame | None = None,
                  v2: dict[str, Any] | None = None) -> pl.DataFrame:
    """The cost waterfall (cache, batch, route, move) on What-if's inputs, in USD per month, the move lever by
    the contract What-if's other figures use."""
    try:
        option = GpuOption(**gpu)
        demand, costs = _whatif_inputs(workload, since, until, now, price_scale, demand_factor, api, synthetic)
        return levers_waterfall(demand, None, option, api_costs=costs,
                                planning=_whatif_planning(workload, since, until, now, option, v2), **shares).frame()
    except (OutOfRangeError, ValueError):
        return pl.DataFrame()


@data.keyed_to(PLANNING + ("scenarios",), spinner=False)
def scenario_costs(workload: str | None, since: datetime, until: datetime, now: datetime, price_scale: float,
                   demand_factor: float, bodies: dict[str, str], api: dict[str, float] | None = None,
                   synthetic: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per saved scenario (name -> JSON body): API-only, GPU-only and hybrid USD/month on What-if's demand, with
    the scenario's saved v2 controls where it has them (else the plan's v2 inputs)."""
    rows = []
    for name, text in bodies.items():
        body = json.loads(text)
        gpu = body.get("gpu") if isinstance(body, dict) else None
        saved_v2 = body.get("v2") if isinstance(body, dict) and isinstance(body.get("v2"), dict) else None
        result = whatif(workload, since, until, now, gpu, price_scale, demand_factor, api, synthetic,
                        saved_v2 if workload is not None else None) \
            if isinstance(gpu, dict) else {"error": "no gpu section"}
        if "error" in result:
            rows.append({"scenario": name, "api_only_usd_month": None, "gpu_only_usd_month": None,
                         "hybrid_usd_month": None, "optimal_replicas": None,
                         "note": f"not comparable: {result['error']}"[:120]})
            continue
        rows.append({"scenario": name, "api_only_usd_month": monthly(result, result["api_only_cost"]),
                     "gpu_only_usd_month": monthly(result, result["gpu_only_cost"]),
                     "hybrid_usd_month": monthly(result, result["hybrid_cost"]),
                     "optimal_replicas": result["optimal_replicas"], "note": ""})
    return pl.DataFrame(rows, schema={"scenario": pl.String, "api_only_usd_month": pl.Float64,
                                      "gpu_only_usd_month": pl.Float64, "hybrid_usd_month": pl.Float64,
                                      "optimal_replicas": pl.Int64, "note": pl.String})


def save_plan(new: Plan, actor: str | None) -> Plan:
    """Save a workload's plan through the writer engine (editors only; audited), then forget cached figures."""
    stored = set_plan(data.writer_engine(), new, actor=actor)
    data.clear()
    return stored


def remove_plan(workload: str, actor: str | None) -> bool:
    """Remove a workload's plan through the writer engine (editors only; audited), then forget cached figures."""
    removed = clear_plan(data.writer_engine(), workload, actor=actor)
    data.clear()
    return removed
