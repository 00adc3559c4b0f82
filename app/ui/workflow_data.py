"""Cached loaders for the Workflow page (kept apart from app/ui/data.py so areas merge cleanly)."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from app.ui.data import TTL_SECONDS, engine
from models.discipline import lever_shares_by_workload, scorecard


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def discipline_scorecard(since: datetime, until: datetime, by: str) -> pl.DataFrame:
    """The workflow-discipline scorecard per team or workload."""
    with engine().connect() as conn:
        return scorecard(conn, since=since, until=until, by=by)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def measured_lever_shares(since: datetime, until: datetime) -> dict[str, dict[str, float | None]]:
    """Per workload, the lever shares measured from request logs (cache, batch, route); None = not measurable."""
    with engine().connect() as conn:
        return lever_shares_by_workload(conn, since, until)
