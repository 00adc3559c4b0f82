"""Workloads: one workload's hourly shape, weekly growth, token mix, reasoning share, its plan and recommendation."""

import polars as pl
import streamlit as st

from app.charts.flips import flips_tornado
from app.charts.workloads import hourly_heatmap, token_mix, weekly_volume
from app.ui import columns, data, economics
from app.ui.filters import current, workload_choices
from app.ui.flash import show_flashes
from app.ui.format import name, pct, tokens, usd
from app.ui.plan_editor import plan_editor
from models import clock
from models.planning.pairing import DEFAULT_PAIRING, catalog_rows
from models.queries.workload_view import complete_weeks, demand_frame, hourly_shape, weekly
from models.queries.workload_view import token_mix as mix_of

st.title("Workloads")
view = current()
since, until = view.since, view.until
names = workload_choices(data.workloads(), view, extra=("unallocated",))
if not names:
    st.info("No workloads yet. Load the demo with `hybridcost demo load`, or add an attribution rule on the "
            "Data page so usage is assigned to a workload.")
    st.stop()
workload = st.selectbox("Workload", names, key="workloads_workload", format_func=name,
                        help="The workloads of the sidebar's filter (all when it is empty).")

demand = demand_frame(data.workload_hourly(workload, since, until), since=since, until=until)
total_tokens = int(demand["input_tokens"].sum() + demand["output_tokens"].sum())
if total_tokens == 0:
    st.info(f"No tokens for {workload} between {since:%Y-%m-%d} and {until:%Y-%m-%d}. Widen the date range, or "
            "load data with `hybridcost demo load` / `hybridcost ingest ...`.")
    st.stop()

figures = economics.plan(workload, since, until, clock.current_hour())
all_weeks = weekly(demand)
weeks = complete_weeks(all_weeks)
mix = mix_of(demand)
output = int(demand["output_tokens"].sum())
reasoning = int(demand["reasoning_tokens"].sum())
growth = weeks["growth_pct"].drop_nulls().tail(4).mean() if weeks.height > 1 else None
cols = st.columns(4)
cols[0].metric("Tokens in period", tokens(total_tokens), help="Input (cached included) + output (reasoning "
               "included), API and own GPU endpoints.")
cols[1].metric("Monthly volume", tokens(figures.monthly_tokens),
               help="Tokens in the period × 730 / hours in the period up to the current hour (tokens/month): "
                    "the volume the plan below is sized for.")
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
candidate = figures.candidate
if figures.status != "assessed":
    st.info(f"Not assessed: {figures.message}")
else:
    (st.success if figures.result is not None else st.info)(figures.sentence())
    cols = st.columns(4)
    cols[0].metric("On tokens alone", usd(figures.monthly(figures.api_only_usd)) + "/mo",
                   help="API bill + local tokens priced as the API model they replaced: Σ_t A_t × 730 / H. A_t is "
                        "each hour's API tokens priced per model at the prices then in effect, plus the tokens the "
                        "workload's own servers served, priced as the replaced model by token kind (input, output) "
                        "at its prices that hour. The same figure as `hybridcost simulate --workload`, the weekly "
                        "report and the exporter for the same period.")
    cols[1].metric("API bill", usd(figures.monthly(figures.api_billed_usd)) + "/mo",
                   help="What the API-served part cost (per model, per hour, at the prices then in effect) × 730 / H.")
    cols[2].metric("Local tokens priced as the API", usd(figures.monthly(figures.local_priced_usd)) + "/mo",
                   help="Tokens served on the workload's own GPUs × the replaced model's price by kind × 730 / H "
                        "(vLLM does not report cached prompt tokens, so prompt tokens are priced as input).")
    cols[3].metric("Tokens in the plan", tokens(figures.monthly_tokens) + "/mo",
                   help="(API + local) input and output tokens × 730 / H, H the hours of the range up to now.")
    res = figures.result
    if res is not None:
        cols = st.columns(4)
        cols[0].metric("Best plan", usd(figures.monthly(res.hybrid_cost)) + "/mo",
                       help="Total(R*) × 730 / H with R* the cheapest replica count: R × h_rep × H + Σ (1 − f_t) A_t.")
        cols[1].metric("Optimal replicas", f"{res.optimal_replicas:,} of peak {res.peak_replicas:,}",
                       help="R in 0..R_peak with the lowest Total(R); ties go to fewer replicas. "
                            f"Each replica is {res.replica_gpus} GPU(s).")
        cols[2].metric("Breakeven volume", "never" if res.breakeven_monthly_tokens is None
                       else tokens(res.breakeven_monthly_tokens) + "/mo",
                       help="k × Σ (I + O) × 730 / H, k the smallest demand multiplier at which one replica saves money.")
        cols[3].metric("First replica pays", figures.move.first_replica_headline if figures.move else "—",
                       help="'now' when the plan owns a replica at today's volume; else the first week the bounded "
                            "forecast (Theil-Sen on complete weeks, stopped at 50x today) reaches the breakeven. "
                            "Here: " + (figures.move.first_replica_words if figures.move else "no forecast") + ".")
st.caption(f"Candidate: {candidate.describe()}. "
           + (f"Throughput source: {candidate.throughput_note}. " if candidate.throughput_note else "")
           + ("A default pairing for the API model's class, not a choice anyone made: set the plan below. "
              if not candidate.chosen else ""))
if figures.measured is not None:
    (st.warning if figures.measured.flagged else st.caption)(figures.measured.sentence())
if figures.flip_sentence:
    st.caption(figures.flip_sentence)
    plan = figures.result
    st.plotly_chart(flips_tornado(plan.flips, plan.plan_class, plan.flip_to,
                                  title=f"What flips {workload}'s answer ({plan.plan_class})"), key="workloads_flips")
    if figures.measured_result is not None:
        at = figures.measured_result
        st.caption(f"At the measured throughput the same plan owns {at.optimal_replicas:,} replica(s) "
                   f"({at.optimal_replicas * at.replica_gpus:,} GPUs) for {usd(figures.monthly(at.hybrid_cost))}/mo.")

show_flashes()
if workload != "unallocated":  # no workload of its own, so it has no plan
    with st.expander("The plan: what this workload would move to", expanded=not candidate.chosen):
        plan_editor(workload, figures)
with st.expander("Default pairing catalog (used when a workload has no plan)"):
    st.caption("Each API model class is paired with an open model of comparable capability; marked "
               f"\"{DEFAULT_PAIRING}\" wherever it is shown. Throughput is per replica at saturation.")
    columns.show(pl.DataFrame(catalog_rows()), key="workloads_pairing_table", labels={
        "api_class": "API model class", "api_models": "API models", "open_model": "Default pairing",
        "gpus": "GPUs per replica", "output_tokens_per_s": "Output tok/s per replica",
        "input_tokens_per_s": "Input tok/s per replica"}, kinds={"gpus": "text"})
