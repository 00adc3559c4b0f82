"""The engine (created once) and cached loaders; pages call these, never SQL.

Caches are keyed to the data, not to a clock: every loader's key includes the versions of the
tables it reads (`data_versions`, bumped by a trigger on every write), so an answer is reused
until a load, an edit or a rollup rebuild changes one of those tables, and recomputed at once
after. The versions are read once per script run. `app/ui/warm.py` recomputes the default views
in the background after each change, so the first visit after a load finds them warm.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.scriptrunner import get_script_run_ctx

from models import data_versions

log = logging.getLogger(__name__)

# What each kind of loader reads; a write to any of these tables makes its cached answers stale.
TOKENS = ("usage_hourly", "usage_requests", "request_hourly", "cost_lines", "prices", "attribution_rules",
          "workloads", "fx_rates")
GPU = ("gpu_hourly", "gpu_samples", "gpu_cost_profiles", "gpu_types", "inference_hourly", "inference_samples",
       "model_throughput", "attribution_rules", "workloads")
RUNS = ("ingest_runs",)
MAX_ENTRIES = 64  # per loader: old versions' answers are evicted, so memory stays bounded


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """The engine pages read through: the read-only role when configured, created once per process."""
    from models.infra.database import reader_engine

    return reader_engine()


@st.cache_resource(show_spinner=False)
def _writer_engine() -> Engine:
    from models.infra.database import writer_engine as make_writer

    return make_writer()


def writer_engine() -> Engine:
    """The engine edits go through (the writer role); only for users who may edit."""
    from app.ui.auth import can_edit

    if not can_edit():
        raise PermissionError("only editors may change data")
    return _writer_engine()


def versions() -> dict[str, int]:
    """Every table's data version, read once per script run (and on every call outside one)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    run = getattr(ctx, "cursors", None)  # a new dict each run of the script
    memo = getattr(ctx, "_hybridcost_versions", None)
    if run is not None and memo is not None and memo[0] is run:
        return memo[1]
    with engine().connect() as conn:
        found = data_versions.current(conn)
    if run is not None:
        ctx._hybridcost_versions = (run, found)
    return found


def keyed_to(tables: Sequence[str], spinner: str | bool = False) -> Callable:
    """Like st.cache_data, keyed on the arguments and the versions of `tables` (no TTL)."""
    tables = tuple(tables)

    def wrap(fn: Callable) -> Callable:
        def cached(version: tuple[int, ...], *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        # Streamlit tells cached functions apart by module and qualified name.
        cached.__module__, cached.__qualname__, cached.__name__ = fn.__module__, f"{fn.__qualname__}.v", fn.__name__
        store = st.cache_data(show_spinner=spinner, max_entries=MAX_ENTRIES)(cached)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            return store(data_versions.key_for(versions(), tables), *args, **kwargs)

        call.tables = tables
        call.clear = store.clear
        return call

    return wrap


@keyed_to(TOKENS, spinner="Allocating token spend to workloads and teams…")
def spend_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """Token spend per provider, account, day, model, workload and team (best basis)."""
    from models.queries.spend import allocated_daily

    with engine().connect() as conn:
        return allocated_daily(conn, since=since, until=until)


@keyed_to(TOKENS + GPU + RUNS, spinner=False)
def data_freshness(as_of: datetime | None = None) -> pl.DataFrame:
    """Latest data per source and the last ingest runs."""
    from models.queries.status import freshness

    with engine().connect() as conn:
        return freshness(conn, as_of=as_of)


def _read(query, **kwargs) -> pl.DataFrame:
    """Run one query function on a fresh connection from the cached engine."""
    with engine().connect() as conn:
        return query(conn, **kwargs)


@keyed_to(GPU, spinner="Costing GPU-hours…")
def gpu_spend_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """GPU-hours, cost and idle cost (USD) per day and cost profile."""
    from models.queries.gpu_spend import gpu_spend_daily as query

    return _read(query, since=since, until=until)


@keyed_to(GPU, spinner=False)
def cost_profiles() -> pl.DataFrame:
    """GPU cost profiles with USD per GPU-hour."""
    from models.queries.gpu_spend import cost_profiles as query

    return _read(query)


@keyed_to(("budgets",), spinner=False)
def budgets() -> pl.DataFrame:
    """Monthly budgets per team and workload."""
    from models.queries.overview import budgets as query

    return _read(query)


@keyed_to(TOKENS, spinner="Summing batch and cached tokens…")
def batch_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """Batch and all tokens per day, provider, workload and team."""
    from models.queries.spend_detail import batch_daily as query

    return _read(query, since=since, until=until)


@keyed_to(TOKENS, spinner="Reconciling cost bases…")
def reconciliation(since: datetime, until: datetime) -> pl.DataFrame:
    """Each basis's total per provider and month with variance % to the best basis."""
    from models.queries.spend_detail import reconciliation as query

    return _read(query, since=since, until=until)


@keyed_to(("workloads",), spinner=False)
def workloads() -> pl.DataFrame:
    """Workloads with their teams."""
    from models.queries.workload_view import workloads as query

    return _read(query)


@keyed_to(TOKENS + GPU, spinner="Loading the workload's hourly tokens…")
def workload_hourly(workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """One workload's tokens per hour and source."""
    from models.queries.workload_view import workload_hourly as query

    return _read(query, workload=workload, since=since, until=until)


def workload_api_price(workload: str, since: datetime, until: datetime) -> dict | None:
    """Latest price (USD per 1M tokens) of the API model the workload used most in the range; None if none."""
    from models.queries.workload_view import main_api_model

    found = main_api_model(workload_hourly(workload, since, until))
    return None if found is None else model_price(*found)


@keyed_to(("prices",), spinner=False)
def model_price(provider: str, model: str) -> dict | None:
    """The latest applied price of one model (USD per 1M tokens)."""
    from models.queries.workload_view import model_price as query

    with engine().connect() as conn:
        return query(conn, provider=provider, model=model)


@keyed_to(GPU, spinner="Loading GPU utilization and cost…")
def fleet_gpus(since: datetime, until: datetime, breakeven_util_pct: float = 30.0) -> pl.DataFrame:
    """Per GPU: utilization percentiles, busy/idle hours, USD per GPU-hour, idle cost and signals."""
    from models.queries.fleet import SignalThresholds
    from models.queries.fleet import fleet_gpus as query

    with engine().connect() as conn:
        return query(conn, since, until, SignalThresholds(breakeven_util_pct=breakeven_util_pct))


@keyed_to(GPU, spinner="Loading the GPU × hour heatmap…")
def gpu_heatmap(since: datetime, until: datetime) -> pl.DataFrame:
    """GPU x hour utilization (long form)."""
    from models.queries.fleet import gpu_heatmap as query

    with engine().connect() as conn:
        return query(conn, since, until)


@keyed_to(GPU, spinner="Loading inference queues and KV cache…")
def inference_saturation(since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint and hour: queue depth, KV cache, observed and saturated generation tok/s."""
    from models.queries.fleet import inference_saturation as query

    with engine().connect() as conn:
        return query(conn, since, until)


@keyed_to(GPU, spinner=False)
def inference_pressure(since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint: queued hours, KV cache peak, whether it is saturated."""
    from models.queries.fleet import inference_pressure as query

    with engine().connect() as conn:
        return query(conn, since, until)


@keyed_to(RUNS, spinner=False)
def ingest_runs() -> pl.DataFrame:
    """The latest ingest runs."""
    from models.queries.status import ingest_runs as query

    return _read(query)


@keyed_to(("prices",), spinner=False)
def prices() -> pl.DataFrame:
    """The price catalog (USD per 1M tokens), applied and pending rows."""
    from models.prices import catalog

    return _read(catalog)


@keyed_to(("attribution_rules", "workloads"), spinner=False)
def attribution_rules() -> pl.DataFrame:
    """Attribution rules in order."""
    from models.queries.reference import attribution_rules as query

    return _read(query)


@keyed_to(TOKENS, spinner="Finding unpriced usage…")
def unpriced_usage(since: datetime, until: datetime) -> pl.DataFrame:
    """Usage with no price in effect, per provider and model."""
    from models.queries.reference import unpriced_usage as query

    return _read(query, since=since, until=until)


@keyed_to(("scenarios",), spinner=False)
def scenarios() -> pl.DataFrame:
    """Saved what-if scenarios."""
    from models.queries.reference import scenarios as query

    return _read(query)


def clear() -> None:
    """Forget cached frames after an edit (the data versions would retire them anyway; this is at once)."""
    st.cache_data.clear()
