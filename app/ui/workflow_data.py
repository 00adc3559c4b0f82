"""Cached loaders for the Workflow page (kept apart from app/ui/data.py so areas merge cleanly)."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from app.ui.data import TTL_SECONDS, engine


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def discipline_scorecard(since: datetime, until: datetime, by: str) -> pl.DataFrame:
    """The workflow-discipline scorecard per team or workload."""
    from models.discipline import scorecard

    with engine().connect() as conn:
        return scorecard(conn, since=since, until=until, by=by)
