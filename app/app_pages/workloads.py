"""Workloads: one workload's hourly shape, weekly growth, token mix, reasoning share and a recommendation."""

import polars as pl
import streamlit as st

from app.charts.workloads import hourly_heatmap, token_mix, weekly_volume
from app.ui import columns, data, economics
from app.ui.filters import current, workload_choices
from app.ui.format import pct, tokens, usd
from models.queries.workload_view import complete_weeks, demand_frame, hourly_shape, token_mix as mix_of, weekly

st.title("Workloads")
view = current()
since, until = view.since, view.until
names = workload_choices(data.workloads(), view, extra=("unallocated",))
if not names:
    st.info("No workloads yet. Load the demo with `hybridcost demo load`, or add an attribution rule on the "
            "Data page so usage is assigned to a workload.")
    st.stop()
workload = st.selectbox("Workload", names, key="workloads_workload",
                        help="The workloads of the sidebar's filter (all when it is empty).")

demand = demand_frame(data.workload_hourly(workload, since, until), since=since, until=until)
total_tokens = int(demand["input_tokens"].sum() + demand["output_tokens"].sum())
if total_tokens == 0:
    st.info(f"No tokens for {workload} between {since:%Y-%m-%d} and {until:%Y-%m-%d}. Widen the date range, or "
            "load data with `hybridcost demo load` / `hybridcost ingest ...`.")
    st.stop()

all_weeks = weekly(demand)
weeks = complete_weeks(all_weeks)
mix = mix_of(demand)
output = int(demand["output_tokens"].sum())
reasoning = int(demand["reasoning_tokens"].sum())
growth = weeks["growth_pct"].drop_nulls().tail(4).mean() if weeks.height > 1 else None
cols = st.columns(4)
cols[0].metric("Tokens in period", tokens(total_tokens), help="Input (cached included) + output (reasoning "
               "included), API and own GPU endpoints.")
cols[1].metric("Monthly volume", tokens(total_tokens * 730 / demand.height),
               help="Tokens in the period × 730 / hours in the period (tokens/month).")
cols[2].metric("Weekly growth", "—" if growth is None else f"{growth:+.1f} %",
               help="Mean of the last 4 full weeks' change: tokens this week / tokens the week before − 1.")
cols[3].metric("Reasoning share", pct(reasoning / output if output else None),
               help="Reasoning tokens / output tokens (output includes reasoning).")

left, right = st.columns([3, 2])
left.plotly_chart(hourly_heatmap(hourly_shape(demand)), key="workloads_heatmap")
right.plotly_chart(token_mix(mix), key="workloads_mix")
st.plotly_chart(weekly_volume(weeks), key="workloads_weekly")
partial = all_weeks.filter(pl.col("hours") < 168)
if partial.height:
    st.caption("Complete ISO weeks only (Monday 00:00 UTC, 168 hours): left out "
               + ", ".join(f"the week of {r['week_start']:%Y-%m-%d} ({r['hours']} h in range)"
                           for r in partial.iter_rows(named=True))
               + ", so a cut week never reads as a fall or a rise.")
columns.show(weeks.select("week_start", "tokens", "input_tokens", "cached_input_tokens", "output_tokens",
                          "reasoning_tokens", "growth_pct"), key="workloads_weekly_table")

st.subheader("Recommendation")
if not economics.available():
    st.info("The recommendation appears once the economics engine (`models.economics`) is installed.")
    st.stop()
result = economics.workload_result(workload, since, until)
if result is None or "error" in (result or {}):
    st.info((result or {}).get("error") or f"{workload} has no priced usage in this period, so there is no token "
            "cost to compare with. Add a price on the Data page (USD per 1M tokens).")
    st.stop()
st.success(economics.recommendation(result, result["replica_gpus"]))
cols = st.columns(4)
cols[0].metric("API only (USD/month)", usd(economics.monthly(result, result["api_only_cost"]), cents=False),
               help="Σ_t A_t × 730 / H, where A_t is each hour's tokens priced per model at the prices then in "
                    "effect (USD per 1M tokens), plus tokens served on the workload's own GPUs at its average API "
                    "price: the same figures as `hybridcost simulate --workload` and the weekly report.")
cols[1].metric("Best hybrid (USD/month)", usd(economics.monthly(result, result["hybrid_cost"]), cents=False),
               help="Total(R*) × 730 / H with R* the cheapest replica count: R × h_rep × H + Σ (1 − f_t) A_t.")
cols[2].metric("Optimal replicas", f"{result['optimal_replicas']} of peak {result['peak_replicas']}",
               help="R in 0..R_peak with the lowest Total(R); ties go to fewer replicas.")
cols[3].metric("Breakeven utilization", pct(result["breakeven_utilization"]),
               help="h_rep / (3600 × api_only_cost / Σ W_t): share of time a replica must be busy to pay for itself.")
st.caption(f"GPU option: {result['option']} (a saved scenario named after the workload, else the fastest "
           "catalog model rented at the catalog rate + $150 ops per GPU-month). Explore others on the Breakeven "
           "or What-if page.")
