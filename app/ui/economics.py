"""Cached economics for the pages: a workload's demand turned into contract inputs and results.

The engine lives in `models.economics` (pure functions); this module only wires database
frames into it and caches the answers. Pages check `available()` so they work before the
economics package is installed.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime
from typing import Any

import polars as pl
import streamlit as st

from app.ui import data

DEFAULT_GPU = {"gpu_type": "H100", "model": "Llama 3.1 8B FP8", "tp": 1, "pricing": "rent"}


def available() -> bool:
    """True when the economics engine (models.economics.contract) can be imported."""
    return importlib.util.find_spec("models.economics.contract") is not None


def demand_table(workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """The workload's hourly demand: every hour of the range, trimmed to the hours with data."""
    from models.queries.workload_view import demand_frame, trim_to_data

    return trim_to_data(demand_frame(data.workload_hourly(workload, since, until), since=since, until=until))


def to_demand(frame: pl.DataFrame):
    """A contract Demand from a demand table."""
    from models.economics.contract import Demand

    return Demand.from_arrays(frame["input_tokens"].to_numpy(), frame["cached_input_tokens"].to_numpy(),
                              frame["output_tokens"].to_numpy(), hour=frame["hour"].to_numpy())


def default_gpu_fields(pricing: str = "rent", gpu_type: str = "H100", model: str = "Llama 3.1 8B FP8",
                       tp: int = 1) -> dict[str, Any]:
    """The catalog's GPU option as a plain dict (the inputs a page may override)."""
    from models.economics.catalog import gpu_option_from_catalog

    return gpu_option_from_catalog(gpu_type, model, tp, pricing).model_dump()


def api_fields(workload: str, since: datetime, until: datetime) -> dict[str, Any] | None:
    """ApiPricing inputs from the price of the workload's main API model; None when it has none."""
    price = data.workload_api_price(workload, since, until)
    if price is None:
        return None
    return {"input_per_mtok": price["input_per_mtok"], "cached_input_per_mtok": price["cached_input_per_mtok"],
            "output_per_mtok": price["output_per_mtok"], "batch_discount": 0.5, "batch_share": 0.0,
            "model": f"{price['provider']}/{price['model']}"}


def _api(fields: dict[str, Any]):
    from models.economics.contract import ApiPricing

    return ApiPricing(**{k: v for k, v in fields.items() if k != "model"})


def _gpu(fields: dict[str, Any]):
    from models.economics.contract import GpuOption

    return GpuOption(**fields)


@st.cache_data(max_entries=data.MAX_ENTRIES, show_spinner=False)
def simulate(demand: pl.DataFrame, api: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    """The contract's outputs (ECONOMICS.md) for a demand table, API prices and a GPU option."""
    from models.economics.contract import simulate as run

    result = run(to_demand(demand), _api(api), _gpu(gpu))
    return {**result.as_contract_dict(), "replica_gpus": int(gpu.get("replica_gpus", 1))}


@st.cache_data(max_entries=data.MAX_ENTRIES, show_spinner=False)
def curve(demand: pl.DataFrame, api: dict[str, Any], gpu: dict[str, Any],
          reach_monthly_tokens: float | None = None) -> pl.DataFrame:
    """Monthly cost of API only, GPU only and the best hybrid against monthly tokens.

    The curve runs to the engine's default end, or further to `reach_monthly_tokens` (a forecast's
    upper end, say), capped at 6x today's volume so one wild forecast cannot flatten the chart.
    """
    from models.economics.contract import prepare
    from models.economics.curves import breakeven_curve, default_max_multiplier

    d, a, g = to_demand(demand), _api(api), _gpu(gpu)
    k_max = default_max_multiplier(prepare(d, a, g))
    today = float(demand["input_tokens"].sum() + demand["output_tokens"].sum()) * 730 / max(demand.height, 1)
    if reach_monthly_tokens and today > 0:
        k_max = max(k_max, min(6.0, 1.1 * reach_monthly_tokens / today))
    return breakeven_curve(d, a, g, max_multiplier=k_max)


@st.cache_data(max_entries=data.MAX_ENTRIES, show_spinner=False)
def move_dates(weekly: pl.DataFrame, demand: pl.DataFrame, api: dict[str, Any], gpu: dict[str, Any]):
    """Forecast of monthly tokens and the weeks when one replica / a full move pays (None if under 2 weeks)."""
    from models.economics.forecast import move_dates as run

    history = weekly.select("week_start", "tokens").filter(pl.col("tokens") > 0)
    if history.height < 2:
        return None
    return run(history, to_demand(demand), _api(api), _gpu(gpu))


@st.cache_data(max_entries=data.MAX_ENTRIES, show_spinner=False)
def buy_vs_rent(demand: pl.DataFrame, api: dict[str, Any], buy: dict[str, Any], rent: dict[str, Any]) -> dict:
    """Payback of buying vs tokens and vs renting (or 'insufficient history')."""
    from models.economics.buy_vs_rent import buy_vs_rent as run

    return run(to_demand(demand), _api(api), _gpu(buy), _gpu(rent)).as_dict()


@st.cache_data(max_entries=data.MAX_ENTRIES, show_spinner=False)
def levers(demand: pl.DataFrame, api: dict[str, Any], gpu: dict[str, Any], shares: dict[str, float | None]
           ) -> pl.DataFrame:
    """The cost waterfall (cache, batch, route, move) as a frame in USD per month."""
    from models.economics.levers import levers_waterfall

    return levers_waterfall(to_demand(demand), _api(api), _gpu(gpu), **shares).frame()


@data.keyed_to(data.TOKENS + data.GPU + ("scenarios",), spinner="Computing the workload's breakeven…")
def workload_result(workload: str, since: datetime, until: datetime) -> dict[str, Any] | None:
    """The figures `hybridcost simulate --workload` and the weekly report give (per-hour API cost)."""
    from models.queries.workload_demand import NotHourlyError
    from models.queries.workload_economics import workload_economics

    with data.engine().connect() as conn:
        try:
            found = workload_economics(conn, workload, since, until)
        except NotHourlyError as exc:
            return {"error": str(exc)}
    if found is None:
        return None
    return {**found.result.as_contract_dict(), "replica_gpus": found.gpu.replica_gpus, "option": found.option,
            "monthly_tokens": found.monthly_tokens, "local_tokens": found.local_tokens,
            "api_tokens": found.api_tokens}


def monthly(result: dict[str, Any], total: float) -> float:
    """A total over the demand's H hours as USD per month (x 730 / H)."""
    return total * 730 / result["hours"] if result["hours"] else 0.0


def recommendation(result: dict[str, Any], replica_gpus: int) -> str:
    """One sentence: stay on tokens, go hybrid with N replicas, or move fully, with the monthly saving."""
    api_m = monthly(result, result["api_only_cost"])
    hybrid_m = monthly(result, result["hybrid_cost"])
    gpu_m = monthly(result, result["gpu_only_cost"])
    n = result["optimal_replicas"]
    if n == 0:
        where = ("" if result["breakeven_monthly_tokens"] is None else
                 f" until volume reaches {result['breakeven_monthly_tokens'] / 1e6:,.0f}M tokens/month")
        return f"Stay on token APIs{where}: no GPU replica pays at today's volume (API only ${api_m:,.0f}/month)."
    if n >= result["peak_replicas"] and gpu_m <= hybrid_m + 1e-6:
        return (f"Move fully to {n} replica(s) ({n * replica_gpus} GPUs): ${gpu_m:,.0f}/month "
                f"vs ${api_m:,.0f}/month on tokens (saves ${api_m - gpu_m:,.0f}/month).")
    return (f"Go hybrid: {n} replica(s) ({n * replica_gpus} GPUs) for the base load, burst the rest to the API: "
            f"${hybrid_m:,.0f}/month vs ${api_m:,.0f}/month on tokens (saves ${api_m - hybrid_m:,.0f}/month).")


@st.cache_data(max_entries=data.MAX_ENTRIES, show_spinner=False)
def fleet_total(demand: pl.DataFrame, api: dict[str, Any], gpu: dict[str, Any], replicas: int) -> float:
    """Monthly cost (USD) with exactly `replicas` replicas and the rest on the API: Total(R) × 730 / H."""
    from models.economics.contract import hybrid_total

    return hybrid_total(to_demand(demand), _api(api), _gpu(gpu), replicas) * 730 / demand.height


@st.cache_data(max_entries=data.MAX_ENTRIES, show_spinner=False)
def scenario_costs(demand: pl.DataFrame, bodies: dict[str, str]) -> pl.DataFrame:
    """Per saved scenario (name -> JSON body): API-only, GPU-only and hybrid USD/month on the given demand."""
    import json

    rows = []
    for name, text in bodies.items():
        body = json.loads(text)
        try:
            result = simulate(demand, body["api"], body["gpu"])
        except (KeyError, TypeError, ValueError) as exc:
            rows.append({"scenario": name, "api_only_usd_month": None, "gpu_only_usd_month": None,
                         "hybrid_usd_month": None, "optimal_replicas": None, "note": f"not comparable: {exc}"[:120]})
            continue
        rows.append({"scenario": name, "api_only_usd_month": monthly(result, result["api_only_cost"]),
                     "gpu_only_usd_month": monthly(result, result["gpu_only_cost"]),
                     "hybrid_usd_month": monthly(result, result["hybrid_cost"]),
                     "optimal_replicas": result["optimal_replicas"], "note": ""})
    return pl.DataFrame(rows, schema={"scenario": pl.String, "api_only_usd_month": pl.Float64,
                                      "gpu_only_usd_month": pl.Float64, "hybrid_usd_month": pl.Float64,
                                      "optimal_replicas": pl.Int64, "note": pl.String})
