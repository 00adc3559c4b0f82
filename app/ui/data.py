"""The engine (created once) and cached loaders; pages call these, never SQL."""

from __future__ import annotations

import logging
from datetime import datetime

import polars as pl
import streamlit as st
from sqlalchemy import Engine

log = logging.getLogger(__name__)
TTL_SECONDS = 300


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


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def spend_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """Token spend per provider, account, day, model, workload and team (best basis)."""
    from models.queries.spend import allocated_daily

    with engine().connect() as conn:
        return allocated_daily(conn, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def data_freshness(as_of: datetime | None = None) -> pl.DataFrame:
    """Latest data per source and the last ingest runs."""
    from models.queries.status import freshness

    with engine().connect() as conn:
        return freshness(conn, as_of=as_of)


def _read(query, **kwargs) -> pl.DataFrame:
    """Run one query function on a fresh connection from the cached engine."""
    with engine().connect() as conn:
        return query(conn, **kwargs)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def gpu_spend_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """GPU-hours, cost and idle cost (USD) per day and cost profile."""
    from models.queries.gpu_spend import gpu_spend_daily as query

    return _read(query, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def cost_profiles() -> pl.DataFrame:
    """GPU cost profiles with USD per GPU-hour."""
    from models.queries.gpu_spend import cost_profiles as query

    return _read(query)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def budgets() -> pl.DataFrame:
    """Monthly budgets per team and workload."""
    from models.queries.overview import budgets as query

    return _read(query)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def batch_daily(since: datetime, until: datetime) -> pl.DataFrame:
    """Batch and all tokens per day, provider, workload and team."""
    from models.queries.spend_detail import batch_daily as query

    return _read(query, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reconciliation(since: datetime, until: datetime) -> pl.DataFrame:
    """Each basis's total per provider and month with variance % to the best basis."""
    from models.queries.spend_detail import reconciliation as query

    return _read(query, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def workloads() -> pl.DataFrame:
    """Workloads with their teams."""
    from models.queries.workload_view import workloads as query

    return _read(query)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def workload_hourly(workload: str, since: datetime, until: datetime) -> pl.DataFrame:
    """One workload's tokens per hour and source."""
    from models.queries.workload_view import workload_hourly as query

    return _read(query, workload=workload, since=since, until=until)


def workload_api_price(workload: str, since: datetime, until: datetime) -> dict | None:
    """Latest price (USD per 1M tokens) of the API model the workload used most in the range; None if none."""
    from models.queries.workload_view import main_api_model

    found = main_api_model(workload_hourly(workload, since, until))
    return None if found is None else model_price(*found)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def model_price(provider: str, model: str) -> dict | None:
    """The latest applied price of one model (USD per 1M tokens)."""
    from models.queries.workload_view import model_price as query

    with engine().connect() as conn:
        return query(conn, provider=provider, model=model)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def fleet_gpus(since: datetime, until: datetime, breakeven_util_pct: float = 30.0) -> pl.DataFrame:
    """Per GPU: utilization percentiles, busy/idle hours, USD per GPU-hour, idle cost and signals."""
    from models.queries.fleet import SignalThresholds
    from models.queries.fleet import fleet_gpus as query

    with engine().connect() as conn:
        return query(conn, since, until, SignalThresholds(breakeven_util_pct=breakeven_util_pct))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def gpu_heatmap(since: datetime, until: datetime) -> pl.DataFrame:
    """GPU x hour utilization (long form)."""
    from models.queries.fleet import gpu_heatmap as query

    with engine().connect() as conn:
        return query(conn, since, until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def gpu_indexes(uuids: tuple[str, ...]) -> dict[str, int]:
    """Device index per GPU UUID from its newest raw sample (for host:index labels)."""
    from models.queries.gpu_labels import gpu_indexes as query

    with engine().connect() as conn:
        return query(conn, uuids)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def inference_saturation(since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint and hour: queue depth, KV cache, observed and saturated generation tok/s."""
    from models.queries.fleet import inference_saturation as query

    with engine().connect() as conn:
        return query(conn, since, until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def inference_pressure(since: datetime, until: datetime) -> pl.DataFrame:
    """Per endpoint: queued hours, KV cache peak, whether it is saturated."""
    from models.queries.fleet import inference_pressure as query

    with engine().connect() as conn:
        return query(conn, since, until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def ingest_runs() -> pl.DataFrame:
    """The latest ingest runs."""
    from models.queries.status import ingest_runs as query

    return _read(query)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def prices() -> pl.DataFrame:
    """The price catalog (USD per 1M tokens), applied and pending rows."""
    from models.prices import catalog

    return _read(catalog)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def attribution_rules() -> pl.DataFrame:
    """Attribution rules in order."""
    from models.queries.reference import attribution_rules as query

    return _read(query)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def unpriced_usage(since: datetime, until: datetime) -> pl.DataFrame:
    """Usage with no price in effect, per provider and model."""
    from models.queries.reference import unpriced_usage as query

    return _read(query, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def scenarios() -> pl.DataFrame:
    """Saved what-if scenarios."""
    from models.queries.reference import scenarios as query

    return _read(query)


def clear() -> None:
    """Forget cached frames after an edit, so every page shows the new state."""
    st.cache_data.clear()
