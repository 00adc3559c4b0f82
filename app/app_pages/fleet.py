"""GPU fleet: utilization per GPU and hour, idle cost, queue depth and KV cache, capacity signals, measured tok/s."""

import streamlit as st

from app.charts.fleet import idle_cost_by_gpu, queue_and_kv, utilization_heatmap
from app.ui import data
from app.ui.filters import apply_scope, date_range_sidebar, sidebar
from app.ui.format import pct, usd
from models.queries.fleet_view import capacity_signals, fleet_summary, per_gpu, saturated_throughput

st.title("GPU fleet")
since, until = date_range_sidebar()
picked_workloads, _ = sidebar(data.spend_daily(since, until))
gpus = data.gpu_hours(since, until)
# GPUs carry no workload; inference endpoints do, so the workload filter narrows those.
inference = apply_scope(data.inference_hours(since, until), picked_workloads, [])
if gpus.is_empty() and inference.is_empty():
    st.info("No GPU telemetry in this period. Load the demo with `hybridcost demo load`, or start collecting with "
            "`hybridcost collect gpu` or `hybridcost ingest dcgm|vllm|nvidia-smi ...` (see docs/gpu.md); widen the date range if data is older.")
    st.stop()

summary = fleet_summary(gpus)
cols = st.columns(5)
cols[0].metric("GPUs", f"{summary['gpus']}", help="Distinct GPUs (whole GPUs; MIG instances not counted) with telemetry.")
cols[1].metric("Mean utilization", pct(None if summary["utilization_pct"] is None else summary["utilization_pct"] / 100),
               help="Mean over GPU-hours of engine-active utilization (%), DCGM_FI_PROF_GR_ENGINE_ACTIVE preferred.")
cols[2].metric("GPU cost", usd(summary["cost_usd"]), help="Σ GPU-hours × USD per GPU-hour of the matching cost profile.")
cols[3].metric("Idle cost", usd(summary["idle_cost_usd"]),
               help="Σ USD per GPU-hour × (1 − busy fraction); busy = samples above 5 % utilization.")
cols[4].metric("Unpriced GPU-hours", f"{summary['unpriced_gpu_hours']:,}",
               help="GPU-hours on hosts with no cost profile; never counted as $0.")

st.plotly_chart(utilization_heatmap(gpus), key="fleet_heatmap")
gpu_table = per_gpu(gpus)
left, right = st.columns(2)
left.plotly_chart(idle_cost_by_gpu(gpu_table), key="fleet_idle")
right.plotly_chart(queue_and_kv(inference), key="fleet_queue")
st.dataframe(gpu_table, hide_index=True, key="fleet_gpu_table", column_config={
    "utilization_pct": st.column_config.NumberColumn("Mean utilization (%)", format="%.1f"),
    "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="$%.2f"),
    "idle_cost_usd": st.column_config.NumberColumn("Idle cost (USD)", format="$%.2f")})

st.subheader("Signals")
threshold = st.slider("Breakeven utilization (%)", 5, 95, 40, key="fleet_breakeven_pct",
                      help="A GPU whose mean utilization is below this does not pay for itself against the API; "
                           "see the Breakeven page for a workload's own figure.")
signals = capacity_signals(inference, gpus, breakeven_utilization_pct=float(threshold))
if signals.is_empty():
    st.success("No signals: no endpoint queues often and every GPU is above the breakeven utilization.")
else:
    st.dataframe(signals, hide_index=True, key="fleet_signals_table")
st.caption("Add capacity: requests waited in more than 10 % of hours, or the KV cache reached 95 %.")

st.subheader("Measured throughput at saturation")
st.caption("Generation tokens per second per replica (vLLM endpoint), measured only over intervals when requests "
           "were queued, so the engine was saturated: Σ generated tokens / Σ saturated seconds.")
st.dataframe(saturated_throughput(inference), hide_index=True, key="fleet_throughput_table", column_config={
    "generation_tokens_per_s": st.column_config.NumberColumn("Output tok/s per replica", format="%.0f"),
    "saturated_hours": st.column_config.NumberColumn("Saturated hours", format="%.1f")})
