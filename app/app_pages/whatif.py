"""What-if: change prices, GPUs, throughput, growth and levers; curves and the cost waterfall follow every change."""

import json

import streamlit as st

from app.charts.breakeven import breakeven_chart
from app.charts.whatif import levers_waterfall, scenario_comparison
from app.ui import auth, data, economics, workflow_data
from app.ui.filters import current, workload_choices
from app.ui.flash import flash_and_rerun, show_flashes
from app.ui.format import name, tokens, usd
from app.ui.tables import show_table
from models import clock
from models.economics.catalog import GPU_TYPES, gpu_option_from_catalog
from models.economics.catalog import gpu_type as gpu_row
from models.edits import EditError, save_scenario
from models.planning.whatif import V2Controls
from models.queries.workload_view import synthetic_demand

MAX_GROWTH_FACTOR = 1_000.0  # growth beyond 1,000x today's volume is not a plan

st.title("What-if")
show_flashes()
view = current()
since, until = view.since, view.until
now = clock.current_hour()

SYNTHETIC = "synthetic (1B tokens/month, weekday-diurnal)"
names = workload_choices(data.workloads(), view)
options = names + [SYNTHETIC]
workload = st.selectbox("Demand shape from", options, key="whatif_workload", format_func=name,
                        help="A workload's hourly demand in the date range (its plan is the starting point), or a "
                             "synthetic shape when there is no data.")
figures = economics.plan(workload, since, until, now) if workload != SYNTHETIC else None
if figures is not None and figures.status != "assessed":
    st.info(f"{workload}: {figures.message}; using the synthetic shape. Load data with `hybridcost demo load` or "
            "widen the date range.")
    figures = None
planned = figures.workload if figures is not None else None
synthetic = synthetic_demand(1e9) if planned is None else None
start = figures.candidate.gpu if figures is not None and figures.candidate.gpu is not None else None
if figures is not None:
    st.caption(f"Starting point: {figures.workload}'s plan, {figures.candidate.describe()}, on the range's hours "
               "priced per model at the prices then in effect. With every control at its start, the figures below "
               "are the plan's (the Workloads page, Breakeven, the weekly report and `simulate --workload`).")
    if start is None:
        st.caption(f"{figures.workload} has no candidate ({figures.candidate.reason}): the GPU option below starts "
                   "from the catalog's Llama 3.1 8B on one rented H100 as an example.")
start = start or gpu_option_from_catalog("H100", "Llama 3.1 8B FP8", 1, "rent")
key = planned or "synthetic"

with st.expander("Token API prices", expanded=True):
    api = None
    if planned is not None:
        scale = st.slider("Token prices, % of the prices in effect each hour", 10, 300, 100, 5,
                          key=f"whatif_price_scale_{key}",
                          help="Every hour's API cost (per model, per token kind, at that hour's prices, local "
                               "tokens priced as the model they replaced) times this percentage.") / 100
    else:
        scale = 1.0
        c = st.columns(5)
        api = {"input_per_mtok": c[0].number_input("Input, USD per 1M tokens", 0.0, 1000.0, 2.50, 0.05,
                                                   key="whatif_input"),
               "cached_input_per_mtok": c[1].number_input("Cached input, USD per 1M tokens", 0.0, 1000.0, 1.25,
                                                          0.05, key="whatif_cached"),
               "output_per_mtok": c[2].number_input("Output, USD per 1M tokens", 0.0, 1000.0, 10.00, 0.1,
                                                    key="whatif_output"),
               "batch_discount": c[3].slider("Batch discount", 0.0, 1.0, 0.5, 0.05, key="whatif_batch_discount"),
               "batch_share": c[4].slider("Share already on batch", 0.0, 1.0, 0.0, 0.05, key="whatif_batch_share")}

with st.expander("GPU option", expanded=True):
    c = st.columns(4)
    types = [g["gpu_type"] for g in GPU_TYPES]
    gpu_type = c[0].selectbox("GPU type (reference prices)", types, key=f"whatif_gpu_type_{key}",
                              index=types.index(figures.candidate.gpu_type) if figures is not None
                              and figures.candidate.gpu_type in types else 0)
    row = gpu_row(gpu_type)
    same_type = figures is not None and figures.candidate.gpu_type == gpu_type
    pricing = c[1].radio("Pricing", ["rent", "buy"], horizontal=True, key=f"whatif_pricing_{key}",
                         index=1 if start.pricing == "buy" else 0)
    replica_gpus = c[3].number_input("GPUs per replica (tensor parallel)", 1, 64, int(start.replica_gpus), 1,
                                     key=f"whatif_replica_gpus_{key}")
    planned_gpus = figures.gpus if figures is not None and figures.gpus else 8
    gpu_count = c[2].number_input("GPUs you would run", 0, 100_000, int(planned_gpus), 1, key=f"whatif_gpu_count_{key}")
    c = st.columns(4)
    rate = c[0].number_input("Rent: USD per GPU-hour", 0.0, 200.0,
                             float(start.hourly_rate if same_type and start.hourly_rate is not None
                                   else row["rent_usd_per_gpu_hour"] or 2.0), 0.05, key=f"whatif_rate_{key}_{gpu_type}")
    purchase = c[1].number_input("Buy: purchase USD per GPU", 0.0, 1_000_000.0,
                                 float(start.purchase_price if same_type and start.purchase_price is not None
                                       else row["purchase_usd"] or 10_000.0), 500.0,
                                 key=f"whatif_purchase_{key}_{gpu_type}")
    power = c[2].number_input("Buy: power draw, W per GPU", 0.0, 3000.0,
                              float(start.power_watts if same_type and start.power_watts is not None
                                    else row["tdp_watts"] or 700.0), 10.0, key=f"whatif_power_{key}_{gpu_type}")
    months = c[3].number_input("Buy: amortization months", 1, 240, int(start.amortization_months or 36), 1,
                               key=f"whatif_amortization_{key}")
    c = st.columns(4)
    pue = c[0].number_input("Buy: PUE", 1.0, 3.0, float(start.pue or 1.5), 0.05, key=f"whatif_pue_{key}")
    kwh = c[1].number_input("Buy: electricity, USD per kWh", 0.0, 2.0, float(start.electricity_per_kwh or 0.10),
                            0.01, key=f"whatif_kwh_{key}")
    ops = c[2].number_input("Ops, USD per GPU-month", 0.0, 100_000.0, float(start.ops_per_gpu_month), 10.0,
                            key=f"whatif_ops_{key}")
    max_util = c[3].slider("Max planned utilization", 0.05, 1.0, float(start.max_utilization), 0.05,
                           key=f"whatif_max_util_{key}")
    c = st.columns(2)
    tps_out = c[0].number_input("Output tokens/s per replica (decode, at saturation)", 0.001, 1e8,
                                float(start.output_tokens_per_s), 100.0, key=f"whatif_tps_out_{key}")
    tps_in = c[1].number_input("Input tokens/s per replica (prefill, at saturation)", 0.001, 1e9,
                               float(start.input_tokens_per_s), 1000.0, key=f"whatif_tps_in_{key}")
    if figures is not None and figures.measured is not None:
        st.caption(figures.measured.sentence())

v2 = None  # the synthetic shape has no measured inputs: contract v1, as a scenario file without plan/slo blocks
if planned is not None:
    v2_start = economics.whatif_start(planned, since, until, now)
    with st.expander("Planning inputs (contract v2)", expanded=True):
        st.caption(f"Each starts at the value {planned}'s plan used: measured where its data held it, else the "
                   "plan's, a setting's or the stated default. " + " · ".join(figures.inputs_lines()))
        c = st.columns(4)
        escalation = c[0].number_input(
            "Escalation share (stays on the API)", 0.0, 0.99, float(v2_start.escalation_share), 0.01, format="%.3f",
            key=f"whatif_v2_escalation_{key}", help="e: share of every hour's demand kept on the API for quality.")
        peak = c[1].number_input(
            "Peak factor (busiest minute / mean minute)", 1.0, 100.0, float(v2_start.peak_factor), 0.1,
            format="%.2f", key=f"whatif_v2_peak_{key}",
            help="p_t for the hours without a measured factor of their own (those keep theirs); interactive work is "
                 "sized for the busiest minute.")
        deferrable = c[2].number_input(
            "Deferrable share (any time of its UTC day)", 0.0, 1.0, float(v2_start.deferrable_share), 0.01,
            format="%.3f", key=f"whatif_v2_deferrable_{key}",
            help="d: runs on spare committed capacity within its UTC day, else through the batch API. Starts at the "
                 "batch candidates' share the request logs found.")
        fixed = c[3].number_input(
            "Fixed platform cost, USD per month", 0.0, 10_000_000.0, float(v2_start.fixed_monthly), 500.0,
            key=f"whatif_v2_fixed_{key}", help="F: people and tooling, paid while any GPU (committed or on-demand) "
                                              "is used.")
        c = st.columns(4)
        on_demand = c[0].checkbox("On-demand tier", v2_start.on_demand_hourly_rate is not None,
                                  key=f"whatif_v2_od_on_{key}",
                                  help="Rent replicas by the hour for the busy hours the committed ones cannot serve.")
        od_rate = c[1].number_input(
            "On-demand USD per GPU-hour", 0.01, 200.0,
            float(v2_start.on_demand_hourly_rate or start.hourly_rate or row["rent_usd_per_gpu_hour"] or 2.0), 0.05,
            key=f"whatif_v2_od_rate_{key}", disabled=not on_demand)
        itl = ttft = None
        if v2_start.p95_itl_ms is not None:
            itl = c[2].number_input("SLO: p95 inter-token latency, ms", 1.0, 100_000.0, float(v2_start.p95_itl_ms),
                                    5.0, key=f"whatif_v2_itl_{key}",
                                    help="The operating point is the curve's fastest point within both targets.")
            ttft = c[3].number_input("SLO: p95 time to first token, ms", 1.0, 1_000_000.0,
                                     float(v2_start.p95_ttft_ms), 100.0, key=f"whatif_v2_ttft_{key}")
        else:
            c[2].caption("No throughput/latency curve for this candidate, so no SLO to move: the throughput above "
                         "and the headroom size a replica.")
    v2 = V2Controls(escalation_share=escalation, peak_factor=peak, deferrable_share=deferrable,
                   fixed_monthly=fixed, on_demand_hourly_rate=od_rate if on_demand else None,
                   p95_itl_ms=itl, p95_ttft_ms=ttft).as_dict()

measured = workflow_data.measured_lever_shares(since, until).get(workload, {}) if planned is not None else {}


def _measured(name: str, upper: float) -> float:
    """The measured share as the slider's starting point (0 where not measurable), rounded to the slider."""
    value = measured.get(name)
    return 0.0 if value is None else round(min(upper, max(0.0, value)), 2)


with st.expander("Growth and levers", expanded=True):
    if measured:
        shown = {k: ("not measurable" if v is None else f"{v:.0%}") for k, v in measured.items()}
        st.caption(f"Lever sliders start at what the request logs measured for {workload} in this range "
                   f"(Workflow page): repeats {shown['repeat_share']}, batchable {shown['batchable_share']}, "
                   f"routable {shown['routable_share']}; each is a share of the spend the previous lever left.")
    c = st.columns(3)
    growth = c[0].number_input("Growth, % per month", -50.0, 500.0, 0.0, 1.0, key="whatif_growth")
    ahead = c[1].number_input("Months ahead", 0, 36, 0, 1, key="whatif_months_ahead")
    batchable = c[2].slider("Batchable share (not interactive)", 0.0, 1.0, _measured("batchable_share", 1.0), 0.01,
                            key=f"whatif_batchable_{workload}")
    c = st.columns(3)
    cache_hit = c[0].slider("Response-cache hit rate (exact repeats)", 0.0, 0.9, _measured("repeat_share", 0.9), 0.01,
                            key=f"whatif_cache_{workload}")
    route = c[1].slider("Share routed to a cheaper model", 0.0, 1.0, _measured("routable_share", 1.0), 0.01,
                        key=f"whatif_route_{workload}")
    ratio = c[2].slider("Cheaper model's price / today's", 0.0, 1.0, 0.2, 0.05, key="whatif_ratio")

gpu = {"pricing": pricing, "ops_per_gpu_month": ops, "replica_gpus": int(replica_gpus), "input_tokens_per_s": tps_in,
       "output_tokens_per_s": tps_out, "max_utilization": max_util}
gpu.update({"hourly_rate": rate} if pricing == "rent" else
           {"purchase_price": purchase, "amortization_months": months, "power_watts": power, "pue": pue,
            "electricity_per_kwh": kwh})
factor = min(MAX_GROWTH_FACTOR, (1 + growth / 100) ** ahead)
if (1 + growth / 100) ** ahead > MAX_GROWTH_FACTOR:
    st.warning(f"{growth:+.0f} % a month for {ahead} months is more than {MAX_GROWTH_FACTOR:,.0f}x today's volume: "
               f"the figures stop at {MAX_GROWTH_FACTOR:,.0f}x.")
args = (planned, since, until, now, gpu, scale, factor)
result = economics.whatif(*args, api=api, synthetic=synthetic, v2=v2)
if "error" in result:
    st.error(f"These inputs give no answer: {result['error']}")
    st.stop()
replicas = int(gpu_count) // int(replica_gpus)
yours = economics.whatif_total(*args, replicas, api=api, synthetic=synthetic, v2=v2)

base_tokens = figures.monthly_tokens if figures is not None else \
    float(synthetic["input_tokens"].sum() + synthetic["output_tokens"].sum()) * 730 / synthetic.height
monthly_tokens = base_tokens * factor
cols = st.columns(5)
cols[0].metric("Volume (per month)", tokens(monthly_tokens), help="Base demand × (1 + growth)^months ahead, × 730 / H.")
cols[1].metric("API only (USD/month)", usd(economics.monthly(result, result["api_only_cost"]), cents=False),
               help="Σ_t A_t × 730 / H: each hour's API cost (per model and token kind at the prices then, local "
                    "tokens priced as the model they replaced) × the price scale × the growth factor.")
cols[2].metric("GPU cost per GPU-hour", usd(result["gpu_hourly_cost"]),
               help="rent: rate + ops/730; buy: purchase/(months × 730) + W/1000 × PUE × USD/kWh + ops/730.")
cols[3].metric("Your GPUs (USD/month)", usd(yours, cents=False),
               help=f"{int(gpu_count):,} GPUs = {replicas:,} replica{'s' if replicas != 1 else ''} of "
                    f"{int(replica_gpus):,}. Total(R) × 730 / H with R = GPUs ÷ GPUs per replica, by the same "
                    "contract as the other figures: v1 R × h_rep × H + API cost of overflow; v2 (with planning inputs) also escalated "
                    "tokens, on-demand replicas for busy hours, deferrable work on spare capacity and the fixed cost.")
cols[4].metric("Best hybrid (USD/month)", usd(economics.monthly(result, result["hybrid_cost"]), cents=False),
               help=f"Lowest Total(R) over R = 0..{result['peak_replicas']:,}: {result['optimal_replicas']:,} "
                    "replica(s).")
st.success(economics.recommendation(result))
st.caption(f"Contract {result['contract_version']}: "
           + ("the planning inputs above are in every figure on this page, the curve and the levers "
              "waterfall's move step included." if result["contract_version"] == "v2"
              else "the synthetic shape has no planning inputs, or every one is at its v1 default, so every "
                   "figure is the v1 figure."))

left, right = st.columns(2)
left.plotly_chart(breakeven_chart(economics.whatif_curve(*args, api=api, synthetic=synthetic, v2=v2),
                                  today_tokens=monthly_tokens, breakeven_tokens=result["breakeven_monthly_tokens"],
                                  title="What-if: monthly cost vs monthly tokens"), key="whatif_curve")
steps = economics.whatif_levers(*args, {"repeat_share": cache_hit, "batchable_share": batchable,
                                        "route_share": route, "route_price_ratio": ratio},
                                api=api, synthetic=synthetic, v2=v2)
right.plotly_chart(levers_waterfall(steps), key="whatif_waterfall")
show_table(steps, hide_index=True, key="whatif_levers_table", column_config={
    "lever": "Lever", "status": "Status", "assumption": "Assumption", "detail": "How it is worked out",
    "saving_usd_month": st.column_config.NumberColumn("Saving (USD/month)", format="dollar"),
    "remaining_usd_month": st.column_config.NumberColumn("Remaining (USD/month)", format="dollar")})

st.subheader("Scenarios")
body = {"workload": workload, "api": api, "price_scale": scale, "gpu": gpu, "growth_pct_month": growth,
        "months_ahead": ahead,
        "levers": {"repeat_share": cache_hit, "batchable_share": batchable, "route_share": route,
                   "route_price_ratio": ratio}, "gpu_type": gpu_type, "gpu_count": int(gpu_count), "v2": v2}
with st.form("whatif_save_form"):
    name = st.text_input("Scenario name", key="whatif_scenario_name", placeholder="labeling on 8x H100, bought")
    if st.form_submit_button("Save scenario"):
        try:
            save_scenario(data.writer_engine(), actor=auth.actor(), name=name, body={"name": name.strip(), **body})
        except (EditError, PermissionError) as exc:
            st.error(f"Scenario not saved: {exc}")
        else:
            data.clear()
            if "whatif_compare" in st.session_state:  # show the new scenario in the comparison
                st.session_state["whatif_compare"] = [*st.session_state["whatif_compare"], name.strip()]
            flash_and_rerun(f"Saved scenario {name.strip()!r}.")
saved = data.scenarios()
if saved.is_empty():
    st.caption("No saved scenarios yet: name the inputs above and save them to compare side by side.")
else:
    picked = st.multiselect("Compare saved scenarios (on the demand above)", saved["name"].to_list(),
                            default=saved["name"].to_list()[:4], key="whatif_compare")
    bodies = {n: b for n, b in zip(saved["name"].to_list(), saved["body"].to_list()) if n in picked}
    compared = economics.scenario_costs(planned, since, until, now, scale, factor, bodies, api=api,
                                        synthetic=synthetic)
    st.plotly_chart(scenario_comparison(compared), key="whatif_compare_chart")
    show_table(compared, hide_index=True, key="whatif_compare_table", column_config={
        "scenario": "Scenario", "note": "Note",
        "api_only_usd_month": st.column_config.NumberColumn("API only (USD/month)", format="dollar"),
        "gpu_only_usd_month": st.column_config.NumberColumn("GPU only (USD/month)", format="dollar"),
        "hybrid_usd_month": st.column_config.NumberColumn("Best hybrid (USD/month)", format="dollar"),
        "optimal_replicas": st.column_config.NumberColumn("Replicas in the hybrid", format="%d")})
    with st.expander("Saved inputs (JSON)"):
        st.json({n: json.loads(b) for n, b in bodies.items()})
