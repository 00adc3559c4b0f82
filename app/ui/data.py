"""The engine (created once) and cached loaders; pages call these, never SQL."""

from __future__ import annotations

import logging
from datetime import datetime

import polars as pl
import streamlit as st
from sqlalchemy import Engine

from app.ui.auth import can_edit
from models.infra.database import reader_engine
from models.infra.database import writer_engine as make_writer
from models.prices import catalog
from models.queries import charges, fleet, gpu_spend, overview, reference, spend_detail, status, workload_view
from models.queries.fleet import SignalThresholds
from models.queries.spend import allocated_daily
from models.queries.status import freshness

log = logging.getLogger(__name__)
TTL_SECONDS = 300


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


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def spend_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """Token spend per provider, account, day, model, workload and team (best basis)."""
    with engine().connect() as conn:
        return allocated_daily(conn, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def not_token_spend(since: datetime, until: datetime) -> tuple[pl.DataFrame, float]:
    """Non-token AI charges per provider and kind, and commitments amortized (USD): shown apart from token spend."""
    with engine().connect() as conn:
        return (charges.non_token_charges(conn, since=since, until=until),
                float(charges.commitments_in(conn, since=since, until=until)))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def data_freshness(as_of: datetime | None = None) -> pl.DataFrame:
    """Latest data per source and the last ingest runs."""
    with engine().connect() as conn:
        return freshness(conn, as_of=as_of)


def _read(query, **kwargs) -> pl.DataFrame:
    """Run one query function on a fresh connection from the cached engine."""
    with engine().connect() as conn:
        return query(conn, **kwargs)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def gpu_spend_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """GPU-hours, cost and idle cost (USD) per day and cost profile."""
    return _read(gpu_spend.gpu_spend_daily, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def cost_profiles() -> pl.DataFrame:
    """GPU cost profiles with USD per GPU-hour."""
    return _read(gpu_spend.cost_profiles)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def budgets() -> pl.DataFrame:
    """Monthly budgets per team and workload."""
    return _read(overview.budgets)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def batch_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """Batch and all tokens per day, provider, workload and team."""
    return _read(spend_detail.batch_daily, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reconciliation(since: datetime, until: datetime) -> pl.DataFrame:
    """Each basis's total per provider and month with variance % to the best basis."""
    return _read(spend_detail.reconciliation, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def workloads() -> pl.DataFrame:
    """Workloads with their teams."""
    return _read(workload_view.workloads)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def workload_hourly(workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """One workload's tokens per hour and source."""
    return _read(workload_view.workload_hourly, workload=workload, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def fleet_gpus(since: datetime, until: datetime, breakeven_util_pct: float = 30.0) -> pl.DataFrame:
    """Per GPU: utilization percentiles, busy/idle hours, USD per GPU-hour, idle cost and signals."""
    with engine().connect() as conn:
        return fleet.fleet_gpus(conn, since, until, SignalThresholds(breakeven_util_pct=breakeven_util_pct))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def gpu_heatmap(since: datetime, until: datetime) -> pl.DataFrame:
    """GPU x hour utilization (long form)."""
    with engine().connect() as conn:
        return fleet.gpu_heatmap(conn, since, until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def inference_saturation(since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint and hour: queue depth, KV cache, observed and saturated generation tok/s."""
    with engine().connect() as conn:
        return fleet.inference_saturation(conn, since, until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def inference_pressure(since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint: queued hours, KV cache peak, whether it is saturated."""
    with engine().connect() as conn:
        return fleet.inference_pressure(conn, since, until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def ingest_runs() -> pl.DataFrame:
    """The latest ingest runs."""
    return _read(status.ingest_runs)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def prices() -> pl.DataFrame:
    """The price catalog (USD per 1M tokens), applied and pending rows."""
    return _read(catalog)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def attribution_rules() -> pl.DataFrame:
    """Attribution rules in order."""
    return _read(reference.attribution_rules)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def unpriced_usage(since: datetime, until: datetime) -> pl.DataFrame:
    """Usage with no price in effect, per provider and model."""
    return _read(reference.unpriced_usage, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def scenarios() -> pl.DataFrame:
    """Saved what-if scenarios."""
    return _read(reference.scenarios)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def lookalike_names() -> list[dict]:
    """Names that display alike but differ by invisible characters (bidi controls, zero-width)."""
    from models.queries.names import lookalike_names as query

    return _read(query)


def clear() -> None:
    """Forget cached frames after an edit, so every page shows the new state."""
    st.cache_data.clear()
