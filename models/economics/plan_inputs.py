"""Typed inputs of contract v2 (ECONOMICS.md, "Planning figures"): the plan and the SLO.

These are the values the engine needs, whoever fills them: ``models.scenario_file`` reads them
from the optional ``plan:`` and ``slo:`` blocks of a scenario YAML; the planning path fills
them from the database (peak factors from request logs, the curve from vLLM metrics, the
deferrable share from batch candidates). Each model validates its own bounds, so a value that
would become money is never out of range. Every default is the value at which the rule it feeds
reduces to v1.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

SLO_POINT_KEYS = ("concurrency", "input_tokens_per_s", "output_tokens_per_s", "p95_itl_ms", "p95_ttft_ms")


class PlanInputs(BaseModel):
    """The ``plan:`` block: escalation, busiest minute, deferrable work, fixed cost, on-demand, lead time."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    escalation_share: float = Field(default=0.0, ge=0, lt=1,
                                    description="share of every hour's demand that stays on the API (quality)")
    peak_factor: float = Field(default=1.0, ge=1,
                               description="busiest minute of an hour over its mean minute (hours without "
                                           "their own factor)")
    deferrable_share: float = Field(default=0.0, ge=0, le=1,
                                    description="share of every hour's demand that may run at any time of its UTC day")
    fixed_monthly: float = Field(default=0.0, ge=0,
                                 description="USD per 730-hour month for the platform while any GPU is used")
    on_demand_hourly_rate: float | None = Field(default=None, gt=0,
                                                description="USD per GPU-hour for replicas rented by the hour; "
                                                            "None: no on-demand tier")
    lead_time_days: float = Field(default=0.0, ge=0, description="days from decision to serving (move date only)")


class SloPoint(BaseModel):
    """One point of a throughput/latency curve, per replica at the workload's request shape."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    concurrency: float = Field(gt=0)
    input_tokens_per_s: float = Field(gt=0)
    output_tokens_per_s: float = Field(gt=0)
    p95_itl_ms: float = Field(gt=0)
    p95_ttft_ms: float = Field(gt=0)


class SloInputs(BaseModel):
    """The ``slo:`` block: p95 latency targets and the curve the operating point is picked from."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    p95_itl_ms: float = Field(gt=0, description="target p95 inter-token latency, milliseconds")
    p95_ttft_ms: float = Field(gt=0, description="target p95 time to first token, milliseconds")
    curve: tuple[SloPoint, ...] = Field(min_length=1)


class OperatingPoint(BaseModel):
    """The curve point a replica is planned at (rule 1)."""

    model_config = ConfigDict(frozen=True)

    concurrency: float
    input_tokens_per_s: float
    output_tokens_per_s: float


def operating_point(slo: SloInputs) -> OperatingPoint | None:
    """Rule 1: the fastest output rate among points within both targets (ties: lower concurrency); None if none."""
    best: SloPoint | None = None
    for point in slo.curve:
        if point.p95_itl_ms > slo.p95_itl_ms or point.p95_ttft_ms > slo.p95_ttft_ms:
            continue
        if best is None or point.output_tokens_per_s > best.output_tokens_per_s or (
                point.output_tokens_per_s == best.output_tokens_per_s and point.concurrency < best.concurrency):
            best = point
    if best is None:
        return None
    return OperatingPoint(concurrency=best.concurrency, input_tokens_per_s=best.input_tokens_per_s,
                          output_tokens_per_s=best.output_tokens_per_s)


class PlanningInputs(BaseModel):
    """Everything v2 adds to a v1 scenario; ``plan`` and ``slo`` None means that block is absent."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    plan: PlanInputs | None = None
    slo: SloInputs | None = None

    @property
    def is_v1(self) -> bool:
        """True when neither block is present: every figure is the v1 figure."""
        return self.plan is None and self.slo is None


def peak_factors(plan: PlanInputs | None, per_hour: Sequence[float] | None, hours: int):
    """``p_t`` per hour: the per-hour value where given (NaN: none), else the plan's; 1 without a plan."""
    default = 1.0 if plan is None else plan.peak_factor
    if plan is None or per_hour is None:
        return np.full(hours, default)
    values = np.asarray(per_hour, dtype=np.float64)
    if values.shape != (hours,):
        raise ValueError("peak factors must have one entry per hour")
    if np.any(values[~np.isnan(values)] < 1):
        raise ValueError("peak_factor: every hour's value must be at least 1")
    return np.where(np.isnan(values), default, values)
