"""A plain per-hour loop of contract v2 (ECONOMICS.md, "Planning figures"), to read beside the rules.

Nothing here imports the engine: every replica count is priced hour by hour, the breakeven
multiplier is found by bisection and each flip grid point re-runs the whole loop.
"""

import math

MONTH = 730


def _operating(slo):
    best = None
    for pt in slo["curve"]:
        if pt["p95_itl_ms"] <= slo["p95_itl_ms"] and pt["p95_ttft_ms"] <= slo["p95_ttft_ms"]:
            if best is None or pt["output_tokens_per_s"] > best["output_tokens_per_s"] or (
                    pt["output_tokens_per_s"] == best["output_tokens_per_s"]
                    and pt["concurrency"] < best["concurrency"]):
                best = pt
    return best


def _h(gpu):
    ops = gpu["ops_per_gpu_month"] / MONTH
    if gpu["pricing"] == "rent":
        return gpu["hourly_rate"] + ops
    return (gpu["purchase_price"] / (gpu["amortization_months"] * MONTH)
            + gpu["power_watts"] / 1000 * gpu["pue"] * gpu["electricity_per_kwh"] + ops)


def _model(rows, days, api, gpu, plan, rates, scale):
    """Per-hour quantities for one set of multipliers (scale: throughput, api_prices, gpu_cost, demand)."""
    e, d = plan.get("escalation_share", 0.0), plan.get("deferrable_share", 0.0)
    mult = 1 - api["batch_share"] * api["batch_discount"]
    pin, pcin, pout = (api[k] * scale["api_prices"] for k in ("input_per_mtok", "cached_input_per_mtok",
                                                               "output_per_mtok"))
    rin, rout = rates[0] * scale["throughput"], rates[1] * scale["throughput"]
    hours = []
    for (i, c, o, p), day in zip(rows, days):
        i, c, o = i * scale["demand"], c * scale["demand"], o * scale["demand"]
        a = ((i - c) * pin + c * pcin + o * pout) / 1e6 * mult
        w = i / rin + o / rout
        hours.append(dict(
            tokens=i + o, p=p, day=day, E=e * a, Ai=(1 - e) * (1 - d) * a,
            Ad=(1 - e) * d * a * (1 - api["batch_discount"]),
            Wi=(1 - e) * (1 - d) * w * p, Wd=(1 - e) * d * w))
    h = _h(gpu) * scale["gpu_cost"]
    od_rate = plan.get("on_demand_hourly_rate")
    h_od = None if od_rate is None else (od_rate + gpu["ops_per_gpu_month"] / MONTH) * gpu["replica_gpus"] \
        * scale["gpu_cost"]
    return hours, h * gpu["replica_gpus"], h_od


def _plan_total(hours, R, cap, h_rep, h_od, fixed, e, d, allow_od=True):
    H = len(hours)
    interactive_api = od_hours = 0.0
    api_tokens = []
    spare, work, cost = {}, {}, {}
    for hr in hours:
        Wi = hr["Wi"]
        left_share = 0.0
        if Wi > 0:
            a = hr["Ai"] / Wi
            wrem = max(0.0, Wi - R * cap)
            served = 0.0
            if allow_od and h_od is not None and cap * a > h_od:
                n = math.floor(wrem / cap)
                rest = wrem - n * cap
                rented = n + (1 if rest * a > h_od else 0)
                served = n * cap + (rest if rest * a > h_od else 0.0)
                od_hours += rented
            interactive_api += (wrem - served) * a
            left_share = (wrem - served) / Wi
        api_tokens.append((e * hr["tokens"] + (1 - e) * (1 - d) * hr["tokens"] * left_share) * hr["p"] / 60)
        dd = hr["day"]
        spare[dd] = spare.get(dd, 0.0) + max(0.0, R * cap - Wi)
        work[dd] = work.get(dd, 0.0) + hr["Wd"]
        cost[dd] = cost.get(dd, 0.0) + hr["Ad"]
    deferrable_api = served_total = work_total = 0.0
    for dd in spare:
        if work[dd] > 0:
            g = min(spare[dd], work[dd])
            deferrable_api += (1 - g / work[dd]) * cost[dd]
            served_total += g
            work_total += work[dd]
    uses = R >= 1 or od_hours > 0
    fixed_cost = fixed if uses else 0.0
    total = (R * h_rep * H + sum(hr["E"] for hr in hours) + interactive_api + od_hours * (h_od or 0.0)
             + deferrable_api + fixed_cost)
    return dict(total=total, od_hours=int(od_hours), od_cost=od_hours * (h_od or 0.0), fixed=fixed_cost,
                deferred=None if work_total <= 0 else served_total / work_total,
                peak_tpm=max(api_tokens) if api_tokens else 0.0)


def _optimum(hours, cap, h_rep, h_od, fixed, e, d):
    r_max = max([math.ceil((hr["Wi"] + hr["Wd"]) / cap - 1e-9) for hr in hours] + [0])
    plans = []
    for R in range(r_max + 1):
        got = _plan_total(hours, R, cap, h_rep, h_od, fixed, e, d)
        if R == 0:
            nothing = _plan_total(hours, 0, cap, h_rep, h_od, fixed, e, d, allow_od=False)
            if not got["total"] < nothing["total"] - 1e-9:
                got = nothing
        plans.append(got)
    best = min(p["total"] for p in plans)
    r_opt = next(R for R, p in enumerate(plans) if p["total"] <= best + 1e-9)
    return r_max, r_opt, plans


def _class(r_opt, r_max, od_hours):
    if r_opt == 0 and od_hours == 0:
        return "tokens"
    return "move" if r_opt == r_max and r_max >= 1 else "hybrid"


def reference_plan(rows, days, api, gpu, plan, slo=None, flips=True):
    """rows: (I, C, O, p_t) per hour; days: UTC day label per hour. Returns the v1 + v2 output dict."""
    plan = plan or {}
    e, d, F = (plan.get(k, 0.0) for k in ("escalation_share", "deferrable_share", "fixed_monthly"))
    H = len(rows)
    cap = 3600 * gpu["max_utilization"]
    fixed = F * H / MONTH
    one = dict(throughput=1.0, api_prices=1.0, gpu_cost=1.0, demand=1.0)
    point = None if slo is None else _operating(slo)
    if slo is not None and point is None:
        hours, _, _ = _model(rows, days, api, gpu, plan, (1.0, 1.0), one)
        api_only = sum(hr["E"] + hr["Ai"] + hr["Ad"] for hr in hours)
        has_def = d > 0 and sum(hr["tokens"] for hr in hours) > 0
        return dict(hours=H, api_only_cost=api_only, gpu_hourly_cost=_h(gpu), peak_replicas=0,
                    gpu_only_cost=None, optimal_replicas=0, hybrid_cost=api_only, breakeven_utilization=None,
                    replica_can_pay=False, breakeven_demand_multiplier=None, breakeven_monthly_tokens=None,
                    slo_met=False, slo_concurrency=None, slo_output_tokens_per_s=None, slo_input_tokens_per_s=None,
                    escalated_cost=sum(hr["E"] for hr in hours), fixed_cost=0.0, on_demand_replica_hours=0,
                    on_demand_cost=0.0, deferred_local_share=0.0 if has_def else None,
                    api_peak_tokens_per_minute=max(((e + (1 - e) * (1 - d)) * hr["tokens"] * hr["p"] / 60
                                                    for hr in hours), default=0.0),
                    plan_class="tokens", flips=dict.fromkeys(one))
    rates = ((gpu["input_tokens_per_s"], gpu["output_tokens_per_s"]) if point is None
             else (point["input_tokens_per_s"], point["output_tokens_per_s"]))

    def run(scale):
        hours, h_rep, h_od = _model(rows, days, api, gpu, plan, rates, scale)
        return hours, h_rep, h_od, _optimum(hours, cap, h_rep, h_od, fixed, e, d)

    hours, h_rep, h_od, (r_max, r_opt, plans) = run(one)
    best = plans[r_opt]
    base_class = _class(r_opt, r_max, best["od_hours"])
    L = [hr["Ai"] + hr["Ad"] for hr in hours]
    V = [hr["Wi"] + hr["Wd"] for hr in hours]
    target = h_rep * H + fixed

    def saves(k):
        return sum(min(k * l, cap * l / v) for l, v in zip(L, V) if v > 0) > target

    k = None
    if sum(cap * l / v for l, v in zip(L, V) if v > 0) > target:
        lo, hi = 0.0, 1.0
        while not saves(hi):
            hi *= 2
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if saves(mid) else (mid, hi)
        k = hi
    flip = dict.fromkeys(one)
    if flips:
        for kind in one:
            for step in range(1, 97):
                for j in (-step, step):
                    m = 2.0 ** (j / 24)
                    _, _, _, (rm, ro, ps) = run({**one, kind: m})
                    if _class(ro, rm, ps[ro]["od_hours"]) != base_class:
                        flip[kind] = m
                        break
                if flip[kind] is not None:
                    break
    escalated = sum(hr["E"] for hr in hours)
    tokens = sum(hr["tokens"] for hr in hours)
    return dict(
        hours=H, api_only_cost=sum(hr["E"] + hr["Ai"] + hr["Ad"] for hr in hours), gpu_hourly_cost=_h(gpu),
        peak_replicas=r_max, gpu_only_cost=r_max * h_rep * H + escalated + (fixed if r_max >= 1 else 0.0),
        optimal_replicas=r_opt, hybrid_cost=best["total"],
        breakeven_utilization=(None if sum(V) <= 0 or sum(L) <= 0
                               else (h_rep + F / MONTH) / (3600 * sum(L) / sum(V))),
        replica_can_pay=k is not None, breakeven_demand_multiplier=k,
        breakeven_monthly_tokens=None if k is None else k * tokens * MONTH / H,
        slo_met=True,
        slo_concurrency=None if point is None else point["concurrency"],
        slo_output_tokens_per_s=None if point is None else point["output_tokens_per_s"],
        slo_input_tokens_per_s=None if point is None else point["input_tokens_per_s"],
        escalated_cost=escalated, fixed_cost=best["fixed"], on_demand_replica_hours=best["od_hours"],
        on_demand_cost=best["od_cost"], deferred_local_share=best["deferred"],
        api_peak_tokens_per_minute=best["peak_tpm"], plan_class=base_class, flips=flip,
        _totals=[p["total"] for p in plans])
