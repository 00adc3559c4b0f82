"""The weekly report's economics: per workload, the ECONOMICS.md contract on the week's hourly demand.

Demand and each hour's API cost come from `workload_hourly` (the same as `hybridcost simulate
--workload`): provider usage and request logs priced per model at the prices then in effect,
plus tokens the workload's own inference servers served. The forecast and the levers take one
price list: the workload's biggest model's prices, scaled to the week's real API cost. The GPU
option is a saved scenario named after the workload ("<workload> on ..."), else the fastest
model in the throughput catalog on its GPU type, rented at the catalog rate with the reference
$150 per GPU-month for operations. Lever inputs measured from the data: the share of exact
repeats (request fingerprints), and batchable = the workload is marked non-interactive.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.economics.contract import ApiPricing, Demand, GpuOption, SimulationResult, api_cost_per_hour, simulate
from models.economics.forecast import forecast_monthly_volume, move_dates
from models.economics.levers import levers_waterfall
from models.queries.sql_fragments import attribution_join, price_join, priced_cost
from models.queries.workload_demand import NotHourlyError, workload_hourly
from models.reports.data import ReportWeek, WeeklyReport

HOURS_PER_MONTH = 730
OPS_PER_GPU_MONTH = 150.0
HISTORY_WEEKS = 8
MAX_FORECAST_GROWTH = 50.0  # forecast volumes beyond 50x today are not priced (see _move_date)

MODEL_COSTS = f"""
SELECT coalesce(wl.workload, 'unallocated') AS workload, u.provider, u.model, sum({priced_cost('u')}) AS est_cost
FROM usage_hourly u {price_join('u', 'bucket_start_at')} {attribution_join('u')}
WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until
GROUP BY 1, 2, 3
UNION ALL
SELECT coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated'), q.provider, q.model,
       sum(coalesce({priced_cost('q', cache_write=False)}, q.reported_cost_usd))
FROM request_hourly q {price_join('q', 'hour_at')} {attribution_join('q', has_tags=True)}
WHERE q.hour_at >= :since AND q.hour_at < :until AND q.endpoint_kind = 'api'
GROUP BY 1, 2, 3
"""
WEEKLY_TOKENS = f"""
SELECT coalesce(wl.workload, 'unallocated') AS workload,
       date_trunc('week', u.bucket_start_at AT TIME ZONE 'UTC') AS week_start,
       sum(u.input_tokens + u.output_tokens) AS tokens
FROM usage_hourly u {attribution_join('u')}
WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until
GROUP BY 1, 2 ORDER BY 1, 2
"""
REPEATS = f"""
SELECT coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated') AS workload,
       count(*) AS requests, count(DISTINCT q.fingerprint) AS distinct_prompts
FROM usage_requests q {attribution_join('q', has_tags=True)}
WHERE q.started_at >= :since AND q.started_at < :until AND q.fingerprint <> ''
GROUP BY 1
"""


def _api_pricing(conn: Connection, provider: str, model: str, week: ReportWeek) -> ApiPricing | None:
    row = conn.execute(sa.text(
        "SELECT input_usd_per_mtok, cached_input_usd_per_mtok, output_usd_per_mtok FROM prices "
        "WHERE provider = :p AND model = :m AND above_context_tokens = 0 AND effective_from < :u "
        "ORDER BY effective_from DESC LIMIT 1"), {"p": provider, "m": model, "u": week.until.date()}).first()
    if row is None or row[0] is None or row[2] is None:
        return None
    cached = row[1] if row[1] is not None else row[0]
    return ApiPricing(input_per_mtok=float(row[0]), cached_input_per_mtok=float(cached),
                      output_per_mtok=float(row[2]))


def gpu_option_for(conn: Connection, workload: str) -> tuple[GpuOption | None, str]:
    """The saved scenario for the workload, else the fastest catalog model rented; with a description."""
    for name, body in conn.execute(sa.text("SELECT name, body FROM scenarios ORDER BY name")).all():
        if name.lower().startswith(workload.lower() + " ") and isinstance(body, dict) and "gpu" in body:
            try:
                return GpuOption(**body["gpu"]), f"scenario '{name}'"
            except ValueError:
                continue
    row = conn.execute(sa.text(
        "SELECT t.model, t.gpu_type, t.tensor_parallel, t.input_tokens_per_s, t.output_tokens_per_s, "
        "g.rent_usd_per_gpu_hour FROM model_throughput t JOIN gpu_types g ON g.name = t.gpu_type "
        "WHERE g.rent_usd_per_gpu_hour IS NOT NULL "
        "ORDER BY t.output_tokens_per_s / t.tensor_parallel DESC, t.model LIMIT 1")).first()
    if row is None:
        return None, "no GPU option: add a model throughput and GPU type price (Data page)"
    option = GpuOption(pricing="rent", hourly_rate=float(row.rent_usd_per_gpu_hour),
                       ops_per_gpu_month=OPS_PER_GPU_MONTH,
                       replica_gpus=int(row.tensor_parallel), input_tokens_per_s=float(row.input_tokens_per_s),
                       output_tokens_per_s=float(row.output_tokens_per_s))
    return option, (f"{row.model} on {row.tensor_parallel}x {row.gpu_type} rented at "
                    f"${float(row.rent_usd_per_gpu_hour):.2f}/GPU-hour")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _action(res: SimulationResult, gpu: GpuOption, local_share: float) -> str:
    r = res.optimal_replicas
    if r == 0:
        return "move back to tokens" if local_share >= 0.5 else "stay on tokens"
    gpus = f" ({_plural(r * gpu.replica_gpus, 'GPU')})" if gpu.replica_gpus > 1 else ""
    burst = " and burst to the API" if r < res.peak_replicas else ""
    if local_share >= 0.5:  # most of it already runs on the workload's own inference servers
        return f"keep on GPUs: {_plural(r, 'replica')}{gpus}{burst}"
    return f"own {_plural(r, 'replica')}{gpus}{burst}" if burst else f"move: own {_plural(r, 'replica')}{gpus}"


def bounded_move_dates(history: pl.DataFrame, demand: Demand, api: ApiPricing, gpu: GpuOption):
    """`move_dates` with the horizon stopped where the fast line passes 50x today: (dates, horizon, problem).

    `move_dates` prices every replica count up to the peak at each forecast volume, so a trend
    that runs away (a short, steep history) would take minutes, and dates that far out mean little.
    """
    try:
        _, forecast = forecast_monthly_volume(history)
        now = float((demand.input_tokens + demand.output_tokens).sum()) * HOURS_PER_MONTH / max(demand.hours, 1)
        within = forecast["monthly_tokens_high"].to_numpy() <= MAX_FORECAST_GROWTH * now
        horizon = len(within) if within.all() else int(np.argmin(within))
        if now <= 0 or horizon == 0:
            return None, 0, "forecast out of range (growth too steep to extrapolate)"
        return move_dates(history, demand, api, gpu, horizon_weeks=horizon), horizon, None
    except ValueError:
        return None, 0, "not enough history to forecast"
    except ArithmeticError:  # overflow of an extreme trend
        return None, 0, "forecast out of range (growth too steep to extrapolate)"


def _move_date(history: pl.DataFrame, demand: Demand, api: ApiPricing, gpu: GpuOption, paying: bool) -> str:
    """When the first replica pays, per the bounded forecast, in words."""
    if paying:
        return "now"
    dates, horizon, problem = bounded_move_dates(history, demand, api, gpu)
    if problem:
        return problem
    if dates.first_replica_week is None:
        return f"not within {horizon} weeks"
    when = f"{dates.first_replica_week:%Y-%m-%d}"
    lo, hi = dates.first_replica_earliest, dates.first_replica_latest
    if lo and hi:
        return f"{when} (between {lo:%Y-%m-%d} and {hi:%Y-%m-%d})"
    return f"{when} (earliest {lo:%Y-%m-%d})" if lo else when


def _repeat_shares(conn: Connection, week: ReportWeek) -> dict[str, float]:
    rows = conn.execute(sa.text(REPEATS), {"since": week.since, "until": week.until}).all()
    return {r.workload: 1.0 - r.distinct_prompts / r.requests for r in rows if r.requests}


def _discipline_shares(conn: Connection, week: ReportWeek) -> tuple[dict[str, dict], Any] | None:
    """Measured lever shares per workload from the discipline analytics, in one query; None without them.

    The same shares as `models.discipline.levers_inputs`, for every workload at once (that
    function runs the whole analysis once per workload).
    """
    try:
        from models.discipline import DisciplineConfig, lever_shares_by_workload
    except ImportError:
        return None
    config = DisciplineConfig()
    return lever_shares_by_workload(conn, week.since, week.until, config), config


def _lever_inputs(measured: tuple[dict[str, dict], Any] | None, workload: str, demand: Demand, api: ApiPricing,
                  fallback: dict[str, float | None]) -> dict[str, float | None]:
    """Lever shares: the discipline analytics where present, else repeats and interactivity; route priced."""
    if measured is None:
        return {**fallback, "route_share": None, "route_price_ratio": None}
    shares, config = measured
    got = shares.get(workload, {})
    cheap = ApiPricing(input_per_mtok=float(config.cheap_input_usd_per_mtok),
                       cached_input_per_mtok=float(config.cheap_cached_input_usd_per_mtok),
                       output_per_mtok=float(config.cheap_output_usd_per_mtok))
    today = float(api_cost_per_hour(demand, api).sum())
    ratio = min(1.0, float(api_cost_per_hour(demand, cheap).sum()) / today) if today else None
    route = got.get("routable_share")
    return {"repeat_share": got.get("repeat_share"), "batchable_share": got.get("batchable_share"),
            "route_share": route, "route_price_ratio": ratio if route is not None else None}


def add_to(conn: Connection, report: WeeklyReport) -> None:
    """Fill `report.recommendations` and `report.levers` for every workload with usage this week."""
    week = report.week
    params = {"since": week.since, "until": week.until}
    costs: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    for r in conn.execute(sa.text(MODEL_COSTS), params).all():
        costs[r.workload][(r.provider, r.model)] += float(r.est_cost or 0)
    history_since = week.until - timedelta(weeks=HISTORY_WEEKS)
    weekly = pl.DataFrame([tuple(r) for r in conn.execute(sa.text(WEEKLY_TOKENS), {
        "since": history_since, "until": week.until}).all()], orient="row",
        schema={"workload": pl.String, "week_start": pl.Datetime("us"), "tokens": pl.Float64})
    previous = {r["group"]: (r["input_tokens"] or 0) + (r["output_tokens"] or 0)
                for r in report.previous_daily.group_by("workload").agg(
                    pl.col("input_tokens").sum(), pl.col("output_tokens").sum())
                .rename({"workload": "group"}).iter_rows(named=True)} if report.previous_daily.height else {}
    interactive = dict(conn.execute(sa.text("SELECT name, interactive FROM workloads")).all())
    measured = _discipline_shares(conn, week)
    # the raw-request repeat count is only the fallback when the discipline analytics are missing
    repeats = _repeat_shares(conn, week) if measured is None else {}
    recs, levers = [], []
    for workload in sorted(w for w in costs if w != "unallocated"):
        provider, model = max(costs[workload], key=lambda k: (costs[workload][k], k))
        gpu, option = gpu_option_for(conn, workload)
        base = {"workload": workload, "option": option}
        try:
            frame = workload_hourly(conn, workload=workload, since=week.since, until=week.until)
        except NotHourlyError:
            recs.append(base | {"action": "not assessed", "crossed": False,
                                "reason": "only daily usage buckets: the breakeven needs hourly demand"})
            continue
        demand = Demand.from_arrays(frame["input_tokens"].to_numpy(), frame["cached_input_tokens"].to_numpy(),
                                    frame["output_tokens"].to_numpy())
        api_costs = frame["total_api_cost_usd"].to_numpy().astype(np.float64)
        monthly = float((demand.input_tokens + demand.output_tokens).sum()) * HOURS_PER_MONTH / max(demand.hours, 1)
        base["monthly_tokens"] = int(monthly)
        api = _api_pricing(conn, provider, model, week)
        if api is None or gpu is None or not api_costs.sum():
            recs.append(base | {"action": "not assessed", "crossed": False,
                                "reason": f"{model} is unpriced" if api is None or not api_costs.sum() else option})
            continue
        list_cost = float(api_cost_per_hour(demand, api).sum())
        api_all = api.scaled(float(api_costs.sum()) / list_cost) if list_cost else api
        # Levers work on what is still bought as tokens: the API part of the demand at its real cost.
        token_demand = Demand.from_arrays(frame["api_input_tokens"].to_numpy(), frame["api_cached_tokens"].to_numpy(),
                                          frame["api_output_tokens"].to_numpy())
        token_list = float(api_cost_per_hour(token_demand, api).sum())
        api_tokens = api.scaled(float(frame["api_cost_usd"].sum()) / token_list) if token_list else api
        local = float(frame["local_input_tokens"].sum() + frame["local_output_tokens"].sum())
        total_tokens = float((demand.input_tokens + demand.output_tokens).sum())
        local_share = local / total_tokens if total_tokens else 0.0
        res = simulate(demand, None, gpu, api_costs=api_costs)
        breakeven = res.breakeven_monthly_tokens
        prev_monthly = previous.get(workload, 0) * HOURS_PER_MONTH / max(demand.hours, 1)
        crossed = breakeven is not None and prev_monthly < breakeven <= monthly
        history = weekly.filter(pl.col("workload") == workload).select("week_start", "tokens")
        reason = (f"GPU option {option}" if breakeven is None or monthly >= breakeven else
                  f"{monthly / breakeven * 100:.0f}% of breakeven volume; GPU option {option}")
        recs.append(base | {
            "action": _action(res, gpu, local_share), "crossed": crossed, "local_share": local_share,
            "replicas": res.optimal_replicas,
            "breakeven_monthly_tokens": None if breakeven is None else int(breakeven),
            "api_usd_month": res.monthly(res.api_only_cost), "hybrid_usd_month": res.monthly(res.hybrid_cost),
            "move_date": _move_date(history, demand, api_all, gpu, res.optimal_replicas > 0), "reason": reason})
        if not token_list:
            continue
        inputs = _lever_inputs(measured, workload, token_demand, api_tokens, fallback={
            "repeat_share": repeats.get(workload),
            "batchable_share": 0.0 if interactive.get(workload, True) else 1.0})
        try:
            fall = levers_waterfall(token_demand, api_tokens, gpu, **inputs)
        except ValueError:
            continue
        for step in fall.steps:
            levers.append({"workload": workload, "lever": step.lever, "status": step.status,
                           "saving_usd_month": step.saving_usd_month,
                           "remaining_usd_month": step.remaining_usd_month, "detail": step.detail})
    report.recommendations = pl.DataFrame(recs, schema={
        "workload": pl.String, "action": pl.String, "crossed": pl.Boolean, "monthly_tokens": pl.Int64,
        "breakeven_monthly_tokens": pl.Int64, "api_usd_month": pl.Float64, "hybrid_usd_month": pl.Float64,
        "replicas": pl.Int64, "move_date": pl.String, "reason": pl.String, "option": pl.String,
        "local_share": pl.Float64})
    report.levers = pl.DataFrame(levers, schema={
        "workload": pl.String, "lever": pl.String, "status": pl.String, "saving_usd_month": pl.Float64,
        "remaining_usd_month": pl.Float64, "detail": pl.String})
