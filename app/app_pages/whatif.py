"""What-if: change prices, GPUs, throughput, growth and levers; curves and the cost waterfall follow every change."""

import json

import streamlit as st

from app.charts.breakeven import breakeven_chart
from app.charts.whatif import levers_waterfall, scenario_comparison
from app.ui import auth, data, economics, workflow_data
from app.ui.filters import current, workload_choices
from app.ui.flash import flash_and_rerun, show_flashes
from app.ui.format import tokens, usd
from models.edits import EditError, save_scenario
from models.queries.workload_view import scale_demand, synthetic_demand

st.title("What-if")
show_flashes()
view = current()
since, until = view.since, view.until
if not economics.available():
    st.info("The what-if tools appear once the economics engine (`models.economics`) is installed.")
    st.stop()
from models.economics.catalog import GPU_TYPES  # noqa: E402
from models.economics.catalog import gpu_type as gpu_row

SYNTHETIC = "synthetic (1B tokens/month, weekday-diurnal)"
names = workload_choices(data.workloads(), view)
options = names + [SYNTHETIC]
workload = st.selectbox("Demand shape from", options, key="whatif_workload",
                        help="A workload's hourly demand in the date range, or a synthetic shape when there is no data.")
base = economics.demand_table(workload, since, until) if workload != SYNTHETIC else synthetic_demand(1e9)
if base.is_empty():
    st.info(f"{workload} has no tokens in this period; using the synthetic shape. Load data with "
            "`hybridcost demo load` or widen the date range.")
    base = synthetic_demand(1e9)
found = economics.api_fields(workload, since, until) if workload != SYNTHETIC else None
api_default = found or {"input_per_mtok": 2.50, "cached_input_per_mtok": 1.25, "output_per_mtok": 10.00}

with st.expander("Token API prices (USD per 1M tokens)", expanded=True):
    c = st.columns(5)
    inp = c[0].number_input("Input, USD per 1M tokens", 0.0, 1000.0, float(api_default["input_per_mtok"]), 0.05,
                            key=f"whatif_input_{workload}")
    cached = c[1].number_input("Cached input, USD per 1M tokens", 0.0, 1000.0,
                               float(api_default["cached_input_per_mtok"]), 0.05, key=f"whatif_cached_{workload}")
    out = c[2].number_input("Output, USD per 1M tokens", 0.0, 1000.0, float(api_default["output_per_mtok"]), 0.1,
                            key=f"whatif_output_{workload}")
    batch_discount = c[3].slider("Batch discount", 0.0, 1.0, 0.5, 0.05, key="whatif_batch_discount")
    batch_share = c[4].slider("Share already on batch", 0.0, 1.0, 0.0, 0.05, key="whatif_batch_share")

with st.expander("GPU option", expanded=True):
    c = st.columns(4)
    gpu_type = c[0].selectbox("GPU type", [g["gpu_type"] for g in GPU_TYPES], key="whatif_gpu_type")
    row = gpu_row(gpu_type)
    pricing = c[1].radio("Pricing", ["rent", "buy"], horizontal=True, key="whatif_pricing")
    gpu_count = c[2].number_input("GPUs you would run", 0, 1024, 8, 1, key="whatif_gpu_count")
    replica_gpus = c[3].number_input("GPUs per replica (tensor parallel)", 1, 16, 1, 1, key="whatif_replica_gpus")
    c = st.columns(4)
    rate = c[0].number_input("Rent: USD per GPU-hour", 0.0, 100.0, float(row["rent_usd_per_gpu_hour"] or 2.0), 0.05,
                             key=f"whatif_rate_{gpu_type}")
    purchase = c[1].number_input("Buy: purchase USD per GPU", 0.0, 500_000.0, float(row["purchase_usd"] or 10_000.0),
                                 500.0, key=f"whatif_purchase_{gpu_type}")
    power = c[2].number_input("Buy: power draw, W per GPU", 0.0, 3000.0, float(row["tdp_watts"] or 700.0), 10.0,
                              key=f"whatif_power_{gpu_type}")
    months = c[3].number_input("Buy: amortization months", 1, 120, 36, 1, key="whatif_amortization")
    c = st.columns(4)
    pue = c[0].number_input("Buy: PUE", 1.0, 3.0, 1.5, 0.05, key="whatif_pue")
    kwh = c[1].number_input("Buy: electricity, USD per kWh", 0.0, 2.0, 0.10, 0.01, key="whatif_kwh")
    ops = c[2].number_input("Ops, USD per GPU-month", 0.0, 10_000.0, 150.0, 10.0, key="whatif_ops")
    max_util = c[3].slider("Max planned utilization", 0.1, 1.0, 0.8, 0.05, key="whatif_max_util")
    c = st.columns(2)
    tps_out = c[0].number_input("Output tokens/s per replica (decode, at saturation)", 1.0, 1e6, 15_220.0, 100.0,
                                key="whatif_tps_out")
    tps_in = c[1].number_input("Input tokens/s per replica (prefill, at saturation)", 1.0, 1e7, 121_760.0, 1000.0,
                               key="whatif_tps_in")

measured = workflow_data.measured_lever_shares(since, until).get(workload, {}) if workload != SYNTHETIC else {}


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

api = {"input_per_mtok": inp, "cached_input_per_mtok": cached, "output_per_mtok": out,
       "batch_discount": batch_discount, "batch_share": batch_share}
gpu = {"pricing": pricing, "ops_per_gpu_month": ops, "replica_gpus": int(replica_gpus), "input_tokens_per_s": tps_in,
       "output_tokens_per_s": tps_out, "max_utilization": max_util}
gpu.update({"hourly_rate": rate} if pricing == "rent" else
           {"purchase_price": purchase, "amortization_months": months, "power_watts": power, "pue": pue,
            "electricity_per_kwh": kwh})
factor = (1 + growth / 100) ** ahead
demand = scale_demand(base, factor)
result = economics.simulate(demand, api, gpu)
replicas = int(gpu_count) // int(replica_gpus)
yours = economics.fleet_total(demand, api, gpu, replicas)

monthly_tokens = float(demand["input_tokens"].sum() + demand["output_tokens"].sum()) * 730 / demand.height
cols = st.columns(5)
cols[0].metric("Volume (per month)", tokens(monthly_tokens), help="Base demand × (1 + growth)^months ahead, × 730 / H.")
cols[1].metric("API only (USD/month)", usd(economics.monthly(result, result["api_only_cost"]), cents=False),
               help="Σ ((I−C)×input + C×cached + O×output) / 1e6 × (1 − batch share × discount) × 730 / H.")
cols[2].metric("GPU cost per GPU-hour", usd(result["gpu_hourly_cost"]),
               help="rent: rate + ops/730; buy: purchase/(months × 730) + W/1000 × PUE × USD/kWh + ops/730.")
cols[3].metric(f"Your {int(gpu_count)} GPUs, {replicas} replicas (USD/month)", usd(yours, cents=False),
               help="Total(R) × 730 / H with R = GPUs ÷ GPUs per replica: R × h_rep × H + API cost of overflow.")
cols[4].metric("Best hybrid (USD/month)", usd(economics.monthly(result, result["hybrid_cost"]), cents=False),
               help=f"Lowest Total(R) over R = 0..{result['peak_replicas']}: {result['optimal_replicas']} replica(s).")
st.success(economics.recommendation(result, int(replica_gpus)))

left, right = st.columns(2)
left.plotly_chart(breakeven_chart(economics.curve(demand, api, gpu), today_tokens=monthly_tokens,
                                  breakeven_tokens=result["breakeven_monthly_tokens"],
                                  title="What-if: monthly cost vs monthly tokens"), key="whatif_curve")
steps = economics.levers(demand, api, gpu, {"repeat_share": cache_hit, "batchable_share": batchable,
                                            "route_share": route, "route_price_ratio": ratio})
right.plotly_chart(levers_waterfall(steps), key="whatif_waterfall")
st.dataframe(steps, hide_index=True, key="whatif_levers_table", column_config={
    "lever": "Lever", "status": "Status", "detail": "How it is worked out",
    "saving_usd_month": st.column_config.NumberColumn("Saving (USD/month)", format="dollar"),
    "remaining_usd_month": st.column_config.NumberColumn("Remaining (USD/month)", format="dollar")})

st.subheader("Scenarios")
body = {"workload": workload, "api": api, "gpu": gpu, "growth_pct_month": growth, "months_ahead": ahead,
        "levers": {"repeat_share": cache_hit, "batchable_share": batchable, "route_share": route,
                   "route_price_ratio": ratio}, "gpu_type": gpu_type, "gpu_count": int(gpu_count)}
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
    compared = economics.scenario_costs(demand, bodies)
    st.plotly_chart(scenario_comparison(compared), key="whatif_compare_chart")
    st.dataframe(compared, hide_index=True, key="whatif_compare_table", column_config={
        "scenario": "Scenario", "note": "Note",
        "api_only_usd_month": st.column_config.NumberColumn("API only (USD/month)", format="dollar"),
        "gpu_only_usd_month": st.column_config.NumberColumn("GPU only (USD/month)", format="dollar"),
        "hybrid_usd_month": st.column_config.NumberColumn("Best hybrid (USD/month)", format="dollar"),
        "optimal_replicas": st.column_config.NumberColumn("Replicas in the hybrid", format="%d")})
    with st.expander("Saved inputs (JSON)"):
        st.json({n: json.loads(b) for n, b in bodies.items()})
