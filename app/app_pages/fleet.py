"""GPU fleet: utilization per GPU and hour, idle cost, queue depth and KV cache, capacity signals, measured tok/s, plans."""

import polars as pl
import streamlit as st

from app.charts.fleet import idle_cost_by_gpu, queue_and_kv, sm_versus_utilization, utilization_heatmap
from app.ui import columns, cost_views, data, economics
from app.ui.filters import current
from app.ui.format import pct, usd
from app.ui.tables import show_table
from models import clock
from models.economics.sm_delivery import busy_looking_sentences, delivery_sentences
from models.planning.measured import GAP_FLAG
from models.queries import gpu_showback
from models.queries.fleet_view import fleet_totals, saturated_throughput, signal_rows, with_costs
from models.queries.gpu_labels import relabel_heatmap, with_labels

st.title("GPU fleet")
view = current()  # the entry point keeps the workload/team filter for other pages (keep_scope)
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
lines = cost_views.gpu_lines(since, until, clock.current_hour())
idle_lines = lines.filter(pl.col("workload") == "idle")
cols = st.columns(5)
cols[0].metric("GPUs", f"{totals['gpus']}", help="GPUs (a MIG instance counts as its own) with telemetry.")
cols[1].metric("Mean utilization", pct(None if totals["utilization_pct"] is None else totals["utilization_pct"] / 100),
               help="Hour-weighted mean of engine-active utilization (%), DCGM_FI_PROF_GR_ENGINE_ACTIVE preferred.")
cols[2].metric("GPU cost", usd(gpu_showback.total_usd(lines)),
               help="Each GPU pool's cost (its cost profile × its GPUs × the hours so far): the same figure as the "
                    "Overview and Spend GPU cost, which shares it to teams by measured use.")
cols[3].metric("Idle cost", usd(gpu_showback.total_usd(idle_lines)),
               help="Pool capacity (GPUs × hours) that no workload used (1 − busy fraction; busy = samples above "
                    "5 % utilization), at the pool's USD per GPU-hour: the idle line of the GPU cost by team.")
cols[4].metric("Unpriced GPU-hours", f"{totals['unpriced_gpu_hours']:,}",
               help="GPU-hours on hosts with no cost profile; never counted as $0.")

indexes = data.gpu_indexes(tuple(sorted(gpus["gpu_uuid"].unique().to_list())))
heat = data.gpu_heatmap(since, until)
st.plotly_chart(utilization_heatmap(relabel_heatmap(heat, indexes) if heat.height else heat), key="fleet_heatmap")
costed = with_labels(with_costs(gpus), indexes)
left, right = st.columns(2)
left.plotly_chart(idle_cost_by_gpu(costed), key="fleet_idle")
right.plotly_chart(queue_and_kv(saturation), key="fleet_queue")
st.caption("Per GPU: its observed GPU-hours × its profile's USD per GPU-hour (nameplate power); the pool figures "
           "above also count hours without telemetry and measured power, so the two can differ a little.")
columns.show(costed.select("gpu", "gpu_uuid", "mig_instance", "model", "utilization_p50", "utilization_p95",
                           "utilization_mean", "power_mean_watts", "hours", "busy_hours", "idle_hours",
                           "cost_profile", "gpu_hour_cost_usd", "cost_usd", "idle_cost_usd"),
             key="fleet_gpu_table", labels={"hours": "GPU-hours with telemetry", "model": "GPU model"})

st.subheader("Signals")
signals = signal_rows(costed, data.inference_pressure(since, until), float(threshold))
if signals.is_empty():
    st.success("No signals: no endpoint queues for long and every GPU is above the breakeven utilization.")
else:
    columns.show(signals, key="fleet_signals_table")
st.caption("Add capacity: an endpoint's requests waited (mean > 1) in 3 or more hours or its KV cache passed 90 %, "
           "or a GPU's p95 utilization passed 90 % for 3 hours. Below breakeven: mean utilization under the slider.")

st.subheader("Busy-looking GPUs: SM activity beside utilization and tokens")
sm_gpus = data.gpu_sm_activity(since, until)
delivered = data.sm_delivery(since, until)
for line in busy_looking_sentences(sm_gpus) + delivery_sentences(delivered):
    st.warning(line)
if sm_gpus.is_empty():
    st.caption("No GPU reported DCGM_FI_PROF_SM_ACTIVE in this period (dcgm-exporter exports it only with a custom "
               "counters file: docs/gpu.md).")
else:
    st.plotly_chart(sm_versus_utilization(with_labels(sm_gpus, indexes)), key="fleet_sm_scatter")
columns.show(delivered.drop("reference_source"), key="fleet_sm_table", labels={
    "target": "GPUs (pod or host)", "sm_active_gpu_hours": "SM-active GPU-hours",
    "tokens_per_s_per_sm_gpu": "Output tok/s per SM-active GPU",
    "curve_output_tokens_per_s_per_gpu": "Model's curve, tok/s per GPU", "delivered_frac": "Share of the curve",
    "capacity_not_delivered_usd": "Busy capacity not delivered (USD)"})
st.caption("Utilization (engine-active, else DCGM_FI_DEV_GPU_UTIL) says kernels ran; SM activity "
           "(DCGM_FI_PROF_SM_ACTIVE) says how many SMs did. An endpoint maps to the GPUs whose pod label is its "
           "name or host, else to every GPU on its host; one recorded as a file cannot be mapped. Busy capacity not "
           "delivered: SM-active GPU-hours the tokens do not account for at the model's curve, at the pool's USD per "
           "GPU-hour (docs/economics.md, Busy-looking GPUs).")

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
        "workload": "Workload", "advice": "Advice",
        "flagged": st.column_config.CheckboxColumn(
            "Gap flagged", help=f"Assumed and measured throughput differ by more than {GAP_FLAG}x."),
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
columns.show(saturated_throughput(saturation), key="fleet_throughput_table", labels={
    "generation_tokens_per_s": "Output tok/s per replica", "saturated_hours": "Saturated hours"})
