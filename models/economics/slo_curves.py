"""Curve points as the engine takes them, from a published table or a vLLM measurement, and their scaling.

A published table (models/economics/published_curves.py, published_curves.csv) or a measurement
gives output tokens/s for the whole replica, p95-or-typical inter-token latency and time to first
token, at a request shape rho = input_len / output_len. The contract's work model
prices prefill and decode apart (``W = I / in + O / out``), so a point becomes the pair of rates
that reproduces the published output rate at that mix, at the catalog's prefill-to-decode ratio
r = 8: ``out = published x (1 + rho / r)``, ``in = r x out`` (the same conversion as a vLLM
measurement, models/planning/measured.py). Rows are per replica (the tensor-parallel group the
source measured), so a curve is matched on model, GPU type and tensor-parallel size.
"""

from __future__ import annotations

from models.economics.catalog import PREFILL_TO_DECODE_RATIO
from models.economics.plan_inputs import SloInputs, SloPoint


def point_at_mix(concurrency: float, output_tokens_per_s: float, input_per_output: float, p95_itl_ms: float,
                 p95_ttft_ms: float) -> SloPoint:
    """A curve point whose rates reproduce `output_tokens_per_s` at `input_per_output` prompt tokens per output."""
    out = output_tokens_per_s * (1.0 + input_per_output / PREFILL_TO_DECODE_RATIO)
    return SloPoint(concurrency=concurrency, input_tokens_per_s=PREFILL_TO_DECODE_RATIO * out,
                    output_tokens_per_s=out, p95_itl_ms=p95_itl_ms, p95_ttft_ms=p95_ttft_ms)


def scale_slo(slo: SloInputs, multiplier: float) -> SloInputs:
    """The SLO with every curve point's rates times `multiplier` (flip rule 7's throughput change), latencies kept."""
    if multiplier == 1.0:
        return slo
    return slo.model_copy(update={"curve": tuple(p.model_copy(update={
        "input_tokens_per_s": p.input_tokens_per_s * multiplier,
        "output_tokens_per_s": p.output_tokens_per_s * multiplier}) for p in slo.curve)})
