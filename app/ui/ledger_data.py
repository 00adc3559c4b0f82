"""Cached loaders and edits for the ledger views on the Data and Spend pages."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from app.ui.data import engine, keyed_to, writer_engine
from models.audit import audit_log
from models.infra.settings import get_settings
from models.ledger.fx import rates, set_rate
from models.ledger.periods import list_periods
from models.ledger.periods import restatements as run


@keyed_to(("periods", "period_snapshots", "restatements"))
def periods() -> pl.DataFrame:
    """Every closed (or reopened) month with its frozen total and restated difference."""
    with engine().connect() as conn:
        return list_periods(conn)


@keyed_to(("restatements",))
def restatements() -> pl.DataFrame:
    """Changes that later loads made to closed months, newest first."""
    with engine().connect() as conn:
        return run(conn)


@keyed_to(("audit_log",))
def audit_entries(limit: int = 500) -> pl.DataFrame:
    """The newest audit log entries (who changed what, when, before and after), whatever the data range."""
    with engine().connect() as conn:
        return audit_log(conn).head(limit)


@keyed_to(("fx_rates",))
def fx_rates() -> pl.DataFrame:
    """Stored daily exchange rates, newest first."""
    with engine().connect() as conn:
        return rates(conn)


def save_rate(day: date, currency: str, rate: str, actor: str | None) -> None:
    """Store one exchange rate (validated and audited) and drop the cached views that show rates or money."""
    with writer_engine().begin() as conn:
        set_rate(conn, day, currency.strip().upper(), rate.strip(), to_currency=get_settings().reporting_currency,
                 actor=actor)
    st.cache_data.clear()
