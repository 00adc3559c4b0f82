"""Overview: token spend, this month vs last, token vs GPU spend, budgets, freshness, unpriced/unallocated."""


import polars as pl
import streamlit as st

from app.charts.spend import month_comparison, spend_by_group, spend_over_time, token_vs_gpu
from app.ui import auth, data
from app.ui.filters import apply_scope, date_range_sidebar, sidebar
from app.ui.flash import flash_and_rerun, show_flashes
from app.ui.format import tokens, usd
from app.ui.tables import show_table
from models import clock
from models.edits import EditError, set_budget
from models.queries.overview import budget_status, month_over_month, token_vs_gpu_daily, two_month_window, within
from models.queries.spend import summarise

st.title("Overview")
show_flashes()
since, until = date_range_sidebar()
today = clock.today()
# One query covers the period and the two calendar months the comparison needs.
wide_since, wide_until = two_month_window(today)
wide = data.spend_daily(min(since, wide_since), max(until, wide_until))
all_daily = within(wide, since, until)
picked_workloads, picked_teams = sidebar(all_daily)
daily = apply_scope(all_daily, picked_workloads, picked_teams)
gpu_daily = data.gpu_spend_daily(since, until)

if all_daily.is_empty() and gpu_daily.is_empty():
    st.info("No token usage, cost or GPU data yet. Load the demo with `hybridcost demo load`, "
            "or bring your own with `hybridcost ingest openai|anthropic|focus ...` (see docs/ingest.md).")
    st.stop()

total = float(daily["cost_usd"].sum()) if not daily.is_empty() else 0.0
gpu_total = float(gpu_daily["cost_usd"].fill_null(0).sum()) if not gpu_daily.is_empty() else 0.0
cols = st.columns(4)
cols[0].metric("Token spend", usd(total), help="Sum over the period of the best cost basis per provider, "
               "account and UTC day: invoice/FOCUS > cost API > usage × price (USD per 1M tokens) > request-log estimate.")
cols[1].metric("GPU spend", usd(gpu_total), help="Σ GPU-hours × USD per GPU-hour of the matching cost profile. "
               "Buy: purchase / (amortization months × 730) + power W / 1000 × PUE × USD/kWh + ops / 730. "
               "Rent: hourly rate + ops / 730.")
cols[2].metric("Tokens", tokens(int(daily["input_tokens"].sum() + daily["output_tokens"].sum()) if not daily.is_empty() else 0),
               help="Input (cached included) + output (reasoning included) tokens.")
cols[3].metric("Token + GPU spend", usd(total + gpu_total), help="Token spend + GPU spend over the period.")

cols = st.columns(3)
unpriced = int(daily["unpriced_tokens"].sum()) if not daily.is_empty() else 0
cols[0].metric("Unpriced tokens", tokens(unpriced), help="Usage whose model has no price in effect: "
               "counted here, never added up as $0. Add a price on the Data page.")
unallocated = float(daily.filter(pl.col("workload") == "unallocated")["cost_usd"].sum()) if not daily.is_empty() else 0.0
cols[1].metric("Unallocated spend", usd(unallocated), help="Σ spend whose rows match no attribution rule "
               "(workload 'unallocated'). Add a rule on the Data page.")
unpriced_gpu = int(gpu_daily["unpriced_gpu_hours"].sum()) if not gpu_daily.is_empty() else 0
cols[2].metric("Unpriced GPU-hours", f"{unpriced_gpu:,}", help="GPU-hours on hosts that match no GPU cost profile; "
               "not counted as $0 in GPU spend.")

left, right = st.columns(2)
left.plotly_chart(spend_over_time(daily, color="provider"), key="overview_daily")
right.plotly_chart(spend_by_group(summarise(daily, "workload"), title="Token spend by workload"),
                   key="overview_by_workload")

st.subheader("This month vs last month")
month_daily = apply_scope(within(wide, wide_since, wide_until), picked_workloads, picked_teams)
months = month_over_month(month_daily, today)
left, right = st.columns(2)
left.plotly_chart(month_comparison(months), key="overview_months")
show_table(months, container=right, hide_index=True, key="overview_months_table", column_config={
    "this_month_usd": st.column_config.NumberColumn("This month to date (USD)", format="dollar"),
    "last_month_usd": st.column_config.NumberColumn("Last month (USD)", format="dollar"),
    "last_month_to_date_usd": st.column_config.NumberColumn("Last month, same days (USD)", format="dollar"),
    "change_vs_same_days": st.column_config.NumberColumn("Change vs same days", format="percent")})

st.subheader("Token spend vs GPU spend")
st.plotly_chart(token_vs_gpu(token_vs_gpu_daily(daily, gpu_daily)), key="overview_token_vs_gpu")

st.subheader("Budgets")
status = budget_status(month_daily, data.budgets(), today)
over = status.filter(pl.col("status") != "on track")
for row in over.iter_rows(named=True):
    st.warning(f"{row['scope'].title()} **{row['name']}**: {row['status']}: forecast month-end "
               f"{usd(row['forecast_month_end_usd'])} vs budget {usd(row['monthly_usd'])} "
               f"(month to date {usd(row['month_to_date_usd'])}).")
if status.is_empty():
    st.caption("No budgets yet: add one below.")
else:
    show_table(status, hide_index=True, key="overview_budgets_table", column_config={
        "monthly_usd": st.column_config.NumberColumn("Budget (USD/month)", format="dollar"),
        "month_to_date_usd": st.column_config.NumberColumn("Month to date (USD)", format="dollar"),
        "forecast_month_end_usd": st.column_config.NumberColumn(
            "Forecast month end (USD)", format="dollar",
            help="Run rate: month to date / days elapsed (today included) × days in the month."),
        "forecast_vs_budget": st.column_config.NumberColumn("Forecast / budget", format="percent")})
with st.form("overview_budget_form", clear_on_submit=False):
    st.markdown("**Set a monthly budget** (USD per month; replaces an existing one for the same team or workload)")
    c1, c2, c3 = st.columns(3)
    scope = c1.selectbox("Scope", ["team", "workload"], key="overview_budget_scope")
    name = c2.text_input("Team or workload name", key="overview_budget_name")
    amount = c3.text_input("Budget (USD per month)", key="overview_budget_amount", placeholder="5000")
    if st.form_submit_button("Save budget"):
        try:
            set_budget(data.writer_engine(), actor=auth.actor(), scope=scope, name=name, monthly_usd=amount)
        except (EditError, PermissionError) as exc:
            st.error(f"Budget not saved: {exc}")
        else:
            data.clear()
            flash_and_rerun(f"Saved the {scope} budget for {name.strip()}.")

st.subheader("Data freshness")
show_table(data.data_freshness(clock.as_of()), hide_index=True, key="overview_freshness")
