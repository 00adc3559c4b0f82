"""Workflow: discipline per team or workload with log coverage, reasoning dollars, a drill-down, 429s."""

import polars as pl
import streamlit as st

from app.charts.workflow import saturation, savings_ranked
from app.ui import columns, data, workflow_data
from app.ui.filters import apply_scope, current
from app.ui.format import name, pct, usd
from app.ui.tables import show_table
from models.queries.drilldown import coverage, level_table, reasoning_usd, scale_savings, top_fingerprints
from models.queries.spend import summarise

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
REASONING_HELP = ("Reasoning tokens are billed as output: each day's spend (system of record) × the reasoning "
                  "tokens' cost at the output price in effect / the day's usage × price. A part of the spend, "
                  "never more than it.")
DRILL_HELP = {"repeats": "Σ over requests sent n > 1 times in the period of (n − 1): what a response cache would "
                         "have answered.",
              "repeat_usd": "The cost of those repeats (their share of the logged cost).",
              "logged_usd": "Priced cost of the logged requests (tokens × the price in effect, else the logged "
                            "cost)."}

st.title("Workflow")
st.caption("Where teams spend tokens they need not: repeats a cache would serve, reasoning a cheap model could "
           "do, loops, work that could be batched. Savings follow the levers' order cache → batch → route, "
           "so no dollar is counted twice.")
view = current()
since, until = view.since, view.until
by = st.sidebar.radio("Group by", ["team", "workload"], key="workflow_by", horizontal=True)
card = apply_scope(workflow_data.discipline_scorecard(since, until, by).with_columns(pl.col("group").alias(by)),
                   view.workloads if by == "workload" else (), view.teams if by == "team" else ()).drop(by)

if card.is_empty():
    st.info("No per-request data in this period. Record it with the instrumented client "
            "(`client = instrument(OpenAI(), workload=\"...\", team=\"...\")`, see docs/workflow.md), "
            "or load request logs (OTel GenAI, LiteLLM, Langfuse) with `hybridcost ingest`.")
    st.stop()

spend = data.spend_daily(since, until)
covered = coverage(card, summarise(spend, by))
scale = st.toggle("Scale savings to each group's whole spend (÷ request-log coverage)", key="workflow_scale",
                  help="Request logs are often a sample of the traffic. Off: the savings measured in the logged "
                       "requests. On: each divided by its group's coverage (logged cost / the system of record's "
                       "spend, capped at 100 %), which assumes the unlogged traffic looks like the logged.")
SAVINGS = ["repeat_savings_usd", "reasoning_savings_usd", "batch_savings_usd", "total_savings_usd"]
shown_card = scale_savings(card, covered, SAVINGS) if scale else card
total_logged = float(covered["logged_usd"].sum())
total_spend = float(covered["cost_usd"].fill_null(0).sum())
st.info(f"Request logs cover {pct(total_logged / total_spend if total_spend else None)} of these groups' spend "
        f"({usd(total_logged)} of {usd(total_spend)}); savings are "
        + ("scaled to the whole spend of each group." if scale else "what the logged requests show, not scaled."))

cols = st.columns(4)
suffix = " (scaled)" if scale else " (in logs)"
cols[0].metric("Cache could save" + suffix, usd(shown_card["repeat_savings_usd"].drop_nulls().sum()),
               help=HELP["repeat_savings_usd"])
cols[1].metric("Batch could save" + suffix, usd(shown_card["batch_savings_usd"].sum()), help=HELP["batch_savings_usd"])
cols[2].metric("Routing could save" + suffix, usd(shown_card["reasoning_savings_usd"].sum()),
               help=HELP["reasoning_savings_usd"])
attempts = int(card["attempts"].sum())
cols[3].metric("429 rate", pct(int(card["rate_limited"].sum()) / attempts if attempts else None),
               help=HELP["rate_limited_share"])

st.plotly_chart(savings_ranked(shown_card), key="workflow_savings")

st.subheader(f"Scorecard by {by}")
shown = shown_card.select("group", *HELP.keys()).join(covered.select("group", "coverage"), on="group", how="left")
shown = shown.with_columns(
    pl.col("repeat_savings_usd", "reasoning_savings_usd", "batch_savings_usd").cast(pl.Float64),
    *[(pl.col(c) * 100) for c in ("repeat_share", "reasoning_share", "batch_candidate_share", "rate_limited_share")],
)
money = st.column_config.NumberColumn
scaled = " scaled" if scale else ""
show_table(
    shown, hide_index=True, key="workflow_scorecard",
    column_config={
        "group": st.column_config.TextColumn(by.capitalize()),
        "requests": money("Requests", help=HELP["requests"], format="localized"),
        "repeat_share": money("Repeats (%)", help=HELP["repeat_share"], format="%.1f"),
        "repeat_savings_usd": money(f"Cache{scaled} (USD)", help=HELP["repeat_savings_usd"], format="dollar"),
        "reasoning_share": money("Reasoning (%)", help=HELP["reasoning_share"], format="%.1f"),
        "reasoning_savings_usd": money(f"Route{scaled} (USD)", help=HELP["reasoning_savings_usd"], format="dollar"),
        "loop_requests": money("Loop requests", help=HELP["loop_requests"], format="localized"),
        "batch_candidate_share": money("Batchable (%)", help=HELP["batch_candidate_share"], format="%.1f"),
        "batch_savings_usd": money(f"Batch{scaled} (USD)", help=HELP["batch_savings_usd"], format="dollar"),
        "rate_limited_share": money("429 (%)", help=HELP["rate_limited_share"], format="%.2f"),
        "latency_p95_ms": money("Latency p95 (ms)", help=HELP["latency_p95_ms"], format="%.0f"),
        "coverage": money("Log coverage of spend", format="percent",
                          help="Priced cost of the logged requests / the group's spend in the system of record."),
    },
)
unpriced = int(card["unpriced_requests"].sum())
if unpriced:
    st.warning(f"{unpriced:,} requests have no price in effect: they count in the shares but not in any "
               "dollar figure (never as $0). Add their prices on the Data page.")
with st.expander(f"Request-log coverage by {by}"):
    columns.show(covered, key="workflow_coverage_table", labels={"group": by.capitalize(),
                                                                 "cost_usd": "Spend, system of record (USD)"})

st.subheader("Reasoning tokens: dollars per team and workload")
reasoning = workflow_data.reasoning_costs(since, until)
scoped_spend = apply_scope(spend, view.workloads, view.teams)
left, right = st.columns(2)
with left:
    columns.show(reasoning_usd(scoped_spend, reasoning, "team"), key="workflow_reasoning_team",
                 helps={"reasoning_usd": REASONING_HELP})
with right:
    columns.show(reasoning_usd(scoped_spend, reasoning, "workload"), key="workflow_reasoning_workload",
                 helps={"reasoning_usd": REASONING_HELP})
st.caption(REASONING_HELP)

st.subheader("Drill-down: team → workloads → users → repeated requests")


@st.fragment
def drilldown() -> None:
    """Team, workload and user pickers that rerun only this section."""
    groups = workflow_data.request_groups(since, until)
    if groups.is_empty():
        st.caption("No served requests in the request logs for this period.")
        return
    teams = level_table(groups, "team")
    team_names = [t for t in teams["team"].to_list() if not view.teams or t in view.teams] or teams["team"].to_list()
    c1, c2, c3 = st.columns(3)
    team = c1.selectbox("Team", team_names, key="workflow_drill_team", format_func=name)
    workloads = level_table(groups, "workload", team=team)
    workload = c2.selectbox("Workload", workloads["workload"].to_list(), key="workflow_drill_workload",
                            format_func=name)
    users = level_table(groups, "user", team=team, workload=workload)
    user = c3.selectbox("User or API key", ["(all users)", *users["user"].to_list()], key="workflow_drill_user",
                        format_func=name)
    left, right = st.columns(2)
    with left:
        columns.show(workloads, key="workflow_drill_workloads", labels={"logged_usd": "In request logs (USD)"},
                     helps=DRILL_HELP)
    with right:
        columns.show(users, key="workflow_drill_users", labels={"logged_usd": "In request logs (USD)"},
                     helps=DRILL_HELP, height=min(38 * (users.height + 1), 300))
    top = top_fingerprints(groups, team=team, workload=workload, user=None if user == "(all users)" else user)
    captured = top["prompt"].is_not_null().any() if top.height else False
    st.markdown(f"**Most repeated requests** in {name(workload)}" + ("" if user == "(all users)" else f" by {name(user)}"))
    columns.show(top if captured else top.drop("prompt"), key="workflow_drill_fingerprints",
                 labels={"logged_usd": "In request logs (USD)", "models": "Model"}, helps=DRILL_HELP)
    st.caption("Requests are told apart by a keyed fingerprint of the normalised request, which cannot be turned "
               "back into the prompt. " + ("Prompt text is shown where the client captured it "
                                           "(`store_prompts=True`)." if captured else
                                           "No prompt text is shown: prompt capture is off for these requests "
                                           "(`instrument(..., store_prompts=True)` turns it on)."))


drilldown()

st.subheader("Saturation")
st.plotly_chart(saturation(card), key="workflow_saturation")
