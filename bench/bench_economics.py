"""Benchmark the economics engine: a year of hourly demand, the full curve and the optimum.

Run: ``python bench/bench_economics.py`` (from the repository root). Goals: the vectorised
curve (200 points, up to 512 replicas) plus ``simulate`` under 100 ms, and at least 20x faster
than a straightforward per-hour pure-Python loop of the same formulas. The loop is timed on a
few curve points and scaled by the number of (hour x replica count) evaluations the full curve
needs, since running it on all 200 points would take minutes.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.economics.contract import ApiPricing, Demand, GpuOption, prepare, simulate  # noqa: E402
from models.economics.curves import curve_from_prepared  # noqa: E402

HOURS = 8760
POINTS = 200
TOP_REPLICAS = 512
RUNS = 7


def year_of_demand(seed: int = 42) -> Demand:
    """A seeded year of hourly demand: diurnal and weekly cycles, slow growth and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(HOURS)
    day = 0.45 + 0.55 * np.exp(-(((t % 24) - 14) / 4.0) ** 2)
    week = np.where((t // 24) % 7 >= 5, 0.55, 1.0)
    growth = 1.0 + 0.8 * t / HOURS
    noise = rng.lognormal(0.0, 0.12, HOURS)
    inp = np.round(4.0e8 * day * week * growth * noise)
    return Demand.from_arrays(inp, np.round(inp * 0.45), np.round(inp * 0.08))


API = ApiPricing(input_per_mtok=2.5, cached_input_per_mtok=1.25, output_per_mtok=10.0)
GPU = GpuOption(pricing="rent", hourly_rate=2.99, ops_per_gpu_month=150,
                input_tokens_per_s=20000, output_tokens_per_s=2500, max_utilization=0.8)


def engine(demand: Demand, k_max: float):
    """The vectorised path: simulate plus the full curve."""
    prep = prepare(demand, API, GPU)
    result = simulate(demand, API, GPU)
    curve = curve_from_prepared(prep, np.linspace(0.0, k_max, POINTS))
    return result, curve


def loop_point(rows, k: float) -> tuple[float, int, int]:
    """Per-hour pure-Python loop: best hybrid total at demand scale k (and hour x R evaluations)."""
    mult = 1 - API.batch_share * API.batch_discount
    h_rep = (GPU.hourly_rate + GPU.ops_per_gpu_month / 730) * GPU.replica_gpus
    cap = 3600 * GPU.max_utilization
    a, w = [], []
    for i, c, o in rows:
        i, c, o = i * k, c * k, o * k
        a.append(((i - c) * API.input_per_mtok + c * API.cached_input_per_mtok + o * API.output_per_mtok) / 1e6 * mult)
        w.append(i / GPU.input_tokens_per_s + o / GPU.output_tokens_per_s)
    r_peak = max([math.ceil(x / cap - 1e-9) for x in w] + [0])
    best, best_r = math.inf, 0
    for r in range(r_peak + 1):
        total = r * h_rep * len(rows)
        for at, wt in zip(a, w):
            f = 1.0 if wt == 0 else min(1.0, r * cap / wt)
            total += (1 - f) * at
        if total < best - 1e-9:
            best, best_r = total, r
    return best, best_r, len(rows) * (r_peak + 1)


def main() -> None:
    """Time the engine and the loop; print milliseconds and the speedup."""
    demand = year_of_demand()
    prep = prepare(demand, API, GPU)
    # Put the right end of the curve where the peak needs TOP_REPLICAS replicas.
    k_max = TOP_REPLICAS * prep.cap / prep.work_sorted[-1]
    engine(demand, k_max)  # warm-up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result, curve = engine(demand, k_max)
        times.append(time.perf_counter() - start)
    engine_ms = statistics.median(times) * 1000

    ks = np.linspace(0.0, k_max, POINTS)
    evaluations = sum(HOURS * (prep.peak(float(k)) + 1) for k in ks)
    rows = list(zip(demand.input_tokens.tolist(), demand.cached_input_tokens.tolist(),
                    demand.output_tokens.tolist()))
    sample = [ks[10], ks[25], ks[40]]
    loop_s, loop_evals = 0.0, 0
    for k in sample:
        start = time.perf_counter()
        best, best_r, n = loop_point(rows, float(k))
        loop_s += time.perf_counter() - start
        loop_evals += n
        check = curve.filter(curve["monthly_tokens"] == curve["monthly_tokens"][int(np.argmin(abs(ks - k)))])
        assert abs(check["hybrid_usd"][0] - best * 730 / HOURS) <= 1e-6 * max(1.0, best), "loop and engine disagree"
    loop_full_s = loop_s / loop_evals * evaluations

    print(f"demand: {HOURS} hours; curve: {POINTS} points up to {curve['hybrid_replicas'].max()} optimal / "
          f"{prep.peak(k_max)} peak replicas; today: {result.peak_replicas} peak, {result.optimal_replicas} optimal")
    print(f"engine (simulate + full curve), median of {RUNS}: {engine_ms:.1f} ms  (goal < 100 ms)")
    print(f"pure-Python loop: {loop_s:.2f} s for {len(sample)} points ({loop_evals:,} hour x R evaluations); "
          f"scaled to the full curve ({evaluations:,} evaluations): {loop_full_s:.1f} s")
    print(f"speedup: {loop_full_s * 1000 / engine_ms:,.0f}x  (goal >= 20x)")


if __name__ == "__main__":
    main()
