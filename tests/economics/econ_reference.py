"""A plain per-hour loop of ECONOMICS.md, written to be read beside the contract page."""

import math


def reference_contract(rows, api, gpu):
    """rows: list of (I, C, O); api, gpu: dicts with the scenario keys. Returns the output dict."""
    H = len(rows)
    mult = 1 - api["batch_share"] * api["batch_discount"]
    A = [((i - c) * api["input_per_mtok"] + c * api["cached_input_per_mtok"] + o * api["output_per_mtok"]) / 1e6 * mult
         for i, c, o in rows]
    ops = gpu["ops_per_gpu_month"] / 730
    if gpu["pricing"] == "rent":
        h = gpu["hourly_rate"] + ops
    else:
        h = (gpu["purchase_price"] / (gpu["amortization_months"] * 730)
             + gpu["power_watts"] / 1000 * gpu["pue"] * gpu["electricity_per_kwh"] + ops)
    h_rep = h * gpu["replica_gpus"]
    W = [i / gpu["input_tokens_per_s"] + o / gpu["output_tokens_per_s"] for i, c, o in rows]
    cap = 3600 * gpu["max_utilization"]
    r_peak = max([math.ceil(w / cap - 1e-9) for w in W] + [0])

    def total(R):
        s = R * h_rep * H
        for a, w in zip(A, W):
            f = 1.0 if w == 0 else min(1.0, R * cap / w)
            s += (1 - f) * a
        return s

    totals = [total(R) for R in range(r_peak + 1)]
    best = min(totals)
    r_opt = next(R for R, t in enumerate(totals) if t <= best + 1e-9)
    api_total = sum(A)
    work_total = sum(W)
    bu = None if work_total <= 0 or api_total <= 0 else h_rep / (3600 * api_total / work_total)

    def saves(k):
        return sum(min(k * a, cap * a / w) for a, w in zip(A, W) if w > 0) > h_rep * H

    # Bisection on the monotone predicate: independent of the exact solver under test.
    k = None
    if sum(cap * a / w for a, w in zip(A, W) if w > 0) > h_rep * H:
        lo, hi = 0.0, 1.0
        while not saves(hi):
            hi *= 2
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if saves(mid) else (mid, hi)
        k = hi
    tokens = sum(i + o for i, c, o in rows)
    return {
        "hours": H,
        "api_only_cost": api_total,
        "gpu_hourly_cost": h,
        "peak_replicas": r_peak,
        "gpu_only_cost": r_peak * h_rep * H,
        "optimal_replicas": r_opt,
        "hybrid_cost": totals[r_opt],
        "breakeven_utilization": bu,
        "replica_can_pay": k is not None,
        "breakeven_demand_multiplier": k,
        "breakeven_monthly_tokens": None if k is None else k * tokens * 730 / H,
        "_totals": totals,
    }
