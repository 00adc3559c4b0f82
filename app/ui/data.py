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
    """The app's engine, created once per server process."""
    from models.database import database_url, make_engine
    from models.settings import get_settings

    return make_engine(database_url(get_settings()))


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
