"""Levers: a waterfall from today's monthly API cost through four cheaper moves.

Applied in this order, each to what the previous left, so no dollar is saved twice:
1. cache: serve exact repeats from a response cache (``repeat_share`` of traffic);
2. batch: send the non-interactive share through the batch API (``batch_discount`` off);
3. route: send a share to a cheaper model (``route_price_ratio`` = its price / today's);
4. move: serve base load on owned replicas, sized by the contract's optimum on what is left
   (contract v2's when planning inputs are given: SLO sizing, on-demand, deferrable work, fixed cost).
An input that was not measured (None) gives the status "not measurable" and no saving (None,
never a silent 0); the remaining cost then carries on unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from models.economics.contract import ApiPricing, Demand, GpuOption, api_cost_per_hour
from models.economics.plan import PlanResult, simulate_any
from models.economics.plan_inputs import PlanningInputs
from models.economics.units import HOURS_PER_MONTH

OK, NOT_MEASURABLE = "ok", "not measurable"

ASSUMPTIONS = {
    "cache": "Exact repeats are answered from a response cache at no token cost; the cache's own "
             "running cost is not counted.",
    "batch": "The non-interactive share tolerates the batch API's turnaround and gets the batch "
             "discount; traffic already sent through batch is not discounted twice.",
    "route": "Routed traffic keeps its token mix and the cheaper model's prices are a fixed ratio "
             "of today's for every token kind; quality is judged acceptable.",
    "move": "Replicas are sized by the contract's optimum on the demand left after caching, at the "
            "price mix left after batching and routing (v1: max utilization headroom; v2: the SLO's "
            "operating point for the busiest minutes, with on-demand replicas, deferrable work and the "
            "fixed platform cost); the rest bursts to the API.",
}


@dataclass(frozen=True)
class LeverStep:
    """One bar of the waterfall: what a lever saves per month and what remains after it."""

    lever: str
    status: str
    assumption: str
    saving_usd_month: float | None
    remaining_usd_month: float
    detail: str = ""


@dataclass(frozen=True)
class LeverWaterfall:
    """The waterfall as step records and as a polars frame (with today and after-levers rows)."""

    today_usd_month: float
    steps: list[LeverStep]

    @property
    def after_usd_month(self) -> float:
        """Monthly cost left after every measurable lever."""
        return self.steps[-1].remaining_usd_month if self.steps else self.today_usd_month

    def frame(self) -> pl.DataFrame:
        """Rows: today, each lever in order, after levers; savings null where not measurable."""
        rows = [("today", "total", "", None, self.today_usd_month, "")]
        rows += [(s.lever, s.status, s.assumption, s.saving_usd_month, s.remaining_usd_month, s.detail)
                 for s in self.steps]
        rows.append(("after levers", "total", "", None, self.after_usd_month, ""))
        return pl.DataFrame(rows, orient="row", schema={
            "lever": pl.Utf8, "status": pl.Utf8, "assumption": pl.Utf8,
            "saving_usd_month": pl.Float64, "remaining_usd_month": pl.Float64, "detail": pl.Utf8,
        })


def _share(name: str, value: float | None) -> None:
    if value is not None and not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")


def _step(lever: str, remaining: float, saving: float | None, detail: str = "") -> LeverStep:
    if saving is None:
        return LeverStep(lever, NOT_MEASURABLE, ASSUMPTIONS[lever], None, remaining, detail or "input not measured")
    return LeverStep(lever, OK, ASSUMPTIONS[lever], saving, remaining - saving, detail)


def levers_waterfall(
    demand: Demand,
    api: ApiPricing | None,
    gpu: GpuOption | None,
    *,
    repeat_share: float | None,
    batchable_share: float | None,
    route_share: float | None,
    route_price_ratio: float | None,
    batch_discount: float | None = None,
    api_costs: np.ndarray | None = None,
    planning: PlanningInputs | None = None,
) -> LeverWaterfall:
    """Apply cache, batch, route and move in order to today's monthly API cost.

    ``api_costs`` gives each hour's API cost directly (priced per model, batch traffic already at
    batch prices); then ``api`` may be None and the batch lever uses ``batch_discount`` (default 0.5).
    ``planning`` (contract v2's inputs) sizes the move lever by v2, as the plan it comes from.
    """
    for name, value in (("repeat_share", repeat_share), ("batchable_share", batchable_share),
                        ("route_share", route_share), ("route_price_ratio", route_price_ratio),
                        ("batch_discount", batch_discount)):
        _share(name, value)
    if demand.hours == 0:
        raise ValueError("demand has no hours")
    if api is None and api_costs is None:
        raise ValueError("levers need API prices or each hour's API cost")
    hourly = api_cost_per_hour(demand, api) if api_costs is None else np.asarray(api_costs, dtype=np.float64)
    today = float(hourly.sum()) * HOURS_PER_MONTH / demand.hours
    steps: list[LeverStep] = []
    remaining = today

    saving = None if repeat_share is None else remaining * repeat_share
    steps.append(_step("cache", remaining, saving))
    remaining = steps[-1].remaining_usd_month
    volume_left = 1.0 - (repeat_share or 0.0)

    default_discount = api.batch_discount if api is not None else 0.5
    discount = default_discount if batch_discount is None else batch_discount
    saving = None
    if batchable_share is not None:
        batch_share = api.batch_share if api is not None else 0.0
        already = batch_share * default_discount
        target = max(batchable_share, batch_share) * discount
        saving = remaining * (1.0 - (1.0 - target) / (1.0 - already)) if already < 1 else 0.0
    steps.append(_step("batch", remaining, saving))
    remaining = steps[-1].remaining_usd_month

    saving = None
    if route_share is not None and route_price_ratio is not None:
        saving = remaining * route_share * (1.0 - route_price_ratio)
    steps.append(_step("route", remaining, saving))
    remaining = steps[-1].remaining_usd_month

    if gpu is None:
        steps.append(_step("move", remaining, None, "no GPU option given"))
    else:
        left_demand = demand.scaled(volume_left)
        api_total_left = today * volume_left
        factor = remaining / api_total_left if api_total_left > 0 else 0.0
        moved = (simulate_any(left_demand, api.scaled(factor), gpu, planning) if api_costs is None else
                 simulate_any(left_demand, None, gpu, planning, api_costs=hourly * volume_left * factor))
        hybrid = moved.monthly(moved.hybrid_cost)
        n = moved.optimal_replicas
        rented = moved.on_demand_replica_hours if isinstance(moved, PlanResult) else 0  # v2 rents for busy hours
        detail = (f"{n} replica{'s' if n != 1 else ''} ({n * gpu.replica_gpus} GPUs) carry the base load"
                  if n else "no replica pays at the volume left")
        if rented:
            detail += f"; {rented:,} on-demand replica-hours for the busiest hours"
        steps.append(_step("move", remaining, max(0.0, remaining - hybrid) if n or rented else 0.0, detail))
    return LeverWaterfall(today_usd_month=today, steps=steps)
