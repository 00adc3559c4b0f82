"""Breakeven: API line, GPU staircase and hybrid envelope for a workload against its plan's candidate; move date, payback."""

import polars as pl
import streamlit as st

from app.charts.breakeven import breakeven_chart, forecast_chart
from app.charts.flips import flips_tornado
from app.ui import data, economics
from app.ui.filters import current, workload_choices
from app.ui.format import name, tokens, usd
from app.ui.tables import show_table
from models import clock

st.title("Breakeven")
view = current()
since, until = view.since, view.until
names = workload_choices(data.workloads(), view)
if not names:
    st.info("No workloads yet. Load the demo with `hybridcost demo load`, or add attribution rules on the Data page.")
    st.stop()
c1, c2 = st.columns([1, 2])
workload = c1.selectbox("Workload", names, key="breakeven_workload", format_func=name,
                        help="The workloads of the sidebar's filter (all when it is empty).")
horizon = c2.slider("Forecast marker: weeks ahead", 4, 52, 13, key="breakeven_horizon")

now = clock.current_hour()
figures = economics.plan(workload, since, until, now)
candidate = figures.candidate
st.caption(f"Against {candidate.describe()}. Change the candidate on the Workloads page; explore others on What-if.")
if figures.status != "assessed":
    st.info(f"Not assessed: {figures.message}. Widen the date range, load data (`hybridcost demo load`), "
            "or add a price on the Data page.")
    st.stop()
if figures.result is None:
    st.info(f"{workload} stays on tokens: {candidate.reason}. {figures.tokens_alone_words()}.")
    st.stop()
result, move = figures.result, figures.move
forecast = move.forecast if move is not None else None
fc = forecast.row(min(horizon, forecast.height) - 1, named=True) if forecast is not None and forecast.height else None

cols = st.columns(4)
cols[0].metric("Today's volume", tokens(figures.monthly_tokens) + "/mo",
               help="Σ (input + output) tokens, API and local, × 730 / H hours (the range up to the current hour).")
cols[1].metric("Breakeven volume", "never" if result.breakeven_monthly_tokens is None
               else tokens(result.breakeven_monthly_tokens) + "/mo",
               help="k × Σ (I + O) × 730 / H, k the smallest demand multiplier at which one replica saves money.")
cols[2].metric("GPU cost per GPU-hour", usd(result.gpu_hourly_cost),
               help="rent: hourly rate + ops/730; buy: purchase/(amortization months × 730) + W/1000 × PUE × USD/kWh "
                    "+ ops/730.")
cols[3].metric("Forecast volume", "—" if fc is None else tokens(fc["monthly_tokens"]) + "/mo",
               help=f"Theil-Sen trend on log weekly tokens of the complete weeks in the range, {horizon} weeks "
                    "ahead (the horizon stops where the fast line passes 50x today's volume).")
cols = st.columns(4)
cols[0].metric("On tokens alone", usd(figures.monthly(figures.api_only_usd)) + "/mo",
               help="API bill + local tokens priced as the replaced API model, by kind, at the prices then in effect.")
cols[1].metric("Best plan", usd(figures.monthly(result.hybrid_cost)) + "/mo",
               help="Total(R*) × 730 / H: R* replicas for every hour plus the API cost of what overflows them.")
cols[2].metric("Optimal replicas", f"{result.optimal_replicas:,} of peak {result.peak_replicas:,}",
               help="R in 0..R_peak with the lowest Total(R); ties go to fewer replicas.")
cols[3].metric("First replica pays", move.first_replica_headline if move else "—",
               help="'now' when the plan owns a replica at today's volume; else the forecast week. Here: "
                    + (move.first_replica_words if move else "no forecast") + ".")
if figures.measured is not None:
    (st.warning if figures.measured.flagged else st.caption)(figures.measured.sentence())

reach = None if fc is None else fc["monthly_tokens_high"]
curve = economics.curve(workload, since, until, now, reach)
st.plotly_chart(breakeven_chart(
    curve, today_tokens=figures.monthly_tokens, breakeven_tokens=result.breakeven_monthly_tokens,
    forecast_tokens=None if fc is None else fc["monthly_tokens"],
    forecast_low=None if fc is None else fc["monthly_tokens_low"],
    forecast_high=None if fc is None else fc["monthly_tokens_high"],
    title=f"Breakeven for {workload} on {candidate.label}"), key="breakeven_curve")
with st.expander("Curve data (monthly tokens and USD per 730-hour month)"):
    show_table(curve, hide_index=True, key="breakeven_curve_table", column_config={
        "monthly_tokens": st.column_config.NumberColumn("Tokens per month", format="compact"),
        "api_only_usd": st.column_config.NumberColumn("API only (USD/month)", format="dollar"),
        "gpu_only_usd": st.column_config.NumberColumn("GPU only (USD/month)", format="dollar"),
        "hybrid_usd": st.column_config.NumberColumn("Best hybrid (USD/month)", format="dollar"),
        "hybrid_replicas": st.column_config.NumberColumn("Replicas in the hybrid", format="%d"),
    })

if figures.flip_sentence:  # contract v2 ran: what would change the answer, from the plan's own flip points
    st.subheader("What flips this answer")
    st.write(figures.flip_sentence)
    st.plotly_chart(flips_tornado(result.flips, result.plan_class, result.flip_to,
                                  title=f"What flips {workload}'s answer ({result.plan_class})"),
                    key="breakeven_flips")

st.subheader("Move date")
if move is None:
    st.info("No forecast.")
else:
    def _when(words: str) -> str:
        return words if not words[:1].isdigit() else f"week of {words}"
    lo, hi = move.first_replica_earliest, move.first_replica_latest
    st.markdown(f"- **First replica pays** (volume ≥ breakeven): {_when(move.first_replica_words)}\n"
                f"- **Full move pays** (GPU only < API only): {_when(move.full_move_words)}"
                + ("" if move.weekly_growth is None else f"\n- Trend: {move.weekly_growth * 100:+.1f} % a week"))
    if forecast is not None:
        st.plotly_chart(forecast_chart(figures.weekly, forecast, breakeven_tokens=result.breakeven_monthly_tokens),
                        key="breakeven_forecast")

st.subheader("Payback: buy vs rent")
payback = economics.payback(workload, since, until, now)
if payback is None:
    st.info(f"{candidate.gpu_type or 'This GPU type'} lacks a purchase or a rent price, so buying cannot be compared "
            "with renting: add both on the Data page.")
    st.stop()
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
    show_table(pl.DataFrame({
        "option": ["buy", "rent", "tokens only"],
        "cost_over_term_usd": [payback["term_cost_buy_usd"], payback["term_cost_rent_usd"],
                               payback["term_cost_tokens_usd"]],
        "monthly_usd": [payback["buy_running_monthly_usd"], payback["rent_monthly_usd"],
                        payback["tokens_monthly_usd"]]}), hide_index=True, key="breakeven_payback_table",
        column_config={"option": "Option", "cost_over_term_usd": st.column_config.NumberColumn(
            f"Cost over {payback['term_months']:.0f} months (USD)", format="dollar",
            help="buy: purchase + running × months − residual; rent and tokens: monthly × months."),
            "monthly_usd": st.column_config.NumberColumn("Running cost (USD/month)", format="dollar")})
