"""Seeded reference catalogs: GPU types and per-replica model throughput.

Figures are the BRIEF.md reference defaults (editable in the app; the lead stores these rows
in the database). Throughput in the sources is per GPU at saturation; the economics works per
model replica, so each row carries ``per_gpu_output_tokens_per_s`` and the per-replica figure
``output_tokens_per_s = per_gpu * tensor_parallel`` (or the measured multi-GPU total where the
source gives one), with the arithmetic spelled out in ``conversion_note``.

Input (prefill) throughput is not in the sources. We assume prefill runs at 8x the decode
rate per replica (``PREFILL_TO_DECODE_RATIO``), the same ratio as the ECONOMICS.md example
(20,000 in / 2,500 out). With the additive work model ``W = I/in + O/out``, the 1,000-in /
1,000-out benchmark mix then gives ``out / (1 + 1/8)`` = 89 % of the published output rate:
a deliberately conservative reading of a best-case benchmark.
"""

from __future__ import annotations

from typing import Any

from models.economics.contract import GpuOption

PREFILL_TO_DECODE_RATIO = 8.0
DEFAULT_PUE = 1.5
DEFAULT_ELECTRICITY_PER_KWH = 0.10
DEFAULT_AMORTIZATION_MONTHS = 36
DEFAULT_MAX_UTILIZATION = 0.8
# Not in the reference table: the ECONOMICS.md example figure for people and tooling per GPU.
DEFAULT_OPS_PER_GPU_MONTH = 150.0

GPU_TYPES: list[dict[str, Any]] = [
    {"gpu_type": "H100", "purchase_usd": 30_000.0, "rent_usd_per_gpu_hour": 2.99, "tdp_watts": 700.0,
     "source": "BRIEF.md reference defaults (H100 SXM; purchase $25k-40k, rent $1.80-12.29 seen)"},
    {"gpu_type": "H200", "purchase_usd": 40_000.0, "rent_usd_per_gpu_hour": 3.99, "tdp_watts": 700.0,
     "source": "BRIEF.md reference defaults (purchase $38k-42k, rent $2.50-7.00 seen)"},
    {"gpu_type": "A100 80GB", "purchase_usd": 12_000.0, "rent_usd_per_gpu_hour": 1.50, "tdp_watts": 400.0,
     "source": "BRIEF.md reference defaults (A100 SXM; purchase $8k-15k, rent $0.80-3.00 seen)"},
    {"gpu_type": "L40S", "purchase_usd": 9_000.0, "rent_usd_per_gpu_hour": 1.36, "tdp_watts": 350.0,
     "source": "BRIEF.md reference defaults; rent is the midpoint of the $0.86-1.86 range given"},
    {"gpu_type": "L4", "purchase_usd": None, "rent_usd_per_gpu_hour": None, "tdp_watts": 72.0,
     "source": "BRIEF.md gives only TDP; purchase and rent are unpriced until you enter them"},
]


def _throughput_row(model: str, gpu_type: str, tp: int, per_gpu_out: float,
                    replica_out: float, source: str, how: str) -> dict[str, Any]:
    return {
        "model": model,
        "gpu_type": gpu_type,
        "tensor_parallel": tp,
        "per_gpu_output_tokens_per_s": per_gpu_out,
        "output_tokens_per_s": replica_out,
        "input_tokens_per_s": replica_out * PREFILL_TO_DECODE_RATIO,
        "source": source,
        "conversion_note": (
            f"{how}; input = {PREFILL_TO_DECODE_RATIO:g} x output = "
            f"{replica_out * PREFILL_TO_DECODE_RATIO:,.0f} tok/s per replica (assumed prefill ratio)"
        ),
    }


MODEL_THROUGHPUT: list[dict[str, Any]] = [
    _throughput_row(
        "Llama 3.1 8B FP8", "H100", 1, 15_220.0, 15_220.0,
        "BRIEF.md reference defaults: one H100, 1000 in / 1000 out (range seen 2.5k-22.7k)",
        "15,220 output tok/s per GPU x TP 1 = 15,220 per replica",
    ),
    _throughput_row(
        "Llama 3.3 70B FP8", "H100", 2, 2_100.0, 4_205.0,
        "BRIEF.md reference defaults: ~2,100 per H100; 4,205 measured on two H100s (range 400-2,100); "
        "NVIDIA NIM 1.8.0 measures 920 output tok/s on 2x H100 FP8 TP2 at 5,000 in / 500 out "
        "(https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance)",
        "~2,100 output tok/s per GPU x TP 2 = ~4,200; the measured TP-2 total of 4,205 is used",
    ),
    _throughput_row(
        "DeepSeek-R1-0528 FP8", "H200", 8, 426.9, 3_415.0,
        "GPUStack Performance Lab, DeepSeek-R1-0528 on 8x H200, SGLang 0.5.3 TP 8 with DP attention, "
        "ShareGPT 1,000 prompts (219K in / 201K out): 3,415 output tok/s "
        "(https://docs.gpustack.ai/latest/performance-lab/deepseek-r1/h200/)",
        "3,415 output tok/s measured for the whole TP-8 replica = 427 per GPU",
    ),
]


def gpu_type(name: str) -> dict[str, Any]:
    """Return the catalog row of a GPU type (KeyError naming the known types otherwise)."""
    for row in GPU_TYPES:
        if row["gpu_type"].lower() == name.lower():
            return row
    raise KeyError(f"unknown GPU type {name!r}; known: {', '.join(r['gpu_type'] for r in GPU_TYPES)}")


def throughput(model: str, gpu: str, tp: int) -> dict[str, Any]:
    """Return the throughput row for a model on a GPU type at a tensor-parallel size."""
    for row in MODEL_THROUGHPUT:
        if row["model"].lower() == model.lower() and row["gpu_type"].lower() == gpu.lower() \
                and row["tensor_parallel"] == tp:
            return row
    known = "; ".join(f"{r['model']} on {r['gpu_type']} TP{r['tensor_parallel']}" for r in MODEL_THROUGHPUT)
    raise KeyError(f"no throughput for {model!r} on {gpu!r} TP{tp}; known: {known}")


def gpu_option_from_catalog(gpu_type_name: str, model: str, tp: int, pricing: str = "rent",
                            **overrides: Any) -> GpuOption:
    """Build a GpuOption from the catalog defaults; keyword overrides replace any field."""
    gpu_row = gpu_type(gpu_type_name)
    tput = throughput(model, gpu_row["gpu_type"], tp)
    fields: dict[str, Any] = {
        "pricing": pricing,
        "ops_per_gpu_month": DEFAULT_OPS_PER_GPU_MONTH,
        "replica_gpus": tp,
        "input_tokens_per_s": tput["input_tokens_per_s"],
        "output_tokens_per_s": tput["output_tokens_per_s"],
        "max_utilization": DEFAULT_MAX_UTILIZATION,
    }
    if pricing == "rent":
        fields["hourly_rate"] = gpu_row["rent_usd_per_gpu_hour"]
    else:
        fields.update(
            purchase_price=gpu_row["purchase_usd"],
            amortization_months=DEFAULT_AMORTIZATION_MONTHS,
            power_watts=gpu_row["tdp_watts"],
            pue=DEFAULT_PUE,
            electricity_per_kwh=DEFAULT_ELECTRICITY_PER_KWH,
        )
    fields.update(overrides)
    return GpuOption(**fields)
