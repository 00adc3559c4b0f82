"""The shared date range in the sidebar (UTC calendar dates, [since, until+1 day))."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import streamlit as st

from app.ui.format import name
from models import clock


def utc_range(since: date, until: date) -> tuple[datetime, datetime]:
    """[since 00:00Z, until+1 00:00Z) as aware datetimes."""
    return clock.day_range(since, until)


def date_range_sidebar(default_days: int = 30) -> tuple[datetime, datetime]:
    """A date range picker shared by every page (kept in session state across pages)."""
    today = clock.today()
    if "filters_range" not in st.session_state:
        st.session_state["filters_range"] = (today - timedelta(days=default_days - 1), today)
    picked = st.sidebar.date_input("Date range (UTC)", key="filters_range",
                                   help="Calendar days in UTC; the range includes both ends.")
    if isinstance(picked, (tuple, list)) and len(picked) == 2:
        return utc_range(picked[0], picked[1])
    single = picked[0] if isinstance(picked, (tuple, list)) else picked
    return utc_range(single, single)


def scope_sidebar(workload_names: list[str], team_names: list[str]) -> tuple[list[str], list[str]]:
    """Workload and team multiselects shared by every page; empty means all."""
    picked_workloads = st.sidebar.multiselect("Workloads", sorted(set(workload_names)), key="filters_workloads",
                                              help="Only these workloads; leave empty for all.", format_func=name)
    picked_teams = st.sidebar.multiselect("Teams", sorted(set(team_names)), key="filters_teams",
                                          help="Only these teams; leave empty for all.", format_func=name)
    return picked_workloads, picked_teams


def apply_scope(frame, workloads: list[str], teams: list[str]):
    """Keep the rows of a frame with `workload`/`team` columns that match the sidebar selection."""
    if workloads and "workload" in frame.columns:
        frame = frame.filter(pl.col("workload").is_in(workloads))
    if teams and "team" in frame.columns:
        frame = frame.filter(pl.col("team").is_in(teams))
    return frame


def keep_scope() -> None:
    """On a page the workload/team filter does not apply to: keep its selection for the pages it does.

    Streamlit forgets a widget's value on a run that does not draw it; writing the value back
    makes it plain session state, which survives until the filter is drawn again.
    """
    for key in ("filters_workloads", "filters_teams"):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def sidebar(daily) -> tuple[list[str], list[str]]:
    """The workload/team filter with options taken from an allocated daily frame."""
    if daily.is_empty():
        return scope_sidebar([], [])
    return scope_sidebar(daily["workload"].unique().to_list(), daily["team"].unique().to_list())
