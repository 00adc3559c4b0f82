"""The shared date range in the sidebar (UTC calendar dates, [since, until+1 day))."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import streamlit as st


def utc_range(since: date, until: date) -> tuple[datetime, datetime]:
    """[since 00:00Z, until+1 00:00Z) as aware datetimes."""
    start = datetime.combine(since, time(0), tzinfo=timezone.utc)
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=timezone.utc)
    return start, end


def date_range_sidebar(default_days: int = 30) -> tuple[datetime, datetime]:
    """A date range picker shared by every page (kept in session state across pages)."""
    today = datetime.now(timezone.utc).date()
    if "filters_range" not in st.session_state:
        st.session_state["filters_range"] = (today - timedelta(days=default_days - 1), today)
    picked = st.sidebar.date_input("Date range (UTC)", key="filters_range",
                                   help="Calendar days in UTC; the range includes both ends.")
    if isinstance(picked, (tuple, list)) and len(picked) == 2:
        return utc_range(picked[0], picked[1])
    single = picked[0] if isinstance(picked, (tuple, list)) else picked
    return utc_range(single, single)
