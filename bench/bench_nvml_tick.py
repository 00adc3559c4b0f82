"""CPU time per NvmlSampler tick per GPU, against a fake NVML of 8 GPUs (goal: < 1 ms).

Run: PYTHONPATH=. python bench/bench_nvml_tick.py [ticks]
This measures the sampler's own Python overhead (mapping, dataclasses, error
handling); real NVML calls add driver time on top, to be measured on a GPU host.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "gpu_sources"))

from gpu_fake_nvml import fleet  # noqa: E402

from ingest.sources.nvml import NvmlSampler  # noqa: E402

GPUS = 8
GOAL_MS = 1.0


def main(ticks: int = 5000) -> float:
    """Run the ticks and print CPU milliseconds per tick per GPU; return that figure."""
    sampler = NvmlSampler(nvml=fleet(GPUS), host="bench")
    assert len(sampler.sample().samples) == GPUS  # the fake really answers for every GPU
    for _ in range(200):  # warm-up
        sampler.sample()
    start = time.process_time()
    for _ in range(ticks):
        sampler.sample()
    cpu = time.process_time() - start
    per_gpu_ms = cpu / ticks / GPUS * 1000
    verdict = "OK" if per_gpu_ms < GOAL_MS else "OVER GOAL"
    print(f"{ticks} ticks x {GPUS} fake GPUs: {cpu / ticks * 1000:.4f} ms CPU per tick, "
          f"{per_gpu_ms:.4f} ms per GPU (goal < {GOAL_MS} ms) {verdict}")
    return per_gpu_ms


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
