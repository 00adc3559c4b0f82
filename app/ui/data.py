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
    from models.database import reader_engine

    return reader_engine()


@st.cache_resource(show_spinner=False)
def _writer_engine() -> Engine:
    from models.database import writer_engine as make_writer

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
def data_freshness() -> pl.DataFrame:
    """Latest data per source and the last ingest runs."""
    from models.queries.status import freshness

    with engine().connect() as conn:
        return freshness(conn)
