"""Keep the default views warm: after any change to the data, recompute what each page shows first.

One background thread per dashboard process polls the data versions every
HYBRIDCOST_CACHE_WARM_SECONDS (default 10; 0 turns it off). When a load, an edit or a rollup
rebuild has changed a table, it calls the cached loaders with the arguments each page's default
view uses (the default date range, the first workload), so they are computed before anyone asks
and the first visit after a load is as fast as the second. Views a person changes (another range,
another workload) are computed on their first visit and cached until the data changes.
"""

from __future__ import annotations

import threading
import time

import streamlit as st
from streamlit import runtime
from streamlit.logger import get_logger

from app.ui import cost_views, data, economics, ledger_data, workflow_data
from app.ui.filters import default_range, utc_range
from models import clock
from models.infra.settings import get_settings
from models.queries.overview import two_month_window

log = get_logger(__name__)  # Streamlit's handlers: the server log shows each warming

BREAKEVEN_UTIL_PCT = 30.0  # the GPU fleet page's breakeven slider default
BREAKEVEN_HORIZON_WEEKS = 13  # the Breakeven page's forecast-marker slider default


def default_views() -> None:
    """Call every loader the pages' default views call, with the same arguments (computed if stale)."""
    now = clock.now()
    today = now.date()
    hour = clock.current_hour()
    since, until = utc_range(*default_range(today))  # the one default range of every page (app/ui/filters.py)
    wide_since, wide_until = two_month_window(today)
    data.spend_daily(min(since, wide_since), clock.clamp(max(until, wide_until)))  # Overview
    data.spend_daily(since, until)  # Spend, Workflow
    data.gpu_spend_daily(since, until)
    cost_views.gpu_lines(since, until, hour)  # Overview, Spend, GPU fleet
    rule = cost_views.anomaly_rule()
    cost_views.anomalies(since, until, today, rule.threshold, rule.min_usd)
    data.budgets()
    data.workloads()
    data.data_freshness(clock.as_of())
    data.batch_daily(since, until)
    data.not_token_spend(since, until)
    data.reconciliation(since, until)
    gpus = data.fleet_gpus(since, until, BREAKEVEN_UTIL_PCT)
    data.gpu_indexes(tuple(sorted(gpus["gpu_uuid"].unique().to_list())) if gpus.height else ())
    data.gpu_heatmap(since, until)
    data.inference_saturation(since, until)
    data.inference_pressure(since, until)
    data.gpu_sm_activity(since, until)
    data.sm_delivery(since, until)
    economics.fleet_plan_table(since, until, hour)
    workflow_data.discipline_scorecard(since, until, "team")
    workflow_data.measured_lever_shares(since, until)
    workflow_data.reasoning_costs(since, until)
    workflow_data.request_groups(since, until)
    data.ingest_runs()
    data.lookalike_names()
    data.attribution_rules()
    data.prices()
    data.cost_profiles()
    data.unpriced_usage(since, until)
    data.scenarios()
    ledger_data.periods()
    ledger_data.restatements()
    ledger_data.fx_rates()
    ledger_data.audit_entries()
    hour = clock.current_hour()  # the pages plan as of the current hour
    economics.fleet_plan_table(since, until, hour)  # GPU fleet
    names = data.workloads()["name"].to_list()
    if names:
        first = names[0]
        data.workload_hourly(first, since, until)  # Workloads
        figures = economics.plan(first, since, until, hour)  # Workloads, Breakeven, What-if
        if figures.result is not None:  # Breakeven: the curve reaches to the forecast marker's upper end
            forecast = figures.move.forecast if figures.move is not None else None
            marker = forecast.row(min(BREAKEVEN_HORIZON_WEEKS, forecast.height) - 1, named=True) \
                if forecast is not None and forecast.height else None
            economics.curve(first, since, until, hour, None if marker is None else marker["monthly_tokens_high"])
            economics.payback(first, since, until, hour)


def _loop(seconds: float) -> None:
    seen: dict[str, int] | None = None
    while True:
        try:
            now = data.versions()
            if now != seen:
                started = time.perf_counter()
                default_views()
                seen = now  # a change while warming is caught by the next poll
                log.info("warmed the default views in %.2f s", time.perf_counter() - started)
        except Exception as exc:  # the database may be away; try again at the next poll
            log.warning("could not warm the default views: %s", str(exc).splitlines()[0] if str(exc) else exc)
        time.sleep(seconds)


@st.cache_resource(show_spinner=False)
def start() -> threading.Thread | None:
    """Start the warming thread once per dashboard process (None when turned off or not under a server)."""
    seconds = get_settings().cache_warm_seconds
    if seconds <= 0 or not runtime.exists():
        return None
    thread = threading.Thread(target=_loop, args=(seconds,), name="hybridcost-warm", daemon=True)
    thread.start()
    return thread
