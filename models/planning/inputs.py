"""Contract v2's inputs for one workload, filled from the database where it holds them, each with its provenance.

`gather` reads what the inputs are measured from (request minutes, vLLM scrapes, the discipline
analytics' batch candidates, the settings); `assemble` turns that, the plan and the candidate into
`PlanV2`: the engine's `PlanningInputs`, the per-hour peak factors for `Demand.peak_factor`, and
one `Provenance` per input saying whether it was measured or assumed, and from what. The rules and
defaults are in docs/economics.md ("Measured inputs for the planning path").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
from sqlalchemy import Connection

from models.discipline import levers_inputs
from models.economics.gpu_rates import GpuRate, catalog_rates, rates_for, reference_rate
from models.economics.plan_inputs import PlanInputs, PlanningInputs, SloInputs, operating_point
from models.economics.published_curves import PublishedCurve, catalog_curves, find_curve
from models.infra.settings import get_settings
from models.planning.candidate import Candidate
from models.planning.curve import MeasuredCurve, measured_curve
from models.planning.plans import Plan
from models.planning.provenance import PlanV2, Provenance, platform_cost, throughput_flag
from models.queries.plan_signals import minute_peaks, vllm_intervals, vllm_latency_steps

PEAK_MIN_REQUESTS = 600  # an hour with fewer served requests takes the default peak factor
DEFAULT_PEAK_FACTOR = 1.0
DEFAULT_P95_ITL_MS = 50.0
DEFAULT_P95_TTFT_MS = 2000.0


@dataclass(frozen=True)
class Signals:
    """What the v2 inputs are measured from, read once per workload and period."""

    minutes: pl.DataFrame  # per hour: requests, tokens, busiest_minute_tokens
    intervals: pl.DataFrame  # vLLM scrape intervals of the workload's servers
    batchable_share: float | None  # discipline analytics: batch candidates' share of spend after the cache
    requests: int  # requests the discipline analytics saw
    team: str
    platform_usd_per_month: float
    platform_by_team: str
    curves: tuple[PublishedCurve, ...] = ()  # the published-curve catalog (built-in, then the user's file)
    rates: tuple[GpuRate, ...] = ()  # the GPU rate catalog (built-in, then the user's file)
    latency: pl.DataFrame | None = None  # per scrape: latency-histogram bucket increases of those servers


def gather(conn: Connection, workload: str, since: datetime, until: datetime) -> Signals:
    """Read the signals of `workload` over [since, until)."""
    levers = levers_inputs(conn, since, until, workload)
    team = conn.exec_driver_sql("SELECT team FROM workloads WHERE name = %(w)s", {"w": workload}).scalar() or ""
    settings = get_settings()
    return Signals(minute_peaks(conn, workload, since, until), vllm_intervals(conn, workload, since, until),
                   levers["batchable_share"], int(levers["requests"] or 0), team,
                   settings.platform_usd_per_month, settings.platform_usd_per_month_by_team,
                   curves=catalog_curves(settings.published_curves_csv),
                   rates=catalog_rates(settings.gpu_rates_csv),
                   latency=vllm_latency_steps(conn, workload, since, until))


def hourly_peaks(minutes: pl.DataFrame, hours: pl.Series) -> np.ndarray:
    """``p_t`` per planning hour: busiest minute over mean minute where the hour had enough requests, else NaN."""
    busy = minutes.filter(pl.col("requests") >= PEAK_MIN_REQUESTS, pl.col("tokens") > 0).select(
        pl.col("hour_at").alias("hour"),
        pl.max_horizontal(pl.lit(1.0), pl.col("busiest_minute_tokens") / (pl.col("tokens") / 60.0)).alias("p"))
    frame = pl.DataFrame({"hour": hours}).join(busy, on="hour", how="left")
    return frame["p"].fill_null(float("nan")).to_numpy().astype(np.float64)


def _peak_provenance(p: np.ndarray) -> Provenance:
    seen = p[~np.isnan(p)]
    if seen.size == 0:
        return Provenance("peak_factor", DEFAULT_PEAK_FACTOR, False, "default",
                          f"default {DEFAULT_PEAK_FACTOR:g}: no hour had {PEAK_MIN_REQUESTS} served requests in the "
                          "request logs (busiest minute over mean minute needs that many to be more than noise)")
    return Provenance("peak_factor", {"measured_hours": int(seen.size), "hours": int(p.size),
                                      "median": float(np.median(seen)), "max": float(seen.max())}, True, "measured",
                      f"request logs: busiest minute over mean minute in {seen.size:,} of {p.size:,} hours (those "
                      f"with {PEAK_MIN_REQUESTS}+ requests; median {np.median(seen):.2f}, max {seen.max():.2f}); "
                      f"the other hours take {DEFAULT_PEAK_FACTOR:g}")


def _slo(plan: Plan | None, candidate: Candidate, curve: MeasuredCurve | None, curves: tuple[PublishedCurve, ...],
         demand_mix: float) -> tuple[SloInputs | None, list[Provenance], str | None]:
    itl = plan.slo_p95_itl_ms if plan and plan.slo_p95_itl_ms else None
    ttft = plan.slo_p95_ttft_ms if plan and plan.slo_p95_ttft_ms else None
    targets = {"p95_itl_ms": itl or DEFAULT_P95_ITL_MS, "p95_ttft_ms": ttft or DEFAULT_P95_TTFT_MS}
    said = "the workload's plan" if itl or ttft else "the stated defaults"
    rows = [Provenance("slo_targets", targets, False, "plan" if itl or ttft else "default",
                       f"{said}: p95 inter-token latency {targets['p95_itl_ms']:g} ms, time to first token "
                       f"{targets['p95_ttft_ms']:g} ms")]
    if curve is not None:
        rows.append(Provenance("slo_curve", [p.model_dump() for p in curve.points], True, "measured",
                               f"the workload's own vLLM servers: {curve.intervals:,} scrape intervals on "
                               f"{curve.servers} server(s), {len(curve.points)} points by running requests; "
                               + _latency_said(curve)))
        return SloInputs(**targets, curve=curve.points), rows, "measured"
    published = (find_curve(curves, candidate.model or "", candidate.gpu_type, candidate.tensor_parallel or 0,
                            demand_mix) if candidate.gpu_type else None)
    if published is not None:
        points = published.points
        rows.append(Provenance("slo_curve", [p.model_dump() for p in points], False, "published", published.source))
        return SloInputs(**targets, curve=points), rows, "published"
    rows.append(Provenance("slo_curve", None, False, "default",
                           f"no curve: no vLLM metrics of its own and no published curve for {candidate.label} in "
                           "the catalog (models/economics/published_curves.csv), so the plan's saturation "
                           "throughput and headroom stand (v1 sizing)"))
    return None, rows, None


def on_demand_rate(plan: Plan | None, candidate: Candidate, rates: tuple[GpuRate, ...]
                   ) -> tuple[float | None, Provenance]:
    """The on-demand tier's USD per GPU-hour: the plan's, else the GPU rate catalog's reference rate, else none."""
    if plan and plan.on_demand_usd_per_gpu_hour:
        value = plan.on_demand_usd_per_gpu_hour
        return value, Provenance("on_demand_hourly_rate", value, False, "plan",
                                 f"the workload's plan: ${value:,.2f} per GPU-hour")
    gpu_type = candidate.gpu_type or ""
    found = reference_rate(rates, gpu_type) if gpu_type else None
    if found is None:
        return None, Provenance("on_demand_hourly_rate", None, False, "default",
                                "no on-demand tier: no on-demand rate in the plan (--on-demand-rate), and the GPU "
                                f"rate catalog has no published on-demand rate for {gpu_type or 'this candidate'}")
    count = len(rates_for(rates, gpu_type, "on_demand"))
    value = float(found.usd_per_gpu_hour)
    return value, Provenance("on_demand_hourly_rate", value, False, "published",
                             f"published: GPU rate catalog, {found.words()}; the middle of {count} published "
                             f"on-demand rate{'s' if count != 1 else ''} for {gpu_type} (set your own with "
                             "--on-demand-rate)")


def _status(measured: int, points: int, otherwise: str) -> str:
    return "measured" if measured == points else otherwise if measured == 0 else "partly measured"


def curve_latency(curve: MeasuredCurve | None) -> dict | None:
    """Whether a measured curve's p95 inter-token latency and time to first token came from vLLM's histograms."""
    if curve is None:
        return None
    n = len(curve.points)
    return {"p95_itl_ms": _status(curve.itl_measured_points, n, "estimated"),
            "p95_ttft_ms": _status(curve.ttft_measured_points, n, "target (not checked)"),
            "points": n, "itl_measured_points": curve.itl_measured_points,
            "ttft_measured_points": curve.ttft_measured_points, "itl_observations": curve.observations,
            "source": _latency_said(curve)}


def _latency_said(curve: MeasuredCurve) -> str:
    n = len(curve.points)
    itl = (f"p95 inter-token latency measured from vLLM's histogram at {curve.itl_measured_points} of {n} points "
           f"({curve.observations:,} observations)" if curve.itl_measured_points else
           "p95 inter-token latency estimated as running / generated tok/s (no latency histogram with enough "
           "observations)")
    if 0 < curve.itl_measured_points < n:
        itl += ", estimated as running / generated tok/s at the others"
    ttft = (f"time to first token measured from vLLM's histogram at {curve.ttft_measured_points} of {n} points"
            if curve.ttft_measured_points else "time to first token not measured, so not checked")
    if 0 < curve.ttft_measured_points < n:
        ttft += " (the target's value, unchecked, at the others)"
    return f"{itl}; {ttft}"


def assemble(signals: Signals, plan: Plan | None, candidate: Candidate, hours: pl.Series,
             demand_mix: float) -> PlanV2:
    """The v2 inputs, per-hour peak factors and provenance; `demand_mix` is the workload's input per output token."""
    peaks = hourly_peaks(signals.minutes, hours)
    rows = [_peak_provenance(peaks)]
    ttft_target = plan.slo_p95_ttft_ms if plan and plan.slo_p95_ttft_ms else DEFAULT_P95_TTFT_MS
    measured = measured_curve(signals.intervals, ttft_target, signals.latency)
    slo, slo_rows, curve_kind = _slo(plan, candidate, measured, signals.curves, demand_mix)
    rows += slo_rows
    d = signals.batchable_share
    rows.append(Provenance("deferrable_share", d or 0.0, d is not None, "measured" if d is not None else "default",
                           f"discipline analytics: batch candidates (off-hours or bulk API requests, not already "
                           f"batch) are {d:.1%} of the spend after the cache, over {signals.requests:,} requests"
                           if d is not None else "default 0: no request logs to find batch candidates in"))
    e = plan.escalation_share if plan and plan.escalation_share is not None else None
    rows.append(Provenance("escalation_share", e or 0.0, False, "plan" if e is not None else "default",
                           "the workload's plan" if e is not None else "default 0 (set it with hybridcost plan set "
                           "--escalation-share)"))
    lead = plan.lead_time_days if plan and plan.lead_time_days is not None else None
    rows.append(Provenance("lead_time_days", lead or 0.0, False, "plan" if lead is not None else "default",
                           "the workload's plan" if lead is not None else "default 0 days (--lead-time-days)"))
    fixed, fixed_row = platform_cost(signals.team, signals.platform_usd_per_month, signals.platform_by_team)
    rows.append(fixed_row)
    od, od_row = on_demand_rate(plan, candidate, signals.rates)
    rows.append(od_row)
    chosen = not np.isnan(peaks).all() or d is not None or e or lead or fixed or od
    block = PlanInputs(escalation_share=e or 0.0, deferrable_share=d or 0.0, fixed_monthly=fixed,
                       on_demand_hourly_rate=od, lead_time_days=lead or 0.0) if chosen else None
    inputs = PlanningInputs(plan=block, slo=slo)
    flag = throughput_flag(candidate.gpu, operating_point(slo) if slo else None, demand_mix, curve_kind)
    return PlanV2(inputs, peaks if block is not None else None, tuple(rows), curve_kind, flag,
                  curve_latency(measured) if curve_kind == "measured" else None)
