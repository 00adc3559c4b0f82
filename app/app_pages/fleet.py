"""GPU fleet: utilization per GPU and hour, idle cost, queue depth and KV cache, capacity signals, measured tok/s, plans."""

import polars as pl
import streamlit as st

from app.charts.fleet import idle_cost_by_gpu, queue_and_kv, utilization_heatmap
from app.ui import data, economics
from app.ui.filters import date_range_sidebar, keep_scope
from app.ui.format import pct, usd
from app.ui.tables import show_table
from models import clock
from models.queries.fleet_view import fleet_totals, saturated_throughput, signal_rows, with_costs

st.title("GPU fleet")
since, until = date_range_sidebar()
keep_scope()  # the workload/team filter does not apply here: no token allocation to fill it
threshold = st.sidebar.slider("Breakeven utilization (%)", 5, 95, 30, key="fleet_breakeven_pct",
                              help="A GPU whose mean utilization is below this does not pay for itself against "
                                   "the API; the Breakeven page gives a workload's own figure.")
gpus = data.fleet_gpus(since, until, float(threshold))
saturation = data.inference_saturation(since, until)
if gpus.is_empty() and saturation.is_empty():
    st.info("No GPU telemetry in this period. Load the demo with `hybridcost demo load`, or start collecting with "
            "`hybridcost collect gpu` or `hybridcost ingest dcgm|vllm|nvidia-smi ...` (see docs/gpu.md); "
            "widen the date range if data is older.")
    st.stop()

totals = fleet_totals(gpus)
cols = st.columns(5)
cols[0].metric("GPUs", f"{totals['gpus']}", help="GPUs (a MIG instance counts as its own) with telemetry.")
cols[1].metric("Mean utilization", pct(None if totals["utilization_pct"] is None else totals["utilization_pct"] / 100),
               help="Hour-weighted mean of engine-active utilization (%), DCGM_FI_PROF_GR_ENGINE_ACTIVE preferred.")
cols[2].metric("GPU cost", usd(totals["cost_usd"]),
               help="Σ GPU-hours × USD per GPU-hour of the GPU's cost profile (most specific host pattern).")
cols[3].metric("Idle cost", usd(totals["idle_cost_usd"]),
               help="Σ USD per GPU-hour × (1 − busy fraction); busy = samples above 5 % utilization.")
cols[4].metric("Unpriced GPU-hours", f"{totals['unpriced_gpu_hours']:,}",
               help="GPU-hours on hosts with no cost profile; never counted as $0.")

st.plotly_chart(utilization_heatmap(data.gpu_heatmap(since, until)), key="fleet_heatmap")
costed = with_costs(gpus)
left, right = st.columns(2)
left.plotly_chart(idle_cost_by_gpu(costed), key="fleet_idle")
right.plotly_chart(queue_and_kv(saturation), key="fleet_queue")
show_table(costed.drop("signals"), hide_index=True, key="fleet_gpu_table", column_config={
    "utilization_mean": st.column_config.NumberColumn("Mean utilization (%)", format="%.1f"),
    "gpu_hour_cost_usd": st.column_config.NumberColumn("USD per GPU-hour", format="$%.3f"),
    "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="dollar"),
    "idle_cost_usd": st.column_config.NumberColumn("Idle cost (USD)", format="dollar")})

st.subheader("Signals")
signals = signal_rows(gpus, data.inference_pressure(since, until), float(threshold))
if signals.is_empty():
    st.success("No signals: no endpoint queues for long and every GPU is above the breakeven utilization.")
else:
    show_table(signals, hide_index=True, key="fleet_signals_table")
st.caption("Add capacity: an endpoint's requests waited (mean > 1) in 3 or more hours or its KV cache passed 90 %, "
           "or a GPU's p95 utilization passed 90 % for 3 hours. Below breakeven: mean utilization under the slider.")

st.subheader("Plans of the workloads this fleet serves")
plans = economics.fleet_plan_table(since, until, clock.current_hour())
if plans.is_empty():
    st.caption("No workload's own inference servers reported in this period.")
else:
    for r in plans.filter(pl.col("flagged")).iter_rows(named=True):
        st.warning(f"{r['workload']}: its vLLM servers measured {r['measured_output_tokens_per_s']:,.0f} output "
                   f"tok/s at saturation against {r['assumed_output_tokens_per_s']:,.0f} the plan assumes at the same "
                   f"mix ({r['gap']:.1f}x). {r['advice']}.")
    show_table(plans, hide_index=True, key="fleet_plans_table", column_config={
        "candidate": st.column_config.TextColumn("Candidate (the plan's, or a default pairing)"),
        "servers": st.column_config.NumberColumn("vLLM servers now", format="%d"),
        "plan_replicas": st.column_config.NumberColumn("Plan: replicas", format="%d",
                                                       help="The planning path's optimum at the assumed throughput."),
        "plan_gpus": st.column_config.NumberColumn("Plan: GPUs", format="%d"),
        "measured_output_tokens_per_s": st.column_config.NumberColumn("Measured output tok/s per server",
                                                                      format="%.0f"),
        "assumed_output_tokens_per_s": st.column_config.NumberColumn("Assumed at that mix", format="%.0f"),
        "gap": st.column_config.NumberColumn("Assumed / measured", format="%.2fx"),
        "replicas_at_measured": st.column_config.NumberColumn("Replicas at measured throughput", format="%d"),
        "gpus_at_measured": st.column_config.NumberColumn("GPUs at measured throughput", format="%d")})
    st.caption("The same rows as `hybridcost fleet`: the plan's replicas come from the one planning path "
               "(Workloads, Breakeven, the weekly report); the signals above are what the GPUs measured.")

st.subheader("Measured throughput at saturation")
st.caption("Generation tokens per second per replica (vLLM endpoint), measured only in hours when requests were "
           "queued, so the engine was saturated: the median over those hours. The Workloads page offers it as the "
           "plan's throughput (converted at the workload's prompt-to-output mix).")
show_table(saturated_throughput(saturation), hide_index=True, key="fleet_throughput_table", column_config={
    "generation_tokens_per_s": st.column_config.NumberColumn("Output tok/s per replica", format="%.0f"),
    "saturated_hours": st.column_config.NumberColumn("Saturated hours", format="%.1f")})
