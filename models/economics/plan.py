"""Contract v2 (ECONOMICS.md, "Planning figures"): ``simulate_plan`` and every output it adds.

A scenario with a ``plan:`` or ``slo:`` block (``PlanningInputs``) is simulated here; without
either, ``models.economics.contract.simulate`` gives the v1 figures and nothing here runs. The
rules: 1 operating point (``plan_inputs.operating_point``), 2 the three parts of every hour and
4 one plan's total (``plan_hours``), 3 and 5 API only, range and optimum (here, with the search
in ``plan_search``), 6 breakeven and 7 class and flip points (here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.economics.contract import (
    PEAK_TOLERANCE,
    TIE_TOLERANCE_USD,
    ApiPricing,
    Demand,
    GpuOption,
    api_cost_per_hour,
    gpu_hourly_cost,
    prepare,
    replica_capacity,
    simulate,
)
from models.economics.plan_hours import (
    HourParts,
    PlanBreakdown,
    Prices,
    api_only_plan,
    fixed_total,
    plan_at,
    split_hours,
)
from models.economics.plan_inputs import OperatingPoint, PlanInputs, PlanningInputs, SloInputs, operating_point
from models.economics.plan_search import SortedHours
from models.economics.units import HOURS_PER_MONTH, SECONDS_PER_HOUR, monthly_to_hourly

FLIP_STEPS_PER_DOUBLING = 24
FLIP_MAX_STEP = 96  # m runs over 2^(-4) .. 2^4
FLIP_KINDS = ("throughput", "api_prices", "gpu_cost", "demand")
DEFAULT_BATCH_DISCOUNT = 0.5  # ApiPricing's default, used when the API cost comes priced per hour
PRICE_EVERY_R_UP_TO = 64  # above this many replicas the optimum is searched (plan_search), not enumerated


def flip_grid() -> list[tuple[int, float]]:
    """Rule 7's grid in the order it is visited: j = -1, +1, -2, +2, ... with m = 2^(j/24)."""
    order = []
    for step in range(1, FLIP_MAX_STEP + 1):
        for j in (-step, step):
            order.append((j, 2.0 ** (j / FLIP_STEPS_PER_DOUBLING)))
    return order


def on_demand_hourly_cost(gpu: GpuOption, plan: PlanInputs | None) -> float | None:
    """``h_od = (on_demand_hourly_rate + ops_per_gpu_month / 730) * replica_gpus``; None without the tier."""
    if plan is None or plan.on_demand_hourly_rate is None:
        return None
    return (plan.on_demand_hourly_rate + monthly_to_hourly(gpu.ops_per_gpu_month)) * gpu.replica_gpus


def breakeven_multiplier_of(cost: np.ndarray, work: np.ndarray, cap: float, target: float) -> float | None:
    """Infimum k > 0 with ``sum_t min(k cost_t, cap cost_t / work_t) > target``; None where no k does.

    The same exact solve as v1's ``breakeven_multiplier``: the sum is concave and piecewise
    linear with a kink where each hour saturates one replica (``k = cap / work_t``).
    """
    busy = work > 0
    order = np.argsort(-work[busy], kind="stable")  # saturation scale cap / W ascending
    w, c = work[busy][order], cost[busy][order]
    if w.size == 0:
        return None
    tau = cap / w
    capped = cap * c / w
    if not float(capped.sum()) > target:
        return None
    if target <= 0:
        return 0.0
    capped_before = np.concatenate(([0.0], np.cumsum(capped)[:-1]))
    growing = np.cumsum(c[::-1])[::-1]
    reached = capped_before + tau * growing >= target
    if not reached.any():
        return float(tau[-1])
    j = int(np.argmax(reached))
    return float((target - capped_before[j]) / growing[j])


@dataclass(frozen=True)
class PlanResult:
    """The v1 output keys under the v2 rules, plus every key v2 adds."""

    hours: int
    api_only_cost: float
    gpu_hourly_cost: float
    peak_replicas: int
    gpu_only_cost: float | None
    optimal_replicas: int
    hybrid_cost: float
    breakeven_utilization: float | None
    breakeven_demand_multiplier: float | None
    breakeven_monthly_tokens: float | None
    slo_met: bool
    operating: OperatingPoint | None
    escalated_cost: float
    fixed_cost: float
    on_demand_replica_hours: int
    on_demand_cost: float
    deferred_local_share: float | None
    api_peak_tokens_per_minute: float
    plan_class: str
    flips: dict[str, float | None] = field(default_factory=dict)
    flip_to: dict[str, str | None] = field(default_factory=dict)  # the class at each flip point
    replica_gpus: int = 1
    lead_time_days: float = 0.0

    @property
    def replica_can_pay(self) -> bool:
        """True when some volume with this hourly shape lets one committed replica pay for itself."""
        return self.breakeven_demand_multiplier is not None

    def monthly(self, total: float) -> float:
        """Scale a total over this file's hours to a 730-hour month."""
        return total * HOURS_PER_MONTH / self.hours if self.hours else 0.0

    def as_contract_dict(self) -> dict[str, Any]:
        """Every v1 and v2 output key of ECONOMICS.md, with JSON-ready types."""
        op = self.operating
        return {
            "hours": int(self.hours),
            "api_only_cost": float(self.api_only_cost),
            "gpu_hourly_cost": float(self.gpu_hourly_cost),
            "peak_replicas": int(self.peak_replicas),
            "gpu_only_cost": _opt(self.gpu_only_cost),
            "optimal_replicas": int(self.optimal_replicas),
            "hybrid_cost": float(self.hybrid_cost),
            "breakeven_utilization": _opt(self.breakeven_utilization),
            "replica_can_pay": bool(self.replica_can_pay),
            "breakeven_demand_multiplier": _opt(self.breakeven_demand_multiplier),
            "breakeven_monthly_tokens": _opt(self.breakeven_monthly_tokens),
            "slo_met": bool(self.slo_met),
            "slo_concurrency": None if op is None else _number(op.concurrency),
            "slo_output_tokens_per_s": None if op is None else _number(op.output_tokens_per_s),
            "slo_input_tokens_per_s": None if op is None else _number(op.input_tokens_per_s),
            "escalated_cost": float(self.escalated_cost),
            "fixed_cost": float(self.fixed_cost),
            "on_demand_replica_hours": int(self.on_demand_replica_hours),
            "on_demand_cost": float(self.on_demand_cost),
            "deferred_local_share": _opt(self.deferred_local_share),
            "api_peak_tokens_per_minute": float(self.api_peak_tokens_per_minute),
            "plan_class": self.plan_class,
            "flips": {kind: _opt(self.flips.get(kind)) for kind in FLIP_KINDS},
        }


def _opt(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


@dataclass(frozen=True)
class _Setup:
    """One scenario laid out for the rules: per-hour parts, prices and the sorted search core."""

    parts: HourParts
    prices: Prices
    sorted_hours: SortedHours
    tokens_total: float


def _priced(demand: Demand, api: ApiPricing | None, inputs: PlanningInputs, api_costs: np.ndarray | None
            ) -> tuple[np.ndarray, float, OperatingPoint | None]:
    """Each hour's ``A_t`` (given, or priced by ``api``), the batch discount and rule 1's operating point."""
    a = api_cost_per_hour(demand, api) if api_costs is None else np.asarray(api_costs, dtype=np.float64)
    batch_discount = api.batch_discount if api is not None else DEFAULT_BATCH_DISCOUNT
    return a, batch_discount, None if inputs.slo is None else operating_point(inputs.slo)


def _setup(demand: Demand, api_cost: np.ndarray, gpu: GpuOption, rates: OperatingPoint | None,
           plan: PlanInputs | None, batch_discount: float) -> _Setup:
    in_rate = gpu.input_tokens_per_s if rates is None else rates.input_tokens_per_s
    out_rate = gpu.output_tokens_per_s if rates is None else rates.output_tokens_per_s
    work = demand.input_tokens / in_rate + demand.output_tokens / out_rate
    parts = split_hours(demand, api_cost, work, plan, batch_discount)
    prices = Prices(cap=replica_capacity(gpu), h_rep=gpu_hourly_cost(gpu) * gpu.replica_gpus,
                    h_od=on_demand_hourly_cost(gpu, plan), fixed_total=fixed_total(plan, demand.hours))
    return _Setup(parts, prices, SortedHours.build(parts), float(parts.tokens.sum()))


def plan_class_of(breakdown: PlanBreakdown, r_max: int) -> str:
    """Rule 7: ``tokens`` (R = 0, no on-demand hour), ``move`` (R = R_max >= 1) or ``hybrid``."""
    if breakdown.replicas == 0:
        return "tokens" if breakdown.on_demand_replica_hours == 0 else "hybrid"
    return "move" if breakdown.replicas == r_max else "hybrid"


_SCALES = {  # what each flip multiplier m multiplies in the search core
    "throughput": lambda m: {"work": 1.0 / m},  # both operating rates times m: every hour's work over m
    "api_prices": lambda m: {"api": m},
    "gpu_cost": lambda m: {"gpu": m},  # h and h_od
    "demand": lambda m: {"work": m, "api": m},  # tokens times m; the peak factors stay
}


def flips_of(sorted_hours: SortedHours, prices: Prices, base_class: str
             ) -> tuple[dict[str, float | None], dict[str, str | None]]:
    """Rule 7: per multiplier, the grid point nearest 1 whose class differs from ``base_class``, and that class."""
    found: dict[str, float | None] = dict.fromkeys(FLIP_KINDS)
    to: dict[str, str | None] = dict.fromkeys(FLIP_KINDS)
    for kind in FLIP_KINDS:
        for _, m in flip_grid():
            klass = sorted_hours.scaled(prices, **_SCALES[kind](m)).plan_class()
            if klass != base_class:
                found[kind], to[kind] = m, klass
                break
    return found, to


def simulate_plan(demand: Demand, api: ApiPricing | None, gpu: GpuOption, inputs: PlanningInputs,
                  api_costs: np.ndarray | None = None, *, with_flips: bool = True) -> PlanResult:
    """Every ECONOMICS.md v1 and v2 output for a scenario with a ``plan:`` and/or ``slo:`` block.

    ``api_costs`` gives each hour's ``A_t`` directly (priced per model from the database); the
    deferrable part then takes the default batch discount unless ``api`` is given.
    """
    plan, slo = inputs.plan, inputs.slo
    a, batch_discount, rates = _priced(demand, api, inputs, api_costs)
    h = gpu_hourly_cost(gpu)
    common = dict(hours=demand.hours, gpu_hourly_cost=h, replica_gpus=gpu.replica_gpus,
                  lead_time_days=0.0 if plan is None else plan.lead_time_days)
    if slo is not None and rates is None:
        parts = split_hours(demand, a, np.zeros(demand.hours), plan, batch_discount)
        return _slo_not_met(parts, common)
    s = _setup(demand, a, gpu, rates, plan, batch_discount)
    parts, prices = s.parts, s.prices
    core = s.sorted_hours.scaled(prices)
    r_max = core.r_max
    if r_max <= PRICE_EVERY_R_UP_TO:  # few enough to price each exactly as rule 4 is written
        plans = [plan_at(parts, prices, r) for r in range(r_max + 1)]
        least = min(p.total for p in plans)
        r_opt = next(r for r, p in enumerate(plans) if p.total <= least + TIE_TOLERANCE_USD)
    else:
        r_opt, _ = core.optimum()
    best = plan_at(parts, prices, r_opt)
    api_only = float(parts.escalated_cost.sum() + parts.interactive_cost.sum() + parts.deferrable_cost.sum())
    # Rule 6: one committed replica against none; no on-demand, deferrable work not shifted.
    loss = parts.interactive_cost + parts.deferrable_cost
    volume = parts.interactive_work + parts.deferrable_work
    target = prices.h_rep * demand.hours + prices.fixed_total
    k = breakeven_multiplier_of(loss, volume, prices.cap, target)
    loss_total, volume_total = float(loss.sum()), float(volume.sum())
    per_hour = prices.h_rep + monthly_to_hourly(plan.fixed_monthly if plan else 0.0)
    utilization = (per_hour / (SECONDS_PER_HOUR * loss_total / volume_total)
                   if volume_total > 0 and loss_total > 0 else None)
    plan_class = plan_class_of(best, r_max)
    flips, flip_to = flips_of(s.sorted_hours, prices, plan_class) if with_flips else ({}, {})
    return PlanResult(
        **common,
        api_only_cost=api_only,
        peak_replicas=r_max,
        gpu_only_cost=r_max * prices.h_rep * demand.hours + float(parts.escalated_cost.sum())
        + (prices.fixed_total if r_max >= 1 else 0.0),
        optimal_replicas=r_opt,
        hybrid_cost=best.total,
        breakeven_utilization=utilization,
        breakeven_demand_multiplier=k,
        breakeven_monthly_tokens=(None if k is None or not demand.hours
                                  else k * s.tokens_total * HOURS_PER_MONTH / demand.hours),
        slo_met=True,
        operating=rates,
        escalated_cost=best.escalated_cost,
        fixed_cost=best.fixed_cost,
        on_demand_replica_hours=best.on_demand_replica_hours,
        on_demand_cost=best.on_demand_cost,
        deferred_local_share=best.deferred_local_share,
        api_peak_tokens_per_minute=best.api_peak_tokens_per_minute,
        plan_class=plan_class,
        flips=flips,
        flip_to=flip_to,
    )


def _lines(demand: Demand, api: ApiPricing | None, gpu: GpuOption, inputs: PlanningInputs, k: np.ndarray,
           api_costs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, _Setup | None]:
    """Monthly API-only and GPU-only cost at demand multipliers ``k`` (rules 3 and 5), and the scenario's setup
    (None where no curve point meets the SLO: GPU-only is then infinite)."""
    a, batch_discount, rates = _priced(demand, api, inputs, api_costs)
    month = HOURS_PER_MONTH / demand.hours
    if inputs.slo is not None and rates is None:
        parts = split_hours(demand, a, np.zeros(demand.hours), inputs.plan, batch_discount)
        api_only = float(parts.escalated_cost.sum() + parts.interactive_cost.sum() + parts.deferrable_cost.sum())
        return k * api_only * month, np.full(k.shape, np.inf), None
    s = _setup(demand, a, gpu, rates, inputs.plan, batch_discount)
    prices, hours = s.prices, s.sorted_hours
    api_only = hours.escalated + hours.interactive + hours.deferrable
    r_max = np.maximum(0.0, np.ceil(k * hours.peak_work / prices.cap - PEAK_TOLERANCE))
    gpu_only = r_max * prices.h_rep * demand.hours + k * hours.escalated + np.where(r_max >= 1, prices.fixed_total, 0)
    return k * api_only * month, gpu_only * month, s


def _monthly_tokens_today(demand: Demand) -> float:
    """Today's tokens per 730-hour month: the volume a demand multiplier of 1 stands for."""
    tokens = float((demand.input_tokens + demand.output_tokens).sum())
    if not demand.hours or tokens <= 0:
        raise ValueError("the demand has no tokens, so it has no shape to scale")
    return tokens * HOURS_PER_MONTH / demand.hours


def plan_cost_lines(demand: Demand, api: ApiPricing | None, gpu: GpuOption, inputs: PlanningInputs,
                    monthly_tokens: np.ndarray, api_costs: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Monthly API-only and GPU-only cost (rules 3 and 5) with every hour scaled to each monthly volume.

    GPU-only is infinite where no curve point meets the SLO (no replica can serve the workload).
    """
    k = np.asarray(monthly_tokens, dtype=np.float64) / _monthly_tokens_today(demand)
    api_only, gpu_only, _ = _lines(demand, api, gpu, inputs, k, api_costs)
    return api_only, gpu_only


def plan_curve(demand: Demand, api: ApiPricing | None, gpu: GpuOption, inputs: PlanningInputs,
               multipliers: np.ndarray, api_costs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The breakeven curve under contract v2: at each demand multiplier k (every hour's tokens times k, the
    peak factors and shares kept), monthly API only and GPU only (rules 3 and 5), the best plan's Total
    (rule 5's optimum, on-demand, deferrable work and the fixed cost included) and its committed replicas.

    GPU only is NaN where no curve point meets the SLO; the best plan is then API only.
    """
    k = np.asarray(multipliers, dtype=np.float64)
    today = _monthly_tokens_today(demand)
    api_only, gpu_only, s = _lines(demand, api, gpu, inputs, k, api_costs)
    hybrid, replicas = api_only.copy(), np.zeros(k.shape, dtype=np.int64)
    if s is not None:
        month = HOURS_PER_MONTH / demand.hours
        for i, x in enumerate(k):
            if x <= 0:
                continue  # no tokens: nothing to serve, nothing to pay (R = 0 has no fixed cost)
            core = s.sorted_hours.scaled(s.prices, work=float(x), api=float(x))  # rule 7's "demand" multiplier
            r, total = core.best()
            hybrid[i], replicas[i] = total * month, r
    return {"monthly_tokens": k * today, "api_only_usd": api_only,
            "gpu_only_usd": np.where(np.isfinite(gpu_only), gpu_only, np.nan), "hybrid_usd": hybrid,
            "hybrid_replicas": replicas}


def _slo_not_met(parts: HourParts, common: dict[str, Any]) -> PlanResult:
    """Rule 1 when no curve point meets the targets: no replica serves this workload."""
    everything = api_only_plan(parts)
    return PlanResult(
        **common,
        api_only_cost=everything.total, peak_replicas=0, gpu_only_cost=None, optimal_replicas=0,
        hybrid_cost=everything.total, breakeven_utilization=None, breakeven_demand_multiplier=None,
        breakeven_monthly_tokens=None, slo_met=False, operating=None, escalated_cost=everything.escalated_cost,
        fixed_cost=0.0, on_demand_replica_hours=0, on_demand_cost=0.0,
        deferred_local_share=everything.deferred_local_share,
        api_peak_tokens_per_minute=everything.api_peak_tokens_per_minute, plan_class="tokens",
        flips=dict.fromkeys(FLIP_KINDS), flip_to=dict.fromkeys(FLIP_KINDS),
    )


def plan_total(demand: Demand, api: ApiPricing | None, gpu: GpuOption, inputs: PlanningInputs | None,
               replicas: int, api_costs: np.ndarray | None = None) -> float | None:
    """``Total(R)`` for exactly ``replicas`` committed replicas: v1's formula without either block, else rule 4
    (on-demand, deferrable work and the fixed cost included); None where no curve point meets the SLO."""
    if inputs is None or inputs.is_v1:
        return float(prepare(demand, api, gpu, api_costs).totals(np.array([float(replicas)]))[0])
    a, batch_discount, rates = _priced(demand, api, inputs, api_costs)
    if inputs.slo is not None and rates is None:
        return None
    s = _setup(demand, a, gpu, rates, inputs.plan, batch_discount)
    return plan_at(s.parts, s.prices, int(replicas)).total


def simulate_any(demand: Demand, api: ApiPricing | None, gpu: GpuOption, inputs: PlanningInputs | None = None,
                 api_costs: np.ndarray | None = None):
    """v1 ``simulate`` when neither block is present, else ``simulate_plan``: the one entry point for both."""
    if inputs is None or inputs.is_v1:
        return simulate(demand, api, gpu, api_costs=api_costs)
    return simulate_plan(demand, api, gpu, inputs, api_costs)


__all__ = ["PlanResult", "SloInputs", "flip_grid", "flips_of", "plan_curve", "plan_total", "simulate_any",
           "simulate_plan"]
