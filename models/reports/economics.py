"""The weekly report's economics: per workload, the planning path's answer, and the lever waterfall.

Recommendations are `models.planning.plan_workload` over the four weeks ending with the report
week, so they are the figures the Workloads page, `simulate --workload` and the exporter give for
the same period. Levers work on what is still bought as tokens (the API-served part, at its real
per-hour cost), with the shares the discipline analytics measured from request logs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.discipline import DisciplineConfig, lever_shares_by_workload
from models.economics.contract import ApiPricing, Demand, api_cost_per_hour
from models.economics.levers import levers_waterfall
from models.economics.plan import FLIP_KINDS, PlanResult
from models.economics.units import HOURS_PER_MONTH, HOURS_PER_WEEK
from models.planning import PlanFigures, plan_workload

REPORT_WEEKS = 4

RECOMMENDATION_SCHEMA = {
    "workload": pl.String, "action": pl.String, "crossed": pl.Boolean, "monthly_tokens": pl.Int64,
    "breakeven_monthly_tokens": pl.Int64, "api_usd_month": pl.Float64, "api_billed_usd_month": pl.Float64,
    "local_priced_usd_month": pl.Float64, "hybrid_usd_month": pl.Float64, "replicas": pl.Int64,
    "move_date": pl.String, "reason": pl.String, "option": pl.String, "local_share": pl.Float64,
    "measured": pl.String, "plan_class": pl.String, "flip_sentence": pl.String,
    **{f"flip_{kind}": pl.Float64 for kind in FLIP_KINDS}, **{f"flip_to_{kind}": pl.String for kind in FLIP_KINDS},
}
LEVER_SCHEMA = {"workload": pl.String, "lever": pl.String, "status": pl.String, "saving_usd_month": pl.Float64,
                "remaining_usd_month": pl.Float64, "detail": pl.String}


def planning_period(week_until: datetime) -> tuple[datetime, datetime]:
    """The period the report's recommendations cover: the four weeks ending with the report week."""
    return week_until - timedelta(weeks=REPORT_WEEKS), week_until


def _crossed(f: PlanFigures) -> bool:
    """True when the report week's volume passed the breakeven that the week before had not reached."""
    res = f.result
    if res is None or res.breakeven_monthly_tokens is None or f.hours < 2 * HOURS_PER_WEEK:
        return False
    tokens = (f.frame["input_tokens"] + f.frame["output_tokens"]).to_numpy()
    scale = HOURS_PER_MONTH / HOURS_PER_WEEK
    this, before = tokens[-HOURS_PER_WEEK:].sum() * scale, tokens[-2 * HOURS_PER_WEEK:-HOURS_PER_WEEK].sum() * scale
    return bool(before < res.breakeven_monthly_tokens <= this)


def recommendation_row(f: PlanFigures) -> dict:
    """One row of the report's recommendations table from the planning path's figures."""
    res = f.result
    breakeven = res.breakeven_monthly_tokens if res else None
    monthly = f.monthly_tokens or 0.0
    reason = f.message if f.status != "assessed" else (
        f.candidate.reason if res is None else
        f"{monthly / breakeven * 100:.0f}% of breakeven volume" if breakeven and monthly < breakeven else
        "above breakeven volume" if breakeven else "no volume with this hourly shape makes a replica pay")
    assessed = f.status == "assessed"
    return {
        "workload": f.workload, "action": f.action, "crossed": _crossed(f), "monthly_tokens": int(monthly),
        "breakeven_monthly_tokens": None if breakeven is None else int(breakeven),
        "api_usd_month": f.monthly(f.api_only_usd) if assessed else None,
        "api_billed_usd_month": f.monthly(f.api_billed_usd) if assessed else None,
        "local_priced_usd_month": f.monthly(f.local_priced_usd) if assessed else None,
        "hybrid_usd_month": f.monthly(res.hybrid_cost) if res else None,
        "replicas": res.optimal_replicas if res else None,
        "move_date": f.move.first_replica_words if f.move else None, "reason": reason,
        "option": f"{f.candidate.label} ({f.candidate.marker})", "local_share": f.local_share,
        "measured": f.measured.sentence() if f.measured else "",
        **flip_columns(f),
    }


def flip_columns(f: PlanFigures) -> dict:
    """The plan's class, its flip sentence and each flip point (multiplier and the class it flips to); None under v1."""
    res = f.result if isinstance(f.result, PlanResult) else None
    return {"plan_class": res.plan_class if res else None, "flip_sentence": f.flip_sentence,
            **{f"flip_{kind}": res.flips.get(kind) if res else None for kind in FLIP_KINDS},
            **{f"flip_to_{kind}": res.flip_to.get(kind) if res else None for kind in FLIP_KINDS}}


def flips_of_row(row: dict) -> tuple[dict[str, float | None], dict[str, str | None]]:
    """A recommendation row's flip points and the class each flips to, as `flips_tornado` takes them."""
    return ({kind: row.get(f"flip_{kind}") for kind in FLIP_KINDS},
            {kind: row.get(f"flip_to_{kind}") for kind in FLIP_KINDS})


def _lever_steps(f: PlanFigures, shares: dict, config: DisciplineConfig) -> list[dict]:
    """The waterfall on the workload's API-served part; empty when nothing is bought as tokens."""
    frame = f.frame
    costs = frame["api_cost_usd"].to_numpy().astype(np.float64)
    if f.status != "assessed" or not costs.sum():
        return []
    tokens = Demand.from_arrays(frame["api_input_tokens"].to_numpy(), frame["api_cached_tokens"].to_numpy(),
                                frame["api_output_tokens"].to_numpy(),
                                peak_factor=f.v2.peak_factor if f.v2 is not None else None)
    cheap = ApiPricing(input_per_mtok=float(config.cheap_input_usd_per_mtok),
                       cached_input_per_mtok=float(config.cheap_cached_input_usd_per_mtok),
                       output_per_mtok=float(config.cheap_output_usd_per_mtok))
    route = shares.get("routable_share")
    ratio = min(1.0, float(api_cost_per_hour(tokens, cheap).sum()) / float(costs.sum()))
    fall = levers_waterfall(tokens, None, f.candidate.gpu, repeat_share=shares.get("repeat_share"),
                            batchable_share=shares.get("batchable_share"), route_share=route,
                            route_price_ratio=ratio if route is not None else None,
                            batch_discount=float(config.batch_discount), api_costs=costs, planning=f.inputs)
    return [{"workload": f.workload, "lever": s.lever, "status": s.status, "saving_usd_month": s.saving_usd_month,
             "remaining_usd_month": s.remaining_usd_month, "detail": s.detail} for s in fall.steps]


def recommendations_and_levers(conn: Connection, week_since: datetime, week_until: datetime, *,
                               now: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Recommendations for every workload with usage in the week, and their lever waterfalls."""
    names = conn.execute(sa.text("SELECT name FROM workloads ORDER BY name")).scalars().all()
    since, until = planning_period(week_until)
    config = DisciplineConfig()
    shares = lever_shares_by_workload(conn, week_since, week_until, config)
    recs, levers = [], []
    for name in names:
        f = plan_workload(conn, name, since, until, now=now)
        if f.status in ("no hours", "no demand") or (f.hours and not _used_in_week(f, week_since)):
            continue
        recs.append(recommendation_row(f))
        levers += _lever_steps(f, shares.get(name, {}), config)
    return pl.DataFrame(recs, schema=RECOMMENDATION_SCHEMA), pl.DataFrame(levers, schema=LEVER_SCHEMA)


def _used_in_week(f: PlanFigures, week_since: datetime) -> bool:
    """True when the workload had tokens in the report week itself."""
    week = f.frame.filter(pl.col("hour") >= week_since)
    return bool((week["input_tokens"].sum() + week["output_tokens"].sum()) > 0) if week.height else False
