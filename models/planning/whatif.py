"""What-if's contract v2 controls: where they start (the planning path's inputs) and the inputs they give the engine.

The controls start at the values `plan_workload` used: measured where the workload's data held them
(the deferrable share from batch candidates, the SLO curve from its own vLLM servers), else the
plan's, the setting's or the stated default. With every control at its start the engine gets the
planning path's own `PlanningInputs`, so What-if's figures are the plan's; a workload planned under
v1 stays on v1 until a control leaves its v1 default (the contract: no block, the v1 figures).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from models.economics.plan_inputs import PlanInputs, PlanningInputs
from models.economics.slo_curves import scale_slo
from models.planning.figures import PlanFigures

V1_DEFAULTS = {"escalation_share": 0.0, "peak_factor": 1.0, "deferrable_share": 0.0, "fixed_monthly": 0.0,
               "on_demand_hourly_rate": None}


@dataclass(frozen=True)
class V2Controls:
    """The v2 inputs What-if lets a user move (lead time feeds only the move date, which What-if does not show)."""

    escalation_share: float = 0.0
    peak_factor: float = 1.0  # hours without a measured busiest-minute factor of their own
    deferrable_share: float = 0.0
    fixed_monthly: float = 0.0
    on_demand_hourly_rate: float | None = None
    p95_itl_ms: float | None = None  # None: the plan has no throughput/latency curve, so no SLO to move
    p95_ttft_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (saved with a scenario, and a cache key)."""
        return asdict(self)

    @property
    def at_v1_defaults(self) -> bool:
        """True when every plan-block control is at the value at which its rule reduces to v1."""
        return all(getattr(self, k) == v for k, v in V1_DEFAULTS.items())


def starting_controls(figures: PlanFigures) -> V2Controls:
    """The controls at the planning path's values for this workload and period (v1 defaults where v1 ran)."""
    inputs = figures.v2.inputs if figures.runs_v2 else None
    plan = inputs.plan if inputs is not None else None
    slo = inputs.slo if inputs is not None else None
    base = PlanInputs() if plan is None else plan
    return V2Controls(escalation_share=base.escalation_share, peak_factor=base.peak_factor,
                      deferrable_share=base.deferrable_share, fixed_monthly=base.fixed_monthly,
                      on_demand_hourly_rate=base.on_demand_hourly_rate,
                      p95_itl_ms=None if slo is None else slo.p95_itl_ms,
                      p95_ttft_ms=None if slo is None else slo.p95_ttft_ms)


def whatif_planning(figures: PlanFigures, controls: V2Controls | None,
                    throughput_multiplier: float = 1.0) -> PlanningInputs | None:
    """The engine's v2 inputs for What-if's controls (None: v1); the throughput multiplier scales the SLO curve.

    ``controls`` None means the planning path's own inputs. Without a curve the throughput controls
    change the GPU option's rates instead, so the multiplier only applies to a curve.
    """
    inputs = figures.v2.inputs if figures.runs_v2 else None
    if controls is not None:
        plan = inputs.plan if inputs is not None else None
        if plan is not None or not controls.at_v1_defaults:
            plan = PlanInputs(escalation_share=controls.escalation_share, peak_factor=controls.peak_factor,
                              deferrable_share=controls.deferrable_share, fixed_monthly=controls.fixed_monthly,
                              on_demand_hourly_rate=controls.on_demand_hourly_rate,
                              lead_time_days=0.0 if plan is None else plan.lead_time_days)
        slo = inputs.slo if inputs is not None else None
        if slo is not None and controls.p95_itl_ms is not None and controls.p95_ttft_ms is not None:
            slo = slo.model_copy(update={"p95_itl_ms": controls.p95_itl_ms, "p95_ttft_ms": controls.p95_ttft_ms})
        inputs = PlanningInputs(plan=plan, slo=slo)
    if inputs is None or inputs.is_v1:
        return None
    if inputs.slo is not None and throughput_multiplier != 1.0:
        inputs = inputs.model_copy(update={"slo": scale_slo(inputs.slo, throughput_multiplier)})
    return inputs
