"""The planning path's answer for one workload and period: figures, words, and a JSON-safe form.

Every surface (Workloads, Breakeven, What-if's starting point, GPU fleet, the weekly report, the
exporter, `simulate --workload`, `fleet`, `plan show`) shows these fields and nothing re-derives
them. "On tokens alone" is two parts: the real API bill of the API-served part, and the tokens
the workload's own servers served, priced as the API model they replaced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from models.economics.contract import Demand, PreparedWorkload, SimulationResult, prepare
from models.economics.curves import cost_curve, reach_of
from models.economics.flips import flip_sentence
from models.economics.plan import PlanResult
from models.economics.plan_inputs import PlanningInputs
from models.economics.units import HOURS_PER_MONTH
from models.planning.candidate import Candidate
from models.planning.measured import Measured
from models.planning.moves import MoveForecast
from models.planning.provenance import PlanV2

ASSESSED = "assessed"


@dataclass(frozen=True)
class PlanFigures:
    """One workload's figures over [since, until) against its candidate."""

    workload: str
    since: datetime
    until: datetime
    candidate: Candidate
    status: str  # "assessed", or why not: "no hours", "no demand", "unpriced", "not hourly", "out of range"
    message: str
    frame: pl.DataFrame  # the hourly planning frame (models.queries.workload_demand)
    weekly: pl.DataFrame
    result: SimulationResult | PlanResult | None  # PlanResult when contract v2 ran (v2 set)
    move: MoveForecast | None
    measured: Measured | None
    measured_result: SimulationResult | PlanResult | None  # the same plan at the measured throughput
    v2: PlanV2 | None = None  # the v2 inputs and their provenance (contract v2 ran when v2.runs_v2)

    @property
    def runs_v2(self) -> bool:
        """True when contract v2 ran: some v2 input was measured, published or set."""
        return self.v2 is not None and self.v2.runs_v2

    @property
    def inputs(self) -> PlanningInputs | None:
        """The contract v2 inputs the engine ran on; None when v1 ran."""
        return self.v2.inputs if self.runs_v2 else None

    # --- the figures, one property each -------------------------------------------------

    @property
    def hours(self) -> int:
        """H: hours in the period (after clipping to the current hour)."""
        return self.frame.height

    def monthly(self, total: float | None) -> float | None:
        """A total over the period's hours as USD per 730-hour month."""
        return None if total is None or not self.hours else total * HOURS_PER_MONTH / self.hours

    def _sum(self, *columns: str) -> float:
        return float(sum(self.frame[c].sum() for c in columns)) if self.hours else 0.0

    @property
    def tokens(self) -> float:
        """Input (cached included) plus output tokens in the period, API and local."""
        return self._sum("input_tokens", "output_tokens")

    @property
    def api_tokens(self) -> float:
        """Tokens bought from APIs in the period."""
        return self._sum("api_input_tokens", "api_output_tokens")

    @property
    def local_tokens(self) -> float:
        """Tokens the workload's own inference servers served in the period."""
        return self._sum("local_input_tokens", "local_output_tokens")

    @property
    def monthly_tokens(self) -> float | None:
        """Tokens per 730-hour month."""
        return self.monthly(self.tokens)

    @property
    def local_share(self) -> float:
        """Share of the tokens served locally."""
        return self.local_tokens / self.tokens if self.tokens else 0.0

    @property
    def api_billed_usd(self) -> float:
        """The API bill of the API-served part: each hour's tokens per model at the prices then in effect."""
        return self._sum("api_cost_usd")

    @property
    def local_priced_usd(self) -> float:
        """The locally served tokens priced as the replaced API model, by token kind, at the prices then."""
        return self._sum("local_cost_usd")

    @property
    def api_only_usd(self) -> float:
        """On tokens alone: the API bill plus the local tokens priced (the contract's api_only_cost)."""
        return self.api_billed_usd + self.local_priced_usd

    @property
    def unpriced_rows(self) -> int:
        """API usage rows with no price in effect (they add no cost, and say so)."""
        return int(self.frame["unpriced_rows"].sum()) if self.hours else 0

    @property
    def local_unpriced_hours(self) -> int:
        """Hours whose local tokens could not be priced (the replaced model had no price then)."""
        return int(self.frame["local_unpriced"].sum()) if self.hours else 0

    @property
    def assessed(self) -> bool:
        """True when the contract ran against a candidate."""
        return self.status == ASSESSED and self.result is not None

    @property
    def replicas(self) -> int | None:
        """The optimal replica count (None when not assessed)."""
        return self.result.optimal_replicas if self.result else None

    @property
    def gpus(self) -> int | None:
        """GPUs the optimal plan runs (replicas x tensor-parallel size)."""
        return None if self.result is None else self.result.optimal_replicas * self.result.replica_gpus

    # --- engine inputs, for curves and levers on the same hours --------------------------

    def demand(self) -> Demand:
        """The contract's demand table for the period (API plus local tokens)."""
        f = self.frame
        return Demand.from_arrays(f["input_tokens"].to_numpy(), f["cached_input_tokens"].to_numpy(),
                                  f["output_tokens"].to_numpy(), hour=f["hour"].to_numpy(),
                                  peak_factor=self.v2.peak_factor if self.v2 is not None else None)

    def api_costs(self) -> np.ndarray:
        """A_t: each hour's API bill plus its local tokens priced as the replaced model."""
        return self.frame["total_api_cost_usd"].to_numpy().astype(np.float64)

    def prepared(self) -> PreparedWorkload | None:
        """The engine's prepared workload against the candidate (None without a GPU option)."""
        if self.candidate.gpu is None or not self.hours:
            return None
        return prepare(self.demand(), None, self.candidate.gpu, self.api_costs())

    def curve(self, reach: float | None = None) -> pl.DataFrame:
        """The breakeven curve by the contract the plan ran on, to ``reach`` x today (default: past breakeven)."""
        if self.candidate.gpu is None or self.result is None:
            return pl.DataFrame()
        reach = reach_of(self.result.breakeven_demand_multiplier) if reach is None else reach
        return cost_curve(self.demand(), self.candidate.gpu, self.inputs, self.api_costs(), reach=reach)

    # --- words --------------------------------------------------------------------------

    @property
    def action(self) -> str:
        """The short answer: stay on tokens, own N replicas and burst, move, keep, or not assessed."""
        if self.status != ASSESSED:
            return "not assessed"
        local = self.local_share >= 0.5
        if self.result is None:
            return "stay on tokens: no local equivalent"
        r, res = self.result.optimal_replicas, self.result
        if isinstance(res, PlanResult) and not res.slo_met:
            return ("move back to tokens" if local else "stay on tokens") + ": no curve point meets the SLO"
        if r == 0 and isinstance(res, PlanResult) and res.on_demand_replica_hours:
            return f"stay on tokens and rent {res.on_demand_replica_hours:,} on-demand replica-hours in busy hours"
        if r == 0:
            return "move back to tokens" if local else "stay on tokens"
        gpus = f" ({_plural(r * res.replica_gpus, 'GPU')})"
        if isinstance(res, PlanResult) and res.on_demand_replica_hours:
            return (f"{'keep' if local else 'own'} {_plural(r, 'replica')}{gpus}, rent "
                    f"{res.on_demand_replica_hours:,} on-demand replica-hours and burst to the API")
        if r < res.peak_replicas:
            return f"{'keep' if local else 'own'} {_plural(r, 'replica')}{gpus} and burst to the API"
        return f"{'keep on GPUs' if local else 'move'}: {_plural(r, 'replica')}{gpus}"

    def tokens_alone_words(self) -> str:
        """'$X/month on tokens alone = $A API bill + $L local tokens priced as o3'."""
        total, billed, local = (self.monthly(x) for x in (self.api_only_usd, self.api_billed_usd,
                                                          self.local_priced_usd))
        text = f"${total:,.0f}/month on tokens alone = ${billed:,.0f} API bill"
        if self.local_tokens:
            model = self.candidate.replaces[1] if self.candidate.replaces else "the API model"
            text += f" + ${local:,.0f} for the {_tok(self.local_tokens)} served locally, priced as {model} by kind"
        return text

    def sentence(self) -> str:
        """The recommendation in one or two sentences, naming the candidate."""
        if self.status != ASSESSED:
            return f"Not assessed: {self.message}"
        against = f"{self.candidate.label} ({self.candidate.marker})"
        if self.result is None:
            return (f"Stay on tokens: {self.candidate.reason} ({self.candidate.marker}). "
                    f"{self.tokens_alone_words()}.")
        res = self.result
        hybrid = self.monthly(res.hybrid_cost)
        head = self.action[0].upper() + self.action[1:]
        if res.optimal_replicas == 0:
            when = ("" if res.breakeven_monthly_tokens is None else
                    f"; the first replica pays at {_tok(res.breakeven_monthly_tokens)}/month "
                    f"({self.move.first_replica_words if self.move else 'no forecast'})")
            return f"{head} against {against}: no replica pays at today's volume{when}. {self.tokens_alone_words()}."
        return (f"{head} on {against}: ${hybrid:,.0f}/month against {self.tokens_alone_words()} "
                f"(saves ${self.monthly(res.api_only_cost - res.hybrid_cost):,.0f}/month).")

    def key_figures(self) -> dict[str, Any]:
        """The figures every surface must agree on (the cross-surface test compares these)."""
        res = self.result
        return {
            "workload": self.workload, "candidate": self.candidate.label, "marker": self.candidate.marker,
            "hours": self.hours, "action": self.action,
            "optimal_replicas": res.optimal_replicas if res else None,
            "peak_replicas": res.peak_replicas if res else None,
            "api_only_usd_month": self.monthly(self.api_only_usd) if self.status == ASSESSED else None,
            "api_billed_usd_month": self.monthly(self.api_billed_usd) if self.status == ASSESSED else None,
            "local_priced_usd_month": self.monthly(self.local_priced_usd) if self.status == ASSESSED else None,
            "hybrid_usd_month": self.monthly(res.hybrid_cost) if res else None,
            "gpu_only_usd_month": self.monthly(res.gpu_only_cost) if res else None,
            "breakeven_monthly_tokens": res.breakeven_monthly_tokens if res else None,
            "first_replica_pays": self.move.first_replica_words if self.move else None,
            "contract_version": "v2" if self.runs_v2 else "v1",
            "plan_class": res.plan_class if isinstance(res, PlanResult) else None,
            "flip_sentence": self.flip_sentence,
        }

    @property
    def flip_sentence(self) -> str | None:
        """The v2 flip points in words ("This answer flips to tokens if ..."); None under v1."""
        res = self.result
        if not isinstance(res, PlanResult) or not res.flips:
            return None
        return flip_sentence(res.flips, res.plan_class, res.flip_to)

    def inputs_lines(self) -> list[str]:
        """Per v2 input, measured or assumed and from what; one line saying v1 ran when none applies."""
        if self.v2 is None:
            return []
        if not self.runs_v2:
            return ["contract v1: no v2 input was measured, published or set for this workload:"] + self.v2.lines()
        return ["contract v2 (busiest minutes, SLO, deferrable work, fixed cost, on-demand):"] + self.v2.lines()

    def as_dict(self) -> dict[str, Any]:
        """Everything JSON-ready (no Infinity, no NaN): key figures, contract outputs, candidate, measurement."""
        out = {**self.key_figures(), "since": self.since.isoformat(), "until": self.until.isoformat(),
               "status": self.status, "message": self.message or None, "sentence": self.sentence(),
               "monthly_tokens": self.monthly_tokens, "api_tokens": self.api_tokens,
               "local_tokens": self.local_tokens, "unpriced_rows": self.unpriced_rows,
               "local_unpriced_hours": self.local_unpriced_hours,
               "candidate_detail": self.candidate.as_dict(),
               "contract": self.result.as_contract_dict() if self.result else None,
               "move": self.move.as_dict() if self.move else None,
               "measured": self.measured.as_dict() if self.measured else None,
               "at_measured_throughput": self.measured_result.as_contract_dict() if self.measured_result else None,
               "v2_inputs": self.v2.as_dict() if self.v2 is not None else None}
        return finite(out)


def finite(value: Any) -> Any:
    """The value with every non-finite float replaced by None, recursively (JSON never holds Infinity or NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _tok(n: float) -> str:
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= limit:
            return f"{n / limit:,.1f}{suffix} tokens"
    return f"{n:,.0f} tokens"
