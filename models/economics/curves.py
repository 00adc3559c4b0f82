"""Breakeven curve: monthly cost against monthly tokens for the workload's own hourly shape.

Every point scales all hours by one factor ``k`` (the shape is kept, the volume moves) and
evaluates the contract at that volume: API only is a straight line, GPU only is a staircase
(``R_peak(k)`` whole replicas) and the hybrid is the best ``Total(R)`` over
``R in 0..R_peak(k)``, the lower envelope of the two. The best R of every point comes from
``best_replicas`` (a bisection per point, all points at once), so memory grows with the
number of points, never with the replica count.
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
from models.economics.units import HOURS_PER_MONTH

DEFAULT_POINTS = 200
CURVE_COLUMNS = ["monthly_tokens", "api_only_usd", "gpu_only_usd", "hybrid_usd", "hybrid_replicas"]


def default_max_multiplier(prep: PreparedWorkload) -> float:
    """Right end of the curve: 3x today's volume, or 2x the breakeven volume if that is further."""
    k = breakeven_multiplier(prep)
    return max(3.0, 2.0 * k) if k is not None else 3.0


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
