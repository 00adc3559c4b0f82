"""Driven in a subprocess under a memory limit: the planning path on extreme inputs always answers.

`python plan_extremes.py LIMIT_BYTES EXAMPLES` sets RLIMIT_AS, then lets hypothesis throw huge and
tiny token counts, prices, rates and throughputs at `models.planning.path.compute`. Every example
must give PlanFigures whose JSON has no Infinity or NaN, or a one-line "out of range" answer;
a MemoryError or any other exception fails the run (exit 1).
"""

from __future__ import annotations

import json
import resource
import sys
from datetime import datetime, timedelta, timezone

if __name__ == "__main__":
    LIMIT = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from models.economics.contract import GpuOption  # noqa: E402
from models.planning.candidate import Candidate  # noqa: E402
from models.planning.measured import Measured  # noqa: E402
from models.planning.path import compute  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
STATUSES = {"assessed", "no hours", "no demand", "unpriced", "out of range"}
RAN: list[str] = []

# Realistic ranges most of the time, the extremes (1e20 tokens an hour, 1e308 USD, 1e-6 tok/s) often enough.
big = st.one_of(st.floats(min_value=0, max_value=1e9), st.floats(min_value=0, max_value=1e20), st.just(1e20))
price = st.one_of(st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=1e6))
rate = st.one_of(st.floats(min_value=0, max_value=50), st.floats(min_value=0, max_value=1e308), st.just(1e308))
speed = st.one_of(st.floats(min_value=1, max_value=1e6), st.floats(min_value=1e-6, max_value=1e9), st.just(1e-6))


def frame(hours: int, api_in: float, api_out: float, local_in: float, local_out: float, cost_in: float,
          cost_out: float, growth: float) -> pl.DataFrame:
    """An hourly planning frame with a weekly trend (so the forecast runs), API and local parts."""
    t = np.arange(hours, dtype=np.float64)
    shape = (1 + 0.5 * np.sin(t / 24 * 2 * np.pi)) * np.exp(growth * t / 168)
    ai, ao, li, lo = (x * shape for x in (api_in, api_out, local_in, local_out))
    api_cost = (ai * cost_in + ao * cost_out) / 1e6
    local_cost = (li * cost_in + lo * cost_out) / 1e6
    return pl.DataFrame({
        "hour": pl.Series([START + timedelta(hours=h) for h in range(hours)], dtype=pl.Datetime("us", "UTC")),
        "api_input_tokens": ai, "api_cached_tokens": ai * 0.1, "api_output_tokens": ao, "api_cost_usd": api_cost,
        "unpriced_rows": np.zeros(hours, dtype=np.int64), "local_input_tokens": li, "local_output_tokens": lo,
        "local_cost_usd": local_cost, "local_unpriced": np.zeros(hours, dtype=bool), "hourly": np.ones(hours, bool),
        "input_tokens": ai + li, "cached_input_tokens": ai * 0.1, "output_tokens": ao + lo,
        "total_api_cost_usd": api_cost + local_cost,
    })


@settings(max_examples=int(sys.argv[2]) if __name__ == "__main__" else 20, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(hours=st.integers(min_value=0, max_value=24 * 7 * 6), api_in=big, api_out=big, local_in=big, local_out=big,
       cost_in=price, cost_out=price, growth=st.floats(min_value=-1, max_value=1), hourly_rate=rate,
       tps_in=speed, tps_out=speed, tp=st.integers(min_value=1, max_value=64),
       util=st.floats(min_value=0.01, max_value=1), measured=st.one_of(st.none(), speed))
def check(hours, api_in, api_out, local_in, local_out, cost_in, cost_out, growth, hourly_rate, tps_in, tps_out, tp,
          util, measured):
    """The planning path answers every example in bounded memory, with JSON-safe figures."""
    gpu = GpuOption(pricing="rent", hourly_rate=hourly_rate, ops_per_gpu_month=150, replica_gpus=tp,
                    input_tokens_per_s=tps_in, output_tokens_per_s=tps_out, max_utilization=util)
    candidate = Candidate(workload="w", chosen=True, replaces=("openai", "o3"), api_class="frontier reasoning",
                          model="M", gpu_type="H100", tensor_parallel=tp, pricing="rent", throughput_source="entered",
                          throughput_note="", gpu=gpu, reason="")
    seen = None if measured is None else Measured(servers=1, models="m", saturated_hours=5,
                                                  output_tokens_per_s=measured, input_per_output=3.0,
                                                  busiest_output_tokens_per_s=measured)
    with np.errstate(all="ignore"):
        figures = compute("w", START, START + timedelta(hours=hours), frame(hours, api_in, api_out, local_in,
                                                                              local_out, cost_in, cost_out, growth),
                          candidate, seen)
    assert figures.status in STATUSES, figures.status
    if figures.status == "out of range":
        assert figures.message and "\n" not in figures.message
    text = json.dumps(figures.as_dict(), allow_nan=False)
    assert "Infinity" not in text and "NaN" not in text
    figures.sentence()
    RAN.append(figures.status)


if __name__ == "__main__":
    try:
        check()
    except MemoryError:
        print("MemoryError: an allocation grew with the inputs", file=sys.stderr)
        sys.exit(1)
    print(f"{len(RAN)} examples: " + ", ".join(f"{s} {RAN.count(s)}" for s in sorted(set(RAN))) + "; ok")
