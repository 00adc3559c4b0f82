"""Benchmark the economics engine: a year of hourly demand, the full curve and the optimum.

Run: ``python bench/bench_economics.py`` (from the repository root). Contract v2 (``bench_v2``):
the plan figures, the optimum search against pricing every replica count exactly as rule 4 is
written (the ratio), the flip grid (4 x 192 grid points) and a ten-million-replica peak. Goals: the vectorised
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
from models.economics.plan import simulate_plan  # noqa: E402
from models.economics.plan_hours import plan_at  # noqa: E402
from models.economics.plan_inputs import PlanInputs, PlanningInputs, SloInputs  # noqa: E402

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


PLAN = PlanInputs(escalation_share=0.1, peak_factor=1.6, deferrable_share=0.3, fixed_monthly=9000,
                  on_demand_hourly_rate=6.98, lead_time_days=56)
SLO = SloInputs(p95_itl_ms=50, p95_ttft_ms=2000, curve=[
    {"concurrency": 1, "input_tokens_per_s": 2600, "output_tokens_per_s": 52, "p95_itl_ms": 19, "p95_ttft_ms": 310},
    {"concurrency": 25, "input_tokens_per_s": 31000, "output_tokens_per_s": 623, "p95_itl_ms": 40,
     "p95_ttft_ms": 900},
    {"concurrency": 50, "input_tokens_per_s": 40500, "output_tokens_per_s": 814, "p95_itl_ms": 61,
     "p95_ttft_ms": 1900}])


def _median_ms(fn, runs: int = RUNS) -> tuple[float, float, object]:
    """Median wall and CPU milliseconds of ``fn()`` over ``runs`` runs, and its last result."""
    walls, cpus, out = [], [], None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, out


def bench_v2(demand: Demand) -> None:
    """Contract v2 on the same year: the figures, the optimum search against pricing every R, the flips."""
    hours = np.datetime64("2026-01-01T00:00:00") + np.arange(HOURS).astype("timedelta64[h]")
    demand = Demand(hours, demand.input_tokens, demand.cached_input_tokens, demand.output_tokens)
    inputs = PlanningInputs(plan=PLAN, slo=SLO)
    v1_ms, _, _ = _median_ms(lambda: simulate(demand, API, GPU))
    v2_ms, v2_cpu, res = _median_ms(lambda: simulate_plan(demand, API, GPU, inputs, with_flips=False))
    print(f"v2 simulate without flips (plan + slo, {HOURS} hours, R_max {res.peak_replicas}, optimum "
          f"{res.optimal_replicas}), median of {RUNS}: {v2_ms:.1f} ms wall, {v2_cpu:.1f} ms CPU; "
          f"v1 simulate {v1_ms:.1f} ms: {v2_ms / v1_ms:.1f}x v1")
    flips_ms, flips_cpu, res = _median_ms(lambda: simulate_plan(demand, API, GPU, inputs), runs=3)
    print(f"v2 simulate with flips (4 x 192 grid points, class {res.plan_class}, flips {res.flips}), median of 3: "
          f"{flips_ms:.0f} ms wall, {flips_cpu:.0f} ms CPU ({flips_cpu / 768:.2f} ms CPU per grid point at most)")
    # The optimum search against pricing every R in 0..R_max exactly as rule 4 is written, on a wider fleet.
    big = Demand(hours, demand.input_tokens * 40, demand.cached_input_tokens * 40, demand.output_tokens * 40)
    from models.economics.contract import api_cost_per_hour
    from models.economics.plan import _setup

    s = _setup(big, api_cost_per_hour(big, API), GPU, None, PLAN, API.batch_discount)
    search_ms, _, (r_search, _) = _median_ms(lambda: s.sorted_hours.scaled(s.prices).optimum())
    r_max = s.sorted_hours.scaled(s.prices).r_max
    started = time.perf_counter()
    totals = [plan_at(s.parts, s.prices, r).total for r in range(r_max + 1)]
    every_ms = (time.perf_counter() - started) * 1000
    r_every = int(np.flatnonzero(np.array(totals) <= min(totals) + 1e-9)[0])
    assert r_every == r_search, (r_every, r_search)
    print(f"optimum over R_max = {r_max:,} (demand x40): search {search_ms:.1f} ms, pricing every R as written "
          f"{every_ms:,.0f} ms: {every_ms / search_ms:,.0f}x (both R = {r_search})")
    huge = Demand(hours, demand.input_tokens * 4e5, demand.cached_input_tokens * 4e5, demand.output_tokens * 4e5)
    huge_ms, _, res = _median_ms(lambda: simulate_plan(huge, API, GPU, PlanningInputs(plan=PLAN), with_flips=False),
                                 runs=3)
    print(f"v2 simulate at R_max = {res.peak_replicas:,} (demand x400,000), median of 3: {huge_ms:.1f} ms "
          f"(optimum {res.optimal_replicas:,}; memory O(hours), not O(R_max))")


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
    bench_v2(demand)


if __name__ == "__main__":
    main()
