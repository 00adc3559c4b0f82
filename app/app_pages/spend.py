"""Spend: by provider, model, workload or team over time; movers; cached and batch shares; reconciliation."""

import polars as pl
import streamlit as st

from app.charts.spend import reconciliation_bars, share_lines, spend_by_group, spend_over_time
from app.ui import data
from app.ui.filters import apply_scope, date_range_sidebar, sidebar
from app.ui.format import pct, usd
from app.ui.tables import show_table
from models.queries.charges import KIND_LABELS
from models.queries.spend import summarise
from models.queries.spend_detail import reconciliation_wide, shares_over_time, token_shares, week_over_week

st.title("Spend")
since, until = date_range_sidebar()
all_daily = data.spend_daily(since, until)
picked_workloads, picked_teams = sidebar(all_daily)
daily = apply_scope(all_daily, picked_workloads, picked_teams)

if daily.is_empty():
    st.info("No token spend in this period. Load the demo with `hybridcost demo load`, or ingest usage and "
            "costs with `hybridcost ingest openai|anthropic|focus FILE`; widen the date range if data is older.")
    st.stop()

batch = apply_scope(data.batch_daily(since, until), picked_workloads, picked_teams)
shares = token_shares(daily, batch)
cols = st.columns(4)
cols[0].metric("Token spend", usd(float(daily["cost_usd"].sum())), help="Σ best-basis spend (USD) over the period.")
cols[1].metric("Cached share", pct(shares["cached_share"]), help="Cached input tokens / all input tokens.")
cols[2].metric("Batch share", pct(shares["batch_share"]), help="Tokens sent through batch APIs / all tokens "
               "(provider usage buckets).")
cols[3].metric("Unpriced rows", f"{int(daily['unpriced_rows'].sum()):,}", help="Usage rows with no price in effect; "
               "not summed as $0.")

currency = "USD"  # money is reported in USD; `hybridcost spend --currency` converts
cols = st.columns(5)
cols[0].metric(f"Gross ({currency})", usd(float(daily["gross_usd"].sum())),
               help="Usage and purchase charges before credits, refunds and tax, on the best basis per day.")
cols[1].metric(f"Credits and refunds ({currency})", usd(float(daily["credits_usd"].sum())),
               help="Credit and refund lines (negative amounts) on the same basis.")
cols[2].metric(f"Tax ({currency})", usd(float(daily["tax_usd"].sum())), help="Tax lines on the same basis.")
cols[3].metric(f"Net ({currency})", usd(float(daily["cost_usd"].sum())),
               help="Net = gross + credits and refunds + tax: the figure every other total on this page uses.")
cols[4].metric("Unconverted lines", f"{int(daily['unconverted_rows'].sum()):,}",
               help="Cost lines in another currency with no exchange rate for their day: counted, never summed "
                    "at 1:1 (add rates with `hybridcost fx load FILE` or on the Data page).")

by = st.segmented_control("Break down by", ["provider", "model", "workload", "team"], default="provider",
                          key="spend_by") or "provider"
left, right = st.columns([3, 2])
left.plotly_chart(spend_over_time(daily, color=by, title=f"Token spend per day by {by}"), key="spend_over_time")
summary = summarise(daily, by)
right.plotly_chart(spend_by_group(summary, title=f"Token spend by {by}"), key="spend_by_group")
show_table(summary, hide_index=True, key="spend_summary_table", column_config={
    "group": by, "cost_usd": st.column_config.NumberColumn("Spend (USD)", format="dollar"),
    "cost_basis": st.column_config.TextColumn("Bases", help="Which cost bases fed the total")})

other, committed = data.not_token_spend(since, until)
if not other.is_empty() or committed:
    st.subheader("Not in token spend")
    st.caption("Charges the bill itself names as something other than tokens (web search, file search, code "
               "execution, images, fine-tuning, storage), on the same best basis per day, and commitments "
               "(prepayments, reserved capacity) amortized over their term: shown here, never added to token spend.")
    cols = st.columns(2)
    cols[0].metric("Other AI charges (USD)", usd(float(other["cost_usd"].sum()) if not other.is_empty() else 0.0),
                   help="Σ non-token AI charges over the period, best basis per provider, account and day.")
    cols[1].metric("Commitments amortized (USD)", usd(committed),
                   help="Σ commitment amount / days of its term, for each day of the period "
                        "(`hybridcost ledger commitment report`).")
    if not other.is_empty():
        show_table(other.with_columns(pl.col("charge_kind").replace_strict(KIND_LABELS, default=pl.col("charge_kind")),
                                        pl.col("cost_usd").cast(pl.Float64)),
                     hide_index=True, key="spend_other_charges", column_config={
                         "provider": "Provider", "charge_kind": "Charge",
                         "cost_usd": st.column_config.NumberColumn("Amount (USD)", format="dollar"),
                         "unconverted_days": st.column_config.NumberColumn(
                             "Unconverted days", help="Days of lines with no exchange rate: not summed")})

st.subheader("Week-over-week movers")
last_day = daily["day"].max()
movers = week_over_week(daily, by, last_day)
st.caption(f"7 days to {last_day} vs the 7 days before, by {by}; change % = (this − last) / last.")
show_table(movers, hide_index=True, key="spend_movers_table", column_config={
    "group": by, "this_week_usd": st.column_config.NumberColumn("This week (USD)", format="dollar"),
    "last_week_usd": st.column_config.NumberColumn("Week before (USD)", format="dollar"),
    "change_usd": st.column_config.NumberColumn("Change (USD)", format="dollar"),
    "change_pct": st.column_config.NumberColumn("Change (%)", format="%.1f %%")})

st.subheader("Cached and batch shares")
st.plotly_chart(share_lines(shares_over_time(daily, batch)), key="spend_shares")

st.subheader("Reconciliation")
st.caption("Each basis's total per provider and UTC month, side by side. Variance % = (basis − reference) / "
           "reference, where the reference is the best basis present (invoice/FOCUS > cost API > usage × price "
           "> request-log estimate). Request logs are often a sample, so large negative variances there are expected.")
recon = data.reconciliation(since, until)
st.plotly_chart(reconciliation_bars(recon), key="spend_recon_chart")
show_table(reconciliation_wide(recon), hide_index=True, key="spend_recon_table")
