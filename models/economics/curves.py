"""Breakeven curve: monthly cost against monthly tokens for the workload's own hourly shape.

Every point scales all hours by one factor ``k`` (the shape is kept, the volume moves) and
evaluates the contract at that volume: API only is a straight line, GPU only is a staircase
(``R_peak(k)`` whole replicas) and the hybrid is the best ``Total(R)`` over
``R in 0..R_peak(k)``, the lower envelope of the two. The best R of every point comes from
``best_replicas`` (a bisection per point, all points at once), so memory grows with the
number of points, never with the replica count.

With contract v2's inputs (a ``plan:`` or ``slo:`` block) ``cost_curve`` draws the same three
lines by v2's rules (``plan.plan_curve``): replicas sized at the SLO's operating point for the
busiest minutes, escalated tokens, on-demand replicas, deferrable work and the fixed cost in
every figure, so the curve agrees with the plan's own breakeven and optimum.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.economics.contract import (
    ApiPricing,
    Demand,
    GpuOption,
    PreparedWorkload,
    best_replicas,
    breakeven_multiplier,
    prepare,
)
from models.economics.plan import plan_curve, simulate_plan
from models.economics.plan_inputs import PlanningInputs
from models.economics.units import HOURS_PER_MONTH

DEFAULT_POINTS = 200
CURVE_COLUMNS = ["monthly_tokens", "api_only_usd", "gpu_only_usd", "hybrid_usd", "hybrid_replicas"]


def reach_of(breakeven: float | None) -> float:
    """Right end of the curve for a breakeven multiplier: 3x today's volume, or 2x breakeven if that is further."""
    return max(3.0, 2.0 * breakeven) if breakeven is not None else 3.0


def default_max_multiplier(prep: PreparedWorkload) -> float:
    """Right end of the v1 curve: 3x today's volume, or 2x the breakeven volume if that is further."""
    return reach_of(breakeven_multiplier(prep))


def curve_from_prepared(prep: PreparedWorkload, multipliers: np.ndarray) -> pl.DataFrame:
    """Monthly API-only, GPU-only and hybrid cost at each demand multiplier."""
    k = np.asarray(multipliers, dtype=np.float64)
    scale = HOURS_PER_MONTH / prep.hours if prep.hours else 0.0
    peaks = np.array([prep.peak(float(x)) for x in k], dtype=np.float64)
    hybrid_r, best = best_replicas(prep, k) if k.size else (np.zeros(0, np.int64), np.zeros(0))
    return pl.DataFrame(
        {
            "monthly_tokens": k * prep.tokens_total * scale,
            "api_only_usd": k * prep.api_total * scale,
            "gpu_only_usd": peaks * prep.h_rep * HOURS_PER_MONTH,
            "hybrid_usd": best * scale,
            "hybrid_replicas": hybrid_r.astype(np.int64),
        }
    )


def breakeven_curve(
    demand: Demand,
    api: ApiPricing,
    gpu: GpuOption,
    points: int = DEFAULT_POINTS,
    max_multiplier: float | None = None,
) -> pl.DataFrame:
    """Cost curve over ``points`` volumes from zero to ``max_multiplier`` x today's volume."""
    prep = prepare(demand, api, gpu)
    k_max = default_max_multiplier(prep) if max_multiplier is None else max_multiplier
    return curve_from_prepared(prep, np.linspace(0.0, k_max, points))


def costs_at_monthly_tokens(prep: PreparedWorkload, monthly_tokens: np.ndarray) -> pl.DataFrame:
    """Curve rows at given monthly token volumes (used by the forecast's move dates)."""
    per_month_today = prep.tokens_total * HOURS_PER_MONTH / prep.hours if prep.hours else 0.0
    if per_month_today <= 0:
        raise ValueError("the demand has no tokens, so it has no shape to scale")
    return curve_from_prepared(prep, np.asarray(monthly_tokens, dtype=np.float64) / per_month_today)


def cost_curve(demand: Demand, gpu: GpuOption, inputs: PlanningInputs | None, api_costs: np.ndarray,
               points: int = DEFAULT_POINTS, reach: float | None = None) -> pl.DataFrame:
    """The curve by the contract the scenario runs (v1 without v2 inputs, else v2) from zero to ``reach`` x today.

    ``reach`` None: ``reach_of`` the same contract's breakeven multiplier. GPU only is null where no
    replica meets the SLO.
    """
    if inputs is None or inputs.is_v1:
        prep = prepare(demand, None, gpu, api_costs)
        return curve_from_prepared(prep, np.linspace(0.0, default_max_multiplier(prep) if reach is None else reach,
                                                      points))
    if reach is None:
        reach = reach_of(simulate_plan(demand, None, gpu, inputs, api_costs, with_flips=False)
                         .breakeven_demand_multiplier)
    lines = plan_curve(demand, None, gpu, inputs, np.linspace(0.0, reach, points), api_costs)
    return pl.DataFrame(lines).with_columns(pl.col("gpu_only_usd").fill_nan(None))
