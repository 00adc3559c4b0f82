"""Throughput the workload's own vLLM servers measured, beside the one its plan assumes.

A server's throughput at saturation is the generation rate in hours when requests queued
(`inference_hourly.generation_tokens_per_s_saturated`, the fleet page's figure); the median over
those server-hours is the measurement. One vLLM server is taken as one replica.

The plan's work model prices prefill and decode separately (W = I / in + O / out), while vLLM
produces both at once. So the comparison is made at the mix the servers saw: the plan's
assumed output rate at that mix is `1 / (rho / in + 1 / out)`, rho = prompt / generated tokens
in the saturated hours. The gap is assumed / measured; above 1.5x either way it is flagged.
Offered as the plan's input, the measurement keeps the plan's prefill-to-decode ratio
r = in / out: `out = measured * (1 + rho / r)`, `in = r * out`, which reproduces the measured rate
at the measured mix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from models.economics.contract import GpuOption

GAP_FLAG = 1.5

_SQL = """
SELECT count(DISTINCT endpoint) AS servers,
       count(*) FILTER (WHERE saturated_seconds > 0 AND generation_tokens_per_s_saturated > 0) AS saturated_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY generation_tokens_per_s_saturated)
           FILTER (WHERE saturated_seconds > 0 AND generation_tokens_per_s_saturated > 0) AS output_tps,
       sum(prompt_tokens) FILTER (WHERE saturated_seconds > 0 AND generation_tokens_per_s_saturated > 0) AS prompt,
       sum(generation_tokens) FILTER (WHERE saturated_seconds > 0 AND generation_tokens_per_s_saturated > 0) AS gen,
       max(generation_tokens) / 3600.0 AS busiest_output_tps,
       string_agg(DISTINCT model_name, ', ') AS models
FROM inference_hourly WHERE workload = :workload AND hour_at >= :since AND hour_at < :until
"""


@dataclass(frozen=True)
class Measured:
    """What the workload's own servers measured in the period, and how it compares with the plan."""

    servers: int
    models: str
    saturated_hours: int
    output_tokens_per_s: float | None  # per server, at saturation (median); None: never saturated
    input_per_output: float | None  # prompt tokens per generated token in the saturated hours
    busiest_output_tokens_per_s: float | None  # the busiest hour's rate, a lower bound on capacity
    assumed_output_tokens_per_s: float | None = None  # the plan's rate at the measured mix
    gap: float | None = None  # assumed / measured
    suggested_input_tokens_per_s: float | None = None
    suggested_output_tokens_per_s: float | None = None

    @property
    def flagged(self) -> bool:
        """True when plan and measurement differ by more than 1.5x either way."""
        return self.gap is not None and (self.gap > GAP_FLAG or self.gap < 1 / GAP_FLAG)

    def sentence(self) -> str:
        """Measured beside assumed, in one line."""
        if self.output_tokens_per_s is None:
            lower = (f"; its busiest hour generated {self.busiest_output_tokens_per_s:,.0f} tok/s, a lower bound"
                     if self.busiest_output_tokens_per_s else "")
            return (f"{self.servers} vLLM server(s) serve this workload but never queued requests in the period, "
                    f"so their capacity is not measured{lower}.")
        text = (f"Measured: {self.output_tokens_per_s:,.0f} output tok/s per vLLM server at saturation "
                f"({self.saturated_hours} saturated hours, {self.input_per_output:,.1f} prompt tokens per output token)")
        if self.gap is None:
            return text + "."
        text += f"; the plan assumes {self.assumed_output_tokens_per_s:,.0f} at that mix"
        if not self.flagged:
            return text + f" ({self.gap:.2f}x, within 1.5x)."
        direction = "above" if self.gap > 1 else "below"
        return (text + f": the assumption is {max(self.gap, 1 / self.gap):.1f}x {direction} what was measured. "
                f"Use the measured figure in the plan ({self.suggested_output_tokens_per_s:,.0f} output / "
                f"{self.suggested_input_tokens_per_s:,.0f} input tok/s per replica).")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures, the flag included."""
        return {**asdict(self), "flagged": self.flagged}


def measure(conn: Connection, workload: str, since: datetime, until: datetime) -> Measured | None:
    """The workload's vLLM measurement in [since, until); None when no server of its own reported."""
    row = conn.execute(sa.text(_SQL), {"workload": workload, "since": since, "until": until}).one()
    if not row.servers:
        return None
    ratio = float(row.prompt) / float(row.gen) if row.gen else None
    return Measured(servers=int(row.servers), models=row.models or "", saturated_hours=int(row.saturated_hours),
                    output_tokens_per_s=float(row.output_tps) if row.output_tps else None, input_per_output=ratio,
                    busiest_output_tokens_per_s=float(row.busiest_output_tps) if row.busiest_output_tps else None)


def compare(measured: Measured | None, gpu: GpuOption | None) -> Measured | None:
    """The measurement with the plan's assumed rate at the measured mix, the gap and the suggested plan input."""
    if measured is None or gpu is None or measured.output_tokens_per_s is None or measured.input_per_output is None:
        return measured
    rho, m = measured.input_per_output, measured.output_tokens_per_s
    assumed = 1.0 / (rho / gpu.input_tokens_per_s + 1.0 / gpu.output_tokens_per_s)
    ratio = gpu.input_tokens_per_s / gpu.output_tokens_per_s
    out = m * (1.0 + rho / ratio)
    return Measured(**{**asdict(measured), "assumed_output_tokens_per_s": assumed, "gap": assumed / m,
                       "suggested_output_tokens_per_s": out, "suggested_input_tokens_per_s": ratio * out})
