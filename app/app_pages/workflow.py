"""Workflow: discipline per team or workload, savings ranked by lever, 429s and latency."""

import polars as pl
import streamlit as st

from app.charts.workflow import savings_ranked, saturation
from app.ui import workflow_data
from app.ui.filters import current
from app.ui.format import pct, usd

HELP = {
    "requests": "Served requests (HTTP status < 400, or no status) in the period.",
    "repeat_share": "Repeats ÷ requests with a fingerprint. A repeat is a request whose fingerprint (keyed hash "
                    "of the normalised request) was served in the same workload in the 24 h before it. "
                    "Blank: no fingerprints in these rows (not measurable).",
    "repeat_savings_usd": "Σ cost of the repeats: what a response cache would have saved (first lever).",
    "reasoning_share": "Requests to reasoning models (o1*, o3*, o4*, gpt-5*, *-thinking*, claude-*opus*, ... "
                       "or reasoning tokens > 0) ÷ requests.",
    "reasoning_savings_usd": "Σ over reasoning requests with visible output (output − reasoning tokens) < 200 "
                             "that the cache did not save: max(cost − same tokens at gpt-4.1-mini prices, 0), "
                             "× 0.5 when batching already halved it (third lever).",
    "loop_requests": "Requests in bursts of ≥ 3 from one user and model, each ≤ 2 min after the previous, "
                     "with the same fingerprint or an input size within 5 %.",
    "batch_candidate_share": "Token-API requests not already batch, sent 00–06 UTC or while their user/key "
                             "sent ≥ 20 requests that minute, ÷ requests.",
    "batch_savings_usd": "50 % × cost of the batch candidates the cache did not save (second lever).",
    "rate_limited_share": "HTTP 429 answers ÷ all attempts (SDK retries included).",
    "latency_p95_ms": "95th percentile of latency over served requests (ms).",
}

st.title("Workflow")
st.caption("Where teams spend tokens they need not: repeats a cache would serve, reasoning a cheap model could "
           "do, loops, work that could be batched. Savings follow the levers' order cache → batch → route, "
           "so no dollar is counted twice.")
view = current()
since, until = view.since, view.until
by = st.sidebar.radio("Group by", ["team", "workload"], key="workflow_by", horizontal=True)
card = workflow_data.discipline_scorecard(since, until, by)

if card.is_empty():
    st.info("No per-request data in this period. Record it with the instrumented client "
            "(`client = instrument(OpenAI(), workload=\"...\", team=\"...\")`, see docs/workflow.md), "
            "or load request logs (OTel GenAI, LiteLLM, Langfuse) with `hybridcost ingest`.")
    st.stop()

cols = st.columns(4)
cols[0].metric("Cache could save", usd(card["repeat_savings_usd"].drop_nulls().sum()), help=HELP["repeat_savings_usd"])
cols[1].metric("Batch could save", usd(card["batch_savings_usd"].sum()), help=HELP["batch_savings_usd"])
cols[2].metric("Routing could save", usd(card["reasoning_savings_usd"].sum()), help=HELP["reasoning_savings_usd"])
attempts = int(card["attempts"].sum())
cols[3].metric("429 rate", pct(int(card["rate_limited"].sum()) / attempts if attempts else None),
               help=HELP["rate_limited_share"])

st.plotly_chart(savings_ranked(card), key="workflow_savings")

st.subheader(f"Scorecard by {by}")
shown = card.select("group", *HELP.keys()).with_columns(
    pl.col("repeat_savings_usd", "reasoning_savings_usd", "batch_savings_usd").cast(pl.Float64),
    *[(pl.col(c) * 100) for c in ("repeat_share", "reasoning_share", "batch_candidate_share", "rate_limited_share")],
)
money = st.column_config.NumberColumn
st.dataframe(
    shown, hide_index=True, key="workflow_scorecard",
    column_config={
        "group": st.column_config.TextColumn(by.capitalize()),
        "requests": money("Requests", help=HELP["requests"], format="%d"),
        "repeat_share": money("Repeats %", help=HELP["repeat_share"], format="%.1f"),
        "repeat_savings_usd": money("Cache $", help=HELP["repeat_savings_usd"], format="dollar"),
        "reasoning_share": money("Reasoning %", help=HELP["reasoning_share"], format="%.1f"),
        "reasoning_savings_usd": money("Route $", help=HELP["reasoning_savings_usd"], format="dollar"),
        "loop_requests": money("Loop requests", help=HELP["loop_requests"], format="%d"),
        "batch_candidate_share": money("Batchable %", help=HELP["batch_candidate_share"], format="%.1f"),
        "batch_savings_usd": money("Batch $", help=HELP["batch_savings_usd"], format="dollar"),
        "rate_limited_share": money("429 %", help=HELP["rate_limited_share"], format="%.2f"),
        "latency_p95_ms": money("p95 ms", help=HELP["latency_p95_ms"], format="%.0f"),
    },
)
unpriced = int(card["unpriced_requests"].sum())
if unpriced:
    st.warning(f"{unpriced:,} requests have no price in effect: they count in the shares but not in any "
               "dollar figure (never as $0). Add their prices on the Data page.")

st.subheader("Saturation")
st.plotly_chart(saturation(card), key="workflow_saturation")
