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

from app.ui.auth import can_edit
from models import data_versions
from models.infra.database import reader_engine
from models.infra.database import writer_engine as make_writer
from models.prices import catalog
from models.queries import (charges, fleet, gpu_labels, gpu_spend, names, overview, reference, sm_activity,
                            spend_detail, status, workload_view)
from models.queries.fleet import SignalThresholds
from models.queries.names import NAME_COLUMNS
from models.queries.spend import allocated_daily
from models.queries.status import freshness

log = logging.getLogger(__name__)

# What each kind of loader reads; a write to any of these tables makes its cached answers stale.
TOKENS = ("usage_hourly", "usage_requests", "request_hourly", "cost_lines", "prices", "attribution_rules",
          "workloads", "fx_rates")
GPU = ("gpu_hourly", "gpu_samples", "gpu_cost_profiles", "gpu_types", "inference_hourly", "inference_samples",
       "inference_latency_buckets", "inference_latency_hourly",
       "model_throughput", "attribution_rules", "workloads")
RUNS = ("ingest_runs",)
MAX_ENTRIES = 64  # per loader: old versions' answers are evicted, so memory stays bounded


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """The engine pages read through: the read-only role when configured, created once per process."""
    return reader_engine()


@st.cache_resource(show_spinner=False)
def _writer_engine() -> Engine:
    return make_writer()


def writer_engine() -> Engine:
    """The engine edits go through (the writer role); only for users who may edit."""
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
    with engine().connect() as conn:
        return allocated_daily(conn, since=since, until=until)


@keyed_to(TOKENS + ("commitments",), spinner=False)
def not_token_spend(since: datetime, until: datetime) -> tuple[pl.DataFrame, float]:
    """Non-token AI charges per provider and kind, and commitments amortized (USD): shown apart from token spend."""
    with engine().connect() as conn:
        return (charges.non_token_charges(conn, since=since, until=until),
                float(charges.commitments_in(conn, since=since, until=until)))


@keyed_to(TOKENS + GPU + RUNS, spinner=False)
def data_freshness(as_of: datetime | None = None) -> pl.DataFrame:
    """Latest data per source and the last ingest runs."""
    with engine().connect() as conn:
        return freshness(conn, as_of=as_of)


def _read(query, **kwargs) -> pl.DataFrame:
    """Run one query function on a fresh connection from the cached engine."""
    with engine().connect() as conn:
        return query(conn, **kwargs)


@keyed_to(GPU, spinner="Costing GPU-hours…")
def gpu_spend_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """GPU-hours, cost and idle cost (USD) per day and cost profile."""
    return _read(gpu_spend.gpu_spend_daily, since=since, until=until)


@keyed_to(GPU, spinner=False)
def cost_profiles() -> pl.DataFrame:
    """GPU cost profiles with USD per GPU-hour."""
    return _read(gpu_spend.cost_profiles)


@keyed_to(("budgets",), spinner=False)
def budgets() -> pl.DataFrame:
    """Monthly budgets per team and workload."""
    return _read(overview.budgets)


@keyed_to(TOKENS, spinner="Summing batch and cached tokens…")
def batch_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """Batch and all tokens per day, provider, workload and team."""
    return _read(spend_detail.batch_daily, since=since, until=until)


@keyed_to(TOKENS, spinner="Reconciling cost bases…")
def reconciliation(since: datetime, until: datetime) -> pl.DataFrame:
    """Each basis's total per provider and month with variance % to the best basis."""
    return _read(spend_detail.reconciliation, since=since, until=until)


@keyed_to(("workloads",), spinner=False)
def workloads() -> pl.DataFrame:
    """Workloads with their teams."""
    return _read(workload_view.workloads)


@keyed_to(TOKENS + GPU, spinner="Loading the workload's hourly tokens…")
def workload_hourly(workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """One workload's tokens per hour and source."""
    return _read(workload_view.workload_hourly, workload=workload, since=since, until=until)


@keyed_to(GPU, spinner="Loading GPU utilization and cost…")
def fleet_gpus(since: datetime, until: datetime, breakeven_util_pct: float = 30.0) -> pl.DataFrame:
    """Per GPU: utilization percentiles, busy/idle hours, USD per GPU-hour, idle cost and signals."""
    with engine().connect() as conn:
        return fleet.fleet_gpus(conn, since, until, SignalThresholds(breakeven_util_pct=breakeven_util_pct))


@keyed_to(GPU, spinner="Loading the GPU × hour heatmap…")
def gpu_heatmap(since: datetime, until: datetime) -> pl.DataFrame:
    """GPU x hour utilization (long form)."""
    with engine().connect() as conn:
        return fleet.gpu_heatmap(conn, since, until)


@keyed_to(GPU, spinner=False)
def gpu_indexes(uuids: tuple[str, ...]) -> dict[str, int]:
    """Device index per GPU UUID from its newest raw sample (for host:index labels)."""
    with engine().connect() as conn:
        return gpu_labels.gpu_indexes(conn, uuids)


@keyed_to(GPU + ("workload_plans",), spinner="Loading SM activity against tokens served…")
def sm_delivery(since: datetime, until: datetime) -> pl.DataFrame:
    """Per GPU set serving vLLM: SM activity, tokens per SM-active GPU against the model's curve, dollars."""
    with engine().connect() as conn:
        return sm_activity.sm_delivery(conn, since, until)


@keyed_to(GPU, spinner=False)
def gpu_sm_activity(since: datetime, until: datetime) -> pl.DataFrame:
    """Per GPU: mean utilization beside mean SM activity, hours with both."""
    with engine().connect() as conn:
        return sm_activity.gpu_sm_activity(conn, since, until)


@keyed_to(GPU, spinner="Loading inference queues and KV cache…")
def inference_saturation(since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint and hour: queue depth, KV cache, observed and saturated generation tok/s."""
    with engine().connect() as conn:
        return fleet.inference_saturation(conn, since, until)


@keyed_to(GPU, spinner=False)
def inference_pressure(since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint: queued hours, KV cache peak, whether it is saturated."""
    with engine().connect() as conn:
        return fleet.inference_pressure(conn, since, until)


@keyed_to(RUNS, spinner=False)
def ingest_runs() -> pl.DataFrame:
    """The latest ingest runs."""
    return _read(status.ingest_runs)


@keyed_to(("prices",), spinner=False)
def prices() -> pl.DataFrame:
    """The price catalog (USD per 1M tokens), applied and pending rows."""
    return _read(catalog)


@keyed_to(("attribution_rules", "workloads"), spinner=False)
def attribution_rules() -> pl.DataFrame:
    """Attribution rules in order."""
    return _read(reference.attribution_rules)


@keyed_to(TOKENS, spinner="Finding unpriced usage…")
def unpriced_usage(since: datetime, until: datetime) -> pl.DataFrame:
    """Usage with no price in effect, per provider and model."""
    return _read(reference.unpriced_usage, since=since, until=until)


@keyed_to(("scenarios",), spinner=False)
def scenarios() -> pl.DataFrame:
    """Saved what-if scenarios."""
    return _read(reference.scenarios)


@keyed_to(sorted({table for _, table, _ in NAME_COLUMNS}), spinner=False)
def lookalike_names() -> list[dict]:
    """Names that display alike but differ by invisible characters (bidi controls, zero-width)."""
    return _read(names.lookalike_names)


def clear() -> None:
    """Forget cached frames after an edit (the data versions would retire them anyway; this is at once)."""
    st.cache_data.clear()
