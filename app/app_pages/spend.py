"""Spend: token spend by provider, model, workload or team; GPU cost by team and workload; movers; reconciliation."""

import polars as pl
import streamlit as st

from app.charts.spend import cost_by_team, reconciliation_bars, share_lines, spend_by_group, spend_over_time
from app.ui import columns, cost_views, data
from app.reports.csv_writer import frame_csv
from app.ui.filters import apply_scope, current
from app.ui.format import pct, usd
from app.ui.tables import show_table
from models import clock
from models.infra.settings import get_settings
from models.queries import gpu_showback
from models.queries.charges import KIND_LABELS
from models.queries.spend import summarise
from models.queries.spend_detail import (
    chosen_reasons,
    reconciliation_view,
    shares_over_time,
    token_shares,
    week_over_week,
)

st.title("Spend")
view = current()
all_daily = data.spend_daily(view.since, view.until)
daily = apply_scope(all_daily, view.workloads, view.teams)
lines = gpu_showback.scoped(cost_views.gpu_lines(view.since, view.until, clock.current_hour()),
                            view.workloads, view.teams)

if daily.is_empty() and lines.is_empty():
    st.info("No token spend in this period. Load the demo with `hybridcost demo load`, or ingest usage and "
            "costs with `hybridcost ingest openai|anthropic|focus FILE`; widen the date range if data is older.")
    st.stop()

batch = apply_scope(data.batch_daily(view.since, view.until), view.workloads, view.teams)
shares = token_shares(daily, batch)
cols = st.columns(4)
cols[0].metric("Token spend", usd(float(daily["cost_usd"].sum()) if daily.height else 0.0),
               help="Σ best-basis spend (USD) over the period.")
cols[1].metric("Cached share", pct(shares["cached_share"]), help="Cached input tokens / all input tokens.")
cols[2].metric("Batch share", pct(shares["batch_share"]), help="Tokens sent through batch APIs / all tokens "
               "(provider usage buckets).")
cols[3].metric("Unpriced rows", f"{int(daily['unpriced_rows'].sum()) if daily.height else 0:,}",
               help="Usage rows with no price in effect; not summed as $0.")

currency = "USD"  # money is reported in USD; `hybridcost spend --currency` converts
cols = st.columns(5)
money_sum = (lambda c: float(daily[c].sum()) if daily.height else 0.0)
cols[0].metric(f"Gross ({currency})", usd(money_sum("gross_usd")),
               help="Usage and purchase charges before credits, refunds and tax, on the best basis per day.")
cols[1].metric(f"Credits and refunds ({currency})", usd(money_sum("credits_usd")),
               help="Credit and refund lines (negative amounts) on the same basis.")
cols[2].metric(f"Tax ({currency})", usd(money_sum("tax_usd")), help="Tax lines on the same basis.")
cols[3].metric(f"Net ({currency})", usd(money_sum("cost_usd")),
               help="Net = gross + credits and refunds + tax: the figure every other total on this page uses.")
cols[4].metric("Unconverted lines", f"{int(daily['unconverted_rows'].sum()) if daily.height else 0:,}",
               help="Cost lines in another currency with no exchange rate for their day: counted, never summed "
                    "at 1:1 (add rates with `hybridcost fx load FILE` or on the Data page).")


@st.fragment
def breakdown() -> None:
    """Spend by the picked dimension: reruns alone when the selector changes."""
    by = st.segmented_control("Break down by", ["provider", "model", "workload", "team"], default="provider",
                              key="spend_by") or "provider"
    if daily.is_empty():
        st.caption("No token spend in this period (GPU cost below).")
        return
    left, right = st.columns([3, 2])
    left.plotly_chart(spend_over_time(daily, color=by, title=f"Token spend per day by {by}"), key="spend_over_time")
    summary = summarise(daily, by)
    right.plotly_chart(spend_by_group(summary, title=f"Token spend by {by}"), key="spend_by_group")
    columns.show(summary, key="spend_summary_table", labels={"group": by.capitalize()},
                 helps={"cost_basis": "Which cost bases fed the total"})
    st.subheader("Week-over-week movers")
    last_day = daily["day"].max()
    st.caption(f"7 days to {last_day} vs the 7 days before, by {by}; change % = (this − last) / last.")
    columns.show(week_over_week(daily, by, last_day), key="spend_movers_table", labels={
        "group": by.capitalize(), "this_week_usd": "This week (USD)", "last_week_usd": "Week before (USD)",
        "change_usd": "Change (USD)", "change_pct": "Change (%)"})


breakdown()

other, committed = data.not_token_spend(view.since, view.until)
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

st.subheader("GPU cost by team and workload")
fleet_total = gpu_showback.total_usd(lines)
idle = gpu_showback.by(lines, "workload").filter(pl.col("workload") == "idle")
cols = st.columns(3)
cols[0].metric("GPU cost" + (" (their share)" if view.workloads or view.teams else ""), usd(fleet_total),
               help="Each GPU pool's daily cost shared by measured busy GPU-hours; idle is its own line. With a "
                    "team or workload filter: their shares only.")
cols[1].metric("Idle GPU cost", usd(float(idle["cost_usd"].sum()) if idle.height else 0.0),
               help="Pool capacity (GPUs × hours) no workload used, at the pool's USD per GPU-hour.")
cols[2].metric("GPU-hours used", f"{float(lines.filter(pl.col('workload') != 'idle')['gpu_hours'].sum()):,.0f}",
               help="Σ busy GPU-hours measured per workload (busy fraction of each GPU-hour).")
left, right = st.columns([2, 3])
by_workload = gpu_showback.team_costs(daily, lines, "workload")
left.plotly_chart(cost_by_team(by_workload, column="workload", title="Tokens and GPUs by workload"),
                  key="spend_workload_cost_chart")
with right:
    columns.show(by_workload, key="spend_workload_cost_table", labels={"gpu_hours": "GPU-hours used"})
    columns.show(gpu_showback.by(lines, "profile"), key="spend_pool_table",
                 labels={"cost_usd": "GPU cost (USD)", "share": "Share of GPU cost"})
    st.download_button("Download tokens and GPUs by workload (CSV)", frame_csv(columns.renamed(by_workload)),
                       file_name="cost-by-workload.csv", mime="text/csv", key="spend_workload_csv")

st.subheader("Cached and batch shares")
st.plotly_chart(share_lines(shares_over_time(daily, batch)), key="spend_shares")

st.subheader("Reconciliation")
threshold = get_settings().reconciliation_threshold_pct
long = data.reconciliation(view.since, view.until)
table = reconciliation_view(long, all_daily, threshold)
flagged = table.filter(pl.col("flagged"))
st.caption(f"Each basis's total per provider and UTC month beside the system of record (the figure every page "
           f"shows), with the variance in USD and % of it; flagged past ±{threshold:g} % "
           "(HYBRIDCOST_RECONCILIATION_THRESHOLD_PCT). Request logs are often a sample, so a large negative "
           "variance there is expected.")
if flagged.height:
    st.warning(f"{flagged.height} basis-month(s) past ±{threshold:g} %: "
               + "; ".join(f"{r['provider']} {r['month']:%Y-%m} {r['basis']} {r['variance_pct']:+.1f} %"
                           for r in flagged.head(4).iter_rows(named=True)) + ("; ..." if flagged.height > 4 else ""))
st.plotly_chart(reconciliation_bars(long), key="spend_recon_chart")
columns.show(table, key="spend_recon_table", helps={
    "variance_usd": "Basis total − system of record for the provider and month",
    "variance_pct": "(basis − system of record) / system of record × 100",
    "days_chosen": "Days on which the system of record used this basis (for some account)"})
columns.show(chosen_reasons(long, all_daily), key="spend_recon_reasons",
             labels={"why": "Basis chosen and why"})
