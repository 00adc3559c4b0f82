"""The view every page shares: date range, workloads and teams, kept per session and mirrored in the URL.

The entry point draws the three widgets once per run (before the page), so their state survives
page switches; each has one session-state key. The address carries the same view
(`?from=2026-11-01&to=2026-11-30&team=engineering&workload=code-review`, repeated keys for
several values), so a copied link opens the same view; a link's values apply when a session
starts, and the page's own widgets win after that. On a page the workload/team filter does not
apply to (GPU fleet, Data) only the date range is drawn and `keep_scope` keeps the picked workloads
and teams (and the address keeps them) for the pages it does apply to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl
import streamlit as st

from app.ui.format import name
from models import clock

RANGE_KEY = "filters_range"
WORKLOADS_KEY = "filters_workloads"
TEAMS_KEY = "filters_teams"
DEFAULT_DAYS = 30
URL_FROM, URL_TO, URL_WORKLOAD, URL_TEAM = "from", "to", "workload", "team"
URL_KEYS = (URL_FROM, URL_TO, URL_WORKLOAD, URL_TEAM)
# Pages (by URL path) whose data the workload/team filter does not apply to (GPU telemetry, ingest
# runs, prices): the entry point draws only the date range there and keeps the selection (keep_scope).
UNSCOPED_PAGES = ("fleet", "data")


@dataclass(frozen=True)
class View:
    """The shared view: [since, until) in UTC and the picked workloads and teams (empty = all)."""

    since: datetime
    until: datetime
    workloads: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    @property
    def first_day(self) -> date:
        """The first UTC day of the range."""
        return self.since.date()

    @property
    def last_day(self) -> date:
        """The last UTC day of the range (included)."""
        return (self.until - timedelta(microseconds=1)).date()


def default_range(today: date) -> tuple[date, date]:
    """The one default range of every page: the last DEFAULT_DAYS UTC days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def utc_range(since: date, until: date) -> tuple[datetime, datetime]:
    """[since 00:00Z, until+1 00:00Z) as aware datetimes, the end clamped to the pinned clock."""
    return clock.day_range(since, until)


def picked_days(value) -> tuple[date, date]:
    """(first, last) from a date_input value: a pair, a one-date tuple while picking, or a date."""
    if isinstance(value, (tuple, list)):
        if len(value) >= 2:
            return value[0], value[1]
        if len(value) == 1:
            return value[0], value[0]
        return default_range(clock.today())
    return value, value


def view_from_url(params: Mapping[str, list[str]], *, today: date, workloads: Iterable[str],
                  teams: Iterable[str]) -> tuple[dict[str, object], list[str]]:
    """Session values (by key) from address parameters, and one message per value that was not used."""
    values: dict[str, object] = {}
    problems: list[str] = []
    first_text, last_text = (params.get(URL_FROM) or [None])[-1], (params.get(URL_TO) or [None])[-1]
    if first_text or last_text:
        first, last = default_range(today)
        try:
            first = date.fromisoformat(first_text) if first_text else first
            last = date.fromisoformat(last_text) if last_text else max(first, last)
        except ValueError:
            problems.append(f"from/to in the address must be YYYY-MM-DD dates, not {first_text!r}/{last_text!r}; "
                            "showing the default range")
        else:
            if first > last:
                problems.append(f"the address's range starts {first} after it ends {last}; showing the default range")
            else:
                values[RANGE_KEY] = (first, last)
    for key, url_key, known, what in ((WORKLOADS_KEY, URL_WORKLOAD, set(workloads), "workload"),
                                      (TEAMS_KEY, URL_TEAM, set(teams), "team")):
        asked = [v for v in params.get(url_key, []) if v]
        if not asked:
            continue
        unknown = [v for v in asked if v not in known]
        if unknown:
            problems.append(f"no {what} named {', '.join(repr(v) for v in unknown)}: left out of the view")
        values[key] = [v for v in dict.fromkeys(asked) if v in known]
    return values, problems


def view_to_url(first: date, last: date, workloads: Iterable[str], teams: Iterable[str]) -> dict[str, list[str]]:
    """The address parameters that reproduce a view (every key present; an empty list means absent)."""
    return {URL_FROM: [first.isoformat()], URL_TO: [last.isoformat()],
            URL_WORKLOAD: list(workloads), URL_TEAM: list(teams)}


def scope_options(workload_frame: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Workload and team names to pick from: every workload and its team, and 'unallocated'."""
    names = workload_frame["name"].to_list() if workload_frame.height else []
    teams = [t for t in (workload_frame["team"].to_list() if workload_frame.height else []) if t]
    return sorted(set(names)) + ["unallocated"], sorted(set(teams)) + ["unallocated"]


def _url_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in URL_KEYS}


def _mirror(wanted: dict[str, list[str]]) -> None:
    """Write the view into the address, touching only keys that differ (other parameters stay)."""
    for key, values in wanted.items():
        if st.query_params.get_all(key) == values:
            continue
        if values:
            st.query_params[key] = values if len(values) > 1 else values[0]
        elif key in st.query_params:
            del st.query_params[key]


def keep_scope() -> None:
    """On a page the workload/team filter does not apply to: keep its selection for the pages it does.

    Streamlit forgets a widget's value on a run that does not draw it; writing the value back
    makes it plain session state, which survives until the filter is drawn again.
    """
    for key in (WORKLOADS_KEY, TEAMS_KEY):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def shared_sidebar(workload_frame: pl.DataFrame, *, scoped: bool = True) -> View:
    """Draw the shared filters (entry point only, once per run) and return the view; mirrors it to the URL.

    `scoped` False (a page the workload/team filter does not apply to) draws only the date range
    and keeps the workload/team selection (`keep_scope`) for the other pages and the address.
    """
    today = clock.today()
    workloads, teams = scope_options(workload_frame)
    if "filters_url_read" not in st.session_state:  # a session starts from its address
        st.session_state["filters_url_read"] = True
        values, problems = view_from_url(_url_params(), today=today, workloads=workloads, teams=teams)
        for key, value in values.items():
            st.session_state.setdefault(key, value)
        for problem in problems:
            st.sidebar.warning(problem)
    st.session_state.setdefault(RANGE_KEY, default_range(today))
    for key, known in ((WORKLOADS_KEY, workloads), (TEAMS_KEY, teams)):
        # a name that is no longer an option (a workload deleted since) would make the widget fail
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in known]
    picked = st.sidebar.date_input("Date range (UTC)", key=RANGE_KEY, format="YYYY-MM-DD",
                                   help=f"Calendar days in UTC, both ends included; every page uses this range "
                                        f"(default the last {DEFAULT_DAYS} days). The address bar keeps it.")
    if scoped:
        picked_workloads = st.sidebar.multiselect("Workloads", workloads, key=WORKLOADS_KEY, format_func=name,
                                                  help="Only these workloads, on every page; empty for all.")
        picked_teams = st.sidebar.multiselect("Teams", teams, key=TEAMS_KEY, format_func=name,
                                              help="Only these teams, on every page (token and GPU cost); "
                                                   "empty for all.")
    else:
        keep_scope()
        picked_workloads, picked_teams = st.session_state[WORKLOADS_KEY], st.session_state[TEAMS_KEY]
    first, last = picked_days(picked)
    _mirror(view_to_url(first, last, picked_workloads, picked_teams))
    since, until = utc_range(first, last)
    return View(since, until, tuple(picked_workloads), tuple(picked_teams))


def current() -> View:
    """The shared view as the entry point drew it this run (pages call this; they draw no filters)."""
    workloads = tuple(st.session_state.get(WORKLOADS_KEY, []))
    teams = tuple(st.session_state.get(TEAMS_KEY, []))
    first, last = picked_days(st.session_state.get(RANGE_KEY) or default_range(clock.today()))
    since, until = utc_range(first, last)
    return View(since, until, workloads, teams)


def apply_scope(frame: pl.DataFrame, workloads: Iterable[str], teams: Iterable[str]) -> pl.DataFrame:
    """Keep the rows of a frame with `workload`/`team` columns that match the picked workloads and teams."""
    workloads, teams = list(workloads), list(teams)
    if workloads and "workload" in frame.columns:
        frame = frame.filter(pl.col("workload").is_in(workloads))
    if teams and "team" in frame.columns:
        frame = frame.filter(pl.col("team").is_in(teams))
    return frame


def workload_choices(workload_frame: pl.DataFrame, view: View, extra: Iterable[str] = ()) -> list[str]:
    """A page's workload selector options: the filter's workloads (or its teams' workloads), else every one."""
    names = (workload_frame["name"].to_list() if workload_frame.height else []) + list(extra)
    team_of = dict(zip(workload_frame["name"].to_list(), workload_frame["team"].to_list())) \
        if workload_frame.height else {}
    team_of.update({n: "unallocated" for n in extra if n == "unallocated"})
    if view.workloads:
        picked = [n for n in names if n in view.workloads]
    elif view.teams:
        picked = [n for n in names if team_of.get(n) in view.teams]
    else:
        picked = names
    return picked or names
