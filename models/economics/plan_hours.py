"""Contract v2, rule by rule, on every hour at once: the three parts of an hour and one plan's cost.

``split_hours`` is rule 2 (escalated, interactive and deferrable cost and work of each hour);
``plan_at`` prices a plan with R committed replicas exactly as rule 4 is written (on-demand
replicas hour by hour, deferrable work per UTC day), vectorised over the hours. The optimum
search in ``plan_search`` uses a faster, equivalent form; the figures a user sees come from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.economics.contract import TIE_TOLERANCE_USD, Demand
from models.economics.plan_inputs import PlanInputs, peak_factors
from models.economics.units import HOURS_PER_MONTH

SECONDS_PER_DAY = 86_400


def utc_day_index(hour: np.ndarray) -> np.ndarray:
    """Index 0..D-1 of each hour's UTC date (datetime64 in UTC, or integer hours since 1970-01-01 UTC)."""
    hour = np.asarray(hour)
    if hour.size == 0:
        return np.zeros(0, dtype=np.int64)
    if np.issubdtype(hour.dtype, np.datetime64):
        days = hour.astype("datetime64[D]").astype(np.int64)
    else:
        days = np.floor_divide(hour.astype(np.int64), 24)
    _, index = np.unique(days, return_inverse=True)
    return index.astype(np.int64)


@dataclass(frozen=True)
class HourParts:
    """Rule 2 for every hour: ``E_t``, ``Ai_t``, ``Ad_t``, ``Wi_t``, ``Wd_t``, with tokens, ``p_t`` and UTC day."""

    escalated_cost: np.ndarray  # E_t
    interactive_cost: np.ndarray  # Ai_t
    deferrable_cost: np.ndarray  # Ad_t
    interactive_work: np.ndarray  # Wi_t, replica-seconds, sized for the busiest minute
    deferrable_work: np.ndarray  # Wd_t, replica-seconds
    tokens: np.ndarray  # I_t + O_t
    peak: np.ndarray  # p_t
    day: np.ndarray  # UTC day index of each hour
    escalation_share: float
    deferrable_share: float

    @property
    def hours(self) -> int:
        """Number of hours ``H``."""
        return int(self.tokens.shape[0])

    @property
    def days(self) -> int:
        """Number of UTC days the hours fall on."""
        return int(self.day.max()) + 1 if self.day.size else 0


def split_hours(demand: Demand, api_cost: np.ndarray, work: np.ndarray, plan: PlanInputs | None,
                batch_discount: float) -> HourParts:
    """Rule 2: split each hour's v1 cost ``A_t`` and work ``W_t`` into escalated, interactive and deferrable."""
    e = 0.0 if plan is None else plan.escalation_share
    d = 0.0 if plan is None else plan.deferrable_share
    p = peak_factors(plan, demand.peak_factor, demand.hours)
    return HourParts(
        escalated_cost=e * api_cost,
        interactive_cost=(1 - e) * (1 - d) * api_cost,
        deferrable_cost=(1 - e) * d * api_cost * (1 - batch_discount),
        interactive_work=(1 - e) * (1 - d) * work * p,
        deferrable_work=(1 - e) * d * work,
        tokens=demand.input_tokens + demand.output_tokens,
        peak=p,
        day=utc_day_index(demand.hour),
        escalation_share=e,
        deferrable_share=d,
    )


@dataclass(frozen=True)
class Prices:
    """What capacity costs: ``cap``, ``h_rep``, ``h_od`` (None: no on-demand tier) and ``F`` over the hours."""

    cap: float
    h_rep: float
    h_od: float | None
    fixed_total: float  # F * H / 730


def fixed_total(plan: PlanInputs | None, hours: int) -> float:
    """``F * H / 730``: the fixed platform cost over the file's hours."""
    return 0.0 if plan is None else plan.fixed_monthly * hours / HOURS_PER_MONTH


@dataclass(frozen=True)
class PlanBreakdown:
    """Every term of ``Total(R)`` (rule 4) for one plan, with the counts the outputs report."""

    replicas: int
    committed_cost: float
    escalated_cost: float
    interactive_api_cost: float
    on_demand_replica_hours: int
    on_demand_cost: float
    deferrable_api_cost: float
    deferred_local_share: float | None  # sum g_delta / sum D_delta; None with no deferrable work
    fixed_cost: float
    api_peak_tokens_per_minute: float

    @property
    def total(self) -> float:
        """``Total(R)``."""
        return (self.committed_cost + self.escalated_cost + self.interactive_api_cost + self.on_demand_cost
                + self.deferrable_api_cost + self.fixed_cost)


def _per_day(parts: HourParts, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the hours of each UTC day."""
    return np.bincount(parts.day, weights=values, minlength=parts.days).astype(np.float64)


def _plan(parts: HourParts, prices: Prices, replicas: int, on_demand: bool) -> PlanBreakdown:
    """Rule 4 as written for R replicas; ``on_demand=False`` rents nothing by the hour."""
    cap = prices.cap
    wi = parts.interactive_work
    served_local = replicas * cap
    busy = wi > 0
    wrem = np.maximum(0.0, wi - served_local)
    rate = np.divide(parts.interactive_cost, wi, out=np.zeros_like(wi), where=busy)  # a_t
    if on_demand and prices.h_od is not None:
        h_od = prices.h_od
        pays = busy & (cap * rate > h_od)
        full = np.floor(wrem / cap)
        rest = wrem - full * cap
        extra = pays & (rest * rate > h_od)
        rented = np.where(pays, full + extra, 0.0)
        on_demand_served = np.where(pays, full * cap + np.where(extra, rest, 0.0), 0.0)
    else:
        rented = on_demand_served = np.zeros_like(wi)
    left = wrem - on_demand_served
    interactive_api = np.where(busy, left * rate, 0.0)
    share_left = np.divide(left, wi, out=np.zeros_like(wi), where=busy)
    # Deferrable work: per UTC day, spare committed capacity absorbs it; it never rents by the hour.
    spare = _per_day(parts, np.maximum(0.0, served_local - wi))
    work_day = _per_day(parts, parts.deferrable_work)
    cost_day = _per_day(parts, parts.deferrable_cost)
    served_day = np.minimum(spare, work_day)
    deferrable_api = np.where(work_day > 0, (1 - np.divide(served_day, work_day, out=np.zeros_like(work_day),
                                                            where=work_day > 0)) * cost_day, 0.0)
    hours_rented = int(round(float(rented.sum())))
    e, d = parts.escalation_share, parts.deferrable_share
    api_tokens = (e * parts.tokens + (1 - e) * (1 - d) * parts.tokens * share_left) * parts.peak / 60.0
    uses_gpu = replicas >= 1 or hours_rented > 0
    deferrable_total = float(work_day.sum())
    return PlanBreakdown(
        replicas=replicas,
        committed_cost=replicas * prices.h_rep * parts.hours,
        escalated_cost=float(parts.escalated_cost.sum()),
        interactive_api_cost=float(interactive_api.sum()),
        on_demand_replica_hours=hours_rented,
        on_demand_cost=hours_rented * prices.h_od if hours_rented else 0.0,
        deferrable_api_cost=float(deferrable_api.sum()),
        deferred_local_share=float(served_day.sum()) / deferrable_total if deferrable_total > 0 else None,
        fixed_cost=prices.fixed_total if uses_gpu else 0.0,
        api_peak_tokens_per_minute=float(api_tokens.max()) if api_tokens.size else 0.0,
    )


def plan_at(parts: HourParts, prices: Prices, replicas: int) -> PlanBreakdown:
    """``Total(R)`` with its terms; for R = 0 the cheaper of renting on demand and renting nothing (ties: nothing)."""
    rented = _plan(parts, prices, replicas, on_demand=True)
    if replicas > 0 or prices.h_od is None or rented.on_demand_replica_hours == 0:
        return rented
    nothing = _plan(parts, prices, 0, on_demand=False)
    return rented if rented.total < nothing.total - TIE_TOLERANCE_USD else nothing


def api_only_plan(parts: HourParts) -> PlanBreakdown:
    """No replica serves the workload (rule 1 when no curve point meets the SLO): everything on the API."""
    e, d = parts.escalation_share, parts.deferrable_share
    has_deferrable = d > 0 and float(parts.tokens.sum()) > 0
    api_tokens = (e + (1 - e) * (1 - d)) * parts.tokens * parts.peak / 60.0
    return PlanBreakdown(
        replicas=0, committed_cost=0.0, escalated_cost=float(parts.escalated_cost.sum()),
        interactive_api_cost=float(parts.interactive_cost.sum()), on_demand_replica_hours=0, on_demand_cost=0.0,
        deferrable_api_cost=float(parts.deferrable_cost.sum()),
        deferred_local_share=0.0 if has_deferrable else None,
        fixed_cost=0.0, api_peak_tokens_per_minute=float(api_tokens.max()) if api_tokens.size else 0.0,
    )
