"""Breakeven: API line, GPU staircase and hybrid envelope for a workload and GPU option; forecast, move date, payback."""

import polars as pl
import streamlit as st

from app.charts.breakeven import breakeven_chart, forecast_chart
from app.ui import data, economics
from app.ui.filters import current, workload_choices
from app.ui.format import tokens, usd
from models.queries.workload_view import complete_weeks, weekly

st.title("Breakeven")
view = current()
since, until = view.since, view.until
if not economics.available():
    st.info("The breakeven curves appear once the economics engine (`models.economics`) is installed.")
    st.stop()
from models.economics.catalog import GPU_TYPES, MODEL_THROUGHPUT  # noqa: E402  (only once the engine exists)

names = workload_choices(data.workloads(), view)
if not names:
    st.info("No workloads yet. Load the demo with `hybridcost demo load`, or add attribution rules on the Data page.")
    st.stop()
c1, c2, c3, c4 = st.columns(4)
workload = c1.selectbox("Workload", names, key="breakeven_workload",
                        help="The workloads of the sidebar's filter (all when it is empty).")
priced_gpus = [g["gpu_type"] for g in GPU_TYPES if g["rent_usd_per_gpu_hour"] is not None]
gpu_type = c2.selectbox("GPU type", priced_gpus, key="breakeven_gpu")
models_for = [(t["model"], t["tensor_parallel"]) for t in MODEL_THROUGHPUT if t["gpu_type"] == gpu_type] \
    or [(t["model"], t["tensor_parallel"]) for t in MODEL_THROUGHPUT if t["gpu_type"] == "H100"]
model, tp = c3.selectbox("Self-hosted model (replica)", models_for, key="breakeven_model",
                         format_func=lambda m: f"{m[0]} (TP {m[1]})")
pricing = c4.radio("GPU pricing", ["rent", "buy"], horizontal=True, key="breakeven_pricing")
horizon = st.slider("Forecast marker: weeks ahead", 4, 52, 13, key="breakeven_horizon")

table = economics.demand_table(workload, since, until)
api = economics.api_fields(workload, since, until)
if table.is_empty() or api is None:
    st.info(f"{workload} has no tokens, or no priced API model, between {since:%Y-%m-%d} and {until:%Y-%m-%d}. "
            "Widen the date range, load data (`hybridcost demo load`), or add a price on the Data page.")
    st.stop()
gpu = economics.default_gpu_fields(pricing, gpu_type, model, tp)
result = economics.simulate(table, api, gpu)
today_monthly = float(table["input_tokens"].sum() + table["output_tokens"].sum()) * 730 / table.height
weeks = complete_weeks(weekly(table))  # a cut week fitted as a whole one would skew the trend
moves = economics.move_dates(weeks, table, api, gpu)
fc = None
if moves is not None and moves.forecast.height >= horizon:
    fc = moves.forecast.row(horizon - 1, named=True)

cols = st.columns(4)
cols[0].metric("Today's volume", tokens(today_monthly) + "/mo", help="Σ (input + output) tokens × 730 / H hours.")
cols[1].metric("Breakeven volume", "never" if result["breakeven_monthly_tokens"] is None
               else tokens(result["breakeven_monthly_tokens"]) + "/mo",
               help="k × Σ (I + O) × 730 / H, k the smallest demand multiplier at which one replica saves money.")
cols[2].metric("GPU cost per GPU-hour", usd(result["gpu_hourly_cost"]),
               help="rent: hourly rate + ops/730; buy: purchase/(amortization months × 730) + W/1000 × PUE × USD/kWh + ops/730.")
cols[3].metric("Forecast volume", "—" if fc is None else tokens(fc["monthly_tokens"]) + "/mo",
               help=f"Theil-Sen trend on log weekly tokens, {horizon} weeks ahead; interval from the slope spread (80 %).")

curve = economics.curve(table, api, gpu, None if fc is None else fc["monthly_tokens_high"])
st.plotly_chart(breakeven_chart(
    curve, today_tokens=today_monthly, breakeven_tokens=result["breakeven_monthly_tokens"],
    forecast_tokens=None if fc is None else fc["monthly_tokens"],
    forecast_low=None if fc is None else fc["monthly_tokens_low"],
    forecast_high=None if fc is None else fc["monthly_tokens_high"],
    title=f"Breakeven for {workload} on {gpu_type} ({pricing})"), key="breakeven_curve")
with st.expander("Curve data (monthly tokens and USD per 730-hour month)"):
    st.dataframe(curve, hide_index=True, key="breakeven_curve_table", column_config={
        "monthly_tokens": st.column_config.NumberColumn("Tokens per month", format="compact"),
        "api_only_usd": st.column_config.NumberColumn("API only (USD/month)", format="dollar"),
        "gpu_only_usd": st.column_config.NumberColumn("GPU only (USD/month)", format="dollar"),
        "hybrid_usd": st.column_config.NumberColumn("Best hybrid (USD/month)", format="dollar"),
        "hybrid_replicas": st.column_config.NumberColumn("Replicas in the hybrid", format="%d"),
    })

st.subheader("Move date")
if moves is None:
    st.info("Fewer than two complete ISO weeks (Monday to Monday, UTC) with tokens: no trend to forecast from. "
            "Widen the date range.")
else:
    def _when(week):
        return "never within the horizon (52 weeks)" if week is None else f"week of {week:%Y-%m-%d}"
    st.markdown(f"- **First replica pays** (volume ≥ breakeven): {_when(moves.first_replica_week)} "
                f"(earliest {_when(moves.first_replica_earliest)}, latest {_when(moves.first_replica_latest)})\n"
                f"- **Full move pays** (GPU only < API only): {_when(moves.full_move_week)} "
                f"(earliest {_when(moves.full_move_earliest)}, latest {_when(moves.full_move_latest)})\n"
                f"- Trend: {moves.weekly_growth * 100:+.1f} % a week")
    st.plotly_chart(forecast_chart(weeks, moves.forecast, breakeven_tokens=moves.breakeven_monthly_tokens),
                    key="breakeven_forecast")

st.subheader("Payback: buy vs rent")
payback = economics.buy_vs_rent(table, api, economics.default_gpu_fields("buy", gpu_type, model, tp),
                                economics.default_gpu_fields("rent", gpu_type, model, tp))
st.write(payback["message"])
if payback["status"] == "ok":
    cols = st.columns(4)
    cols[0].metric("Payback vs tokens", "never" if payback["payback_vs_tokens_months"] is None
                   else f"{payback['payback_vs_tokens_months']:.1f} months",
                   help="Purchase / (tokens USD/month − bought running USD/month).")
    cols[1].metric("Payback vs renting", "never" if payback["payback_vs_rent_months"] is None
                   else f"{payback['payback_vs_rent_months']:.1f} months",
                   help="Purchase / (rented USD/month − bought running USD/month).")
    cols[2].metric("Purchase", usd(payback["purchase_usd"]), help="GPUs bought × purchase price per GPU.")
    cols[3].metric("GPUs bought", f"{payback['gpus']}", help="Replicas the contract's optimum owns × GPUs per replica.")
    st.dataframe(pl.DataFrame({
        "option": ["buy", "rent", "tokens only"],
        "cost_over_term_usd": [payback["term_cost_buy_usd"], payback["term_cost_rent_usd"],
                               payback["term_cost_tokens_usd"]],
        "monthly_usd": [payback["buy_running_monthly_usd"], payback["rent_monthly_usd"],
                        payback["tokens_monthly_usd"]]}), hide_index=True, key="breakeven_payback_table",
        column_config={"option": "Option", "cost_over_term_usd": st.column_config.NumberColumn(
            f"Cost over {payback['term_months']:.0f} months (USD)", format="dollar",
            help="buy: purchase + running × months − residual; rent and tokens: monthly × months."),
            "monthly_usd": st.column_config.NumberColumn("Running cost (USD/month)", format="dollar")})
