"""GPU fleet: utilization per GPU and hour, idle cost, queue depth and KV cache, capacity signals, measured tok/s."""

import streamlit as st

from app.charts.fleet import idle_cost_by_gpu, queue_and_kv, utilization_heatmap
from app.ui import data
from app.ui.filters import current
from app.ui.format import pct, usd
from models.queries.fleet_view import fleet_totals, saturated_throughput, signal_rows, with_costs

st.title("GPU fleet")
view = current()
since, until = view.since, view.until
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
st.dataframe(costed.drop("signals"), hide_index=True, key="fleet_gpu_table", column_config={
    "utilization_mean": st.column_config.NumberColumn("Mean utilization (%)", format="%.1f"),
    "gpu_hour_cost_usd": st.column_config.NumberColumn("USD per GPU-hour", format="$%.3f"),
    "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="dollar"),
    "idle_cost_usd": st.column_config.NumberColumn("Idle cost (USD)", format="dollar")})

st.subheader("Signals")
signals = signal_rows(gpus, data.inference_pressure(since, until), float(threshold))
if signals.is_empty():
    st.success("No signals: no endpoint queues for long and every GPU is above the breakeven utilization.")
else:
    st.dataframe(signals, hide_index=True, key="fleet_signals_table")
st.caption("Add capacity: an endpoint's requests waited (mean > 1) in 3 or more hours or its KV cache passed 90 %, "
           "or a GPU's p95 utilization passed 90 % for 3 hours. Below breakeven: mean utilization under the slider.")

st.subheader("Measured throughput at saturation")
st.caption("Generation tokens per second per replica (vLLM endpoint), measured only in hours when requests were "
           "queued, so the engine was saturated: the median over those hours. Use it as output tok/s in What-if.")
st.dataframe(saturated_throughput(saturation), hide_index=True, key="fleet_throughput_table", column_config={
    "generation_tokens_per_s": st.column_config.NumberColumn("Output tok/s per replica", format="%.0f"),
    "saturated_hours": st.column_config.NumberColumn("Saturated hours", format="%.1f")})
