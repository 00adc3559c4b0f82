"""Where each contract-v2 input of a workload came from: measured or assumed, and from what, in data and words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from models.economics.contract import GpuOption
from models.economics.plan_inputs import OperatingPoint, PlanningInputs
from models.planning.measured import GAP_FLAG

LABELS = {"peak_factor": "Peak factor", "slo_targets": "SLO targets", "slo_curve": "Throughput/latency curve",
          "deferrable_share": "Deferrable share", "escalation_share": "Escalation share",
          "lead_time_days": "Lead time", "fixed_monthly": "Fixed platform cost",
          "on_demand_hourly_rate": "On-demand rate"}


@dataclass(frozen=True)
class Provenance:
    """One v2 input: its value, whether it was measured, its basis (measured, published, plan, setting, default)."""

    key: str
    value: Any
    measured: bool
    basis: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with 'measured' or 'assumed' spelled out."""
        return {"value": self.value, "measured": self.measured, "status": "measured" if self.measured else "assumed",
                "basis": self.basis, "source": self.source}

    def words(self) -> str:
        """'Peak factor: assumed (default 1: ...)'."""
        return f"{LABELS.get(self.key, self.key)}: {'measured' if self.measured else 'assumed'} ({self.source})"


@dataclass(frozen=True)
class ThroughputFlag:
    """The operating point's throughput beside the plan's, both at the workload's own prompt-to-output mix."""

    curve: str  # measured | published
    assumed_output_tokens_per_s: float
    operating_output_tokens_per_s: float
    gap: float  # assumed / operating point

    @property
    def flagged(self) -> bool:
        """True when they differ by more than 1.5x either way."""
        return self.gap > GAP_FLAG or self.gap < 1 / GAP_FLAG

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, the flag included."""
        return {"curve": self.curve, "assumed_output_tokens_per_s": self.assumed_output_tokens_per_s,
                "operating_output_tokens_per_s": self.operating_output_tokens_per_s, "gap": self.gap,
                "flagged": self.flagged}

    def words(self) -> str:
        """One line: the plan assumes X, the (measured|published) curve gives Y at the SLO (Zx)."""
        text = (f"At this workload's mix the plan assumes {self.assumed_output_tokens_per_s:,.0f} output tok/s per "
                f"replica; the {self.curve} curve gives {self.operating_output_tokens_per_s:,.0f} within the SLO "
                f"({self.gap:.1f}x")
        return text + (", flagged: more than 1.5x apart)." if self.flagged else ")")


def throughput_flag(gpu: GpuOption | None, op: OperatingPoint | None, mix: float,
                    curve: str | None) -> ThroughputFlag | None:
    """The flag where there is a plan and an operating point: rates at mix rho are ``1 / (rho / in + 1 / out)``."""
    if gpu is None or op is None or curve is None or not np.isfinite(mix) or mix < 0:
        return None
    assumed = 1.0 / (mix / gpu.input_tokens_per_s + 1.0 / gpu.output_tokens_per_s)
    operating = 1.0 / (mix / op.input_tokens_per_s + 1.0 / op.output_tokens_per_s)
    return ThroughputFlag(curve, assumed, operating, assumed / operating)


def platform_cost(team: str, default: float, by_team: str) -> tuple[float, Provenance]:
    """F for a workload of `team`: its team's figure from the setting, else the default, with provenance."""
    for part in (p.strip() for p in by_team.split(",") if p.strip()):
        name, _, amount = part.partition("=")
        if name.strip() == team and amount.strip():
            value = float(amount)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"HYBRIDCOST_PLATFORM_USD_PER_MONTH_BY_TEAM: {part!r} is not a USD amount >= 0")
            return value, Provenance("fixed_monthly", value, False, "setting",
                                     f"setting HYBRIDCOST_PLATFORM_USD_PER_MONTH_BY_TEAM for team {team}: "
                                     f"${value:,.0f}/month")
    basis = "setting" if default else "default"
    return default, Provenance("fixed_monthly", default, False, basis,
                               f"setting HYBRIDCOST_PLATFORM_USD_PER_MONTH: ${default:,.0f}/month" if default else
                               "default $0/month (HYBRIDCOST_PLATFORM_USD_PER_MONTH)")


@dataclass(frozen=True)
class PlanV2:
    """A workload's v2 inputs as the engine takes them, with their provenance."""

    inputs: PlanningInputs
    peak_factor: np.ndarray | None  # per planning hour, NaN where the hour takes the default
    provenance: tuple[Provenance, ...]
    curve: str | None  # measured | published | None (no SLO)
    throughput: ThroughputFlag | None
    curve_latency: dict[str, Any] | None = None  # a measured curve's latencies: from the histograms or estimated

    @property
    def runs_v2(self) -> bool:
        """True when any input was measured, published or set, so contract v2 runs."""
        return not self.inputs.is_v1

    @property
    def measured_keys(self) -> list[str]:
        """The inputs measured from the workload's own data."""
        return [p.key for p in self.provenance if p.measured]

    @property
    def assumed_keys(self) -> list[str]:
        """The inputs assumed (published, entered, set or defaulted)."""
        return [p.key for p in self.provenance if not p.measured]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: contract version, each input's provenance, the lists, the throughput flag."""
        return {"contract": "v2" if self.runs_v2 else "v1", "curve": self.curve,
                "measured": self.measured_keys, "assumed": self.assumed_keys,
                "inputs": {p.key: p.as_dict() for p in self.provenance},
                "throughput_flag": self.throughput.as_dict() if self.throughput else None,
                "curve_latency": self.curve_latency}

    def lines(self) -> list[str]:
        """One line per input, then the throughput flag."""
        out = [p.words() for p in self.provenance]
        return out + ([self.throughput.words()] if self.throughput else [])
