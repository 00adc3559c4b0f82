"""Published throughput/latency curves per model and GPU, for workloads with no vLLM metrics of their own.

Each curve is a benchmark table as published: concurrency, output tokens/s for the whole replica,
p95-or-typical inter-token latency and time to first token. The sources give output throughput
only, at the benchmark's request shape rho = input_len / output_len. The contract's work model
prices prefill and decode apart (``W = I / in + O / out``), so a point becomes the pair of rates
that reproduces the published output rate at that mix, at the catalog's prefill-to-decode ratio
r = 8: ``out = published x (1 + rho / r)``, ``in = r x out`` (the same conversion as a vLLM
measurement, models/planning/measured.py). Rows are per replica (the tensor-parallel group the
source measured), so a curve is matched on model, GPU type and tensor-parallel size.
"""

from __future__ import annotations

from typing import Any

from models.economics.catalog import PREFILL_TO_DECODE_RATIO
from models.economics.plan_inputs import SloInputs, SloPoint

NIM_URL = "https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance"

# (concurrency, TTFT ms, ITL ms, output tokens/s) as the source's table prints them.
_LLAMA_33_70B_H100_TP2 = (
    (1, 406.77, 18.58, 51.67), (5, 546.70, 21.83, 218.48), (25, 688.69, 38.75, 623.40),
    (50, 834.51, 59.73, 814.37), (100, 7996.25, 92.91, 917.26), (150, 34794.22, 92.86, 920.90),
    (200, 61680.22, 93.06, 920.54), (250, 88605.32, 93.20, 920.12),
)

PUBLISHED_CURVES: list[dict[str, Any]] = [
    {"model": "Llama 3.3 70B FP8", "gpu_type": "H100", "tensor_parallel": 2,
     "input_tokens": 5000, "output_tokens": 500, "rows": _LLAMA_33_70B_H100_TP2,
     "source": f"NVIDIA NIM 1.8.0 benchmark, Llama-3.3-70b-instruct on 2x H100 80G, fp8 TP2, 5,000 input / "
               f"500 output tokens ({NIM_URL}); TTFT and ITL as tabulated (NIM's table does not say p95, "
               "so they are read as the p95)"},
]


def point_at_mix(concurrency: float, output_tokens_per_s: float, input_per_output: float, p95_itl_ms: float,
                 p95_ttft_ms: float) -> SloPoint:
    """A curve point whose rates reproduce `output_tokens_per_s` at `input_per_output` prompt tokens per output."""
    out = output_tokens_per_s * (1.0 + input_per_output / PREFILL_TO_DECODE_RATIO)
    return SloPoint(concurrency=concurrency, input_tokens_per_s=PREFILL_TO_DECODE_RATIO * out,
                    output_tokens_per_s=out, p95_itl_ms=p95_itl_ms, p95_ttft_ms=p95_ttft_ms)


def published_curve(model: str, gpu_type: str, tp: int) -> tuple[tuple[SloPoint, ...], str] | None:
    """The published curve (points, source) of a model on a GPU type at a tensor-parallel size; None if none."""
    for row in PUBLISHED_CURVES:
        if (row["model"].lower() == (model or "").lower() and row["gpu_type"].lower() == (gpu_type or "").lower()
                and row["tensor_parallel"] == tp):
            ratio = row["input_tokens"] / row["output_tokens"]
            points = tuple(point_at_mix(c, out, ratio, itl, ttft) for c, ttft, itl, out in row["rows"])
            return points, row["source"]
    return None


def scale_slo(slo: SloInputs, multiplier: float) -> SloInputs:
    """The SLO with every curve point's rates times `multiplier` (flip rule 7's throughput change), latencies kept."""
    if multiplier == 1.0:
        return slo
    return slo.model_copy(update={"curve": tuple(p.model_copy(update={
        "input_tokens_per_s": p.input_tokens_per_s * multiplier,
        "output_tokens_per_s": p.output_tokens_per_s * multiplier}) for p in slo.curve)})
